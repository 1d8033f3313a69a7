// Specification of the Prometheus registry and its text exposition.
#include "ops/metrics_registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace bbgw::ops {
namespace {

TEST(MetricsRegistry, SameNameAndLabelsGiveTheSameSeries) {
  metrics_registry m;
  auto& a = m.make_counter("bbgw_x_total", "X.", {{"k", "v"}});
  auto& b = m.make_counter("bbgw_x_total", "X.", {{"k", "v"}});
  auto& c = m.make_counter("bbgw_x_total", "X.", {{"k", "w"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(MetricsRegistry, RendersCountersGaugesAndHistogramsInTextFormat) {
  metrics_registry m;
  m.make_counter("bbgw_requests_total", "Requests.", {{"route", "/a"}, {"status", "200"}}).inc(3);
  m.make_gauge("bbgw_depth", "Depth.").set(7);
  auto& h = m.make_histogram("bbgw_latency_seconds", "Latency.", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string t = m.render();
  EXPECT_NE(t.find("# HELP bbgw_requests_total Requests.\n# TYPE bbgw_requests_total counter\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("bbgw_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("# TYPE bbgw_depth gauge\nbbgw_depth 7\n"), std::string::npos);
  EXPECT_NE(t.find("bbgw_latency_seconds_bucket{le=\"0.10000000000000001\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("bbgw_latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("bbgw_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(t.find("bbgw_latency_seconds_sum 5.5499999999999998\n"), std::string::npos) << t;
  EXPECT_NE(t.find("bbgw_latency_seconds_count 3\n"), std::string::npos);
}

TEST(MetricsRegistry, EscapesLabelValues) {
  metrics_registry m;
  m.make_counter("bbgw_c_total", "C.", {{"path", "a\"b\\c\nd"}}).inc();
  EXPECT_NE(m.render().find(R"(bbgw_c_total{path="a\"b\\c\nd"} 1)"), std::string::npos)
      << m.render();
}

TEST(MetricsRegistry, RejectsInvalidNamesAndTypeClashes) {
  metrics_registry m;
  EXPECT_THROW(m.make_counter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(m.make_counter("ok", "x", {{"__reserved", "v"}}), std::invalid_argument);
  m.make_counter("bbgw_same", "x");
  EXPECT_THROW(m.make_gauge("bbgw_same", "x"), std::invalid_argument);
}

TEST(MetricsRegistry, ConcurrentIncrementsAreNotLost) {
  metrics_registry m;
  auto& c = m.make_counter("bbgw_n_total", "N.");
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc();
    });
  for (auto& t : ts) t.join();
  EXPECT_NE(m.render().find("bbgw_n_total 40000\n"), std::string::npos);
}

TEST(MetricsRegistry, CounterIgnoresNegativeIncrements) {
  metrics_registry m;
  auto& c = m.make_counter("bbgw_m_total", "M.");
  c.inc(2);
  c.inc(-5);
  EXPECT_NE(m.render().find("bbgw_m_total 2\n"), std::string::npos);
}

}  // namespace
}  // namespace bbgw::ops

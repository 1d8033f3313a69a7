// Specification of readiness: probes run off the I/O path; the snapshot names each component.
#include "ops/readiness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>

#include "support/fakes.hpp"

namespace bbgw::ops {
namespace {

TEST(Readiness, ReadyOnlyWhenEveryComponentIs) {
  bbgw::testing::fake_logger log;
  std::atomic<bool> kafka_up{true};
  readiness_monitor m({{"store", [] { return component_state{true, {{"status", "writable"}}}; }},
                       {"kafka",
                        [&] {
                          return component_state{kafka_up.load(),
                                                 {{"status", kafka_up ? "up" : "down"}}};
                        }}},
                      std::chrono::milliseconds(50), log);
  m.refresh();
  auto s = m.current();
  EXPECT_TRUE(s.ready);
  auto body = boost::json::parse(s.body).as_object();
  EXPECT_EQ(body["status"], "ready");
  EXPECT_EQ(body["components"].as_object()["kafka"].as_object()["status"], "up");

  kafka_up = false;
  m.refresh();
  s = m.current();
  EXPECT_FALSE(s.ready);
  body = boost::json::parse(s.body).as_object();
  EXPECT_EQ(body["status"], "not_ready");
  EXPECT_EQ(body["components"].as_object()["kafka"].as_object()["ready"], false);
  EXPECT_EQ(body["components"].as_object()["store"].as_object()["ready"], true);
  EXPECT_TRUE(log.contains("component not ready"));
}

TEST(Readiness, AThrowingProbeIsNotReadyAndDoesNotStopTheMonitor) {
  bbgw::testing::fake_logger log;
  readiness_monitor m({{"broken", []() -> component_state { throw std::runtime_error("boom"); }}},
                      std::chrono::milliseconds(50), log);
  m.refresh();
  auto s = m.current();
  EXPECT_FALSE(s.ready);
  EXPECT_NE(s.body.find("boom"), std::string::npos);
}

TEST(Readiness, MonitorThreadRefreshesPeriodically) {
  bbgw::testing::fake_logger log;
  std::atomic<int> calls{0};
  readiness_monitor m({{"c", [&] {
                          ++calls;
                          return component_state{true, {}};
                        }}},
                      std::chrono::milliseconds(20), log);
  m.start();
  for (int i = 0; i < 200 && calls < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  m.stop();
  EXPECT_GE(calls.load(), 4);
}

}  // namespace
}  // namespace bbgw::ops

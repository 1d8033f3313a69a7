// End to end: an HTTP request makes a durable event; independent consumers (a librdkafka
// consumer and kcat) read it from the embedded broker as a CloudEvent valid against its schema.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;

std::vector<std::string> ids_of(http_result const& r) {
  std::vector<std::string> ids;
  auto const parsed = json::parse(r.body);
  for (auto const& v : parsed.at("ids").as_array())
    ids.emplace_back(v.as_string());
  return ids;
}

TEST(Pipeline, EventsReachIndependentConsumersAsCloudEventsInKeyOrder) {
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml());
  ASSERT_FALSE(gw.bootstrap().empty());

  auto r = curl(gw.url() + "/test/events",
                {"-X", "POST", "-H", "Content-Type: application/json", "-H",
                 "X-Request-Id: it-req-1", "--data", R"({"count":3,"key":"alice","note":"hi"})"});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.headers["x-request-id"], "it-req-1");
  auto ids = ids_of(r);
  ASSERT_EQ(ids.size(), 3u);

  auto recs = consume(gw.bootstrap(), "bbgw.test", 3);
  ASSERT_EQ(recs.size(), 3u);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto const& rec = recs[i];
    EXPECT_EQ(rec.key, "alice");
    EXPECT_EQ(rec.headers.at("content-type"), "application/cloudevents+json; charset=UTF-8");
    auto ev = json::parse(rec.value).as_object();
    EXPECT_EQ(ev.at("specversion"), "1.0");
    EXPECT_EQ(ev.at("type"), "eu.bbgateway.test.emitted.v1");
    EXPECT_EQ(ev.at("id"), json::string(ids[i])) << "per-key order must be kept";
    EXPECT_EQ(rec.headers.at("ce_id"), ids[i]);
    EXPECT_EQ(rec.headers.at("ce_type"), "eu.bbgateway.test.emitted.v1");
    EXPECT_EQ(ev.at("partitionkey"), "alice");
    EXPECT_EQ(ev.at("requestid"), "it-req-1");
    EXPECT_EQ(ev.at("data").at("seq"), static_cast<std::int64_t>(i));
  }

  // The same events through kcat, a consumer this project did not write.
  auto kc = consume_kcat(gw.bootstrap(), "bbgw.test", 3);
  ASSERT_EQ(kc.size(), 3u);
  std::set<std::string> kcat_ids;
  for (auto const& rec : kc) {
    EXPECT_EQ(rec.key, "alice");
    kcat_ids.insert(std::string(json::parse(rec.value).at("id").as_string()));
  }
  EXPECT_EQ(kcat_ids, std::set<std::string>(ids.begin(), ids.end()));

  // Every event is valid against its JSON Schema (python3-jsonschema, Draft 2020-12).
  std::string files;
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto f = dir / ("event" + std::to_string(i) + ".json");
    write_file(f, recs[i].value);
    files += " " + f.string();
  }
  auto [rc, out] = run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                               "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                               "/schemas/events/gateway.test.emitted.json" + files);
  EXPECT_EQ(rc, 0) << out;
}

TEST(Pipeline, OperationalEndpointsDescribeTheGateway) {
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml());

  auto h = curl(gw.url() + "/healthz");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(json::parse(h.body).at("status"), "ok");
  EXPECT_FALSE(h.headers["x-request-id"].empty());

  // Ready once the probes ran: store writable, embedded broker reachable, outbox small.
  http_result ready;
  for (int i = 0; i < 100; ++i) {
    ready = curl(gw.url() + "/readyz");
    if (ready.status == 200) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(ready.status, 200) << ready.body;
  auto rj = json::parse(ready.body).as_object();
  EXPECT_EQ(rj.at("status"), "ready");
  auto const& kafka = rj.at("components").at("kafka").as_object();
  EXPECT_EQ(kafka.at("mode"), "embedded");
  EXPECT_EQ(kafka.at("bootstrap_servers"), json::string(gw.bootstrap()));
  EXPECT_EQ(rj.at("components").at("store").at("ready"), true);
  EXPECT_TRUE(rj.at("components").at("outbox").as_object().contains("depth"));

  auto m = curl(gw.url() + "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_http_requests_total{"), std::string::npos);
  EXPECT_NE(m.body.find("route=\"/healthz\""), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_http_open_connections"), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_outbox_depth"), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_outbox_oldest_age_seconds"), std::string::npos);
  EXPECT_NE(m.body.find("bbgw_kafka_deliveries_total"), std::string::npos);

  auto doc = curl(gw.url() + "/openapi.yaml");
  EXPECT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body.rfind("openapi: 3.1", 0), 0u) << doc.body.substr(0, 80);
  EXPECT_EQ(doc.body, read_file(std::string(BBGW_SOURCE_DIR) + "/schemas/openapi.yaml"));
}

TEST(Pipeline, BadRequestsGetProblemJson) {
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml());

  auto nf = curl(gw.url() + "/no/such/route");
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.headers["content-type"], "application/problem+json");
  EXPECT_EQ(json::parse(nf.body).at("status"), 404);

  auto na = curl(gw.url() + "/healthz", {"-X", "DELETE"});
  EXPECT_EQ(na.status, 405);
  EXPECT_NE(na.headers["allow"].find("GET"), std::string::npos);
  EXPECT_EQ(na.headers["content-type"], "application/problem+json");

  auto bad = post_json(gw.url() + "/test/events", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.headers["content-type"], "application/problem+json");

  // Rejections are counted, and the rejected request emitted nothing.
  auto m = curl(gw.url() + "/metrics");
  EXPECT_NE(m.body.find("status=\"404\""), std::string::npos);
  EXPECT_NE(m.body.find("status=\"405\""), std::string::npos);
  EXPECT_TRUE(consume(gw.bootstrap(), "bbgw.test", 1, 2s).empty());
}

}  // namespace
}  // namespace bbgw::it

// Subscription management through the real gateway against a stub broker over real HTTP
// (tests/connectors/context/stub_broker.py, both flavours): the exact requests the gateway
// sends, recreation after the broker loses its subscriptions, and the drift metrics.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "context_it.hpp"
#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;
using namespace bbgw::it::context;

struct stub_broker {
  stub_broker()
      : proc({"/usr/bin/python3",
              std::string(BBGW_SOURCE_DIR) + "/tests/connectors/context/stub_broker.py", "--auth",
              "X-Auth-Token:it-broker-token"}) {
    auto line =
        proc.wait_line([](std::string const& l) { return l.starts_with("LISTENING "); }, 10s);
    if (!line) throw std::runtime_error("stub broker did not start");
    url = "http://127.0.0.1:" + line->substr(10);
  }
  json::array requests() { return json::parse(curl(url + "/_stub/requests").body).as_array(); }
  json::array subscriptions(std::string const& path, std::vector<std::string> headers) {
    std::vector<std::string> args{"-H", "X-Auth-Token: it-broker-token"};
    for (auto const& h : headers) args.insert(args.end(), {"-H", h});
    return json::parse(curl(url + path, args).body).as_array();
  }
  process proc;
  std::string url;
};

double metric(std::string const& text, std::string const& series) {
  auto at = text.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 1));
}

TEST(ContextSync, GatewayCreatesExactSubscriptionsAndRecreatesLostOnes) {
  stub_broker stub;
  auto dir = make_temp_dir("bbgw-it-context-sync");
  gateway gw(dir, gateway_yaml("", context_section(stub.url, stub.url, true)),
             {"BBGW_SERVER__PUBLIC_BASE_URL=https://gw.example.org"});

  std::vector<std::string> const migr{"Fiware-Service: migr", "Fiware-ServicePath: /madrid"};
  std::vector<std::string> const city{};
  std::vector<std::string> const cyprus{"NGSILD-Tenant: cyprus"};
  ASSERT_TRUE(eventually([&] {
    return stub.subscriptions("/v2/subscriptions", migr).size() == 1 &&
           stub.subscriptions("/v2/subscriptions", city).size() == 1 &&
           stub.subscriptions("/ngsi-ld/v1/subscriptions", cyprus).size() == 1;
  }));

  // The exact requests: headers and bodies of each create.
  std::map<std::string, json::object> posts;  // by path + tenant
  int from_gateway = 0;
  for (auto const& rv : stub.requests()) {
    auto const& r = rv.as_object();
    auto const& h = r.at("headers").as_object();
    if (h.contains("user-agent") && h.at("user-agent").as_string().starts_with("curl/"))
      continue;  // ours
    ++from_gateway;
    EXPECT_EQ(h.at("x-auth-token"), "it-broker-token");
    EXPECT_EQ(h.at("accept"), "application/json");
    if (r.at("method") != "POST") continue;
    EXPECT_EQ(h.at("content-type"), "application/json");
    std::string tenant =
        h.contains("fiware-service")  ? std::string(h.at("fiware-service").as_string())
        : h.contains("ngsild-tenant") ? std::string(h.at("ngsild-tenant").as_string())
                                      : "";
    if (tenant == "migr") {
      EXPECT_EQ(h.at("fiware-servicepath"), "/madrid");
    }
    if (r.at("path") == "/ngsi-ld/v1/subscriptions") {
      EXPECT_EQ(h.at("link"),
                "<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld>; "
                "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
    }
    posts[std::string(r.at("path").as_string()) + "|" + tenant] =
        json::parse(r.at("body").as_string()).as_object();
  }
  ASSERT_EQ(posts.size(), 3u);
  EXPECT_GE(from_gateway, 6);  // at least a list and a create per broker

  auto cases = posts.at("/v2/subscriptions|migr");
  EXPECT_EQ(
      std::string(cases.at("description").as_string()).rfind("Open cases bbgw:orion/cases#", 0),
      0u);
  cases.erase("description");
  EXPECT_EQ(
      cases,
      (json::object{
          {"subject",
           {{"entities", json::array{{{"idPattern", ".*"}, {"type", "Case"}}}},
            {"condition", {{"attrs", json::array{"status"}}}}}},
          {"notification",
           {{"http",
             {{"url", std::string("https://gw.example.org/context/notify/orion/cases?token=") +
                          cases_token}}},
            {"attrs", json::array{"status", "language", "waitingDays", "location"}},
            {"attrsFormat", "normalized"}}},
          {"throttling", 2}}))
      << json::serialize(cases);

  auto centres = posts.at("/v2/subscriptions|");
  centres.erase("description");
  EXPECT_EQ(
      centres,
      (json::object{
          {"subject",
           {{"entities",
             json::array{{{"idPattern", "^urn:SupportCentre:"}, {"type", "SupportCentre"}}}}}},
          {"notification",
           {{"http",
             {{"url", std::string("https://gw.example.org/context/notify/city/centres?token=") +
                          centres_token}}},
            {"attrsFormat", "keyValues"}}}}))
      << json::serialize(centres);

  auto events = posts.at("/ngsi-ld/v1/subscriptions|cyprus");
  EXPECT_EQ(std::string(events.at("description").as_string()).rfind("bbgw:ld/events#", 0), 0u);
  events.erase("description");
  EXPECT_EQ(events,
            (json::object{
                {"type", "Subscription"},
                {"entities", json::array{{{"type", "Event"}}}},
                {"watchedAttributes", json::array{"name", "seats"}},
                {"notification",
                 {{"format", "normalized"},
                  {"endpoint",
                   {{"uri", std::string("https://gw.example.org/context/notify/ld/events?token=") +
                                events_token},
                    {"accept", "application/json"}}}}}}))
      << json::serialize(events);

  // GET by id on the stub gives what the listing shows (the stub's item endpoint).
  auto listed = stub.subscriptions("/v2/subscriptions", migr).at(0).as_object();
  auto got = curl(stub.url + "/v2/subscriptions/" + std::string(listed.at("id").as_string()),
                  {"-H", "X-Auth-Token: it-broker-token", "-H", "Fiware-Service: migr", "-H",
                   "Fiware-ServicePath: /madrid"});
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body), json::value(listed));

  // In sync: the following passes only list.
  auto m = curl(gw.url() + "/metrics").body;
  EXPECT_EQ(metric(m, "bbgw_context_subscriptions_in_sync{broker=\"orion\"}"), 1) << m;
  EXPECT_EQ(metric(m, "bbgw_context_subscriptions_in_sync{broker=\"ld\"}"), 1);
  EXPECT_EQ(metric(m, "bbgw_context_subscriptions_created_total{broker=\"ld\"}"), 1);

  // The broker restarts and forgets everything: the gateway recreates all three.
  std::string first_id(
      stub.subscriptions("/ngsi-ld/v1/subscriptions", cyprus).at(0).at("id").as_string());
  curl(stub.url + "/_stub/restart", {"-X", "POST"});
  ASSERT_TRUE(eventually([&] {
    auto ld = stub.subscriptions("/ngsi-ld/v1/subscriptions", cyprus);
    return stub.subscriptions("/v2/subscriptions", migr).size() == 1 &&
           stub.subscriptions("/v2/subscriptions", city).size() == 1 && ld.size() == 1 &&
           ld.at(0).at("id") != json::string(first_id);
  }));
  ASSERT_TRUE(eventually([&] {
    auto text = curl(gw.url() + "/metrics").body;
    return metric(text, "bbgw_context_subscriptions_created_total{broker=\"ld\"}") == 2 &&
           metric(text, "bbgw_context_subscriptions_created_total{broker=\"orion\"}") == 2;
  }));
  m = curl(gw.url() + "/metrics").body;
  EXPECT_GE(metric(m, "bbgw_context_subscriptions_drift_total{broker=\"orion\",kind=\"missing\"}"),
            2)
      << m;

  // A duplicate of ours appears (e.g. another instance raced us): it is deleted again.
  auto ours = stub.subscriptions("/v2/subscriptions", migr).at(0).as_object();
  ours.erase("id");
  ours.erase("status");
  auto dup = curl(stub.url + "/v2/subscriptions",
                  {"-X", "POST", "-H", "X-Auth-Token: it-broker-token", "-H",
                   "Content-Type: application/json", "-H", "Fiware-Service: migr", "-H",
                   "Fiware-ServicePath: /madrid", "--data", json::serialize(ours)});
  ASSERT_EQ(dup.status, 201);
  ASSERT_TRUE(
      eventually([&] { return stub.subscriptions("/v2/subscriptions", migr).size() == 1; }));
  m = curl(gw.url() + "/metrics").body;
  EXPECT_GE(
      metric(m, "bbgw_context_subscriptions_drift_total{broker=\"orion\",kind=\"duplicate\"}"), 1)
      << m;
}

TEST(ContextSync, UnreachableBrokerIsCountedAndTheGatewayStillServesAndStops) {
  auto dir = make_temp_dir("bbgw-it-context-down");
  // Port 9 (discard) on loopback: connection refused.
  gateway gw(dir,
             gateway_yaml("", context_section("http://127.0.0.1:9", "http://127.0.0.1:9", true)));
  ASSERT_TRUE(eventually([&] {
    return metric(curl(gw.url() + "/metrics").body,
                  "bbgw_context_subscription_sync_errors_total{broker=\"orion\"}") >= 1;
  }));
  auto r = replay(dir, gw.url() + "/context/notify/orion/cases?token=" + cases_token,
                  read_fixture("v2-normalized.http"));
  EXPECT_EQ(r.status, 204) << r.body;
  gw.proc().signal(SIGTERM);
  EXPECT_EQ(gw.proc().wait_exit(10s), 0);
}

}  // namespace
}  // namespace bbgw::it

// Subscription management against an in-process broker: exact create bodies and headers for both
// flavours, paging, recreation of lost subscriptions, drift (config change, duplicates, orphans,
// inactive), and the metrics that report it.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <span>
#include <thread>

#include "bbgw/event_sink.hpp"
#include "context/context_connector.hpp"
#include "context/subscription_sync.hpp"
#include "fake_broker.hpp"
#include "test_support.hpp"

namespace bbgw::context::testing {
namespace {

namespace json = boost::json;

struct sync_rig {
  explicit sync_rig(std::size_t broker_index, std::string yaml = test_yaml())
      : cfg(load_config(yaml)),
        broker(cfg.brokers.at(broker_index).flavour == flavour::ngsi_ld),
        sync(cfg.brokers.at(broker_index), "https://gw.example.org/", cfg.notify_path_prefix,
             std::chrono::seconds(3), broker, stats, log) {}
  context_config cfg;
  fake_broker broker;
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  subscription_sync sync;
  double counter(std::string const& name, metric_labels l) { return stats.counter_value(name, l); }
};

TEST(ContextSubscriptionSync, V2CreatesTheExactSubscriptionWithTenantAndAuthHeaders) {
  sync_rig rig(0);
  auto rep = rig.sync.run_once();
  EXPECT_TRUE(rep.ok) << rep.error;
  EXPECT_EQ(rep.created, 1);
  EXPECT_EQ(rep.in_sync, 1);
  auto reqs = rig.broker.take_requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_EQ(reqs[0].url,
            "http://orion.test:1026/v2/subscriptions?limit=100&offset=0&options=count");
  auto const& post = reqs[1];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.url, "http://orion.test:1026/v2/subscriptions");
  EXPECT_EQ(post.timeout, std::chrono::seconds(3));
  for (auto const& r : reqs) {
    EXPECT_EQ(r.headers.get("Fiware-Service").value_or(""), "migr");
    EXPECT_EQ(r.headers.get("Fiware-ServicePath").value_or(""), "/madrid");
    EXPECT_EQ(r.headers.get("X-Auth-Token").value_or(""), "broker-token-1");
    EXPECT_EQ(r.headers.get("Accept").value_or(""), "application/json");
  }
  EXPECT_EQ(post.headers.get("Content-Type").value_or(""), "application/json");
  auto body = json::parse(post.body).as_object();
  std::string url =
      "https://gw.example.org/context/notify/orion/cases?token=" + secret_of("orion", "cases");
  json::object expected{
      {"subject",
       {{"entities", json::array{{{"idPattern", ".*"}, {"type", "Case"}}}},
        {"condition", {{"attrs", json::array{"status", "waitingDays"}}}}}},
      {"notification",
       {{"http", {{"url", url}}},
        {"attrs", json::array{"status", "language", "waitingDays", "location"}},
        {"attrsFormat", "normalized"}}},
      {"throttling", 5},
  };
  std::string desc(body.at("description").as_string());
  EXPECT_EQ(desc.rfind("Open cases bbgw:orion/cases#", 0), 0u) << desc;
  EXPECT_EQ(desc.size(), std::string("Open cases bbgw:orion/cases#").size() + 16);
  body.erase("description");
  EXPECT_EQ(body, expected) << json::serialize(body);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_created_total", {{"broker", "orion"}}), 1);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_drift_total",
                        {{"broker", "orion"}, {"kind", "missing"}}),
            1);
  EXPECT_EQ(rig.stats.gauge_value("bbgw_context_subscriptions_in_sync", {{"broker", "orion"}}), 1);
  EXPECT_FALSE(rig.log.any_field_contains(secret_of("orion", "cases")));
}

TEST(ContextSubscriptionSync, V2IdPatternWithoutTenantAndKeyValues) {
  sync_rig rig(1);
  ASSERT_TRUE(rig.sync.run_once().ok);
  auto reqs = rig.broker.take_requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_FALSE(reqs[1].headers.contains("Fiware-Service"));
  EXPECT_FALSE(reqs[1].headers.contains("Fiware-ServicePath"));
  auto body = json::parse(reqs[1].body).as_object();
  EXPECT_EQ(body.at("subject").at("entities"),
            (json::array{{{"idPattern", "^urn:SupportCentre:"}, {"type", "SupportCentre"}}}));
  EXPECT_FALSE(body.at("subject").as_object().contains("condition"));
  EXPECT_EQ(body.at("notification").at("attrsFormat"), "keyValues");
  EXPECT_FALSE(body.at("notification").as_object().contains("attrs"));
  EXPECT_FALSE(body.contains("throttling"));
  EXPECT_EQ(body.at("notification").at("http").at("url"),
            json::string(std::string("https://gw.example.org/context/notify/city/centres?token=") +
                         centres_secret));
}

TEST(ContextSubscriptionSync, LdCreatesTheExactSubscriptionWithLinkContext) {
  sync_rig rig(2);
  ASSERT_TRUE(rig.sync.run_once().ok);
  auto reqs = rig.broker.take_requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].url,
            "http://ld.test:1026/ngsi-ld/v1/subscriptions?limit=100&offset=0&count=true");
  EXPECT_EQ(reqs[1].url, "http://ld.test:1026/ngsi-ld/v1/subscriptions");
  EXPECT_EQ(reqs[1].headers.get("Content-Type").value_or(""), "application/json");
  EXPECT_EQ(reqs[1].headers.get("Link").value_or(""),
            "<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld>; "
            "rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"");
  EXPECT_FALSE(reqs[1].headers.contains("NGSILD-Tenant"));
  auto body = json::parse(reqs[1].body).as_object();
  std::string desc(body.at("description").as_string());
  EXPECT_EQ(desc.rfind("bbgw:ld/events#", 0), 0u);
  body.erase("description");
  json::object expected{
      {"type", "Subscription"},
      {"entities", json::array{{{"type", "Event"}}}},
      {"watchedAttributes", json::array{"name", "seats"}},
      {"notification",
       {{"format", "normalized"},
        {"endpoint",
         {{"uri",
           "https://gw.example.org/context/notify/ld/events?token=" + secret_of("ld", "events")},
          {"accept", "application/json"}}}}},
  };
  EXPECT_EQ(body, expected) << json::serialize(body);
}

TEST(ContextSubscriptionSync, LdTenantHeaderIsSent) {
  auto yaml = test_yaml();
  yaml.replace(yaml.find("base_url: http://ld.test:1026\n"), 29,
               "base_url: http://ld.test:1026\n    tenant: cyprus\n");
  sync_rig rig(2, yaml);
  ASSERT_TRUE(rig.sync.run_once().ok);
  for (auto const& r : rig.broker.take_requests())
    EXPECT_EQ(r.headers.get("NGSILD-Tenant").value_or(""), "cyprus");
}

TEST(ContextSubscriptionSync, InSyncMeansNoWritesAndLostSubscriptionsAreRecreated) {
  sync_rig rig(0);
  ASSERT_TRUE(rig.sync.run_once().ok);
  rig.broker.take_requests();
  auto again = rig.sync.run_once();
  EXPECT_TRUE(again.ok);
  EXPECT_EQ(again.created, 0);
  EXPECT_EQ(again.drift, 0);
  auto reqs = rig.broker.take_requests();
  ASSERT_EQ(reqs.size(), 1u);  // only the list
  EXPECT_EQ(reqs[0].method, "GET");

  rig.broker.restart();  // the broker lost its subscriptions
  auto after = rig.sync.run_once();
  EXPECT_EQ(after.created, 1);
  EXPECT_EQ(rig.broker.subs.size(), 1u);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_created_total", {{"broker", "orion"}}), 2);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_drift_total",
                        {{"broker", "orion"}, {"kind", "missing"}}),
            2);
}

TEST(ContextSubscriptionSync, DuplicatesOrphansAndForeignSubscriptions) {
  sync_rig rig(0);
  ASSERT_TRUE(rig.sync.run_once().ok);
  auto ours = rig.broker.subs.at(0).second;
  rig.broker.add("dup1", ours);  // a duplicate
  rig.broker.add("old1", {{"description", "x bbgw:orion/retired#0123456789abcdef"}});  // orphan
  rig.broker.add("foreign", {{"description", "Cygnus feed"}});                         // not ours
  rig.broker.add("lookalike", {{"description", "xbbgw:orion/cases#0123456789abcdef"}});
  auto rep = rig.sync.run_once();
  EXPECT_TRUE(rep.ok) << rep.error;
  EXPECT_EQ(rep.deleted, 2);
  EXPECT_EQ(rep.created, 0);
  std::vector<std::string> left;
  for (auto const& s : rig.broker.subs) left.push_back(s.first);
  EXPECT_EQ(left, (std::vector<std::string>{"sub1", "foreign", "lookalike"}));
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_drift_total",
                        {{"broker", "orion"}, {"kind", "duplicate"}}),
            1);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_drift_total",
                        {{"broker", "orion"}, {"kind", "orphan"}}),
            1);
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_deleted_total", {{"broker", "orion"}}), 2);
  auto dels = rig.broker.take_requests();
  EXPECT_EQ(dels.back().method, "DELETE");
  EXPECT_EQ(dels.back().url, "http://orion.test:1026/v2/subscriptions/old1");
}

TEST(ContextSubscriptionSync, ConfigChangeOrInactiveIsRecreatedThenOldDeleted) {
  sync_rig rig(0);
  ASSERT_TRUE(rig.sync.run_once().ok);
  // Same name, other fingerprint (e.g. an older config with another token).
  rig.broker.subs.at(0).second["description"] = "Open cases bbgw:orion/cases#00000000deadbeef";
  auto rep = rig.sync.run_once();
  EXPECT_TRUE(rep.ok);
  EXPECT_EQ(rep.created, 1);
  EXPECT_EQ(rep.deleted, 1);
  ASSERT_EQ(rig.broker.subs.size(), 1u);
  EXPECT_EQ(rig.broker.subs[0].first, "sub2");
  auto reqs = rig.broker.take_requests();
  // Create before delete: no window without a subscription.
  std::vector<std::string> methods;
  for (auto const& r : reqs) methods.push_back(r.method);
  EXPECT_EQ(methods, (std::vector<std::string>{"GET", "POST", "GET", "POST", "DELETE"}));
  EXPECT_EQ(rig.counter("bbgw_context_subscriptions_drift_total",
                        {{"broker", "orion"}, {"kind", "mismatch"}}),
            1);

  rig.broker.subs[0].second["status"] = "expired";
  rep = rig.sync.run_once();
  EXPECT_EQ(rep.created, 1);
  EXPECT_EQ(rep.deleted, 1);
}

TEST(ContextSubscriptionSync, ListIsPaged) {
  sync_rig rig(0);
  for (int i = 0; i < 250; ++i)
    rig.broker.add("f" + std::to_string(i), {{"description", "foreign"}});
  ASSERT_TRUE(rig.sync.run_once().ok);
  auto reqs = rig.broker.take_requests();
  ASSERT_EQ(reqs.size(), 4u);  // 3 pages + create
  EXPECT_NE(reqs[1].url.find("offset=100"), std::string::npos);
  EXPECT_NE(reqs[2].url.find("offset=200"), std::string::npos);
  // Ours sits on page 3 now; the next pass finds it there and creates nothing.
  auto rep = rig.sync.run_once();
  EXPECT_EQ(rep.created, 0);
  EXPECT_EQ(rep.in_sync, 1);
}

TEST(ContextSubscriptionSync, BrokerDownOrRefusingIsAnErrorNotACrash) {
  sync_rig rig(0);
  rig.broker.down = true;
  auto rep = rig.sync.run_once();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rig.counter("bbgw_context_subscription_sync_errors_total", {{"broker", "orion"}}), 1);
  EXPECT_EQ(rig.stats.gauge_value("bbgw_context_subscriptions_in_sync", {{"broker", "orion"}}), 0);
  EXPECT_TRUE(rig.log.contains("context subscription sync failed", {{"broker", "orion"}}));
  rig.broker.down = false;
  rig.broker.fail_create = true;
  rep = rig.sync.run_once();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(rep.in_sync, 0);
  rig.broker.fail_create = false;
  EXPECT_TRUE(rig.sync.run_once().ok);
  EXPECT_EQ(rig.stats.gauge_value("bbgw_context_subscriptions_in_sync", {{"broker", "orion"}}), 1);
}

struct null_sink final : bbgw::event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

// The connector as the gateway drives it: configure() from the config section, build, routes,
// start (the sync thread makes the broker match), stop (joins promptly despite a 60 s interval).
TEST(ContextConnector, ConfigureBuildStartSyncsAndStopJoins) {
  auto yaml = test_yaml();
  // Only the LD broker is managed here; the others would be unreachable for the fake.
  yaml.replace(yaml.find("    tenant: migr\n"), 17,
               "    tenant: migr\n    manage_subscriptions: false\n");
  yaml.replace(yaml.find("    base_url: http://city.test:1026\n"), 36,
               "    base_url: http://city.test:1026\n    manage_subscriptions: false\n");
  config_reader r(YAML::Load(yaml), "connectors.context", nullptr);
  auto build = configure(r);
  r.finish();
  ASSERT_TRUE(build);

  manual_clock time;
  fake_store db(time);
  null_sink sink;
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  fake_broker broker(true);
  connector_context ctx{db, sink, time, stats, log, broker, "https://gw.example.org"};
  auto c = (*build)(ctx);
  EXPECT_EQ(c->name(), "context");
  auto routes = c->routes();
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0].pattern, "/context/notify/{broker}/{subscription}");

  c->start();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (stats.gauge_value("bbgw_context_subscriptions_in_sync", {{"broker", "ld"}}) != 1 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(stats.gauge_value("bbgw_context_subscriptions_in_sync", {{"broker", "ld"}}), 1);
  auto t0 = std::chrono::steady_clock::now();
  c->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  auto reqs = broker.take_requests();
  for (auto const& q : reqs)
    EXPECT_NE(q.url.find("http://ld.test:1026/"), std::string::npos) << q.url;
  EXPECT_EQ(broker.subs.size(), 1u);
}

}  // namespace
}  // namespace bbgw::context::testing

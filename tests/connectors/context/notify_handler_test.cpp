// The notify endpoint: tokens, NGSI error bodies, metrics, one transaction per notification
// (all-or-nothing), store-level dedupe of redeliveries, and the CloudEvents it emits.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "bbgw/cloud_event.hpp"
#include "context/entity_event.hpp"
#include "test_support.hpp"

namespace bbgw::context::testing {
namespace {

namespace json = boost::json;

json::object ngsi_error_of(response const& r) {
  EXPECT_EQ(r.headers.get("Content-Type").value_or(""), "application/json");
  auto v = json::parse(r.body).as_object();
  EXPECT_EQ(v.size(), 2u) << r.body;
  EXPECT_TRUE(v.at("error").is_string());
  EXPECT_TRUE(v.at("description").is_string());
  return v;
}

double rejected(handler_rig& rig, std::string const& reason) {
  return rig.stats.counter_value("bbgw_context_notifications_rejected_total", {{"reason", reason}});
}

TEST(ContextNotifyHandler, EveryFixtureBecomesOneEventPerEntity) {
  struct {
    char const* file;
    char const* broker;
    char const* sub;
    char const* family;
    char const* source;
    char const* entity;
  } const cases[] = {
      {"v2-normalized.http", "orion", "cases", "context.migr.Case", "/bbgw/context/orion/migr",
       "urn:Case:17"},
      {"v2-keyvalues.http", "city", "centres", "context.default.SupportCentre",
       "/bbgw/context/city/default", "urn:SupportCentre:nicosia-01"},
      {"ld-normalized-link.http", "ld", "events", "context.cyprus.Event", "/bbgw/context/ld/cyprus",
       "urn:ngsi-ld:Event:calendar-2026-07-03-lang-course"},
      {"ld-ldjson-context.http", "ld", "events", "context.default.Event",
       "/bbgw/context/ld/default", "urn:ngsi-ld:Event:calendar-2026-07-04-music"},
  };
  for (auto const& c : cases) {
    handler_rig rig;
    auto resp = rig.handler.handle(fixture_for(c.file, c.broker, c.sub));
    ASSERT_EQ(resp.status, 204u) << c.file << ": " << resp.body;
    EXPECT_EQ(resp.headers.get("X-Bbgw-Context-Events").value_or(""), "1");
    auto out = rig.db.outbox();
    ASSERT_EQ(out.size(), 1u) << c.file;
    auto const& ev = out[0];
    EXPECT_EQ(ev.type, "eu.bbgateway.context.entity.updated.v1");
    EXPECT_EQ(ev.family, c.family) << c.file;
    EXPECT_EQ(ev.source, c.source) << c.file;
    EXPECT_EQ(ev.partitionkey, c.entity);
    EXPECT_EQ(ev.subject.value_or(""), c.entity);
    EXPECT_EQ(ev.dataschema.value_or(""),
              "https://bbgateway.eu/schemas/events/context.entity.updated.json");
    EXPECT_EQ(ev.requestid.value_or(""), std::string("req-") + c.file);
    EXPECT_EQ(ev.time, rig.time.now());
    EXPECT_EQ(ev.data.at("id"), json::string(c.entity));
    EXPECT_EQ(ev.data.at("broker"), json::string(c.broker));
    EXPECT_EQ(rig.stats.counter_value(
                  "bbgw_context_notifications_total",
                  {{"broker", c.broker}, {"subscription", c.sub}, {"outcome", "accepted"}}),
              1);
    EXPECT_EQ(rig.stats.counter_value("bbgw_context_entities_total",
                                      {{"broker", c.broker}, {"subscription", c.sub}}),
              1);
  }
}

TEST(ContextNotifyHandler, TokenInQueryIsAcceptedPercentDecoded) {
  handler_rig rig;
  auto r = fixture_for("v2-keyvalues.http", "city", "centres", false);
  r.query = "token=centres-secret%2D0123456789";
  EXPECT_EQ(rig.handler.handle(r).status, 204u);
}

TEST(ContextNotifyHandler, MissingOrWrongTokenIs401AndCounted) {
  handler_rig rig;
  auto none = fixture_for("v2-normalized.http", "orion", "cases", false);
  auto r1 = rig.handler.handle(none);
  EXPECT_EQ(r1.status, 401u);
  EXPECT_EQ(ngsi_error_of(r1).at("error"), "Unauthorized");

  auto wrong = fixture_for("v2-normalized.http", "orion", "cases", false);
  wrong.headers.add("x-bbgw-notify-token", secret_of("orion", "cases") + "x");
  EXPECT_EQ(rig.handler.handle(wrong).status, 401u);

  // Another subscription's token does not open this one.
  auto other = fixture_for("v2-normalized.http", "orion", "cases", false);
  other.query = std::string("token=") + centres_secret;
  EXPECT_EQ(rig.handler.handle(other).status, 401u);

  EXPECT_EQ(rejected(rig, "unauthorized"), 3);
  EXPECT_TRUE(rig.db.outbox().empty());
  EXPECT_EQ(rig.db.transactions(), 0);
  EXPECT_TRUE(rig.log.contains("context notification refused", {{"reason", "unauthorized"}}));
  EXPECT_FALSE(rig.log.any_field_contains(secret_of("orion", "cases")));
}

TEST(ContextNotifyHandler, UnknownSubscriptionIs404) {
  handler_rig rig;
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  r.params = {{"broker", "orion"}, {"subscription", "nope"}};
  auto resp = rig.handler.handle(r);
  EXPECT_EQ(resp.status, 404u);
  EXPECT_EQ(ngsi_error_of(resp).at("error"), "NotFound");
  EXPECT_EQ(rejected(rig, "unknown_subscription"), 1);
}

TEST(ContextNotifyHandler, BadInputGetsTheNgsiErrorShapeAndEmitsNothing) {
  struct {
    char const* what;
    char const* content_type;
    std::string body;
    unsigned status;
    char const* error;
    char const* reason;
  } const cases[] = {
      {"malformed JSON", "application/json", "{\"data\": [", 400, "ParseError", "malformed_json"},
      {"wrong content type", "text/plain", "{}", 415, "UnsupportedMediaType",
       "unsupported_media_type"},
      {"missing data", "application/json", R"({"subscriptionId":"x"})", 400, "BadRequest",
       "invalid_notification"},
      {"entity without id", "application/json", R"({"data":[{"id":"a","type":"T"},{"type":"T"}]})",
       400, "BadRequest", "invalid_entity"},
      {"oversized body", "application/json", std::string(1024 * 1024 + 1, ' '), 413,
       "RequestEntityTooLarge", "body_too_large"},
  };
  for (auto const& c : cases) {
    handler_rig rig;
    auto r = fixture_for("v2-normalized.http", "orion", "cases");
    r.headers.set("Content-Type", c.content_type);
    r.body = c.body;
    auto resp = rig.handler.handle(r);
    EXPECT_EQ(resp.status, c.status) << c.what;
    auto err = ngsi_error_of(resp);
    EXPECT_EQ(err.at("error"), c.error) << c.what;
    EXPECT_EQ(rejected(rig, c.reason), 1) << c.what;
    EXPECT_TRUE(rig.db.outbox().empty()) << c.what;
    EXPECT_EQ(rig.db.transactions(), 0) << c.what;
  }
}

TEST(ContextNotifyHandler, TooManyEntitiesIs413) {
  handler_rig rig;
  std::string body = R"({"data":[)";
  for (int i = 0; i < 1001; ++i)
    body += std::string(i ? "," : "") + R"({"id":"e)" + std::to_string(i) + R"(","type":"T"})";
  body += "]}";
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  r.body = body;
  auto resp = rig.handler.handle(r);
  EXPECT_EQ(resp.status, 413u);
  EXPECT_EQ(rejected(rig, "too_many_entities"), 1);
}

TEST(ContextNotifyHandler, AllEntitiesOfANotificationAreEmittedInOneTransaction) {
  handler_rig rig;
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  r.body =
      R"({"data":[{"id":"A","type":"Case"},{"id":"B","type":"Case"},{"id":"C","type":"Office"}]})";
  auto resp = rig.handler.handle(r);
  ASSERT_EQ(resp.status, 204u) << resp.body;
  EXPECT_EQ(rig.db.transactions(), 1);
  auto out = rig.db.outbox();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].partitionkey, "A");
  EXPECT_EQ(out[2].family, "context.migr.Office");  // routed by each entity's type
  EXPECT_EQ(out[1].data.at("notification").at("index"), 1);
  EXPECT_EQ(out[1].data.at("notification").at("count"), 3);
}

TEST(ContextNotifyHandler, AStoreFailureMidwayEmitsNothingAndAnswers503) {
  handler_rig rig;
  rig.db.fail_emit_at(2);
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  r.body =
      R"({"data":[{"id":"A","type":"Case"},{"id":"B","type":"Case"},{"id":"C","type":"Case"}]})";
  auto resp = rig.handler.handle(r);
  EXPECT_EQ(resp.status, 503u);
  EXPECT_EQ(ngsi_error_of(resp).at("error"), "ServiceUnavailable");
  EXPECT_TRUE(rig.db.outbox().empty());
  EXPECT_EQ(rig.db.commits(), 0);
  EXPECT_EQ(rejected(rig, "store_failure"), 1);
  // The dedupe record rolled back too: the broker's retry goes through.
  auto again = rig.handler.handle(r);
  EXPECT_EQ(again.status, 204u);
  EXPECT_EQ(rig.db.outbox().size(), 3u);
}

TEST(ContextNotifyHandler, ARedeliveredNotificationIsDedupedByTheStore) {
  handler_rig rig;
  auto r = fixture_for("ld-normalized-link.http", "ld", "events");
  ASSERT_EQ(rig.handler.handle(r).status, 204u);
  auto first = rig.db.outbox();
  ASSERT_EQ(first.size(), 1u);

  auto again = rig.handler.handle(r);
  EXPECT_EQ(again.status, 204u);
  EXPECT_EQ(again.headers.get("X-Bbgw-Context-Duplicate").value_or(""), "true");
  EXPECT_EQ(rig.db.outbox().size(), 1u);
  EXPECT_EQ(rig.stats.counter_value(
                "bbgw_context_notifications_total",
                {{"broker", "ld"}, {"subscription", "events"}, {"outcome", "duplicate"}}),
            1);

  // After the dedupe window the record expired: the same notification emits again, with the
  // same event id, so Kafka consumers still dedupe it.
  rig.time.advance(std::chrono::hours(2));
  EXPECT_EQ(rig.handler.handle(r).status, 204u);
  auto out = rig.db.outbox();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].id, first[0].id);
}

// A gateway from before the time-prefixed dedupe keys stored the same notification under the
// hash alone: for one dedupe window after start (all such records were written before), that
// record still makes a redelivery a duplicate.
TEST(ContextNotifyHandler, ARecordFromBeforeTheTimePrefixStillDedupes) {
  handler_rig rig;
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  std::string why;
  auto const& b = rig.cfg.brokers[0];
  auto note = normalise({b, b.subscriptions[0], r.headers, r.body, 1000}, why);
  ASSERT_TRUE(note) << why;
  ASSERT_GT(note->dedupe_prefix_size, 0u);
  auto legacy = note->dedupe_key.substr(note->dedupe_prefix_size);
  ASSERT_TRUE(rig.db.transact([&](unit_of_work& u) {
    return u.put(dedupe_namespace, legacy, "orion/cases");  // no expiry: only the window limits
  }));

  // The gateway starts on that store.
  notify_handler started{rig.cfg, rig.db, rig.time, rig.stats, rig.log};
  auto resp = started.handle(r);
  EXPECT_EQ(resp.status, 204u);
  EXPECT_EQ(resp.headers.get("X-Bbgw-Context-Duplicate").value_or(""), "true");
  EXPECT_TRUE(rig.db.outbox().empty());

  // Past the first dedupe window no such record can be unexpired: it is not looked up.
  rig.time.advance(std::chrono::hours(2));
  notify_handler later{rig.cfg, rig.db, rig.time, rig.stats, rig.log};
  rig.time.advance(std::chrono::hours(2));
  EXPECT_EQ(later.handle(r).status, 204u);
  EXPECT_EQ(rig.db.outbox().size(), 1u);
  EXPECT_EQ(started.handle(r).headers.get("X-Bbgw-Context-Duplicate").value_or(""), "true")
      << "now a duplicate of the record just written";
}

// Nor is it looked up when the store held no unexpired dedupe record at start (a new store, or
// one whose records had all expired): no pre-prefix record can exist. A record in that form
// appearing later (only a test can put it there) is therefore not consulted.
TEST(ContextNotifyHandler, NoPrePrefixLookupsWhenTheStoreStartedWithoutDedupeRecords) {
  handler_rig rig;  // its handler started on an empty store
  auto r = fixture_for("v2-normalized.http", "orion", "cases");
  std::string why;
  auto const& b = rig.cfg.brokers[0];
  auto note = normalise({b, b.subscriptions[0], r.headers, r.body, 1000}, why);
  ASSERT_TRUE(note) << why;
  auto legacy = note->dedupe_key.substr(note->dedupe_prefix_size);
  ASSERT_TRUE(rig.db.transact(
      [&](unit_of_work& u) { return u.put(dedupe_namespace, legacy, "orion/cases"); }));
  auto resp = rig.handler.handle(r);
  EXPECT_EQ(resp.status, 204u);
  EXPECT_FALSE(resp.headers.get("X-Bbgw-Context-Duplicate"));
  EXPECT_EQ(rig.db.outbox().size(), 1u);
}

TEST(ContextNotifyHandler, RouteIsAWorkerPostUnderThePrefix) {
  handler_rig rig;
  auto rt = rig.handler.make_route();
  EXPECT_EQ(rt.methods, std::vector<std::string>{"POST"});
  EXPECT_EQ(rt.pattern, "/context/notify/{broker}/{subscription}");
  EXPECT_EQ(rt.exec, execution::worker);
  EXPECT_EQ(rt.body_limit, 2u * 1024 * 1024);
}

// Every shape the normaliser produces validates against schemas/events/context.entity.updated.json
// (python3-jsonschema, Draft 2020-12), so the documented model is the emitted one.
TEST(ContextNotifyHandler, EmittedEventsValidateAgainstTheJsonSchema) {
  handler_rig rig;
  ASSERT_EQ(rig.handler.handle(fixture_for("v2-normalized.http", "orion", "cases")).status, 204u);
  ASSERT_EQ(rig.handler.handle(fixture_for("v2-keyvalues.http", "city", "centres")).status, 204u);
  ASSERT_EQ(rig.handler.handle(fixture_for("ld-normalized-link.http", "ld", "events")).status,
            204u);
  ASSERT_EQ(rig.handler.handle(fixture_for("ld-ldjson-context.http", "ld", "events")).status, 204u);
  auto rel = fixture_for("v2-normalized.http", "orion", "cases");
  rel.headers.set("Ngsiv2-AttrsFormat", "simplifiedNormalized");
  rel.body =
      R"({"id":"urn:Case:1","type":"Case","ref":{"type":"Relationship","value":"urn:X:1","metadata":{}}})";
  ASSERT_EQ(rig.handler.handle(rel).status, 204u);
  auto multi = fixture_for("ld-normalized-link.http", "ld", "events");
  multi.body =
      R"({"id":"urn:n:9","type":"Notification","data":[{"id":"urn:E:9","type":["Event","Course"],"createdAt":"2026-01-01T00:00:00Z",
    "seats":[{"type":"Property","value":1,"datasetId":"urn:ds:a"},{"type":"Property","value":2,"datasetId":"urn:ds:b"}],
    "title":{"type":"LanguageProperty","languageMap":{"en":"x"}},"tags":{"type":"ListProperty","valueList":[1,2]}}]})";
  ASSERT_EQ(rig.handler.handle(multi).status, 204u);
  auto concise = fixture_for("ld-normalized-link.http", "ld", "events");
  concise.headers.set("Ngsild-Attribute-Format", "Concise");
  concise.body =
      R"({"id":"urn:n:10","type":"Notification","data":[{"id":"urn:E:10","type":"Event","seats":3,"org":{"object":"urn:O:1"},"loc":{"type":"Point","coordinates":[1,2]}}]})";
  ASSERT_EQ(rig.handler.handle(concise).status, 204u);

  auto out = rig.db.outbox();
  ASSERT_EQ(out.size(), 7u);
  auto dir =
      std::filesystem::temp_directory_path() / ("bbgw-ctx-schema-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string files;
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto f = dir / ("ev" + std::to_string(i) + ".json");
    std::ofstream(f) << to_structured_json(out[i]);
    files += " " + f.string();
  }
  std::string cmd = "/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                    "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                    "/schemas/events/context.entity.updated.json" + files + " 2>&1";
  std::string output;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  int rc = ::pclose(p);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(rc, 0) << output;

  // And the schema is not vacuous: an attribute with both value and object is refused.
  auto bad = out[0];
  bad.data.as_object()["attributes"].as_array()[0].as_object()["object"] = "urn:x";
  auto f = std::filesystem::temp_directory_path() /
           ("bbgw-ctx-bad-" + std::to_string(::getpid()) + ".json");
  std::ofstream(f) << to_structured_json(bad);
  cmd = "/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) + "/tests/tools/validate_json.py " +
        BBGW_SOURCE_DIR + "/schemas/events/context.entity.updated.json " + f.string() +
        " >/dev/null 2>&1";
  EXPECT_NE(std::system(cmd.c_str()), 0);
  std::filesystem::remove(f);
}

TEST(ContextEntityEvent, FamilyTemplateSanitisesTenantAndType) {
  EXPECT_EQ(expand_family("context.{tenant}.{type}", "b", "s", "", "https://x.org/T#1"),
            "context.default.https___x.org_T_1");
  EXPECT_EQ(expand_family("ctx-{broker}.{subscription}.{tenant}", "orion", "cases", "migr", "Case"),
            "ctx-orion.cases.migr");
}

}  // namespace
}  // namespace bbgw::context::testing

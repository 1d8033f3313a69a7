// The context connector through the real gateway: every recorded NGSI notification replayed
// over HTTP becomes one CloudEvent per entity that an independent librdkafka consumer reads back
// field by field (and that validates against its JSON Schema); bad input gets the NGSI error
// shape and leaves no event behind; a redelivery emits nothing new.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "context_it.hpp"
#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;
using namespace bbgw::it::context;

struct ContextNotify : ::testing::Test {
  std::filesystem::path dir = make_temp_dir("bbgw-it-context");
  // No broker needed for notifications: subscription management is off.
  gateway gw{dir,
             gateway_yaml("", context_section("http://127.0.0.1:9", "http://127.0.0.1:9", false))};

  std::string notify_url(std::string const& broker, std::string const& sub,
                         std::string const& token) {
    return gw.url() + "/context/notify/" + broker + "/" + sub +
           (token.empty() ? "" : "?token=" + token);
  }

  void validate(std::vector<kafka_record> const& recs) {
    std::string files;
    static int n = 0;
    for (auto const& r : recs) {
      auto f = dir / ("ctx-event" + std::to_string(n++) + ".json");
      write_file(f, r.value);
      files += " " + f.string();
    }
    auto [rc, out] = run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                                 "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                                 "/schemas/events/context.entity.updated.json" + files);
    EXPECT_EQ(rc, 0) << out;
  }
};

json::object const& attr(json::object const& data, std::string_view name) {
  for (auto const& a : data.at("attributes").as_array())
    if (a.at("name").as_string() == name) return a.as_object();
  throw std::runtime_error("no attribute " + std::string(name));
}

void expect_envelope(kafka_record const& rec, std::string const& entity,
                     std::string const& source) {
  auto ev = json::parse(rec.value).as_object();
  EXPECT_EQ(rec.key, entity);
  EXPECT_EQ(rec.headers.at("content-type"), "application/cloudevents+json; charset=UTF-8");
  EXPECT_EQ(ev.at("specversion"), "1.0");
  EXPECT_EQ(ev.at("type"), "eu.bbgateway.context.entity.updated.v1");
  EXPECT_EQ(ev.at("source"), json::string(source));
  EXPECT_EQ(ev.at("subject"), json::string(entity));
  EXPECT_EQ(ev.at("partitionkey"), json::string(entity));
  EXPECT_EQ(ev.at("dataschema"), "https://bbgateway.eu/schemas/events/context.entity.updated.json");
  EXPECT_EQ(rec.headers.at("ce_id"), std::string(ev.at("id").as_string()));
}

TEST_F(ContextNotify, EveryFixtureReachesKafkaNormalised) {
  // v2 normalized: tenant, Fiware-Servicepath spelling, correlator suffix, geo:json, metadata.
  auto r1 =
      replay(dir, notify_url("orion", "cases", cases_token), read_fixture("v2-normalized.http"));
  ASSERT_EQ(r1.status, 204) << r1.body;
  // v2 keyValues: no tenant, Greek text. Token in the header this time.
  auto r2 = replay(dir, notify_url("city", "centres", ""), read_fixture("v2-keyvalues.http"),
                   {{"x-bbgw-notify-token", centres_token}});
  ASSERT_EQ(r2.status, 204) << r2.body;
  // LD with the @context in a Link header, and LD as application/ld+json.
  auto r3 = replay(dir, notify_url("ld", "events", events_token),
                   read_fixture("ld-normalized-link.http"));
  ASSERT_EQ(r3.status, 204) << r3.body;
  auto ldjson = read_fixture("ld-ldjson-context.http");
  // No NGSILD-Tenant header: the subscription's configured tenant (cyprus) applies.
  auto r4 = replay(dir, notify_url("ld", "events", events_token), ldjson);
  ASSERT_EQ(r4.status, 204) << r4.body;

  auto cases = consume(gw.bootstrap(), "bbgw.context.migr.Case", 1);
  ASSERT_EQ(cases.size(), 1u);
  expect_envelope(cases[0], "urn:Case:17", "/bbgw/context/orion/migr");
  auto d1 = json::parse(cases[0].value).at("data").as_object();
  EXPECT_EQ(d1.at("tenant"), "migr");
  EXPECT_EQ(d1.at("servicePath"), "/madrid");
  EXPECT_EQ(d1.at("flavour"), "ngsi-v2");
  EXPECT_EQ(d1.at("format"), "normalized");
  EXPECT_EQ(d1.at("notification").at("correlator"), "600119ce-eeaa-11e9-9e0c-080027a71049");
  EXPECT_EQ(d1.at("notification").at("cbnotif"), 1);
  EXPECT_EQ(d1.at("notification").at("subscriptionId"), "5f914177334436ea590f6edb");
  EXPECT_EQ(attr(d1, "status").at("value"), "open");
  EXPECT_EQ(attr(d1, "status").at("type"), "Text");
  EXPECT_EQ(attr(d1, "language").at("observedAt"), "2026-06-24T10:00:00.000Z");
  EXPECT_EQ(attr(d1, "waitingDays").at("value"), 4);
  EXPECT_EQ(attr(d1, "location").at("kind"), "GeoProperty");
  EXPECT_EQ(attr(d1, "location").at("value").at("coordinates"), (json::array{-3.7038, 40.4168}));

  auto centres = consume(gw.bootstrap(), "bbgw.context.default.SupportCentre", 1);
  ASSERT_EQ(centres.size(), 1u);
  expect_envelope(centres[0], "urn:SupportCentre:nicosia-01", "/bbgw/context/city/default");
  auto d2 = json::parse(centres[0].value).at("data").as_object();
  EXPECT_EQ(d2.at("tenant"), "");
  EXPECT_EQ(d2.at("format"), "keyValues");
  EXPECT_EQ(d2.at("notification").at("cbnotif"), 2);
  EXPECT_EQ(
      attr(d2, "name").at("value"),
      "\xce\x9a\xce\xad\xce\xbd\xcf\x84\xcf\x81\xce\xbf \xce\xa5\xcf\x80\xce\xbf\xcf\x83\xcf\x84"
      "\xce\xae\xcf\x81\xce\xb9\xce\xbe\xce\xb7\xcf\x82 \xce\x9b\xce\xb5\xcf\x85\xce\xba\xcf\x89"
      "\xcf\x83\xce\xaf\xce\xb1\xcf\x82");
  EXPECT_EQ(attr(d2, "openSlots").at("value"), 3);
  EXPECT_EQ(attr(d2, "languages").at("value"), (json::array{"el", "fr", "ar"}));

  auto events = consume(gw.bootstrap(), "bbgw.context.cyprus.Event", 2);
  ASSERT_EQ(events.size(), 2u);
  std::map<std::string, json::object> by_id;
  for (auto const& rec : events) {
    expect_envelope(rec, rec.key, "/bbgw/context/ld/cyprus");
    by_id[rec.key] = json::parse(rec.value).at("data").as_object();
  }
  auto const& d3 = by_id.at("urn:ngsi-ld:Event:calendar-2026-07-03-lang-course");
  EXPECT_EQ(d3.at("flavour"), "ngsi-ld");
  EXPECT_EQ(d3.at("tenant"), "cyprus");
  EXPECT_EQ(d3.at("context"),
            (json::array{"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}));
  EXPECT_EQ(d3.at("notification").at("id"), "urn:ngsi-ld:Notification:5fd0fa684eb81930c97005f3");
  EXPECT_EQ(d3.at("notification").at("notifiedAt"), "2026-06-24T10:00:00.000Z");
  EXPECT_EQ(attr(d3, "startDate").at("value"), "2026-07-03T17:00:00Z");
  EXPECT_EQ(attr(d3, "startDate").at("valueType"), "DateTime");
  EXPECT_EQ(attr(d3, "seats").at("observedAt"), "2026-06-24T09:59:58.000Z");
  EXPECT_EQ(attr(d3, "seats").at("unitCode"), "C62");
  EXPECT_EQ(attr(d3, "organizer").at("kind"), "Relationship");
  EXPECT_EQ(attr(d3, "organizer").at("object"), "urn:ngsi-ld:Organization:ngo-42");
  EXPECT_EQ(attr(d3, "location").at("kind"), "GeoProperty");
  auto const& d4 = by_id.at("urn:ngsi-ld:Event:calendar-2026-07-04-music");
  EXPECT_EQ(d4.at("notification").at("id"), "urn:ngsi-ld:Notification:5fd0fa684eb81930c97005f4");
  EXPECT_EQ(attr(d4, "name").at("value"), "Neighbourhood music evening");
  EXPECT_EQ(attr(d4, "seats").at("value"), 40);

  std::vector<kafka_record> all = cases;
  all.insert(all.end(), centres.begin(), centres.end());
  all.insert(all.end(), events.begin(), events.end());
  validate(all);

  // kcat, a consumer this project did not write, sees the same event.
  auto kc = consume_kcat(gw.bootstrap(), "bbgw.context.migr.Case", 1);
  ASSERT_EQ(kc.size(), 1u);
  EXPECT_EQ(kc[0].key, "urn:Case:17");
  EXPECT_EQ(json::parse(kc[0].value).at("id"), json::parse(cases[0].value).at("id"));
}

TEST_F(ContextNotify, RedeliveryIsDedupedAndKeepsTheEventId) {
  auto fx = read_fixture("v2-normalized.http");
  auto a = replay(dir, notify_url("orion", "cases", cases_token), fx);
  ASSERT_EQ(a.status, 204) << a.body;
  EXPECT_EQ(a.headers["x-bbgw-context-events"], "1");
  auto b = replay(dir, notify_url("orion", "cases", cases_token), fx);
  ASSERT_EQ(b.status, 204) << b.body;
  EXPECT_EQ(b.headers["x-bbgw-context-duplicate"], "true");
  auto recs = consume(gw.bootstrap(), "bbgw.context.migr.Case", 2, 4s);
  EXPECT_EQ(recs.size(), 1u);
  auto m = curl(gw.url() + "/metrics");
  EXPECT_NE(m.body.find("bbgw_context_notifications_total{"), std::string::npos);
  EXPECT_NE(m.body.find("outcome=\"duplicate\""), std::string::npos);
}

TEST_F(ContextNotify, BadInputGetsNgsiErrorsAndNoEvents) {
  auto fx = read_fixture("v2-normalized.http");
  auto url = notify_url("orion", "cases", cases_token);
  struct bad {
    char const* what;
    std::string body;
    std::map<std::string, std::string> headers;
    std::string url;
    int status;
    char const* error;
  };
  std::string big(70 * 1024, ' ');  // over the 64KiB body_limit
  std::vector<bad> cases = {
      {"malformed JSON", "{\"data\": [", {}, url, 400, "ParseError"},
      {"wrong content type",
       fx.body,
       {{"content-type", "text/plain"}},
       url,
       415,
       "UnsupportedMediaType"},
      {"missing data", R"({"subscriptionId":"x"})", {}, url, 400, "BadRequest"},
      {"entity without id (after a good one)",
       R"({"data":[{"id":"urn:Case:good","type":"Case"},{"type":"Case","status":{"type":"Text","value":"x"}}]})",
       {},
       url,
       400,
       "BadRequest"},
      {"unknown subscription",
       fx.body,
       {},
       notify_url("orion", "nope", cases_token),
       404,
       "NotFound"},
      {"missing token", fx.body, {}, notify_url("orion", "cases", ""), 401, "Unauthorized"},
      {"wrong token",
       fx.body,
       {},
       notify_url("orion", "cases", centres_token),
       401,
       "Unauthorized"},
      {"oversized body", big, {}, url, 413, "RequestEntityTooLarge"},
  };
  for (auto const& c : cases) {
    auto req = fx;
    req.body = c.body;
    auto r = replay(dir, c.url, req, c.headers);
    EXPECT_EQ(r.status, c.status) << c.what << ": " << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/json") << c.what;
    json::error_code ec;
    auto v = json::parse(r.body, ec);
    ASSERT_FALSE(ec) << c.what << ": " << r.body;
    EXPECT_EQ(v.at("error"), json::string(c.error)) << c.what;
    EXPECT_TRUE(v.at("description").is_string()) << c.what;
  }
  // Nothing was emitted: a good notification afterwards is the only event on the topic.
  auto ok = replay(dir, url, fx);
  ASSERT_EQ(ok.status, 204) << ok.body;
  auto recs = consume(gw.bootstrap(), "bbgw.context.migr.Case", 3, 4s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, "urn:Case:17");

  auto m = curl(gw.url() + "/metrics");
  for (auto reason : {"malformed_json", "unsupported_media_type", "invalid_notification",
                      "invalid_entity", "unknown_subscription", "unauthorized", "body_too_large"}) {
    auto line = std::string("bbgw_context_notifications_rejected_total{reason=\"") + reason + "\"}";
    auto at = m.body.find(line);
    ASSERT_NE(at, std::string::npos) << reason;
    double v = std::stod(m.body.substr(at + line.size()));
    EXPECT_GE(v, 1) << reason;
  }
}

}  // namespace
}  // namespace bbgw::it

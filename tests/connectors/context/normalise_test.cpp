// Normalisation of recorded NGSI-v2 and NGSI-LD notifications into the one entity-update model,
// field by field, with the brokers' quirks, and refusal of whatever breaks the formats.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "context/normalise.hpp"
#include "test_support.hpp"

namespace bbgw::context::testing {
namespace {

namespace json = boost::json;

// An entity's data as the event carries it, parsed back (it must be one JSON object).
json::object data_of(entity_update const& u) {
  json::error_code ec;
  auto v = json::parse(u.data_json, ec);
  EXPECT_FALSE(ec) << u.data_json;
  EXPECT_TRUE(v.is_object()) << u.data_json;
  return v.is_object() ? v.as_object() : json::object{};
}

struct ContextNormalise : ::testing::Test {
  context_config cfg = load_config(test_yaml());
  broker_config const& broker(std::string const& n) {
    for (auto const& b : cfg.brokers)
      if (b.name == n) return b;
    throw std::runtime_error("no broker " + n);
  }
  result<notification> run(request const& r, std::string const& b, std::string& why,
                           std::size_t max = 1000) {
    auto const& br = broker(b);
    return normalise({br, br.subscriptions.front(), r.headers, r.body, max}, why);
  }
  notification ok(std::string const& file, std::string const& b) {
    auto r = load_fixture(file);
    std::string why;
    auto n = run(r, b, why);
    EXPECT_TRUE(n.has_value()) << why;
    return n ? *n : notification{};
  }
  json::object const& attr(json::object const& d, std::string_view name) {
    for (auto const& a : d.at("attributes").as_array())
      if (a.at("name").as_string() == name) return a.as_object();
    throw std::runtime_error("no attribute " + std::string(name));
  }
};

TEST_F(ContextNormalise, V2NormalizedFixtureFieldByField) {
  auto n = ok("v2-normalized.http", "orion");
  ASSERT_EQ(n.entities.size(), 1u);
  EXPECT_EQ(n.tenant, "migr");
  auto const& e = n.entities[0];
  EXPECT_EQ(e.id, "urn:Case:17");
  EXPECT_EQ(e.type, "Case");
  auto const& d = data_of(e);
  EXPECT_EQ(d.at("id"), "urn:Case:17");
  EXPECT_EQ(d.at("type"), "Case");
  EXPECT_EQ(d.at("tenant"), "migr");
  EXPECT_EQ(d.at("servicePath"), "/madrid");  // sent as Fiware-Servicepath: matched anyway
  EXPECT_EQ(d.at("broker"), "orion");
  EXPECT_EQ(d.at("flavour"), "ngsi-v2");
  EXPECT_EQ(d.at("subscription"), "cases");
  EXPECT_EQ(d.at("format"), "normalized");
  EXPECT_TRUE(d.at("context").is_null());
  auto const& note = d.at("notification").as_object();
  EXPECT_EQ(note.at("correlator"), "600119ce-eeaa-11e9-9e0c-080027a71049");
  EXPECT_EQ(note.at("cbnotif"), 1);
  EXPECT_EQ(note.at("subscriptionId"), "5f914177334436ea590f6edb");
  EXPECT_TRUE(note.at("id").is_null());
  EXPECT_TRUE(note.at("notifiedAt").is_null());
  EXPECT_EQ(note.at("index"), 0);
  EXPECT_EQ(note.at("count"), 1);
  ASSERT_EQ(d.at("attributes").as_array().size(), 4u);
  // Attribute order is the broker's.
  EXPECT_EQ(d.at("attributes").as_array()[0].at("name"), "status");
  EXPECT_EQ(d.at("attributes").as_array()[3].at("name"), "location");

  auto const& status = attr(d, "status");
  EXPECT_EQ(status.at("kind"), "Property");
  EXPECT_EQ(status.at("type"), "Text");
  EXPECT_EQ(status.at("value"), "open");
  EXPECT_EQ(status.at("metadata"), json::object{});
  EXPECT_FALSE(status.contains("observedAt"));

  auto const& lang = attr(d, "language");
  EXPECT_EQ(lang.at("value"), "ar");
  EXPECT_EQ(lang.at("observedAt"), "2026-06-24T10:00:00.000Z");  // lifted from metadata
  EXPECT_EQ(lang.at("metadata").at("observedAt").at("type"), "DateTime");

  auto const& days = attr(d, "waitingDays");
  EXPECT_EQ(days.at("type"), "Number");
  EXPECT_EQ(days.at("value"), 4);

  auto const& loc = attr(d, "location");
  EXPECT_EQ(loc.at("kind"), "GeoProperty");
  EXPECT_EQ(loc.at("type"), "geo:json");
  EXPECT_EQ(loc.at("value").at("type"), "Point");
  EXPECT_EQ(loc.at("value").at("coordinates"), (json::array{-3.7038, 40.4168}));
}

TEST_F(ContextNormalise, V2KeyValuesFixtureWithoutTenantAndWithGreekText) {
  auto n = ok("v2-keyvalues.http", "city");
  ASSERT_EQ(n.entities.size(), 1u);
  EXPECT_EQ(n.tenant, "");
  auto const& d = data_of(n.entities[0]);
  EXPECT_EQ(d.at("id"), "urn:SupportCentre:nicosia-01");
  EXPECT_EQ(d.at("type"), "SupportCentre");
  EXPECT_EQ(d.at("tenant"), "");
  EXPECT_EQ(d.at("servicePath"), "/");  // no header, none configured: the root path
  EXPECT_EQ(d.at("format"), "keyValues");
  EXPECT_EQ(d.at("notification").at("correlator"), "7a2c11de-0000-11ea-8b00-080027a71049");
  EXPECT_EQ(d.at("notification").at("cbnotif"), 2);
  auto const& name = attr(d, "name");
  EXPECT_EQ(name.at("value"),
            "\xce\x9a\xce\xad\xce\xbd\xcf\x84\xcf\x81\xce\xbf "
            "\xce\xa5\xcf\x80\xce\xbf\xcf\x83\xcf\x84\xce\xae\xcf\x81\xce\xb9"
            "\xce\xbe\xce\xb7\xcf\x82 \xce\x9b\xce\xb5\xcf\x85\xce\xba\xcf\x89"
            "\xcf\x83\xce\xaf\xce\xb1\xcf\x82");  // "Κέντρο Υποστήριξης Λευκωσίας"
  EXPECT_TRUE(name.at("kind").is_null());  // keyValues carries no attribute types
  EXPECT_TRUE(name.at("type").is_null());
  EXPECT_EQ(attr(d, "openSlots").at("value"), 3);
  EXPECT_EQ(attr(d, "languages").at("value"), (json::array{"el", "fr", "ar"}));
}

TEST_F(ContextNormalise, LdNormalizedWithLinkHeaderFieldByField) {
  auto n = ok("ld-normalized-link.http", "ld");
  ASSERT_EQ(n.entities.size(), 1u);
  EXPECT_EQ(n.tenant, "cyprus");
  auto const& d = data_of(n.entities[0]);
  EXPECT_EQ(d.at("id"), "urn:ngsi-ld:Event:calendar-2026-07-03-lang-course");
  EXPECT_EQ(d.at("type"), "Event");
  EXPECT_EQ(d.at("tenant"), "cyprus");
  EXPECT_TRUE(d.at("servicePath").is_null());
  EXPECT_EQ(d.at("flavour"), "ngsi-ld");
  EXPECT_EQ(d.at("format"), "normalized");
  EXPECT_EQ(d.at("context"),
            (json::array{"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}));
  auto const& note = d.at("notification").as_object();
  EXPECT_EQ(note.at("id"), "urn:ngsi-ld:Notification:5fd0fa684eb81930c97005f3");
  EXPECT_EQ(note.at("subscriptionId"), "urn:ngsi-ld:Subscription:S1");
  EXPECT_EQ(note.at("notifiedAt"), "2026-06-24T10:00:00.000Z");
  EXPECT_TRUE(note.at("correlator").is_null());
  ASSERT_EQ(d.at("attributes").as_array().size(), 5u);

  auto const& name = attr(d, "name");
  EXPECT_EQ(name.at("kind"), "Property");
  EXPECT_EQ(name.at("value"), "Free Greek language course");

  auto const& start = attr(d, "startDate");
  EXPECT_EQ(start.at("value"), "2026-07-03T17:00:00Z");  // typed @value unwrapped
  EXPECT_EQ(start.at("valueType"), "DateTime");

  auto const& seats = attr(d, "seats");
  EXPECT_EQ(seats.at("value"), 12);
  EXPECT_EQ(seats.at("observedAt"), "2026-06-24T09:59:58.000Z");
  EXPECT_EQ(seats.at("unitCode"), "C62");
  EXPECT_EQ(seats.at("metadata"), json::object{});

  auto const& org = attr(d, "organizer");
  EXPECT_EQ(org.at("kind"), "Relationship");
  EXPECT_EQ(org.at("type"), "Relationship");
  EXPECT_EQ(org.at("object"), "urn:ngsi-ld:Organization:ngo-42");
  EXPECT_FALSE(org.contains("value"));

  auto const& loc = attr(d, "location");
  EXPECT_EQ(loc.at("kind"), "GeoProperty");
  EXPECT_EQ(loc.at("value").at("coordinates"), (json::array{33.3823, 35.1856}));
}

TEST_F(ContextNormalise, LdJsonLdWithContextInBody) {
  auto n = ok("ld-ldjson-context.http", "ld");
  ASSERT_EQ(n.entities.size(), 1u);
  EXPECT_EQ(n.tenant, "");
  auto const& d = data_of(n.entities[0]);
  EXPECT_EQ(d.at("id"), "urn:ngsi-ld:Event:calendar-2026-07-04-music");
  EXPECT_EQ(d.at("context"),
            (json::array{"https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}));
  EXPECT_EQ(d.at("notification").at("id"), "urn:ngsi-ld:Notification:5fd0fa684eb81930c97005f4");
  EXPECT_EQ(d.at("notification").at("notifiedAt"), "2026-06-24T10:00:01.000Z");
  EXPECT_EQ(attr(d, "name").at("value"), "Neighbourhood music evening");
  EXPECT_EQ(attr(d, "seats").at("value"), 40);
  EXPECT_EQ(d.at("attributes").as_array().size(), 2u);
}

TEST_F(ContextNormalise, CorrelatorSuffixIsParsedInAnySpacing) {
  EXPECT_EQ(parse_correlator("abc; cbnotif=7").base, "abc");
  EXPECT_EQ(parse_correlator("abc; cbnotif=7").cbnotif, 7);
  EXPECT_EQ(parse_correlator("abc;cbnotif=12").cbnotif, 12);
  EXPECT_EQ(parse_correlator("abc").cbnotif, -1);
  EXPECT_EQ(parse_correlator("abc; cbnotif=x").cbnotif, -1);
}

TEST_F(ContextNormalise, LinkHeaderContextIsFoundAmongOtherLinks) {
  bool bad = false;
  auto c = link_context(
      R"(<https://a.example/x>; rel="next", <https://c.example/ctx.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")",
      bad);
  EXPECT_FALSE(bad);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, "https://c.example/ctx.jsonld");
  EXPECT_FALSE(link_context("<https://a.example/x>; rel=next", bad));
  EXPECT_FALSE(bad);
  link_context("https://no-brackets", bad);
  EXPECT_TRUE(bad);
}

TEST_F(ContextNormalise, LdLinkHeaderContextIsCarried) {
  auto r = load_fixture("ld-normalized-link.http");
  r.headers.set("Link",
                R"(<https://ctx.example/migr.jsonld>; rel="http://www.w3.org/ns/json-ld#context")");
  std::string why;
  auto n = run(r, "ld", why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(data_of(n->entities[0]).at("context"),
            (json::array{"https://ctx.example/migr.jsonld"}));
}

TEST_F(ContextNormalise, HeaderNamesAreMatchedCaseInsensitively) {
  auto r = load_fixture("v2-normalized.http");
  request shouted = r;
  shouted.headers = {};
  for (auto const& [k, v] : r.headers) {
    std::string up = k;
    for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    shouted.headers.add(up, v);
  }
  std::string why;
  auto a = run(r, "orion", why);
  auto b = run(shouted, "orion", why);
  ASSERT_TRUE(a && b) << why;
  EXPECT_EQ(data_of(a->entities[0]), data_of(b->entities[0]));
  EXPECT_EQ(data_of(b->entities[0]).at("servicePath"), "/madrid");
  EXPECT_EQ(data_of(b->entities[0]).at("notification").at("cbnotif"), 1);
}

TEST_F(ContextNormalise, EventIdsAreStableAcrossRedeliveryAndDistinctPerEntity) {
  auto r = load_fixture("v2-normalized.http");
  std::string why;
  auto a = run(r, "orion", why);
  auto b = run(r, "orion", why);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->entities[0].event_id, b->entities[0].event_id);
  EXPECT_EQ(a->dedupe_key, b->dedupe_key);
  EXPECT_EQ(a->entities[0].event_id.size(), 36u);
  EXPECT_EQ(a->entities[0].event_id[14], '8');  // UUID version 8

  // Another notification (other cbnotif) gives other ids.
  auto r2 = r;
  r2.headers.set("Fiware-Correlator", "600119ce-eeaa-11e9-9e0c-080027a71049; cbnotif=2");
  auto c = run(r2, "orion", why);
  ASSERT_TRUE(c);
  EXPECT_NE(c->entities[0].event_id, a->entities[0].event_id);
  EXPECT_NE(c->dedupe_key, a->dedupe_key);

  // Two entities of one notification: two ids.
  auto r3 = r;
  r3.body = R"({"subscriptionId":"s","data":[{"id":"E1","type":"T"},{"id":"E1","type":"T"}]})";
  auto m = run(r3, "orion", why);
  ASSERT_TRUE(m) << why;
  ASSERT_EQ(m->entities.size(), 2u);
  EXPECT_NE(m->entities[0].event_id, m->entities[1].event_id);
}

// Dedupe keys of notifications that carry their own time (Orion's time-based UUID correlators,
// NGSI-LD notifiedAt) start with that time, so keys of notifications received together are
// neighbours in the store's B-tree; a redelivery still names the same key.
TEST_F(ContextNormalise, DedupeKeysStartWithTheNotificationsOwnTime) {
  auto hex64 = [](std::string_view s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  };
  std::string why;
  auto r = load_fixture("v2-normalized.http");  // 600119ce-eeaa-11e9-9e0c-080027a71049
  auto a = run(r, "orion", why);
  ASSERT_TRUE(a) << why;
  // time_hi (version digit dropped), time_mid, time_low: the UUID's 60-bit timestamp.
  ASSERT_TRUE(a->dedupe_key.starts_with("t1e9eeaa600119ce-")) << a->dedupe_key;
  EXPECT_TRUE(hex64(std::string_view(a->dedupe_key).substr(17))) << a->dedupe_key;
  EXPECT_EQ(run(r, "orion", why)->dedupe_key, a->dedupe_key) << "a redelivery, the same key";

  // Ordered by the timestamp, not by the correlator's text: a later time_mid sorts after a
  // larger time_low.
  auto at = [&](std::string corr) {
    auto x = r;
    x.headers.set("Fiware-Correlator", corr + "; cbnotif=1");
    auto n = run(x, "orion", why);
    EXPECT_TRUE(n) << why;
    return n ? n->dedupe_key : std::string{};
  };
  auto early = at("ffffffff-eeaa-11e9-9e0c-080027a71049");
  auto later = at("00000000-eeab-11e9-9e0c-080027a71049");
  EXPECT_LT(a->dedupe_key, early);
  EXPECT_LT(early, later);
  EXPECT_TRUE(at("600119CE-EEAA-11E9-9E0C-080027A71049").starts_with("t1e9eeaa600119ce-"));

  // Correlators that are not time-based UUIDs: the hash alone.
  EXPECT_TRUE(hex64(at("bench-1-2-3")));
  EXPECT_TRUE(hex64(at("600119ce-eeaa-41e9-9e0c-080027a71049")));  // version 4
  auto none = r;
  none.headers = {};
  for (auto const& [name, value] : r.headers)
    if (name != "Fiware-Correlator") none.headers.add(name, value);
  ASSERT_FALSE(none.headers.contains("Fiware-Correlator"));
  auto n = run(none, "orion", why);
  ASSERT_TRUE(n) << why;
  EXPECT_TRUE(hex64(n->dedupe_key));

  // NGSI-LD: notifiedAt.
  auto ld = run(load_fixture("ld-normalized-link.http"), "ld", why);
  ASSERT_TRUE(ld) << why;
  EXPECT_TRUE(ld->dedupe_key.starts_with("n2026-06-24T10:00:00.000Z-")) << ld->dedupe_key;
  EXPECT_TRUE(hex64(std::string_view(ld->dedupe_key).substr(26)));
}

TEST_F(ContextNormalise, SimplifiedFormatsAreTheEntityItself) {
  auto r = load_fixture("v2-normalized.http");
  r.headers.set("Ngsiv2-AttrsFormat", "simplifiedNormalized");
  r.body =
      R"({"id":"urn:Case:18","type":"Case","status":{"type":"Text","value":"closed","metadata":{}}})";
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_TRUE(n) << why;
  ASSERT_EQ(n->entities.size(), 1u);
  EXPECT_EQ(data_of(n->entities[0]).at("format"), "simplifiedNormalized");
  EXPECT_EQ(data_of(n->entities[0]).at("attributes").at(0).at("value"), "closed");
  EXPECT_TRUE(data_of(n->entities[0]).at("notification").at("subscriptionId").is_null());

  r.headers.set("Ngsiv2-AttrsFormat", "simplifiedKeyValues");
  r.body = R"({"id":"urn:Case:18","type":"Case","status":"closed"})";
  n = run(r, "orion", why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(data_of(n->entities[0]).at("attributes").at(0).at("value"), "closed");
  EXPECT_TRUE(data_of(n->entities[0]).at("attributes").at(0).at("type").is_null());
}

TEST_F(ContextNormalise, V2RelationshipAttributeBecomesObject) {
  auto r = load_fixture("v2-normalized.http");
  r.body =
      R"({"data":[{"id":"urn:Case:1","type":"Case","refCentre":{"type":"Relationship","value":"urn:SupportCentre:1","metadata":{"unitCode":{"type":"Text","value":"C62"}}}}]})";
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_TRUE(n) << why;
  json::object const a = data_of(n->entities[0]).at("attributes").at(0).as_object();
  EXPECT_EQ(a.at("kind"), "Relationship");
  EXPECT_EQ(a.at("object"), "urn:SupportCentre:1");
  EXPECT_EQ(a.at("unitCode"), "C62");
}

TEST_F(ContextNormalise, V2SeveralServicePathsAreOnePerEntity) {
  auto r = load_fixture("v2-normalized.http");
  r.headers.set("Fiware-ServicePath", "/madrid, /nicosia");
  r.body = R"({"data":[{"id":"A","type":"T"},{"id":"B","type":"T"}]})";
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(data_of(n->entities[0]).at("servicePath"), "/madrid");
  EXPECT_EQ(data_of(n->entities[1]).at("servicePath"), "/nicosia");
  r.headers.set("Fiware-ServicePath", "/a,/b,/c");
  EXPECT_FALSE(run(r, "orion", why));
  EXPECT_NE(why.find("3 paths for 2 entities"), std::string::npos);
}

TEST_F(ContextNormalise, LdMultiAttributeDatasetIdsAndConcise) {
  auto r = load_fixture("ld-normalized-link.http");
  r.body =
      R"({"id":"urn:n:1","type":"Notification","data":[{"id":"urn:E:1","type":["Event","Course"],
    "seats":[{"type":"Property","value":12,"datasetId":"urn:ds:a"},{"type":"Property","value":13,"datasetId":"urn:ds:b","accuracy":{"type":"Property","value":1}}],
    "title":{"type":"LanguageProperty","languageMap":{"en":"Course","el":"Μάθημα"}}}]})";
  std::string why;
  auto n = run(r, "ld", why);
  ASSERT_TRUE(n) << why;
  auto const& d = data_of(n->entities[0]);
  EXPECT_EQ(d.at("type"), "Event");
  EXPECT_EQ(d.at("types"), (json::array{"Event", "Course"}));
  auto const& attrs = d.at("attributes").as_array();
  ASSERT_EQ(attrs.size(), 3u);
  EXPECT_EQ(attrs[0].at("datasetId"), "urn:ds:a");
  EXPECT_EQ(attrs[1].at("datasetId"), "urn:ds:b");
  EXPECT_EQ(attrs[1].at("value"), 13);
  EXPECT_EQ(attrs[1].at("metadata").at("accuracy").at("value"), 1);
  EXPECT_EQ(attrs[2].at("kind"), "LanguageProperty");
  EXPECT_EQ(attrs[2].at("languageMap").at("en"), "Course");

  r.headers.set("Ngsild-Attribute-Format", "Concise");
  r.body = R"({"id":"urn:n:2","type":"Notification","data":[{"id":"urn:E:1","type":"Event",
    "seats":12,"organizer":{"object":"urn:O:1"},"location":{"type":"Point","coordinates":[1,2]},
    "name":{"value":"x","observedAt":"2026-01-01T00:00:00Z"}}]})";
  n = run(r, "ld", why);
  ASSERT_TRUE(n) << why;
  json::array const c = data_of(n->entities[0]).at("attributes").as_array();
  EXPECT_EQ(data_of(n->entities[0]).at("format"), "concise");
  EXPECT_EQ(c[0].at("kind"), "Property");
  EXPECT_EQ(c[0].at("value"), 12);
  EXPECT_EQ(c[1].at("kind"), "Relationship");
  EXPECT_EQ(c[1].at("object"), "urn:O:1");
  EXPECT_EQ(c[2].at("kind"), "GeoProperty");
  EXPECT_EQ(c[3].at("observedAt"), "2026-01-01T00:00:00Z");
}

// ---- refusals -------------------------------------------------------------------------------

struct bad_case {
  char const* name;
  char const* broker;
  char const* content_type;  // nullptr = remove the header
  char const* body;
  errc expected;
};

TEST_F(ContextNormalise, BadInputIsRefusedWithTheRightReason) {
  bad_case const cases[] = {
      {"malformed JSON", "orion", "application/json", R"({"data":[)", errc::malformed_json},
      {"wrong content type", "orion", "text/plain", R"({"data":[]})", errc::unsupported_media_type},
      {"no content type", "orion", nullptr, R"({"data":[]})", errc::unsupported_media_type},
      {"ld+json to a v2 broker", "orion", "application/ld+json", R"({"data":[]})",
       errc::unsupported_media_type},
      {"missing data", "orion", "application/json", R"({"subscriptionId":"x"})",
       errc::invalid_notification},
      {"data not an array", "orion", "application/json", R"({"data":{}})",
       errc::invalid_notification},
      {"empty data", "orion", "application/json", R"({"data":[]})", errc::invalid_notification},
      {"body not an object", "orion", "application/json", R"([1,2])", errc::invalid_notification},
      {"entity without id", "orion", "application/json", R"({"data":[{"type":"Case"}]})",
       errc::invalid_entity},
      {"entity with empty id", "orion", "application/json", R"({"data":[{"id":"","type":"Case"}]})",
       errc::invalid_entity},
      {"entity id not a string", "orion", "application/json",
       R"({"data":[{"id":7,"type":"Case"}]})", errc::invalid_entity},
      {"entity not an object", "orion", "application/json", R"({"data":["x"]})",
       errc::invalid_entity},
      {"v2 attribute not an object", "orion", "application/json",
       R"({"data":[{"id":"a","type":"T","x":3}]})", errc::invalid_entity},
      {"v2 metadata not an object", "orion", "application/json",
       R"({"data":[{"id":"a","type":"T","x":{"value":1,"metadata":3}}]})", errc::invalid_entity},
      {"LD entity without type", "ld", "application/json", R"({"data":[{"id":"urn:a"}]})",
       errc::invalid_entity},
      {"LD unknown attribute type", "ld", "application/json",
       R"({"data":[{"id":"urn:a","type":"T","x":{"type":"Thing","value":1}}]})",
       errc::invalid_entity},
      {"LD relationship without object", "ld", "application/json",
       R"({"data":[{"id":"urn:a","type":"T","x":{"type":"Relationship","value":1}}]})",
       errc::invalid_entity},
      {"LD ld+json without @context", "ld", "application/ld+json",
       R"({"data":[{"id":"urn:a","type":"T"}]})", errc::invalid_notification},
      {"LD @context in a json body", "ld", "application/json",
       R"({"@context":"https://x","data":[{"id":"urn:a","type":"T"}]})",
       errc::invalid_notification},
      {"LD wrong notification type", "ld", "application/json",
       R"({"type":"Entity","data":[{"id":"urn:a","type":"T"}]})", errc::invalid_notification},
  };
  for (auto const& c : cases) {
    auto r = load_fixture(std::string(c.broker) == "ld" ? "ld-normalized-link.http"
                                                        : "v2-normalized.http");
    if (c.content_type)
      r.headers.set("Content-Type", c.content_type);
    else {
      header_list h;
      for (auto const& [k, v] : r.headers)
        if (!iequals(k, "Content-Type")) h.add(k, v);
      r.headers = h;
    }
    r.body = c.body;
    std::string why;
    auto n = run(r, c.broker, why);
    ASSERT_FALSE(n) << c.name;
    EXPECT_EQ(n.error(), make_error_code(c.expected)) << c.name << ": " << why;
    EXPECT_FALSE(why.empty()) << c.name;
  }
}

// Header text the events carry as it is (service path, correlator, the Link's @context) must be
// UTF-8 like the JSON around it: otherwise the notification is refused, not passed on as an
// event no JSON parser reads.
TEST_F(ContextNormalise, HeaderTextThatIsNotUtf8IsRefused) {
  struct header_case {
    char const* file;
    char const* broker;
    char const* header;
    std::string value;
  };
  header_case const cases[] = {
      {"v2-normalized.http", "orion", "Fiware-ServicePath", "/madrid\xff"},
      {"v2-normalized.http", "orion", "Fiware-Correlator", "600119ce-\xc3; cbnotif=2"},
      {"ld-normalized-link.http", "ld", "Link",
       "<https://ctx.example/\xed\xa0\x80.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\""},
  };
  for (auto const& c : cases) {
    auto r = load_fixture(c.file);
    r.headers.set(c.header, c.value);
    std::string why;
    auto n = run(r, c.broker, why);
    ASSERT_FALSE(n) << c.header;
    EXPECT_EQ(n.error(), make_error_code(errc::invalid_notification)) << c.header;
    EXPECT_NE(why.find("UTF-8"), std::string::npos) << why;
  }
  // The same headers in valid UTF-8 (Greek) are carried.
  auto r = load_fixture("v2-normalized.http");
  r.headers.set("Fiware-ServicePath", "/\xce\x91\xce\xb8\xce\xae\xce\xbd\xce\xb1");
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(data_of(n->entities[0]).at("servicePath"), "/Αθήνα");
}

TEST_F(ContextNormalise, OneBadEntityRefusesTheWholeNotification) {
  auto r = load_fixture("v2-normalized.http");
  r.body = R"({"data":[{"id":"ok1","type":"T"},{"id":"ok2","type":"T"},{"type":"T"}]})";
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), make_error_code(errc::invalid_entity));
  EXPECT_NE(why.find("entity [2] has no id"), std::string::npos) << why;
}

TEST_F(ContextNormalise, TooManyEntitiesAndTenantMismatchAreRefused) {
  auto r = load_fixture("v2-normalized.http");
  r.body = R"({"data":[{"id":"a","type":"T"},{"id":"b","type":"T"},{"id":"c","type":"T"}]})";
  std::string why;
  auto n = run(r, "orion", why, 2);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), make_error_code(errc::too_many_entities));

  auto t = load_fixture("v2-normalized.http");
  t.headers.set("Fiware-Service", "othertenant");
  n = run(t, "orion", why);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), make_error_code(errc::invalid_notification));
  t.headers.set("Fiware-Service", "MIGR");  // Orion lower-cases tenants; case does not matter
  EXPECT_TRUE(run(t, "orion", why)) << why;
  t.headers.set("Fiware-Service", "bad tenant/../x");
  EXPECT_FALSE(run(t, "orion", why));
}

TEST_F(ContextNormalise, UnsupportedAttrsFormatIsRefused) {
  auto r = load_fixture("v2-normalized.http");
  r.headers.set("Ngsiv2-AttrsFormat", "legacy");
  std::string why;
  auto n = run(r, "orion", why);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), make_error_code(errc::invalid_notification));
}

}  // namespace
}  // namespace bbgw::context::testing

// Fuzzes the context connector's notification normalisation (connectors/context/normalise.hpp):
// the body a context broker POSTs to the notify endpoint, for both flavours (NGSI-v2 and
// NGSI-LD) and each attribute format, plus the two header parsers it uses (Fiware-Correlator
// and Link), fed the same bytes.
//
// Invariants: a refusal says why and carries a context errc; an accepted notification has
// 1..max_entities entities, a 64-hex dedupe key, distinct UUID-shaped event ids, and entity data
// in the documented model (id/type/notification index and count; every attribute with a name,
// a kind from the list or null, an object `metadata`, and exactly one of value/object/
// languageMap); normalising the same input again gives the same keys, ids and data; the data
// still serialises after the notification was moved (its JSON arena is shared, not dangling),
// to text that parses as JSON.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "bbgw/header_list.hpp"
#include "context/context_errc.hpp"
#include "context/normalise.hpp"
#include "fuzz_check.hpp"

namespace {

namespace ctx = bbgw::context;
namespace json = boost::json;

constexpr std::size_t max_entities = 8;

struct scenario {
  ctx::flavour flavour;
  std::string subscription_format;
  std::vector<std::pair<std::string, std::string>> headers;
};

std::vector<scenario> const& scenarios() {
  using f = ctx::flavour;
  static std::vector<scenario> const s = {
      {f::ngsi_v2,
       "normalized",
       {{"Content-Type", "application/json; charset=utf-8"},
        {"Fiware-Correlator", "600119ce-2b2e-11ef-9a4e-0242ac120003; cbnotif=2"}}},
      {f::ngsi_v2,
       "normalized",
       {{"content-type", "application/json"},
        {"Ngsiv2-AttrsFormat", "keyValues"},
        {"Fiware-Service", "acme"},
        {"Fiware-Servicepath", "/a, /b"}}},
      {f::ngsi_v2, "simplifiedNormalized", {{"Content-Type", "application/json"}}},
      {f::ngsi_ld,
       "normalized",
       {{"Content-Type", "application/json"},
        {"Link",
         "<https://example.org/ctx.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"; "
         "type=\"application/ld+json\""}}},
      {f::ngsi_ld,
       "normalized",
       {{"Content-Type", "application/ld+json"},
        {"Ngsild-Attribute-Format", "concise"},
        {"NGSILD-Tenant", "acme"}}},
      {f::ngsi_ld, "keyValues", {{"Content-Type", "application/ld+json"}}},
  };
  return s;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f'); });
}

bool uuid_shape(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !is_hex(s.substr(i, 1))) return false;
  }
  return s[14] == '8';  // version 8
}

bool has_double(json::value const& v) {
  if (v.is_double()) return true;
  if (v.is_array())
    return std::any_of(v.get_array().begin(), v.get_array().end(),
                       [](json::value const& e) { return has_double(e); });
  if (v.is_object())
    return std::any_of(v.get_object().begin(), v.get_object().end(),
                       [](json::key_value_pair const& kv) { return has_double(kv.value()); });
  return false;
}

void check_attribute(json::value const& a) {
  FUZZ_CHECK(a.is_object());
  auto const& o = a.as_object();
  auto const* name = o.if_contains("name");
  FUZZ_CHECK(name && name->is_string());
  auto const* kind = o.if_contains("kind");
  FUZZ_CHECK(kind);
  static std::set<std::string_view> const kinds = {
      "Property",     "Relationship", "GeoProperty",      "LanguageProperty",
      "JsonProperty", "ListProperty", "ListRelationship", "VocabProperty"};
  FUZZ_CHECK(kind->is_null() || (kind->is_string() && kinds.contains(kind->as_string())));
  FUZZ_CHECK(o.contains("type"));
  auto const* md = o.if_contains("metadata");
  FUZZ_CHECK(md && md->is_object());
  int payloads = o.contains("value") + o.contains("object") + o.contains("languageMap");
  FUZZ_CHECK(payloads == 1);
}

void check_notification(ctx::notification const& n, ctx::flavour fl) {
  FUZZ_CHECK(!n.entities.empty() && n.entities.size() <= max_entities);
  // Hex SHA-256, after the notification's time when it carries one ("t…-" or "n…-").
  FUZZ_CHECK(n.dedupe_prefix_size < n.dedupe_key.size());
  std::string_view const hash = std::string_view(n.dedupe_key).substr(n.dedupe_prefix_size);
  FUZZ_CHECK(hash.size() == 64 && is_hex(hash));
  if (n.dedupe_prefix_size > 0) {
    std::string_view const prefix = std::string_view(n.dedupe_key).substr(0, n.dedupe_prefix_size);
    FUZZ_CHECK((prefix.front() == 't' || prefix.front() == 'n') && prefix.back() == '-');
  }
  std::set<std::string> ids;
  for (std::size_t i = 0; i < n.entities.size(); ++i) {
    auto const& e = n.entities[i];
    FUZZ_CHECK(!e.id.empty() && !e.type.empty());
    FUZZ_CHECK(uuid_shape(e.event_id));
    FUZZ_CHECK(ids.insert(e.event_id).second);
    json::error_code ec;
    json::value const dv = json::parse(e.data_json, ec);
    if (ec) std::fprintf(stderr, "entity data is not JSON: %s\n", e.data_json.c_str());
    FUZZ_CHECK(!ec && dv.is_object());
    // Exactly Boost.JSON's form of what it parsed: no duplicate member (the parser would merge
    // it silently), nothing reordered. Not with doubles: Boost 1.81 parses them back to the
    // nearest few ulps only, and may then print another digit string.
    if (!has_double(dv)) FUZZ_CHECK(json::serialize(dv) == e.data_json);
    auto const& d = dv.as_object();
    FUZZ_CHECK(d.at("id") == json::value(e.id));
    FUZZ_CHECK(d.at("type") == json::value(e.type));
    FUZZ_CHECK(d.at("tenant") == json::value(n.tenant));
    FUZZ_CHECK(d.at("flavour") == json::value(ctx::flavour_name(fl)));
    auto const& note = d.at("notification").as_object();
    FUZZ_CHECK(note.at("index") == json::value(i));
    FUZZ_CHECK(note.at("count") == json::value(n.entities.size()));
    if (fl == ctx::flavour::ngsi_v2)
      FUZZ_CHECK(d.at("context").is_null() && d.at("servicePath").is_string());
    else
      FUZZ_CHECK(d.at("context").is_array() && d.at("servicePath").is_null());
    auto const& attrs = d.at("attributes");
    FUZZ_CHECK(attrs.is_array());
    for (auto const& a : attrs.as_array()) check_attribute(a);
  }
}

void run(scenario const& sc, std::string_view body) {
  ctx::broker_config broker;
  broker.name = "orion";
  broker.flavour = sc.flavour;
  ctx::subscription_config sub;
  sub.name = "cases";
  sub.format = sc.subscription_format;
  bbgw::header_list headers;
  for (auto const& [k, v] : sc.headers) headers.add(k, v);

  std::string why;
  auto r = ctx::normalise({broker, sub, headers, body, max_entities}, why);
  if (!r) {
    FUZZ_CHECK(!why.empty());
    FUZZ_CHECK(r.error().category() == ctx::category());
    auto e = static_cast<ctx::errc>(r.error().value());
    FUZZ_CHECK(e == ctx::errc::malformed_json || e == ctx::errc::invalid_notification ||
               e == ctx::errc::invalid_entity || e == ctx::errc::too_many_entities ||
               e == ctx::errc::unsupported_media_type);
    FUZZ_CHECK(ctx::http_status(e) >= 400 && ctx::http_status(e) < 500);
    return;
  }
  // The entity data goes into the events as it is: check_notification parses it back.
  ctx::notification n = std::move(*r);
  check_notification(n, sc.flavour);

  // Deterministic: a redelivery gets the same dedupe key and event ids.
  std::string why2;
  auto again = ctx::normalise({broker, sub, headers, body, max_entities}, why2);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->dedupe_key == n.dedupe_key && again->tenant == n.tenant);
  FUZZ_CHECK(again->entities.size() == n.entities.size());
  for (std::size_t i = 0; i < n.entities.size(); ++i) {
    FUZZ_CHECK(again->entities[i].event_id == n.entities[i].event_id);
    FUZZ_CHECK(again->entities[i].data_json == n.entities[i].data_json);
  }
}

// The header parsers normalise uses, on the raw bytes as a header value.
void header_parsers(std::string_view v) {
  auto c = ctx::parse_correlator(v);
  FUZZ_CHECK(c.cbnotif >= -1);
  FUZZ_CHECK(v.find(c.base) != std::string_view::npos);
  bool malformed = true;
  auto lc = ctx::link_context(v, malformed);
  if (lc) {
    FUZZ_CHECK(!malformed && !lc->empty());
    FUZZ_CHECK(v.find("<" + *lc + ">") != std::string_view::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view body(reinterpret_cast<char const*>(data), size);
  for (auto const& sc : scenarios()) run(sc, body);
  header_parsers(body.substr(0, 1024));
  return 0;
}

#include "context/normalise.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <optional>

#include <boost/json.hpp>

#include "bbgw/json_checks.hpp"
#include "bbgw/utf8.hpp"

#include "context/json_text.hpp"
#include "context/sha256.hpp"

namespace bbgw::context {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, lower case ("application/json; charset=utf-8" -> ...).
std::string media_type(std::string_view ct) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  return lower(trim(ct));
}

bool is_tenant(std::string_view s) {
  return s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
         });
}

result<notification> fail(errc e, std::string& why, std::string text) {
  why = std::move(text);
  return make_error_code(e);
}

std::string where(std::size_t i, std::string_view attr = {}) {
  std::string s = "entity [" + std::to_string(i) + "]";
  if (!attr.empty()) s += " attribute '" + std::string(attr) + "'";
  return s;
}

// Fields every entity of the notification shares (JSON members in the parse's arena).
struct common {
  explicit common(json::storage_ptr const& sp) : service_path_all(sp) {}
  std::string_view broker, subscription, flavour, format;
  json::value service_path_all;            // v2: one service path for all entities, or null
  std::vector<std::string> service_paths;  // v2: one per entity when the header lists several
  std::string notification;                // JSON: the members of every entity's "notification"
  std::string context = "null";            // JSON: LD @context (an array), else null
};

// What every entity's "notification" object says of the notification (each entity adds its
// index and the count), as JSON members.
struct note_fields {
  json::value const* id = nullptr;  // the values, strings, are in the parsed body
  json::value const* subscription_id = nullptr;
  std::optional<std::string_view> correlator;
  std::optional<long long> cbnotif;
  json::value const* notified_at = nullptr;
};

std::string notification_members(note_fields const& f) {
  std::string out;
  json_text w(out);
  auto member = [&w](std::string_view k, json::value const* v) {
    w.key(k);
    if (v)
      w.value(*v);
    else
      w.null();
  };
  member("id", f.id);
  member("subscriptionId", f.subscription_id);
  w.key("correlator");
  if (f.correlator)
    w.string(*f.correlator);
  else
    w.null();
  w.key("cbnotif");
  if (f.cbnotif)
    w.number(static_cast<std::uint64_t>(*f.cbnotif));  // >= 0 (parse_correlator)
  else
    w.null();
  member("notifiedAt", f.notified_at);
  return out;
}

// Opens an attribute with the members every kind starts with, up to the key "type" (its value
// is the caller's).
void begin_attribute(json_text& w, std::string_view name, std::string_view kind) {
  w.begin_object();
  w.key("name");
  w.string(name);
  w.key("kind");
  w.string(kind);
  w.key("type");
}

// v2 "normalized" attribute: {"type": .., "value": .., "metadata": {..}}.
bool v2_attribute(std::string_view name, json::value const& v, json_text& w, std::string& why,
                  std::size_t i) {
  if (!v.is_object()) {
    why = where(i, name) + " is not an object (normalized format)";
    return false;
  }
  auto const& a = v.as_object();
  json::string const* type = nullptr;
  if (auto const* t = a.if_contains("type")) {
    if (!t->is_string()) {
      why = where(i, name) + " has a non-string type";
      return false;
    }
    type = &t->as_string();
  }
  json::value const* metadata = nullptr;  // an object
  if (auto const* m = a.if_contains("metadata")) {
    if (!m->is_object()) {
      why = where(i, name) + " has metadata that is not an object";
      return false;
    }
    metadata = m;
  }
  std::string_view const ts = type ? std::string_view(*type) : std::string_view{};
  std::string_view const kind = ts.starts_with("geo:") ? "GeoProperty"
                                : ts == "Relationship" ? "Relationship"
                                                       : "Property";
  begin_attribute(w, name, kind);
  if (type)
    w.string(*type);
  else
    w.null();
  w.key(kind == "Relationship" ? "object" : "value");
  if (auto const* val = a.if_contains("value"))
    w.value(*val);
  else
    w.null();
  // Lift the metadata NGSI-LD has as first-class fields, so both flavours read alike.
  for (std::string_view k : {"observedAt", "unitCode"}) {
    if (auto const* md = metadata ? metadata->as_object().if_contains(k) : nullptr;
        md && md->is_object())
      if (auto const* mv = md->as_object().if_contains("value"); mv && mv->is_string()) {
        w.key(k);
        w.string(mv->as_string());
      }
  }
  w.key("metadata");
  if (metadata)
    w.value(*metadata);
  else
    w.raw("{}");
  w.end_object();
  return true;
}

constexpr std::string_view ld_main_key(std::string_view type) {
  if (type == "Property" || type == "GeoProperty") return "value";
  if (type == "Relationship") return "object";
  if (type == "LanguageProperty") return "languageMap";
  if (type == "JsonProperty") return "json";
  if (type == "ListProperty") return "valueList";
  if (type == "ListRelationship") return "objectList";
  if (type == "VocabProperty") return "vocab";
  return {};
}

bool is_geojson(json::object const& o) {
  auto* t = o.if_contains("type");
  if (!t || !t->is_string()) return false;
  std::string_view s = t->as_string();
  return (o.contains("coordinates") || o.contains("geometries")) &&
         (s == "Point" || s == "LineString" || s == "Polygon" || s == "MultiPoint" ||
          s == "MultiLineString" || s == "MultiPolygon" || s == "GeometryCollection");
}

// An attribute that is only a value: a Property, or a GeoProperty (concise NGSI-LD).
void bare_attribute(std::string_view name, std::string_view kind, json::value const& v,
                    json_text& w) {
  begin_attribute(w, name, kind);
  w.string(kind);
  w.key("value");
  w.value(v);
  w.key("metadata");
  w.raw("{}");
  w.end_object();
}

bool ld_top_level(std::string_view k) {
  return k == "observedAt" || k == "unitCode" || k == "datasetId";
}

// One NGSI-LD attribute instance (normalized or concise; keyValues is handled by the caller).
bool ld_instance(std::string_view name, json::value const& v, bool concise, json_text& w,
                 std::string& why, std::size_t i) {
  if (!v.is_object() || (concise && is_geojson(v.as_object()))) {
    if (!concise) {
      why = where(i, name) + " is not an object (normalized format)";
      return false;
    }
    // Concise: a bare value is a Property, a bare GeoJSON geometry a GeoProperty.
    bare_attribute(name, v.is_object() ? "GeoProperty" : "Property", v, w);
    return true;
  }
  auto const& a = v.as_object();
  std::string_view type;
  if (auto const* t = a.if_contains("type")) {
    if (!t->is_string() || ld_main_key(t->as_string()).empty()) {
      why = where(i, name) + " has an unknown NGSI-LD attribute type";
      return false;
    }
    type = t->as_string();
  } else if (concise) {
    // Concise drops "type": the member that is present says which it is.
    for (std::string_view t : {"Relationship", "LanguageProperty", "JsonProperty", "ListProperty",
                               "ListRelationship", "VocabProperty", "Property"}) {
      if (a.contains(ld_main_key(t))) {
        type = t;
        break;
      }
    }
    if (type.empty()) {
      // An object without any NGSI-LD member is a Property whose value is that object.
      bare_attribute(name, "Property", v, w);
      return true;
    }
    if (type == "Property" && a.at("value").is_object() && is_geojson(a.at("value").as_object()))
      type = "GeoProperty";
  } else {
    why = where(i, name) + " has no type (normalized format)";
    return false;
  }
  std::string_view const main = ld_main_key(type);
  auto const* payload = a.if_contains(main);
  if (!payload) {
    why = where(i, name) + " is a " + std::string(type) + " without '" + std::string(main) + "'";
    return false;
  }
  for (auto const& kv : a)
    if (ld_top_level(kv.key()) && !kv.value().is_string()) {
      why = where(i, name) + " has a non-string " + std::string(kv.key());
      return false;
    }
  begin_attribute(w, name, type);
  w.string(type);
  std::string_view const out_key = (type == "Relationship" || type == "ListRelationship") ? "object"
                                   : type == "LanguageProperty" ? "languageMap"
                                                                : "value";
  // A typed JSON-LD literal {"@type": "DateTime", "@value": "..."} becomes value + valueType.
  json::value const* value = payload;
  if (payload->is_object())
    if (auto const* lit = payload->as_object().if_contains("@value")) {
      if (auto const* lt = payload->as_object().if_contains("@type"); lt && lt->is_string()) {
        w.key("valueType");
        w.string(lt->as_string());
      }
      value = lit;
    }
  w.key(out_key);
  w.value(*value);
  for (auto const& kv : a)
    if (ld_top_level(kv.key())) {
      w.key(kv.key());
      w.string(kv.value().as_string());
    }
  // The rest: sub-properties, createdAt, modifiedAt, ...
  w.key("metadata");
  w.begin_object();
  for (auto const& kv : a) {
    std::string_view const k = kv.key();
    if (k == "type" || k == main || ld_top_level(k)) continue;
    w.key(k);
    w.value(kv.value());
  }
  w.end_object();
  w.end_object();
  return true;
}

// A fast 128-bit fingerprint of the body (two multiply-rotate lanes, murmur3 finaliser). It only
// separates notifications that share a correlator or id, so it need not resist an adversary
// (the broker is authenticated); SHA-256 over the whole body cost a quarter of normalisation.
std::string body_fingerprint(std::string_view s) {
  auto fmix = [](std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    return k ^ (k >> 33);
  };
  auto rotl = [](std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); };
  std::uint64_t h1 = 0x9e3779b97f4a7c15ULL ^ s.size(), h2 = 0xc2b2ae3d27d4eb4fULL + s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h1 = rotl((h1 ^ w) * 0x87c37b91114253d5ULL, 31);
    h2 = rotl((h2 ^ w) * 0x4cf5ad432745937fULL, 29);
  }
  std::uint64_t tail = 0;
  for (std::size_t j = 0; i + j < s.size(); ++j)
    tail |= std::uint64_t(static_cast<unsigned char>(s[i + j])) << (8 * j);
  h1 = fmix(h1 ^ tail ^ h2);
  h2 = fmix(h2 + tail + h1);
  std::string out(16, '\0');
  std::memcpy(out.data(), &h1, 8);
  std::memcpy(out.data() + 8, &h2, 8);
  return out;
}

// The notification's own time, when it carries one: the 60-bit timestamp of a time-based
// (version 1) UUID correlator, which Orion generates, or NGSI-LD notifiedAt. Both come from bytes
// the dedupe hash covers, so a redelivery has the same. (Event ids do not use it: they stay the
// hash, as in earlier versions: the outbox is not indexed by event id.)
struct note_time {
  // Where the dedupe record goes in the store's ordered key space: notifications received
  // together get neighbouring keys, so a group commit of many of them writes a few B-tree pages
  // instead of one random page each (a hash alone puts every record at a random place).
  // "t<15 hex digits>-" or "n<notifiedAt>-"; empty when the notification has no time.
  std::string key_prefix;
};

note_time notification_time(std::string_view correlator_base, std::string_view notified_at) {
  auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  auto const& u = correlator_base;
  bool uuid1 =
      u.size() == 36 && u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-' && u[14] == '1';
  for (std::size_t i = 0; uuid1 && i < u.size(); ++i)
    if (i != 8 && i != 13 && i != 18 && i != 23) uuid1 = hex(u[i]);
  note_time t;
  if (uuid1) {
    // time_hi (without the version digit), time_mid, time_low: most significant first.
    std::string digits;
    digits.append(u.substr(15, 3)).append(u.substr(9, 4)).append(u.substr(0, 8));
    for (auto& c : digits) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    t.key_prefix = "t" + digits + "-";
  } else if (!notified_at.empty() && notified_at.size() <= 40 &&
             std::all_of(notified_at.begin(), notified_at.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '.' ||
                      c == '-' || c == '+';
             })) {
    t.key_prefix = "n" + std::string(notified_at) + "-";
  }
  return t;
}

}  // namespace

correlator parse_correlator(std::string_view header) {
  correlator c;
  auto semi = header.find(';');
  c.base = std::string(trim(header.substr(0, semi)));
  while (semi != std::string_view::npos) {
    header = header.substr(semi + 1);
    semi = header.find(';');
    auto param = trim(header.substr(0, semi));
    auto eq = param.find('=');
    if (eq == std::string_view::npos || lower(trim(param.substr(0, eq))) != "cbnotif") continue;
    auto num = trim(param.substr(eq + 1));
    long long n = 0;
    bool ok = !num.empty() && num.size() <= 18;
    // At most 18 digits and nothing else: n cannot overflow long long.
    for (std::size_t k = 0; ok && k < num.size(); ++k) {
      ok = num[k] >= '0' && num[k] <= '9';
      if (ok) n = n * 10 + (num[k] - '0');
    }
    if (ok) c.cbnotif = n;
  }
  return c;
}

std::optional<std::string> link_context(std::string_view link, bool& malformed) {
  malformed = false;
  // Link: <uri>; rel="..."; type="...", <uri2>; rel=...
  while (!trim(link).empty()) {
    link = trim(link);
    if (link.front() != '<') {
      malformed = true;
      return std::nullopt;
    }
    auto close = link.find('>');
    if (close == std::string_view::npos) {
      malformed = true;
      return std::nullopt;
    }
    std::string uri(link.substr(1, close - 1));
    link = link.substr(close + 1);
    // Parameters run to the next ',' that is outside quotes.
    std::size_t end = 0;
    bool quoted = false;
    for (; end < link.size(); ++end) {
      if (link[end] == '"') quoted = !quoted;
      if (link[end] == ',' && !quoted) break;
    }
    std::string_view params = link.substr(0, end);
    link = end < link.size() ? link.substr(end + 1) : std::string_view{};
    bool is_context = false;
    while (!params.empty()) {
      auto semi = params.find(';');
      auto p = trim(params.substr(0, semi));
      params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
      auto eq = p.find('=');
      if (eq == std::string_view::npos) continue;
      auto value = trim(p.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (lower(trim(p.substr(0, eq))) == "rel" && value == "http://www.w3.org/ns/json-ld#context")
        is_context = true;
    }
    if (uri.empty()) {
      malformed = true;
      return std::nullopt;
    }
    if (is_context) return uri;
  }
  return std::nullopt;
}

std::string uuid_from_digest(std::array<std::uint8_t, 32> const& d) {
  static constexpr char hex[] = "0123456789abcdef";
  std::array<std::uint8_t, 16> b;
  std::copy_n(d.begin(), 16, b.begin());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x80);  // version 8 (RFC 9562)
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // variant 10
  std::string s;
  s.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

result<notification> normalise(notification_input const& in, std::string& why) {
  bool const v2 = in.broker.flavour == flavour::ngsi_v2;
  notification out;

  // Content type first: a body in another media type is not read at all.
  auto ct = in.headers.get("Content-Type");
  std::string mt = ct ? media_type(*ct) : std::string{};
  bool ld_json = mt == "application/ld+json";
  if (mt != "application/json" && !(ld_json && !v2))
    return fail(errc::unsupported_media_type, why,
                "Content-Type must be application/json" +
                    std::string(v2 ? "" : " or application/ld+json") +
                    (ct ? ", got '" + std::string(*ct) + "'" : ", got none"));

  // One arena for the parse (and the few values made from it), first in the caller's scratch
  // block, released in one go when this returns: the entities' data is written out as text.
  std::optional<json::monotonic_resource> arena;
  if (in.scratch.empty())
    arena.emplace();
  else
    arena.emplace(in.scratch.data(), in.scratch.size());
  json::storage_ptr sp(&*arena);
  json::error_code ec;
  json::value body = json::parse(in.body, ec, sp);
  if (ec) return fail(errc::malformed_json, why, "the body is not JSON: " + ec.message());
  if (!all_numbers_finite(body))
    return fail(errc::malformed_json, why, "the body has a number beyond the range of a double");

  common c(sp);
  c.broker = in.broker.name;
  c.subscription = in.subscription.name;
  c.flavour = flavour_name(in.broker.flavour);

  // Tenant: the header the broker sends, which must agree with the configured tenant.
  auto tenant_header = in.headers.get(v2 ? "Fiware-Service" : "NGSILD-Tenant");
  out.tenant = tenant_header ? std::string(trim(*tenant_header)) : in.broker.tenant;
  if (!is_tenant(out.tenant))
    return fail(errc::invalid_notification, why, "the tenant header is not a valid tenant name");
  if (!in.broker.tenant.empty() && lower(out.tenant) != lower(in.broker.tenant))
    return fail(errc::invalid_notification, why,
                "the notification's tenant is not the subscription's tenant");

  std::string format;
  json::array* data = nullptr;
  json::array single(sp);  // simplified v2 formats: the body is the entity itself
  std::string notification_key;
  std::string correlator_text;
  note_time when;  // the notification's own time, if it has one

  if (v2) {
    auto f = in.headers.get("Ngsiv2-AttrsFormat");
    format = f ? std::string(trim(*f)) : in.subscription.format;
    if (format != "normalized" && format != "keyValues" && format != "simplifiedNormalized" &&
        format != "simplifiedKeyValues")
      return fail(errc::invalid_notification, why,
                  "unsupported Ngsiv2-AttrsFormat '" + format + "'");
    if (!body.is_object())
      return fail(errc::invalid_notification, why, "the body is not a JSON object");
    json::value const* sub_id = nullptr;  // in the body
    if (format.starts_with("simplified")) {
      single.emplace_back(std::move(body));
      data = &single;
    } else {
      auto& o = body.as_object();
      auto* d = o.if_contains("data");
      if (!d || !d->is_array())
        return fail(errc::invalid_notification, why, "missing 'data' array");
      data = &d->as_array();
      if (auto* s = o.if_contains("subscriptionId")) {
        if (!s->is_string())
          return fail(errc::invalid_notification, why, "subscriptionId is not a string");
        sub_id = s;
      }
    }
    auto corr = in.headers.get("Fiware-Correlator");
    // Header text that goes into the events as it is must be UTF-8, as the JSON around it.
    if (corr && !valid_utf8(*corr))
      return fail(errc::invalid_notification, why, "Fiware-Correlator is not valid UTF-8");
    correlator pc;  // no base, cbnotif -1 without the header
    if (corr) {
      pc = parse_correlator(*corr);
      correlator_text = pc.base + ";cbnotif=" + std::to_string(pc.cbnotif);
      notification_key = correlator_text;
      when = notification_time(pc.base, {});
    }
    c.notification = notification_members(
        {.subscription_id = sub_id,
         .correlator = pc.base.empty() ? std::nullopt : std::optional<std::string_view>(pc.base),
         .cbnotif = pc.cbnotif >= 0 ? std::optional<long long>(pc.cbnotif) : std::nullopt});
    // Orion sends the entities' service paths, comma-separated when there are several.
    auto sp = in.headers.get("Fiware-ServicePath");
    std::string all = sp ? std::string(trim(*sp))
                         : (in.broker.service_path.empty() ? "/" : in.broker.service_path);
    if (!valid_utf8(all))
      return fail(errc::invalid_notification, why, "Fiware-ServicePath is not valid UTF-8");
    if (all.find(',') == std::string::npos) {
      c.service_path_all = all;
    } else {
      std::string_view rest = all;
      while (true) {
        auto comma = rest.find(',');
        c.service_paths.emplace_back(trim(rest.substr(0, comma)));
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
    }
  } else {
    if (!body.is_object())
      return fail(errc::invalid_notification, why, "the body is not a JSON object");
    auto& o = body.as_object();
    auto f = in.headers.get("Ngsild-Attribute-Format");
    if (f) {
      auto lf = lower(trim(*f));
      format = lf == "normalized"                        ? "normalized"
               : lf == "concise"                         ? "concise"
               : lf == "keyvalues" || lf == "simplified" ? "keyValues"
                                                         : "";
      if (format.empty())
        return fail(errc::invalid_notification, why, "unsupported Ngsild-Attribute-Format");
    } else {
      format = in.subscription.format;
    }
    if (auto* t = o.if_contains("type"); t && !(t->is_string() && t->as_string() == "Notification"))
      return fail(errc::invalid_notification, why, "type is not \"Notification\"");
    auto* d = o.if_contains("data");
    if (!d || !d->is_array()) return fail(errc::invalid_notification, why, "missing 'data' array");
    data = &d->as_array();
    // @context: in the body for application/ld+json, in a Link header for application/json.
    auto* body_ctx = o.if_contains("@context");
    if (ld_json) {
      if (!body_ctx || !(body_ctx->is_string() || body_ctx->is_array() || body_ctx->is_object()))
        return fail(errc::invalid_notification, why,
                    "application/ld+json without @context in the body");
      c.context.clear();
      json_text w(c.context);
      if (body_ctx->is_array()) {
        w.value(*body_ctx);
      } else {
        w.begin_array();
        w.value(*body_ctx);
        w.end_array();
      }
    } else {
      if (body_ctx)
        return fail(errc::invalid_notification, why,
                    "@context in an application/json body (send it in a Link header)");
      bool malformed = false;
      std::optional<std::string> lc;
      if (auto link = in.headers.get("Link")) lc = link_context(*link, malformed);
      if (malformed) return fail(errc::invalid_notification, why, "the Link header is malformed");
      if (lc && !valid_utf8(*lc))
        return fail(errc::invalid_notification, why,
                    "the Link header's @context is not valid UTF-8");
      c.context.clear();
      json_text w(c.context);
      w.begin_array();
      w.string(
          lc ? std::string_view(*lc)
             : std::string_view("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"));
      w.end_array();
    }
    json::value const *id = nullptr, *sub_id = nullptr, *at = nullptr;  // strings in the body
    for (auto [k, dst] : {std::pair{"id", &id}, {"subscriptionId", &sub_id}, {"notifiedAt", &at}}) {
      if (auto const* v = o.if_contains(k)) {
        if (!v->is_string())
          return fail(errc::invalid_notification, why, std::string(k) + " is not a string");
        *dst = v;
      }
    }
    if (id) notification_key = id->as_string();
    if (at) when = notification_time({}, at->as_string());
    c.notification = notification_members({.id = id, .subscription_id = sub_id, .notified_at = at});
  }
  c.format = format;

  std::size_t const n = data->size();
  if (n == 0) return fail(errc::invalid_notification, why, "'data' is empty");
  if (n > in.max_entities)
    return fail(
        errc::too_many_entities, why,
        std::to_string(n) + " entities exceed the limit of " + std::to_string(in.max_entities));
  if (!c.service_paths.empty() && c.service_paths.size() != n)
    return fail(errc::invalid_notification, why,
                "Fiware-ServicePath lists " + std::to_string(c.service_paths.size()) +
                    " paths for " + std::to_string(n) + " entities");

  // The notification's identity: who sent it, its id or correlator, and the exact bytes, so a
  // redelivery names the same record and event ids while a reused correlator does not collide.
  sha256 h;
  update_field(h, "bbgw-context-notification-v1");
  update_field(h, in.broker.name);
  update_field(h, in.subscription.name);
  update_field(h, notification_key);
  update_field(h, body_fingerprint(in.body));
  auto note_digest = h.finish();
  out.dedupe_key = when.key_prefix + to_hex(note_digest);
  out.dedupe_prefix_size = when.key_prefix.size();
  std::string_view note_bytes(reinterpret_cast<char const*>(note_digest.data()),
                              note_digest.size());

  bool const key_values = format == "keyValues" || format == "simplifiedKeyValues";
  bool const concise = format == "concise";
  out.entities.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& ev = (*data)[i];
    if (!ev.is_object()) return fail(errc::invalid_entity, why, where(i) + " is not an object");
    auto& e = ev.as_object();
    auto* id = e.if_contains("id");
    if (!id || !id->is_string() || id->as_string().empty())
      return fail(errc::invalid_entity, why, where(i) + " has no id");
    entity_update u;
    u.id = id->as_string();
    json::value const* types = nullptr;  // NGSI-LD: all of them, when there are several
    auto* t = e.if_contains("type");
    if (!t) {
      if (!v2) return fail(errc::invalid_entity, why, where(i) + " has no type");
      u.type = "Thing";  // the NGSI-v2 default entity type
    } else if (t->is_string() && !t->as_string().empty()) {
      u.type = t->as_string();
    } else if (!v2 && t->is_array() && !t->as_array().empty() &&
               std::all_of(t->as_array().begin(), t->as_array().end(), [](json::value const& x) {
                 return x.is_string() && !x.as_string().empty();
               })) {
      u.type = t->as_array().front().as_string();
      types = t;
    } else {
      return fail(errc::invalid_entity, why, where(i) + " has an invalid type");
    }

    std::string data;
    data.reserve(in.body.size() / n + 512);
    json_text w(data);
    w.begin_object();
    w.key("id");
    w.string(u.id);
    w.key("type");
    w.string(u.type);
    if (types) {
      w.key("types");
      w.value(*types);
    }
    w.key("tenant");
    w.string(out.tenant);
    w.key("servicePath");
    if (!v2)
      w.null();
    else if (c.service_paths.empty())
      w.value(c.service_path_all);
    else
      w.string(c.service_paths[i]);
    w.key("broker");
    w.string(c.broker);
    w.key("flavour");
    w.string(c.flavour);
    w.key("subscription");
    w.string(c.subscription);
    w.key("format");
    w.string(c.format);
    w.key("notification");
    w.begin_object();
    w.raw(c.notification);
    w.key("index");
    w.number(i);
    w.key("count");
    w.number(n);
    w.end_object();
    w.key("context");
    w.raw(c.context);

    // NGSI-LD's system attributes, before the attributes (they are not attributes).
    auto is_system = [v2](std::string_view k) {
      return !v2 && (k == "scope" || k == "createdAt" || k == "modifiedAt" || k == "deletedAt");
    };
    bool has_system = false;
    for (auto const& kv : e) has_system |= is_system(kv.key());
    if (has_system) {
      w.key("system");
      w.begin_object();
      for (auto const& kv : e)
        if (is_system(kv.key())) {
          w.key(kv.key());
          w.value(kv.value());
        }
      w.end_object();
    }

    w.key("attributes");
    w.begin_array();
    for (auto const& kv : e) {
      std::string_view k = kv.key();
      if (k == "id" || k == "type" || is_system(k)) continue;
      if (!v2 && (k == "@context")) continue;
      if (key_values) {
        w.begin_object();
        w.key("name");
        w.string(k);
        w.key("kind");
        w.null();
        w.key("type");
        w.null();
        w.key("value");
        w.value(kv.value());
        w.key("metadata");
        w.raw("{}");
        w.end_object();
        continue;
      }
      if (v2) {
        if (!v2_attribute(k, kv.value(), w, why, i)) return make_error_code(errc::invalid_entity);
        continue;
      }
      // NGSI-LD: an array of instances is a multi-attribute (one instance per datasetId).
      if (kv.value().is_array() && !concise) {
        auto const& arr = kv.value().as_array();
        if (arr.empty()) return fail(errc::invalid_entity, why, where(i, k) + " is an empty array");
        for (auto const& inst : arr)
          if (!ld_instance(k, inst, false, w, why, i)) return make_error_code(errc::invalid_entity);
      } else if (kv.value().is_array() && concise &&
                 std::all_of(kv.value().as_array().begin(), kv.value().as_array().end(),
                             [](json::value const& x) {
                               return x.is_object() && x.as_object().contains("datasetId");
                             }) &&
                 !kv.value().as_array().empty()) {
        for (auto const& inst : kv.value().as_array())
          if (!ld_instance(k, inst, true, w, why, i)) return make_error_code(errc::invalid_entity);
      } else {
        if (!ld_instance(k, kv.value(), concise, w, why, i))
          return make_error_code(errc::invalid_entity);
      }
    }
    w.end_array();
    w.end_object();

    sha256& eh = h.restart();  // the notification's context again, for this entity's id
    update_field(eh, "bbgw-context-entity-v1");
    update_field(eh, note_bytes);
    update_field(eh, std::to_string(i));
    update_field(eh, u.id);
    out.entities.push_back(entity_update{.id = std::move(u.id),
                                         .type = std::move(u.type),
                                         .event_id = uuid_from_digest(eh.finish()),
                                         .data_json = std::move(data)});
  }
  return out;
}

}  // namespace bbgw::context

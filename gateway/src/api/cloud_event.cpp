#include "bbgw/cloud_event.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include <openssl/rand.h>
#include <boost/assert.hpp>
#include <boost/json.hpp>
#include <boost/json/serializer.hpp>

#include "bbgw/cloud_event_errc.hpp"
#include "bbgw/json_checks.hpp"

namespace bbgw {

namespace cloudevents {

namespace {

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.cloudevents"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_json:
        return "cloudevent: malformed JSON";
      case errc::not_an_object:
        return "cloudevent: not a JSON object";
      case errc::missing_attribute:
        return "cloudevent: missing required attribute";
      case errc::mistyped_attribute:
        return "cloudevent: attribute has the wrong type";
      case errc::unsupported_specversion:
        return "cloudevent: unsupported specversion";
      case errc::invalid_time:
        return "cloudevent: time is not RFC 3339";
      case errc::unsupported_data:
        return "cloudevent: unsupported data encoding";
    }
    return "cloudevent: unknown error";
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

}  // namespace cloudevents

namespace {

namespace json = boost::json;
using cloudevents::errc;

// "application/json", "text/json", "application/x+json", with or without parameters.
bool is_json_content_type(std::string_view ct) {
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  std::string lower(ct);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || lower == "text/json" ||
         (lower.size() > 5 && lower.ends_with("+json"));
}

// Reads an optional string attribute; a present attribute must be a non-empty string.
result<std::optional<std::string>> optional_string(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v || v->is_null()) return std::optional<std::string>{};
  if (!v->is_string() || v->as_string().empty()) return errc::mistyped_attribute;
  return std::optional<std::string>{std::string(v->as_string())};
}

result<std::string> required_string(json::object const& o, std::string_view key) {
  auto const* v = o.if_contains(key);
  if (!v) return errc::missing_attribute;
  if (!v->is_string() || v->as_string().empty()) return errc::mistyped_attribute;
  return std::string(v->as_string());
}

}  // namespace

std::string new_event_id() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
    // The CSPRNG failing is not expected; fall back to the clock mixed with a stack address
    // so that ids stay unique enough rather than failing the data path.
    auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    auto addr = reinterpret_cast<std::uintptr_t>(&b);
    for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(now >> (8 * i));
    for (std::size_t i = 0; i < 8; ++i) b[8 + i] = static_cast<unsigned char>(addr >> (8 * i));
  }
  // UUID version 7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Time-ordered ids
  // keep an index on them (a consumer's dedupe table) append-mostly.
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  for (std::size_t i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x70);  // version 7
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0x0f]);
  }
  return out;
}

namespace {

// Appends what `sr` produces to `out`, through a buffer on the stack (growing `out` first and
// letting the serializer write into it would zero-fill the room on every call).
void drain(std::string& out, json::serializer& sr) {
  char buf[1024];
  while (!sr.done()) {
    auto written = sr.read(buf, sizeof buf);
    out.append(written.data(), written.size());
  }
}

void member(std::string& out, json::serializer& sr, std::string_view key, std::string_view v) {
  out += ",\"";
  out += key;  // our own attribute names: nothing to escape
  out += "\":";
  sr.reset(json::string_view(v.data(), v.size()));
  drain(out, sr);
}

}  // namespace

// Streams the members in a fixed order without building a JSON object, so `data` is never
// deep-copied (this runs once per event on the outbox path).
std::string to_structured_json(cloud_event const& ev) {
  std::string out;
  out.reserve(512);
  append_structured_json(out, ev);
  return out;
}

void append_structured_json(std::string& out, cloud_event const& ev) {
  auto opt = [](std::optional<std::string> const& v) {
    return v ? std::optional<std::string_view>(*v) : std::nullopt;
  };
  append_structured_json(out, cloud_event_view{.id = ev.id,
                                               .source = ev.source,
                                               .type = ev.type,
                                               .subject = opt(ev.subject),
                                               .time = ev.time,
                                               .datacontenttype = ev.datacontenttype,
                                               .dataschema = opt(ev.dataschema),
                                               .partitionkey = ev.partitionkey,
                                               .requestid = opt(ev.requestid),
                                               .data = ev.data.is_null() ? nullptr : &ev.data});
}

void append_structured_json(std::string& out, cloud_event_view const& ev) {
  json::serializer sr;
  out += "{\"specversion\":\"";
  out += cloud_event::specversion;
  out += '"';
  member(out, sr, "id", ev.id);
  member(out, sr, "source", ev.source);
  member(out, sr, "type", ev.type);
  if (ev.subject) member(out, sr, "subject", *ev.subject);
  member(out, sr, "time", format_rfc3339(ev.time));
  if (!ev.datacontenttype.empty()) member(out, sr, "datacontenttype", ev.datacontenttype);
  if (ev.dataschema) member(out, sr, "dataschema", *ev.dataschema);
  if (!ev.partitionkey.empty()) member(out, sr, "partitionkey", ev.partitionkey);
  if (ev.requestid) member(out, sr, "requestid", *ev.requestid);
  if (ev.data_json) {
    BOOST_ASSERT(!ev.data_json->empty());  // one JSON value
    BOOST_ASSERT(ev.datacontenttype.empty() || is_json_content_type(ev.datacontenttype));
    out += ",\"data\":";
    out += *ev.data_json;
  } else if (ev.data && !ev.data->is_null()) {
    // Absent datacontenttype means JSON (CloudEvents JSON format, 3.1); other content types
    // carry their data as a JSON string.
    bool inline_json = ev.datacontenttype.empty() || is_json_content_type(ev.datacontenttype);
    if (inline_json || ev.data->is_string()) {
      out += ",\"data\":";
      sr.reset(ev.data);
      drain(out, sr);
    } else {
      member(out, sr, "data", json::serialize(*ev.data));
    }
  }
  out += '}';
}

result<cloud_event> from_structured_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return errc::malformed_json;
  if (!v.is_object()) return errc::not_an_object;
  auto const& o = v.as_object();

  auto const* sv = o.if_contains("specversion");
  if (!sv) return errc::missing_attribute;
  if (!sv->is_string()) return errc::mistyped_attribute;
  if (sv->as_string() != cloud_event::specversion) return errc::unsupported_specversion;

  cloud_event ev;
  auto id = required_string(o, "id");
  if (!id) return id.error();
  ev.id = std::move(*id);
  auto source = required_string(o, "source");
  if (!source) return source.error();
  ev.source = std::move(*source);
  auto type = required_string(o, "type");
  if (!type) return type.error();
  ev.type = std::move(*type);

  auto subject = optional_string(o, "subject");
  auto time_text = optional_string(o, "time");
  auto ct = optional_string(o, "datacontenttype");
  auto dataschema = optional_string(o, "dataschema");
  auto pk = optional_string(o, "partitionkey");
  auto requestid = optional_string(o, "requestid");
  for (auto const* r : {&subject, &time_text, &ct, &dataschema, &pk, &requestid})
    if (!*r) return r->error();
  ev.subject = std::move(*subject);
  if (*time_text) {
    auto t = parse_rfc3339(**time_text);
    if (!t) return errc::invalid_time;
    ev.time = *t;
  }
  ev.datacontenttype = *ct ? std::move(**ct) : std::string{};
  ev.dataschema = std::move(*dataschema);
  if (*pk) ev.partitionkey = std::move(**pk);
  ev.requestid = std::move(*requestid);

  if (o.contains("data_base64")) return errc::unsupported_data;
  if (auto const* d = o.if_contains("data")) {
    if (!ev.datacontenttype.empty() && !is_json_content_type(ev.datacontenttype) && !d->is_string())
      return errc::unsupported_data;
    if (!all_numbers_finite(*d)) return errc::unsupported_data;
    ev.data = *d;
  }
  return ev;
}

}  // namespace bbgw

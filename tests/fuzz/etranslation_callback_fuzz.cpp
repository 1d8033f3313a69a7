// Fuzzes the eTranslation connector's callback decoding (connectors/etranslation/form.hpp and
// bbgw/base64.hpp): what the EC service POSTs to the callback URLs. The input is one callback as
//   <Content-Type value> '\n' <query string> '\n' <body>
// (a missing line is empty). The Content-Type decides form or not and UTF-8 or Latin-1, as the
// connector's callback handler does; the query is always UTF-8; the body is also decoded as
// base64, as the document callback does.
//
// Invariants: parse_form agrees with an independent reference decoder (same pairs, same
// refusals: a bad %-escape, or decoded text that is not UTF-8 by RFC 3629's byte table; Latin-1
// bodies always convert to UTF-8); every accepted key and value is valid UTF-8; re-encoding the
// pairs and parsing them again gives the same pairs; the query/body merge the handler uses
// ("body wins") returns the body's first value when the body has the name, else the query's;
// base64: an accepted input decodes to bytes whose encoding decodes to the same bytes and whose
// size base64_decoded_size predicted; encoding the raw body decodes back to it exactly.
//
// Then the whole callback handler (etranslation_connector::callback) with an in-memory store: a
// text job (en -> ar, el) and a document job (en -> es), both submitted to a scripted upstream
// that answers request id 4242, get the input as a "success" and an "error" callback (text job)
// and a "document" and a "success" callback (document job), with their real tokens; "JOBID" in
// the query and body stands for the job's id. Invariants: the answer is 200, 400, 413 or 415
// (never 5xx, never a crash); a refusal or a duplicate changes nothing (job record, outputs,
// outbox); the stored job always parses again; each finished target has exactly one event, a
// valid CloudEvent of the completed/failed type; a job is "finished" exactly when every target
// is, and is in the open-job index exactly when it is not; done text is UTF-8; a done document
// target has its output stored as base64.
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "bbgw/base64.hpp"
#include "etranslation/config.hpp"
#include "etranslation/etranslation_connector.hpp"
#include "etranslation/form.hpp"
#include "fuzz_check.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"

namespace {

namespace et = bbgw::etranslation;
using pairs = std::vector<std::pair<std::string, std::string>>;

// RFC 3629 section 4 (UTF8-octets), byte range by byte range: independent of valid_utf8's
// decode-then-check approach.
bool ref_utf8(std::string_view s) {
  auto in = [](unsigned char c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
  std::size_t i = 0;
  while (i < s.size()) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    if (c <= 0x7F) {
      i += 1;
      continue;
    }
    std::size_t left = s.size() - i;
    if (in(c, 0xC2, 0xDF)) {
      if (left < 2 || !in(b(1), 0x80, 0xBF)) return false;
      i += 2;
    } else if (in(c, 0xE0, 0xEF)) {
      if (left < 3) return false;
      unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
      if (!in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF)) return false;
      i += 3;
    } else if (in(c, 0xF0, 0xF4)) {
      if (left < 4) return false;
      unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
      if (!in(b(1), lo, hi) || !in(b(2), 0x80, 0xBF) || !in(b(3), 0x80, 0xBF)) return false;
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

std::string ref_latin1(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {  // U+0080..U+00FF: two bytes 110000xx 10xxxxxx
      out += static_cast<char>(c < 0xC0 ? 0xC2 : 0xC3);
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

int hex(char c) {
  if ('0' <= c && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  if ('a' <= c && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<std::string> ref_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      if (s.size() - i < 3 || hex(s[i + 1]) < 0 || hex(s[i + 2]) < 0) return std::nullopt;
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    }
  }
  return out;
}

// The WHATWG urlencoded parser's splitting: '&'-separated, empty pieces skipped, the first '='
// splits name and value.
std::optional<pairs> ref_parse(std::string_view text, bool latin1) {
  pairs out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view piece = text.substr(start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    std::size_t eq = piece.find('=');
    auto k = ref_unescape(piece.substr(0, eq));
    auto v = ref_unescape(eq == std::string_view::npos ? "" : piece.substr(eq + 1));
    if (!k || !v) return std::nullopt;
    if (latin1) {
      *k = ref_latin1(*k);
      *v = ref_latin1(*v);
    }
    if (!ref_utf8(*k) || !ref_utf8(*v)) return std::nullopt;
    out.emplace_back(std::move(*k), std::move(*v));
  }
  return out;
}

std::string encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ') {
      out += '+';
    } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

// parse_form against the reference; returns the accepted params.
std::optional<et::form_params> check_form(std::string_view text, bool latin1) {
  et::form_params got;
  bool ok = et::parse_form(text, latin1, got);
  auto want = ref_parse(text, latin1);
  FUZZ_CHECK(ok == want.has_value());
  if (!ok) return std::nullopt;
  FUZZ_CHECK(got.size() == want->size());
  // Same pairs in the same order: every name's values in order, and first() the first of them.
  for (auto const& [k, v] : *want) {
    FUZZ_CHECK(et::valid_utf8(k) && et::valid_utf8(v));
    std::vector<std::string> vs;
    for (auto const& [k2, v2] : *want)
      if (k2 == k) vs.push_back(v2);
    FUZZ_CHECK(got.all(k) == vs);
    FUZZ_CHECK(got.first(k) == vs.front());
  }
  // Round trip: the pairs, re-encoded as UTF-8 form text, parse back to themselves.
  std::string again;
  for (auto const& [k, v] : *want)
    again += (again.empty() ? "" : "&") + encode(k) + "=" + encode(v);
  et::form_params back;
  FUZZ_CHECK(et::parse_form(again, false, back));
  FUZZ_CHECK(back.size() == want->size());
  for (auto const& [k, v] : *want) FUZZ_CHECK(back.all(k) == got.all(k));
  return got;
}

void check_base64(std::string_view in) {
  auto d = bbgw::base64_decode(in);
  if (d) {
    FUZZ_CHECK(bbgw::base64_decoded_size(in) == d->size());
    auto e = bbgw::base64_encode(*d);
    FUZZ_CHECK(e.size() % 4 == 0);
    auto d2 = bbgw::base64_decode(e);
    FUZZ_CHECK(d2 && *d2 == *d);
  }
  auto e = bbgw::base64_encode(in);
  FUZZ_CHECK(e.size() == (in.size() + 2) / 3 * 4);
  auto d3 = bbgw::base64_decode(e);
  FUZZ_CHECK(d3 && *d3 == in);
  FUZZ_CHECK(bbgw::base64_decoded_size(e) == in.size());
}

// ---- the whole handler ------------------------------------------------------------------

struct null_sink final : bbgw::event_sink {
  bbgw::result<void> publish(bbgw::cloud_event const&) override { return {}; }
  bbgw::result<void> publish(std::span<bbgw::cloud_event const>) override { return {}; }
};

struct scripted_http final : bbgw::http_client {
  bbgw::result<bbgw::client_response> send(bbgw::client_request const&) override {
    bbgw::client_response r;
    r.status = 200;
    r.body = "4242";
    return r;
  }
};

et::etranslation_config const& fuzz_config() {
  static et::etranslation_config const cfg = [] {
    bbgw::config_reader r(YAML::Load("enabled: true\n"
                                     "base_url: https://et.test/etranslation/si\n"
                                     "application: app\n"
                                     "password: pw\n"
                                     "cache_ttl: 1h\n"),
                          "connectors.etranslation", nullptr);
    auto c = et::read_config(r);
    r.finish();
    return *c;
  }();
  return cfg;
}

std::string replace_all(std::string_view in, std::string_view from, std::string const& to) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto hit = in.find(from, pos);
    out.append(in.substr(pos, hit == std::string_view::npos ? in.npos : hit - pos));
    if (hit == std::string_view::npos) return out;
    out += to;
    pos = hit + from.size();
  }
}

struct snapshot {
  std::optional<std::string> job;
  std::vector<std::optional<std::string>> outputs;
  std::size_t events = 0;
};

struct handler_bench {
  bbgw::testing::manual_clock time;
  bbgw::testing::memory_store db{time};
  null_sink sink;
  scripted_http http;
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  bbgw::connector_context ctx{db, sink, time, stats, log, http, "http://gw.test"};
  et::etranslation_connector conn{fuzz_config(), ctx};

  std::string create(std::string const& body) {
    bbgw::request r;
    r.method = "POST";
    r.headers.add("Content-Type", "application/json");
    r.body = body;
    auto resp = conn.create(r);
    FUZZ_CHECK(resp.status == 202);
    return std::string(boost::json::parse(resp.body).at("id").as_string());
  }

  snapshot take(std::string const& id, et::job const& j) {
    snapshot s;
    s.job = *db.get(et::job_namespace, id);
    for (auto const& t : j.targets)
      s.outputs.push_back(*db.get(et::output_namespace, id + "/" + t.lang));
    s.events = db.outbox().size();
    return s;
  }

  // Every stored job is consistent with itself, the index and the outbox.
  void check_job(std::string const& id) {
    auto rec = db.get(et::job_namespace, id);
    FUZZ_CHECK(rec && *rec);
    auto j = et::job_from_json(**rec);
    FUZZ_CHECK(j.has_value());
    FUZZ_CHECK(j->id == id);
    FUZZ_CHECK((j->state == "finished") == j->all_finished());
    auto shard = db.get(et::open_namespace, et::open_shard_key(et::open_shard(id)));
    FUZZ_CHECK(shard.has_value());
    auto ids = et::parse_index(*shard);
    bool listed = std::find(ids.begin(), ids.end(), id) != ids.end();
    FUZZ_CHECK(listed == !j->all_finished());
    boost::system::error_code ec;
    auto status = boost::json::parse(et::status_json(*j, et::api_prefix), ec);
    FUZZ_CHECK(!ec && status.is_object());
    for (auto const& t : j->targets) {
      std::size_t events = 0;
      std::string lang = t.lang;
      for (auto& c : lang) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto const& ev : db.outbox()) {
        auto const* data = ev.data.if_object();
        FUZZ_CHECK(data != nullptr);
        auto const* tl = data->if_contains("targetLanguage");
        FUZZ_CHECK(tl && tl->is_string());
        if (ev.subject != id || tl->as_string() != lang) continue;
        ++events;
        FUZZ_CHECK(ev.type ==
                   (t.status == et::lang_status::done ? et::completed_type : et::failed_type));
        auto back = bbgw::from_structured_json(bbgw::to_structured_json(ev));
        FUZZ_CHECK(back.has_value());
        FUZZ_CHECK(back->id == ev.id && back->type == ev.type);
      }
      FUZZ_CHECK(events == (t.status == et::lang_status::pending ? 0u : 1u));
      if (t.status == et::lang_status::done && !j->document) FUZZ_CHECK(et::valid_utf8(t.text));
      if (t.status == et::lang_status::done && j->document) {
        FUZZ_CHECK(t.has_document);
        auto out = db.get(et::output_namespace, id + "/" + t.lang);
        FUZZ_CHECK(out && *out && bbgw::base64_decode(**out).has_value());
      }
    }
  }

  void call(std::string const& id, std::string_view kind, std::string_view content_type,
            std::string_view query, std::string_view body) {
    auto rec = db.get(et::job_namespace, id);
    auto j = et::job_from_json(**rec);
    auto before = take(id, *j);
    bbgw::request r;
    r.method = "POST";
    r.params = {{"id", id}, {"token", j->token}};
    r.query = replace_all(query, "JOBID", id);
    r.body = replace_all(body, "JOBID", id);
    if (!content_type.empty()) r.headers.add("Content-Type", std::string(content_type));
    auto resp = conn.callback(r, kind);
    FUZZ_CHECK(resp.status == 200 || resp.status == 400 || resp.status == 413 ||
               resp.status == 415);
    bool unchanged = resp.status != 200 || resp.headers.get("X-Bbgw-Translation-Duplicate");
    if (unchanged) {
      auto after = take(id, *j);
      FUZZ_CHECK(after.job == before.job);
      FUZZ_CHECK(after.outputs == before.outputs);
      FUZZ_CHECK(after.events == before.events);
    }
    check_job(id);
  }
};

void check_handler(std::string_view content_type, std::string_view query, std::string_view body) {
  handler_bench b;
  auto text = b.create(
      R"({"source_language":"en","target_languages":["ar","el"],"text":"Where is the clinic?"})");
  auto doc = b.create(R"({"source_language":"en","target_languages":["es"],"document":)"
                      R"({"content_base64":"aGVsbG8=","format":"txt","filename":"a.txt"}})");
  FUZZ_CHECK(b.conn.tick() == 2);
  b.call(text, "success", content_type, query, body);
  b.call(text, "error", content_type, query, body);
  b.call(doc, "document", content_type, query, body);
  b.call(doc, "success", content_type, query, body);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view all(reinterpret_cast<char const*>(data), size);
  auto nl1 = all.find('\n');
  std::string_view content_type = all.substr(0, nl1);
  std::string_view rest = nl1 == std::string_view::npos ? "" : all.substr(nl1 + 1);
  auto nl2 = rest.find('\n');
  std::string_view query = rest.substr(0, nl2);
  std::string_view body = nl2 == std::string_view::npos ? "" : rest.substr(nl2 + 1);

  // The UTF-8 checker against the byte table on raw bytes too.
  FUZZ_CHECK(et::valid_utf8(all) == ref_utf8(all));
  FUZZ_CHECK(ref_utf8(et::latin1_to_utf8(all)));
  FUZZ_CHECK(et::latin1_to_utf8(all) == ref_latin1(all));

  bool form = et::is_form(content_type);
  bool latin1 = et::is_latin1_charset(content_type);
  auto q = check_form(query, false);
  std::optional<et::form_params> b;
  if (form) b = check_form(body, latin1);
  // Either decoding of the body must be consistent, whatever the content type says.
  check_form(body, !latin1);

  if (q && b) {
    // The handler's merge: the body wins, then the query.
    auto param = [&](std::string_view name) -> std::optional<std::string> {
      if (auto v = b->first(name)) return v;
      return q->first(name);
    };
    for (std::string_view name :
         {"request-id", "target-language", "translated-text", "external-reference", "error-code",
          "error_code", "error-message", "target-languages"}) {
      auto v = param(name);
      auto bv = b->first(name), qv = q->first(name);
      FUZZ_CHECK(v.has_value() == (bv.has_value() || qv.has_value()));
      if (bv)
        FUZZ_CHECK(v == bv);
      else if (qv)
        FUZZ_CHECK(v == qv);
      if (v) FUZZ_CHECK(et::valid_utf8(*v));
    }
  }

  check_base64(body);
  check_handler(content_type, query, body);
  return 0;
}

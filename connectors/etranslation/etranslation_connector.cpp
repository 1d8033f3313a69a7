#include "etranslation/etranslation_connector.hpp"

#include <algorithm>
#include <cctype>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "bbgw/base64.hpp"
#include "etranslation/digest_auth.hpp"
#include "etranslation/form.hpp"

namespace bbgw::etranslation {

namespace json = boost::json;

namespace {

std::int64_t to_ms(sys_time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Compares without an early exit on the first differing byte.
bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

// A random (version 4) UUID: job ids are not guessable from one another.
std::string new_job_id() {
  auto h = random_hex(16);
  if (h.size() != 32) return {};
  h[12] = '4';
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

std::size_t code_points(std::string_view s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// Adds or removes `id` in its shard of the open-job index, in the caller's transaction: the cost
// is one shard (open jobs / open_shards ids), not the whole open set.
result<void> index_update(unit_of_work& uow, std::string const& id, bool add) {
  auto const key = open_shard_key(open_shard(id));
  auto cur = uow.get(open_namespace, key);
  if (!cur) return cur.error();
  auto ids = parse_index(*cur);
  auto it = std::find(ids.begin(), ids.end(), id);
  if (add == (it != ids.end())) return {};  // already as wanted: no write
  if (add)
    ids.push_back(id);
  else
    ids.erase(it);
  if (ids.empty()) {
    auto e = uow.erase(open_namespace, key);
    if (!e) return e.error();
    return {};
  }
  return uow.put(open_namespace, key, index_json(ids));
}

std::string content_type_for(std::string_view format) {
  static std::map<std::string, std::string, std::less<>> const types{
      {"txt", "text/plain; charset=utf-8"},
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"xml", "application/xml"},
      {"xlf", "application/xliff+xml"},
      {"xliff", "application/xliff+xml"},
      {"pdf", "application/pdf"},
      {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
      {"odt", "application/vnd.oasis.opendocument.text"}};
  auto it = types.find(format);
  return it == types.end() ? "application/octet-stream" : it->second;
}

// The job as stored inside a transaction (nullopt: unknown or unreadable).
result<std::optional<job>> load_job(unit_of_work& uow, std::string const& id) {
  auto cur = uow.get(job_namespace, id);
  if (!cur) return cur.error();
  return *cur ? job_from_json(**cur) : std::nullopt;
}

}  // namespace

etranslation_connector::etranslation_connector(etranslation_config cfg, connector_context& ctx)
    : cfg_(std::move(cfg)),
      ctx_(ctx),
      callback_base_(cfg_.callback_base_url.empty() ? ctx.public_base_url : cfg_.callback_base_url),
      upstream_(cfg_, ctx.http),
      stats_(ctx.stats) {
  while (!callback_base_.empty() && callback_base_.back() == '/') callback_base_.pop_back();
  bool wants_apertium = cfg_.default_backend != "etranslation" ||
                        std::any_of(cfg_.pair_backends.begin(), cfg_.pair_backends.end(),
                                    [](auto const& p) { return p.second != "etranslation"; });
  if (wants_apertium) {
    apertium_.emplace(cfg_.apertium);
    ctx.log.info("apertium backend", {{"installed_pairs", apertium_->installed_text()}});
  }
  auto& m = ctx.stats;
  accepted_ = &m.make_counter("bbgw_etranslation_jobs_total", "Translation jobs accepted");
  callbacks_ok_ =
      &m.make_counter("bbgw_etranslation_callbacks_total",
                      "Callbacks answered with success, by outcome", {{"outcome", "applied"}});
  callbacks_duplicate_ =
      &m.make_counter("bbgw_etranslation_callbacks_total",
                      "Callbacks answered with success, by outcome", {{"outcome", "duplicate"}});
  upstream_accepted_ =
      &m.make_counter("bbgw_etranslation_upstream_requests_total",
                      "Requests to eTranslation, by outcome", {{"outcome", "accepted"}});
  upstream_retry_ = &m.make_counter("bbgw_etranslation_upstream_requests_total",
                                    "Requests to eTranslation, by outcome", {{"outcome", "retry"}});
  upstream_failed_ =
      &m.make_counter("bbgw_etranslation_upstream_requests_total",
                      "Requests to eTranslation, by outcome", {{"outcome", "failed"}});
  timeouts_ = &m.make_counter("bbgw_etranslation_timeouts_total",
                              "Jobs failed because no callback came in time");
  in_flight_gauge_ = &m.make_gauge("bbgw_etranslation_in_flight", "Jobs submitted, not finished");
  queue_gauge_ = &m.make_gauge("bbgw_etranslation_queue_depth", "Jobs waiting for the quota");
}

etranslation_connector::~etranslation_connector() {
  stop();
}

std::vector<route> etranslation_connector::routes() {
  std::vector<route> rs;
  std::string prefix(api_prefix);
  // Room for a base64 document one byte over the limit plus the JSON around it, so that the
  // handler (not the server) answers 413 with a clear problem.
  std::size_t create_limit =
      static_cast<std::size_t>((cfg_.max_document_bytes + 3) / 3 * 4 + 1024 * 1024);
  rs.push_back({{"POST"},
                prefix,
                [this](request const& r) { return create(r); },
                create_limit,
                execution::worker});
  rs.push_back({{"GET", "HEAD"},
                prefix + "/{id}",
                [this](request const& r) { return status(r); },
                0,
                execution::worker});
  rs.push_back({{"GET"},
                prefix + "/{id}/documents/{lang}",
                [this](request const& r) { return document(r); },
                0,
                execution::worker});
  auto cb = cfg_.callback_path_prefix + "/{id}/{token}/";
  rs.push_back({{"POST"},
                cb + "success",
                [this](request const& r) { return callback(r, "success"); },
                1024 * 1024,
                execution::worker});
  rs.push_back({{"POST"},
                cb + "error",
                [this](request const& r) { return callback(r, "error"); },
                1024 * 1024,
                execution::worker});
  rs.push_back({{"POST"},
                cb + "document",
                [this](request const& r) { return callback(r, "document"); },
                static_cast<std::size_t>(cfg_.max_document_bytes * 2 + 1024 * 1024),
                execution::worker});
  return rs;
}

callback_urls etranslation_connector::urls_for(job const& j) const {
  std::string b = callback_base_ + cfg_.callback_path_prefix + "/" + j.id + "/" + j.token + "/";
  return {b + "success", b + "error", b + "document"};
}

response etranslation_connector::reject(unsigned status, std::string const& reason,
                                        std::string const& detail, request const& r) {
  stats_
      .make_counter("bbgw_etranslation_rejected_total", "Requests and callbacks refused, by reason",
                    {{"reason", reason}})
      .inc();
  ctx_.log.warn("etranslation request refused",
                {{"reason", reason}, {"request_id", r.request_id}, {"remote", r.remote_address}});
  return response::problem(status, detail);
}

// ---- platform API ----------------------------------------------------------------------------

response etranslation_connector::create(request const& r) {
  auto ct = r.header("Content-Type");
  if (!ct || lower(*ct).rfind("application/json", 0) != 0)
    return reject(415, "unsupported_media_type", "the body must be application/json", r);
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object())
    return reject(400, "malformed_json", "the body is not a JSON object", r);
  auto const& o = v.as_object();

  auto lang = [&](json::value const* p, std::string& out, std::string const& field) -> std::string {
    if (!p || !p->is_string()) return field + " must be an ISO 639-1 language code";
    auto code = upper(p->as_string());
    if (code.size() != 2 || !cfg_.languages.count(code))
      return field + ": unknown or unsupported language '" + std::string(p->as_string()) + "'";
    out = std::move(code);
    return {};
  };
  job j;
  if (auto e = lang(o.if_contains("source_language"), j.source, "source_language"); !e.empty())
    return reject(400, "unknown_language", e, r);
  auto const* tl = o.if_contains("target_languages");
  if (!tl || !tl->is_array() || tl->as_array().empty())
    return reject(400, "invalid_request", "target_languages must be a non-empty array", r);
  for (auto const& t : tl->as_array()) {
    std::string code;
    if (auto e = lang(&t, code, "target_languages"); !e.empty())
      return reject(400, "unknown_language", e, r);
    if (code == j.source)
      return reject(400, "invalid_request",
                    "target language '" + lower(code) + "' equals the source language", r);
    if (j.target(code)) continue;  // duplicates collapse
    target_result tr;
    tr.lang = code;
    tr.backend = cfg_.backend_for(j.source, code);
    if (tr.backend == "fallback") {  // eTranslation first; Apertium if it fails
      tr.backend = "etranslation";
      tr.fallback_allowed = true;
    }
    bool const has_pair = apertium_ && apertium_->mode_for(j.source, code);
    if (tr.backend == "auto")
      tr.backend = has_pair || !cfg_.etranslation_configured() ? "apertium" : "etranslation";
    if (tr.backend == "apertium" && !has_pair)
      return reject(400, "unsupported_pair",
                    "the language pair " + lower(j.source) + "-" + lower(code) +
                        " is not available: it is translated by Apertium, whose installed pairs "
                        "are " +
                        (apertium_ ? apertium_->installed_text() : std::string("none")),
                    r);
    j.targets.push_back(std::move(tr));
  }
  auto const* text = o.if_contains("text");
  auto const* doc = o.if_contains("document");
  if (text && text->is_null()) text = nullptr;
  if (doc && doc->is_null()) doc = nullptr;
  if (text && doc)
    return reject(400, "invalid_request", "give either text or document, not both", r);
  if (!text && !doc) return reject(400, "invalid_request", "give text or document", r);
  std::string doc_b64;
  if (text) {
    if (!text->is_string()) return reject(400, "invalid_request", "text must be a string", r);
    if (trim(text->as_string()).empty()) return reject(400, "empty_text", "text is empty", r);
    j.text = std::string(text->as_string());
    if (code_points(j.text) > static_cast<std::size_t>(cfg_.max_text_chars))
      return reject(413, "text_too_long",
                    "text exceeds " + std::to_string(cfg_.max_text_chars) + " characters", r);
  } else {
    if (!doc->is_object()) return reject(400, "invalid_request", "document must be an object", r);
    auto const& d = doc->as_object();
    auto const* content = d.if_contains("content_base64");
    auto const* format = d.if_contains("format");
    auto const* filename = d.if_contains("filename");
    if (!content || !content->is_string() || content->as_string().empty())
      return reject(400, "invalid_document", "document.content_base64 must be a non-empty string",
                    r);
    if (!format || !format->is_string() || !cfg_.document_formats.count(lower(format->as_string())))
      return reject(400, "invalid_document",
                    "document.format must be one of the supported formats (txt, html, xml, docx, "
                    "odt, pdf, xlf, ...)",
                    r);
    if (!filename || !filename->is_string() || filename->as_string().empty() ||
        filename->as_string().size() > 255 ||
        std::any_of(filename->as_string().begin(), filename->as_string().end(), [](char c) {
          return c == '/' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        }))
      return reject(400, "invalid_document",
                    "document.filename must be a file name (1..255 characters, no path)", r);
    std::string_view b64(content->as_string().data(), content->as_string().size());
    if (base64_decoded_size(b64) > cfg_.max_document_bytes)
      return reject(413, "document_too_large",
                    "the document exceeds " + std::to_string(cfg_.max_document_bytes) + " bytes",
                    r);
    auto bytes = base64_decode(b64);
    if (!bytes) return reject(400, "bad_base64", "document.content_base64 is not valid base64", r);
    if (bytes->empty()) return reject(400, "invalid_document", "the document is empty", r);
    if (bytes->size() > cfg_.max_document_bytes)
      return reject(413, "document_too_large",
                    "the document exceeds " + std::to_string(cfg_.max_document_bytes) + " bytes",
                    r);
    for (auto const& t : j.targets)
      if (t.backend == "apertium" && !apertium_document_format(lower(format->as_string())))
        return reject(400, "unsupported_format",
                      "the pair " + lower(j.source) + "-" + lower(t.lang) +
                          " is translated by Apertium, which translates documents in the formats " +
                          apertium_document_formats_text() + " only, not " +
                          lower(format->as_string()),
                      r);
    doc_b64 = base64_encode(*bytes);  // canonical form upstream (no line breaks)
    j.document = true;
    j.doc_format = lower(format->as_string());
    j.doc_filename = std::string(filename->as_string());
  }
  j.domain = cfg_.default_domain;
  if (auto const* d = o.if_contains("domain"); d && !d->is_null()) {
    if (!d->is_string()) return reject(400, "invalid_request", "domain must be a string", r);
    auto dom = upper(d->as_string());
    if (dom.empty() || dom.size() > 32 || !std::all_of(dom.begin(), dom.end(), [](char c) {
          return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        }))
      return reject(400, "invalid_request", "domain must be an eTranslation domain such as GEN", r);
    j.domain = std::move(dom);
  }
  if (auto const* ref = o.if_contains("reference"); ref && !ref->is_null()) {
    if (!ref->is_string() || ref->as_string().size() > 256)
      return reject(400, "invalid_request", "reference must be a string of at most 256 bytes", r);
    j.reference = std::string(ref->as_string());
  }

  j.id = new_job_id();
  j.token = random_hex(32);
  if (j.id.empty() || j.token.size() != 64)
    return reject(503, "random_failure", "no randomness available; retry", r);
  auto const now = ctx_.time.now();
  j.created_ms = to_ms(now);
  // Text translations already in the cache are done now, without an upstream call.
  std::size_t cached = 0;
  if (!j.document && cfg_.cache_ttl.count() > 0) {
    for (auto& t : j.targets) {
      auto hit =
          ctx_.db.get(cache_namespace, cache_key(t.backend, j.source, t.lang, j.domain, j.text));
      if (!hit || !*hit) continue;
      t.status = lang_status::done;
      t.text = std::move(**hit);
      t.cached = true;
      t.finished_ms = j.created_ms;
      ++cached;
    }
  }
  bool const all_cached = cached == j.targets.size();
  if (all_cached) j.state = "finished";
  auto stored = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
    auto ins = uow.insert(job_namespace, j.id, to_json(j),
                          all_cached ? retention_expiry(now) : std::nullopt);
    if (!ins) return ins.error();
    for (auto const& t : j.targets)
      if (t.cached)
        if (auto e = uow.emit(make_event(j, t, api_prefix, now, r.request_id)); !e)
          return e.error();
    if (all_cached) return {};
    if (j.document)
      if (auto p = uow.put(input_namespace, j.id, doc_b64); !p) return p.error();
    return index_update(uow, j.id, true);
  });
  if (!stored) {
    ctx_.log.error("etranslation job not stored", {{"error", stored.error().message()}});
    return reject(503, "store_failure", "the job could not be stored; retry", r);
  }
  accepted_->inc();
  std::string location = std::string(api_prefix) + "/" + j.id;
  json::object body{{"id", j.id},
                    {"status", all_cached ? "done" : "queued"},
                    {"cached", all_cached},
                    {"status_url", location}};
  if (cached && !all_cached) {
    json::array langs;
    for (auto const& t : j.targets)
      if (t.cached) langs.push_back(json::string(lower(t.lang)));
    body["cached_languages"] = std::move(langs);
  }
  if (!all_cached) enqueue(j.id, now);
  auto resp = response::json(all_cached ? 200 : 202, body);
  resp.headers.set("Location", location);
  return resp;
}

response etranslation_connector::status(request const& r) {
  auto id = r.param("id");
  auto rec = id ? ctx_.db.get(job_namespace, *id) : result<std::optional<std::string>>{};
  if (!rec) return response::problem(503, "the store is unavailable; retry");
  if (!*rec)
    return response::problem(
        404, "no such translation job (unknown, or erased after the retention period)");
  auto j = job_from_json(**rec);
  if (!j) return response::problem(500, "the stored job is unreadable");
  auto resp = response::text(200, status_json(*j, api_prefix), "application/json");
  resp.headers.set("Cache-Control", "no-store");
  return resp;
}

response etranslation_connector::document(request const& r) {
  auto id = r.param("id");
  auto lang = r.param("lang");
  if (!id || !lang) return response::problem(404, "no such document");
  auto rec = ctx_.db.get(job_namespace, *id);
  if (!rec) return response::problem(503, "the store is unavailable; retry");
  if (!*rec)
    return response::problem(
        404, "no such translation job (unknown, or erased after the retention period)");
  auto j = job_from_json(**rec);
  if (!j) return response::problem(500, "the stored job is unreadable");
  if (!j->document) return response::problem(404, "this job translates text, not a document");
  auto* t = j->target(upper(*lang));
  if (!t) return response::problem(404, "not a target language of this job");
  if (t->status == lang_status::pending)
    return response::problem(409, "the translation into this language is still pending");
  if (t->status == lang_status::failed)
    return response::problem(409, "the translation into this language failed: " + t->reason);
  auto out = ctx_.db.get(output_namespace, j->id + "/" + t->lang);
  if (!out) return response::problem(503, "the store is unavailable; retry");
  if (!*out) return response::problem(404, "the translated document is no longer stored");
  auto bytes = base64_decode(**out);
  if (!bytes) return response::problem(500, "the stored document is unreadable");
  response resp;
  resp.status = 200;
  resp.body = std::move(*bytes);
  resp.headers.set("Content-Type", content_type_for(j->doc_format));
  auto name = j->doc_filename;
  auto dot = name.rfind('.');
  std::string stem = dot == std::string::npos ? name : name.substr(0, dot);
  std::string safe;
  for (char c : stem + "_" + lower(t->lang) + "." + j->doc_format)
    safe += (c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) ? '_' : c;
  resp.headers.set("Content-Disposition", "attachment; filename=\"" + safe + "\"");
  return resp;
}

// ---- callbacks -------------------------------------------------------------------------------

response etranslation_connector::callback(request const& r, std::string_view kind) {
  auto id = r.param("id");
  auto token = r.param("token");
  auto rec = id ? ctx_.db.get(job_namespace, *id) : result<std::optional<std::string>>{};
  if (!rec) return reject(503, "store_failure", "the store is unavailable; retry", r);
  std::optional<job> j;
  if (*rec) j = job_from_json(**rec);
  if (!j || !token || !constant_time_equals(*token, j->token))
    return reject(403, "forbidden", "unknown job or wrong callback token", r);

  // Parameters from the query string and (except for documents) the form body; the body wins.
  form_params query, body;
  if (!parse_form(r.query, false, query))
    return reject(400, "malformed_callback", "the query string is not valid form encoding", r);
  std::string doc_bytes;
  if (kind == "document") {
    auto bytes = base64_decode(r.body);
    if (!bytes || bytes->empty())
      return reject(400, "malformed_callback", "the document body is not base64", r);
    if (bytes->size() > cfg_.max_document_bytes * 2)
      return reject(413, "document_too_large", "the translated document is too large", r);
    doc_bytes = base64_encode(*bytes);
  } else if (!r.body.empty()) {
    auto ct = r.header("Content-Type");
    if (ct && !is_form(*ct))
      return reject(415, "unsupported_media_type",
                    "callbacks must be application/x-www-form-urlencoded", r);
    if (!parse_form(r.body, ct && is_latin1_charset(*ct), body))
      return reject(400, "malformed_callback",
                    "the body is not valid form encoding in the declared charset", r);
  }
  auto param = [&](std::string_view name) -> std::optional<std::string> {
    if (auto v = body.first(name)) return v;
    return query.first(name);
  };
  if (auto rid = param("request-id"); rid && !rid->empty()) {
    std::int64_t v = 0;
    try {
      std::size_t used = 0;
      v = std::stoll(*rid, &used);
      if (used != rid->size()) v = 0;
    } catch (...) {
      v = 0;
    }
    if (v == 0 || (j->upstream_id > 0 && v != j->upstream_id))
      return reject(400, "malformed_callback", "request-id does not match this job", r);
  }
  if (auto ext = param("external-reference"); ext && !ext->empty() && *ext != j->id)
    return reject(400, "malformed_callback", "external-reference does not match this job", r);

  // What the callback says: per language, done (with text or document) or failed.
  struct change {
    std::string lang;
    bool ok;
  };
  std::vector<change> changes;
  std::string text, reason;
  std::optional<std::int64_t> code;
  if (kind == "error") {
    auto c = param("error-code");
    if (!c) c = param("error_code");
    if (c && !c->empty()) {
      try {
        std::size_t used = 0;
        code = std::stoll(*c, &used);
        if (used != c->size()) code.reset();
      } catch (...) {
      }
      if (!code) return reject(400, "malformed_callback", "error-code is not an integer", r);
    }
    auto msg = param("error-message").value_or("");
    // At most 500 bytes, cut on a code point boundary: a split UTF-8 sequence would make the
    // stored job JSON unparsable (the job would then answer 500 and refuse every callback).
    if (msg.size() > 500) {
      std::size_t n = 500;
      while (n > 0 && (static_cast<unsigned char>(msg[n]) & 0xC0) == 0x80) --n;
      msg.resize(n);
    }
    reason = "eTranslation error " + (code ? std::to_string(*code) : std::string("(no code)")) +
             (msg.empty() ? "" : ": " + msg);
    std::vector<std::string> langs;
    auto collect = [&](form_params const& p) {
      for (auto name : {"target-languages", "target-language"})
        for (auto const& v : p.all(name)) {
          std::string cur;
          for (char ch : v + ",") {
            if (ch == ',' || ch == ';' || ch == ' ') {
              if (!cur.empty()) langs.push_back(upper(cur));
              cur.clear();
            } else {
              cur += ch;
            }
          }
        }
    };
    collect(body);
    collect(query);
    for (auto const& l : langs)
      if (!j->target(l))
        return reject(400, "malformed_callback", "'" + l + "' is not a target of this job", r);
    if (langs.empty())
      for (auto const& t : j->targets) langs.push_back(t.lang);
    for (auto const& l : langs)
      if (std::none_of(changes.begin(), changes.end(),
                       [&](auto const& c2) { return c2.lang == l; }))
        changes.push_back({l, false});
  } else {
    auto l = param("target-language");
    if (!l || !j->target(upper(*l)))
      return reject(400, "malformed_callback",
                    "target-language is missing or not a target of this job", r);
    if (kind == "success") {
      auto t = param("translated-text");
      if (!t) {
        if (j->document) {  // a document job's notification: the document comes separately
          response ok = response::text(200, "OK");
          return ok;
        }
        return reject(400, "malformed_callback", "translated-text is missing", r);
      }
      if (j->document)
        return reject(400, "malformed_callback", "a document job expects its document", r);
      text = std::move(*t);
    } else if (!j->document) {
      return reject(400, "malformed_callback", "a text job has no document", r);
    }
    changes.push_back({upper(*l), true});
  }

  // Apply under the connector's lock (so the submit thread's view of in-flight jobs follows)
  // in one transaction with the events.
  std::size_t applied = 0;
  bool finished = false, fallback = false;
  auto const now = ctx_.time.now();
  std::unique_lock lock(mutex_);
  auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
    applied = 0;
    finished = fallback = false;
    auto loaded = load_job(uow, j->id);
    if (!loaded) return loaded.error();
    auto& fresh = *loaded;
    if (!fresh) return {};
    for (auto const& c : changes) {
      auto* t = fresh->target(c.lang);
      // Duplicate, late, or already handed to the Apertium fallback.
      if (!t || t->status != lang_status::pending || t->backend != "etranslation") continue;
      if (!c.ok && etranslation_failed(*fresh, *t, reason, code, to_ms(now))) {
        fallback = true;
        ++applied;
        continue;
      }
      t->finished_ms = to_ms(now);
      if (c.ok) {
        t->status = lang_status::done;
        if (fresh->document) {
          t->has_document = true;
          if (auto p = uow.put(output_namespace, fresh->id + "/" + t->lang, doc_bytes); !p)
            return p.error();
        } else {
          t->text = text;
          if (cfg_.cache_ttl.count() > 0)
            if (auto p = uow.put(
                    cache_namespace,
                    cache_key(t->backend, fresh->source, t->lang, fresh->domain, fresh->text), text,
                    cache_expiry(now));
                !p)
              return p.error();
        }
      }
      if (auto e = uow.emit(make_event(*fresh, *t, api_prefix, now, r.request_id)); !e)
        return e.error();
      ++applied;
    }
    if (!applied) return {};
    if (auto e = store_job(uow, *fresh, now); !e) return e.error();
    finished = fresh->state == "finished";
    return {};
  });
  if (!done) {
    lock.unlock();
    ctx_.log.error("etranslation callback not stored", {{"error", done.error().message()}});
    return reject(503, "store_failure", "the callback could not be stored; retry", r);
  }
  if (finished) job_finished(j->id);
  if (fallback) {
    fallback_ids_.push_back(j->id);
    cv_.notify_all();
  }
  lock.unlock();
  auto resp = response::text(200, "OK");
  if (applied) {
    callbacks_ok_->inc();
  } else {
    callbacks_duplicate_->inc();
    resp.headers.set("X-Bbgw-Translation-Duplicate", "true");
  }
  return resp;
}

// ---- submit thread ---------------------------------------------------------------------------

void etranslation_connector::enqueue(std::string id, sys_time ready) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(id), ready});
    queue_gauge_->set(static_cast<double>(queue_.size()));
  }
  cv_.notify_all();
}

// Caller holds mutex_.
void etranslation_connector::job_finished(std::string const& id) {
  in_flight_.erase(id);
  std::erase_if(queue_, [&](auto const& q) { return q.id == id; });
  in_flight_gauge_->set(static_cast<double>(in_flight_.size()));
  queue_gauge_->set(static_cast<double>(queue_.size()));
  cv_.notify_all();
}

std::optional<sys_time> etranslation_connector::retention_expiry(sys_time now) const {
  if (cfg_.retention.count() <= 0) return std::nullopt;
  return now + std::chrono::duration_cast<sys_time::duration>(cfg_.retention);
}

// Cached translations are personal data too: they never outlive the retention.
std::optional<sys_time> etranslation_connector::cache_expiry(sys_time now) const {
  auto ttl = cfg_.cache_ttl;
  if (cfg_.retention.count() > 0) ttl = std::min(ttl, cfg_.retention);
  return now + std::chrono::duration_cast<sys_time::duration>(ttl);
}

result<void> etranslation_connector::store_job(unit_of_work& uow, job& j, sys_time now) const {
  if (!j.all_finished()) return uow.put(job_namespace, j.id, to_json(j));
  j.state = "finished";
  if (auto e = uow.erase(input_namespace, j.id); !e) return e.error();
  if (auto e = index_update(uow, j.id, false); !e) return e.error();
  auto const expires = retention_expiry(now);
  if (expires)  // the documents were written without expiry while the job was open
    for (auto const& t : j.targets) {
      if (!t.has_document) continue;
      auto key = j.id + "/" + t.lang;
      auto doc = uow.get(output_namespace, key);
      if (!doc) return doc.error();
      if (*doc)
        if (auto p = uow.put(output_namespace, key, **doc, expires); !p) return p.error();
    }
  return uow.put(job_namespace, j.id, to_json(j), expires);
}

bool etranslation_connector::etranslation_failed(job& j, target_result& t,
                                                 std::string const& reason,
                                                 std::optional<std::int64_t> code,
                                                 std::int64_t now_ms) const {
  std::string why;
  if (t.fallback_allowed) {
    auto const pair = lower(j.source) + "-" + lower(t.lang);
    if (!apertium_ || !apertium_->mode_for(j.source, t.lang))
      why = "the pair " + pair + " is not installed (installed pairs: " +
            (apertium_ ? apertium_->installed_text() : std::string("none")) + ")";
    else if (j.document && !apertium_document_format(j.doc_format))
      why = "Apertium translates documents in the formats " + apertium_document_formats_text() +
            " only, not " + j.doc_format;
    if (why.empty()) {
      t.backend = "apertium";
      t.fallback = true;
      t.upstream_reason = reason;
      t.upstream_error_code = code;
      return true;
    }
  }
  t.status = lang_status::failed;
  t.reason = why.empty() ? reason : reason + "; no Apertium fallback: " + why;
  t.error_code = code;
  t.finished_ms = now_ms;
  return false;
}

void etranslation_connector::apply_results(std::string const& id,
                                           std::vector<target_outcome> const& results) {
  auto const now = ctx_.time.now();
  std::lock_guard lock(mutex_);
  bool finished = false;
  auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
    finished = false;
    auto loaded = load_job(uow, id);
    if (!loaded) return loaded.error();
    auto& j = *loaded;
    if (!j || j->state == "finished") return {};
    for (auto const& res : results) {
      auto* t = j->target(res.lang);
      if (!t || t->status != lang_status::pending || t->backend != "apertium") continue;
      t->finished_ms = to_ms(now);
      if (res.ok && j->document) {
        t->status = lang_status::done;
        t->has_document = true;
        if (auto p = uow.put(output_namespace, id + "/" + t->lang, base64_encode(res.text)); !p)
          return p.error();
      } else if (res.ok) {
        t->status = lang_status::done;
        t->text = res.text;
        if (cfg_.cache_ttl.count() > 0)
          if (auto p = uow.put(cache_namespace,
                               cache_key(t->backend, j->source, t->lang, j->domain, j->text),
                               res.text, cache_expiry(now));
              !p)
            return p.error();
      } else {
        t->status = lang_status::failed;
        if (t->fallback) {  // both reasons: eTranslation's, then Apertium's
          t->reason = t->upstream_reason + "; Apertium fallback failed: " + res.reason;
          t->error_code = t->upstream_error_code;
        } else {
          t->reason = res.reason;
        }
      }
      if (auto e = uow.emit(make_event(*j, *t, api_prefix, now, {})); !e) return e.error();
    }
    if (auto e = store_job(uow, *j, now); !e) return e.error();
    finished = j->state == "finished";
    return {};
  });
  if (!done) {
    ctx_.log.error("etranslation apertium results not stored",
                   {{"job", id}, {"error", done.error().message()}});
    return;
  }
  if (finished) job_finished(id);
}

bool etranslation_connector::translate_locally(job const& j) {
  std::vector<target_outcome> local;
  std::optional<std::string> doc;  // decoded once for every target
  for (auto const& t : j.targets) {
    if (t.status != lang_status::pending || t.backend != "apertium") continue;
    auto mode = apertium_ ? apertium_->mode_for(j.source, t.lang) : std::nullopt;
    if (!mode) {
      local.push_back({t.lang, false, {}, "Apertium pair no longer installed"});
      continue;
    }
    if (!j.document) {
      auto o = apertium_->translate(*mode, j.text);
      local.push_back({t.lang, o.ok, std::move(o.text), std::move(o.error)});
      continue;
    }
    auto format = apertium_document_format(j.doc_format);
    if (!doc) {
      auto in = ctx_.db.get(input_namespace, j.id);
      if (in && *in) doc = base64_decode(**in).value_or(std::string{});
    }
    if (!format || !doc || doc->empty()) {
      local.push_back({t.lang,
                       false,
                       {},
                       !format ? "Apertium cannot translate " + j.doc_format + " documents"
                               : "the document to translate is no longer stored"});
      continue;
    }
    auto o = apertium_->translate(*mode, *doc, *format, true);
    local.push_back({t.lang, o.ok, std::move(o.text), std::move(o.error)});
  }
  if (local.empty()) return false;
  apply_results(j.id, local);
  return true;
}

void etranslation_connector::run_fallbacks() {
  while (true) {
    std::string id;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || fallback_ids_.empty()) return;
      id = std::move(fallback_ids_.front());
      fallback_ids_.erase(fallback_ids_.begin());
    }
    auto rec = ctx_.db.get(job_namespace, id);
    if (!rec || !*rec) continue;
    if (auto j = job_from_json(**rec); j && j->state != "finished") translate_locally(*j);
  }
}

void etranslation_connector::fail_pending(std::string const& id, std::string const& reason,
                                          std::optional<std::int64_t> code) {
  auto const now = ctx_.time.now();
  std::lock_guard lock(mutex_);
  bool fallback = false;
  auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
    fallback = false;
    auto loaded = load_job(uow, id);
    if (!loaded) return loaded.error();
    auto& j = *loaded;
    if (!j || j->state == "finished") return {};
    for (auto& t : j->targets) {
      if (t.status != lang_status::pending || t.fallback) continue;  // fallbacks: Apertium's
      if (etranslation_failed(*j, t, reason, code, to_ms(now))) {
        fallback = true;
        continue;
      }
      if (auto e = uow.emit(make_event(*j, t, api_prefix, now, {})); !e) return e.error();
    }
    return store_job(uow, *j, now);
  });
  if (!done) {
    ctx_.log.error("etranslation job failure not stored",
                   {{"job", id}, {"error", done.error().message()}});
    return;  // stays where it is; retried on the next pass
  }
  ctx_.log.warn("etranslation job failed",
                {{"job", id}, {"reason", reason}, {"fallback", fallback ? "apertium" : "none"}});
  if (fallback) {
    fallback_ids_.push_back(id);
    cv_.notify_all();
  }
  job_finished(id);  // nothing left for eTranslation: free the slot (Apertium needs none)
}

void etranslation_connector::submit(std::string const& id) {
  auto rec = ctx_.db.get(job_namespace, id);
  if (!rec || !*rec) return;
  auto j = job_from_json(**rec);
  if (!j || j->state != "queued") return;
  // Apertium targets first, on this thread (a child process each, bounded by its timeout).
  if (translate_locally(*j)) {
    rec = ctx_.db.get(job_namespace, id);
    if (!rec || !*rec) return;
    j = job_from_json(**rec);
    if (!j || j->state != "queued") return;
  }
  if (std::none_of(j->targets.begin(), j->targets.end(), [](auto const& t) {
        return t.status == lang_status::pending && t.backend == "etranslation";
      }))
    return;
  std::string doc;
  if (j->document) {
    auto d = ctx_.db.get(input_namespace, id);
    if (!d || !*d) {
      fail_pending(id, "the document to translate is no longer stored", std::nullopt);
      return;
    }
    doc = std::move(**d);
  }
  auto out = upstream_.submit(build_request_body(cfg_, *j, urls_for(*j), doc));
  doc.clear();
  auto const now = ctx_.time.now();
  if (out.kind == submit_outcome::accepted) {
    upstream_accepted_->inc();
    std::lock_guard lock(mutex_);
    bool open = false;
    auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
      auto loaded = load_job(uow, id);
      if (!loaded) return loaded.error();
      auto& fresh = *loaded;
      if (!fresh) return {};
      fresh->upstream_id = out.request_id;
      fresh->attempts += 1;
      fresh->submitted_ms = to_ms(now);
      // Callbacks may have overtaken the synchronous answer and finished the job already.
      open = fresh->state != "finished";
      if (open) fresh->state = "submitted";
      if (!j->document)
        if (auto e = uow.erase(input_namespace, id); !e) return e.error();
      return store_job(uow, *fresh, now);
    });
    if (!done) {
      // The upstream has the job; callbacks still work (they carry the token). Keep the timer.
      ctx_.log.error("etranslation submission not recorded",
                     {{"job", id}, {"error", done.error().message()}});
      open = true;
    }
    if (open) {
      in_flight_[id] = now + std::chrono::duration_cast<sys_time::duration>(cfg_.callback_timeout);
      in_flight_gauge_->set(static_cast<double>(in_flight_.size()));
    }
    ctx_.log.info("etranslation job submitted",
                  {{"job", id}, {"request_id", std::to_string(out.request_id)}});
    return;
  }
  if (out.kind == submit_outcome::retry && j->attempts + 1 < cfg_.max_attempts) {
    upstream_retry_->inc();
    auto attempts = j->attempts + 1;
    auto backoff =
        cfg_.retry_backoff_min * (std::int64_t{1} << std::min<std::int64_t>(attempts - 1, 20));
    backoff = std::min(backoff, cfg_.retry_backoff_max);
    auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
      auto loaded = load_job(uow, id);
      if (!loaded) return loaded.error();
      auto& fresh = *loaded;
      if (!fresh) return {};
      fresh->attempts = attempts;
      return store_job(uow, *fresh, now);
    });
    (void)done;  // the attempt count is advisory; the job is queued again either way
    ctx_.log.warn("etranslation request deferred",
                  {{"job", id}, {"reason", out.reason}, {"attempt", std::to_string(attempts)}});
    enqueue(id, now + std::chrono::duration_cast<sys_time::duration>(backoff));
    return;
  }
  upstream_failed_->inc();
  std::string reason = out.reason;
  if (out.kind == submit_outcome::retry)
    reason += " (gave up after " + std::to_string(j->attempts + 1) + " attempts)";
  fail_pending(id, reason, out.error_code);
}

std::size_t etranslation_connector::tick() {
  auto const now = ctx_.time.now();
  std::vector<std::string> expired;
  {
    std::lock_guard lock(mutex_);
    for (auto const& [id, deadline] : in_flight_)
      if (deadline <= now) expired.push_back(id);
  }
  for (auto const& id : expired) {
    timeouts_->inc();
    fail_pending(id,
                 "timeout: no callback from eTranslation within " +
                     std::to_string(cfg_.callback_timeout.count()) + "ms",
                 std::nullopt);
    std::lock_guard lock(mutex_);
    job_finished(id);  // also when the failure could not be stored: free the slot
  }
  run_fallbacks();
  std::size_t sent = 0;
  while (true) {
    std::string id;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || in_flight_.size() >= static_cast<std::size_t>(cfg_.max_in_flight)) break;
      auto it =
          std::find_if(queue_.begin(), queue_.end(), [&](auto const& q) { return q.ready <= now; });
      if (it == queue_.end()) break;
      id = it->id;
      queue_.erase(it);
      queue_gauge_->set(static_cast<double>(queue_.size()));
    }
    submit(id);
    ++sent;
  }
  run_fallbacks();  // those the submissions just failed
  return sent;
}

// The ids of every open job: the union of the shards.
std::vector<std::string> etranslation_connector::open_job_ids() {
  std::vector<std::string> ids;
  for (std::size_t n = 0; n < open_shards; ++n) {
    auto shard = ctx_.db.get(open_namespace, open_shard_key(n));
    if (!shard) {
      ctx_.log.error("etranslation open-job shard not read",
                     {{"shard", open_shard_key(n)}, {"error", shard.error().message()}});
      continue;
    }
    for (auto& id : parse_index(*shard)) ids.push_back(std::move(id));
  }
  return ids;
}

void etranslation_connector::recover() {
  auto const now = ctx_.time.now();
  for (auto const& id : open_job_ids()) {
    auto rec = ctx_.db.get(job_namespace, id);
    if (!rec || !*rec) continue;
    auto j = job_from_json(**rec);
    if (!j) continue;
    std::lock_guard lock(mutex_);
    if (j->fallback_pending()) fallback_ids_.push_back(id);
    if (j->state == "queued") {
      if (std::none_of(queue_.begin(), queue_.end(), [&](auto const& q) { return q.id == id; }))
        queue_.push_back({id, now});
    } else if (j->state == "submitted") {
      in_flight_[id] = sys_time{std::chrono::duration_cast<sys_time::duration>(
                           std::chrono::milliseconds(j->submitted_ms))} +
                       std::chrono::duration_cast<sys_time::duration>(cfg_.callback_timeout);
    }
  }
  std::lock_guard lock(mutex_);
  in_flight_gauge_->set(static_cast<double>(in_flight_.size()));
  queue_gauge_->set(static_cast<double>(queue_.size()));
}

std::size_t etranslation_connector::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t etranslation_connector::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_.size();
}

void etranslation_connector::start() {
  if (thread_.joinable()) return;
  recover();
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void etranslation_connector::run() {
  // Wakes on new work and finished jobs, and at least every 100 ms for timers and backoff.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    tick();
    lock.lock();
    if (stopping_) break;
    cv_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void etranslation_connector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<builder> configure(config_reader& r) {
  auto cfg = read_config(r);
  if (!cfg) return std::nullopt;
  return builder(
      [cfg = std::move(*cfg)](connector_context& ctx) -> std::unique_ptr<bbgw::connector> {
        return std::make_unique<etranslation_connector>(cfg, ctx);
      });
}

}  // namespace bbgw::etranslation

#include "etranslation/job.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "etranslation/digest_auth.hpp"

namespace bbgw::etranslation {

namespace json = boost::json;

std::string_view status_name(lang_status s) {
  switch (s) {
    case lang_status::pending:
      return "pending";
    case lang_status::done:
      return "done";
    case lang_status::failed:
      return "failed";
  }
  return "pending";
}

target_result* job::target(std::string_view lang) {
  for (auto& t : targets)
    if (t.lang == lang) return &t;
  return nullptr;
}

bool job::fallback_pending() const {
  return std::any_of(targets.begin(), targets.end(),
                     [](auto const& t) { return t.status == lang_status::pending && t.fallback; });
}

bool job::all_finished() const {
  return std::all_of(targets.begin(), targets.end(),
                     [](auto const& t) { return t.status != lang_status::pending; });
}

std::string to_json(job const& j) {
  json::array targets;
  for (auto const& t : j.targets) {
    json::object o{{"lang", t.lang}, {"status", status_name(t.status)}};
    if (t.status == lang_status::done && !j.document) o["text"] = t.text;
    if (t.has_document) o["document"] = true;
    if (!t.reason.empty()) o["reason"] = t.reason;
    if (t.error_code) o["error_code"] = *t.error_code;
    if (t.finished_ms) o["finished_ms"] = t.finished_ms;
    if (t.cached) o["cached"] = true;
    o["backend"] = t.backend;
    if (t.fallback_allowed) o["fallback_allowed"] = true;
    if (t.fallback) {
      o["fallback"] = true;
      o["upstream_reason"] = t.upstream_reason;
      if (t.upstream_error_code) o["upstream_error_code"] = *t.upstream_error_code;
    }
    targets.push_back(std::move(o));
  }
  json::object o{{"id", j.id},
                 {"token", j.token},
                 {"source", j.source},
                 {"targets", std::move(targets)},
                 {"document", j.document},
                 {"text", j.text},
                 {"doc_format", j.doc_format},
                 {"doc_filename", j.doc_filename},
                 {"domain", j.domain},
                 {"state", j.state},
                 {"upstream_id", j.upstream_id},
                 {"attempts", j.attempts},
                 {"created_ms", j.created_ms},
                 {"submitted_ms", j.submitted_ms}};
  if (j.reference) o["reference"] = *j.reference;
  return json::serialize(o);
}

std::optional<job> job_from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto const& o = v.as_object();
  auto str = [&](json::object const& obj, char const* k) -> std::string {
    auto p = obj.if_contains(k);
    return p && p->is_string() ? std::string(p->as_string()) : std::string{};
  };
  auto num = [&](json::object const& obj, char const* k) -> std::int64_t {
    auto p = obj.if_contains(k);
    return p && p->is_int64() ? p->as_int64() : 0;
  };
  job j;
  j.id = str(o, "id");
  j.token = str(o, "token");
  j.source = str(o, "source");
  j.text = str(o, "text");
  j.doc_format = str(o, "doc_format");
  j.doc_filename = str(o, "doc_filename");
  j.domain = str(o, "domain");
  j.state = str(o, "state");
  j.upstream_id = num(o, "upstream_id");
  j.attempts = num(o, "attempts");
  j.created_ms = num(o, "created_ms");
  j.submitted_ms = num(o, "submitted_ms");
  if (auto p = o.if_contains("document"); p && p->is_bool()) j.document = p->as_bool();
  if (auto p = o.if_contains("reference"); p && p->is_string())
    j.reference = std::string(p->as_string());
  auto ts = o.if_contains("targets");
  if (!ts || !ts->is_array() || j.id.empty()) return std::nullopt;
  for (auto const& tv : ts->as_array()) {
    if (!tv.is_object()) return std::nullopt;
    auto const& to = tv.as_object();
    target_result t;
    t.lang = str(to, "lang");
    auto s = str(to, "status");
    t.status = s == "done"     ? lang_status::done
               : s == "failed" ? lang_status::failed
                               : lang_status::pending;
    t.text = str(to, "text");
    if (auto p = to.if_contains("document"); p && p->is_bool()) t.has_document = p->as_bool();
    t.reason = str(to, "reason");
    if (auto p = to.if_contains("error_code"); p && p->is_int64()) t.error_code = p->as_int64();
    t.finished_ms = num(to, "finished_ms");
    if (auto p = to.if_contains("cached"); p && p->is_bool()) t.cached = p->as_bool();
    if (auto b = str(to, "backend"); !b.empty()) t.backend = b;
    if (auto p = to.if_contains("fallback_allowed"); p && p->is_bool())
      t.fallback_allowed = p->as_bool();
    if (auto p = to.if_contains("fallback"); p && p->is_bool()) t.fallback = p->as_bool();
    t.upstream_reason = str(to, "upstream_reason");
    if (auto p = to.if_contains("upstream_error_code"); p && p->is_int64())
      t.upstream_error_code = p->as_int64();
    j.targets.push_back(std::move(t));
  }
  return j;
}

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ms_to_rfc3339(std::int64_t ms) {
  return format_rfc3339(
      sys_time{std::chrono::duration_cast<sys_time::duration>(std::chrono::milliseconds(ms))});
}

}  // namespace

std::string status_json(job const& j, std::string_view api_prefix) {
  std::string base = std::string(api_prefix) + "/" + j.id;
  json::object translations;
  std::size_t done = 0, failed = 0;
  bool cached = false;
  for (auto const& t : j.targets) {
    json::object o{{"status", status_name(t.status)}, {"backend", t.backend}};
    if (t.cached) {
      o["cached"] = true;
      cached = true;
    }
    if (t.status == lang_status::done) {
      ++done;
      if (j.document)
        o["document_url"] = base + "/documents/" + lower(t.lang);
      else
        o["text"] = t.text;
    } else if (t.status == lang_status::failed) {
      ++failed;
      o["reason"] = t.reason;
      if (t.error_code) o["error_code"] = *t.error_code;
    }
    if (t.fallback) {
      // Apertium translated (or is translating) this target because eTranslation failed.
      json::object f{{"from", "etranslation"}, {"reason", t.upstream_reason}};
      if (t.upstream_error_code) f["error_code"] = *t.upstream_error_code;
      o["fallback"] = std::move(f);
    }
    if (t.finished_ms) o["finished_at"] = ms_to_rfc3339(t.finished_ms);
    translations[lower(t.lang)] = std::move(o);
  }
  std::string overall = "pending";
  if (done + failed == j.targets.size())
    overall = failed == 0 ? "done" : done == 0 ? "failed" : "partially_failed";
  json::array targets;
  for (auto const& t : j.targets) targets.push_back(json::string(lower(t.lang)));
  json::object o{{"id", j.id},
                 {"status", overall},
                 {"cached", cached},
                 {"source_language", lower(j.source)},
                 {"target_languages", std::move(targets)},
                 {"kind", j.document ? "document" : "text"},
                 {"domain", j.domain},
                 {"created_at", ms_to_rfc3339(j.created_ms)},
                 {"upstream", json::object{{"state", j.state}, {"attempts", j.attempts}}},
                 {"translations", std::move(translations)}};
  if (j.upstream_id > 0) o["upstream"].as_object()["request_id"] = j.upstream_id;
  if (j.reference) o["reference"] = *j.reference;
  return json::serialize(o);
}

cloud_event make_event(job const& j, target_result const& t, std::string_view api_prefix,
                       sys_time now, std::string_view request_id) {
  bool ok = t.status == lang_status::done;
  std::string status_url = std::string(api_prefix) + "/" + j.id;
  json::object data{{"jobId", j.id},
                    {"sourceLanguage", lower(j.source)},
                    {"targetLanguage", lower(t.lang)},
                    {"kind", j.document ? "document" : "text"},
                    {"domain", j.domain},
                    {"backend", t.backend},
                    {"status", ok ? "done" : "failed"},
                    {"statusUrl", status_url}};
  if (j.reference) data["reference"] = *j.reference;
  if (j.upstream_id > 0) data["upstreamRequestId"] = j.upstream_id;
  if (ok && j.document) data["documentUrl"] = status_url + "/documents/" + lower(t.lang);
  if (ok && !j.document) data["textLength"] = t.text.size();
  if (ok) data["cached"] = t.cached;
  if (ok && t.fallback) {
    data["fallback"] = true;
    data["fallbackFrom"] = "etranslation";
    data["fallbackReason"] = t.upstream_reason;
    if (t.upstream_error_code) data["fallbackErrorCode"] = *t.upstream_error_code;
  }
  if (!ok) {
    data["reason"] = t.reason;
    if (t.error_code) data["errorCode"] = *t.error_code;
  }
  cloud_event ev;
  ev.id = new_event_id();
  ev.source = std::string(event_source);
  ev.type = std::string(ok ? completed_type : failed_type);
  ev.subject = j.id;
  ev.time = now;
  ev.datacontenttype = "application/json";
  ev.dataschema = std::string(ok ? completed_schema : failed_schema);
  ev.partitionkey = j.id;
  if (!request_id.empty()) ev.requestid = std::string(request_id);
  ev.data = std::move(data);
  ev.family = std::string(event_family);
  return ev;
}

std::string normalise_text(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string cache_key(std::string_view backend, std::string_view source, std::string_view target,
                      std::string_view domain, std::string_view text) {
  std::string const norm = normalise_text(text);
  std::string material;
  for (std::string_view f : {backend, source, target, domain, std::string_view(norm)}) {
    material += std::to_string(f.size());
    material += ':';
    material += f;
  }
  return hash_hex(digest_algorithm::sha256, material);
}

std::vector<std::string> parse_index(std::optional<std::string> const& text) {
  std::vector<std::string> ids;
  if (!text) return ids;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_array()) return ids;
  for (auto const& x : v.as_array())
    if (x.is_string()) ids.emplace_back(x.as_string());
  return ids;
}

std::string index_json(std::vector<std::string> const& ids) {
  json::array a;
  for (auto const& id : ids) a.push_back(json::string(id));
  return json::serialize(a);
}

std::size_t open_shard(std::string_view id) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : id) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return static_cast<std::size_t>(h % open_shards);
}

std::string open_shard_key(std::size_t n) {
  return std::to_string(n);
}

}  // namespace bbgw::etranslation

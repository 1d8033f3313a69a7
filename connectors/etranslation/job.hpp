#pragma once
// A translation job as stored (namespace etranslation.job, key = job id, value = JSON), and the
// events a finished target language produces.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/cloud_event.hpp"

namespace bbgw::etranslation {

inline constexpr std::string_view job_namespace = "etranslation.job";
inline constexpr std::string_view input_namespace = "etranslation.input";    // document base64
inline constexpr std::string_view output_namespace = "etranslation.output";  // "<id>/<LANG>"
// The ids of unfinished jobs, so a restart finds its queue and its timers. Sharded: key = shard
// number ("0".."63", open_shard_key), value = JSON array of the ids hashing to that shard. A job
// change rewrites only its shard (1/64 of the open set), not one record listing every open job.
inline constexpr std::string_view open_namespace = "etranslation.open";
inline constexpr std::size_t open_shards = 64;
// Cached text translations: key = cache_key(...), value = the translated text, with expiry.
inline constexpr std::string_view cache_namespace = "etranslation.cache";

inline constexpr std::string_view completed_type = "eu.bbgateway.translation.completed.v1";
inline constexpr std::string_view failed_type = "eu.bbgateway.translation.failed.v1";
inline constexpr std::string_view completed_schema =
    "https://bbgateway.eu/schemas/events/translation.completed.json";
inline constexpr std::string_view failed_schema =
    "https://bbgateway.eu/schemas/events/translation.failed.json";
inline constexpr std::string_view event_family = "translation";
inline constexpr std::string_view event_source = "/bbgw/etranslation";

enum class lang_status { pending, done, failed };
std::string_view status_name(lang_status s);

struct target_result {
  std::string lang;  // upper case
  lang_status status = lang_status::pending;
  std::string text;           // done, text jobs
  bool has_document = false;  // done, document jobs: in output_namespace
  std::string reason;         // failed
  std::optional<std::int64_t> error_code;
  std::int64_t finished_ms = 0;
  bool cached = false;                   // done from the cache, no upstream call
  std::string backend = "etranslation";  // or "apertium"
  // Configured "fallback" pair: when eTranslation fails for this target, Apertium translates it.
  bool fallback_allowed = false;
  // eTranslation failed and Apertium took over (backend is then "apertium"); eTranslation's
  // failure is kept so the status and the event can say why.
  bool fallback = false;
  std::string upstream_reason;
  std::optional<std::int64_t> upstream_error_code;
};

struct job {
  std::string id;
  std::string token;  // the callback token (never returned by the platform API)
  std::string source;
  std::vector<target_result> targets;
  bool document = false;
  std::string text;
  std::string doc_format, doc_filename;
  std::string domain;
  std::optional<std::string> reference;
  std::string state = "queued";  // queued | submitted | finished
  std::int64_t upstream_id = 0;
  std::int64_t attempts = 0;
  std::int64_t created_ms = 0;
  std::int64_t submitted_ms = 0;

  target_result* target(std::string_view lang);
  bool all_finished() const;
  // A target waiting for the Apertium fallback.
  bool fallback_pending() const;
};

std::string to_json(job const& j);
std::optional<job> job_from_json(std::string_view text);

// The platform view of a job (no token, no source text).
std::string status_json(job const& j, std::string_view api_prefix);

// The completed or failed event of one finished target language; key and subject = job id.
cloud_event make_event(job const& j, target_result const& t, std::string_view api_prefix,
                       sys_time now, std::string_view request_id);

// Whitespace trimmed and every run of whitespace made one space: what makes two texts the same
// request for the cache.
std::string normalise_text(std::string_view text);
// SHA-256 hex over the length-prefixed (backend, source, target, domain, normalised text): a
// translation is reused only for a request the same backend would translate.
std::string cache_key(std::string_view backend, std::string_view source, std::string_view target,
                      std::string_view domain, std::string_view text);

// Index helpers: a list of open-job ids as a JSON array.
std::vector<std::string> parse_index(std::optional<std::string> const& text);
std::string index_json(std::vector<std::string> const& ids);
// The shard of a job id: FNV-1a of the id mod open_shards, stable across builds and restarts.
std::size_t open_shard(std::string_view id);
// The store key of shard `n` in open_namespace (its decimal number).
std::string open_shard_key(std::size_t n);

}  // namespace bbgw::etranslation

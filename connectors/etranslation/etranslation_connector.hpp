#pragma once
// The eTranslation connector: the platform's translation API (create job, status, documents),
// the callback endpoints eTranslation calls, and a submit thread that sends queued jobs upstream
// under an in-flight quota, retries -20028 with backoff, and fails jobs whose callbacks never come.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/connector_context.hpp"
#include "etranslation/apertium.hpp"
#include "etranslation/config.hpp"
#include "etranslation/job.hpp"
#include "etranslation/upstream.hpp"

namespace bbgw::etranslation {

inline constexpr std::string_view api_prefix = "/api/v1/translations";

class etranslation_connector final : public bbgw::connector {
 public:
  etranslation_connector(etranslation_config cfg, connector_context& ctx);
  ~etranslation_connector() override;

  std::string_view name() const override { return "etranslation"; }
  std::vector<route> routes() override;
  // Reloads unfinished jobs from the store (queued ones are queued again, submitted ones get
  // their callback timer back) and starts the submit thread.
  void start() override;
  void stop() override;

  // The handlers (public for unit tests).
  response create(request const& r);
  response status(request const& r);
  response document(request const& r);
  // kind: "success" (requesterCallback), "document" (httpDestination), "error" (errorCallback).
  response callback(request const& r, std::string_view kind);

  // One pass of the submit thread on the calling thread: fail timed-out jobs, then submit queued
  // jobs whose time has come while the quota allows. Returns how many were sent upstream.
  std::size_t tick();
  // Loads the unfinished jobs from the store (what start() does before its thread starts).
  void recover();
  std::size_t queued() const;
  std::size_t in_flight() const;
  callback_urls urls_for(job const& j) const;

 private:
  // Every open job id, from the sharded index.
  std::vector<std::string> open_job_ids();
  struct queued_job {
    std::string id;
    sys_time ready;
  };
  void run();
  void enqueue(std::string id, sys_time ready);
  void submit(std::string const& id);
  // Marks every still-pending target of `id` failed and emits their events; finishes the job.
  void fail_pending(std::string const& id, std::string const& reason,
                    std::optional<std::int64_t> code);
  void job_finished(std::string const& id);
  struct target_outcome {
    std::string lang;
    bool ok = false;
    std::string text;    // ok: the translated text, or the translated document's bytes
    std::string reason;  // !ok
  };
  // Applies finished targets (Apertium results) with their events in one transaction.
  void apply_results(std::string const& id, std::vector<target_outcome> const& results);
  // Translates the pending Apertium targets of `j` (its own and eTranslation's fallbacks) on the
  // calling thread and applies the results; false when there were none.
  bool translate_locally(job const& j);
  // Runs the Apertium fallbacks queued by failures (callbacks, submit, timeouts).
  void run_fallbacks();
  // eTranslation failed target `t` of `j`: when its pair falls back and Apertium can translate
  // it, hands it to Apertium (still pending; true: the caller queues the job for the fallback,
  // no event yet); otherwise marks it failed, with both reasons when a fallback was wanted.
  bool etranslation_failed(job& j, target_result& t, std::string const& reason,
                           std::optional<std::int64_t> code, std::int64_t now_ms) const;
  // Writes `j` in `uow`. When every target is finished: state finished, input erased, removed
  // from the open-job index, and the job and its translated documents expire after retention.
  result<void> store_job(unit_of_work& uow, job& j, sys_time now) const;
  std::optional<sys_time> retention_expiry(sys_time now) const;
  std::optional<sys_time> cache_expiry(sys_time now) const;
  response reject(unsigned status, std::string const& reason, std::string const& detail,
                  request const& r);

  etranslation_config cfg_;
  connector_context& ctx_;
  std::string callback_base_;
  upstream_client upstream_;
  std::optional<apertium_backend> apertium_;  // when some pair may use it
  counter* accepted_;
  counter* callbacks_ok_;
  counter* callbacks_duplicate_;
  counter* upstream_accepted_;
  counter* upstream_retry_;
  counter* upstream_failed_;
  counter* timeouts_;
  gauge* in_flight_gauge_;
  gauge* queue_gauge_;
  metrics& stats_;

  mutable std::mutex mutex_;  // queue_, in_flight_, stopping_; held around job transitions
  std::condition_variable cv_;
  std::deque<queued_job> queue_;
  std::map<std::string, sys_time> in_flight_;  // job id -> callback deadline
  std::vector<std::string> fallback_ids_;      // jobs with targets waiting for Apertium
  bool stopping_ = false;
  std::thread thread_;
};

using builder = std::function<std::unique_ptr<bbgw::connector>(connector_context&)>;

// The connector table's `configure`: reads connectors.etranslation (throws config_error naming
// the key); nothing when disabled.
std::optional<builder> configure(config_reader& r);

}  // namespace bbgw::etranslation

#pragma once
// POST {notify_path_prefix}/{broker}/{subscription}: checks the subscription's token, normalises
// the notification and emits one event per entity in ONE store transaction together with a
// dedupe record, answering 204 only once that transaction is durable.
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "bbgw/store.hpp"
#include "context/config.hpp"
#include "context/context_errc.hpp"

namespace bbgw::context {

// The store namespace of the dedupe records (key: the notification's dedupe key).
inline constexpr std::string_view dedupe_namespace = "context.notification";
// The header that carries the notify token (alternative: the `token` query parameter).
inline constexpr std::string_view token_header = "X-Bbgw-Notify-Token";

class notify_handler {
 public:
  notify_handler(context_config const& cfg, store& db, clock const& time, metrics& stats,
                 logger& log);

  // Expects the router's {broker} and {subscription} parameters. Blocks until durable.
  response handle(request const& r);
  // The same without holding a thread: checks and normalises on the calling (I/O) thread, then
  // responds from the store's thread once the transaction is durable (store::transact_async).
  void handle_async(request const& r, responder respond);
  // The route (asynchronous; body limit twice body_limit so that bodies up to that size get
  // the NGSI 413 from the handler rather than the server's generic one).
  route make_route();
  // Notification buffers waiting for reuse (observability, tests).
  std::size_t pooled_buffers() { return pool_.size(); }

  // The NGSI error body: {"error": ..., "description": ...}.
  static response ngsi_error_response(errc e, std::string const& description);

 private:
  struct sub_metrics {
    counter* accepted;
    counter* duplicate;
    counter* entities;
  };
  // A checked, normalised notification ready to be stored, already serialised: every byte the
  // transaction writes is in `text` (one buffer), the events are views into it. Made on the
  // calling (I/O) thread, so the store's single writer thread only binds and writes rows, and
  // nothing that thread touches was allocated per entity.
  struct prepared {
    broker_config const* broker = nullptr;
    subscription_config const* sub = nullptr;
    sub_metrics const* m = nullptr;
    std::string const* dedupe_value = nullptr;  // "<broker>/<subscription>"
    std::string text;
    std::vector<serialised_event> events;  // views into text
    std::string_view dedupe_key;           // a view into text
    // The same notification's key in gateways before the time prefix (a suffix of dedupe_key),
    // looked up during the first dedupe_window after start; empty otherwise.
    std::string_view legacy_key;
    sys_time expires{};
    response accepted;       // the 204 of a fresh notification, built before the transaction
    bool duplicate = false;  // set by the transaction
    // The first block of the notification's JSON arena while it is normalised (enough for a
    // notification of a few entities, which then allocates nothing for its JSON).
    static constexpr std::size_t scratch_size = 16 * 1024;
    std::unique_ptr<unsigned char[]> scratch;
    // handle_async: what the completion needs, so that it captures only this object.
    notify_handler* self = nullptr;
    request const* req = nullptr;
    responder respond;
  };
  // Finished notifications' buffers, reused by the next ones: the store's thread hands them
  // back instead of freeing memory another thread allocated (cross-thread frees contend on the
  // allocator's arenas), and the steady state allocates nothing for them.
  class prepared_pool {
   public:
    std::unique_ptr<prepared> take();
    void give(std::unique_ptr<prepared> p);
    std::size_t size();

   private:
    std::mutex mutex_;
    std::vector<std::unique_ptr<prepared>> free_;
  };

  // Either the rejection to answer or the notification to store.
  std::variant<response, std::unique_ptr<prepared>> prepare(request const& r);
  static result<void> store_work(prepared& p, unit_of_work& uow);
  response finish(prepared& p, result<void> const& done, request const& r);

  response reject(errc e, std::string const& description, request const& r,
                  broker_config const* b = nullptr, subscription_config const* s = nullptr);
  static sys_time legacy_lookups_until(store& db, sys_time now, std::chrono::nanoseconds window);

  context_config const& cfg_;
  store& db_;
  clock const& time_;
  logger& log_;
  std::map<std::pair<std::string, std::string>,
           std::pair<std::pair<broker_config const*, subscription_config const*>, sub_metrics>,
           std::less<>>
      subs_;
  std::map<errc, counter*> rejected_;
  std::map<std::pair<std::string, std::string>, std::string, std::less<>> dedupe_values_;
  prepared_pool pool_;
  // Until then, dedupe records written by a gateway before the time-prefixed keys may still be
  // unexpired (they were all written before this handler existed); the start time itself when
  // the store held no dedupe record then.
  sys_time legacy_until_;
};

}  // namespace bbgw::context

#pragma once
// POST {notify_path_prefix}/{broker}/{subscription}: checks the subscription's token, normalises
// the notification and emits one event per entity in ONE store transaction together with a
// dedupe record, answering 204 only once that transaction is durable.
#include <map>
#include <memory>
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

  // The NGSI error body: {"error": ..., "description": ...}.
  static response ngsi_error_response(errc e, std::string const& description);

 private:
  struct sub_metrics {
    counter* accepted;
    counter* duplicate;
    counter* entities;
  };
  // A checked, normalised notification ready to be stored.
  struct prepared {
    broker_config const* broker = nullptr;
    subscription_config const* sub = nullptr;
    sub_metrics const* m = nullptr;
    std::vector<cloud_event> events;
    std::string dedupe_key;
    sys_time expires;
    bool duplicate = false;  // set by the transaction
  };
  // Either the rejection to answer or the notification to store.
  std::variant<response, std::shared_ptr<prepared>> prepare(request const& r);
  static result<void> store_work(prepared& p, unit_of_work& uow);
  response finish(prepared const& p, result<void> const& done, request const& r);

  response reject(errc e, std::string const& description, request const& r,
                  broker_config const* b = nullptr, subscription_config const* s = nullptr);

  context_config const& cfg_;
  store& db_;
  clock const& time_;
  logger& log_;
  std::map<std::pair<std::string, std::string>,
           std::pair<std::pair<broker_config const*, subscription_config const*>, sub_metrics>,
           std::less<>>
      subs_;
  std::map<errc, counter*> rejected_;
};

}  // namespace bbgw::context

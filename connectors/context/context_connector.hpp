#pragma once
// The context-broker connector: notify endpoints for NGSI-v2 and NGSI-LD brokers, and a
// background thread that keeps each broker's subscriptions in line with the config.
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/connector_context.hpp"
#include "context/config.hpp"
#include "context/notify_handler.hpp"
#include "context/subscription_sync.hpp"

namespace bbgw::context {

class context_connector final : public bbgw::connector {
 public:
  context_connector(context_config cfg, connector_context& ctx);
  ~context_connector() override;

  std::string_view name() const override { return "context"; }
  std::vector<route> routes() override;
  // Starts the sync thread: one pass per managed broker at once, then every resync_interval
  // (sooner, at most 5 s, after a failed pass).
  void start() override;
  // Wakes and joins the sync thread (an in-flight broker call ends within request_timeout).
  void stop() override;

  // For tests: one pass over every managed broker, on the calling thread.
  std::vector<sync_report> sync_now();
  context_config const& config() const { return cfg_; }

 private:
  void run();

  context_config cfg_;
  connector_context& ctx_;
  notify_handler notify_;
  std::vector<std::unique_ptr<subscription_sync>> syncs_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

using builder = std::function<std::unique_ptr<bbgw::connector>(connector_context&)>;

// The connector table's `configure`: reads connectors.context (throws config_error naming the
// key); nothing when disabled.
std::optional<builder> configure(config_reader& r);

}  // namespace bbgw::context

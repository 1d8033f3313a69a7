#include "context/context_connector.hpp"

namespace bbgw::context {

context_connector::context_connector(context_config cfg, connector_context& ctx)
    : cfg_(std::move(cfg)), ctx_(ctx), notify_(cfg_, ctx.db, ctx.time, ctx.stats, ctx.log) {
  for (auto const& b : cfg_.brokers)
    if (b.manage_subscriptions)
      syncs_.push_back(
          std::make_unique<subscription_sync>(b, ctx.public_base_url, cfg_.notify_path_prefix,
                                              cfg_.request_timeout, ctx.http, ctx.stats, ctx.log));
}

context_connector::~context_connector() {
  stop();
}

std::vector<route> context_connector::routes() {
  return {notify_.make_route()};
}

std::vector<sync_report> context_connector::sync_now() {
  std::vector<sync_report> out;
  for (auto& s : syncs_) out.push_back(s->run_once());
  return out;
}

void context_connector::start() {
  if (syncs_.empty() || thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void context_connector::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    bool all_ok = true;
    for (auto& s : syncs_) {
      {
        std::lock_guard check(mutex_);
        if (stopping_) return;
      }
      all_ok = s->run_once().ok && all_ok;
    }
    lock.lock();
    auto wait = cfg_.resync_interval;
    if (!all_ok) wait = std::min(wait, std::chrono::milliseconds(5000));
    cv_.wait_for(lock, wait, [this] { return stopping_; });
  }
}

void context_connector::stop() {
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
        return std::make_unique<context_connector>(cfg, ctx);
      });
}

}  // namespace bbgw::context

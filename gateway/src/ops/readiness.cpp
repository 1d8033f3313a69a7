#include "ops/readiness.hpp"

#include <boost/json/serialize.hpp>

namespace bbgw::ops {

readiness_monitor::readiness_monitor(std::vector<probe> probes,
                                     std::chrono::milliseconds interval, bbgw::logger& log)
    : probes_(std::move(probes)), interval_(interval), log_(log), last_ok_(probes_.size(), true) {
  current_.body = R"({"status":"not_ready","components":{}})";
}

readiness_monitor::~readiness_monitor() { stop(); }

void readiness_monitor::start() {
  refresh();
  thread_ = std::thread([this] { loop(); });
}

void readiness_monitor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void readiness_monitor::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

void readiness_monitor::refresh() {
  boost::json::object components;
  bool ready = true;
  for (std::size_t i = 0; i < probes_.size(); ++i) {
    component_state st;
    try {
      st = probes_[i].check();
    } catch (std::exception const& e) {
      st.ok = false;
      st.detail["error"] = e.what();
    }
    if (st.ok != last_ok_[i]) {
      // Log transitions only, not every probe.
      if (st.ok)
        log_.info("component ready", {{"component", probes_[i].name}});
      else
        log_.warn("component not ready", {{"component", probes_[i].name}});
      last_ok_[i] = st.ok;
    }
    st.detail["ready"] = st.ok;
    components[probes_[i].name] = std::move(st.detail);
    ready = ready && st.ok;
  }
  boost::json::object body;
  body["status"] = ready ? "ready" : "not_ready";
  body["components"] = std::move(components);
  std::string text = boost::json::serialize(body);
  std::lock_guard lock(mutex_);
  current_.ready = ready;
  current_.body = std::move(text);
}

readiness_monitor::snapshot readiness_monitor::current() const {
  std::lock_guard lock(mutex_);
  return current_;
}

}  // namespace bbgw::ops

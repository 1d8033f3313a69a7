#pragma once
// Test doubles for the gateway's small interfaces: a logger that records lines, a metrics
// registry that records values, and a clock tests move by hand.
#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"

namespace bbgw::testing {

class fake_logger final : public bbgw::logger {
 public:
  struct line {
    log_level level;
    std::string message;
    std::vector<std::pair<std::string, std::string>> fields;
  };
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields = {}) override {
    line l{level, std::string(message), {}};
    for (auto const& f : fields) l.fields.emplace_back(std::string(f.key), f.value);
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(l));
  }
  fake_logger() = default;
  // Records only lines at or above `min` (the default records everything).
  explicit fake_logger(log_level min) : min_(min) {}
  bool enabled(log_level level) const override { return level >= min_; }

  std::vector<line> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // True when some line's message contains `text`.
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](line const& l) { return l.message.find(text) != std::string::npos; });
  }
  // True when some line has exactly `message` and every given field with exactly that value
  // (e.g. contains("bad request", {{"reason", "malformed"}})).
  bool contains(std::string_view message,
                std::initializer_list<std::pair<std::string_view, std::string_view>> want) const {
    std::lock_guard lock(mutex_);
    return std::any_of(lines_.begin(), lines_.end(), [&](line const& l) {
      return l.message == message && std::all_of(want.begin(), want.end(), [&](auto const& kv) {
               return std::any_of(l.fields.begin(), l.fields.end(), [&](auto const& f) {
                 return f.first == kv.first && f.second == kv.second;
               });
             });
    });
  }
  // Aliases kept for tests written against them.
  std::vector<line> entries() const { return lines(); }
  bool any_field_contains(std::string_view text) const { return mentions(text); }
  // True when `text` appears anywhere: a message, a field key or a field value.
  bool mentions(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (auto const& l : lines_) {
      if (l.message.find(text) != std::string::npos) return true;
      for (auto const& [k, v] : l.fields)
        if (k.find(text) != std::string::npos || v.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  log_level min_ = log_level::debug;
  mutable std::mutex mutex_;
  std::vector<line> lines_;
};

class fake_metrics final : public bbgw::metrics {
 public:
  struct value_cell final : bbgw::counter, bbgw::gauge, bbgw::histogram {
    void inc(double v) override { add_(v); }
    void set(double v) override { value.store(v); }
    void add(double v) override { add_(v); }
    void observe(double v) override {
      add_(v);
      ++observations;
    }
    std::atomic<double> value{0};
    std::atomic<std::uint64_t> observations{0};

   private:
    void add_(double v) {
      double cur = value.load();
      while (!value.compare_exchange_weak(cur, cur + v)) {
      }
    }
  };

  bbgw::counter& make_counter(std::string_view name, std::string_view,
                              metric_labels labels = {}) override {
    return cell(name, labels);
  }
  bbgw::gauge& make_gauge(std::string_view name, std::string_view,
                          metric_labels labels = {}) override {
    return cell(name, labels);
  }
  bbgw::histogram& make_histogram(std::string_view name, std::string_view, std::vector<double>,
                                  metric_labels labels = {}) override {
    return cell(name, labels);
  }

  // The value of a series (sum of observations for histograms); 0 when never registered.
  double value(std::string_view name, metric_labels const& labels = {}) const {
    std::lock_guard lock(mutex_);
    auto it = cells_.find(key(name, labels));
    return it == cells_.end() ? 0 : it->second->value.load();
  }
  std::uint64_t observations(std::string_view name, metric_labels const& labels = {}) const {
    std::lock_guard lock(mutex_);
    auto it = cells_.find(key(name, labels));
    return it == cells_.end() ? 0 : it->second->observations.load();
  }
  // Named aliases of value()/observations(), kept for tests written against them.
  double counter_value(std::string_view name, metric_labels const& labels = {}) const {
    return value(name, labels);
  }
  double gauge_value(std::string_view name, metric_labels const& labels = {}) const {
    return value(name, labels);
  }
  std::uint64_t histogram_count(std::string_view name, metric_labels const& labels = {}) const {
    return observations(name, labels);
  }
  // Sum over every label set of a name.
  double total(std::string_view name) const {
    std::lock_guard lock(mutex_);
    double sum = 0;
    std::string prefix = std::string(name) + "{";
    for (auto const& [k, c] : cells_)
      if (k.starts_with(prefix)) sum += c->value.load();
    return sum;
  }

 private:
  // Label order does not matter: a series is the same whatever order its labels are given in.
  static std::string key(std::string_view name, metric_labels labels) {
    std::sort(labels.begin(), labels.end());
    std::string k = std::string(name) + "{";
    for (auto const& [a, b] : labels) k += a + "=" + b + ",";
    return k + "}";
  }
  value_cell& cell(std::string_view name, metric_labels const& labels) {
    std::lock_guard lock(mutex_);
    auto& p = cells_[key(name, labels)];
    if (!p) p = std::make_unique<value_cell>();
    return *p;
  }
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<value_cell>> cells_;
};

class manual_clock final : public bbgw::clock {
 public:
  explicit manual_clock(sys_time start = sys_time{std::chrono::seconds(1790000000)})
      : now_(start.time_since_epoch().count()) {}
  sys_time now() const override { return sys_time{sys_time::duration{now_.load()}}; }
  void advance(std::chrono::nanoseconds d) {
    now_ += std::chrono::duration_cast<sys_time::duration>(d).count();
  }
  void set(sys_time t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<sys_time::duration::rep> now_;
};

}  // namespace bbgw::testing

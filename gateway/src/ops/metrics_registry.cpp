#include "ops/metrics_registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace bbgw::ops {

namespace {

bool valid_name(std::string_view n) {
  if (n.empty()) return false;
  for (std::size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string format_double(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string render_labels(metric_labels const& labels) {
  std::string out;
  for (auto const& [k, v] : labels) {
    if (!valid_name(k) || k.starts_with("__")) throw std::invalid_argument("bad label name " + k);
    out += out.empty() ? "" : ",";
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  return out;
}

void add_atomic(std::atomic<double>& a, double v) {
  double cur = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(cur, cur + v, std::memory_order_relaxed)) {
  }
}

class counter_impl final : public counter {
 public:
  void inc(double v) override {
    if (v > 0) add_atomic(value, v);
  }
  std::atomic<double> value{0};
};

class gauge_impl final : public gauge {
 public:
  void set(double v) override { value.store(v, std::memory_order_relaxed); }
  void add(double v) override { add_atomic(value, v); }
  std::atomic<double> value{0};
};

class histogram_impl final : public histogram {
 public:
  explicit histogram_impl(std::vector<double> const& b)
      : bounds(b), counts(std::make_unique<std::atomic<std::uint64_t>[]>(b.size() + 1)) {}
  void observe(double v) override {
    std::size_t i = static_cast<std::size_t>(
        std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
    counts[i].fetch_add(1, std::memory_order_relaxed);
    add_atomic(sum, v);
  }
  std::vector<double> bounds;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;  // per bucket, last = +Inf
  std::atomic<double> sum{0};
};

}  // namespace

struct metrics_registry::series {
  std::string labels;  // rendered
  std::unique_ptr<counter_impl> c;
  std::unique_ptr<gauge_impl> g;
  std::unique_ptr<histogram_impl> h;
};

metrics_registry::metrics_registry() = default;
metrics_registry::~metrics_registry() = default;

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::vector<double> metrics_registry::latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};
}

metrics_registry::family& metrics_registry::family_for(std::string_view name,
                                                       std::string_view help, kind type,
                                                       std::vector<double> const& buckets) {
  if (!valid_name(name)) throw std::invalid_argument("bad metric name " + std::string(name));
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), family{type, std::string(help), buckets, {}}).first;
  } else if (it->second.type != type) {
    throw std::invalid_argument("metric " + std::string(name) + " registered with another type");
  }
  return it->second;
}

metrics_registry::series& metrics_registry::series_for(std::string_view name,
                                                       std::string_view help, kind type,
                                                       std::vector<double> const& buckets,
                                                       metric_labels const& labels) {
  std::string key = render_labels(labels);
  std::lock_guard lock(mutex_);
  family& f = family_for(name, help, type, buckets);
  auto& slot = f.by_labels[key];
  if (!slot) {
    slot = std::make_unique<series>();
    slot->labels = key;
    switch (type) {
      case kind::counter: slot->c = std::make_unique<counter_impl>(); break;
      case kind::gauge: slot->g = std::make_unique<gauge_impl>(); break;
      case kind::histogram: slot->h = std::make_unique<histogram_impl>(f.buckets); break;
    }
  }
  return *slot;
}

counter& metrics_registry::make_counter(std::string_view name, std::string_view help,
                                        metric_labels labels) {
  return *series_for(name, help, kind::counter, {}, labels).c;
}

gauge& metrics_registry::make_gauge(std::string_view name, std::string_view help,
                                    metric_labels labels) {
  return *series_for(name, help, kind::gauge, {}, labels).g;
}

histogram& metrics_registry::make_histogram(std::string_view name, std::string_view help,
                                            std::vector<double> buckets, metric_labels labels) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  if (buckets.empty()) buckets = latency_buckets();
  return *series_for(name, help, kind::histogram, buckets, labels).h;
}

std::string metrics_registry::render() const {
  std::string out;
  out.reserve(8192);
  std::lock_guard lock(mutex_);
  for (auto const& [name, f] : families_) {
    out += "# HELP " + name + " ";
    for (char c : f.help) out += c == '\n' ? std::string("\\n") : std::string(1, c);
    out += "\n# TYPE " + name + " ";
    out += f.type == kind::counter ? "counter" : f.type == kind::gauge ? "gauge" : "histogram";
    out += '\n';
    for (auto const& [labels, s] : f.by_labels) {
      auto with = [&](std::string const& extra) {
        std::string l = labels;
        if (!extra.empty()) l += (l.empty() ? "" : ",") + extra;
        return l.empty() ? std::string{} : "{" + l + "}";
      };
      if (s->c) {
        out += name + with("") + " " + format_double(s->c->value.load()) + "\n";
      } else if (s->g) {
        out += name + with("") + " " + format_double(s->g->value.load()) + "\n";
      } else {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= s->h->bounds.size(); ++i) {
          cumulative += s->h->counts[i].load();
          std::string le =
              i < s->h->bounds.size() ? format_double(s->h->bounds[i]) : std::string("+Inf");
          out += name + "_bucket" + with("le=\"" + le + "\"") + " " + std::to_string(cumulative) +
                 "\n";
        }
        out += name + "_sum" + with("") + " " + format_double(s->h->sum.load()) + "\n";
        out += name + "_count" + with("") + " " + std::to_string(cumulative) + "\n";
      }
    }
  }
  return out;
}

}  // namespace bbgw::ops

#pragma once
// The Prometheus registry behind bbgw::metrics: lock-free updates, rendering under a lock.
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bbgw/metrics.hpp"

namespace bbgw::ops {

class metrics_registry final : public bbgw::metrics {
 public:
  metrics_registry();
  ~metrics_registry() override;
  counter& make_counter(std::string_view name, std::string_view help,
                        metric_labels labels = {}) override;
  gauge& make_gauge(std::string_view name, std::string_view help,
                    metric_labels labels = {}) override;
  histogram& make_histogram(std::string_view name, std::string_view help,
                            std::vector<double> buckets, metric_labels labels = {}) override;

  // Prometheus text exposition format 0.0.4.
  std::string render() const;

  // Default latency buckets in seconds (100 µs .. 10 s).
  static std::vector<double> latency_buckets();

 private:
  enum class kind { counter, gauge, histogram };
  struct series;
  struct family {
    kind type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, std::unique_ptr<series>> by_labels;  // key: rendered label set
  };
  family& family_for(std::string_view name, std::string_view help, kind type,
                     std::vector<double> const& buckets);
  series& series_for(std::string_view name, std::string_view help, kind type,
                     std::vector<double> const& buckets, metric_labels const& labels);

  mutable std::mutex mutex_;
  std::map<std::string, family, std::less<>> families_;
};

// Escapes a label value for the text format (backslash, quote, newline).
std::string escape_label_value(std::string_view v);

}  // namespace bbgw::ops

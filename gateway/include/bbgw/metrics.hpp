#pragma once
// Metrics a component registers once and updates on its path (Prometheus text exposition).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbgw {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

class counter {
 public:
  virtual ~counter() = default;
  virtual void inc(double v = 1) = 0;
};

class gauge {
 public:
  virtual ~gauge() = default;
  virtual void set(double v) = 0;
  virtual void add(double v) = 0;
};

class histogram {
 public:
  virtual ~histogram() = default;
  virtual void observe(double v) = 0;
};

// Returned references live as long as the registry; the same name and labels give the same
// object. Names follow Prometheus conventions (bbgw_<part>_<what>_<unit>).
class metrics {
 public:
  virtual ~metrics() = default;
  virtual counter& make_counter(std::string_view name, std::string_view help,
                                metric_labels labels = {}) = 0;
  virtual gauge& make_gauge(std::string_view name, std::string_view help,
                            metric_labels labels = {}) = 0;
  virtual histogram& make_histogram(std::string_view name, std::string_view help,
                                    std::vector<double> buckets, metric_labels labels = {}) = 0;
};

}  // namespace bbgw

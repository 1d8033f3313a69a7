#pragma once
// Silent stand-ins for the logger and metrics in benchmarks, so neither is measured.
#include <string_view>
#include <vector>

#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"

namespace bbgw::bench {

class quiet_logger final : public bbgw::logger {
 public:
  void log(bbgw::log_level, std::string_view, std::initializer_list<bbgw::log_field>) override {}
  bool enabled(bbgw::log_level) const override { return false; }
};

class null_metrics final : public bbgw::metrics {
  struct cell final : bbgw::counter, bbgw::gauge, bbgw::histogram {
    void inc(double) override {}
    void set(double) override {}
    void add(double) override {}
    void observe(double) override {}
  };
  cell cell_;

 public:
  bbgw::counter& make_counter(std::string_view, std::string_view, bbgw::metric_labels) override {
    return cell_;
  }
  bbgw::gauge& make_gauge(std::string_view, std::string_view, bbgw::metric_labels) override {
    return cell_;
  }
  bbgw::histogram& make_histogram(std::string_view, std::string_view, std::vector<double>,
                                  bbgw::metric_labels) override {
    return cell_;
  }
};

}  // namespace bbgw::bench

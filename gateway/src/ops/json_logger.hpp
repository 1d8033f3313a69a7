#pragma once
// bbgw::logger on spdlog: one JSON object per line (or key=value text for humans).
#include <memory>
#include <string>

#include "bbgw/logger.hpp"

namespace spdlog {
class logger;
}

namespace bbgw::ops {

struct log_settings {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "json";  // json | text
  std::string file;             // empty = standard output
};

class json_logger final : public bbgw::logger {
 public:
  // Throws std::runtime_error if the log file cannot be opened (startup only).
  explicit json_logger(log_settings const& s);
  ~json_logger() override;
  void log(log_level level, std::string_view message,
           std::initializer_list<log_field> fields = {}) override;
  bool enabled(log_level level) const override { return level >= min_; }
  void flush();

 private:
  std::shared_ptr<spdlog::logger> out_;
  log_level min_;
  bool json_;
};

log_level parse_log_level(std::string_view s);

}  // namespace bbgw::ops

#pragma once
// Structured logging. Fields are key/value strings; never log tokens, assertions, payloads or
// personal attribute values.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace bbgw {

enum class log_level { debug, info, warn, error };

struct log_field {
  std::string_view key;
  std::string value;
};

class logger {
 public:
  virtual ~logger() = default;
  virtual void log(log_level level, std::string_view message,
                   std::initializer_list<log_field> fields = {}) = 0;
  virtual bool enabled(log_level level) const = 0;

  void debug(std::string_view m, std::initializer_list<log_field> f = {}) {
    if (enabled(log_level::debug)) log(log_level::debug, m, f);
  }
  void info(std::string_view m, std::initializer_list<log_field> f = {}) {
    log(log_level::info, m, f);
  }
  void warn(std::string_view m, std::initializer_list<log_field> f = {}) {
    log(log_level::warn, m, f);
  }
  void error(std::string_view m, std::initializer_list<log_field> f = {}) {
    log(log_level::error, m, f);
  }
};

}  // namespace bbgw

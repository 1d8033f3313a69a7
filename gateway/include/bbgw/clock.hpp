#pragma once
// The clock every time-dependent rule reads, so tests can inject time.
#include <chrono>

namespace bbgw {

using sys_time = std::chrono::system_clock::time_point;

class clock {
 public:
  virtual ~clock() = default;
  virtual sys_time now() const = 0;
};

class system_clock final : public clock {
 public:
  sys_time now() const override { return std::chrono::system_clock::now(); }
};

}  // namespace bbgw

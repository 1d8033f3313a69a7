#pragma once
// The context connector's test doubles: a clock tests move by hand, and the shared in-memory
// store (tests/support/memory_store.hpp).
#include <chrono>

#include "bbgw/clock.hpp"
#include "support/memory_store.hpp"

namespace bbgw::context::testing {

class manual_clock final : public bbgw::clock {
 public:
  sys_time now() const override { return now_; }
  void advance(std::chrono::milliseconds d) { now_ += d; }
  sys_time now_ = sys_time{} + std::chrono::hours(24 * 365 * 56);
};

using fake_store = bbgw::testing::memory_store;

}  // namespace bbgw::context::testing

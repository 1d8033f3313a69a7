#pragma once
// Where connectors put events. `publish` returns once the event is durable in the outbox;
// Kafka delivery follows asynchronously. To store state and its event atomically, use
// store::transact and unit_of_work::emit instead.
#include <span>

#include "bbgw/cloud_event.hpp"
#include "bbgw/result.hpp"

namespace bbgw {

class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual result<void> publish(cloud_event const& ev) = 0;
  // All of `events` in one durable step, in order, or none of them (e.g. the entities of one
  // notification). Cheaper per event than separate publishes.
  virtual result<void> publish(std::span<cloud_event const> events) = 0;
};

}  // namespace bbgw

#pragma once
// Where connectors put events. `publish` returns once the event is durable in the outbox;
// Kafka delivery follows asynchronously. To store state and its event atomically, use
// store::transact and unit_of_work::emit instead.
#include "bbgw/cloud_event.hpp"
#include "bbgw/result.hpp"

namespace bbgw {

class event_sink {
 public:
  virtual ~event_sink() = default;
  virtual result<void> publish(cloud_event const& ev) = 0;
};

}  // namespace bbgw

#pragma once
// Where connectors put events. `publish` returns once the event is durable in the outbox;
// Kafka delivery follows asynchronously. To store state and its event atomically, use
// store::transact and unit_of_work::emit instead.
#include <functional>
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

  using completion = std::function<void(result<void>)>;
  // publish(ev) without blocking the caller: still one durable step for this one event, but
  // `done` is called later, from another thread, once it is durable (or failed), so one thread
  // can have many single events in flight and they share group commits. `done` must only hand
  // the outcome on (no blocking, no store calls). The default publishes at once and calls
  // `done` on the calling thread.
  virtual void publish_async(cloud_event ev, completion done) { done(publish(ev)); }
};

}  // namespace bbgw

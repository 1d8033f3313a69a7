#pragma once
// The event sink connectors get: each publish is one store transaction, so it
// returns once the event is durable in the outbox. The relay delivers it to Kafka later.
#include <functional>

#include "bbgw/event_sink.hpp"
#include "bbgw/store.hpp"

namespace bbgw::events {

class outbox_sink final : public bbgw::event_sink {
 public:
  // `after_commit` (optional) runs after each successful publish, e.g. kafka_relay::wake.
  explicit outbox_sink(bbgw::store& store, std::function<void()> after_commit = {})
      : store_(store), after_commit_(std::move(after_commit)) {}

  bbgw::result<void> publish(bbgw::cloud_event const& ev) override;
  bbgw::result<void> publish(std::span<bbgw::cloud_event const> events) override;
  // Serialises here, then store::transact_async: `done` runs on the store's thread.
  void publish_async(bbgw::cloud_event ev, completion done) override;

 private:
  bbgw::store& store_;
  std::function<void()> after_commit_;
};

}  // namespace bbgw::events

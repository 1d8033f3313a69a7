#pragma once
// Publishes the outbox to Kafka: reads undelivered records in seq order, produces them in that
// order with an idempotent producer (acks=all), and marks them delivered (removes them) from
// the delivery reports. On a failed delivery or an unreachable cluster it stops producing, lets
// in-flight reports drain, rewinds to the oldest undelivered record and retries after an
// exponential backoff: at-least-once with the stable CloudEvents id, per-key order kept, nothing
// lost.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "events/topic_router.hpp"
#include "store/outbox_queue.hpp"

namespace bbgw::events {

struct kafka_settings {
  std::string bootstrap_servers;  // empty = embedded: main passes the embedded broker's address
  topic_settings topics;
  // Extra librdkafka properties; they override the relay's defaults.
  std::vector<std::pair<std::string, std::string>> producer_properties;
  std::string compression = "lz4";
  std::size_t fetch_batch = 10000;
  std::size_t max_in_flight_events = 100000;
  std::chrono::milliseconds poll_interval{50};
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{10000};
  std::chrono::milliseconds message_timeout{30000};
};

class kafka_relay {
 public:
  // Throws std::invalid_argument for an invalid topic prefix or override (start-up only).
  kafka_relay(kafka_settings settings, storage::outbox_queue& outbox, bbgw::metrics& metrics,
              bbgw::logger& logger, bbgw::clock const& clock);
  // Stops without flushing if still running.
  ~kafka_relay();
  kafka_relay(kafka_relay const&) = delete;
  kafka_relay& operator=(kafka_relay const&) = delete;

  // Starts the relay thread (once).
  void start();
  // Keeps delivering until the outbox is empty and every report is in, or until flush_timeout;
  // then stops the thread. What is not delivered stays in the outbox for the next start.
  void stop(std::chrono::milliseconds flush_timeout);

  struct status {
    bool kafka_reachable;
    std::string last_error;
    std::uint64_t delivered_total;
    std::uint64_t failed_total;
  };
  // Cheap and non-blocking (for /readyz).
  status current() const;
  // Nudges the relay to look at the outbox now (e.g. after a commit); false when not running.
  bool wake();

  struct state;  // shared with the librdkafka callbacks (defined in the .cpp)

 private:
  void run();

  std::unique_ptr<state> s_;
};

}  // namespace bbgw::events

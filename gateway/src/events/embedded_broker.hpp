#pragma once
// An in-memory Kafka-protocol cluster in this process (librdkafka's mock cluster), used when no
// kafka.bootstrap_servers is configured: kcat or any Kafka client can connect to it. For
// development and tests only: it keeps a bounded window of messages per partition.
#include <memory>
#include <string>
#include <vector>

#include "bbgw/logger.hpp"
#include "bbgw/result.hpp"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace bbgw::events {

class embedded_broker {
 public:
  struct settings {
    int brokers = 1;
    int partitions = 3;
    std::vector<std::string> topics;
  };

  static bbgw::result<std::unique_ptr<embedded_broker>> start(settings s, bbgw::logger& logger);
  ~embedded_broker();
  embedded_broker(embedded_broker const&) = delete;
  embedded_broker& operator=(embedded_broker const&) = delete;

  // "127.0.0.1:PORT[,127.0.0.1:PORT...]"
  std::string bootstrap_servers() const { return bootstraps_; }
  // Creates a topic with the configured partition count (topics are also auto-created).
  bbgw::result<void> create_topic(std::string const& name);
  // Test hook: every broker drops its connections and refuses new ones (true), or accepts
  // again (false).
  void set_down(bool down);
  // Test hook: the next `count` Produce requests fail with a non-retriable error
  // (TOPIC_AUTHORIZATION_FAILED), so the producer reports failed deliveries.
  void fail_next_produce_requests(int count);

 private:
  embedded_broker(settings s, bbgw::logger& logger) : settings_(std::move(s)), logger_(logger) {}

  settings settings_;
  bbgw::logger& logger_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstraps_;
};

}  // namespace bbgw::events

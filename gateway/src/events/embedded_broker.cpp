#include "events/embedded_broker.hpp"

#include <algorithm>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "events/events_errc.hpp"

namespace bbgw::events {

namespace {

// The mock cluster's own handle logs through librdkafka; keep only its warnings and errors.
void log_cb(rd_kafka_t const* rk, int level, char const* fac, char const* buf) {
  auto* logger = static_cast<bbgw::logger*>(rd_kafka_opaque(rk));
  if (!logger || level > 4) return;  // syslog levels: 0..3 error, 4 warning
  logger->log(level <= 3 ? log_level::error : log_level::warn, "embedded kafka: librdkafka",
              {{"facility", fac}, {"detail", buf}});
}

}  // namespace

bbgw::result<std::unique_ptr<embedded_broker>> embedded_broker::start(settings s,
                                                                      bbgw::logger& logger) {
  s.brokers = std::max(1, s.brokers);
  s.partitions = std::max(1, s.partitions);
  std::unique_ptr<embedded_broker> b(new embedded_broker(std::move(s), logger));

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_opaque(conf, &logger);
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_conf_set(conf, "client.id", "bbgw-embedded-broker", err, sizeof err);
  b->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->rk_) {
    rd_kafka_conf_destroy(conf);
    logger.error("embedded kafka: cannot create handle", {{"error", err}});
    return errc::broker_start_failed;
  }
  b->cluster_ = rd_kafka_mock_cluster_new(b->rk_, b->settings_.brokers);
  if (!b->cluster_) {
    logger.error("embedded kafka: cannot create mock cluster");
    return errc::broker_start_failed;
  }
  b->bootstraps_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  for (auto const& t : b->settings_.topics)
    if (auto r = b->create_topic(t); !r) return r.error();

  std::string topics;
  for (auto const& t : b->settings_.topics) topics += (topics.empty() ? "" : ",") + t;
  logger.warn(
      "embedded kafka: IN-MEMORY broker for development only (bounded per-partition window, "
      "lost on exit); configure kafka.bootstrap_servers for a real cluster",
      {{"bootstrap_servers", b->bootstraps_},
       {"brokers", std::to_string(b->settings_.brokers)},
       {"topics", topics}});
  return b;
}

embedded_broker::~embedded_broker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_) rd_kafka_destroy(rk_);
}

bbgw::result<void> embedded_broker::create_topic(std::string const& name) {
  int rf = std::min(settings_.brokers, 3);
  rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(cluster_, name.c_str(), settings_.partitions, rf);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
    logger_.error("embedded kafka: cannot create topic",
                  {{"topic", name}, {"error", rd_kafka_err2str(e)}});
    return errc::topic_create_failed;
  }
  return {};
}

void embedded_broker::fail_next_produce_requests(int count) {
  constexpr std::int16_t produce_api_key = 0;
  for (int i = 0; i < count; ++i)
    rd_kafka_mock_push_request_errors(cluster_, produce_api_key, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
}

void embedded_broker::set_down(bool down) {
  if (down)
    rd_kafka_mock_broker_set_down(cluster_, -1);
  else
    rd_kafka_mock_broker_set_up(cluster_, -1);
  logger_.warn(down ? "embedded kafka: brokers set down" : "embedded kafka: brokers set up");
}

}  // namespace bbgw::events

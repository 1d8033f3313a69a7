// The relay from the outbox to Kafka, against the embedded broker (librdkafka's mock cluster in
// this process) and read back with an independent librdkafka consumer.
#include "events/kafka_relay.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>
#include <boost/json.hpp>

#include "../../support/fakes.hpp"
#include "events/embedded_broker.hpp"
#include "events/outbox_sink.hpp"
#include "store/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using bbgw::events::embedded_broker;
using bbgw::events::kafka_relay;
using bbgw::events::kafka_settings;

constexpr char const* k_topic = "bbgw.test";
constexpr int k_partitions = 3;

// Polls `pred` until true or the timeout; the condition is the synchronisation, not the time.
bool eventually(std::function<bool()> const& pred, std::chrono::milliseconds timeout = 8s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

struct consumed {
  std::string key;
  std::string value;
  std::int32_t partition;
  std::map<std::string, std::string> headers;
  json::object event() const { return json::parse(value).as_object(); }
};

// An independent Kafka consumer reading every partition of the topic from the beginning.
class consumer {
 public:
  explicit consumer(std::string const& bootstrap) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "bbgw-test-reader", err, sizeof err);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    EXPECT_NE(rk_, nullptr) << err;
    rd_kafka_poll_set_consumer(rk_);
    auto* parts = rd_kafka_topic_partition_list_new(k_partitions);
    for (int p = 0; p < k_partitions; ++p)
      rd_kafka_topic_partition_list_add(parts, k_topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    EXPECT_EQ(rd_kafka_assign(rk_, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
  }
  ~consumer() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  // Reads until `n` messages have arrived in total (or the timeout); returns all so far.
  std::vector<consumed> read(std::size_t n, std::chrono::milliseconds timeout = 8s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got_.size() < n && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      if (!m) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        consumed c;
        c.key.assign(static_cast<char const*>(m->key), m->key_len);
        c.value.assign(static_cast<char const*>(m->payload), m->len);
        c.partition = m->partition;
        rd_kafka_headers_t* h = nullptr;
        if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR) {
          char const* name;
          void const* val;
          size_t size;
          for (size_t i = 0;
               rd_kafka_header_get_all(h, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i)
            c.headers[name] = std::string(static_cast<char const*>(val), size);
        }
        got_.push_back(std::move(c));
      }
      rd_kafka_message_destroy(m);
    }
    return got_;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  std::vector<consumed> got_;
};

class KafkaRelay : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("bbgw-relay-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    bbgw::storage::sqlite_settings ss;
    ss.path = (dir_ / "bbgw.db").string();
    auto st = bbgw::storage::sqlite_store::open(ss, clock_, metrics_, logger_);
    ASSERT_TRUE(st);
    store_ = std::move(*st);
    auto b = embedded_broker::start({1, k_partitions, {k_topic}}, logger_);
    ASSERT_TRUE(b);
    broker_ = std::move(*b);
    settings_.bootstrap_servers = broker_->bootstrap_servers();
    settings_.poll_interval = 10ms;
    settings_.backoff_min = 50ms;
    settings_.backoff_max = 400ms;
  }
  void TearDown() override {
    relay_.reset();
    broker_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }
  kafka_relay& make_relay() {
    relay_ = std::make_unique<kafka_relay>(settings_, *store_, metrics_, logger_, clock_);
    return *relay_;
  }
  // Publishes events with data {"seq": i, "note": key}; keys cycle through `keys`.
  std::vector<std::string> publish(int from, int count, int keys = 5) {
    bbgw::events::outbox_sink sink(*store_, [this] {
      if (relay_) relay_->wake();
    });
    std::vector<std::string> ids;
    for (int i = from; i < from + count; ++i) {
      bbgw::cloud_event ev;
      ev.id = bbgw::new_event_id();
      ev.source = "/bbgw/test";
      ev.type = "eu.bbgateway.test.emitted.v1";
      ev.family = "test";
      ev.partitionkey = "key-" + std::to_string(i % keys);
      if (i % 2) ev.subject = "subject-" + std::to_string(i);
      ev.time = clock_.now();
      ev.data = json::object{{"seq", i}, {"note", ev.partitionkey}};
      EXPECT_TRUE(sink.publish(ev));
      ids.push_back(ev.id);
    }
    return ids;
  }
  std::uint64_t depth() {
    auto st = store_->stats();
    EXPECT_TRUE(st);
    return st ? st->depth : 0;
  }
  // Per key, the first occurrence of each seq must come in increasing order; duplicates of an
  // earlier message (at-least-once) are allowed.
  static void expect_order_per_key(std::vector<consumed> const& msgs) {
    std::map<std::string, std::int64_t> last;
    std::set<std::string> seen;
    std::map<std::string, std::int32_t> partition_of;
    for (auto const& m : msgs) {
      auto ev = m.event();
      std::string id(ev.at("id").as_string());
      if (!seen.insert(id).second) continue;
      auto seq = ev.at("data").at("seq").as_int64();
      auto it = last.find(m.key);
      if (it != last.end()) {
        EXPECT_GT(seq, it->second) << "key " << m.key << " out of order";
      }
      last[m.key] = seq;
      auto [p, fresh] = partition_of.emplace(m.key, m.partition);
      EXPECT_EQ(p->second, m.partition) << "one key, one partition";
      (void)fresh;
    }
  }

  fs::path dir_;
  bbgw::system_clock clock_;
  bbgw::testing::fake_metrics metrics_;
  bbgw::testing::fake_logger logger_{bbgw::log_level::info};
  std::unique_ptr<bbgw::storage::sqlite_store> store_;
  std::unique_ptr<embedded_broker> broker_;
  kafka_settings settings_;
  std::unique_ptr<kafka_relay> relay_;
};

TEST_F(KafkaRelay, DeliversInOrderPerKeyWithHeadersAndMarksDelivered) {
  auto ids = publish(0, 300);
  ASSERT_EQ(depth(), 300u);
  auto& relay = make_relay();
  relay.start();
  ASSERT_TRUE(eventually([&] { return depth() == 0; })) << "depth " << depth();
  // The relay counts a delivery once the store has removed it: wait for the count too.
  ASSERT_TRUE(eventually([&] {
    return relay.current().delivered_total >= 300u &&
           metrics_.counter_value("bbgw_kafka_deliveries_total") >= 300;
  }));
  EXPECT_TRUE(relay.current().kafka_reachable);
  EXPECT_EQ(relay.current().delivered_total, 300u);
  EXPECT_EQ(metrics_.counter_value("bbgw_kafka_deliveries_total"), 300);
  EXPECT_EQ(metrics_.gauge_value("bbgw_kafka_reachable"), 1);

  consumer c(broker_->bootstrap_servers());
  auto msgs = c.read(300);
  ASSERT_EQ(msgs.size(), 300u);
  std::set<std::string> got_ids;
  for (auto const& m : msgs) {
    auto ev = m.event();
    got_ids.insert(std::string(ev.at("id").as_string()));
    EXPECT_EQ(m.key, ev.at("partitionkey").as_string()) << "Kafka key = partition key";
    EXPECT_EQ(m.headers.at("content-type"), "application/cloudevents+json; charset=UTF-8");
    EXPECT_EQ(m.headers.at("ce_specversion"), "1.0");
    EXPECT_EQ(m.headers.at("ce_id"), ev.at("id").as_string());
    EXPECT_EQ(m.headers.at("ce_type"), "eu.bbgateway.test.emitted.v1");
    EXPECT_EQ(m.headers.at("ce_source"), "/bbgw/test");
    EXPECT_EQ(m.headers.at("ce_time"), ev.at("time").as_string());
    if (ev.contains("subject"))
      EXPECT_EQ(m.headers.at("ce_subject"), ev.at("subject").as_string());
    else
      EXPECT_EQ(m.headers.count("ce_subject"), 0u);
  }
  EXPECT_EQ(got_ids, std::set<std::string>(ids.begin(), ids.end()));
  expect_order_per_key(msgs);

  // The events read back from Kafka validate against their schema (independent validator).
  if (std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") == 0) {
    std::string cmd = std::string("/usr/bin/python3 ") + BBGW_SOURCE_DIR +
                      "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                      "/schemas/events/gateway.test.emitted.json";
    for (int i = 0; i < 3; ++i) {
      auto p = dir_ / ("consumed" + std::to_string(i) + ".json");
      std::ofstream(p) << msgs[static_cast<std::size_t>(i) * 100].value;
      cmd += " " + p.string();
    }
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
  relay.stop(1s);
  EXPECT_FALSE(logger_.any_field_contains("\"note\"")) << "payloads are never logged";
}

TEST_F(KafkaRelay, BrokerDownKeepsEventsThenDeliversAllInOrder) {
  auto& relay = make_relay();
  relay.start();
  auto ids = publish(0, 50);
  ASSERT_TRUE(eventually([&] { return depth() == 0; }));

  broker_->set_down(true);
  ASSERT_TRUE(eventually([&] { return !relay.current().kafka_reachable; }, 5s));
  EXPECT_EQ(metrics_.gauge_value("bbgw_kafka_reachable"), 0);
  auto more = publish(50, 200);
  ids.insert(ids.end(), more.begin(), more.end());
  // Nothing can be acknowledged while every broker is down: the events wait in the outbox.
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(depth(), 200u);
  EXPECT_FALSE(relay.current().last_error.empty());

  broker_->set_down(false);
  ASSERT_TRUE(eventually([&] { return depth() == 0; })) << "depth " << depth();
  ASSERT_TRUE(eventually([&] { return relay.current().kafka_reachable; }, 5s));

  consumer c(broker_->bootstrap_servers());
  auto msgs = c.read(250);
  std::set<std::string> got;
  for (auto const& m : msgs) got.insert(std::string(m.event().at("id").as_string()));
  EXPECT_EQ(got, std::set<std::string>(ids.begin(), ids.end())) << "none lost";
  expect_order_per_key(msgs);
  relay.stop(1s);
  // State changes are logged once each, not per event.
  std::size_t unreachable_logs = 0;
  for (auto const& e : logger_.entries())
    if (e.message.find("kafka: unreachable") != std::string::npos) ++unreachable_logs;
  EXPECT_EQ(unreachable_logs, 1u);
}

TEST_F(KafkaRelay, FailedDeliveriesAreRetriedFromTheOldestUndelivered) {
  auto& relay = make_relay();
  relay.start();
  publish(0, 20);
  ASSERT_TRUE(eventually([&] { return depth() == 0; }));

  broker_->fail_next_produce_requests(3);
  auto ids = publish(20, 100);
  ASSERT_TRUE(eventually([&] { return depth() == 0; })) << "depth " << depth();
  ASSERT_TRUE(eventually([&] { return relay.current().delivered_total >= 120u; }));
  EXPECT_GT(relay.current().failed_total, 0u) << "the injected errors failed some deliveries";
  EXPECT_GT(metrics_.counter_value("bbgw_kafka_delivery_failures_total"), 0);
  EXPECT_EQ(relay.current().delivered_total, 120u) << "each event marked delivered once";
  for (auto const& e : logger_.entries()) {
    EXPECT_EQ(e.message.find("fatal"), std::string::npos) << "the idempotent producer survives";
  }

  consumer c(broker_->bootstrap_servers());
  auto msgs = c.read(120);
  std::set<std::string> got;
  for (auto const& m : msgs) got.insert(std::string(m.event().at("id").as_string()));
  for (auto const& id : ids) EXPECT_EQ(got.count(id), 1u) << "lost " << id;
  expect_order_per_key(msgs);
}

TEST_F(KafkaRelay, StopFlushesPendingEvents) {
  settings_.poll_interval = 2s;  // left alone, the relay would not look before stop()
  auto& relay = make_relay();
  relay.start();
  ASSERT_TRUE(eventually([&] { return relay.current().kafka_reachable; }, 5s));
  bbgw::events::outbox_sink sink(*store_);  // no wake: stop() must find them itself
  std::vector<std::string> ids;
  for (int i = 0; i < 500; ++i) {
    bbgw::cloud_event ev;
    ev.id = bbgw::new_event_id();
    ev.source = "/bbgw/test";
    ev.type = "eu.bbgateway.test.emitted.v1";
    ev.family = "test";
    ev.partitionkey = "k" + std::to_string(i % 7);
    ev.data = json::object{{"seq", i}, {"note", ""}};
    ASSERT_TRUE(sink.publish(ev));
    ids.push_back(ev.id);
  }
  relay.stop(5s);
  EXPECT_EQ(depth(), 0u);
  EXPECT_EQ(relay.current().delivered_total, 500u);
  consumer c(broker_->bootstrap_servers());
  EXPECT_EQ(c.read(500).size(), 500u);
}

TEST_F(KafkaRelay, UnreachableClusterIsReportedAndNothingIsMarked) {
  settings_.bootstrap_servers = "127.0.0.1:1";  // nothing listens there
  publish(0, 10);
  auto& relay = make_relay();
  relay.start();
  ASSERT_TRUE(eventually([&] { return !relay.current().last_error.empty(); }, 5s));
  EXPECT_FALSE(relay.current().kafka_reachable);
  relay.stop(200ms);
  EXPECT_EQ(depth(), 10u);
  EXPECT_EQ(metrics_.gauge_value("bbgw_outbox_depth"), 10);
}

}  // namespace

#include "events/kafka_relay.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>
#include <vector>

#include <librdkafka/rdkafka.h>

namespace bbgw::events {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto k_reachability_interval = std::chrono::seconds{1};
constexpr auto k_reachability_timeout = milliseconds{500};
constexpr auto k_stats_interval = std::chrono::seconds{1};
constexpr std::string_view k_content_type = "application/cloudevents+json; charset=UTF-8";

int to_int_ms(milliseconds d) {
  return static_cast<int>(std::clamp<milliseconds::rep>(d.count(), 0, 1'000'000'000));
}

}  // namespace

struct kafka_relay::state {
  state(kafka_settings s, storage::outbox_queue& o, bbgw::metrics& m, bbgw::logger& l,
        bbgw::clock const& c)
      : settings(std::move(s)),
        outbox(o),
        logger(l),
        clock(c),
        router(settings.topics),
        depth(m.make_gauge("bbgw_outbox_depth", "Events in the outbox not yet delivered to Kafka")),
        oldest_age(m.make_gauge("bbgw_outbox_oldest_age_seconds",
                                "Age of the oldest undelivered event in the outbox")),
        deliveries(m.make_counter("bbgw_kafka_deliveries_total",
                                  "Events acknowledged by Kafka (acks=all)")),
        failures(m.make_counter("bbgw_kafka_delivery_failures_total",
                                "Event deliveries that failed and will be retried")),
        reachable_gauge(m.make_gauge("bbgw_kafka_reachable", "1 when the Kafka cluster answers")) {
    if (settings.fetch_batch == 0) settings.fetch_batch = 1;
    if (settings.max_in_flight_events == 0) settings.max_in_flight_events = 1;
    if (settings.backoff_min.count() <= 0) settings.backoff_min = milliseconds{1};
    settings.backoff_max = std::max(settings.backoff_max, settings.backoff_min);
  }

  kafka_settings settings;
  storage::outbox_queue& outbox;
  std::vector<storage::outbox_record> fetched;  // kept between reads: reused, not reallocated
  bbgw::logger& logger;
  bbgw::clock const& clock;
  topic_router router;
  bbgw::gauge& depth;
  bbgw::gauge& oldest_age;
  bbgw::counter& deliveries;
  bbgw::counter& failures;
  bbgw::gauge& reachable_gauge;

  // Control, shared with callers of start/stop/wake.
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  // Set by the first wake() after the relay last waited: later ones (one per commit) then cost
  // an atomic exchange instead of taking `mu` and signalling `cv` while the relay is busy.
  std::atomic<bool> wake_pending{false};
  bool stopping = false;
  steady::time_point stop_deadline{};
  std::thread thread;
  std::atomic<bool> running{false};

  // Status for current().
  std::atomic<bool> reachable{false};
  std::atomic<std::uint64_t> delivered_total{0};
  std::atomic<std::uint64_t> failed_total{0};
  mutable std::mutex error_mu;
  std::string last_error;

  // Relay thread only. The librdkafka callbacks that touch these (delivery reports, errors)
  // are served by rd_kafka_poll/rd_kafka_flush, which only the relay thread calls.
  rd_kafka_t* rk = nullptr;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics;
  std::vector<std::int64_t> acked;
  std::size_t in_flight = 0;
  bool delivery_failed = false;  // a report failed: drain, rewind, back off
  bool fatal = false;            // the producer is unusable: recreate it
  bool all_brokers_down = false;
  std::uint64_t episode_failures = 0;

  void set_error(std::string e) {
    std::lock_guard lock(error_mu);
    last_error = std::move(e);
  }

  void set_reachable(bool r, std::string const& why) {
    bool was = reachable.exchange(r);
    reachable_gauge.set(r ? 1 : 0);
    if (was == r) return;
    if (r)
      logger.info("kafka: reachable", {{"bootstrap_servers", settings.bootstrap_servers}});
    else
      logger.warn("kafka: unreachable; events stay in the outbox",
                  {{"bootstrap_servers", settings.bootstrap_servers}, {"error", why}});
  }

  rd_kafka_t* make_producer();
  void destroy_producer();
  rd_kafka_topic_t* topic(std::string const& family);
  // 0 = produced; otherwise the librdkafka error.
  rd_kafka_resp_err_t produce(storage::outbox_record const& r);
  void check_reachable();
  void update_stats();
  bool flush_acked();
};

namespace {

void dr_msg_cb(rd_kafka_t*, rd_kafka_message_t const* m, void* opaque) {
  auto* s = static_cast<kafka_relay::state*>(opaque);
  if (s->in_flight > 0) --s->in_flight;
  auto seq = static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private));
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    s->acked.push_back(seq);
    return;
  }
  if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    return;  // we purged it on shutdown or restart; it stays undelivered in the outbox
  s->delivery_failed = true;
  ++s->episode_failures;
  s->failed_total.fetch_add(1, std::memory_order_relaxed);
  s->failures.inc();
  s->set_error(rd_kafka_err2str(m->err));
}

void error_cb(rd_kafka_t* rk, int err, char const* reason, void* opaque) {
  auto* s = static_cast<kafka_relay::state*>(opaque);
  s->set_error(reason ? reason : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)));
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    s->all_brokers_down = true;
    s->set_reachable(false, reason ? reason : "all brokers down");
  } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    s->fatal = true;
    s->set_error(buf);
    s->logger.error("kafka: fatal producer error; recreating the producer", {{"error", buf}});
  }
}

// librdkafka's own log lines (connection attempts and the like) only at debug level: the relay
// logs the state changes that matter once.
void log_cb(rd_kafka_t const* rk, int level, char const* fac, char const* buf) {
  auto* s = static_cast<kafka_relay::state*>(rd_kafka_opaque(rk));
  if (s && s->logger.enabled(log_level::debug))
    s->logger.debug("kafka: librdkafka",
                    {{"level", std::to_string(level)}, {"facility", fac}, {"detail", buf}});
}

}  // namespace

rd_kafka_t* kafka_relay::state::make_producer() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::size_t queue_max = std::max<std::size_t>(settings.max_in_flight_events + 1000, 100000);
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", settings.bootstrap_servers},
      {"client.id", "bbgw-relay"},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", settings.compression},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"batch.size", "4000000"},
      {"queue.buffering.max.messages", std::to_string(std::min<std::size_t>(queue_max, 10000000))},
      {"queue.buffering.max.kbytes", "1048576"},
      {"message.timeout.ms", std::to_string(to_int_ms(settings.message_timeout))},
      {"reconnect.backoff.ms", "100"},
      {"reconnect.backoff.max.ms", "1000"},
      {"log.connection.close", "false"},
  };
  for (auto const& p : settings.producer_properties) props.push_back(p);
  for (auto const& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      logger.error("kafka: invalid producer property", {{"property", k}, {"error", err}});
      set_error(err);
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
  rd_kafka_conf_set_error_cb(conf, error_cb);
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!p) {
    rd_kafka_conf_destroy(conf);
    logger.error("kafka: cannot create producer", {{"error", err}});
    set_error(err);
  }
  return p;
}

void kafka_relay::state::destroy_producer() {
  if (!rk) return;
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(rk, 0);  // serve the purge reports so in_flight is exact
  for (auto& [_, t] : topics) rd_kafka_topic_destroy(t);
  topics.clear();
  rd_kafka_destroy(rk);
  rk = nullptr;
  in_flight = 0;
}

rd_kafka_topic_t* kafka_relay::state::topic(std::string const& family) {
  auto it = topics.find(family);
  if (it != topics.end()) return it->second;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, router.topic_for(family).c_str(), nullptr);
  if (t) topics.emplace(family, t);
  return t;
}

rd_kafka_resp_err_t kafka_relay::state::produce(storage::outbox_record const& r) {
  rd_kafka_topic_t* t = topic(r.family);
  if (!t) return rd_kafka_last_error();
  rd_kafka_headers_t* h = rd_kafka_headers_new(8);
  auto add = [h](char const* name, std::string_view v) {
    rd_kafka_header_add(h, name, -1, v.data(), static_cast<ssize_t>(v.size()));
  };
  add("content-type", k_content_type);
  add("ce_specversion", "1.0");
  add("ce_id", r.id);
  add("ce_type", r.type);
  add("ce_source", r.source);
  add("ce_time", r.time);
  if (r.subject) add("ce_subject", *r.subject);
  rd_kafka_resp_err_t e = rd_kafka_producev(
      rk, RD_KAFKA_V_RKT(t), RD_KAFKA_V_KEY(r.key.empty() ? nullptr : r.key.data(), r.key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::intptr_t>(r.seq))),
      RD_KAFKA_V_END);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(h);  // not taken on failure
  return e;
}

void kafka_relay::state::check_reachable() {
  rd_kafka_metadata_t const* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, nullptr, &md, to_int_ms(k_reachability_timeout));
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR && md && md->broker_cnt > 0) {
    all_brokers_down = false;
    set_reachable(true, {});
  } else {
    std::string why = e != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(e) : "no brokers";
    set_error("metadata request failed: " + why);
    set_reachable(false, why);
  }
  if (md) rd_kafka_metadata_destroy(md);
}

void kafka_relay::state::update_stats() {
  auto st = outbox.stats();
  if (!st) return;
  depth.set(static_cast<double>(st->depth));
  double age = 0;
  if (st->oldest_created)
    age = std::max(0.0, std::chrono::duration<double>(clock.now() - *st->oldest_created).count());
  oldest_age.set(age);
}

// Writes the acknowledged seqs to the outbox; false (and they are kept) when the store fails.
bool kafka_relay::state::flush_acked() {
  if (acked.empty()) return true;
  auto r = outbox.mark_delivered(acked);
  if (!r) {
    set_error("marking delivered events failed: " + r.error().message());
    logger.error("kafka: cannot mark events delivered", {{"error", r.error().message()}});
    return false;
  }
  delivered_total.fetch_add(acked.size(), std::memory_order_relaxed);
  deliveries.inc(static_cast<double>(acked.size()));
  acked.clear();
  return true;
}

kafka_relay::kafka_relay(kafka_settings settings, storage::outbox_queue& outbox,
                         bbgw::metrics& metrics, bbgw::logger& logger, bbgw::clock const& clock)
    : s_(std::make_unique<state>(std::move(settings), outbox, metrics, logger, clock)) {}

kafka_relay::~kafka_relay() {
  stop(milliseconds{0});
}

void kafka_relay::start() {
  std::lock_guard lock(s_->mu);
  if (s_->thread.joinable()) return;
  s_->stopping = false;
  s_->running = true;
  s_->thread = std::thread([this] { run(); });
}

void kafka_relay::stop(milliseconds flush_timeout) {
  {
    std::lock_guard lock(s_->mu);
    if (!s_->thread.joinable()) return;
    s_->stopping = true;
    s_->stop_deadline = steady::now() + flush_timeout;
  }
  s_->cv.notify_all();
  s_->thread.join();
  s_->running = false;
}

kafka_relay::status kafka_relay::current() const {
  status st{s_->reachable.load(), {}, s_->delivered_total.load(), s_->failed_total.load()};
  std::lock_guard lock(s_->error_mu);
  st.last_error = s_->last_error;
  return st;
}

bool kafka_relay::wake() {
  // `woken` stays set until the relay's next wait, so a skipped wake-up is never lost.
  if (s_->wake_pending.exchange(true)) return s_->running.load();
  {
    std::lock_guard lock(s_->mu);
    s_->woken = true;
  }
  s_->cv.notify_one();
  return s_->running.load();
}

void kafka_relay::run() {
  auto& s = *s_;
  auto const& cfg = s.settings;
  std::int64_t cursor = 0;  // last seq handed to the producer
  milliseconds backoff = cfg.backoff_min;
  steady::time_point retry_at{};
  steady::time_point next_reach{}, next_stats{};
  bool in_episode = false;  // between a failure and the next successful delivery
  bool drained = false;     // the last fetch found nothing more to produce
  bool saw_stop = false;

  auto stop_state = [&](steady::time_point now, bool& stopping, steady::time_point& deadline) {
    std::lock_guard lock(s.mu);
    stopping = s.stopping;
    deadline = s.stop_deadline;
    (void)now;
  };
  auto wait = [&](milliseconds max_wait) {
    std::unique_lock lock(s.mu);
    auto until = steady::now() + max_wait;
    if (s.stopping) until = std::min(until, s.stop_deadline);
    s.cv.wait_until(lock, until, [&] { return s.woken || s.stopping; });
    s.woken = false;
    // Before the next fetch: a commit after this point wakes the relay again.
    s.wake_pending.store(false);
  };
  auto enter_backoff = [&](steady::time_point now) {
    retry_at = now + backoff;
    backoff = std::min(backoff * 2, cfg.backoff_max);
  };

  s.logger.info("kafka: relay started", {{"bootstrap_servers", cfg.bootstrap_servers}});
  for (;;) {
    auto now = steady::now();
    bool stopping;
    steady::time_point deadline;
    stop_state(now, stopping, deadline);
    if (stopping && !saw_stop) {
      saw_stop = true;
      drained = false;  // look at the outbox once more before deciding it is empty
    }
    if (stopping &&
        (now >= deadline || (drained && s.in_flight == 0 && s.acked.empty() && !s.delivery_failed)))
      break;

    if (!s.rk) {
      if (now < retry_at) {
        wait(std::chrono::duration_cast<milliseconds>(retry_at - now) + milliseconds{1});
        continue;
      }
      s.rk = s.make_producer();
      if (!s.rk) {
        enter_backoff(now);
        continue;
      }
      s.fatal = false;
      cursor = 0;
      next_reach = now;
    }

    rd_kafka_poll(s.rk, 0);  // delivery reports and errors, on this thread
    bool did_work = false;
    if (!s.acked.empty()) {
      did_work = true;
      if (s.flush_acked()) {
        if (in_episode && !s.delivery_failed) {
          s.logger.info("kafka: deliveries resumed",
                        {{"failed_in_episode", std::to_string(s.episode_failures)}});
          in_episode = false;
          s.episode_failures = 0;
        }
        backoff = cfg.backoff_min;
      } else {
        enter_backoff(now);
      }
    }
    if (now >= next_reach) {
      s.check_reachable();
      next_reach = steady::now() + k_reachability_interval;
    }
    if (now >= next_stats) {
      s.update_stats();
      next_stats = now + k_stats_interval;
    }

    if (s.fatal) {
      s.destroy_producer();
      s.delivery_failed = false;
      in_episode = true;
      drained = false;
      enter_backoff(now);
      continue;
    }
    if (s.delivery_failed) {
      // Stop producing; once every in-flight report is in and the successes are marked,
      // rewind to the oldest undelivered record and retry after the backoff.
      if (s.in_flight > 0 || !s.acked.empty()) {
        rd_kafka_poll(s.rk, to_int_ms(std::min(cfg.poll_interval, milliseconds{100})));
        continue;
      }
      if (!in_episode)
        s.logger.warn(
            "kafka: delivery failed; will retry from the oldest undelivered event",
            {{"error", current().last_error}, {"backoff_ms", std::to_string(backoff.count())}});
      in_episode = true;
      s.delivery_failed = false;
      cursor = 0;
      drained = false;
      enter_backoff(now);
      continue;
    }

    bool may_produce = s.reachable.load() && now >= retry_at;
    if (may_produce && s.in_flight < cfg.max_in_flight_events) {
      std::size_t n = std::min(cfg.fetch_batch, cfg.max_in_flight_events - s.in_flight);
      auto got = s.outbox.fetch_undelivered(cursor, n, s.fetched);
      if (!got) {
        s.set_error("reading the outbox failed: " + got.error().message());
        s.logger.error("kafka: cannot read the outbox", {{"error", got.error().message()}});
        enter_backoff(now);
        continue;
      }
      std::span<storage::outbox_record const> recs(s.fetched.data(), *got);
      drained = recs.empty();
      for (auto const& r : recs) {
        rd_kafka_resp_err_t e;
        while ((e = s.produce(r)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) rd_kafka_poll(s.rk, 10);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
          // Not queued: it stays undelivered; go through the failure path.
          s.set_error(std::string("produce failed: ") + rd_kafka_err2str(e));
          s.delivery_failed = true;
          ++s.episode_failures;
          s.failed_total.fetch_add(1, std::memory_order_relaxed);
          s.failures.inc();
          drained = false;
          break;
        }
        cursor = r.seq;
        ++s.in_flight;
      }
      if (!recs.empty()) did_work = true;
      if (recs.size() == n && !s.delivery_failed) continue;  // more may be waiting
    }

    if (did_work) continue;
    if (s.in_flight > 0)
      rd_kafka_poll(s.rk, to_int_ms(cfg.poll_interval));
    else {
      milliseconds w = cfg.poll_interval;
      if (!may_produce && now < retry_at)
        w = std::min(w, std::chrono::duration_cast<milliseconds>(retry_at - now) + milliseconds{1});
      wait(w);
    }
  }

  // Stopping: wait for what is in flight up to the deadline, record it, drop the rest (it is
  // still undelivered in the outbox).
  if (s.rk) {
    bool stopping;
    steady::time_point deadline;
    stop_state(steady::now(), stopping, deadline);
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
    if (s.in_flight > 0) rd_kafka_flush(s.rk, to_int_ms(std::max(left, milliseconds{0})));
    s.flush_acked();
    s.destroy_producer();
    s.flush_acked();
  }
  s.update_stats();
  s.logger.info("kafka: relay stopped",
                {{"delivered_total", std::to_string(s.delivered_total.load())}});
}

}  // namespace bbgw::events

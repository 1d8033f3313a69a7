// Durable events per second: event_sink::publish from concurrent publishers (group commit in
// SQLite) through the Kafka relay to acknowledged (acks=all) by the embedded broker.
// An iteration ends when every published event is marked delivered (outbox depth 0).
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <semaphore>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include <unistd.h>
#include "bench_support.hpp"

#include "events/embedded_broker.hpp"
#include "events/kafka_relay.hpp"
#include "events/outbox_sink.hpp"
#include "store/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using bbgw::bench::null_metrics;
using bbgw::bench::quiet_logger;

struct pipeline {
  pipeline(bool with_relay) {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path() /
          ("bbgw-outbox-bench-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    bbgw::storage::sqlite_settings ss;
    ss.path = (dir / "bbgw.db").string();
    store = std::move(*bbgw::storage::sqlite_store::open(ss, clock, metrics, logger));
    if (!with_relay) return;
    broker = std::move(*bbgw::events::embedded_broker::start({1, 3, {"bbgw.bench"}}, logger));
    bbgw::events::kafka_settings ks;
    ks.bootstrap_servers = broker->bootstrap_servers();
    ks.poll_interval = 5ms;
    relay = std::make_unique<bbgw::events::kafka_relay>(ks, *store, metrics, logger, clock);
    relay->start();
  }
  ~pipeline() {
    if (relay) relay->stop(0ms);
    relay.reset();
    broker.reset();
    store.reset();
    fs::remove_all(dir);
  }
  std::uint64_t depth() { return store->stats()->depth; }

  fs::path dir;
  bbgw::system_clock clock;
  null_metrics metrics;
  quiet_logger logger;
  std::unique_ptr<bbgw::storage::sqlite_store> store;
  std::unique_ptr<bbgw::events::embedded_broker> broker;
  std::unique_ptr<bbgw::events::kafka_relay> relay;
};

// Publishes `per_thread` small events from each of `threads` publishers, `batch` events per
// publish call (1 = one transaction per event).
void publish_all(bbgw::event_sink& sink, int threads, int per_thread, int batch,
                 std::atomic<int>& failed) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      std::vector<bbgw::cloud_event> evs(static_cast<std::size_t>(batch));
      for (auto& ev : evs) {
        ev.source = "/bbgw/bench";
        ev.type = "eu.bbgateway.test.emitted.v1";
        ev.family = "bench";
      }
      for (int i = 0; i < per_thread; i += batch) {
        for (int j = 0; j < batch; ++j) {
          auto& ev = evs[static_cast<std::size_t>(j)];
          ev.id = bbgw::new_event_id();
          ev.partitionkey = "key-" + std::to_string((t * per_thread + i + j) % 64);
          ev.time = std::chrono::system_clock::now();
          ev.data = boost::json::object{{"seq", i + j}, {"note", "bench"}};
        }
        bool ok = batch == 1 ? bool(sink.publish(evs[0]))
                             : bool(sink.publish(std::span<bbgw::cloud_event const>(evs)));
        if (!ok) failed += batch;
      }
    });
  }
  for (auto& th : ts) th.join();
}

// Like publish_all with batch 1, through event_sink::publish_async: each event is still its own
// transaction, but a publisher keeps up to `window` of them in flight instead of blocking on
// each (what an asynchronous connector does with concurrent requests).
void publish_all_async(bbgw::event_sink& sink, int threads, int per_thread, int window,
                       std::atomic<int>& failed) {
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      // Shared with the completions: the last release() may still be running when the
      // publisher has taken its slot back.
      auto slots = std::make_shared<std::counting_semaphore<4096>>(window);
      for (int i = 0; i < per_thread; ++i) {
        slots->acquire();
        bbgw::cloud_event ev;
        ev.source = "/bbgw/bench";
        ev.type = "eu.bbgateway.test.emitted.v1";
        ev.family = "bench";
        ev.id = bbgw::new_event_id();
        ev.partitionkey = "key-" + std::to_string((t * per_thread + i) % 64);
        ev.time = std::chrono::system_clock::now();
        ev.data = boost::json::object{{"seq", i}, {"note", "bench"}};
        sink.publish_async(std::move(ev), [&failed, slots](bbgw::result<void> r) {
          if (!r) ++failed;
          slots->release();
        });
      }
      for (int k = 0; k < window; ++k) slots->acquire();  // every completion has run
    });
  }
  for (auto& th : ts) th.join();
}

// End to end: publish -> durable in SQLite -> produced -> acked by the broker -> marked.
// Args: publishers, events in all, events per publish.
void BM_OutboxToKafka(benchmark::State& state) {
  int threads = static_cast<int>(state.range(0));
  int total = static_cast<int>(state.range(1));
  int batch = static_cast<int>(state.range(2));
  pipeline p(true);
  bbgw::events::outbox_sink sink(*p.store, [&] { p.relay->wake(); });
  std::atomic<int> failed{0};
  int per_thread = total / threads / batch * batch;
  for (auto _ : state) {
    publish_all(sink, threads, per_thread, batch, failed);
    while (p.depth() > 0) std::this_thread::sleep_for(1ms);
  }
  state.SetItemsProcessed(state.iterations() * per_thread * threads);
  state.counters["failed"] = failed.load();
  state.counters["delivered"] = static_cast<double>(p.relay->current().delivered_total);
}
BENCHMARK(BM_OutboxToKafka)
    ->ArgNames({"publishers", "events", "batch"})
    ->Args({8, 200000, 1})
    ->Args({16, 200000, 1})
    ->Args({64, 200000, 1})
    ->Args({8, 400000, 10})
    ->Args({8, 400000, 100})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// End to end as BM_OutboxToKafka with batch 1, publishing with publish_async.
// Args: publishers, events in all, events in flight per publisher.
void BM_OutboxToKafkaAsync(benchmark::State& state) {
  int threads = static_cast<int>(state.range(0));
  int total = static_cast<int>(state.range(1));
  int window = static_cast<int>(state.range(2));
  pipeline p(true);
  bbgw::events::outbox_sink sink(*p.store, [&] { p.relay->wake(); });
  std::atomic<int> failed{0};
  int per_thread = total / threads;
  for (auto _ : state) {
    publish_all_async(sink, threads, per_thread, window, failed);
    while (p.depth() > 0) std::this_thread::sleep_for(1ms);
  }
  state.SetItemsProcessed(state.iterations() * per_thread * threads);
  state.counters["failed"] = failed.load();
  state.counters["delivered"] = static_cast<double>(p.relay->current().delivered_total);
}
BENCHMARK(BM_OutboxToKafkaAsync)
    ->ArgNames({"publishers", "events", "window"})
    ->Args({8, 200000, 8})
    ->Args({8, 400000, 64})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The store alone: durable publishes per second with group commit (no relay).
// Args: publishers, events in all, events per publish.
void BM_PublishOnly(benchmark::State& state) {
  int threads = static_cast<int>(state.range(0));
  int total = static_cast<int>(state.range(1));
  int batch = static_cast<int>(state.range(2));
  pipeline p(false);
  bbgw::events::outbox_sink sink(*p.store);
  std::atomic<int> failed{0};
  int per_thread = total / threads / batch * batch;
  for (auto _ : state) publish_all(sink, threads, per_thread, batch, failed);
  state.SetItemsProcessed(state.iterations() * per_thread * threads);
  state.counters["failed"] = failed.load();
}
BENCHMARK(BM_PublishOnly)
    ->ArgNames({"publishers", "events", "batch"})
    ->Args({1, 50000, 1})
    ->Args({8, 200000, 1})
    ->Args({8, 400000, 100})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The expiry sweep: `records` dedupe records shaped like the NGSI connector's (time-prefixed
// keys, one namespace), nine in ten expired, deleted by purge_expired() (the committer's sweep,
// run to the end in one transaction). Items = records the sweep passed.
void BM_PurgeExpired(benchmark::State& state) {
  int const records = static_cast<int>(state.range(0));
  pipeline p(false);
  std::size_t deleted = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto const now = p.clock.now();
    for (int i = 0; i < records;) {
      auto r = p.store->transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
        for (int end = std::min(records, i + 1000); i < end; ++i) {
          char key[96];
          std::snprintf(key, sizeof key, "t%016x-%064x", 0x1f0000000u + i, 0xabcdefu * i);
          auto expires = i % 10 == 0 ? now + 1h : now - 1s;
          if (auto e = u.put("context.notification", key, "orion/cases", expires); !e) return e;
        }
        return {};
      });
      if (!r) state.SkipWithError("fill failed");
    }
    state.ResumeTiming();
    auto n = p.store->purge_expired();
    if (!n) state.SkipWithError("purge failed");
    deleted += *n;
  }
  state.SetItemsProcessed(state.iterations() * records);
  state.counters["deleted_per_s"] =
      benchmark::Counter(static_cast<double>(deleted), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PurgeExpired)
    ->ArgNames({"records"})
    ->Arg(200000)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

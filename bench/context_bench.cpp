// Context-broker notifications: normalisation throughput (entities/s) of NGSI-v2 and NGSI-LD
// notifications of 1 and 100 entities, and the whole notify handler (token, normalise, events,
// one transaction) over an in-memory store, so the cost outside the durable store is visible.
// The end-to-end figure (HTTP notification -> durable outbox) is measured with wrk: see
// bench/README.md, "Context broker".
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

#include <benchmark/benchmark.h>
#include <unistd.h>
#include <boost/json/parse.hpp>

#include <yaml-cpp/yaml.h>
#include "bench_support.hpp"

#include "bbgw/config_reader.hpp"
#include "context/normalise.hpp"
#include "context/notify_handler.hpp"
#include "context/sha256.hpp"
#include "store/sqlite_store.hpp"

namespace {

using namespace bbgw;

std::string const yaml = R"(
enabled: true
secret_key: bench-secret-key-0123456789
brokers:
  - name: orion
    flavour: ngsi-v2
    base_url: http://orion:1026
    tenant: migr
    manage_subscriptions: false
    subscriptions: [{name: cases, entity_types: [Case]}]
  - name: ld
    flavour: ngsi-ld
    base_url: http://ld:1026
    manage_subscriptions: false
    subscriptions: [{name: events, entity_types: [Event]}]
)";

context::context_config load() {
  config_reader r(YAML::Load(yaml), "connectors.context", nullptr);
  return *context::read_config(r);
}

// A notification like the recorded fixtures, with `n` entities.
std::string v2_body(int n) {
  std::string b = R"({"subscriptionId":"5f914177334436ea590f6edb","data":[)";
  for (int i = 0; i < n; ++i) {
    if (i) b += ',';
    b +=
        R"({"id":"urn:Case:)" + std::to_string(i) +
        R"(","type":"Case","status":{"type":"Text","value":"open","metadata":{}},"language":{"type":"Text","value":"ar","metadata":{"observedAt":{"type":"DateTime","value":"2026-06-24T10:00:00.000Z"}}},"waitingDays":{"type":"Number","value":4,"metadata":{}},"location":{"type":"geo:json","value":{"type":"Point","coordinates":[-3.7038,40.4168]},"metadata":{}}})";
  }
  return b + "]}";
}

std::string ld_body(int n) {
  std::string b =
      R"({"id":"urn:ngsi-ld:Notification:5fd0fa684eb81930c97005f3","type":"Notification","subscriptionId":"urn:ngsi-ld:Subscription:S1","notifiedAt":"2026-06-24T10:00:00.000Z","data":[)";
  for (int i = 0; i < n; ++i) {
    if (i) b += ',';
    b +=
        R"({"id":"urn:ngsi-ld:Event:)" + std::to_string(i) +
        R"(","type":"Event","name":{"type":"Property","value":"Free Greek language course"},"startDate":{"type":"Property","value":{"@type":"DateTime","@value":"2026-07-03T17:00:00Z"}},"seats":{"type":"Property","value":12,"observedAt":"2026-06-24T09:59:58.000Z","unitCode":"C62"},"organizer":{"type":"Relationship","object":"urn:ngsi-ld:Organization:ngo-42"},"location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[33.3823,35.1856]}}})";
  }
  return b + "]}";
}

header_list v2_headers() {
  header_list h;
  h.add("Content-Type", "application/json; charset=utf-8");
  h.add("Fiware-Service", "migr");
  h.add("Fiware-Servicepath", "/madrid");
  h.add("Ngsiv2-AttrsFormat", "normalized");
  h.add("Fiware-Correlator", "600119ce-eeaa-11e9-9e0c-080027a71049; cbnotif=1");
  return h;
}

header_list ld_headers() {
  header_list h;
  h.add("Content-Type", "application/json");
  h.add(
      "Link",
      R"(<https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")");
  return h;
}

void normalise_bench(benchmark::State& state, bool ld) {
  auto cfg = load();
  auto const& broker = cfg.brokers[ld ? 1 : 0];
  int const n = static_cast<int>(state.range(0));
  std::string body = ld ? ld_body(n) : v2_body(n);
  header_list headers = ld ? ld_headers() : v2_headers();
  std::string why;
  for (auto _ : state) {
    auto note = context::normalise({broker, broker.subscriptions[0], headers, body, 1000}, why);
    if (!note) state.SkipWithError(why.c_str());
    benchmark::DoNotOptimize(note);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void BM_normalise_v2(benchmark::State& s) {
  normalise_bench(s, false);
}
void BM_normalise_ld(benchmark::State& s) {
  normalise_bench(s, true);
}
BENCHMARK(BM_normalise_v2)->Arg(1)->Arg(100);
BENCHMARK(BM_normalise_ld)->Arg(1)->Arg(100);

// --- the handler over a store that keeps nothing (no durability cost) ------------------------

class null_uow final : public unit_of_work {
 public:
  result<void> put(std::string_view, std::string_view, std::string_view,
                   std::optional<sys_time>) override {
    return {};
  }
  result<bool> insert(std::string_view, std::string_view, std::string_view,
                      std::optional<sys_time>) override {
    return true;
  }
  result<std::optional<std::string>> get(std::string_view, std::string_view) override {
    return std::nullopt;
  }
  result<bool> erase(std::string_view, std::string_view) override { return false; }
  result<void> emit(cloud_event const& ev) override {
    benchmark::DoNotOptimize(ev.id.data());
    return {};
  }
  result<void> emit_serialised(serialised_event const& ev) override {
    benchmark::DoNotOptimize(ev.json.data());
    return {};
  }
};

class null_store final : public store {
 public:
  result<void> transact(std::function<result<void>(unit_of_work&)> work) override {
    null_uow u;
    return work(u);
  }
  result<std::optional<std::string>> get(std::string_view, std::string_view) override {
    return std::nullopt;
  }
};

using bbgw::bench::null_metrics;
using bbgw::bench::quiet_logger;

void BM_notify_handler_v2(benchmark::State& state) {
  auto cfg = load();
  null_store db;
  bbgw::system_clock clock;
  null_metrics stats;
  quiet_logger log;
  context::notify_handler h(cfg, db, clock, stats, log);
  int const n = static_cast<int>(state.range(0));
  request r;
  r.method = "POST";
  r.path = "/context/notify/orion/cases";
  r.params = {{"broker", "orion"}, {"subscription", "cases"}};
  r.headers = v2_headers();
  r.headers.add("X-Bbgw-Notify-Token",
                context::derive_secret("bench-secret-key-0123456789", "orion", "cases"));
  r.body = v2_body(n);
  for (auto _ : state) {
    auto resp = h.handle(r);
    if (resp.status != 204) state.SkipWithError("not 204");
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_notify_handler_v2)->Arg(1)->Arg(100);

// --- the durable part alone: what the SQLite committer does per 1-entity notification --------
// Rounds of 64 transactions in flight (64 connections), each a dedupe record + one serialised
// event, as the notify handler stores them. Arg 0: the dedupe key is a hash (a random place in
// the kv B-tree); arg 1: it starts with the notification's time (neighbouring keys). No relay
// runs, so the outbox (and its unique index on the hashed event ids) grows during the run.
void BM_store_notification(benchmark::State& state) {
  namespace fs = std::filesystem;
  static std::atomic<int> seq{0};
  auto dir = fs::temp_directory_path() /
             ("bbgw-ctx-store-bench-" + std::to_string(::getpid()) + "-" + std::to_string(seq++));
  bbgw::system_clock clock;
  null_metrics stats;
  quiet_logger log;
  bbgw::storage::sqlite_settings ss;
  ss.path = (dir / "bbgw.db").string();
  auto db = std::move(*bbgw::storage::sqlite_store::open(ss, clock, stats, log));
  bool const time_ordered = state.range(0) == 1;

  // One event as the handler serialises it (~900 bytes of JSON).
  cloud_event ev;
  ev.id = "0b4c4f3e-1d2a-8c3b-9e4f-5a6b7c8d9e0f";
  ev.source = "/bbgw/context/orion/migr";
  ev.type = "eu.bbgateway.context.entity.updated.v1";
  ev.subject = "urn:Case:1";
  ev.partitionkey = "urn:Case:1";
  ev.family = "context.migr.Case";
  ev.time = clock.now();
  ev.data = boost::json::parse(v2_body(1)).as_object().at("data").as_array()[0];
  std::string const json = to_structured_json(ev);
  std::string const time = format_rfc3339(ev.time);

  constexpr int in_flight = 64;
  std::uint64_t n = 0;
  std::mutex m;
  std::condition_variable cv;
  for (auto _ : state) {
    int left = in_flight;
    std::vector<std::string> keys(in_flight), ids(in_flight);
    for (int i = 0; i < in_flight; ++i, ++n) {
      auto h = context::sha256_of(std::to_string(n));
      keys[i].clear();
      if (time_ordered)
        keys[i].append("t").append(std::to_string(1'000'000'000'000 + n)).append("-");
      keys[i].append(context::to_hex(h));
      ids[i] = context::uuid_from_digest(h);
    }
    for (int i = 0; i < in_flight; ++i) {
      db->transact_async(
          [&, i](unit_of_work& u) -> result<void> {
            auto fresh = u.insert("context.notification", keys[i], "orion/cases",
                                  clock.now() + std::chrono::hours(1));
            if (!fresh) return fresh.error();
            return u.emit_serialised({ids[i], ev.source, ev.type, std::string_view(*ev.subject),
                                      ev.partitionkey, ev.family, time, json});
          },
          [&](result<void> r) {
            if (!r) state.SkipWithError("transaction failed");
            std::lock_guard lock(m);
            if (--left == 0) cv.notify_all();
          });
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return left == 0; });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(n));
  db.reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_store_notification)->Arg(0)->Arg(1)->UseRealTime()->MinTime(2);

}  // namespace

BENCHMARK_MAIN();

#include "gateway.hpp"

#include <algorithm>
#include <iostream>
#include <set>
#include <string_view>

#include "bbgw/clock.hpp"
#include "events/embedded_broker.hpp"
#include "events/kafka_relay.hpp"
#include "events/outbox_sink.hpp"
#include "http/beast_client.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "ops/json_logger.hpp"
#include "ops/metrics_registry.hpp"
#include "ops/ops_routes.hpp"
#include "ops/readiness.hpp"
#include "store/sqlite_store.hpp"

namespace bbgw::app {

extern std::string_view const openapi_yaml;

loaded_config configure(YAML::Node const& root, std::vector<connector_entry> const& table) {
  loaded_config out{config::read_gateway_config(root), {}};
  YAML::Node const& sections = out.core.connectors;
  if (sections && sections.IsMap()) {
    for (auto const& kv : sections) {
      std::string name = kv.first.Scalar();
      bool known = std::any_of(table.begin(), table.end(),
                               [&](auto const& e) { return e.name == name; });
      if (!known) throw config_error("connectors." + name, "unknown connector");
    }
  }
  for (auto const& entry : table) {
    YAML::Node section = sections ? YAML::Node(sections[entry.name]) : YAML::Node{};
    config_reader r(section, "connectors." + entry.name, out.core.effective);
    auto builder = entry.configure(r);
    r.finish();
    if (builder) out.connectors.push_back({entry.name, std::move(*builder)});
  }
  return out;
}

int serve_gateway(loaded_config cfg, std::vector<connector_entry> const& table) {
  auto& core = cfg.core;
  ops::json_logger log(core.log);
  ops::metrics_registry registry;
  bbgw::system_clock clock;

  log.info("starting", {{"version", BBGW_VERSION}, {"public_base_url", core.public_base_url}});

  auto opened = storage::sqlite_store::open(core.sqlite, clock, registry, log);
  if (!opened) {
    log.error("store failed to open", {{"path", core.sqlite.path}, {"error", opened.error().message()}});
    return 1;
  }
  auto& db = **opened;

  // Kafka: a configured cluster, or the embedded in-memory broker for development.
  std::unique_ptr<events::embedded_broker> broker;
  bool embedded = core.kafka.bootstrap_servers.empty();
  if (embedded) {
    events::topic_router topics(core.kafka.topics);
    std::set<std::string> names;
    for (auto const& e : table)
      for (auto const& f : e.families) names.insert(topics.topic_for(f));
    for (auto const& [family, topic] : core.kafka.topics.overrides) names.insert(topic);
    events::embedded_broker::settings bs;
    bs.brokers = core.embedded_kafka.brokers;
    bs.partitions = core.embedded_kafka.partitions;
    bs.topics.assign(names.begin(), names.end());
    auto started = events::embedded_broker::start(bs, log);
    if (!started) {
      log.error("embedded broker failed to start", {{"error", started.error().message()}});
      return 1;
    }
    broker = std::move(*started);
    core.kafka.bootstrap_servers = broker->bootstrap_servers();
  }

  events::kafka_relay relay(core.kafka, db, registry, log, clock);
  relay.start();
  events::outbox_sink sink(db, [&relay] { relay.wake(); });

  std::uint64_t const max_depth = core.readiness.max_outbox_depth;
  std::string const bootstrap = core.kafka.bootstrap_servers;
  std::vector<ops::probe> probes;
  probes.push_back({"store", [&db] {
                      ops::component_state st;
                      auto w = db.check_writable();
                      st.ok = w.has_value();
                      st.detail["status"] = st.ok ? "writable" : "failing";
                      if (!st.ok) st.detail["error"] = w.error().message();
                      return st;
                    }});
  probes.push_back({"kafka", [&relay, embedded, bootstrap] {
                      ops::component_state st;
                      auto s = relay.current();
                      st.ok = s.kafka_reachable;
                      st.detail["status"] = st.ok ? "up" : "down";
                      st.detail["mode"] = embedded ? "embedded" : "external";
                      st.detail["bootstrap_servers"] = bootstrap;
                      if (!s.last_error.empty()) st.detail["last_error"] = s.last_error;
                      return st;
                    }});
  probes.push_back({"outbox", [&db, &clock, max_depth] {
                      ops::component_state st;
                      auto s = db.stats();
                      if (!s) {
                        st.ok = false;
                        st.detail["error"] = s.error().message();
                        return st;
                      }
                      st.ok = s->depth <= max_depth;
                      st.detail["depth"] = s->depth;
                      st.detail["max_depth"] = max_depth;
                      double age = 0;
                      if (s->oldest_created)
                        age = std::chrono::duration<double>(clock.now() - *s->oldest_created).count();
                      st.detail["oldest_age_seconds"] = std::max(0.0, age);
                      return st;
                    }});
  ops::readiness_monitor readiness(std::move(probes), core.readiness.probe_interval, log);

  http::beast_client outbound;
  connector_context ctx{db, sink, clock, registry, log, outbound, core.public_base_url};
  std::vector<std::unique_ptr<bbgw::connector>> connectors;
  http::router router;
  for (auto& r : ops::ops_routes(readiness, registry, std::string(openapi_yaml))) router.add(std::move(r));
  for (auto& c : cfg.connectors) {
    auto built = c.build(ctx);
    for (auto& r : built->routes()) router.add(std::move(r));
    log.info("connector configured", {{"connector", c.name}});
    connectors.push_back(std::move(built));
  }

  http::server server(core.server, std::move(router), registry, log);
  std::vector<http::bound_listener> bound;
  try {
    for (auto& c : connectors) c->start();
    bound = server.start();
  } catch (std::exception const& e) {
    log.error("start failed", {{"error", e.what()}});
    for (auto& c : connectors) c->stop();
    relay.stop(std::chrono::seconds(2));
    return 1;
  }
  readiness.start();
  log.info("ready", {{"listeners", std::to_string(bound.size())},
                     {"kafka_bootstrap_servers", core.kafka.bootstrap_servers}});

  server.run();  // until SIGINT/SIGTERM; returns after in-flight requests finished

  readiness.stop();
  for (auto& c : connectors) c->stop();
  relay.stop(std::chrono::milliseconds(core.server.lim.shutdown_grace));
  auto left = db.stats();
  log.info("stopped", {{"outbox_undelivered", left ? std::to_string(left->depth) : "unknown"}});
  log.flush();
  return 0;
}

}  // namespace bbgw::app

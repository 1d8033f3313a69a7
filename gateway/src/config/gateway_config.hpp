#pragma once
// The gateway's typed configuration: read once at start from YAML (+ BBGW_* environment
// overrides), every key with a default; a wrong key or value throws config_error naming it.
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "bbgw/config_reader.hpp"
#include "events/kafka_relay.hpp"
#include "http/server.hpp"
#include "ops/json_logger.hpp"
#include "store/sqlite_store.hpp"

namespace bbgw::config {

struct embedded_kafka_settings {
  int brokers = 1;
  int partitions = 3;
};

struct readiness_settings {
  std::uint64_t max_outbox_depth = 100000;  // above it /readyz reports not ready
  std::chrono::milliseconds probe_interval{1000};
};

struct gateway_config {
  http::server_settings server;
  std::string public_base_url;
  storage::sqlite_settings sqlite;
  events::kafka_settings kafka;
  embedded_kafka_settings embedded_kafka;
  readiness_settings readiness;
  ops::log_settings log;
  // Per-connector sections, read by each connector with its own config_reader.
  YAML::Node connectors;
  std::shared_ptr<effective_config> effective;
};

// Parses `root` (may be null: all defaults).
gateway_config read_gateway_config(YAML::Node root);

// Loads a YAML file; throws config_error with key "" on a read or syntax error.
YAML::Node load_yaml_file(std::string const& path);

// Applies BBGW_<SECTION>__<KEY>[__<INDEX>]... environment variables onto `root`:
// BBGW_KAFKA__BOOTSTRAP_SERVERS=host:9092 sets kafka.bootstrap_servers;
// BBGW_SERVER__LISTENERS__0__PORT=9000 sets server.listeners[0].port.
// Segments are lower-cased; "__" separates them; a numeric segment indexes a list.
void apply_env_overrides(YAML::Node& root, char const* const* envp);

// The effective config as YAML text with secrets masked.
std::string render_effective(gateway_config const& cfg);

}  // namespace bbgw::config

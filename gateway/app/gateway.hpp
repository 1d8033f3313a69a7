#pragma once
// Builds every part from the config, wires them explicitly, serves until a signal, and shuts
// down in order: stop accepting, finish in-flight requests, stop connectors, flush the relay.
#include <string>
#include <vector>

#include "config/gateway_config.hpp"
#include "connector_table.hpp"

namespace bbgw::app {

struct configured_connector {
  std::string name;
  connector_builder build;
};

struct loaded_config {
  config::gateway_config core;
  std::vector<configured_connector> connectors;
};

// Validates the core and every connector's section (throws config_error).
loaded_config configure(YAML::Node const& root, std::vector<connector_entry> const& table);

// Returns the process exit code.
int serve_gateway(loaded_config cfg, std::vector<connector_entry> const& table);

}  // namespace bbgw::app

#pragma once
// Config texts for integration tests.
#include <string>

namespace bbgw::it {

// A gateway on an ephemeral plain-HTTP port with the test connector; `kafka` is the kafka
// section's body ("" = embedded broker), `extra` more top-level YAML.
inline std::string gateway_yaml(std::string const& bootstrap = "", std::string const& extra = "",
                                std::string const& limits = "read_timeout: 5s") {
  std::string y =
      "server:\n"
      "  listeners:\n"
      "    - {name: http, address: 127.0.0.1, port: 0}\n"
      "  limits: {" + limits + "}\n"
      "  io_threads: 2\n"
      "  worker_threads: 4\n"
      "store:\n"
      "  sqlite: {path: bbgw.db}\n"
      "kafka:\n"
      "  bootstrap_servers: \"" + bootstrap + "\"\n"
      "  backoff_min: 100ms\n"
      "  backoff_max: 1s\n"
      "readiness: {probe_interval: 200ms, max_outbox_depth: 1000}\n"
      "connectors:\n"
      "  test: {enabled: true}\n";
  return y + extra;
}

}  // namespace bbgw::it

#include "cli.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "config/gateway_config.hpp"
#include "gateway.hpp"

extern char** environ;

namespace bbgw::app {

namespace {

// Reads the config file (or embedded defaults), applies BBGW_* overrides, validates the core and
// every connector section. Throws config_error.
loaded_config load(std::string const& file, std::vector<connector_entry> const& table) {
  YAML::Node root = file.empty() ? YAML::Node(YAML::NodeType::Map) : config::load_yaml_file(file);
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw config_error("", "the config file must hold a YAML map");
  config::apply_env_overrides(root, environ);
  return configure(root, table);
}

}  // namespace

int run_cli(int argc, char** argv, std::vector<connector_entry> table) {
  CLI::App cli{"BB Gateway: EU building blocks (eID, eDelivery, eTranslation, context broker) "
               "to Kafka events"};
  cli.require_subcommand(0, 1);
  std::string serve_config;
  auto* serve = cli.add_subcommand("serve", "Run the gateway (the default)");
  serve->add_option("-c,--config", serve_config, "YAML config file (default: embedded defaults)")
      ->check(CLI::ExistingFile);
  std::string check_file;
  auto* check = cli.add_subcommand("check-config", "Validate a config and print the effective one");
  check->add_option("file", check_file, "YAML config file")->required()->check(CLI::ExistingFile);
  auto* version = cli.add_subcommand("version", "Print the version");
  try {
    cli.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    int rc = cli.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (version->parsed()) {
    std::cout << "bbgw " << BBGW_VERSION << "\n";
    return 0;
  }
  try {
    if (check->parsed()) {
      auto cfg = load(check_file, table);
      std::cout << "# effective configuration of " << check_file << " (secrets masked)\n"
                << config::render_effective(cfg.core) << "\n";
      return 0;
    }
    auto cfg = load(serve_config, table);
    return serve_gateway(std::move(cfg), table);
  } catch (config_error const& e) {
    std::cerr << "bbgw: config error: "
              << (e.key().empty() ? std::string{} : "key '" + e.key() + "': ") << e.message()
              << "\n";
    return 2;
  } catch (std::exception const& e) {
    std::cerr << "bbgw: fatal: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bbgw::app

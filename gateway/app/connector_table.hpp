#pragma once
// The plain table of connectors: the only code that knows every connector.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/connector_context.hpp"

namespace bbgw::app {

using connector_builder = std::function<std::unique_ptr<bbgw::connector>(connector_context&)>;

struct connector_entry {
  std::string name;
  // Event families (topic suffixes) it emits, so the embedded broker can create the topics.
  std::vector<std::string> families;
  // Reads and validates the connector's config section (throws config_error naming the key);
  // returns how to build it, or nothing when the section disables it.
  std::function<std::optional<connector_builder>(config_reader&)> configure;
};

// The connectors built into bbgw.
std::vector<connector_entry> builtin_connectors();

}  // namespace bbgw::app

#include "connector_table.hpp"

namespace bbgw::app {

std::vector<connector_entry> builtin_connectors() {
  // Connectors (eid, edelivery, etranslation, context) are added here as they land.
  return {};
}

}  // namespace bbgw::app

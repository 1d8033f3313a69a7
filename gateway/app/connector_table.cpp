#include "connector_table.hpp"

#include "context/context_connector.hpp"
#include "etranslation/etranslation_connector.hpp"

namespace bbgw::app {

std::vector<connector_entry> builtin_connectors() {
  // Connectors (eid, edelivery, etranslation, context) are added here as they land.
  return {
      // Topics are per tenant and entity type ("context.{tenant}.{type}"), created on first use.
      {"context", {}, &context::configure},
      // One topic for every translation outcome ("translation"), keyed by job id.
      {"etranslation", {"translation"}, &etranslation::configure},
  };
}

}  // namespace bbgw::app

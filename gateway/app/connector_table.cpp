#include "connector_table.hpp"

#include "context/context_connector.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "eid/eid_connector.hpp"
#include "etranslation/etranslation_connector.hpp"

namespace bbgw::app {

std::vector<connector_entry> builtin_connectors() {
  // Connectors (eid, edelivery, etranslation, context) are added here as they land.
  return {
      // Topics are per tenant and entity type ("context.{tenant}.{type}"), created on first use.
      {"context", {}, &context::configure},
      // One topic for every translation outcome ("translation"), keyed by job id.
      {"etranslation", {"translation"}, &etranslation::configure},
      // Login outcomes ("eid"), keyed by the pseudonymous subject.
      {"eid", {"eid"}, &eid::configure},
      // Received AS4 messages ("edelivery"), keyed by the ebMS ConversationId.
      {"edelivery", {"edelivery"}, &edelivery::configure},
  };
}

}  // namespace bbgw::app

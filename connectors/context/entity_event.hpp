#pragma once
// Builds the CloudEvent for one normalised entity update.
#include <string>
#include <string_view>

#include "bbgw/cloud_event.hpp"
#include "context/normalise.hpp"

namespace bbgw::context {

inline constexpr std::string_view entity_updated_type = "eu.bbgateway.context.entity.updated.v1";
inline constexpr std::string_view entity_updated_schema =
    "https://bbgateway.eu/schemas/events/context.entity.updated.json";

// source "/bbgw/context/<broker>/<tenant or 'default'>", partition key and subject = entity id,
// family from the template. Moves the entity's data into the event.
cloud_event make_entity_event(entity_update&& u, std::string const& family_template,
                              std::string_view broker, std::string_view subscription,
                              std::string_view tenant, std::string_view request_id, sys_time now);

}  // namespace bbgw::context

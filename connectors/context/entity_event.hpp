#pragma once
// The CloudEvent for one normalised entity update.
#include <string>
#include <string_view>

#include "bbgw/cloud_event.hpp"
#include "context/normalise.hpp"

namespace bbgw::context {

inline constexpr std::string_view entity_updated_type = "eu.bbgateway.context.entity.updated.v1";
inline constexpr std::string_view entity_updated_schema =
    "https://bbgateway.eu/schemas/events/context.entity.updated.json";

// The events' source: "/bbgw/context/<broker>/<tenant or 'default'>".
std::string entity_event_source(std::string_view broker, std::string_view tenant);

// The event of `u` as views (into `u` and `source`): id u.event_id, subject and partition key =
// entity id, data u.data_json. Serialised on the notification's thread without building a
// cloud_event.
cloud_event_view entity_event(entity_update const& u, std::string_view source,
                              std::string_view request_id, sys_time now);

}  // namespace bbgw::context

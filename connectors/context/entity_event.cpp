#include "context/entity_event.hpp"

namespace bbgw::context {

std::string entity_event_source(std::string_view broker, std::string_view tenant) {
  std::string s = "/bbgw/context/";
  s.append(broker).append("/").append(tenant.empty() ? std::string_view("default") : tenant);
  return s;
}

cloud_event_view entity_event(entity_update const& u, std::string_view source,
                              std::string_view request_id, sys_time now) {
  return cloud_event_view{
      .id = u.event_id,
      .source = source,
      .type = entity_updated_type,
      .subject = std::string_view(u.id),
      .time = now,
      .datacontenttype = "application/json",
      .dataschema = entity_updated_schema,
      .partitionkey = u.id,
      .requestid = request_id.empty() ? std::nullopt : std::optional<std::string_view>(request_id),
      .data_json = u.data_json,
  };
}

}  // namespace bbgw::context

#include "context/entity_event.hpp"

namespace bbgw::context {

cloud_event make_entity_event(entity_update&& u, std::string const& family_template,
                              std::string_view broker, std::string_view subscription,
                              std::string_view tenant, std::string_view request_id, sys_time now) {
  cloud_event ev;
  ev.id = std::move(u.event_id);
  ev.source = "/bbgw/context/" + std::string(broker) + "/" +
              (tenant.empty() ? std::string("default") : std::string(tenant));
  ev.type = entity_updated_type;
  ev.subject = u.id;
  ev.time = now;
  ev.dataschema = std::string(entity_updated_schema);
  ev.family = expand_family(family_template, broker, subscription, tenant, u.type);
  ev.partitionkey = std::move(u.id);
  if (!request_id.empty()) ev.requestid = std::string(request_id);
  ev.data = std::move(u.data);
  return ev;
}

}  // namespace bbgw::context

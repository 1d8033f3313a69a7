#include "context/entity_event.hpp"

namespace bbgw::context {

cloud_event make_entity_event(entity_update&& u, std::string const& family_template,
                              std::string_view broker, std::string_view subscription,
                              std::string_view tenant, std::string_view request_id, sys_time now) {
  std::string family = expand_family(family_template, broker, subscription, tenant, u.type);
  std::optional<std::string> subject = u.id;
  // Built in place: `data` is move-constructed, so it keeps the notification's arena storage
  // (assigning into a default-constructed value would copy it into the default storage).
  return cloud_event{
      .id = std::move(u.event_id),
      .source = "/bbgw/context/" + std::string(broker) + "/" +
                (tenant.empty() ? std::string("default") : std::string(tenant)),
      .type = std::string(entity_updated_type),
      .subject = std::move(subject),
      .time = now,
      .datacontenttype = "application/json",
      .dataschema = std::string(entity_updated_schema),
      .partitionkey = std::move(u.id),
      .requestid = request_id.empty() ? std::nullopt : std::optional<std::string>(request_id),
      .data = boost::json::value(std::move(u.data)),
      .family = std::move(family),
  };
}

}  // namespace bbgw::context

#pragma once
// Why the context connector refused a notification. Each maps to an HTTP status, an NGSI error
// name ({"error": ..., "description": ...}) and a metrics reason label.
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::context {

enum class errc {
  unknown_subscription = 1,  // 404: no such broker/subscription in the config
  unauthorized,              // 401: the subscription's token is missing or wrong
  unsupported_media_type,    // 415: not application/json (or application/ld+json for LD)
  body_too_large,            // 413: larger than body_limit
  too_many_entities,         // 413: more than max_entities_per_notification
  malformed_json,            // 400: not JSON
  invalid_notification,      // 400: JSON, but not a notification (no data, bad headers, ...)
  invalid_entity,            // 400: an entity or attribute breaks the format's rules
  store_failure,             // 503: the transaction failed; nothing was emitted
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

unsigned http_status(errc e) noexcept;
// The NGSI error name, as Orion spells them ("BadRequest", "ParseError", ...).
std::string_view ngsi_error(errc e) noexcept;
// The `reason` label of bbgw_context_notifications_rejected_total.
std::string_view metric_reason(errc e) noexcept;

}  // namespace bbgw::context

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::context::errc> : std::true_type {};
}  // namespace boost::system

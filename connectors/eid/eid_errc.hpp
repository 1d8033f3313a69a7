#pragma once
// Why the eID connector refused a request. Each maps to an HTTP status and a metrics reason.
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::eid {

enum class errc {
  // OpenID Connect front
  invalid_request = 1,        // missing/duplicated/malformed parameter
  unauthorized_client,        // client may not use this flow / scope
  invalid_client,             // unknown client or bad client authentication
  invalid_redirect_uri,       // redirect_uri not registered exactly for the client
  invalid_grant,              // code unknown, used, expired, or issued to someone else
  unsupported_response_type,  // only "code"
  unsupported_grant_type,     // only "authorization_code"
  invalid_scope,              // a scope the client may not ask for
  invalid_token,              // bearer token unknown or expired
  // SAML side
  node_unavailable,  // no usable node metadata (not loaded, expired)
  saml_rejected,     // the Response broke a validation rule (which one: the rule's name)
  login_failed,      // the node answered with a non-success status
  // Infrastructure
  store_failure,
  crypto_failure,
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// The RFC 6749 / OIDC error code ("invalid_request", ...), also the metrics reason.
std::string_view error_name(errc e) noexcept;
unsigned http_status(errc e) noexcept;

}  // namespace bbgw::eid

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::eid::errc> : std::true_type {};
}  // namespace boost::system

#pragma once
// The OpenID Connect front the platform logs in through: discovery, JWKS, the authorization
// endpoint that starts an eIDAS login, the token endpoint (authorization code + PKCE), userinfo;
// and complete()/fail(), which the ACS calls once a SAML Response was validated or refused.
//
// Errors about the client or its redirect_uri are shown to the user, never redirected (no open
// redirects); later errors go back to the registered redirect_uri as RFC 6749 §4.1.2.1 says.
#include <functional>
#include <string>
#include <string_view>

#include "bbgw/connector_context.hpp"
#include "bbgw/request.hpp"
#include "bbgw/response.hpp"
#include "eid/config.hpp"
#include "eid/jwt.hpp"
#include "eid/login.hpp"

namespace bbgw::eid {

inline constexpr std::string_view succeeded_type = "eu.bbgateway.eid.login.succeeded.v1";
inline constexpr std::string_view failed_type = "eu.bbgateway.eid.login.failed.v1";
inline constexpr std::string_view succeeded_schema =
    "https://bbgateway.eu/schemas/events/eid.login.succeeded.json";
inline constexpr std::string_view failed_schema =
    "https://bbgateway.eu/schemas/events/eid.login.failed.json";
inline constexpr std::string_view event_family = "eid";
inline constexpr std::string_view event_source = "/bbgw/eid";
// The sector of the pseudonym events are keyed by (distinct from every client's `sub`).
inline constexpr std::string_view event_sector = "urn:bbgw:eid:events";

// Sends the browser to the eIDAS node for a stored pending login (the AuthnRequest).
using login_starter = std::function<response(pending_login const&)>;

// base64url(HMAC-SHA256(secret, sector ‖ 0x00 ‖ PersonIdentifier)).
std::string pairwise_subject(std::string_view secret, std::string_view sector,
                             std::string_view person_identifier);

class oidc_front {
 public:
  oidc_front(eid_config const& cfg, connector_context& ctx, es256_signer signer,
             login_starter start);

  response discovery(request const& r) const;
  response jwks(request const& r) const;
  response authorize(request const& r);
  response token(request const& r);
  response userinfo(request const& r);

  // The SAML side validated a Response to `request_id`: consumes the pending login, stores a
  // code and emits `login succeeded` in one transaction; answers with the redirect to the
  // client (code + state), or an error page.
  response complete(std::string_view request_id, identity const& who,
                    std::string const& http_request_id);
  // The node refused (non-success status) or a rule rejected the Response: consumes the
  // pending login if known, emits `login failed`, answers with an error page.
  response fail(std::string_view request_id, std::string_view reason, std::string_view detail,
                std::string const& http_request_id);

  es256_signer const& signer() const { return signer_; }

 private:
  response error_page(unsigned status, std::string_view title, std::string_view detail) const;
  response redirect_error(std::string const& redirect_uri, std::string_view error,
                          std::string_view description, std::string const& state) const;
  response token_error(unsigned status, std::string_view error, std::string_view description,
                       bool basic_challenge = false) const;
  boost::json::object released_claims(oidc_client const& client,
                                      std::vector<std::string> const& scopes,
                                      identity const& who) const;

  eid_config const& cfg_;
  connector_context& ctx_;
  es256_signer signer_;
  login_starter start_;
  counter* logins_ok_;
  counter* logins_failed_;
  counter* tokens_issued_;
};

}  // namespace bbgw::eid

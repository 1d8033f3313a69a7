#pragma once
// The records a login passes through: the pending login stored when /oidc/authorize starts it
// (namespace eid.requests, key = the SAML AuthnRequest ID, one-time), and the identity a
// validated SAML assertion yields.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/clock.hpp"
#include "eid/config.hpp"

namespace bbgw::eid {

inline constexpr std::string_view requests_ns = "eid.requests";
inline constexpr std::string_view codes_ns = "eid.codes";
inline constexpr std::string_view tokens_ns = "eid.tokens";
inline constexpr std::string_view assertions_ns = "eid.assertions";

struct pending_login {
  std::string request_id;  // the AuthnRequest ID ("_" + random)
  std::string client_id;
  std::string redirect_uri;
  std::string state;
  std::string nonce;
  std::string code_challenge;  // S256, base64url; empty when none
  std::vector<std::string> scopes;
  std::string loa;  // the requested LoA URI
  std::vector<requested_attribute> attributes;
  sys_time issued{};

  std::string to_json() const;
  static std::optional<pending_login> from_json(std::string_view text);
};

struct identity {
  std::string person_identifier;
  std::string loa;  // obtained
  sys_time auth_instant{};
  std::string country;                                          // of the node
  std::vector<std::pair<std::string, std::string>> attributes;  // eIDAS Name URI → value
};

}  // namespace bbgw::eid

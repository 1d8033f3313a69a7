#pragma once
// The eIDAS node's metadata (an md:EntityDescriptor with an IDPSSODescriptor), accepted only
// when its enveloped signature covers the root element and verifies with the configured trust
// anchor, and while validUntil has not passed. It yields the node's entity id, its SSO URLs
// per binding and its signing keys (the only keys a Response may be signed with).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::eid {

struct node_metadata {
  std::string entity_id;
  std::string sso_post;      // SingleSignOnService Location for HTTP-POST
  std::string sso_redirect;  // ... for HTTP-Redirect
  std::vector<xmlsec::key> signing_keys;
  std::optional<sys_time> valid_until;
  sys_time loaded{};
};

result<node_metadata> parse_node_metadata(std::string_view xml, xmlsec::key const& trust_anchor,
                                          xmlsec::algorithm_policy const& policy, sys_time now,
                                          std::string* detail);

}  // namespace bbgw::eid

#pragma once
// The eIDAS AuthnRequest (SAML 2.0 core §3.4.1 with the eIDAS SAML Message Format 1.2
// extensions), built as text before signing, and the two bindings that carry it.
#include <string>
#include <string_view>

#include "bbgw/clock.hpp"
#include "eid/config.hpp"
#include "eid/login.hpp"

#include "xmlsec/document.hpp"

namespace bbgw::eid {

struct authn_request_spec {
  std::string id;           // the pending login's request id
  std::string destination;  // the node's SSO URL for the binding
  std::string issuer;       // our entity id (the metadata URL)
  std::string acs_url;
  std::string sp_type;  // public | private
  std::string name_id_format;
  std::string loa;  // requested LoA URI; NotNotified variants are requested "exact"
  std::vector<requested_attribute> attributes;
  sys_time issue_instant{};
  bool post_binding = true;  // ProtocolBinding of the ACS: HTTP-POST
};

// The unsigned AuthnRequest document (UTF-8, no XML declaration). ForceAuthn="true",
// IsPassive="false", NameIDPolicy AllowCreate="true", RequestedAuthnContext minimum (exact for
// NotNotified), eidas:SPType and eidas:RequestedAttributes in Extensions.
std::string build_authn_request(authn_request_spec const& s);

using xmlsec::xml_escape;
// SAML's xs:dateTime in UTC with seconds: 2026-11-24T10:00:00Z.
std::string saml_time(sys_time t);

// HTTP-Redirect binding (SAML bindings §3.4.4.1): DEFLATE (raw, RFC 1951) + base64 + URL
// encoding; returns the query string up to and including SigAlg, i.e. exactly the octets that
// are signed: "SAMLRequest=...&RelayState=...&SigAlg=...".
std::string redirect_query_to_sign(std::string_view xml, std::string_view relay_state,
                                   std::string_view sig_alg);
std::string deflate_raw(std::string_view data);
std::optional<std::string> inflate_raw(std::string_view data, std::size_t max_out);

// HTTP-POST binding: an auto-submitting HTML form posting SAMLRequest (base64) and RelayState.
std::string post_form(std::string_view action, std::string_view field, std::string_view xml_base64,
                      std::string_view relay_state);

}  // namespace bbgw::eid

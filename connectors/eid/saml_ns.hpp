#pragma once
// Namespace URIs and small XML helpers of the SAML side.
#include <optional>
#include <string_view>

#include "bbgw/date_time.hpp"

#include "bbgw/clock.hpp"

namespace bbgw::eid::ns {
inline constexpr std::string_view samlp = "urn:oasis:names:tc:SAML:2.0:protocol";
inline constexpr std::string_view saml = "urn:oasis:names:tc:SAML:2.0:assertion";
inline constexpr std::string_view md = "urn:oasis:names:tc:SAML:2.0:metadata";
inline constexpr std::string_view ds = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view eidas = "http://eidas.europa.eu/saml-extensions";
inline constexpr std::string_view post_binding = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
inline constexpr std::string_view redirect_binding =
    "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
inline constexpr std::string_view success = "urn:oasis:names:tc:SAML:2.0:status:Success";
inline constexpr std::string_view bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
inline constexpr std::string_view xenc = "http://www.w3.org/2001/04/xmlenc#";
}  // namespace bbgw::eid::ns

namespace bbgw::eid {
// The XML-Enc 1.0 AES-CBC content ciphers: only under node.allow_cbc_encryption.
inline constexpr std::string_view cbc_uris[] = {"http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                                                "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
                                                "http://www.w3.org/2001/04/xmlenc#aes256-cbc"};
// xs:dateTime as SAML uses it (a zone required: "Z" or an offset; optional fraction); nothing
// if bad. Far-future instants of test corpora are clamped (see date_time_options).
inline std::optional<sys_time> parse_saml_time(std::string_view s) {
  return parse_rfc3339(s, {.utc_without_zone = false, .clamp_out_of_range = true});
}
}  // namespace bbgw::eid

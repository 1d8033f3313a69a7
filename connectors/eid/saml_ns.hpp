#pragma once
// Namespace URIs and small XML helpers of the SAML side.
#include <optional>
#include <string_view>

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
}  // namespace bbgw::eid::ns

namespace bbgw::eid {
// xs:dateTime as SAML uses it (UTC "Z", optional fraction; offsets accepted); nothing if bad.
std::optional<sys_time> parse_saml_time(std::string_view s);
}  // namespace bbgw::eid

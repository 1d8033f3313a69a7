#pragma once
// Small encodings and hashes the OIDC front needs: SHA-256, HMAC-SHA256, random tokens, and
// application/x-www-form-urlencoded parsing.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/base64.hpp"

namespace bbgw::eid {

// Base64 and base64url (unpadded): the gateway's one strict codec.
using bbgw::base64_decode;
using bbgw::base64_encode;
using bbgw::base64url_decode;
using bbgw::base64url_encode;

std::string sha256(std::string_view data);  // raw 32 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);
// `bytes` of CSPRNG output, base64url: codes, tokens, request ids.
std::string random_token(std::size_t bytes = 32);

// Percent-decoding with '+' as space; nothing on a bad escape.
std::optional<std::string> form_decode(std::string_view s);
std::string form_encode(std::string_view s);  // RFC 3986 unreserved kept, everything else %XX
// Parses a query string or form body; nothing when an escape is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view s);
// One field of a form body, decoded into `value` without decoding the body into a copy first;
// the outcome is the one parse_form would give: malformed (any field's escape) before repeated.
enum class form_field { found, absent, repeated, malformed };
form_field find_form_field(std::string_view s, std::string_view name, std::string& value);

// Constant-time comparison for secrets.
bool equal_secret(std::string_view a, std::string_view b) noexcept;

}  // namespace bbgw::eid

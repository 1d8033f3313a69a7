#pragma once
// Base64 (RFC 4648) for every connector: one strict decoder, so a value means the same thing in
// a SAML Response, an AS4 CipherValue, a JWT and a translated document.
//
// Standard alphabet (§4): ASCII whitespace (space, tab, CR, LF) between characters is skipped
// (XML and MIME wrap lines); padding must complete the last quantum; nothing may follow it;
// non-zero trailing bits are refused (one encoding per value: no malleable signatures).
// URL alphabet (§5, as in JWS/JWT and PKCE): no padding, no whitespace, canonical bits.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bbgw {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

std::string base64url_encode(std::string_view bytes);  // unpadded
std::optional<std::string> base64url_decode(std::string_view text);

// The decoded size of standard base64 `text`, whitespace ignored, assuming it is valid: lets a
// too-large document be refused before it is decoded.
std::size_t base64_decoded_size(std::string_view text);

}  // namespace bbgw

#pragma once
// Strict base64 (RFC 4648 section 4) for documents: line breaks and spaces are skipped (MIME
// style bodies), anything else outside the alphabet, bad padding or a bad length is an error.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace bbgw::etranslation {

std::optional<std::string> base64_decode(std::string_view in);
std::string base64_encode(std::string_view in);
// The decoded size of `in` ignoring whitespace, assuming it is valid: lets a too-large document
// be refused without decoding it.
std::size_t base64_decoded_size(std::string_view in);

}  // namespace bbgw::etranslation

#pragma once
// SOAP-with-attachments: a strict multipart/related (RFC 2387 / RFC 2046) parser over a body held
// in memory. The boundary comes from the Content-Type, or — for raw bodies stored without their
// HTTP headers (the AS4.NET vectors) — from the first line. Part headers understood:
// Content-ID, Content-Type, Content-Transfer-Encoding (binary, 8bit, 7bit, base64); everything
// else is kept but ignored. Limits on part count, header size and total size are enforced
// before any allocation grows with the input.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/result.hpp"

namespace bbgw::edelivery {

struct mime_limits {
  std::size_t max_total_bytes = 64 * 1024 * 1024;
  std::size_t max_parts = 32;
  std::size_t max_header_bytes = 8 * 1024;  // one part's whole header block
  std::size_t max_header_lines = 32;
};

struct mime_part {
  std::string content_id;                                    // without "<" ">" (and without "cid:")
  std::string content_type;                                  // as sent, e.g. "application/gzip"
  std::string transfer_encoding;                             // lower case; empty when absent
  std::string content;                                       // after undoing the transfer encoding
  std::vector<std::pair<std::string, std::string>> headers;  // all, names lower case
};

struct mime_message {
  std::string boundary;
  std::vector<mime_part> parts;  // parts[root] is the SOAP envelope
  std::size_t root = 0;

  mime_part const* find(std::string_view content_id) const;
};

// A parsed header value: "multipart/related; type=\"application/soap+xml\"; boundary=x".
struct content_type {
  std::string media_type;                                   // lower case "type/subtype"
  std::vector<std::pair<std::string, std::string>> params;  // names lower case, values unquoted

  static result<content_type> parse(std::string_view value);
  std::optional<std::string> param(std::string_view name) const;
};

// `content_type_header` may be empty: then the body must start with "--boundary".
result<mime_message> parse_multipart(std::string_view content_type_header, std::string_view body,
                                     mime_limits const& limits = {});

// Strips "<…>" and a leading "cid:" as hrefs and Content-IDs write them.
std::string_view bare_content_id(std::string_view id) noexcept;

// Strict base64 (RFC 2045: CR/LF and spaces between groups allowed); nullopt when invalid.
std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace bbgw::edelivery

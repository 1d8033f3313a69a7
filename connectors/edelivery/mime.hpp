#pragma once
// SOAP-with-attachments: a strict multipart/related (RFC 2387 / RFC 2046) parser. `scan_multipart`
// locates the parts of a body of any size (a spooled file) by offsets, reading it in chunks: only
// base64 parts are decoded, to a sink; nothing else is copied. `parse_multipart` is the same over
// a body held in memory, with the parts copied out (small messages, receipts). The boundary comes
// from the Content-Type, or — for raw bodies stored without their HTTP headers (the AS4.NET
// vectors) — from the first line. Part headers understood: Content-ID, Content-Type,
// Content-Transfer-Encoding (binary, 8bit, 7bit, base64); everything else is kept but ignored.
// Limits on part count, header size and total size are enforced before any allocation grows with
// the input.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/base64.hpp"
#include "bbgw/result.hpp"
#include "edelivery/byte_stream.hpp"

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

// The parameters of a header value after its first ';' (RFC 2045 / RFC 7578 syntax:
// `name=token` or `name="quoted \"string\""`): names lower case, values unquoted.
using header_params = std::vector<std::pair<std::string, std::string>>;
result<header_params> parse_header_params(std::string_view params);

// A parsed header value: "multipart/related; type=\"application/soap+xml\"; boundary=x".
struct content_type {
  std::string media_type;  // lower case "type/subtype"
  header_params params;    // names lower case, values unquoted

  static result<content_type> parse(std::string_view value);
  std::optional<std::string> param(std::string_view name) const;
};

// A part located in the body: its headers, and where its content is (after undoing the
// transfer encoding: a range of the body, or of the sink a base64 part was decoded to).
struct located_part {
  std::string content_id;
  std::string content_type;
  std::string transfer_encoding;
  std::vector<std::pair<std::string, std::string>> headers;
  byte_range content;
  // Set when `content` is a whole scratch output written by the receiver (a decrypted part):
  // its SHA-256, computed on the way, so the part can become a payload without another pass.
  std::string content_sha256_hex;
};

struct mime_layout {
  std::string boundary;
  std::vector<located_part> parts;  // parts[root] is the SOAP envelope
  std::size_t root = 0;

  // An attachment (never the root) by bare Content-ID.
  located_part* attachment(std::string_view content_id);
  located_part const* attachment(std::string_view content_id) const;
};

// The pieces both parsers share (scan_multipart here, mime_stream for a body read while it
// arrives). The boundary from the Content-Type (and its `start` parameter), or — when the
// header is empty — from `head`, the body's first bytes ("--boundary" line).
result<std::string> boundary_of(std::string_view content_type_header, std::string_view head,
                                std::optional<std::string>& start);
// One part's header block: `w` starts at its delimiter line ("--boundary" is `dash_size`
// bytes) and holds the block (`more_follows`: the body goes on after `w`, so a block that does
// not end inside it is too large rather than cut off). Fills `part`'s headers, checked against
// the `earlier` parts (count, Content-ID uniqueness); returns where the content starts in `w`.
result<std::size_t> parse_part_header(std::string_view w, std::size_t dash_size, bool more_follows,
                                      mime_limits const& limits,
                                      std::span<located_part const> earlier, located_part& part);
// The root part must be a SOAP envelope (application/soap+xml, or text/xml for SOAP 1.1).
bool is_soap_root(located_part const& part);

// `content_type_header` may be empty: then the body must start with "--boundary". Base64 parts
// are decoded (strictly) into `decoded.scratch()` sinks.
result<mime_layout> scan_multipart(std::string_view content_type_header, source_ptr body,
                                   mime_limits const& limits, sink_factory& decoded);

// `content_type_header` may be empty: then the body must start with "--boundary".
result<mime_message> parse_multipart(std::string_view content_type_header, std::string_view body,
                                     mime_limits const& limits = {});

// Strips "<…>" and a leading "cid:" as hrefs and Content-IDs write them.
std::string_view bare_content_id(std::string_view id) noexcept;

// Strict base64 (whitespace between characters allowed): the gateway's one codec.
using bbgw::base64_decode;
using bbgw::base64_encode;

// The same strict base64, fed in pieces (large base64 parts).
class base64_decoder {
 public:
  // Appends the bytes decoded so far; false when the input is not strict base64.
  bool update(std::string_view text, std::string& out);
  bool finish() const;  // the input ended on a valid boundary

 private:
  unsigned acc_ = 0;
  int bits_ = 0;
  int pad_ = 0;
  std::size_t symbols_ = 0;
};

}  // namespace bbgw::edelivery

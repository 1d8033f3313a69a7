#pragma once
// One received AS4 HTTP body → a verified, decrypted, decompressed message, or the EBMS error
// that refuses it. Order: content type → MIME (or SOAP-only) → hardened XML parse → SOAP
// envelope → eb:Messaging (XSD + model rules) → WS-Security (decrypt, select signer among the
// configured certificates, verify, coverage) → payloads (every PartInfo resolves to a part,
// every part is named by a PartInfo; gunzip with size and ratio limits).
//
// Nothing grows with the payload size: the body is a byte_source (the route's spool file), MIME
// parts are located by offset, only the SOAP part (bounded by the XML limit) is read into
// memory, encrypted parts are decrypted chunk by chunk into scratch files, the signature's cid:
// references are digested by streaming the (decrypted) parts, and payloads are decompressed /
// copied chunk by chunk into their files with their size and SHA-256 computed on the way.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/body_reader.hpp"
#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "edelivery/byte_stream.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/gzip.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/ws_security.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/schema_set.hpp"

namespace bbgw::edelivery {

struct inbound_options {
  mime_limits mime;
  xmlsec::parse_limits xml;
  gunzip_limits gunzip;
  security_policy security;
  bool allow_soap11 = false;                    // for receipts from older peers only
  xmlsec::schema_set const* schemas = nullptr;  // the ebMS 3 header XSD; null = skip XSD
  // An existing directory for the payload files (named 0, 1, … in PartInfo order) and the
  // scratch files (anonymous); empty = everything in memory (payload::data).
  std::string payload_dir;
};

struct payload {
  std::string content_id;
  std::string mime_type;
  std::string character_set;
  bool compressed = false;
  std::string data;  // after decryption and decompression; in memory mode only
  std::string file;  // with inbound_options::payload_dir: the file holding the bytes
  std::uint64_t size = 0;
  std::string sha256_hex;
};

struct inbound_message {
  xmlsec::document doc;
  soap_envelope env;
  messaging ebms;
  mime_layout mime;  // no parts for SOAP-only; ranges may refer to the body
  security_outcome security;
  std::vector<payload> payloads;
  std::string envelope_bytes;  // the SOAP part as received (non-repudiation)
};

// What the PMode matched on the (not yet verified) eb:Messaging decides: the partner
// certificates it trusts and the security it requires. Refusing (errc::pmode_mismatch with a
// reason in `detail`) stops processing before any cryptography.
struct security_choice {
  std::span<xmlsec::key const> partners;
  security_policy policy;
};
using security_selector =
    std::function<result<security_choice>(messaging const&, std::string* detail)>;

result<inbound_message> receive(std::string_view content_type, source_ptr body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now,
                                std::string* detail = nullptr);

// The same over a body read once while it arrives (the receive route's streamed request body),
// so that nothing waits for its last byte but the signature: the envelope — which must be the
// first part — is parsed, matched and its content keys decrypted first, then each attachment
// is decrypted (or copied) into its scratch file with its SHA-256 as it arrives. A body whose
// root is not the first part is spooled into a scratch file and received from there. Errors of
// `body` become mime_too_large (above the route's limit) or delivery_failed (cut off). The
// checks and their EBMS codes are the spooled path's; only a message with several faults may
// be refused for another of them (the first met while reading).
result<inbound_message> receive(std::string_view content_type, bbgw::body_reader& body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now,
                                std::string* detail = nullptr);

// The same over a body in memory (kept alive by the caller while the result is used).
result<inbound_message> receive(std::string_view content_type, std::string_view body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now,
                                std::string* detail = nullptr);

// The same with fixed partners and options.security (tests, receipts).
// `content_type` may be empty for raw MIME bodies starting with "--boundary" or bare SOAP.
result<inbound_message> receive(std::string_view content_type, std::string_view body,
                                inbound_options const& options,
                                std::span<xmlsec::key const> partners, xmlsec::key const* own_key,
                                sys_time now, std::string* detail = nullptr);

// The SOAP part read: hardened XML parse → SOAP envelope → eb:Messaging (XSD + model rules) →
// the selector's PMode choice (both receive paths; the envelope's nodes live in `doc`).
struct opened_envelope {
  xmlsec::document doc;
  soap_envelope env;
  messaging ebms;
  security_choice choice;
};
result<opened_envelope> open_envelope(std::string_view soap_part, inbound_options const& options,
                                      security_selector const& select,
                                      std::string* detail = nullptr);

// Every cid: PartInfo names an attachment (EBMS:0011) and every attachment is named by a
// PartInfo (EBMS:0003). receive() checks this right after the PMode, before any cryptography.
result<void> check_parts(user_message const& um, mime_layout const& mime,
                         std::string* detail = nullptr);

// Step "payloads" alone (used by receive): PartInfo ↔ MIME parts, then each part decompressed
// or copied into `sinks.payload("<n>")` with its size and SHA-256.
result<std::vector<payload>> extract_payloads(user_message const& um, mime_layout const& mime,
                                              gunzip_limits const& limits, sink_factory& sinks,
                                              std::string* detail = nullptr);

}  // namespace bbgw::edelivery

#pragma once
// One received AS4 HTTP body → a verified, decrypted, decompressed message, or the EBMS error
// that refuses it. Order: content type → MIME (or SOAP-only) → hardened XML parse → SOAP
// envelope → eb:Messaging (XSD + model rules) → WS-Security (decrypt, select signer among the
// configured certificates, verify, coverage) → payloads (every PartInfo resolves to a part,
// every part is named by a PartInfo; gunzip with size and ratio limits).
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
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
};

struct payload {
  std::string content_id;
  std::string mime_type;
  std::string character_set;
  bool compressed = false;
  std::string data;  // after decryption and decompression
};

struct inbound_message {
  xmlsec::document doc;
  soap_envelope env;
  messaging ebms;
  mime_message mime;  // empty parts for SOAP-only
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

// Step "payloads" alone (used by receive): PartInfo ↔ MIME parts, decompression.
result<std::vector<payload>> extract_payloads(user_message const& um, mime_message const& mime,
                                              gunzip_limits const& limits,
                                              std::string* detail = nullptr);

}  // namespace bbgw::edelivery

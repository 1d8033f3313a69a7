#pragma once
// Why an AS4 message (or a signal we received) was refused. Every value maps to one EBMS error
// of ebMS 3.0 §6.7 / AS4 §5.2.3 (code, short description, category, severity, origin), which is
// what the eb:Error signal carries; the ErrorDetail is the specific, log-safe reason.
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::edelivery {

enum class errc {
  // MIME (EBMS:0007 MimeInconsistency, EBMS:0008 FeatureNotSupported)
  mime_no_boundary = 1,       // multipart without a usable boundary parameter / first line
  mime_malformed,             // delimiters, part headers or the close delimiter are wrong
  mime_too_many_parts,        // more parts than the limit
  mime_header_too_large,      // a part's header block (or one line) above the limit
  mime_too_large,             // the whole body above the limit
  mime_unsupported_encoding,  // Content-Transfer-Encoding other than binary/8bit/7bit/base64
  mime_bad_base64,            // a base64 part that does not decode
  mime_duplicate_content_id,  // two parts with the same Content-ID
  mime_no_root,               // no SOAP root part (start= names no part, or not SOAP)
  unsupported_media_type,     // neither multipart/related nor application/soap+xml
  // SOAP / ebMS header (EBMS:0009 InvalidHeader, 0001, 0003, 0004)
  soap_malformed,         // not well-formed XML, DOCTYPE, limits, not a SOAP envelope
  soap_version_mismatch,  // a SOAP namespace the message type does not allow
  messaging_missing,      // no (or more than one) eb:Messaging header
  messaging_invalid,      // eb:Messaging does not validate against the ebMS 3 XSD
  value_not_recognized,   // e.g. an unknown PartProperties value
  value_inconsistent,     // e.g. PartInfo href that is not cid:, a duplicated href
  payload_missing,        // a cid: href names no MIME part (EBMS:0011)
  unexpected_part,        // a MIME part that no PartInfo names
  feature_not_supported,  // a signal or MEP we do not handle (EBMS:0008)
  // PMode (EBMS:0010 ProcessingModeMismatch)
  pmode_mismatch,
  // Security (EBMS:0101 FailedAuthentication, 0102 FailedDecryption, 0103 PolicyNoncompliance)
  security_missing,       // no wsse:Security / ds:Signature where the PMode requires one
  signature_invalid,      // SignatureValue or a digest does not verify, reference unresolved
  signer_not_trusted,     // KeyInfo selects no configured certificate, or a BST not configured
  algorithm_not_allowed,  // signature/digest/c14n/transform/encryption outside the policy
  references_incomplete,  // the signature does not cover eb:Messaging, Body and every part
  decryption_failed,      // EncryptedKey or an attachment does not decrypt
  encryption_missing,     // the PMode requires encryption but a payload is plain
  timestamp_invalid,      // wsu:Timestamp expired, created in the future, or unreadable (0103)
  tls_client_mismatch,    // the PMode binds a TLS client certificate the connection lacks (0101)
  // Compression (EBMS:0303 DecompressionFailure)
  decompression_failed,  // not gzip, corrupt, or over the size / ratio limits
  // Receipts (EBMS:0301 MissingReceipt, 0302 InvalidReceipt)
  receipt_missing,
  receipt_invalid,
  // Reliability / delivery (EBMS:0202 DeliveryFailure)
  delivery_failed,  // the message could not be stored; nothing was emitted
  internal,         // EBMS:0004 Other
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// One row of the EBMS error table.
struct ebms_error {
  std::string_view code;               // "EBMS:0101"
  std::string_view short_description;  // "FailedAuthentication"
  std::string_view category;           // Content | Communication | Unpackaging | Processing
  std::string_view severity;           // warning | failure
  std::string_view origin;             // ebMS | security | reliability
};

ebms_error const& ebms_error_for(errc e) noexcept;
// Any error code (ours, xmlsec's, others) → the EBMS error it becomes.
ebms_error const& ebms_error_for(boost::system::error_code const& ec) noexcept;
// Our errc for an error of connectors/xmlsec met while parsing or verifying.
errc from_xmlsec(boost::system::error_code const& ec) noexcept;
// Label for metrics ("mime_malformed", ...).
std::string_view metric_reason(errc e) noexcept;

}  // namespace bbgw::edelivery

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::edelivery::errc> : std::true_type {};
}  // namespace boost::system

#pragma once
// Errors of the XML-security library: parsing, schema, signature, encryption.
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::xmlsec {

enum class errc {
  malformed_xml = 1,      // not well-formed, or not namespace-well-formed
  doctype_forbidden,      // any DOCTYPE / DTD / entity declaration
  too_large,              // more bytes, nodes or attributes than the limits allow
  too_deep,               // nesting deeper than the limit
  schema_invalid,         // does not validate against the XSDs
  schema_unavailable,     // the XSD set could not be loaded
  duplicate_id,           // two elements carry the same registered ID value
  id_not_found,           // a same-document reference names no registered ID
  unexpected_content,     // e.g. a comment or element inside a text-only element
  signature_missing,      // no ds:Signature where one is required
  signature_malformed,    // ds:Signature does not have the structure XML-DSig requires
  signature_invalid,      // SignatureValue does not verify with any trusted key
  digest_mismatch,        // a ds:Reference digest does not match
  algorithm_not_allowed,  // an algorithm outside the policy's allow-list (SHA-1, rsa-1_5, HMAC…)
  transform_not_allowed,  // a transform outside the allow-list (XSLT, XPath, …)
  reference_not_allowed,  // a URI outside the allowed forms (external, XPointer, empty, …)
  part_not_found,         // a cid: reference names no part of this message
  key_not_trusted,        // no trusted key was given / matched
  key_unusable,           // wrong type or size for the algorithm, or not loadable
  decryption_failed,      // key transport, key agreement or content decryption failed
  encryption_failed,
  internal,               // libxml2 / xmlsec / OpenSSL failed for reasons not tied to the input
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace bbgw::xmlsec

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::xmlsec::errc> : std::true_type {};
}  // namespace boost::system

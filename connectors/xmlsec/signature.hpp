#pragma once
// XML-DSig verification and creation on xmlsec1 (plus the algorithms this library adds).
//
// verify() never takes a key from the message: the caller passes the keys it trusts (from
// metadata or a PMode) and the KeyInfo is at most used by the caller to choose among them.
// It checks the SignatureValue and every Reference, enforces the policy's allow-lists, accepts
// same-document references only to registered IDs ("#id") and, when `parts` is given, `cid:`
// references to the message's own parts; and it returns what was signed, so the caller can
// require that the references cover exactly the elements it then uses (no wrapping).
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/parts.hpp"

namespace bbgw::xmlsec {

struct signed_reference {
  std::string uri;                      // as written: "#_abc" or "cid:part@example"
  xmlNodePtr element = nullptr;         // the element a "#id" reference resolved to
  std::vector<std::string> transforms;  // algorithm URIs, in order
  std::string digest_method;
  std::string digest_value;             // raw bytes (not base64)
  xmlNodePtr reference_node = nullptr;  // the ds:Reference element (e.g. to copy into a receipt)
};

struct verified_signature {
  std::string signature_method;
  std::string c14n_method;
  std::vector<signed_reference> references;  // in document order
  std::size_t key_index = 0;                 // which of the trusted keys verified it
  // Verified by the library's own exclusive c14n and EVP (every Reference "#id" with
  // [enveloped-signature,] exc-c14n or, with parts, "cid:" with the SwA content transform;
  // SignedInfo in exc-c14n: the SAML, eIDAS and AS4 shapes) rather than by xmlsec's generic
  // transform chain. The same checks either way.
  bool direct = false;
};

struct verify_options {
  algorithm_policy const* policy = nullptr;  // required
  part_source const* parts = nullptr;        // enables cid: references
  std::string* detail = nullptr;             // receives a specific, log-safe reason on failure
  bool generic_only = false;                 // always xmlsec's generic path (tests compare the two)
};

// `signature` is the ds:Signature element. IDs must already be registered on `doc`.
result<verified_signature> verify(document const& doc, xmlNodePtr signature,
                                  std::span<key const> trusted, verify_options const& options);

struct reference_spec {
  std::string uri;  // "#id" (the ID must be registered) or "cid:…" (needs `parts`)
  std::vector<std::string> transforms;  // e.g. {enveloped_signature, exc_c14n}
};

struct sign_spec {
  std::string signature_method{uri::rsa_sha256};
  std::string digest_method{uri::sha256};
  std::string c14n_method{uri::exc_c14n};
  std::vector<reference_spec> references;
  bool include_certificate = true;  // ds:KeyInfo/ds:X509Data/ds:X509Certificate
  // Digests and SignatureValue are computed by the library's exclusive c14n and EVP for the
  // shapes verify() reads directly ("#id" with [enveloped-signature,] exc-c14n, "cid:" with the
  // SwA content transform), by xmlsec's transform chain otherwise; true: always xmlsec's (tests
  // compare the two).
  bool generic_only = false;
};

// Builds a ds:Signature as a child of `parent` (before `before` when not null), computes the
// digests and the SignatureValue, and returns the ds:Signature element. The caller may then
// add its own KeyInfo content (e.g. a wsse:SecurityTokenReference) when
// `include_certificate` is false: KeyInfo is not signed.
result<xmlNodePtr> sign(document& doc, xmlNodePtr parent, xmlNodePtr before, key const& signing_key,
                        sign_spec const& spec, part_source const* parts = nullptr);

// Raw signatures over bytes, as the SAML HTTP-Redirect binding uses: the value is the
// algorithm's native encoding (PKCS#1 / PSS octets; ECDSA as XML-DSig's r‖s, not DER).
result<std::string> sign_bytes(std::string_view data, key const& signing_key,
                               std::string_view signature_method);
result<void> verify_bytes(std::string_view data, std::string_view signature, key const& k,
                          std::string_view signature_method, algorithm_policy const& policy);

// Digest of bytes by algorithm URI (sha256/384/512; sha1 only when the policy allows it).
result<std::string> digest(std::string_view data, std::string_view digest_method);

}  // namespace bbgw::xmlsec

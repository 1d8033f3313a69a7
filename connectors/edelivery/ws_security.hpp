#pragma once
// WS-Security 1.1.1 processing of a received AS4 message (or signal), in header order:
//   1. wsse:Security for this node; missing while the policy requires a signature → EBMS:0103;
//   2. wsu:Id attributes registered as IDs (duplicates refused); a wsu:Timestamp, when present,
//      must be fresh at the (injected) time: Created not after now + skew, Expires not before
//      now - skew (EBMS:0103 otherwise);
//   3. every xenc:EncryptedKey is decrypted with our key; each xenc:EncryptedData its
//      ReferenceList names must be an attachment (CipherReference cid: +
//      Attachment-Ciphertext-Transform, AES-GCM) and is decrypted streaming into a scratch sink
//      that then stands for the part (the tag is checked at the end, before the plaintext is
//      used); an EncryptedData tied to its key only by a SecurityTokenReference is not followed
//      (EBMS:0102);
//   4. the signer is selected among the configured partner certificates by the KeyInfo
//      (BinarySecurityToken equal to a configured certificate, SubjectKeyIdentifier, or
//      IssuerSerial); an embedded certificate that is not configured is never trusted; the
//      certificate must be valid at the (injected) time and strong enough for the policy;
//   5. the signature is verified by connectors/xmlsec with `cid:` references resolved only to
//      this message's parts (as sent, i.e. compressed, after decryption);
//   6. the references must cover eb:Messaging, the Body and every attachment exactly once, and
//      nothing outside the Security header besides them (no wrapping, no swapped parts).
#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/mime.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::edelivery {

struct security_policy {
  xmlsec::algorithm_policy algorithms = xmlsec::algorithm_policy::as4_receive();
  bool require_signature = true;
  bool require_encryption = false;  // every attachment must have been encrypted
  // Tolerated clock difference for wsu:Timestamp Created/Expires.
  std::chrono::seconds timestamp_skew{std::chrono::minutes(1)};
};

struct security_outcome {
  bool is_signed = false;
  xmlsec::verified_signature signature;  // references in document order
  std::size_t signer_index = 0;          // index into the partner certificates
  std::vector<std::string> decrypted_content_ids;
};

// `mime` may be null for a SOAP-only message; its encrypted attachments (all parts but the
// root) are decrypted into `scratch` sinks and then stand for the parts. `partners` are the
// certificates the PMode trusts; `own_key` the private key for decryption (may be null when
// nothing is encrypted). `detail` receives a log-safe reason on failure.
// process_security = prepare_security, an attachment_decryptor per encrypted part (read from
// where it is located), verify_security. A receiver reading the body while it arrives calls
// the three itself: the first with the envelope alone, the second as each part arrives.
result<security_outcome> process_security(xmlsec::document& doc, soap_envelope const& env,
                                          mime_layout* mime, sink_factory& scratch,
                                          std::span<xmlsec::key const> partners,
                                          xmlsec::key const* own_key, security_policy const& policy,
                                          sys_time now, std::string* detail = nullptr);

// Step 3's content key for one attachment, from the header.
struct attachment_key {
  std::string content_id;  // bare
  std::string cek;
  std::string mime_type;  // EncryptedData/@MimeType (the plaintext's), empty when absent
};

struct security_plan {
  bool has_header = false;                  // false: nothing else happens (the policy allowed that)
  std::vector<attachment_key> attachments;  // to decrypt, in header order
};

// Steps 1, 2 and the keys of 3, with the envelope alone: every EncryptedKey decrypted with
// `own_key` and every EncryptedData checked (algorithms, cid: CipherReference, the SwA
// ciphertext transform, each attachment at most once) and mapped to the attachment it names.
result<security_plan> prepare_security(xmlsec::document& doc, soap_envelope const& env,
                                       bool has_attachments, xmlsec::key const* own_key,
                                       security_policy const& policy, sys_time now,
                                       std::string* detail = nullptr);

// Step 3 for one attachment, fed its ciphertext (IV ‖ ciphertext ‖ tag) in pieces: the
// plaintext goes into a scratch sink with its SHA-256; finish() checks the tag and makes the
// sink the part's content (a failed part's sink is dropped unread).
class attachment_decryptor {
 public:
  static result<std::unique_ptr<attachment_decryptor>> start(attachment_key const& key,
                                                             sink_factory& scratch,
                                                             std::string* detail = nullptr);
  result<void> update(std::span<char const> ciphertext, std::string* detail = nullptr);
  result<void> finish(located_part& part, std::string* detail = nullptr);

 private:
  attachment_decryptor(attachment_key const& key, std::unique_ptr<byte_sink> sink);
  std::string mime_type_;
  std::unique_ptr<byte_sink> sink_;
  xmlsec::gcm_decryptor gcm_;
  sha256_stream sha_;
  std::string plain_;
};

// Every part in (decrypted where the plan says): encryption as the policy requires, then
// steps 4–6.
result<security_outcome> verify_security(xmlsec::document& doc, soap_envelope const& env,
                                         mime_layout const* mime, security_plan const& plan,
                                         std::span<xmlsec::key const> partners,
                                         security_policy const& policy, sys_time now,
                                         std::string* detail = nullptr);

// A part_source over located parts (the root excluded), streamed from wherever they are.
class located_parts final : public xmlsec::part_source {
 public:
  explicit located_parts(mime_layout const* mime) : mime_(mime) {}
  result<std::unique_ptr<xmlsec::part_reader>> open(std::string_view content_id) const override;
  // A decrypted part's SHA-256, computed while it was written (located_part::content_sha256_hex).
  std::optional<std::string> known_sha256(std::string_view content_id) const override;

 private:
  mime_layout const* mime_;
};

// A part_source over in-memory parts (the root excluded).
class memory_parts final : public xmlsec::part_source {
 public:
  explicit memory_parts(mime_message const* mime) : mime_(mime) {}
  result<std::unique_ptr<xmlsec::part_reader>> open(std::string_view content_id) const override;

 private:
  mime_message const* mime_;
};

}  // namespace bbgw::edelivery

#pragma once
// WS-Security 1.1.1 processing of a received AS4 message (or signal), in header order:
//   1. wsse:Security for this node; missing while the policy requires a signature → EBMS:0103;
//   2. wsu:Id attributes registered as IDs (duplicates refused);
//   3. every xenc:EncryptedKey is decrypted with our key; each xenc:EncryptedData it lists (by
//      ReferenceList or by a SecurityTokenReference to it) must be an attachment
//      (CipherReference cid: + Attachment-Ciphertext-Transform, AES-GCM) and is decrypted in
//      place in the MIME message (the tag is checked before the plaintext is used);
//   4. the signer is selected among the configured partner certificates by the KeyInfo
//      (BinarySecurityToken equal to a configured certificate, SubjectKeyIdentifier, or
//      IssuerSerial); an embedded certificate that is not configured is never trusted; the
//      certificate must be valid at the (injected) time and strong enough for the policy;
//   5. the signature is verified by connectors/xmlsec with `cid:` references resolved only to
//      this message's parts (as sent, i.e. compressed, after decryption);
//   6. the references must cover eb:Messaging, the Body and every attachment exactly once, and
//      nothing outside the Security header besides them (no wrapping, no swapped parts).
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/mime.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::edelivery {

struct security_policy {
  xmlsec::algorithm_policy algorithms = xmlsec::algorithm_policy::as4_receive();
  bool require_signature = true;
  bool require_encryption = false;  // every attachment must have been encrypted
};

struct security_outcome {
  bool is_signed = false;
  xmlsec::verified_signature signature;  // references in document order
  std::size_t signer_index = 0;          // index into the partner certificates
  std::vector<std::string> decrypted_content_ids;
};

// `mime` may be null for a SOAP-only message; its attachments (all parts but the root) are
// decrypted in place. `partners` are the certificates the PMode trusts; `own_key` the private
// key for decryption (may be null when nothing is encrypted). `detail` receives a log-safe
// reason on failure.
result<security_outcome> process_security(xmlsec::document& doc, soap_envelope const& env,
                                          mime_message* mime, std::span<xmlsec::key const> partners,
                                          xmlsec::key const* own_key, security_policy const& policy,
                                          sys_time now, std::string* detail = nullptr);

// A part_source over in-memory parts (the root excluded).
class memory_parts final : public xmlsec::part_source {
 public:
  explicit memory_parts(mime_message const* mime) : mime_(mime) {}
  result<std::unique_ptr<xmlsec::part_reader>> open(std::string_view content_id) const override;

 private:
  mime_message const* mime_;
};

}  // namespace bbgw::edelivery

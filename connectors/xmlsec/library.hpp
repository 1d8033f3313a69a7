#pragma once
// Process-wide set-up of libxml2 and xmlsec1 (OpenSSL back end), done once and hardened:
// - libxml2's external entity loader refuses everything (no network, no files) except the XSDs
//   a schema_set loads explicitly;
// - xmlsec's URI input callbacks are cleared, and only the `cid:` resolver of this library is
//   registered (it answers only from the parts of the message being verified);
// - the transforms this library adds are registered: RSASSA-PSS and the SwA
//   Attachment-Content-Signature / Attachment-Ciphertext transforms.
// libxml2 and xmlsec keep this state per process, so this is the one place that touches it.
// Idempotent and thread-safe; every other function of the library calls it.
#include "bbgw/result.hpp"

namespace bbgw::xmlsec {

result<void> initialise();

}  // namespace bbgw::xmlsec

// Process-wide, once-only set-up of libxml2 and xmlsec1 (see library.hpp for what is hardened).
#include "xmlsec/library.hpp"

#include <mutex>

#include <libxml/parser.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmlsec.h>

#include "xmlsec/errc.hpp"
#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec {
namespace {

result<void> initialise_once() {
  xmlInitParser();
  detail::install_entity_loader();
  if (xmlSecInit() < 0) return make_error_code(errc::internal);
  if (xmlSecCheckVersion() != 1) return make_error_code(errc::internal);
  if (xmlSecCryptoAppInit(nullptr) < 0) return make_error_code(errc::internal);
  if (xmlSecCryptoInit() < 0) return make_error_code(errc::internal);
  detail::install_error_capture();
  if (auto r = detail::install_cid_callbacks(); !r) return r;
  for (auto id : {detail::rsa_pss_sha256_klass(), detail::rsa_pss_sha384_klass(),
                  detail::rsa_pss_sha512_klass(), detail::swa_content_klass()}) {
    if (xmlSecTransformIdsRegister(id) < 0) return make_error_code(errc::internal);
  }
  return {};
}

}  // namespace

result<void> initialise() {
  // A function-local static is initialised exactly once, thread-safely (the library state
  // itself is process-wide, see library.hpp); a failure is remembered, not retried.
  static result<void> const outcome = initialise_once();
  return outcome;
}

}  // namespace bbgw::xmlsec

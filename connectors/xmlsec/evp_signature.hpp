#pragma once
// Internal: signature algorithms by URI on OpenSSL EVP, shared by the RSASSA-PSS transform and
// sign_bytes()/verify_bytes(). Not part of the library's interface.
#include <optional>
#include <string>
#include <string_view>

#include <openssl/evp.h>

#include "bbgw/result.hpp"

namespace bbgw::xmlsec::detail {

enum class signature_kind { rsa_pkcs1, rsa_pss, ecdsa, hmac };

struct signature_algorithm {
  signature_kind kind;
  EVP_MD const* md;
};

// rsa-sha1/256/384/512, sha256/384/512-rsa-MGF1, ecdsa-sha256/384/512, hmac-*; nullopt else.
std::optional<signature_algorithm> signature_algorithm_by_uri(std::string_view uri);
// sha1, sha256, sha384, sha512; nullptr else.
EVP_MD const* digest_md_by_uri(std::string_view uri);

// An ECDSA signature in XML-DSig's r‖s form (each `r`, `s` as big-endian octets, at most 255)
// as the DER SEQUENCE { INTEGER r, INTEGER s } EVP verifies.
std::string ecdsa_raw_to_der(std::string_view r, std::string_view s);

// One streaming sign or verify operation; PSS uses salt length = digest length and MGF1 with
// the same digest (RFC 6931), and accepts nothing else when verifying.
class evp_signer {
 public:
  evp_signer() = default;
  ~evp_signer();
  evp_signer(evp_signer const&) = delete;
  evp_signer& operator=(evp_signer const&) = delete;

  bool init(EVP_PKEY* pkey, signature_algorithm alg, bool sign);
  bool update(void const* data, std::size_t size);
  // Signature in the XML-DSig encoding (ECDSA r‖s).
  std::optional<std::string> sign_final();
  bool verify_final(std::string_view signature);

 private:
  EVP_MD_CTX* md_ctx_ = nullptr;
  EVP_PKEY* pkey_ = nullptr;
  signature_algorithm alg_{};
};

}  // namespace bbgw::xmlsec::detail

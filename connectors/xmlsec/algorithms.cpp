// The allow-lists of algorithms.hpp.
#include "xmlsec/algorithms.hpp"

#include <algorithm>

namespace bbgw::xmlsec {

bool algorithm_policy::allows(std::vector<std::string> const& list, std::string_view u) const {
  return std::find(list.begin(), list.end(), u) != list.end();
}

algorithm_policy algorithm_policy::eidas(bool allow_rsa_pkcs1) {
  algorithm_policy p;
  p.signature_methods = {std::string(uri::rsa_pss_sha256), std::string(uri::rsa_pss_sha384),
                         std::string(uri::rsa_pss_sha512), std::string(uri::ecdsa_sha256),
                         std::string(uri::ecdsa_sha384),   std::string(uri::ecdsa_sha512)};
  if (allow_rsa_pkcs1) {
    for (auto u : {uri::rsa_sha256, uri::rsa_sha384, uri::rsa_sha512})
      p.signature_methods.emplace_back(u);
  }
  p.digest_methods = {std::string(uri::sha256), std::string(uri::sha384), std::string(uri::sha512)};
  p.c14n_methods = {std::string(uri::exc_c14n)};
  p.transforms = {std::string(uri::enveloped_signature), std::string(uri::exc_c14n)};
  p.data_encryption = {std::string(uri::aes128_gcm), std::string(uri::aes192_gcm),
                       std::string(uri::aes256_gcm)};
  p.key_transport = {std::string(uri::rsa_oaep),    std::string(uri::rsa_oaep_mgf1p),
                     std::string(uri::mgf1_sha256), std::string(uri::mgf1_sha384),
                     std::string(uri::mgf1_sha512), std::string(uri::sha256),
                     std::string(uri::sha384),      std::string(uri::sha512)};
  p.key_agreement = {std::string(uri::ecdh_es), std::string(uri::concat_kdf),
                     std::string(uri::kw_aes128), std::string(uri::kw_aes256)};
  return p;
}

algorithm_policy algorithm_policy::as4_receive() {
  algorithm_policy p;
  p.signature_methods = {std::string(uri::rsa_sha256), std::string(uri::rsa_sha384),
                         std::string(uri::rsa_sha512)};
  p.digest_methods = {std::string(uri::sha256), std::string(uri::sha384), std::string(uri::sha512)};
  p.c14n_methods = {std::string(uri::exc_c14n)};
  p.transforms = {std::string(uri::enveloped_signature), std::string(uri::exc_c14n),
                  std::string(uri::swa_content_signature)};
  p.data_encryption = {std::string(uri::aes128_gcm), std::string(uri::aes192_gcm),
                       std::string(uri::aes256_gcm)};
  p.key_transport = {std::string(uri::rsa_oaep),    std::string(uri::rsa_oaep_mgf1p),
                     std::string(uri::mgf1_sha256), std::string(uri::sha256),
                     std::string(uri::sha384),      std::string(uri::sha512)};
  return p;
}

algorithm_policy algorithm_policy::legacy(algorithm_policy base) {
  base.signature_methods.emplace_back(uri::rsa_sha1);
  base.digest_methods.emplace_back(uri::sha1);
  base.min_rsa_bits = 1024;
  return base;
}

}  // namespace bbgw::xmlsec

// Small shared pieces of the XML Encryption files: algorithm look-ups by URI.
#include "xmlsec/xenc_detail.hpp"

#include <openssl/crypto.h>

namespace bbgw::xmlsec::xenc_detail {

EVP_MD const* digest_by_uri(std::string_view uri) {
  if (uri == uri::sha1) return EVP_sha1();
  if (uri == sha224) return EVP_sha224();
  if (uri == uri::sha256) return EVP_sha256();
  if (uri == uri::sha384) return EVP_sha384();
  if (uri == uri::sha512) return EVP_sha512();
  return nullptr;
}

EVP_MD const* mgf_digest_by_uri(std::string_view uri) {
  if (uri == uri::mgf1_sha1) return EVP_sha1();
  if (uri == mgf1_sha224) return EVP_sha224();
  if (uri == uri::mgf1_sha256) return EVP_sha256();
  if (uri == uri::mgf1_sha384) return EVP_sha384();
  if (uri == uri::mgf1_sha512) return EVP_sha512();
  return nullptr;
}

std::size_t key_wrap_bytes(std::string_view uri) {
  if (uri == uri::kw_aes128) return 16;
  if (uri == uri::kw_aes192) return 24;
  if (uri == uri::kw_aes256) return 32;
  return 0;
}

std::optional<content_cipher> content_cipher_by_uri(std::string_view uri) {
  if (uri == uri::aes128_gcm) return content_cipher{true, 16};
  if (uri == uri::aes192_gcm) return content_cipher{true, 24};
  if (uri == uri::aes256_gcm) return content_cipher{true, 32};
  if (uri == uri::aes128_cbc) return content_cipher{false, 16};
  if (uri == aes192_cbc) return content_cipher{false, 24};
  if (uri == uri::aes256_cbc) return content_cipher{false, 32};
  return std::nullopt;
}

void cleanse(std::string& s) noexcept {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

}  // namespace bbgw::xmlsec::xenc_detail

// Small shared pieces of the XML Encryption files: base64 and algorithm look-ups by URI.
#include "xmlsec/xenc_detail.hpp"

#include <openssl/crypto.h>

namespace bbgw::xmlsec::xenc_detail {

std::optional<std::string> base64_decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    clean.push_back(c);
  }
  if (clean.size() % 4 != 0) return std::nullopt;
  if (clean.empty()) return std::string{};
  std::string out(clean.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<unsigned char const*>(clean.data()),
                          static_cast<int>(clean.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the '=' padding as zero bytes.
  std::size_t pad = 0;
  if (clean.back() == '=') ++pad;
  if (clean.size() >= 2 && clean[clean.size() - 2] == '=') ++pad;
  // '=' is only valid at the end.
  if (clean.find('=') < clean.size() - pad) return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<unsigned char const*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

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

// RFC 3394 AES key wrap (xmlenc kw-aes128/192/256).
#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec::xenc_detail {

namespace {

// RFC 3394 is OpenSSL's CRYPTO_128_wrap/unwrap (integrity check value compared in constant
// time) over single AES blocks of an ECB context: the provider's own "AES-*-WRAP" ciphers run
// the same steps on table-based AES, ten times the instructions for a 32-byte key.
// The ECB ciphers are fetched once per process and never changed (constants, not state):
// handing OpenSSL 3 the EVP_aes_*_ecb() objects would look the implementation up again on
// every initialisation, under a lock.
EVP_CIPHER const* ecb_cipher(std::size_t kek_bytes) {
  static EVP_CIPHER const* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  static EVP_CIPHER const* const aes192 = EVP_CIPHER_fetch(nullptr, "AES-192-ECB", nullptr);
  static EVP_CIPHER const* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr);
  switch (kek_bytes) {
    case 16:
      return aes128;
    case 24:
      return aes192;
    case 32:
      return aes256;
    default:
      return nullptr;
  }
}

// block128_f over the ECB context passed as the "key".
void aes_block(unsigned char const in[16], unsigned char out[16], void const* ctx) {
  EVP_Cipher(static_cast<EVP_CIPHER_CTX*>(const_cast<void*>(ctx)), out, in, 16);
}

result<std::string> run(std::string_view kek, std::string_view in, bool wrap) {
  EVP_CIPHER const* cipher = ecb_cipher(kek.size());
  if (!cipher) return make_error_code(errc::key_unusable);
  // RFC 3394 works on 64-bit blocks: at least two for the key, plus one for the check value.
  if (in.size() % 8 != 0 || in.size() < (wrap ? 16u : 24u) || in.size() > 4096)
    return make_error_code(wrap ? errc::encryption_failed : errc::decryption_failed);
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  auto const* k = reinterpret_cast<unsigned char const*>(kek.data());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), cipher, nullptr, k, nullptr, wrap ? 1 : 0) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1) {
    ERR_clear_error();
    return make_error_code(errc::internal);
  }
  std::string out(in.size() + 8, '\0');
  auto const* src = reinterpret_cast<unsigned char const*>(in.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  std::size_t const n = wrap
                            ? CRYPTO_128_wrap(ctx.get(), nullptr, dst, src, in.size(), aes_block)
                            : CRYPTO_128_unwrap(ctx.get(), nullptr, dst, src, in.size(), aes_block);
  if (n == 0) {
    cleanse(out);
    return make_error_code(wrap ? errc::encryption_failed : errc::decryption_failed);
  }
  out.resize(n);
  return out;
}

}  // namespace

result<std::string> aes_key_unwrap(std::string_view kek, std::string_view wrapped) {
  return run(kek, wrapped, false);
}

result<std::string> aes_key_wrap(std::string_view kek, std::string_view plain_key) {
  return run(kek, plain_key, true);
}

}  // namespace bbgw::xmlsec::xenc_detail

// RFC 3394 AES key wrap (xmlenc kw-aes128/192/256) on OpenSSL's wrap ciphers.
#include <openssl/err.h>
#include <openssl/evp.h>

#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec::xenc_detail {

namespace {

EVP_CIPHER const* wrap_cipher(std::size_t kek_bytes) {
  switch (kek_bytes) {
    case 16:
      return EVP_aes_128_wrap();
    case 24:
      return EVP_aes_192_wrap();
    case 32:
      return EVP_aes_256_wrap();
    default:
      return nullptr;
  }
}

result<std::string> run(std::string_view kek, std::string_view in, bool wrap) {
  EVP_CIPHER const* cipher = wrap_cipher(kek.size());
  if (!cipher) return make_error_code(errc::key_unusable);
  // RFC 3394 works on 64-bit blocks: at least two for the key, plus one for the check value.
  if (in.size() % 8 != 0 || in.size() < (wrap ? 16u : 24u) || in.size() > 4096)
    return make_error_code(wrap ? errc::encryption_failed : errc::decryption_failed);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return make_error_code(errc::internal);
  EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  std::string out(in.size() + 16, '\0');
  int len = 0;
  int fin = 0;
  auto const* k = reinterpret_cast<unsigned char const*>(kek.data());
  auto const* src = reinterpret_cast<unsigned char const*>(in.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  bool ok = wrap ? (EVP_EncryptInit_ex(ctx, cipher, nullptr, k, nullptr) == 1 &&
                    EVP_EncryptUpdate(ctx, dst, &len, src, static_cast<int>(in.size())) == 1 &&
                    EVP_EncryptFinal_ex(ctx, dst + len, &fin) == 1)
                 : (EVP_DecryptInit_ex(ctx, cipher, nullptr, k, nullptr) == 1 &&
                    EVP_DecryptUpdate(ctx, dst, &len, src, static_cast<int>(in.size())) == 1 &&
                    EVP_DecryptFinal_ex(ctx, dst + len, &fin) == 1);
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || len <= 0) {
    ERR_clear_error();
    cleanse(out);
    return make_error_code(wrap ? errc::encryption_failed : errc::decryption_failed);
  }
  out.resize(static_cast<std::size_t>(len + fin));
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

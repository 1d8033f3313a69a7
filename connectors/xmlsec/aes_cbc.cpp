// Legacy AES-CBC content decryption (XML Encryption 1.0), only reached when a policy lists a
// CBC algorithm: old toolkits' test corpora. Padding is checked as the spec defines it.
#include <cstdint>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec::xenc_detail {

result<std::string> aes_cbc_decrypt(std::string_view cek, std::string_view iv_ct,
                                    std::string* detail) {
  EVP_CIPHER const* cipher = cek.size() == 16   ? EVP_aes_128_cbc()
                             : cek.size() == 24 ? EVP_aes_192_cbc()
                             : cek.size() == 32 ? EVP_aes_256_cbc()
                                                : nullptr;
  if (!cipher) return fail(errc::decryption_failed, detail, "key size does not match the cipher");
  constexpr std::size_t block = 16;
  if (iv_ct.size() < 2 * block || iv_ct.size() % block != 0 || iv_ct.size() > INT32_MAX)
    return fail(errc::decryption_failed, detail, "CBC data is truncated or not whole blocks");
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx) return make_error_code(errc::internal);
  std::string out(iv_ct.size() - block + block, '\0');
  int len = 0;
  int fin = 0;
  auto const* src = reinterpret_cast<unsigned char const*>(iv_ct.data());
  bool ok = EVP_DecryptInit_ex(ctx, cipher, nullptr,
                               reinterpret_cast<unsigned char const*>(cek.data()), src) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
            EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, src + block,
                              static_cast<int>(iv_ct.size() - block)) == 1 &&
            EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    cleanse(out);
    return fail(errc::decryption_failed, detail, "CBC decryption failed");
  }
  out.resize(static_cast<std::size_t>(len + fin));
  // XML Encryption padding: the last octet counts the padding octets (1..16).
  auto pad = static_cast<unsigned char>(out.back());
  if (pad < 1 || pad > block || pad > out.size()) {
    cleanse(out);
    return fail(errc::decryption_failed, detail, "CBC padding is invalid");
  }
  out.resize(out.size() - pad);
  return out;
}

}  // namespace bbgw::xmlsec::xenc_detail

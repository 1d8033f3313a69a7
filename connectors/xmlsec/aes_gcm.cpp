// AES-GCM as XML Encryption 1.1 and the SwA Attachment-Ciphertext-Transform use it:
// IV (12) ‖ ciphertext ‖ tag (16), streamed so that large attachments never sit in memory.
#include <algorithm>
#include <climits>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "xmlsec/encryption.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec {

using xenc_detail::gcm_iv_bytes;
using xenc_detail::gcm_tag_bytes;

namespace {

// Fetched once per process and never changed (constants, not state): with the EVP_aes_*_gcm()
// objects OpenSSL 3 looks the implementation up again at every initialisation, under a lock.
EVP_CIPHER const* gcm_cipher(std::size_t key_bytes) {
  static EVP_CIPHER const* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  static EVP_CIPHER const* const aes192 = EVP_CIPHER_fetch(nullptr, "AES-192-GCM", nullptr);
  static EVP_CIPHER const* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  switch (key_bytes) {
    case 16:
      return aes128 ? aes128 : EVP_aes_128_gcm();
    case 24:
      return aes192 ? aes192 : EVP_aes_192_gcm();
    case 32:
      return aes256 ? aes256 : EVP_aes_256_gcm();
    default:
      return nullptr;
  }
}

unsigned char const* bytes(char const* p) {
  return reinterpret_cast<unsigned char const*>(p);
}

// EVP takes int lengths: feed big inputs in slices.
bool cipher_update(EVP_CIPHER_CTX* ctx, char const* in, std::size_t n, std::string& out,
                   bool encrypt) {
  constexpr std::size_t slice = 1u << 30;
  while (n > 0) {
    std::size_t now = std::min(n, slice);
    std::size_t at = out.size();
    out.resize(at + now);
    int len = 0;
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + at);
    int ok = encrypt ? EVP_EncryptUpdate(ctx, dst, &len, bytes(in), static_cast<int>(now))
                     : EVP_DecryptUpdate(ctx, dst, &len, bytes(in), static_cast<int>(now));
    if (ok != 1) {
      out.resize(at);
      return false;
    }
    out.resize(at + static_cast<std::size_t>(len));
    in += now;
    n -= now;
  }
  return true;
}

}  // namespace

// ---- decryption ------------------------------------------------------------------------

struct gcm_decryptor::impl {
  EVP_CIPHER_CTX* ctx = nullptr;
  std::string iv;
  std::string held;  // the last (up to) 16 bytes seen: the tag once the input ends
  errc error{};      // sticky: once failed, always failed
  bool done = false;
};

gcm_decryptor::gcm_decryptor(std::string_view cek) : impl_(new impl) {
  EVP_CIPHER const* cipher = gcm_cipher(cek.size());
  if (!cipher) {
    impl_->error = errc::key_unusable;
    return;
  }
  impl_->ctx = EVP_CIPHER_CTX_new();
  // The key now, the IV once its 12 bytes have arrived.
  if (!impl_->ctx || EVP_DecryptInit_ex(impl_->ctx, cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(impl_->ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(gcm_iv_bytes),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(impl_->ctx, nullptr, nullptr, bytes(cek.data()), nullptr) != 1) {
    ERR_clear_error();
    impl_->error = errc::internal;
  }
}

gcm_decryptor::~gcm_decryptor() {
  EVP_CIPHER_CTX_free(impl_->ctx);
  delete impl_;
}

result<void> gcm_decryptor::update(std::span<char const> in, std::string& out) {
  impl& s = *impl_;
  if (s.error != errc{}) return make_error_code(s.error);
  if (s.done) return make_error_code(errc::internal);
  char const* p = in.data();
  std::size_t n = in.size();
  if (s.iv.size() < gcm_iv_bytes) {
    std::size_t take = std::min(n, gcm_iv_bytes - s.iv.size());
    s.iv.append(p, take);
    p += take;
    n -= take;
    if (s.iv.size() == gcm_iv_bytes &&
        EVP_DecryptInit_ex(s.ctx, nullptr, nullptr, nullptr, bytes(s.iv.data())) != 1) {
      ERR_clear_error();
      s.error = errc::internal;
      return make_error_code(s.error);
    }
  }
  if (n == 0) return {};
  std::size_t total = s.held.size() + n;
  if (total <= gcm_tag_bytes) {
    s.held.append(p, n);
    return {};
  }
  // Everything but the last 16 bytes is ciphertext.
  std::size_t process = total - gcm_tag_bytes;
  std::size_t from_held = std::min(s.held.size(), process);
  std::size_t from_in = process - from_held;
  bool ok = cipher_update(s.ctx, s.held.data(), from_held, out, false) &&
            cipher_update(s.ctx, p, from_in, out, false);
  if (!ok) {
    ERR_clear_error();
    s.error = errc::decryption_failed;
    return make_error_code(s.error);
  }
  std::string rest = s.held.substr(from_held);
  rest.append(p + from_in, n - from_in);
  s.held = std::move(rest);
  return {};
}

result<void> gcm_decryptor::finish(std::string& out) {
  impl& s = *impl_;
  if (s.error != errc{}) return make_error_code(s.error);
  if (s.done) return make_error_code(errc::internal);
  s.done = true;
  if (s.iv.size() < gcm_iv_bytes || s.held.size() < gcm_tag_bytes) {
    s.error = errc::decryption_failed;  // truncated: no room for IV and tag
    return make_error_code(s.error);
  }
  int len = 0;
  unsigned char tail[16];
  if (EVP_CIPHER_CTX_ctrl(s.ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(gcm_tag_bytes),
                          s.held.data()) != 1 ||
      EVP_DecryptFinal_ex(s.ctx, tail, &len) != 1) {
    ERR_clear_error();
    s.error = errc::decryption_failed;  // authentication tag mismatch
    return make_error_code(s.error);
  }
  out.append(reinterpret_cast<char const*>(tail), static_cast<std::size_t>(len));
  return {};
}

// ---- encryption ------------------------------------------------------------------------

struct gcm_encryptor::impl {
  EVP_CIPHER_CTX* ctx = nullptr;
  std::string iv;
  bool iv_emitted = false;
  bool done = false;
  errc error{};
};

gcm_encryptor::gcm_encryptor(std::string_view cek) : impl_(new impl) {
  EVP_CIPHER const* cipher = gcm_cipher(cek.size());
  if (!cipher) {
    impl_->error = errc::key_unusable;
    return;
  }
  impl_->iv.resize(gcm_iv_bytes);
  impl_->ctx = EVP_CIPHER_CTX_new();
  // A fresh random 96-bit IV per message (never reused with the same key).
  if (!impl_->ctx ||
      RAND_bytes(reinterpret_cast<unsigned char*>(impl_->iv.data()),
                 static_cast<int>(gcm_iv_bytes)) != 1 ||
      EVP_EncryptInit_ex(impl_->ctx, cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(impl_->ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(gcm_iv_bytes),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(impl_->ctx, nullptr, nullptr, bytes(cek.data()),
                         bytes(impl_->iv.data())) != 1) {
    ERR_clear_error();
    impl_->error = errc::encryption_failed;
  }
}

gcm_encryptor::~gcm_encryptor() {
  EVP_CIPHER_CTX_free(impl_->ctx);
  delete impl_;
}

result<void> gcm_encryptor::update(std::span<char const> in, std::string& out) {
  impl& s = *impl_;
  if (s.error != errc{}) return make_error_code(s.error);
  if (s.done) return make_error_code(errc::internal);
  if (!s.iv_emitted) {
    out += s.iv;
    s.iv_emitted = true;
  }
  if (!cipher_update(s.ctx, in.data(), in.size(), out, true)) {
    ERR_clear_error();
    s.error = errc::encryption_failed;
    return make_error_code(s.error);
  }
  return {};
}

result<void> gcm_encryptor::finish(std::string& out) {
  impl& s = *impl_;
  if (s.error != errc{}) return make_error_code(s.error);
  if (s.done) return make_error_code(errc::internal);
  s.done = true;
  if (!s.iv_emitted) {
    out += s.iv;
    s.iv_emitted = true;
  }
  unsigned char tail[16];
  unsigned char tag[16];
  int len = 0;
  if (EVP_EncryptFinal_ex(s.ctx, tail, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(s.ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(gcm_tag_bytes), tag) != 1) {
    ERR_clear_error();
    s.error = errc::encryption_failed;
    return make_error_code(s.error);
  }
  out.append(reinterpret_cast<char const*>(tail), static_cast<std::size_t>(len));
  out.append(reinterpret_cast<char const*>(tag), gcm_tag_bytes);
  return {};
}

// ---- one-shot helpers ------------------------------------------------------------------

result<std::string> aes_gcm_encrypt(std::string_view cek, std::string_view plaintext) {
  gcm_encryptor enc(cek);
  std::string out;
  out.reserve(gcm_iv_bytes + plaintext.size() + gcm_tag_bytes);
  if (auto r = enc.update(plaintext, out); !r) return r.error();
  if (auto r = enc.finish(out); !r) return r.error();
  return out;
}

result<std::string> aes_gcm_decrypt(std::string_view cek, std::string_view iv_ct_tag) {
  gcm_decryptor dec(cek);
  std::string out;
  out.reserve(iv_ct_tag.size());
  auto r = dec.update(iv_ct_tag, out);
  if (r) r = dec.finish(out);
  if (!r) {
    xenc_detail::cleanse(out);  // never hand out unauthenticated plaintext
    return r.error();
  }
  return out;
}

result<std::string> random_bytes(std::size_t n) {
  if (n > static_cast<std::size_t>(INT_MAX)) return make_error_code(errc::internal);
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    ERR_clear_error();
    return make_error_code(errc::internal);
  }
  return out;
}

}  // namespace bbgw::xmlsec

#include "context/sha256.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <new>

namespace bbgw::context {

namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up in the provider on every init.
EVP_MD const* sha256_md() {
  static EVP_MD const* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

}  // namespace

void sha256::free_ctx::operator()(evp_md_ctx_st* c) const noexcept {
  EVP_MD_CTX_free(c);
}

// Failing to allocate or initialise a digest context leaves nothing sensible to hash with: it
// is reported like any other allocation failure.
sha256::sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || !sha256_md() || EVP_DigestInit_ex2(ctx_.get(), sha256_md(), nullptr) != 1)
    throw std::bad_alloc();
}

sha256& sha256::restart() {
  if (EVP_DigestInit_ex2(ctx_.get(), sha256_md(), nullptr) != 1) throw std::bad_alloc();
  return *this;
}

sha256& sha256::update(std::string_view data) {
  EVP_DigestUpdate(ctx_.get(), data.data(), data.size());
  return *this;
}

digest sha256::finish() {
  digest d{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_.get(), d.data(), &n);
  return d;
}

digest sha256_of(std::string_view data) {
  return sha256().update(data).finish();
}

digest hmac_sha256(std::string_view key, std::string_view message) {
  digest d{};
  unsigned int n = 0;
  if (!HMAC(sha256_md(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<unsigned char const*>(message.data()), message.size(), d.data(), &n))
    throw std::bad_alloc();
  return d;
}

std::string to_hex(digest const& d) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s(64, '\0');
  for (std::size_t i = 0; i < d.size(); ++i) {
    s[2 * i] = hex[d[i] >> 4];
    s[2 * i + 1] = hex[d[i] & 15];
  }
  return s;
}

void update_field(sha256& h, std::string_view field) {
  std::uint64_t n = field.size();
  char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<char>(n >> (56 - 8 * i));
  h.update({len, 8}).update(field);
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Length is not secret (secrets have a fixed length); the content is.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace bbgw::context

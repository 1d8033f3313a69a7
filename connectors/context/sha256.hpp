#pragma once
// SHA-256 and HMAC-SHA-256 for deterministic event ids, dedupe keys and derived notification
// secrets, on OpenSSL 3 (EVP; the SHA extensions where the CPU has them). Hashing a field list
// is length-prefixed (update_field), so ("ab","c") and ("a","bc") never hash alike.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace bbgw::context {

using digest = std::array<std::uint8_t, 32>;

// Incremental SHA-256. finish() may be called once per digest; restart() begins another on the
// same context (no allocation).
class sha256 {
 public:
  sha256();
  sha256& update(std::string_view data);
  digest finish();
  sha256& restart();

 private:
  struct free_ctx {
    void operator()(evp_md_ctx_st* c) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, free_ctx> ctx_;
};

digest sha256_of(std::string_view data);
digest hmac_sha256(std::string_view key, std::string_view message);
std::string to_hex(digest const& d);
// Length-prefixed fields, so ("ab","c") and ("a","bc") never hash alike.
void update_field(sha256& h, std::string_view field);
// Compares without an early exit on the first differing byte.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

}  // namespace bbgw::context

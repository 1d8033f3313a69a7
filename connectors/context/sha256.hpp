#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), self-contained: the connector may only use
// the gateway's public interfaces, Boost.JSON and Boost.URL, so it carries its own small digest
// for deterministic event ids and derived notification secrets. Not used for anything that needs
// constant-time key handling beyond HMAC of a configured key.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace bbgw::context {

using digest = std::array<std::uint8_t, 32>;

class sha256 {
 public:
  sha256();
  sha256& update(std::string_view data);
  digest finish();

 private:
  void block(std::uint8_t const* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

digest sha256_of(std::string_view data);
digest hmac_sha256(std::string_view key, std::string_view message);
std::string to_hex(digest const& d);
// Length-prefixed fields, so ("ab","c") and ("a","bc") never hash alike.
void update_field(sha256& h, std::string_view field);
// Compares without an early exit on the first differing byte.
bool constant_time_equals(std::string_view a, std::string_view b) noexcept;

}  // namespace bbgw::context

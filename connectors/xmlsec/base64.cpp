// The library's one base64 (RFC 4648 §4, standard alphabet) for everything XML carries in it:
// DigestValue, SignatureValue, X509Certificate, CipherValue, OAEPparams, ECKeyValue points.
// One pass, no intermediate copy (CipherValues of encrypted assertions are kilobytes).
#include <array>

#include <openssl/evp.h>

#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {

namespace {

constexpr signed char skip = -2, bad = -1;

constexpr std::array<signed char, 256> make_table() {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = bad;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<signed char>(i);
    t['a' + i] = static_cast<signed char>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<signed char>(52 + i);
  t['+'] = 62;
  t['/'] = 63;
  for (unsigned char c : {' ', '\t', '\r', '\n'}) t[c] = skip;
  return t;
}
constexpr auto table = make_table();

}  // namespace

std::optional<std::string> base64_decode(std::string_view text) {
  // Written in place into the largest possible size, then cut (no per-byte capacity checks).
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* o = out.data();
  std::uint32_t acc = 0;
  int n = 0;             // sextets in acc (0..3)
  std::size_t pads = 0;  // '=' seen: only whitespace and at most one more '=' may follow
  for (unsigned char c : text) {
    signed char v = table[c];
    if (v >= 0) {
      if (pads != 0) return std::nullopt;  // data after padding
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      if (++n == 4) {
        *o++ = static_cast<char>(acc >> 16);
        *o++ = static_cast<char>(acc >> 8);
        *o++ = static_cast<char>(acc);
        acc = 0;
        n = 0;
      }
    } else if (v == skip) {
      continue;
    } else if (c == '=') {
      ++pads;
    } else {
      return std::nullopt;
    }
  }
  // Whole quanta only: 0 pads with 0 sextets left, 1 pad with 3 left, 2 pads with 2 left.
  if (pads == 0) {
    if (n != 0) return std::nullopt;
  } else if (pads == 1 && n == 3) {
    *o++ = static_cast<char>(acc >> 10);
    *o++ = static_cast<char>(acc >> 2);
  } else if (pads == 2 && n == 2) {
    *o++ = static_cast<char>(acc >> 4);
  } else {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<unsigned char const*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace bbgw::xmlsec::detail

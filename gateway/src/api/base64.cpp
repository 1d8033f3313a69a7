#include "bbgw/base64.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace bbgw {

namespace {

constexpr signed char bad = -1, space = -2, pad = -3;

constexpr std::array<signed char, 256> make_table(bool url) {
  std::array<signed char, 256> t{};
  for (auto& v : t) v = bad;
  for (int i = 0; i < 26; ++i) {
    t['A' + i] = static_cast<signed char>(i);
    t['a' + i] = static_cast<signed char>(26 + i);
  }
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<signed char>(52 + i);
  t[url ? '-' : '+'] = 62;
  t[url ? '_' : '/'] = 63;
  if (!url) {
    for (unsigned char c : {' ', '\t', '\r', '\n'}) t[c] = space;
    t['='] = pad;
  }
  return t;
}
constexpr auto standard_table = make_table(false);
constexpr auto url_table = make_table(true);

constexpr char standard_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view bytes, char const* alphabet, bool padded) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  auto u = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t const v = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
    char const quad[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
                          alphabet[(v >> 6) & 63], alphabet[v & 63]};
    out.append(quad, 4);
  }
  std::size_t const rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t const v = (u(i) << 16) | (rest == 2 ? u(i + 1) << 8 : 0);
  out += alphabet[(v >> 18) & 63];
  out += alphabet[(v >> 12) & 63];
  if (rest == 2) out += alphabet[(v >> 6) & 63];
  if (padded) out.append(3 - rest, '=');
  return out;
}

// One pass, written in place into the largest possible size (CipherValues and documents are
// kilobytes to megabytes), then cut.
std::optional<std::string> decode(std::string_view text, std::array<signed char, 256> const& table,
                                  bool padded) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  char* o = out.data();
  std::uint32_t acc = 0;
  int n = 0;             // sextets in acc (0..3)
  std::size_t pads = 0;  // '=' seen: only whitespace and the rest of the padding may follow
  auto const* p = reinterpret_cast<unsigned char const*>(text.data());
  std::size_t const size = text.size();
  for (std::size_t i = 0; i < size; ++i) {
    // Between quanta, whole runs of four alphabet characters (the lines between XML or MIME
    // line breaks) go three bytes at a time; anything else (whitespace, padding, a bad
    // character) leaves the run to the character-by-character rules below.
    if (n == 0 && pads == 0) {
      while (i + 4 <= size) {
        signed char const a = table[p[i]], b = table[p[i + 1]], c = table[p[i + 2]],
                          d = table[p[i + 3]];
        if ((a | b | c | d) < 0) break;
        std::uint32_t const v = static_cast<std::uint32_t>(a) << 18 |
                                static_cast<std::uint32_t>(b) << 12 |
                                static_cast<std::uint32_t>(c) << 6 | static_cast<std::uint32_t>(d);
        o[0] = static_cast<char>(v >> 16);
        o[1] = static_cast<char>(v >> 8);
        o[2] = static_cast<char>(v);
        o += 3;
        i += 4;
      }
      if (i == size) break;
    }
    signed char const v = table[p[i]];
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
    } else if (v == space) {
      continue;
    } else if (v == pad) {
      ++pads;
    } else {
      return std::nullopt;
    }
  }
  // A final partial quantum: 3 sextets (2 bytes, 1 pad) or 2 sextets (1 byte, 2 pads); padded
  // text needs exactly those pads, unpadded text none.
  if (n == 1 || (padded && pads != static_cast<std::size_t>(n == 0 ? 0 : 4 - n)) ||
      (!padded && pads != 0))
    return std::nullopt;
  if (n == 3) {
    if (acc & 0x3) return std::nullopt;  // non-canonical trailing bits
    *o++ = static_cast<char>(acc >> 10);
    *o++ = static_cast<char>(acc >> 2);
  } else if (n == 2) {
    if (acc & 0xf) return std::nullopt;
    *o++ = static_cast<char>(acc >> 4);
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, standard_alphabet, true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, standard_table, true);
}

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, url_alphabet, false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, url_table, false);
}

std::size_t base64_decoded_size(std::string_view text) {
  std::size_t n = 0, pads = 0;
  for (char c : text) {
    if (standard_table[static_cast<unsigned char>(c)] == space) continue;
    ++n;
    pads = c == '=' ? pads + 1 : 0;
  }
  std::size_t const whole = n / 4 * 3;
  return whole - std::min(pads, whole);
}

}  // namespace bbgw

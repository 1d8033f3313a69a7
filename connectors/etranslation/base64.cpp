#include "etranslation/base64.hpp"

namespace bbgw::etranslation {

namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool is_space(char c) {
  return c == ' ' || c == '\r' || c == '\n' || c == '\t';
}

}  // namespace

std::size_t base64_decoded_size(std::string_view in) {
  std::size_t n = 0, pad = 0;
  for (char c : in) {
    if (is_space(c)) continue;
    ++n;
    pad = c == '=' ? pad + 1 : 0;
  }
  return n / 4 * 3 - std::min<std::size_t>(pad, n / 4 * 3);
}

std::optional<std::string> base64_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned quad[4];
  int q = 0;
  int pad = 0;
  for (char c : in) {
    if (is_space(c)) continue;
    if (c == '=') {
      if (q < 2) return std::nullopt;
      ++pad;
      quad[q++] = 0;
    } else {
      if (pad) return std::nullopt;  // data after padding
      int v = value_of(c);
      if (v < 0) return std::nullopt;
      quad[q++] = static_cast<unsigned>(v);
    }
    if (q == 4) {
      unsigned triple = quad[0] << 18 | quad[1] << 12 | quad[2] << 6 | quad[3];
      out += static_cast<char>((triple >> 16) & 0xFF);
      if (pad < 2) out += static_cast<char>((triple >> 8) & 0xFF);
      if (pad < 1) out += static_cast<char>(triple & 0xFF);
      // After a padded quantum only whitespace may follow: any '=' (q < 2) or data (pad set)
      // is refused above.
      q = pad ? -100 : 0;
    }
  }
  if (q != 0 && q != -100) return std::nullopt;
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned t = static_cast<unsigned char>(in[i]) << 16 |
                 static_cast<unsigned char>(in[i + 1]) << 8 | static_cast<unsigned char>(in[i + 2]);
    out += alphabet[t >> 18];
    out += alphabet[(t >> 12) & 63];
    out += alphabet[(t >> 6) & 63];
    out += alphabet[t & 63];
  }
  if (i < in.size()) {
    unsigned t = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) t |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[t >> 18];
    out += alphabet[(t >> 12) & 63];
    out += i + 1 < in.size() ? alphabet[(t >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace bbgw::etranslation

#include "eid/codec.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace bbgw::eid {

namespace {
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string sha256(std::string_view data) {
  unsigned char md[32];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<unsigned char const*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string random_token(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1)
    throw std::runtime_error("RAND_bytes failed");  // the CSPRNG failing is not recoverable
  return base64url_encode(raw);
}

namespace {
// Percent-decoding into `out`, sized once and written through a pointer: a SAMLResponse is
// tens of kilobytes, and a push_back per character was a visible share of the ACS.
// Whether any of the eight bytes of `v` equals `b` (the classic zero-byte test on v ^ b…b).
constexpr bool has_byte(std::uint64_t v, unsigned char b) {
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  std::uint64_t const x = v ^ (ones * b);
  return ((x - ones) & ~x & highs) != 0;
}

bool form_decode_into(std::string_view s, std::string& out) {
  out.resize(s.size());
  char* o = out.data();
  char const* p = s.data();
  char const* const end = p + s.size();
  while (p != end) {
    // Eight characters at a time up to the next escape (base64 text has one every ~30).
    while (end - p >= 8) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      if (has_byte(v, '%') || has_byte(v, '+')) break;
      std::memcpy(o, p, 8);
      o += 8;
      p += 8;
    }
    if (p == end) break;
    if (*p == '+') {
      *o++ = ' ';
      ++p;
    } else if (*p == '%') {
      if (end - p < 3) return false;
      int const h = hex(p[1]), l = hex(p[2]);
      if (h < 0 || l < 0) return false;
      *o++ = static_cast<char>(h * 16 + l);
      p += 3;
    } else {
      *o++ = *p++;
    }
  }
  out.resize(static_cast<std::size_t>(o - out.data()));
  return true;
}
}  // namespace

std::optional<std::string> form_decode(std::string_view s) {
  std::string out;
  if (!form_decode_into(s, out)) return std::nullopt;
  return out;
}

std::string form_encode(std::string_view s) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

namespace {
// Calls f(key, value) for each non-empty "key=value" of an application/x-www-form-urlencoded
// body, in order; both still percent-encoded.
template <class F>
void each_form_pair(std::string_view s, F&& f) {
  while (!s.empty()) {
    auto amp = s.find('&');
    auto part = s.substr(0, amp);
    s = amp == std::string_view::npos ? std::string_view{} : s.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    f(part.substr(0, eq), eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1));
  }
}
}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view s) {
  std::vector<std::pair<std::string, std::string>> out;
  bool ok = true;
  each_form_pair(s, [&](std::string_view raw_key, std::string_view raw_value) {
    auto k = form_decode(raw_key);
    auto v = form_decode(raw_value);
    if (!k || !v) ok = false;
    if (ok) out.emplace_back(std::move(*k), std::move(*v));
  });
  if (!ok) return std::nullopt;
  return out;
}

form_field find_form_field(std::string_view s, std::string_view name, std::string& value) {
  bool found = false, repeated = false, malformed = false;
  std::string key, scratch;
  each_form_pair(s, [&](std::string_view raw_key, std::string_view raw_value) {
    if (!form_decode_into(raw_key, key)) {
      malformed = true;
      return;
    }
    // Every value is still checked: a malformed escape anywhere refuses the whole form.
    bool const first = key == name && !found;
    if (!form_decode_into(raw_value, first ? value : scratch)) {
      malformed = true;
      return;
    }
    if (key == name) {
      repeated = found;
      found = true;
    }
  });
  if (malformed) return form_field::malformed;
  if (repeated) return form_field::repeated;
  return found ? form_field::found : form_field::absent;
}

bool equal_secret(std::string_view a, std::string_view b) noexcept {
  // Compare digests so the length of the secret does not leak through timing either.
  auto da = sha256(a), db = sha256(b);
  return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace bbgw::eid

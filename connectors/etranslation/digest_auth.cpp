#include "etranslation/digest_auth.hpp"

#include <cctype>
#include <cstdio>
#include <memory>
#include <vector>

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace bbgw::etranslation {

namespace {

std::string to_hex(unsigned char const* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over the auth-param grammar of RFC 9110 section 11 (token, quoted-string, commas).
struct cursor {
  std::string_view s;
  std::size_t i = 0;
  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  }
  std::string_view token() {
    auto b = i;
    while (i < s.size() && is_tchar(s[i])) ++i;
    return s.substr(b, i - b);
  }
  std::optional<std::string> quoted() {
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    std::string out;
    for (++i; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        out += s[++i];
      } else if (s[i] == '"') {
        ++i;
        return out;
      } else {
        out += s[i];
      }
    }
    return std::nullopt;  // unterminated
  }
};

std::string quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string hash_hex(digest_algorithm alg, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD const* md_type = alg == digest_algorithm::md5 ? EVP_md5() : EVP_sha256();
  if (EVP_Digest(data.data(), data.size(), md, &len, md_type, nullptr) != 1) return {};
  return to_hex(md, len);
}

std::string random_hex(std::size_t n) {
  std::vector<unsigned char> buf(n);
  if (RAND_bytes(buf.data(), static_cast<int>(n)) != 1) return {};
  return to_hex(buf.data(), n);
}

std::optional<digest_challenge> parse_challenge(std::string_view value) {
  cursor c{value};
  while (c.i < value.size()) {
    c.ws();
    auto scheme = c.token();
    if (scheme.empty()) {
      ++c.i;  // stray separator
      continue;
    }
    bool digest = ieq(scheme, "Digest");
    digest_challenge ch;
    bool have_realm = false, have_nonce = false, bad_alg = false;
    // Parameters until the next scheme (a token not followed by '=').
    while (true) {
      c.ws();
      while (c.i < value.size() && c.s[c.i] == ',') {
        ++c.i;
        c.ws();
      }
      auto save = c.i;
      auto name = c.token();
      c.ws();
      if (name.empty() || c.i >= value.size() || c.s[c.i] != '=') {
        c.i = save;
        break;
      }
      ++c.i;
      c.ws();
      std::string v;
      if (auto q = c.quoted())
        v = std::move(*q);
      else
        v = std::string(c.token());
      if (!digest) continue;
      if (ieq(name, "realm")) {
        ch.realm = v;
        have_realm = true;
      } else if (ieq(name, "nonce")) {
        ch.nonce = v;
        have_nonce = !v.empty();
      } else if (ieq(name, "opaque")) {
        ch.opaque = v;
      } else if (ieq(name, "algorithm")) {
        if (ieq(v, "MD5"))
          ch.algorithm = digest_algorithm::md5;
        else if (ieq(v, "SHA-256"))
          ch.algorithm = digest_algorithm::sha256;
        else
          bad_alg = true;
      } else if (ieq(name, "qop")) {
        // A comma-separated list inside the quotes, e.g. "auth, auth-int".
        std::size_t p = 0;
        while (p <= v.size()) {
          auto e = v.find(',', p);
          if (e == std::string::npos) e = v.size();
          auto item = std::string_view(v).substr(p, e - p);
          while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
          while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
          if (ieq(item, "auth")) ch.qop_auth = true;
          p = e + 1;
        }
      } else if (ieq(name, "stale")) {
        ch.stale = ieq(v, "true");
      } else if (ieq(name, "userhash")) {
        ch.userhash = ieq(v, "true");
      }
    }
    if (digest && have_realm && have_nonce && !bad_alg) return ch;
    if (c.i < value.size() && !is_tchar(c.s[c.i])) ++c.i;
  }
  return std::nullopt;
}

std::string authorization(digest_challenge const& ch, std::string_view username,
                          std::string_view password, std::string_view method, std::string_view uri,
                          std::uint32_t nc, std::string_view cnonce) {
  auto const alg = ch.algorithm;
  std::string user(username);
  if (ch.userhash) user = hash_hex(alg, std::string(username) + ":" + ch.realm);
  std::string ha1 =
      hash_hex(alg, std::string(username) + ":" + ch.realm + ":" + std::string(password));
  std::string ha2 = hash_hex(alg, std::string(method) + ":" + std::string(uri));
  char ncbuf[9];
  std::snprintf(ncbuf, sizeof ncbuf, "%08x", nc);
  std::string response;
  if (ch.qop_auth)
    response = hash_hex(
        alg, ha1 + ":" + ch.nonce + ":" + ncbuf + ":" + std::string(cnonce) + ":auth:" + ha2);
  else
    response = hash_hex(alg, ha1 + ":" + ch.nonce + ":" + ha2);  // RFC 2069 compatibility

  std::string h = "Digest username=" + quote(user) + ", realm=" + quote(ch.realm) +
                  ", uri=" + quote(uri) +
                  ", algorithm=" + (alg == digest_algorithm::md5 ? "MD5" : "SHA-256") +
                  ", nonce=" + quote(ch.nonce);
  if (ch.qop_auth) h += std::string(", nc=") + ncbuf + ", cnonce=" + quote(cnonce) + ", qop=auth";
  h += ", response=" + quote(response);
  if (ch.opaque) h += ", opaque=" + quote(*ch.opaque);
  if (ch.userhash) h += ", userhash=true";
  return h;
}

std::optional<std::string> digest_session::next(std::string_view method, std::string_view uri) {
  if (!challenge_) return std::nullopt;
  ++nc_;
  auto cnonce = random_hex(16);
  return authorization(*challenge_, username_, password_, method, uri, nc_, cnonce);
}

bool digest_session::on_challenge(std::string_view www_authenticate) {
  auto ch = parse_challenge(www_authenticate);
  if (!ch) return false;
  bool retry = !challenge_ || ch->stale || ch->nonce != challenge_->nonce ||
               ch->algorithm != challenge_->algorithm || nc_ == 0;
  if (ch->nonce != (challenge_ ? challenge_->nonce : std::string{})) nc_ = 0;
  challenge_ = std::move(ch);
  return retry;
}

}  // namespace bbgw::etranslation

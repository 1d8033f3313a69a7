#pragma once
// HTTP Digest client authentication (RFC 7616): parses a WWW-Authenticate challenge and computes
// the Authorization header for MD5 and SHA-256 with qop=auth, counting nonce uses and re-reading
// the challenge when the server says the nonce is stale. Beast has no Digest client.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bbgw::etranslation {

enum class digest_algorithm { md5, sha256 };

// Lower-case hex of MD5 or SHA-256 over `data` (OpenSSL EVP).
std::string hash_hex(digest_algorithm alg, std::string_view data);
// Lower-case hex of `n` random bytes (OpenSSL RAND_bytes); empty if the generator fails.
std::string random_hex(std::size_t n);

struct digest_challenge {
  std::string realm;
  std::string nonce;
  std::optional<std::string> opaque;
  digest_algorithm algorithm = digest_algorithm::md5;
  bool qop_auth = false;  // the server offers qop=auth
  bool stale = false;
  bool userhash = false;
};

// Parses one "Digest ..." challenge out of a WWW-Authenticate value (other schemes ignored).
// Nothing when there is no Digest challenge with realm and nonce, or the algorithm is not MD5 or
// SHA-256 (the -sess variants are not supported).
std::optional<digest_challenge> parse_challenge(std::string_view www_authenticate);

// The Authorization header value for one request (RFC 7616 section 3.4), with
// response = H(H(A1) ":" nonce ":" nc ":" cnonce ":" qop ":" H(A2)) when qop=auth is offered.
std::string authorization(digest_challenge const& ch, std::string_view username,
                          std::string_view password, std::string_view method, std::string_view uri,
                          std::uint32_t nc, std::string_view cnonce);

// The client side of one protection space: remembers the last challenge so later requests are
// authorised up front, counts nonce uses, and decides whether a 401 deserves one more try.
class digest_session {
 public:
  digest_session(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  // The Authorization value for the next request, if a challenge is known (nc incremented).
  std::optional<std::string> next(std::string_view method, std::string_view uri);
  // Takes a 401's WWW-Authenticate. True when a retry is worth it: a first challenge, a stale
  // nonce, or a new nonce; false when the same credentials were just refused for this nonce.
  bool on_challenge(std::string_view www_authenticate);
  bool has_challenge() const { return challenge_.has_value(); }
  std::uint32_t nonce_count() const { return nc_; }

 private:
  std::string username_;
  std::string password_;
  std::optional<digest_challenge> challenge_;
  std::uint32_t nc_ = 0;
};

}  // namespace bbgw::etranslation

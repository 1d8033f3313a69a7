// HTTP Digest client (RFC 7616) against the RFC's own example (section 3.9.1) and the client's
// challenge handling: stale nonces, refused credentials, nonce counting.
#include "etranslation/digest_auth.hpp"

#include <gtest/gtest.h>

namespace bbgw::etranslation {
namespace {

// RFC 7616 section 3.9.1: user Mufasa, password "Circle of Life", GET /dir/index.html.
constexpr char const* nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr char const* cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr char const* opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

std::string rfc_challenge(std::string const& alg) {
  return "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=" + alg +
         ", nonce=\"" + nonce + "\", opaque=\"" + opaque + "\"";
}

std::string param(std::string const& header, std::string const& name) {
  auto p = header.find(name + "=");
  if (p == std::string::npos) return {};
  p += name.size() + 1;
  if (header[p] == '"') {
    auto e = header.find('"', p + 1);
    return header.substr(p + 1, e - p - 1);
  }
  auto e = header.find(',', p);
  return header.substr(p, e == std::string::npos ? std::string::npos : e - p);
}

TEST(DigestAuth, HashesAreMd5AndSha256) {
  EXPECT_EQ(hash_hex(digest_algorithm::md5, "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hash_hex(digest_algorithm::sha256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestAuth, Rfc7616ExampleMd5) {
  auto ch = parse_challenge(rfc_challenge("MD5"));
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->realm, "http-auth@example.org");
  EXPECT_EQ(ch->nonce, nonce);
  EXPECT_EQ(ch->opaque, opaque);
  EXPECT_TRUE(ch->qop_auth);
  EXPECT_EQ(ch->algorithm, digest_algorithm::md5);
  auto h = authorization(*ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1, cnonce);
  EXPECT_EQ(param(h, "response"), "8ca523f5e9506fed4657c9700eebdbec");
  EXPECT_EQ(h.rfind("Digest ", 0), 0u);
  EXPECT_EQ(param(h, "username"), "Mufasa");
  EXPECT_EQ(param(h, "realm"), "http-auth@example.org");
  EXPECT_EQ(param(h, "uri"), "/dir/index.html");
  EXPECT_EQ(param(h, "algorithm"), "MD5");
  EXPECT_EQ(param(h, "nc"), "00000001");
  EXPECT_EQ(param(h, "cnonce"), cnonce);
  EXPECT_EQ(param(h, "qop"), "auth");
  EXPECT_EQ(param(h, "opaque"), opaque);
}

TEST(DigestAuth, Rfc7616ExampleSha256) {
  auto ch = parse_challenge(rfc_challenge("SHA-256"));
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->algorithm, digest_algorithm::sha256);
  auto h = authorization(*ch, "Mufasa", "Circle of Life", "GET", "/dir/index.html", 1, cnonce);
  EXPECT_EQ(param(h, "response"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
  EXPECT_EQ(param(h, "algorithm"), "SHA-256");
}

TEST(DigestAuth, PicksDigestAmongSeveralChallengesAndRefusesSessVariants) {
  auto ch = parse_challenge(
      "Basic realm=\"x\", Digest realm=\"r\", nonce=\"n1\", qop=\"auth\", "
      "algorithm=SHA-256, stale=TRUE");
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->realm, "r");
  EXPECT_EQ(ch->nonce, "n1");
  EXPECT_TRUE(ch->stale);
  EXPECT_FALSE(parse_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess"));
  EXPECT_FALSE(parse_challenge("Basic realm=\"r\""));
  EXPECT_FALSE(parse_challenge("Digest realm=\"r\""));  // no nonce
  EXPECT_FALSE(parse_challenge("Digest realm=\"unterminated, nonce=\"n\""));
}

TEST(DigestAuth, WithoutQopFallsBackToRfc2069Response) {
  auto ch = parse_challenge("Digest realm=\"r\", nonce=\"n\"");
  ASSERT_TRUE(ch);
  auto h = authorization(*ch, "u", "p", "POST", "/t", 1, "c");
  auto ha1 = hash_hex(digest_algorithm::md5, "u:r:p");
  auto ha2 = hash_hex(digest_algorithm::md5, "POST:/t");
  EXPECT_EQ(param(h, "response"), hash_hex(digest_algorithm::md5, ha1 + ":n:" + ha2));
  EXPECT_EQ(h.find("nc="), std::string::npos);
}

TEST(DigestSession, CountsNonceUsesAndRetriesOnlyWhenItHelps) {
  digest_session s("app", "secret");
  EXPECT_FALSE(s.next("POST", "/translate"));  // nothing to answer yet
  auto c1 = "Digest realm=\"r\", nonce=\"n1\", qop=\"auth\", algorithm=MD5";
  EXPECT_TRUE(s.on_challenge(c1));  // first challenge: worth a try
  auto a1 = s.next("POST", "/translate");
  auto a2 = s.next("POST", "/translate");
  ASSERT_TRUE(a1 && a2);
  EXPECT_EQ(param(*a1, "nc"), "00000001");
  EXPECT_EQ(param(*a2, "nc"), "00000002");
  EXPECT_NE(param(*a1, "cnonce"), param(*a2, "cnonce"));
  // The same nonce challenged again without stale: the credentials are wrong, stop.
  EXPECT_FALSE(s.on_challenge(c1));
  // Stale: a new nonce, counting restarts.
  EXPECT_TRUE(s.on_challenge("Digest realm=\"r\", nonce=\"n2\", qop=\"auth\", stale=true"));
  auto a3 = s.next("POST", "/translate");
  EXPECT_EQ(param(*a3, "nonce"), "n2");
  EXPECT_EQ(param(*a3, "nc"), "00000001");
  // The response verifies as a server would compute it.
  auto ha1 = hash_hex(digest_algorithm::md5, "app:r:secret");
  auto ha2 = hash_hex(digest_algorithm::md5, "POST:/translate");
  EXPECT_EQ(param(*a3, "response"),
            hash_hex(digest_algorithm::md5,
                     ha1 + ":n2:00000001:" + param(*a3, "cnonce") + ":auth:" + ha2));
}

}  // namespace
}  // namespace bbgw::etranslation

// ES256 JWTs: the signature is raw r‖s and verifies with OpenSSL's own verifier (after turning
// it back into DER), the JWK thumbprint follows RFC 7638, base64url is unpadded.
#include <gtest/gtest.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include "eid/codec.hpp"
#include "eid/jwt.hpp"
#include "eid_env.hpp"

namespace bbgw::eid {
namespace {

inline boost::json::value json_str(std::string const& s) {
  return boost::json::value(s);
}

TEST(Codec, Base64UrlRoundTripsWithoutPadding) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_EQ(base64url_decode("-_8"), std::optional<std::string>("\xfb\xff"));
  EXPECT_FALSE(base64url_decode("-_8="));  // padding is not base64url
  EXPECT_FALSE(base64url_decode("-_9"));   // non-canonical trailing bits
  EXPECT_EQ(base64_decode("aGVs\nbG8="), std::optional<std::string>("hello"));
  EXPECT_FALSE(base64_decode("aGVsbG8=x"));
}

TEST(Codec, FormParsingDecodesPlusAndPercent) {
  auto f = parse_form("a=b+c&d=%2F%3d&&e");
  ASSERT_TRUE(f);
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].second, "b c");
  EXPECT_EQ((*f)[1].second, "/=");
  EXPECT_EQ((*f)[2].first, "e");
  EXPECT_FALSE(parse_form("a=%zz"));
  EXPECT_FALSE(parse_form("a=%4"));
  EXPECT_EQ(form_encode("a b/~"), "a%20b%2F~");
}

// The ACS decodes only SAMLResponse out of the body; the outcome must be parse_form's.
TEST(Codec, FindFormFieldDecodesOnlyTheNamedFieldLikeParseForm) {
  std::string v;
  EXPECT_EQ(find_form_field("RelayState=x&SAML%52esponse=a%2Bb+c%3D&z", "SAMLResponse", v),
            form_field::found);
  EXPECT_EQ(v, "a+b c=");  // key decoded before comparing; '+' is a space
  EXPECT_EQ(find_form_field("RelayState=x", "SAMLResponse", v), form_field::absent);
  EXPECT_EQ(find_form_field("", "SAMLResponse", v), form_field::absent);
  EXPECT_EQ(find_form_field("SAMLResponse", "SAMLResponse", v), form_field::found);
  EXPECT_EQ(v, "");
  v = "x";
  EXPECT_EQ(find_form_field("SAMLResponse=a&SAMLResponse=b", "SAMLResponse", v),
            form_field::repeated);
  // A bad escape in any field (before or after, key or value) refuses the whole form, even over
  // a repetition, as parse_form does.
  EXPECT_EQ(find_form_field("SAMLResponse=a&x=%zz", "SAMLResponse", v), form_field::malformed);
  EXPECT_EQ(find_form_field("x%4=1&SAMLResponse=a", "SAMLResponse", v), form_field::malformed);
  EXPECT_EQ(find_form_field("SAMLResponse=a&SAMLResponse=b&c=%", "SAMLResponse", v),
            form_field::malformed);
  EXPECT_EQ(find_form_field("SAMLResponse=ab%4", "SAMLResponse", v), form_field::malformed);
  EXPECT_FALSE(parse_form("SAMLResponse=ab%4"));
  // Percent-decoding itself, on a long value (the decoder writes through a pre-sized buffer).
  std::string raw, want;
  for (int i = 0; i < 5000; ++i) {
    raw += "Ab%2F+";
    want += "Ab/ ";
  }
  EXPECT_EQ(find_form_field("SAMLResponse=" + raw, "SAMLResponse", v), form_field::found);
  EXPECT_EQ(v, want);
  EXPECT_EQ(form_decode(raw), std::optional<std::string>(want));
  EXPECT_EQ(form_decode("%41%4a%7e"), std::optional<std::string>("AJ~"));
  EXPECT_EQ(form_decode("a+%41"), std::optional<std::string>("a A"));  // escapes at the very end
  EXPECT_EQ(form_decode("+"), std::optional<std::string>(" "));
}

TEST(Codec, PkceS256MatchesRfc7636AppendixB) {
  EXPECT_EQ(base64url_encode(sha256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(Jwt, ThumbprintFollowsRfc7638) {
  // RFC 7638 §3.1 uses an RSA key; for EC the same rule gives this member order and form.
  auto t = ec_thumbprint("P-256", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                         "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  EXPECT_EQ(
      t,
      base64url_encode(sha256(
          "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
          "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}")));
  EXPECT_EQ(t.size(), 43u);
}

TEST(Jwt, DerToRawPadsShortIntegers) {
  // SEQUENCE { INTEGER 1, INTEGER 0x00ff } → 31 zero bytes then 01, 31 zero bytes then ff.
  std::string der("\x30\x07\x02\x01\x01\x02\x02\x00\xff", 9);
  auto raw = ecdsa_der_to_raw(der, 32);
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->size(), 64u);
  EXPECT_EQ((*raw)[31], '\x01');
  EXPECT_EQ((*raw)[63], '\xff');
  EXPECT_EQ((*raw)[0], '\0');
  EXPECT_FALSE(ecdsa_der_to_raw("garbage", 32));
}

TEST(Jwt, SignatureVerifiesWithOpenSsl) {
  test::key_files k;
  auto s = es256_signer::from_pem_file(k.f("oidc.key"));
  auto jwt = s.sign(boost::json::object{{"sub", "abc"}, {"iat", 1}});
  ASSERT_TRUE(jwt);
  auto d1 = jwt->find('.'), d2 = jwt->rfind('.');
  auto header = boost::json::parse(*base64url_decode(jwt->substr(0, d1))).as_object();
  EXPECT_EQ(header.at("alg"), "ES256");
  EXPECT_EQ(header.at("kid"), json_str(s.kid()));
  auto payload = boost::json::parse(*base64url_decode(jwt->substr(d1 + 1, d2 - d1 - 1)));
  EXPECT_EQ(payload.as_object().at("sub"), "abc");
  auto raw = *base64url_decode(jwt->substr(d2 + 1));
  ASSERT_EQ(raw.size(), 64u);
  // Back to DER, verified by OpenSSL with the public key from the JWK.
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<unsigned char const*>(raw.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<unsigned char const*>(raw.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  FILE* f = fopen(k.f("oidc.key").c_str(), "r");
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string input = jwt->substr(0, d2);
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(ctx, der, der_len,
                             reinterpret_cast<unsigned char const*>(input.data()), input.size()),
            1);
  input[5] ^= 1;  // any change to the signed text breaks it
  ASSERT_EQ(EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key), 1);
  EXPECT_NE(EVP_DigestVerify(ctx, der, der_len,
                             reinterpret_cast<unsigned char const*>(input.data()), input.size()),
            1);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  OPENSSL_free(der);
  auto jwk = s.jwk();
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("kid"), json_str(s.kid()));
  EXPECT_FALSE(jwk.contains("d"));  // never the private part
}

TEST(Jwt, RefusesNonP256Keys) {
  test::key_files k;
  EXPECT_THROW(es256_signer::from_pem_file(k.f("sp-sign.key")), std::runtime_error);
}

}  // namespace
}  // namespace bbgw::eid

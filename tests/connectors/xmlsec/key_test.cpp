// Key loading: PEM (private, encrypted, public, certificate), DER, PKCS#12, and the certificate
// views KeyInfo forms need (SKI, issuer/serial).
#include "xmlsec/key.hpp"

#include "xmlsec/errc.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

TEST(key, loads_pem_private_key_and_certificate) {
  auto k = key::from_pem_file(vectors() / "rsa2048.key");
  ASSERT_TRUE(k);
  EXPECT_TRUE(k->has_private());
  EXPECT_EQ(k->family(), key_family::rsa);
  EXPECT_EQ(k->bits(), 2048);
  EXPECT_EQ(k->certificate(), nullptr);

  auto c = key::from_pem_file(vectors() / "rsa2048.crt");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->has_private());
  ASSERT_NE(c->certificate(), nullptr);
  EXPECT_EQ(EVP_PKEY_eq(k->pkey(), c->pkey()), 1);
  EXPECT_EQ(c->subject_name(), "CN=bbgw xmlsec test rsa2048");
  EXPECT_EQ(c->issuer_name(), c->subject_name());
  EXPECT_FALSE(c->serial_decimal().empty());
  ASSERT_TRUE(c->subject_key_identifier());
  EXPECT_EQ(c->subject_key_identifier()->size(), 20u);
}

TEST(key, encrypted_pem_needs_its_password_and_never_prompts) {
  EXPECT_FALSE(key::from_pem_file(vectors() / "rsa2048-enc.key"));
  EXPECT_FALSE(key::from_pem_file(vectors() / "rsa2048-enc.key", "wrong"));
  auto k = key::from_pem_file(vectors() / "rsa2048-enc.key", "secret");
  ASSERT_TRUE(k);
  EXPECT_TRUE(k->has_private());
}

TEST(key, ec_curves) {
  auto p256 = key::from_pem_file(vectors() / "p256.key");
  ASSERT_TRUE(p256);
  EXPECT_EQ(p256->family(), key_family::ec);
  EXPECT_EQ(p256->curve(), "prime256v1");
  auto bp = key::from_pem_file(vectors() / "bp256.crt");
  ASSERT_TRUE(bp);
  EXPECT_EQ(bp->curve(), "brainpoolP256r1");
  EXPECT_EQ(bp->bits(), 256);
}

TEST(key, pem_pair_must_match) {
  auto ok = key::from_pem_pair(vectors() / "rsa2048.key", vectors() / "rsa2048.crt");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->has_private());
  EXPECT_NE(ok->certificate(), nullptr);
  EXPECT_FALSE(key::from_pem_pair(vectors() / "rsa2048.key", vectors() / "rsa2048b.crt"));
}

TEST(key, certificate_der_round_trip_and_public_only) {
  auto k = key::from_pem_pair(vectors() / "p256.key", vectors() / "p256.crt");
  ASSERT_TRUE(k);
  auto der = key::from_certificate_der(k->certificate_der());
  ASSERT_TRUE(der);
  EXPECT_EQ(der->certificate_der(), k->certificate_der());
  EXPECT_NE(k->certificate_pem().find("BEGIN CERTIFICATE"), std::string::npos);
  auto pub = k->public_only();
  EXPECT_FALSE(pub.has_private());
  EXPECT_EQ(EVP_PKEY_eq(pub.pkey(), k->pkey()), 1);
  EXPECT_EQ(pub.certificate_der(), k->certificate_der());
}

TEST(key, as4_fixture_pkcs12_open_without_legacy_provider) {
  auto a = key::from_pkcs12_file(fixtures() / "as4/as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->has_private());
  ASSERT_NE(a->certificate(), nullptr);
  EXPECT_EQ(a->family(), key_family::rsa);
  auto b = key::from_pkcs12_file(fixtures() / "as4/as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  ASSERT_TRUE(b);
  EXPECT_NE(a->subject_name(), b->subject_name());
  EXPECT_FALSE(key::from_pkcs12_file(fixtures() / "as4/as4net/AccessPointB.pfx", "wrong"));
}

TEST(key, garbage_is_refused) {
  auto k = key::from_pem("not a key");
  ASSERT_FALSE(k);
  EXPECT_EQ(k.error(), errc::key_unusable);
  EXPECT_FALSE(key::from_certificate_der("\x30\x03\x02\x01\x01"));
  EXPECT_FALSE(key::from_pem_file(vectors() / "does-not-exist.pem"));
}

}  // namespace
}  // namespace bbgw::xmlsec

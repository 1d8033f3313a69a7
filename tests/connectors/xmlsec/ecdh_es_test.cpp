// Key agreement: xmlenc11 ECDH-ES + ConcatKDF + kw-aes128/256, EncryptedKeys made by
// python3-cryptography (its own ECDH, ConcatKDFHash and RFC 3394 key wrap) on every curve
// eIDAS names, and what must be refused.
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "xenc_test_support.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace testing;

// A fresh EC private key on `curve` (OpenSSL group name), as a library key.
key fresh_ec_key(char const* curve) {
  EVP_PKEY* p = EVP_EC_gen(curve);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(p);
  auto k = key::from_pem(pem);
  EXPECT_TRUE(k);
  return *k;
}

algorithm_policy eidas_with_kw_aes192() {
  auto p = algorithm_policy::eidas(false);
  p.key_agreement.emplace_back(uri::kw_aes192);
  return p;
}

class ecdh_es_vectors : public ::testing::TestWithParam<std::string> {};

TEST_P(ecdh_es_vectors, unwraps_the_content_key) {
  std::string const curve = GetParam();
  auto recipient = load_key("ec-" + curve);
  for (auto kw : {"kw128", "kw256"}) {
    auto v = load_vector("ecdh-" + curve + "-" + kw);
    std::string detail;
    auto cek = decrypt_key(v.encrypted_key, recipient, algorithm_policy::eidas(false), &detail);
    ASSERT_TRUE(cek) << curve << " " << kw << ": " << detail;
    EXPECT_EQ(*cek, v.cek);
    auto plain = decrypt_data(v.encrypted_data, *cek, algorithm_policy::eidas(false));
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, v.plaintext);
  }
}

INSTANTIATE_TEST_SUITE_P(curves, ecdh_es_vectors,
                         ::testing::Values("p256", "p384", "p521", "bp256", "bp384", "bp512"));

TEST(ecdh_es, an_unsupported_curve_is_refused) {
  // secp256k1: python can make it, eIDAS does not name it.
  auto v = load_vector("ecdh-k256-kw128");
  std::string detail;
  auto r =
      decrypt_key(v.encrypted_key, load_key("ec-k256"), algorithm_policy::eidas(false), &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::algorithm_not_allowed);
  EXPECT_NE(detail.find("curve"), std::string::npos) << detail;
}

TEST(ecdh_es, a_key_on_another_curve_or_another_key_fails) {
  auto v = load_vector("ecdh-p256-kw128");
  auto policy = algorithm_policy::eidas(false);
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-bp256"), policy).error(),
            errc::decryption_failed);
  EXPECT_EQ(decrypt_key(v.encrypted_key, fresh_ec_key("P-256"), policy).error(),
            errc::decryption_failed);  // RFC 3394 integrity check fails
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), policy).error(), errc::key_unusable);
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p256").public_only(), policy).error(),
            errc::key_unusable);
}

TEST(ecdh_es, a_tampered_originator_point_or_wrapped_key_fails) {
  auto policy = algorithm_policy::eidas(false);
  {
    auto v = load_vector("ecdh-p384-kw256");
    xmlNodePtr pk = find(v.encrypted_key, "http://www.w3.org/2009/xmldsig11#", "PublicKey");
    auto point = base64(*text_of(pk));
    point[point.size() - 1] = static_cast<char>(point.back() ^ 0x01);  // off the curve
    set_text(pk, to_base64(point));
    EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p384"), policy).error(),
              errc::decryption_failed);
    set_text(pk, to_base64("\x02" + point.substr(1, 48)));  // compressed form: refused
    EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p384"), policy).error(),
              errc::decryption_failed);
  }
  {
    auto v = load_vector("ecdh-p256-kw256");
    xmlNodePtr cv =
        children(children(v.encrypted_key, ns_xenc, "CipherData").at(0), ns_xenc, "CipherValue")
            .at(0);
    auto wrapped = base64(*text_of(cv));
    wrapped[3] = static_cast<char>(wrapped[3] ^ 0x10);
    set_text(cv, to_base64(wrapped));
    EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p256"), policy).error(),
              errc::decryption_failed);
    set_text(cv, to_base64(wrapped.substr(0, 16)));  // truncated
    EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p256"), policy).error(),
              errc::decryption_failed);
  }
}

// The originator's point is validated before the agreement (on the curve, coordinates below the
// field prime); an invalid point must never reach ECDH (invalid-curve attacks).
TEST(ecdh_es, an_invalid_p256_originator_point_is_refused_before_the_agreement) {
  auto policy = algorithm_policy::eidas(false);
  auto v = load_vector("ecdh-p256-kw256");
  xmlNodePtr pk = find(v.encrypted_key, "http://www.w3.org/2009/xmldsig11#", "PublicKey");
  auto const good = base64(*text_of(pk));
  ASSERT_EQ(good.size(), 65u);
  // The vector's own point is accepted.
  ASSERT_TRUE(decrypt_key(v.encrypted_key, load_key("ec-p256"), policy));
  auto refused = [&](std::string const& point, char const* what) {
    set_text(pk, to_base64(point));
    std::string detail;
    auto r = decrypt_key(v.encrypted_key, load_key("ec-p256"), policy, &detail);
    ASSERT_FALSE(r) << what;
    EXPECT_EQ(r.error(), errc::decryption_failed) << what;
    EXPECT_NE(detail.find("not on the curve"), std::string::npos) << what << ": " << detail;
  };
  auto off = good;
  off[64] = static_cast<char>(off[64] ^ 0x01);  // y changed: off the curve
  refused(off, "off the curve");
  // x = p (the P-256 field prime): out of range even though x mod p = 0 may lie on the curve.
  std::string const p256_p =
      "\xff\xff\xff\xff\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00"
      "\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff";
  refused("\x04" + p256_p + good.substr(33), "x = p");
  refused("\x04" + std::string(64, '\0'), "all zero (the point at infinity is not encodable)");
}

TEST(ecdh_es, changed_kdf_parameters_derive_another_key) {
  auto v = load_vector("ecdh-p256-kw128");
  xmlNodePtr params = find(v.encrypted_key, "http://www.w3.org/2009/xmlenc11#", "ConcatKDFParams");
  xmlSetProp(params, reinterpret_cast<xmlChar const*>("PartyVInfo"),
             reinterpret_cast<xmlChar const*>("00626f62"));
  EXPECT_EQ(
      decrypt_key(v.encrypted_key, load_key("ec-p256"), algorithm_policy::eidas(false)).error(),
      errc::decryption_failed);
  // Bit strings that are not byte-aligned (first octet = padding bits) are not supported.
  xmlSetProp(params, reinterpret_cast<xmlChar const*>("PartyVInfo"),
             reinterpret_cast<xmlChar const*>("03d8"));
  EXPECT_EQ(
      decrypt_key(v.encrypted_key, load_key("ec-p256"), algorithm_policy::eidas(false)).error(),
      errc::decryption_failed);
}

TEST(ecdh_es, algorithms_outside_the_policy_are_refused_before_the_key_is_used) {
  auto public_only = load_key("ec-p256").public_only();
  {
    auto v = load_vector("ecdh-p256-kw128");
    auto policy = algorithm_policy::eidas(false);
    policy.key_agreement.clear();
    EXPECT_EQ(decrypt_key(v.encrypted_key, public_only, policy).error(),
              errc::algorithm_not_allowed);
  }
  {
    auto v = load_vector("ecdh-p256-kw128");
    xmlNodePtr digest = find(v.encrypted_key, ns_ds, "DigestMethod");
    xmlSetProp(digest, reinterpret_cast<xmlChar const*>("Algorithm"),
               reinterpret_cast<xmlChar const*>(std::string(uri::sha1).c_str()));
    EXPECT_EQ(decrypt_key(v.encrypted_key, public_only, algorithm_policy::eidas(false)).error(),
              errc::algorithm_not_allowed);
  }
  {
    auto v = load_vector("ecdh-p256-kw128");
    xmlNodePtr am = find(v.encrypted_key, ns_xenc, "AgreementMethod");
    xmlSetProp(am, reinterpret_cast<xmlChar const*>("Algorithm"),
               reinterpret_cast<xmlChar const*>("http://www.w3.org/2009/xmlenc11#dh-es"));
    EXPECT_EQ(decrypt_key(v.encrypted_key, public_only, algorithm_policy::eidas(false)).error(),
              errc::algorithm_not_allowed);
  }
  {
    // kw-aes192 is not in the eIDAS list; with it listed, the same structure decrypts further.
    auto v = load_vector("ecdh-p256-kw128");
    xmlNodePtr em = find(v.encrypted_key, ns_xenc, "EncryptionMethod");
    xmlSetProp(em, reinterpret_cast<xmlChar const*>("Algorithm"),
               reinterpret_cast<xmlChar const*>(std::string(uri::kw_aes192).c_str()));
    EXPECT_EQ(decrypt_key(v.encrypted_key, public_only, algorithm_policy::eidas(false)).error(),
              errc::algorithm_not_allowed);
    EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("ec-p256"), eidas_with_kw_aes192()).error(),
              errc::decryption_failed);  // the KEK now has the wrong length: unwrap fails
  }
}

TEST(ecdh_es, a_wrapped_key_without_agreement_method_is_refused) {
  auto v = load_vector("ecdh-p256-kw128");
  xmlNodePtr ki = find(v.encrypted_key, ns_ds, "KeyInfo");
  xmlUnlinkNode(ki);
  xmlFreeNode(ki);
  EXPECT_EQ(
      decrypt_key(v.encrypted_key, load_key("ec-p256"), algorithm_policy::eidas(false)).error(),
      errc::decryption_failed);
}

}  // namespace
}  // namespace bbgw::xmlsec

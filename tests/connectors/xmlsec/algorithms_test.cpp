// The allow-lists: what each profile admits and what it never does.
#include "xmlsec/algorithms.hpp"

#include <gtest/gtest.h>

namespace bbgw::xmlsec {
namespace {

TEST(algorithms, eidas_profile) {
  auto p = algorithm_policy::eidas(false);
  for (auto u : {uri::rsa_pss_sha256, uri::rsa_pss_sha384, uri::rsa_pss_sha512, uri::ecdsa_sha256,
                 uri::ecdsa_sha384, uri::ecdsa_sha512})
    EXPECT_TRUE(p.allows(p.signature_methods, u)) << u;
  for (auto u : {uri::rsa_sha1, uri::rsa_sha256, uri::hmac_sha256})
    EXPECT_FALSE(p.allows(p.signature_methods, u)) << u;
  EXPECT_TRUE(algorithm_policy::eidas(true).allows(p.signature_methods, uri::rsa_pss_sha256));
  auto q = algorithm_policy::eidas(true);
  EXPECT_TRUE(q.allows(q.signature_methods, uri::rsa_sha256));
  EXPECT_FALSE(q.allows(q.signature_methods, uri::rsa_sha1));
  EXPECT_FALSE(p.allows(p.digest_methods, uri::sha1));
  EXPECT_EQ(p.transforms, (std::vector<std::string>{std::string(uri::enveloped_signature),
                                                    std::string(uri::exc_c14n)}));
  EXPECT_FALSE(p.allows(p.data_encryption, uri::aes128_cbc));
  EXPECT_FALSE(p.allows(p.key_transport, uri::rsa_1_5));
  EXPECT_EQ(p.min_rsa_bits, 2048);
}

TEST(algorithms, as4_receive_profile) {
  auto p = algorithm_policy::as4_receive();
  for (auto u : {uri::rsa_sha256, uri::rsa_sha384, uri::rsa_sha512})
    EXPECT_TRUE(p.allows(p.signature_methods, u));
  EXPECT_FALSE(p.allows(p.signature_methods, uri::rsa_sha1));
  EXPECT_TRUE(p.allows(p.transforms, uri::swa_content_signature));
  EXPECT_FALSE(p.allows(p.transforms, "http://www.w3.org/TR/1999/REC-xslt-19991116"));
  EXPECT_TRUE(p.allows(p.data_encryption, uri::aes128_gcm));
  EXPECT_TRUE(p.allows(p.key_transport, uri::rsa_oaep_mgf1p));
  EXPECT_TRUE(p.allows(p.key_transport, uri::mgf1_sha256));
}

TEST(algorithms, legacy_adds_sha1_and_rsa1024_only) {
  auto p = algorithm_policy::legacy(algorithm_policy::eidas(false));
  EXPECT_TRUE(p.allows(p.signature_methods, uri::rsa_sha1));
  EXPECT_TRUE(p.allows(p.digest_methods, uri::sha1));
  EXPECT_EQ(p.min_rsa_bits, 1024);
  EXPECT_FALSE(p.allows(p.signature_methods, uri::hmac_sha256));
}

}  // namespace
}  // namespace bbgw::xmlsec

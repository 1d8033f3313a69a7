// Interop vectors from other AS4 products (AS4.NET, Holodeck B2B, phase4, Governikus):
// the gateway configured as AccessPointB decrypts, verifies and decompresses them, verifies the
// signed receipts, and refuses the negative vectors with the EBMS code the profile names. The
// clock is the vector's own eb:Timestamp; the certificate checks are not loosened (see the
// expiry tests).
#include <cctype>

#include <openssl/sha.h>

#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"

namespace bbgw::edelivery {
namespace {

using test::at;
using test::fixture;

std::string sha256(std::string const& s) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<unsigned char const*>(s.data()), s.size(), md);
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

struct access_point_b {
  xmlsec::key own = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  // AccessPointA is the partner; the AS4.NET vectors signed by B itself are loop-back tests, so
  // B's own certificate is configured as a partner too.
  std::vector<xmlsec::key> partners{
      test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").public_only(), own.public_only()};
  inbound_options options;
};

std::string code_of(error_code ec) {
  return std::string(ebms_error_for(ec).code);
}

void expect_jpeg_and_xml(std::vector<payload> const& p) {
  ASSERT_EQ(p.size(), 2u);
  bool jpeg = false, xml = false;
  for (auto const& x : p) {
    EXPECT_TRUE(x.compressed);
    if (x.mime_type == "image/jpeg") {
      jpeg = true;
      ASSERT_GT(x.data.size(), 4u);
      EXPECT_EQ(static_cast<unsigned char>(x.data[0]), 0xFF);  // SOI
      EXPECT_EQ(static_cast<unsigned char>(x.data[1]), 0xD8);
      EXPECT_EQ(static_cast<unsigned char>(x.data[x.data.size() - 2]), 0xFF);  // EOI
      EXPECT_EQ(static_cast<unsigned char>(x.data[x.data.size() - 1]), 0xD9);
    } else if (x.mime_type == "application/xml") {
      xml = true;
      auto doc = xmlsec::document::parse(x.data);
      EXPECT_TRUE(doc) << "the XML payload is well-formed";
    }
  }
  EXPECT_TRUE(jpeg);
  EXPECT_TRUE(xml);
}

class interop : public ::testing::Test {
 protected:
  access_point_b b_;
  std::string detail_;
};

TEST_F(interop, encrypted_signed_issuer_serial_decrypts_verifies_and_decompresses) {
  auto body = fixture("as4net/as4-encrypted-signed-issuerserial.as4");
  auto m =
      receive("", body, b_.options, b_.partners, &b_.own, at("2018-12-19T08:56:26Z"), &detail_);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail_;
  EXPECT_TRUE(m->security.is_signed);
  EXPECT_EQ(m->security.signer_index, 0u) << "signed by AccessPointA";
  EXPECT_EQ(m->security.decrypted_content_ids.size(), 2u);
  EXPECT_EQ(m->security.signature.references.size(), 4u);
  EXPECT_EQ(m->ebms.user_messages.at(0).info.message_id,
            "b545c3a0-e57f-46aa-862f-381eb4b70097@CLT-SMOREELS.mshome.net");
  expect_jpeg_and_xml(m->payloads);
}

TEST_F(interop, encrypted_signed_key_identifier_decrypts_verifies_and_decompresses) {
  auto body = fixture("as4net/as4-encrypted-signed-keyidentifier.as4");
  auto m =
      receive("", body, b_.options, b_.partners, &b_.own, at("2018-12-19T08:30:16Z"), &detail_);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail_;
  EXPECT_EQ(m->security.signer_index, 0u);
  EXPECT_EQ(m->security.decrypted_content_ids.size(), 2u);
  expect_jpeg_and_xml(m->payloads);
}

TEST_F(interop, signed_holodeck_message_verifies_over_the_compressed_bytes) {
  auto body = fixture("as4net/signed_holodeck_message.as4");
  auto m =
      receive("", body, b_.options, b_.partners, nullptr, at("2018-01-24T16:12:22Z"), &detail_);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail_;
  EXPECT_EQ(m->security.signer_index, 1u) << "SKI of AccessPointB";
  EXPECT_TRUE(m->security.decrypted_content_ids.empty());
  expect_jpeg_and_xml(m->payloads);
  // The same payloads as the encrypted vectors carry.
  auto enc = receive("", fixture("as4net/as4-encrypted-signed-issuerserial.as4"), b_.options,
                     b_.partners, &b_.own, at("2018-12-19T08:56:26Z"));
  ASSERT_TRUE(enc);
  std::vector<std::string> a, c;
  for (auto const& p : m->payloads) a.push_back(sha256(p.data));
  for (auto const& p : enc->payloads) c.push_back(sha256(p.data));
  std::sort(a.begin(), a.end());
  std::sort(c.begin(), c.end());
  EXPECT_EQ(a, c);
}

TEST_F(interop, soap_only_8_1_21_verifies) {
  auto m = receive("application/soap+xml", fixture("as4net/8.1.21-message.xml"), b_.options,
                   b_.partners, nullptr, at("2018-02-05T09:33:46Z"), &detail_);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail_;
  EXPECT_EQ(m->security.signature.references.size(), 2u);
  auto const& um = m->ebms.user_messages.at(0);
  EXPECT_EQ(um.service, "Test");
  EXPECT_EQ(um.service_type, "org:holodeckb2b:services");
  EXPECT_EQ(um.action, "StoreMessage");
  EXPECT_EQ(um.agreement_pmode, "8.1.21-pmode");
  EXPECT_EQ(um.from.role, "Sender");
  EXPECT_EQ(um.from.ids.at(0).value, "org:holodeckb2b:example:company:A");
  EXPECT_TRUE(m->payloads.empty());
}

TEST_F(interop, holodeck_rsa1024_needs_an_explicit_legacy_policy) {
  auto body = fixture("as4net/as4-soap-signed-message.txt");
  std::vector<xmlsec::key> partya{
      test::pfx("as4net/holodeck-partya-certificate.pfx", "secrets").public_only()};
  auto when = at("2016-09-23T12:33:21Z");
  // Default policy: RSA-1024 is refused (EBMS:0103).
  auto refused = receive("", body, b_.options, partya, nullptr, when, &detail_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::algorithm_not_allowed) << detail_;
  EXPECT_EQ(code_of(refused.error()), "EBMS:0103");
  // Test-only legacy policy.
  auto legacy = b_.options;
  legacy.security.algorithms = xmlsec::algorithm_policy::legacy(legacy.security.algorithms);
  auto m = receive("", body, legacy, partya, nullptr, when, &detail_);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail_;
  EXPECT_TRUE(m->security.is_signed);
}

struct receipt_case {
  char const* file;
  char const* timestamp;
};

void PrintTo(receipt_case const& c, std::ostream* os) {
  *os << c.file;
}

class signed_receipts : public ::testing::TestWithParam<receipt_case> {};

TEST_P(signed_receipts, verify_with_exactly_their_signer_configured) {
  auto dump = test::split_dump(fixture(GetParam().file));
  std::vector<xmlsec::key> signer{test::bst_certificate(dump.body)};
  inbound_options options;
  std::string detail;
  auto m = receive(dump.content_type, dump.body, options, signer, nullptr, at(GetParam().timestamp),
                   &detail);
  ASSERT_TRUE(m) << m.error().message() << ": " << detail;
  ASSERT_EQ(m->ebms.signals.size(), 1u);
  EXPECT_EQ(m->ebms.signals[0].kind, signal_kind::receipt);
  EXPECT_TRUE(m->security.is_signed);
}

TEST_P(signed_receipts, refused_when_the_certificate_has_expired_or_is_not_configured) {
  auto dump = test::split_dump(fixture(GetParam().file));
  std::vector<xmlsec::key> signer{test::bst_certificate(dump.body)};
  inbound_options options;
  std::string detail;
  auto later = receive(dump.content_type, dump.body, options, signer, nullptr,
                       at("2026-01-01T00:00:00Z"), &detail);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error(), errc::signer_not_trusted);
  EXPECT_EQ(detail, "signing certificate expired");
  // The BST alone is never trusted.
  access_point_b b;
  auto other = receive(dump.content_type, dump.body, options, b.partners, nullptr,
                       at(GetParam().timestamp), &detail);
  ASSERT_FALSE(other);
  EXPECT_EQ(code_of(other.error()), "EBMS:0101");
}

INSTANTIATE_TEST_SUITE_P(
    phase4, signed_receipts,
    ::testing::Values(receipt_case{"phase4/helger.as4in", "2022-03-07T17:36:50Z"},
                      receipt_case{"phase4/governikus.as4in", "2022-03-07T17:41:28Z"},
                      receipt_case{"phase4/dataport1-mustunderstand.as4in",
                                   "2022-03-07T16:36:50Z"}),
    [](::testing::TestParamInfo<receipt_case> const& info) {
      std::string name = info.param.file;
      name = name.substr(name.find('/') + 1);
      name = name.substr(0, name.find('.'));
      for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST_F(interop, dataport_receipt_with_reserialised_header_fails_authentication) {
  auto dump = test::split_dump(fixture("phase4/dataport1.as4in"));
  std::vector<xmlsec::key> signer{test::bst_certificate(dump.body)};
  auto m = receive(dump.content_type, dump.body, {}, signer, nullptr, at("2022-03-07T16:36:50Z"),
                   &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::signature_invalid) << detail_;
  EXPECT_EQ(code_of(m.error()), "EBMS:0101");
}

TEST_F(interop, wrong_signed_body_id_fails_authentication) {
  std::vector<xmlsec::key> partya{
      test::pfx("as4net/holodeck-partya-certificate.pfx", "secrets").public_only()};
  auto legacy = b_.options;
  legacy.security.algorithms = xmlsec::algorithm_policy::legacy(legacy.security.algorithms);
  auto m = receive("", fixture("as4net/as4-soap-wrong-signed-message.txt"), legacy, partya, nullptr,
                   at("2016-09-23T12:33:21Z"), &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), "EBMS:0101") << detail_;
}

TEST_F(interop, receipt_with_invalid_signature_is_refused) {
  auto m = receive("", fixture("as4net/receipt_with_invalid_signature.as4"), b_.options,
                   b_.partners, nullptr, at("2017-03-01T16:18:23Z"), &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(code_of(m.error()), "EBMS:0101") << detail_;
}

TEST_F(interop, unknown_signing_algorithm_is_policy_noncompliance) {
  auto body = fixture("phase4/WrongSigningAlgorithm.xml");
  std::vector<xmlsec::key> signer{test::bst_certificate(body)};
  auto m = receive("", body, b_.options, signer, nullptr, at("2016-12-21T10:34:22Z"), &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::algorithm_not_allowed) << detail_;
  EXPECT_EQ(code_of(m.error()), "EBMS:0103");
}

TEST_F(interop, signer_not_among_the_configured_partners_is_refused) {
  std::vector<xmlsec::key> only_b{b_.own.public_only()};
  auto m = receive("", fixture("as4net/as4-encrypted-signed-issuerserial.as4"), b_.options, only_b,
                   &b_.own, at("2018-12-19T08:56:26Z"), &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::signer_not_trusted) << detail_;
}

}  // namespace
}  // namespace bbgw::edelivery

namespace bbgw::edelivery {
namespace {

class with_xsd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string detail;
    auto s = load_ebms_schemas(BBGW_SOURCE_DIR "/schemas/xsd/ebms", &detail);
    ASSERT_TRUE(s) << detail;
    schemas_ = new xmlsec::schema_set(std::move(*s));
  }
  static void TearDownTestSuite() {
    delete schemas_;
    schemas_ = nullptr;
  }
  static xmlsec::schema_set* schemas_;
  access_point_b b_;
  std::string detail_;
};
xmlsec::schema_set* with_xsd::schemas_ = nullptr;

TEST_F(with_xsd, the_user_message_vectors_validate_against_the_ebms_header_xsd) {
  b_.options.schemas = schemas_;
  for (auto [file, when] :
       {std::pair{"as4net/as4-encrypted-signed-issuerserial.as4", "2018-12-19T08:56:26Z"},
        std::pair{"as4net/signed_holodeck_message.as4", "2018-01-24T16:12:22Z"},
        std::pair{"as4net/8.1.21-message.xml", "2018-02-05T09:33:46Z"}}) {
    auto m = receive("", fixture(file), b_.options, b_.partners, &b_.own, at(when), &detail_);
    EXPECT_TRUE(m) << file << ": " << detail_;
  }
}

TEST_F(with_xsd, an_eb_messaging_outside_the_xsd_is_an_invalid_header) {
  b_.options.schemas = schemas_;
  auto body = fixture("as4net/8.1.21-message.xml");
  auto p = body.find("<eb3:Action>");
  ASSERT_NE(p, std::string::npos);
  body.insert(p, "<eb3:Unknown/>");
  auto m =
      receive("", body, b_.options, b_.partners, nullptr, at("2018-02-05T09:33:46Z"), &detail_);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::messaging_invalid) << detail_;
  EXPECT_EQ(code_of(m.error()), "EBMS:0009");
}

}  // namespace
}  // namespace bbgw::edelivery

namespace bbgw::edelivery {
namespace {

TEST(soap11_receipt, parses_only_when_allowed_and_its_body_only_signature_is_not_enough) {
  auto body = fixture("phase4/TestReceipt11.xml");
  std::vector<xmlsec::key> signer{test::bst_certificate(body)};
  inbound_options options;
  std::string detail;
  auto when = at("2017-06-13T13:36:35Z");
  auto strict = receive("", body, options, signer, nullptr, when, &detail);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error(), errc::soap_version_mismatch);
  options.allow_soap11 = true;
  auto m = receive("text/xml", body, options, signer, nullptr, when, &detail);
  ASSERT_FALSE(m);
  // The SOAP 1.1 envelope and its eb:Receipt were read and the signature verified; but it
  // signs only the Body, and eb:Messaging must be signed too.
  EXPECT_EQ(m.error(), errc::references_incomplete) << detail;
  EXPECT_EQ(detail, "eb:Messaging is not signed");
}

}  // namespace
}  // namespace bbgw::edelivery

// Lasso (Debian python3-lasso) as a second, independent eIDAS-style node (lasso_node.py): it
// reads our signed SP metadata, verifies our signed AuthnRequest with the key in it, and answers
// with signed, and signed-and-encrypted, Responses that finish the OIDC code flow.
// Lasso encrypts the content only with AES-CBC and wraps the key with RSA-OAEP-MGF1P and the
// default SHA-1 OAEP digest (or rsa-1_5): the eIDAS policy refuses that unless the node's config
// allows both (node.allow_cbc_encryption, node.allow_oaep_sha1); rsa-1_5 never.
#include "saml_flow.hpp"

namespace bbgw::eid {
namespace {

using namespace test;

struct LassoFlow : node_flow {
  LassoFlow() : node_flow(lasso_script) {}

  std::string detail() {
    for (auto const& l : svc.log.lines())
      for (auto const& [k, v] : l.fields)
        if (k == "detail") return v;
    return "";
  }
  // A refused Response: 403 by `rule`, and nothing stored, emitted or consumed.
  void expect_refused(response const& r, store_state const& before, std::string const& rule) {
    EXPECT_EQ(r.status, 403u);
    EXPECT_EQ(rejected(rule), 1) << why();
    EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 1);
    EXPECT_EQ(state(), before);
  }
};

constexpr char const* both_allowances =
    "  allow_cbc_encryption: true\n"
    "  allow_oaep_sha1: true\n";

TEST_F(LassoFlow, SignedResponseAndAssertionCompleteTheCodeFlow) {
  auto b64 = node_response(start());
  ASSERT_FALSE(b64.empty());
  auto xml = xml_of(b64);
  // Lasso's own shape: default ds namespace, KeyInfo with its certificate, two signatures.
  ASSERT_NE(xml.find("<Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\">"),
            std::string::npos);
  auto r = post_acs(b64);
  ASSERT_EQ(r.status, 302u) << why();
  auto id = redeem(r);
  EXPECT_EQ(id.at("given_name"), "Javier");
  EXPECT_EQ(id.at("family_name"), "Garcia");
  EXPECT_EQ(id.at("birthdate"), "1965-01-01");
  EXPECT_EQ(id.at("acr"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(svc.db.outbox().back().type, succeeded_type);
}

TEST_F(LassoFlow, OnlyTheAssertionSignedIsAccepted) {
  auto b64 = node_response(start(), "--sign assertion");
  auto xml = xml_of(b64);
  std::string const sig = "<Signature xmlns=";
  ASSERT_EQ(xml.find(sig), xml.rfind(sig)) << "expected one signature";
  ASSERT_GT(xml.find(sig), xml.find("<saml:Assertion"));  // the Assertion's
  EXPECT_EQ(post_acs(b64).status, 302u) << why();
}

// Lasso (want_authn_requests_signed, verify hint FORCE) checks our signature with the key of our
// metadata: a request changed after signing gets no answer.
TEST_F(LassoFlow, LassoVerifiesOurAuthnRequestSignature) {
  auto xml = xml_of(start());
  EXPECT_FALSE(node_response(base64_encode(xml)).empty());
  xml.replace(xml.find("ForceAuthn=\"true\""), 17, "ForceAuthn=\"1\"   ");
  EXPECT_TRUE(node_response(base64_encode(xml) + " 2>/dev/null").empty());
}

TEST_F(LassoFlow, LowerLoaThanRequestedIsRefused) {
  auto before_req = start();
  auto before = state();
  expect_refused(post_acs(node_response(before_req, "--loa http://eidas.europa.eu/LoA/low")),
                 before, "level_of_assurance");
}

TEST_F(LassoFlow, MissingRequiredAttributeIsRefused) {
  auto req = start();
  auto before = state();
  expect_refused(post_acs(node_response(
                     req, "--omit http://eidas.europa.eu/attributes/naturalperson/DateOfBirth")),
                 before, "attributes");
}

// By default Lasso's encryption is refused with an error naming the allowance, before any key
// is used; nothing changes and the pending login still completes with a good Response.
TEST_F(LassoFlow, CbcEncryptionIsRefusedByDefault) {
  auto req = start();
  auto b64 = node_response(req, "--encrypt cbc");
  ASSERT_NE(xml_of(b64).find("xmlenc#aes256-cbc"), std::string::npos);
  auto before = state();
  expect_refused(post_acs(b64), before, "decrypt");
  EXPECT_NE(detail().find("AES-CBC content encryption"), std::string::npos) << detail();
  EXPECT_NE(detail().find("connectors.eid.node.allow_cbc_encryption"), std::string::npos);
  EXPECT_EQ(post_acs(node_response(req)).status, 302u) << why();
}

// CBC allowed, but Lasso's OAEP digest is SHA-1: refused, naming the second allowance.
TEST_F(LassoFlow, CbcAloneDoesNotAllowTheSha1OaepDigest) {
  reconfigure("  allow_cbc_encryption: true\n");
  auto req = start();
  auto before = state();
  expect_refused(post_acs(node_response(req, "--encrypt cbc")), before, "decrypt");
  EXPECT_NE(detail().find("OAEP digest http://www.w3.org/2000/09/xmldsig#sha1"), std::string::npos)
      << detail();
  EXPECT_NE(detail().find("connectors.eid.node.allow_oaep_sha1"), std::string::npos);
}

TEST_F(LassoFlow, SignedAndCbcEncryptedResponseIsAcceptedWhenAllowed) {
  reconfigure(both_allowances);
  auto b64 = node_response(start(), "--encrypt cbc");
  auto xml = xml_of(b64);
  ASSERT_NE(xml.find("EncryptedAssertion"), std::string::npos);
  ASSERT_NE(xml.find("xmlenc#rsa-oaep-mgf1p"), std::string::npos);
  ASSERT_EQ(xml.find("Javier"), std::string::npos);
  auto r = post_acs(b64);
  ASSERT_EQ(r.status, 302u) << why();
  auto id = redeem(r);
  EXPECT_EQ(id.at("given_name"), "Javier");
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 0);
}

// Downgrade: rsa-1_5 key transport is refused whatever the allowances say.
TEST_F(LassoFlow, Rsa15KeyTransportIsNeverAccepted) {
  reconfigure(both_allowances);
  auto req = start();
  auto b64 = node_response(req, "--encrypt cbc --key-transport pkcs1");
  ASSERT_NE(xml_of(b64).find("xmlenc#rsa-1_5"), std::string::npos);
  auto before = state();
  expect_refused(post_acs(b64), before, "decrypt");
  EXPECT_NE(detail().find("rsa-1_5 is not allowed"), std::string::npos) << detail();
}

}  // namespace
}  // namespace bbgw::eid

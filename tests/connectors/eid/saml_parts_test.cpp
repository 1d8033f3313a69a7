// The SAML building blocks on their own: the node metadata is accepted only when signed by the
// trust anchor over the whole EntityDescriptor and still valid; SAML times; the AuthnRequest text;
// DEFLATE round trip with an inflation bound.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "eid/acs_rules.hpp"
#include "eid/authn_request.hpp"
#include "eid/node_metadata.hpp"
#include "eid/saml_ns.hpp"
#include "eid_env.hpp"

namespace bbgw::eid {
namespace {

std::string slurp(std::string const& f) {
  std::ifstream in(f);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct NodeMetadata : ::testing::Test {
  bbgw::testing::temp_dir dir;
  std::string xml;
  xmlsec::key anchor;
  xmlsec::algorithm_policy policy = xmlsec::algorithm_policy::eidas(true);
  void SetUp() override {
    test::sh("/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/connectors/eid/pysaml2_node.py setup " +
             dir.path().string() + " https://node.example");
    xml = slurp(dir.file("idp-metadata.xml"));
    anchor = *xmlsec::key::from_pem_file(dir.file("idp.crt"));
  }
  result<node_metadata> parse(std::string const& text, xmlsec::key const& k) {
    std::string detail;
    return parse_node_metadata(text, k, policy, std::chrono::system_clock::now(), &detail);
  }
};

TEST_F(NodeMetadata, SignedByTheAnchorGivesEndpointsAndKeys) {
  auto m = parse(xml, anchor);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->entity_id, "https://node.example/metadata");
  EXPECT_EQ(m->sso_post, "https://node.example/sso/post");
  EXPECT_EQ(m->sso_redirect, "https://node.example/sso/redirect");
  EXPECT_EQ(m->signing_keys.size(), 1u);
}

TEST_F(NodeMetadata, TamperedMetadataIsRefused) {
  auto bad = xml;
  bad.replace(bad.find("https://node.example/sso/post"), 29, "https://evil.example/sso/post");
  EXPECT_FALSE(parse(bad, anchor));
}

TEST_F(NodeMetadata, AnotherAnchorIsRefused) {
  test::sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other -keyout " +
           dir.file("o.key") + " -out " + dir.file("o.crt"));
  EXPECT_FALSE(parse(xml, *xmlsec::key::from_pem_file(dir.file("o.crt"))));
}

TEST_F(NodeMetadata, UnsignedMetadataIsRefused) {
  auto a = xml.find("<ns1:Signature"), b = xml.find("</ns1:Signature>");
  ASSERT_NE(a, std::string::npos);
  auto bad = xml;
  bad.erase(a, b + 16 - a);
  EXPECT_FALSE(parse(bad, anchor));
}

TEST(SamlTime, ParsesUtcAndOffsetsAndRefusesJunk) {
  auto t = parse_saml_time("2026-11-24T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 1795514400);
  EXPECT_EQ(parse_saml_time("2026-11-24T11:00:00+01:00"), t);
  EXPECT_EQ(*parse_saml_time("2026-11-24T10:00:00.5Z") - *t, std::chrono::milliseconds(500));
  EXPECT_FALSE(parse_saml_time("2026-11-24T10:00:00"));  // no zone
  EXPECT_FALSE(parse_saml_time("2026-13-24T10:00:00Z"));
  EXPECT_FALSE(parse_saml_time("2026-11-24T10:00:00Zjunk"));
  EXPECT_GT(*parse_saml_time("2993-01-01T00:00:00Z"), *t);  // clamped, still later
  EXPECT_EQ(saml_time(*t), "2026-11-24T10:00:00Z");
}

TEST(AuthnRequest, EscapesAndOrdersTheElements) {
  authn_request_spec s;
  s.id = "_abc";
  s.destination = "https://node.example/sso?a=1&b=2";
  s.issuer = "https://gw.example/eid/metadata";
  s.acs_url = "https://gw.example/eid/acs";
  s.sp_type = "private";
  s.name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";
  s.loa = "http://eidas.europa.eu/LoA/high";
  s.attributes = {{"http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier", true}};
  auto x = build_authn_request(s);
  EXPECT_NE(x.find("Destination=\"https://node.example/sso?a=1&amp;b=2\""), std::string::npos);
  EXPECT_NE(x.find("Comparison=\"minimum\""), std::string::npos);
  EXPECT_NE(x.find("<eidas:SPType>private</eidas:SPType>"), std::string::npos);
  // Issuer, Extensions, NameIDPolicy, RequestedAuthnContext: the schema's order.
  EXPECT_LT(x.find("Issuer"), x.find("Extensions"));
  EXPECT_LT(x.find("Extensions"), x.find("NameIDPolicy"));
  EXPECT_LT(x.find("NameIDPolicy"), x.find("RequestedAuthnContext"));
}

TEST(Deflate, RoundTripsAndBoundsInflation) {
  std::string big(100000, 'a');
  auto z = deflate_raw(big);
  EXPECT_LT(z.size(), 1000u);
  EXPECT_EQ(inflate_raw(z, 200000), std::optional<std::string>(big));
  EXPECT_FALSE(inflate_raw(z, 1000));  // a bomb stops at the bound
  EXPECT_FALSE(inflate_raw("not deflate", 1000));
}

}  // namespace
}  // namespace bbgw::eid

namespace bbgw::eid {
namespace {

// Schema errors are logged without the values libxml2 quotes.
TEST(SchemaRule, DetailCarriesNoValues) {
  EXPECT_EQ(rules::without_values("Element '{urn:x}Attr', attribute 'IssueInstant': 'SECRET 1' is "
                                  "not a valid value of the atomic type 'xs:dateTime'."),
            "Element '{urn:x}Attr', attribute '…': '…' is not a valid value of the atomic type "
            "'…'.");
  std::filesystem::path d = BBGW_SOURCE_DIR "/schemas/xsd";
  std::vector<std::filesystem::path> files{
      d / "saml/saml-schema-protocol-2.0.xsd", d / "saml/saml-schema-assertion-2.0.xsd",
      d / "saml/xmldsig-core-schema.xsd", d / "saml/xenc-schema.xsd",
      d / "eidas/saml_eidas_extension.xsd"};
  auto schemas = xmlsec::schema_set::load(files);
  ASSERT_TRUE(schemas);
  acs_context c;
  c.schemas = &*schemas;
  c.xml =
      "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_a\" "
      "Version=\"2.0\" IssueInstant=\"Javier-1965\"><samlp:Status><samlp:StatusCode "
      "Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/></samlp:Status>"
      "</samlp:Response>";
  ASSERT_TRUE(rules::parse(c));
  EXPECT_FALSE(rules::schema(c));
  EXPECT_TRUE(c.detail.starts_with("schema: ")) << c.detail;
  EXPECT_EQ(c.detail.find("Javier"), std::string::npos) << c.detail;
}

}  // namespace
}  // namespace bbgw::eid

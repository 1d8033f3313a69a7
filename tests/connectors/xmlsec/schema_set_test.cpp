// XSD sets from local files: SAML protocol + eIDAS extensions, and the ebMS 3 header with SOAP
// 1.2, against real messages and broken ones; imports never reach the network.
#include "xmlsec/schema_set.hpp"

#include "xmlsec/errc.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

std::vector<std::filesystem::path> saml_files() {
  auto s = schemas();
  return {s / "saml/saml-schema-protocol-2.0.xsd", s / "saml/saml-schema-assertion-2.0.xsd",
          s / "saml/xmldsig-core-schema.xsd", s / "saml/xenc-schema.xsd",
          s / "eidas/saml_eidas_extension.xsd"};
}

std::vector<std::filesystem::path> ebms_files() {
  auto s = schemas();
  return {s / "ebms/ebms-header-3_0-200704.xsd", s / "ebms/soap12.xsd", s / "ebms/soap11.xsd",
          s / "saml/xml.xsd"};
}

constexpr std::string_view ns_eb = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/";

TEST(schema_set, saml_and_eidas_validate_a_real_response) {
  std::string detail;
  auto files = saml_files();
  auto set = schema_set::load(files, &detail);
  ASSERT_TRUE(set) << detail;
  auto d = document::parse(base64_file(fixtures() / "saml/python3-saml/valid_response.xml.base64"));
  ASSERT_TRUE(d);
  auto r = set->validate(d->get(), &detail);
  EXPECT_TRUE(r) << detail;
  // and a subtree: the Assertion alone
  xmlNodePtr assertion = find(d->root(), "urn:oasis:names:tc:SAML:2.0:assertion", "Assertion");
  ASSERT_NE(assertion, nullptr);
  EXPECT_TRUE(set->validate(assertion, &detail)) << detail;
}

TEST(schema_set, saml_rejects_broken_responses) {
  auto files = saml_files();
  auto set = schema_set::load(files);
  ASSERT_TRUE(set);
  auto xml = base64_file(fixtures() / "saml/python3-saml/valid_response.xml.base64");
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"Version=\"2.0\"", ""},
                          {"<saml:Issuer", "<saml:Unknown/><saml:Issuer"},
                          {"IssueInstant=\"", "IssueInstant=\"yesterday"}}) {
    SCOPED_TRACE(std::string(from));
    auto d = document::parse(replace(xml, from, to));
    ASSERT_TRUE(d);
    std::string detail;
    auto r = set->validate(d->get(), &detail);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::schema_invalid);
    EXPECT_FALSE(detail.empty());
  }
}

TEST(schema_set, eidas_extension_elements_validate) {
  auto files = saml_files();
  auto set = schema_set::load(files);
  ASSERT_TRUE(set);
  std::string const ext =
      "<samlp:AuthnRequest xmlns:samlp='urn:oasis:names:tc:SAML:2.0:protocol' "
      "xmlns:saml='urn:oasis:names:tc:SAML:2.0:assertion' "
      "xmlns:eidas='http://eidas.europa.eu/saml-extensions' ID='_r' Version='2.0' "
      "IssueInstant='2026-01-01T00:00:00Z'><saml:Issuer>https://sp/</saml:Issuer>"
      "<samlp:Extensions><eidas:SPType>public</eidas:SPType><eidas:RequestedAttributes>"
      "<eidas:RequestedAttribute Name='http://eidas.europa.eu/attributes/naturalperson/"
      "PersonIdentifier' NameFormat='urn:oasis:names:tc:SAML:2.0:attrname-format:uri' "
      "isRequired='true'/></eidas:RequestedAttributes></samlp:Extensions></samlp:AuthnRequest>";
  auto d = document::parse(ext);
  ASSERT_TRUE(d);
  std::string detail;
  EXPECT_TRUE(set->validate(d->get(), &detail)) << detail;
  auto bad = document::parse(replace(ext, ">public<", ">nobody<"));
  ASSERT_TRUE(bad);
  EXPECT_FALSE(set->validate(bad->get()));
}

TEST(schema_set, ebms_header_of_an_as4net_message) {
  std::string detail;
  auto files = ebms_files();
  auto set = schema_set::load(files, &detail);
  ASSERT_TRUE(set) << detail;
  auto d = document::parse(read_file(fixtures() / "as4/as4net/8.1.21-message.xml"));
  ASSERT_TRUE(d);
  xmlNodePtr messaging = find(d->root(), ns_eb, "Messaging");
  ASSERT_NE(messaging, nullptr);
  EXPECT_TRUE(set->validate(messaging, &detail)) << detail;

  auto broken = document::parse(replace(read_file(fixtures() / "as4/as4net/8.1.21-message.xml"),
                                        "<eb3:MessageId>", "<eb3:Surprise/><eb3:MessageId>"));
  ASSERT_TRUE(broken);
  auto r = set->validate(find(broken->root(), ns_eb, "Messaging"), &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::schema_invalid);
}

TEST(schema_set, import_of_a_namespace_not_given_is_refused) {
  // The assertion schema imports xmldsig and xenc: without them the set does not load (instead
  // of fetching them from the schemaLocation URL).
  std::vector<std::filesystem::path> files{schemas() / "saml/saml-schema-assertion-2.0.xsd"};
  std::string detail;
  auto set = schema_set::load(files, &detail);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error(), errc::schema_unavailable);
  EXPECT_NE(detail.find("http://www.w3.org/2000/09/xmldsig#"), std::string::npos) << detail;
}

TEST(schema_set, url_schema_locations_resolve_to_the_given_files_only) {
  temp_dir tmp;
  // A schema importing a namespace by URL: mapped to the local file of that namespace.
  std::ofstream(tmp.path / "b.xsd") << "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' "
                                       "targetNamespace='urn:b'><xs:element name='b' "
                                       "type='xs:string'/></xs:schema>";
  std::ofstream(tmp.path / "a.xsd")
      << "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' xmlns:b='urn:b' "
         "targetNamespace='urn:a' elementFormDefault='qualified'><xs:import namespace='urn:b' "
         "schemaLocation='http://127.0.0.1:9/b.xsd'/><xs:element name='a'><xs:complexType>"
         "<xs:sequence><xs:element ref='b:b'/></xs:sequence></xs:complexType></xs:element>"
         "</xs:schema>";
  std::vector<std::filesystem::path> files{tmp.path / "a.xsd", tmp.path / "b.xsd"};
  std::string detail;
  auto set = schema_set::load(files, &detail);
  ASSERT_TRUE(set) << detail;
  auto d = document::parse("<a xmlns='urn:a'><b xmlns='urn:b'>x</b></a>");
  ASSERT_TRUE(d);
  EXPECT_TRUE(set->validate(d->get(), &detail)) << detail;
  // An xs:include of a URL is refused.
  std::ofstream(tmp.path / "c.xsd") << "<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' "
                                       "targetNamespace='urn:c'><xs:include "
                                       "schemaLocation='http://127.0.0.1:9/c2.xsd'/></xs:schema>";
  std::vector<std::filesystem::path> c{tmp.path / "c.xsd"};
  auto refused = schema_set::load(c, &detail);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::schema_unavailable);
}

TEST(schema_set, missing_file) {
  std::vector<std::filesystem::path> files{schemas() / "nope.xsd"};
  auto set = schema_set::load(files);
  ASSERT_FALSE(set);
  EXPECT_EQ(set.error(), errc::schema_unavailable);
}

}  // namespace
}  // namespace bbgw::xmlsec

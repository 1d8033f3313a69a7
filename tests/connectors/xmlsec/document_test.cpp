// Hardened parsing: every rule of document.hpp with the attack it stops.
#include "xmlsec/document.hpp"

#include "xmlsec/errc.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

error_code parse_error(std::string_view xml, parse_limits const& limits = {}) {
  auto d = document::parse(xml, limits);
  return d ? error_code() : d.error();
}

TEST(document, parses_plain_xml) {
  auto d = document::parse("<a xmlns='urn:x'><b>t</b></a>");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_TRUE(is(d->root(), "urn:x", "a"));
}

TEST(document, refuses_malformed) {
  EXPECT_EQ(parse_error("<a><b></a>"), errc::malformed_xml);
  EXPECT_EQ(parse_error(""), errc::malformed_xml);
  EXPECT_EQ(parse_error("<a xmlns:p='urn:x'><q:b/></a>"), errc::malformed_xml);  // unbound prefix
}

TEST(document, refuses_any_doctype) {
  EXPECT_EQ(parse_error("<!DOCTYPE a><a/>"), errc::doctype_forbidden);
  EXPECT_EQ(parse_error("<!DOCTYPE a [<!ELEMENT a ANY>]><a/>"), errc::doctype_forbidden);
}

TEST(document, refuses_billion_laughs_before_expanding) {
  // Each level references the previous ten times: 10^9 "lol"s if expanded.
  std::string xml = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol0 'lol'>";
  for (int i = 1; i < 10; ++i) {
    xml += "<!ENTITY lol" + std::to_string(i) + " '";
    for (int j = 0; j < 10; ++j) xml += "&lol" + std::to_string(i - 1) + ";";
    xml += "'>";
  }
  xml += "]><lolz>&lol9;</lolz>";
  EXPECT_EQ(parse_error(xml), errc::doctype_forbidden);
}

TEST(document, refuses_xxe_file_and_network) {
  EXPECT_EQ(parse_error("<!DOCTYPE a [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><a>&x;</a>"),
            errc::doctype_forbidden);
  EXPECT_EQ(parse_error("<!DOCTYPE a [<!ENTITY x SYSTEM 'http://127.0.0.1:9/x'>]><a>&x;</a>"),
            errc::doctype_forbidden);
  EXPECT_EQ(parse_error("<!DOCTYPE a SYSTEM 'http://127.0.0.1:9/a.dtd'><a/>"),
            errc::doctype_forbidden);
  EXPECT_EQ(parse_error("<!DOCTYPE a [<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;]><a/>"),
            errc::doctype_forbidden);
}

TEST(document, undeclared_entity_is_not_well_formed) {
  EXPECT_EQ(parse_error("<a>&x;</a>"), errc::malformed_xml);
}

TEST(document, xinclude_is_not_processed) {
  auto d = document::parse(
      "<a xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='/etc/passwd' "
      "parse='text'/></a>");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->serialise().find("root:"), std::string::npos);
  EXPECT_NE(find(d->root(), "http://www.w3.org/2001/XInclude", "include"), nullptr);
}

TEST(document, enforces_size_depth_and_node_limits) {
  parse_limits small;
  small.max_bytes = 10;
  EXPECT_EQ(parse_error("<a>0123456789</a>", small), errc::too_large);
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "<a>";
  for (int i = 0; i < 70; ++i) deep += "</a>";
  EXPECT_EQ(parse_error(deep), errc::too_deep);
  parse_limits few;
  few.max_nodes = 10;
  std::string wide = "<a>";
  for (int i = 0; i < 20; ++i) wide += "<b/>";
  wide += "</a>";
  EXPECT_EQ(parse_error(wide, few), errc::too_large);
  EXPECT_TRUE(document::parse(wide));
}

TEST(document, registers_ids_and_refuses_duplicates) {
  auto d = document::parse("<r xmlns='urn:x' ID='_1'><c ID='_2'/><c Id='_3'/></r>");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->find_id("_2"), nullptr);  // nothing is an ID until registered
  ASSERT_TRUE(d->register_ids(saml_id));
  EXPECT_EQ(d->find_id("_1"), d->root());
  ASSERT_NE(d->find_id("_2"), nullptr);
  EXPECT_EQ(d->find_id("_3"), nullptr);   // "Id" is not "ID"
  EXPECT_TRUE(d->register_ids(saml_id));  // again: same elements, no duplicate

  auto dup = document::parse("<r ID='_1'><c ID='_1'/></r>");
  ASSERT_TRUE(dup);
  auto r = dup->register_ids(saml_id);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::duplicate_id);
}

TEST(document, xml_id_is_not_an_id_unless_registered) {
  auto d = document::parse("<r><c xml:id='x'/></r>");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->find_id("x"), nullptr);
}

TEST(document, registers_namespaced_ids) {
  std::string xml = "<r xmlns:wsu='" + std::string(ns_wsu) + "'><b wsu:Id='body'/><c Id='x'/></r>";
  auto d = document::parse(xml);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->register_ids(wsu_id));
  ASSERT_NE(d->find_id("body"), nullptr);
  EXPECT_EQ(d->find_id("x"), nullptr);
}

TEST(document, text_of_refuses_comment_truncation) {
  auto d = document::parse(
      "<r><n>alice@evil.example<!-- -->.attacker</n><m>plain <![CDATA[and]]> text</m>"
      "<e><x/></e><p>a<?pi?>b</p></r>");
  ASSERT_TRUE(d);
  xmlNodePtr n = find(d->root(), "", "n");
  auto t = text_of(n);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), errc::unexpected_content);
  auto m = text_of(find(d->root(), "", "m"));
  ASSERT_TRUE(m);
  EXPECT_EQ(*m, "plain and text");
  EXPECT_FALSE(text_of(find(d->root(), "", "e")));
  EXPECT_FALSE(text_of(find(d->root(), "", "p")));
}

TEST(document, python3_saml_node_text_attack_is_caught_by_text_of) {
  auto xml = base64_file(fixtures() / "saml/python3-saml/response_node_text_attack.xml.base64");
  auto d = document::parse(xml);
  ASSERT_TRUE(d) << d.error().message();
  xmlNodePtr name_id = find(d->root(), "urn:oasis:names:tc:SAML:2.0:assertion", "NameID");
  ASSERT_NE(name_id, nullptr);
  EXPECT_FALSE(text_of(name_id));
}

TEST(document, attribute_helpers) {
  auto d = document::parse("<r xmlns:p='urn:p' a='1' p:b='2'><c/><c/><d/></r>");
  ASSERT_TRUE(d);
  EXPECT_EQ(attribute(d->root(), "a"), "1");
  EXPECT_EQ(attribute(d->root(), "b"), std::nullopt);
  EXPECT_EQ(attribute_ns(d->root(), "urn:p", "b"), "2");
  EXPECT_EQ(children(d->root(), "", "c").size(), 2u);
  EXPECT_FALSE(only_child(d->root(), "", "c"));
  auto one = only_child(d->root(), "", "d");
  ASSERT_TRUE(one);
  EXPECT_NE(*one, nullptr);
  auto none = only_child(d->root(), "", "z");
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, nullptr);
}

TEST(document, serialise_round_trips) {
  auto d = document::parse("<r a=\"1\"><c>x</c></r>");
  ASSERT_TRUE(d);
  EXPECT_NE(d->serialise().find("<r a=\"1\"><c>x</c></r>"), std::string::npos);
}

}  // namespace
}  // namespace bbgw::xmlsec

// The attack catalogue of issue 3, each case its own test, built by mutating real Responses of
// both nodes (pysaml2 and Lasso): the XSW1–XSW8 wrapping variants (Somorovsky et al., "On
// Breaking SAML", 2012), signature removal, an unsigned assertion beside a signed one, a signed
// assertion moved out of the way, comment injection, XXE and entity expansion, KeyInfo
// certificate and HMAC injection, RetrievalMethod, XSLT/XPath transforms and SHA-1 (re-signed
// with the node's real key by the xmlsec1 command line: a valid signature is not enough),
// expired / not-yet-valid conditions, several assertions, replay. Each refused Response answers
// 403, is counted under the rule that refused it, and changes nothing: no commit, no record, no
// event, no code; the pending login it names still completes with the genuine Response.
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <functional>

#include "saml_flow.hpp"

namespace bbgw::eid {
namespace {

using namespace test;

// ---- a little DOM surgery on the node's Response (test input, plain libxml2) ---------------
constexpr char const* samlp_ns = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr char const* saml_ns = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr char const* ds_ns = "http://www.w3.org/2000/09/xmldsig#";

struct dom {
  xmlDocPtr doc;
  explicit dom(std::string const& xml)
      : doc(xmlReadMemory(xml.data(), int(xml.size()), nullptr, nullptr, XML_PARSE_NONET)) {
    if (!doc) throw std::runtime_error("test input is not XML");
  }
  ~dom() { xmlFreeDoc(doc); }
  std::string str() const {
    xmlChar* out = nullptr;
    int n = 0;
    xmlDocDumpMemory(doc, &out, &n);
    std::string s(reinterpret_cast<char*>(out), n);
    xmlFree(out);
    return s;
  }
  xmlNodePtr root() const { return xmlDocGetRootElement(doc); }
};

bool is(xmlNodePtr n, char const* ns, char const* name) {
  return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, BAD_CAST ns) &&
         xmlStrEqual(n->name, BAD_CAST name);
}
xmlNodePtr child(xmlNodePtr p, char const* ns, char const* name) {
  for (auto c = p ? p->children : nullptr; c; c = c->next)
    if (is(c, ns, name)) return c;
  return nullptr;
}
xmlNodePtr find(xmlNodePtr p, char const* ns, char const* name) {
  for (auto c = p ? p->children : nullptr; c; c = c->next) {
    if (is(c, ns, name)) return c;
    if (auto f = find(c, ns, name)) return f;
  }
  return nullptr;
}
xmlNodePtr assertion_of_node(xmlNodePtr response) {
  return child(response, saml_ns, "Assertion");
}
xmlNodePtr assertion_of(dom& d) {
  return child(d.root(), saml_ns, "Assertion");
}
xmlNodePtr copy(xmlNodePtr n) {
  return xmlDocCopyNode(n, n->doc, 1);
}
void drop(xmlNodePtr n) {
  xmlUnlinkNode(n);
  xmlFreeNode(n);
}
void set(xmlNodePtr n, char const* attr, std::string const& v) {
  xmlSetProp(n, BAD_CAST attr, BAD_CAST v.c_str());
}
// The evil twin: same element, another ID, Mallory instead of Javier, no signature.
xmlNodePtr evil_copy(xmlNodePtr n, bool keep_id = false) {
  auto e = copy(n);
  if (!keep_id) set(e, "ID", "_evil");
  if (auto s = child(e, ds_ns, "Signature")) drop(s);
  std::function<void(xmlNodePtr)> walk = [&](xmlNodePtr p) {
    for (auto c = p->children; c; c = c->next) {
      if (c->type == XML_TEXT_NODE && xmlStrEqual(c->content, BAD_CAST "Javier"))
        xmlNodeSetContent(c, BAD_CAST "Mallory");
      walk(c);
    }
  };
  walk(e);
  return e;
}
// Makes `n` the evil one in place (the ID stays).
void make_evil(xmlNodePtr n) {
  std::function<void(xmlNodePtr)> walk = [&](xmlNodePtr p) {
    for (auto c = p->children; c; c = c->next) {
      if (c->type == XML_TEXT_NODE && xmlStrEqual(c->content, BAD_CAST "Javier"))
        xmlNodeSetContent(c, BAD_CAST "Mallory");
      walk(c);
    }
  };
  walk(n);
}

struct attack {
  std::string name;
  std::string node_opts;  // how the node signs: "--sign assertion", ...
  // Mutates the Response (as XML text); `env` gives the test's files (keys, node key).
  std::function<std::string(std::string const&, node_flow&)> mutate;
  std::vector<std::string> rules;  // the rule that refuses it (any of these)
};

// Re-signs the first ds:Signature of the Response with the xmlsec1 command line: blanks
// DigestValue/SignatureValue, applies `edit` to the SignedInfo text, signs with `key_args`.
std::string resign(std::string xml, node_flow& f, std::string const& key_args,
                   std::function<void(xmlNodePtr sig)> edit) {
  dom d(xml);
  auto sig = find(d.root(), ds_ns, "Signature");
  if (!sig) throw std::runtime_error("no signature to re-sign");
  edit(sig);
  xmlNodeSetContent(find(sig, ds_ns, "DigestValue"), nullptr);
  xmlNodeSetContent(find(sig, ds_ns, "SignatureValue"), nullptr);
  std::ofstream(f.keys.f("tmpl.xml")) << d.str();
  auto id_attr = std::string(" --id-attr:ID ") + samlp_ns + ":Response --id-attr:ID " + saml_ns +
                 ":Assertion ";
  test::sh("xmlsec1 --sign " + key_args + id_attr + " --output " + f.keys.f("signed.xml") + " " +
           f.keys.f("tmpl.xml"));
  std::ifstream in(f.keys.f("signed.xml"));
  return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string node_key(node_flow& f) {
  return "--privkey-pem " + f.keys.f("idp.key");
}
void set_alg(xmlNodePtr sig, char const* element, std::string const& uri) {
  set(find(sig, ds_ns, element), "Algorithm", uri);
}
void add_transform(xmlNodePtr sig, std::string const& uri, char const* body) {
  auto transforms = find(sig, ds_ns, "Transforms");
  auto t = xmlNewChild(transforms, transforms->ns, BAD_CAST "Transform", nullptr);
  set(t, "Algorithm", uri);
  if (body) {
    xmlNodePtr parsed = nullptr;
    xmlParseInNodeContext(t, body, int(strlen(body)), 0, &parsed);
    if (parsed) xmlAddChildList(t, parsed);
  }
}

std::vector<attack> catalogue() {
  using S = std::string const&;
  return {
      // XSW1: a new Response (evil assertion) whose Signature carries the original Response
      // (in a ds:Object, so the schema allows it): the reference check refuses it.
      {"XSW1",
       "--sign response",
       [](S x, node_flow&) {
         dom d(x);
         auto orig = d.root();
         auto evil = copy(orig);
         set(evil, "ID", "_evil");
         make_evil(evil);
         set(assertion_of_node(evil), "ID", "_evil_assertion");  // no duplicate IDs
         auto sig = child(evil, ds_ns, "Signature");
         auto moved = copy(orig);
         drop(child(moved, ds_ns, "Signature"));
         auto obj = xmlNewChild(sig, sig->ns, BAD_CAST "Object", nullptr);
         xmlAddChild(obj, moved);
         xmlDocSetRootElement(d.doc, evil);
         xmlFreeNode(orig);
         return d.str();
       },
       {"response_signature"}},
      // XSW2: the same with the original Response as a sibling before the Signature: not a
      // place the protocol schema allows.
      {"XSW2",
       "--sign response",
       [](S x, node_flow&) {
         dom d(x);
         auto orig = d.root();
         auto evil = copy(orig);
         set(evil, "ID", "_evil");
         make_evil(evil);
         set(assertion_of_node(evil), "ID", "_evil_assertion");  // no duplicate IDs
         auto sig = child(evil, ds_ns, "Signature");
         auto moved = copy(orig);
         drop(child(moved, ds_ns, "Signature"));
         xmlAddPrevSibling(sig, moved);
         xmlDocSetRootElement(d.doc, evil);
         xmlFreeNode(orig);
         return d.str();
       },
       {"schema"}},
      // XSW3: an unsigned evil Assertion before the signed one.
      {"XSW3",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         xmlAddPrevSibling(a, evil_copy(a));
         return d.str();
       },
       {"one_assertion"}},
      // XSW4: the evil Assertion wraps the signed one.
      {"XSW4",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto evil = evil_copy(a);
         xmlAddPrevSibling(a, evil);
         xmlUnlinkNode(a);
         xmlAddChild(evil, a);
         return d.str();
       },
       {"schema"}},
      // XSW5: the signed Assertion's values changed; a clean copy (same ID) at the end.
      {"XSW5",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto clean = copy(a);
         drop(child(clean, ds_ns, "Signature"));
         make_evil(a);
         xmlAddChild(d.root(), clean);
         return d.str();
       },
       {"parse"}},
      // XSW6: the evil Assertion (original ID) keeps the Signature, which holds the original.
      {"XSW6",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto clean = copy(a);
         drop(child(clean, ds_ns, "Signature"));
         make_evil(a);
         xmlAddChild(child(a, ds_ns, "Signature"), clean);
         return d.str();
       },
       {"parse"}},
      // XSW7: the original in samlp:Extensions (lax: schema-valid), the evil one signed in place.
      {"XSW7",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto ext = xmlNewNode(nullptr, BAD_CAST "Extensions");
         xmlSetNs(ext, xmlSearchNsByHref(d.doc, d.root(), BAD_CAST samlp_ns));
         auto clean = copy(a);
         drop(child(clean, ds_ns, "Signature"));
         set(clean, "ID", "_orig_copy");
         xmlAddChild(ext, clean);
         xmlAddNextSibling(child(d.root(), saml_ns, "Issuer"), ext);
         make_evil(a);
         return d.str();
       },
       {"assertion_signature"}},
      // XSW8: the original (no signature) inside a ds:Object of the evil Assertion's Signature.
      {"XSW8",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto clean = copy(a);
         drop(child(clean, ds_ns, "Signature"));
         make_evil(a);
         auto sig = child(a, ds_ns, "Signature");
         auto obj = xmlNewChild(sig, sig->ns, BAD_CAST "Object", nullptr);
         xmlAddChild(obj, clean);
         return d.str();
       },
       {"parse"}},
      {"signature_removed",
       "--sign both",
       [](S x, node_flow&) {
         dom d(x);
         drop(child(d.root(), ds_ns, "Signature"));
         drop(child(assertion_of(d), ds_ns, "Signature"));
         return d.str();
       },
       {"assertion_signature"}},
      {"unsigned_assertion_beside_signed",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         xmlAddNextSibling(a, evil_copy(a));
         return d.str();
       },
       {"one_assertion"}},
      // The signed Assertion moved into samlp:Extensions of the unsigned Response; an unsigned
      // evil Assertion where the SP looks.
      {"signed_assertion_wrapped_elsewhere",
       "--sign assertion",
       [](S x, node_flow&) {
         dom d(x);
         auto a = assertion_of(d);
         auto evil = evil_copy(a);
         xmlAddNextSibling(a, evil);
         xmlUnlinkNode(a);
         auto ext = xmlNewNode(nullptr, BAD_CAST "Extensions");
         xmlSetNs(ext, xmlSearchNsByHref(d.doc, d.root(), BAD_CAST samlp_ns));
         xmlAddChild(ext, a);
         xmlAddNextSibling(child(d.root(), saml_ns, "Issuer"), ext);
         return d.str();
       },
       {"assertion_signature"}},
      // Exclusive c14n drops comments, so the signatures still verify: the text reading
      // refuses it.
      {"comment_in_name_id",
       "--sign both",
       [](S x, node_flow&) {
         dom d(x);
         auto id = find(d.root(), saml_ns, "NameID");
         auto text = reinterpret_cast<char const*>(id->children->content);
         std::string head(text, 4), tail(text + 4);
         xmlNodeSetContent(id, BAD_CAST head.c_str());
         xmlAddChild(id, xmlNewComment(BAD_CAST ""));
         xmlAddChild(id, xmlNewText(BAD_CAST tail.c_str()));
         return d.str();
       },
       {"subject_confirmation"}},
      {"comment_in_attribute_value",
       "--sign both",
       [](S x, node_flow&) {
         auto s = x;
         s.replace(s.find(">Javier<"), 8, ">Jav<!-- -->ier<");
         return s;
       },
       {"attributes"}},
      {"xxe_file",
       "--sign both",
       [](S x, node_flow&) {
         auto s = x;
         auto root = s.find("Response");
         s.insert(s.rfind('<', root), "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>");
         s.replace(s.find(">Javier<"), 8, ">&x;<");
         return s;
       },
       {"parse"}},
      {"entity_expansion",
       "--sign both",
       [](S x, node_flow&) {
         auto s = x;
         auto root = s.find("Response");
         std::string dtd = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">";
         for (char c = 'b'; c <= 'j'; ++c) {  // billion laughs: 10^9 a's if expanded
           dtd += std::string("<!ENTITY ") + c + " \"";
           for (int i = 0; i < 10; ++i) dtd += std::string("&") + char(c - 1) + ";";
           dtd += "\">";
         }
         dtd += "]>";
         s.insert(s.rfind('<', root), dtd);
         s.replace(s.find(">Javier<"), 8, ">&j;<");
         return s;
       },
       {"parse"}},
      // An attacker's key signs a changed Response and brings its certificate in KeyInfo.
      {"keyinfo_certificate_injection",
       "--sign response",
       [](S x, node_flow& f) {
         test::sh("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=mallory -keyout " +
                  f.keys.f("mallory.key") + " -out " + f.keys.f("mallory.crt"));
         dom d(x);
         make_evil(d.root());
         auto x509 = find(child(d.root(), ds_ns, "Signature"), ds_ns, "X509Data");
         while (x509->children) drop(x509->children);  // xmlsec1 puts mallory's cert here
         return resign(d.str(), f,
                       "--privkey-pem " + f.keys.f("mallory.key") + "," + f.keys.f("mallory.crt"),
                       [](xmlNodePtr) {});
       },
       {"response_signature"}},
      // HMAC keyed with the node's public certificate (which the attacker knows).
      {"hmac_injection",
       "--sign response",
       [](S x, node_flow& f) {
         test::sh("openssl x509 -in " + f.keys.f("idp.crt") + " -outform DER -out " +
                  f.keys.f("idp.der"));
         dom d(x);
         make_evil(d.root());
         return resign(d.str(), f, "--hmackey " + f.keys.f("idp.der"), [](xmlNodePtr sig) {
           set_alg(sig, "SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256");
           if (auto ki = child(sig, ds_ns, "KeyInfo")) drop(ki);
         });
       },
       {"response_signature"}},
      // RetrievalMethod in the Signature's KeyInfo (unsigned): pointing at the network.
      {"retrieval_method",
       "--sign response",
       [](S x, node_flow&) {
         dom d(x);
         auto ki = find(child(d.root(), ds_ns, "Signature"), ds_ns, "KeyInfo");
         auto rm = xmlNewChild(ki, ki->ns, BAD_CAST "RetrievalMethod", nullptr);
         set(rm, "URI", "http://127.0.0.1:9/key.der");
         set(rm, "Type", "http://www.w3.org/2000/09/xmldsig#rawX509Certificate");
         return d.str();
       },
       {"response_signature"}},
      // The node's real key, but an XSLT transform in the reference.
      {"xslt_transform",
       "--sign response",
       [](S x, node_flow& f) {
         return resign(x, f, node_key(f), [](xmlNodePtr sig) {
           add_transform(sig, "http://www.w3.org/TR/1999/REC-xslt-19991116",
                         "<xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" "
                         "version=\"1.0\"><xsl:template match=\"/\"><xsl:copy-of "
                         "select=\".\"/></xsl:template></xsl:stylesheet>");
         });
       },
       {"response_signature"}},
      {"xpath_transform",
       "--sign response",
       [](S x, node_flow& f) {
         return resign(x, f, node_key(f), [](xmlNodePtr sig) {
           add_transform(sig, "http://www.w3.org/TR/1999/REC-xpath-19991116",
                         "<ds:XPath xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"
                         "not(ancestor-or-self::ds:Signature)</ds:XPath>");
         });
       },
       {"response_signature"}},
      // Downgrade: the node's real key with RSA-SHA1 and a SHA-1 digest.
      {"sha1_downgrade",
       "--sign response",
       [](S x, node_flow& f) {
         return resign(x, f, node_key(f), [](xmlNodePtr sig) {
           set_alg(sig, "SignatureMethod", "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
           set_alg(sig, "DigestMethod", "http://www.w3.org/2000/09/xmldsig#sha1");
         });
       },
       {"response_signature"}},
      {"wrong_destination",
       "--sign both",
       [](S x, node_flow&) {
         dom d(x);
         set(d.root(), "Destination", "https://evil.example/acs");
         return d.str();
       },
       {"destination"}},
      // The node's real key on a Response for another SP (Audience, Recipient changed).
      {"wrong_audience",
       "--sign response",
       [](S x, node_flow& f) {
         dom d(x);
         if (auto sig = child(assertion_of(d), ds_ns, "Signature")) drop(sig);
         xmlNodeSetContent(find(d.root(), saml_ns, "Audience"),
                           BAD_CAST "https://other.example/metadata");
         return resign(d.str(), f, node_key(f), [](xmlNodePtr) {});
       },
       {"audience"}},
      {"wrong_recipient",
       "--sign response",
       [](S x, node_flow& f) {
         dom d(x);
         if (auto sig = child(assertion_of(d), ds_ns, "Signature")) drop(sig);
         set(find(d.root(), saml_ns, "SubjectConfirmationData"), "Recipient",
             "https://evil.example/acs");
         return resign(d.str(), f, node_key(f), [](xmlNodePtr) {});
       },
       {"subject_confirmation"}},
  };
}

struct attack_case {
  std::string node;  // "pysaml2" | "lasso"
  attack a;
};
void PrintTo(attack_case const& c, std::ostream* os) {
  *os << c.node << "_" << c.a.name;
}

struct Attack : node_flow, ::testing::WithParamInterface<attack_case> {
  Attack() : node_flow(GetParam().node == "lasso" ? lasso_script : pysaml2_script) {}

  // Lasso always signs its Assertion: "--sign response" becomes both there.
  std::string opts(std::string o) {
    if (GetParam().node == "lasso" && o == "--sign response") return "--sign both";
    return o;
  }
  void expect_refused_and_nothing_changed(std::string const& req, std::string const& bad,
                                          std::vector<std::string> const& rules) {
    auto before = state();
    auto r = post_acs(base64_encode(bad));
    EXPECT_EQ(r.status, 403u) << why();
    EXPECT_EQ(r.headers.get("Location"), std::nullopt);
    double n = 0;
    for (auto const& rl : rules) n += rejected(rl);
    EXPECT_EQ(n, 1) << why();
    EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 1);
    EXPECT_EQ(state(), before);  // no commit, no record, no event, no code
    EXPECT_FALSE(svc.log.mentions("Mallory"));
    // The pending login was not burnt: the genuine answer still completes it.
    EXPECT_EQ(post_acs(node_response(req)).status, 302u) << why();
  }
};

TEST_P(Attack, IsRefusedAndChangesNothing) {
  auto const& k = GetParam().a;
  auto req = start();
  auto xml = xml_of(node_response(req, opts(k.node_opts)));
  ASSERT_FALSE(xml.empty());
  auto bad = k.mutate(xml, *this);
  ASSERT_NE(bad, xml) << "mutation did not apply";
  expect_refused_and_nothing_changed(req, bad, k.rules);
}

std::vector<attack_case> cases() {
  std::vector<attack_case> out;
  for (auto node : {"pysaml2", "lasso"})
    for (auto& a : catalogue()) out.push_back({node, a});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Eid, Attack, ::testing::ValuesIn(cases()), [](auto const& info) {
  return info.param.node + "_" + info.param.a.name;
});

// ---- attacks that need more than one Response or the clock ---------------------------------

struct Pysaml2Attack : node_flow {
  Pysaml2Attack() : node_flow(pysaml2_script) {}
};
struct LassoAttack : node_flow {
  LassoAttack() : node_flow(lasso_script) {}
};

// Two genuinely signed Assertions (two answers of the node to the same request) in one Response.
template <class F>
void multiple_assertions(F& f) {
  auto req = f.start();
  auto one = f.xml_of(f.node_response(req, "--sign assertion"));
  auto two = f.xml_of(f.node_response(req, "--sign assertion"));
  dom d1(one), d2(two);
  auto second = xmlDocCopyNode(assertion_of(d2), d1.doc, 1);
  // pysaml2 names both signatures "Signature2" (an xs:ID): rename, outside what is signed.
  if (auto sig = child(second, ds_ns, "Signature"); sig && xmlHasProp(sig, BAD_CAST "Id"))
    set(sig, "Id", "Signature3");
  xmlAddNextSibling(assertion_of(d1), second);
  auto before = f.state();
  auto r = f.post_acs(base64_encode(d1.str()));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(f.rejected("one_assertion"), 1) << f.why();
  EXPECT_EQ(f.state(), before);
}
TEST_F(Pysaml2Attack, MultipleSignedAssertions) {
  multiple_assertions(*this);
}
TEST_F(LassoAttack, MultipleSignedAssertions) {
  multiple_assertions(*this);
}

// The same Response twice: the second is refused and changes nothing.
template <class F>
void replay(F& f) {
  auto b64 = f.node_response(f.start());
  ASSERT_EQ(f.post_acs(b64).status, 302u) << f.why();
  auto before = f.state();
  EXPECT_EQ(f.post_acs(b64).status, 403u);
  EXPECT_EQ(f.rejected("in_response_to"), 1);
  EXPECT_EQ(f.state(), before);
}
TEST_F(Pysaml2Attack, Replay) {
  replay(*this);
}
TEST_F(LassoAttack, Replay) {
  replay(*this);
}

// Both nodes give 5 minutes; the skew is 60 s.
template <class F>
void expired(F& f) {
  auto b64 = f.node_response(f.start());
  // From the node's (real) clock: the node may have taken seconds to answer.
  f.svc.clock.set(std::chrono::system_clock::now() + std::chrono::minutes(6) +
                  std::chrono::seconds(1));
  auto before = f.state();
  EXPECT_EQ(f.post_acs(b64).status, 403u);
  // SubjectConfirmationData and Conditions expire together; the earlier rule names it.
  EXPECT_EQ(f.rejected("subject_confirmation"), 1) << f.why();
  EXPECT_EQ(f.state(), before);
}
TEST_F(Pysaml2Attack, ExpiredConditions) {
  expired(*this);
}
TEST_F(LassoAttack, ExpiredConditions) {
  expired(*this);
}

template <class F>
void not_yet_valid(F& f) {
  auto b64 = f.node_response(f.start());
  f.svc.clock.set(std::chrono::system_clock::now() - std::chrono::minutes(3));
  auto before = f.state();
  EXPECT_EQ(f.post_acs(b64).status, 403u);
  EXPECT_EQ(f.rejected("conditions"), 1) << f.why();
  EXPECT_EQ(f.state(), before);
}
TEST_F(Pysaml2Attack, NotYetValidConditions) {
  not_yet_valid(*this);
}
TEST_F(LassoAttack, NotYetValidConditions) {
  not_yet_valid(*this);
}

// An unsigned non-success answer cannot end someone's login (no event, pending login kept).
TEST_F(Pysaml2Attack, UnsignedErrorResponseChangesNothing) {
  auto req = start();
  dom d(xml_of(node_response(req, "--status AuthnFailed")));
  drop(child(d.root(), ds_ns, "Signature"));
  auto before = state();
  EXPECT_EQ(post_acs(base64_encode(d.str())).status, 403u);
  EXPECT_EQ(rejected("status"), 1) << why();
  EXPECT_EQ(state(), before);
  EXPECT_EQ(post_acs(node_response(req)).status, 302u) << why();
}

}  // namespace
}  // namespace bbgw::eid

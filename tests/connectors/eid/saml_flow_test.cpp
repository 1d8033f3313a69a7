// The SAML side against pysaml2 (python3-pysaml2) as the eIDAS node, in process: our signed SP
// metadata and signed AuthnRequest are read and checked by pysaml2, its signed Responses go
// through the ACS rules, and the OIDC code flow finishes. Then pysaml2's real Responses are
// mutated into attacks, each refused by the rule that names it.
#include "saml_flow.hpp"

namespace bbgw::eid {
namespace {

namespace json = boost::json;
using namespace test;

struct SamlFlow : node_flow {
  SamlFlow() : node_flow(pysaml2_script) {}
};

TEST_F(SamlFlow, AuthnRequestCarriesTheEidasElements) {
  auto xml = xml_of(start("&acr_values=http%3A%2F%2Feidas.europa.eu%2FNotNotified%2FLoA%2Fhigh"));
  for (auto s :
       {"ForceAuthn=\"true\"", "IsPassive=\"false\"",
        "Destination=\"https://node.example/sso/post\"",
        "<saml2:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">"
        "https://gw.example/eid/metadata</saml2:Issuer>",
        "<eidas:SPType>public</eidas:SPType>",
        "Name=\"http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier\" "
        "NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\" isRequired=\"true\"",
        "AllowCreate=\"true\"", "Comparison=\"exact\"",
        "http://eidas.europa.eu/NotNotified/LoA/high", "<ds:Signature",
        "AssertionConsumerServiceURL=\"https://gw.example/eid/acs\""})
    EXPECT_NE(xml.find(s), std::string::npos) << s << "\n" << xml;
}

// pysaml2 (want_authn_requests_signed) checks our signature with the key of our metadata: the
// untouched request is answered, a tampered one is not.
TEST_F(SamlFlow, Pysaml2VerifiesOurAuthnRequestSignature) {
  auto req = start();
  EXPECT_FALSE(node_response(req).empty());
  auto xml = xml_of(req);
  // A change nothing but the signature notices.
  xml.replace(xml.find("FriendlyName=\"FamilyName\""), 26, "FriendlyName=\"FamilyNamX\"");
  EXPECT_TRUE(node_response(base64_encode(xml) + " 2>/dev/null").empty());
}

TEST_F(SamlFlow, SpMetadataIsSignedAndComplete) {
  std::ifstream in(sp_metadata_file);
  std::string md((std::istreambuf_iterator<char>(in)), {});
  for (auto s : {"entityID=\"https://gw.example/eid/metadata\"", "use=\"signing\"",
                 "use=\"encryption\"", "<eidas:SPType>public</eidas:SPType>", "alg:SigningMethod",
                 "alg:DigestMethod", "md:EncryptionMethod", "AuthnRequestsSigned=\"true\"",
                 "Location=\"https://gw.example/eid/acs\"", "<ds:SignatureValue>"})
    EXPECT_NE(md.find(s), std::string::npos) << s;
  // Verified by xmlsec1's command line with our certificate (an independent verifier).
  EXPECT_EQ(std::system(("xmlsec1 --verify --pubkey-cert-pem " + keys.f("sp-sign.crt") +
                         " --id-attr:ID urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor " +
                         sp_metadata_file + " >/dev/null 2>&1")
                            .c_str()),
            0);
}

TEST_F(SamlFlow, SignedResponseFromPysaml2CompletesTheCodeFlow) {
  auto b64 = node_response(start());
  ASSERT_FALSE(b64.empty());
  auto r = post_acs(b64);
  ASSERT_EQ(r.status, 302u) << r.body << "\n" << svc.log.lines().back().fields.size();
  auto id = redeem(r);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(id.at("given_name"), "Javier");
  EXPECT_EQ(id.at("family_name"), "Garcia");
  EXPECT_EQ(id.at("acr"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(id.at("sub"), json::value(pairwise_subject("0123456789abcdef-pairwise", "spa.example",
                                                       "ES/DE/99999999R")));
  auto ev = svc.db.outbox().back();
  EXPECT_EQ(ev.type, succeeded_type);
  EXPECT_EQ(ev.data.as_object().at("country"), "ES");
  // Replaying the same Response is refused.
  auto again = post_acs(b64);
  EXPECT_EQ(again.status, 403u);
  EXPECT_EQ(rejected("in_response_to"), 1);
  EXPECT_FALSE(svc.log.mentions("Javier"));
  EXPECT_FALSE(svc.log.mentions("99999999R"));
}

// The ACS form: only one SAMLResponse, every escape well-formed; a refused form leaves the
// pending login usable, and the same Response posted properly then completes it.
TEST_F(SamlFlow, AcsFormIsStrictAboutSamlResponse) {
  auto b64 = node_response(start());
  ASSERT_FALSE(b64.empty());
  auto post_body = [&](std::string body) {
    request r;
    r.method = "POST";
    r.request_id = "acs-form";
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    r.body = std::move(body);
    return conn->sp().acs(r);
  };
  auto const field = "SAMLResponse=" + form_encode(b64);
  EXPECT_EQ(post_body(field + "&" + field).status, 403u);
  EXPECT_NE(why().find("SAMLResponse repeated"), std::string::npos) << why();
  EXPECT_EQ(post_body(field + "&RelayState=%zz").status, 403u);
  EXPECT_EQ(post_body("RelayState=x").status, 403u);
  EXPECT_EQ(post_body("SAMLResponse=" + form_encode(b64.substr(1))).status, 403u);
  EXPECT_EQ(rejected("parse"), 4);
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 4);
  EXPECT_NE(why().find("not base64"), std::string::npos) << why();
  // '+' is a space in a form, and base64 skips whitespace: the same Response, split by '+'.
  auto split = form_encode(b64.substr(0, 40)) + "+" + form_encode(b64.substr(40));
  auto ok = post_body("RelayState=x&SAML%52esponse=" + split);
  EXPECT_EQ(ok.status, 302u) << ok.body << why();
}

// Even if the one-time request store were fooled (the pending login put back), the assertion id
// cache refuses a second use of the same Assertion.
TEST_F(SamlFlow, AssertionIdsAreAcceptedOnce) {
  auto req = start();
  auto b64 = node_response(req);
  auto id = between(xml_of(b64), "InResponseTo=\"", "\"");
  auto pending = svc.db.get(requests_ns, id);
  ASSERT_TRUE(pending && *pending);
  ASSERT_EQ(post_acs(b64).status, 302u) << why();
  ASSERT_TRUE(svc.db
                  .transact([&](unit_of_work& u) -> result<void> {
                    return u.put(requests_ns, id, **pending);
                  })
                  .has_value());
  EXPECT_EQ(post_acs(b64).status, 403u);
  EXPECT_EQ(rejected("replay"), 1);
}

// The node metadata is reloaded after refresh_interval; a new file that the trust anchor did not
// sign is refused and the verified one stays in use.
TEST_F(SamlFlow, RefreshRefusesMetadataTheAnchorDidNotSign) {
  auto cfg = conn->config();
  cfg.node.refresh_interval = std::chrono::seconds(1);
  eid_connector refreshing(cfg, svc.ctx);
  request r;
  r.method = "GET";
  r.query =
      "client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&response_type=code"
      "&scope=openid+profile&code_challenge=" +
      challenge + "&code_challenge_method=S256";
  auto form = refreshing.front().authorize(r).body;
  auto b64 = node_response(between(form, "name=\"SAMLRequest\" value=\"", "\""));
  // The node's files are replaced by ones under a new key (not the configured anchor's).
  test::sh("/usr/bin/python3 " + script + " setup " + keys.dir.path().string() +
           " https://node.example");
  svc.clock.advance(std::chrono::seconds(2));
  auto done = refreshing.sp().acs([&] {
    request a;
    a.method = "POST";
    a.body = "SAMLResponse=" + form_encode(b64);
    return a;
  }());
  EXPECT_EQ(done.status, 302u) << why();
  EXPECT_TRUE(svc.log.contains("eid: node metadata refresh refused"));
}

TEST_F(SamlFlow, OnlyTheAssertionSignedIsAccepted) {
  EXPECT_EQ(post_acs(node_response(start(), "--sign assertion")).status, 302u);
}

TEST_F(SamlFlow, OnlyTheResponseSignedIsAccepted) {
  EXPECT_EQ(post_acs(node_response(start(), "--sign response")).status, 302u);
}

// pysaml2 signs the assertion, encrypts it (AES-256-GCM, RSA-OAEP-MGF1P to the encryption
// certificate of our metadata) and signs the Response around it.
TEST_F(SamlFlow, SignedAndEncryptedResponseIsAccepted) {
  auto b64 = node_response(start(), "--sign both --encrypt gcm");
  ASSERT_NE(xml_of(b64).find("EncryptedAssertion"), std::string::npos);
  auto r = post_acs(b64);
  EXPECT_EQ(r.status, 302u) << r.body << why();
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 0);
  // Both of pysaml2's signatures (Response, decrypted Assertion) by the direct path.
  EXPECT_EQ(svc.stats.value("bbgw_eid_signatures_verified_total", {{"path", "direct"}}), 2);
  EXPECT_EQ(svc.stats.value("bbgw_eid_signatures_verified_total", {{"path", "xmlsec"}}), 0);
}

// xmlenc11#rsa-oaep with an explicit xenc11:MGF (mgf1sha256): the Response passes the schema rule
// only because schemas/xsd/saml/xenc-schema-11.xsd declares xenc11:MGF (EncryptionMethod's
// xs:any is strict), and is accepted end to end.
TEST_F(SamlFlow, Xenc11RsaOaepEncryptedResponseIsAccepted) {
  auto b64 = node_response(start(), "--sign both --encrypt gcm-xenc11");
  auto xml = xml_of(b64);
  ASSERT_NE(xml.find("xenc11:MGF"), std::string::npos);
  ASSERT_NE(xml.find("http://www.w3.org/2009/xmlenc11#rsa-oaep\""), std::string::npos);
  auto r = post_acs(b64);
  EXPECT_EQ(r.status, 302u) << why();
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 0);
}

// Malformed xenc11 elements in the same Response fail the schema rule (before any signature or
// key is used) and change nothing.
struct Xenc11Malformed : SamlFlow,
                         ::testing::WithParamInterface<std::pair<std::string, std::string>> {};
TEST_P(Xenc11Malformed, FailsTheSchemaRule) {
  auto xml = xml_of(node_response(start(), "--sign both --encrypt gcm-xenc11"));
  auto const& [from, to] = GetParam();
  auto p = xml.find(from);
  ASSERT_NE(p, std::string::npos);
  xml.replace(p, from.size(), to);
  auto before = state();
  EXPECT_EQ(post_acs(base64_encode(xml)).status, 403u);
  EXPECT_EQ(rejected("schema"), 1) << why();
  EXPECT_EQ(state(), before);
}
INSTANTIATE_TEST_SUITE_P(
    Eid, Xenc11Malformed,
    ::testing::Values(
        // MGF without its required Algorithm.
        std::pair<std::string, std::string>{
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"/>", "/>"},
        // MGF with a child MGFType does not allow.
        std::pair<std::string, std::string>{
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"/>",
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"><xenc11:Salt/></xenc11:MGF>"},
        // An element xenc11 does not declare.
        std::pair<std::string, std::string>{"<xenc11:MGF ", "<xenc11:MGFX "}));

// Algorithm downgrade: the same with AES-CBC is refused by the eIDAS policy.
TEST_F(SamlFlow, CbcEncryptedAssertionIsRefused) {
  auto r = post_acs(node_response(start(), "--sign both --encrypt cbc"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(rejected("decrypt"), 1);
}

TEST_F(SamlFlow, UnsignedResponseIsRefused) {
  auto r = post_acs(node_response(start(), "--sign none"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(rejected("assertion_signature"), 1);
}

TEST_F(SamlFlow, NonSuccessStatusShowsAPageAndEmitsLoginFailed) {
  auto r = post_acs(node_response(start(), "--status AuthnFailed"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(r.body.find("authentication with your national eID failed"), std::string::npos);
  auto ev = svc.db.outbox().back();
  EXPECT_EQ(ev.type, failed_type);
  EXPECT_EQ(ev.data.as_object().at("reason"), "AuthnFailed");
  EXPECT_EQ(ev.data.as_object().at("client_id"), "spa");
}

TEST_F(SamlFlow, LowerLoaThanRequestedIsRefused) {
  auto r = post_acs(node_response(start(), "--loa http://eidas.europa.eu/LoA/low"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(rejected("level_of_assurance"), 1);
}

TEST_F(SamlFlow, MissingRequiredAttributeIsRefused) {
  auto r = post_acs(
      node_response(start(), "--omit http://eidas.europa.eu/attributes/naturalperson/DateOfBirth"));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(rejected("attributes"), 1);
}

// HTTP-Redirect binding: DEFLATE + base64 SAMLRequest, RelayState, SigAlg, and a Signature over
// exactly that query string, verified here by the openssl command line with our certificate.
TEST_F(SamlFlow, RedirectBindingSignsTheExactQueryString) {
  auto cfg = conn->config();
  cfg.sp.binding = "redirect";
  eid_connector redirecting(cfg, svc.ctx);
  request r;
  r.method = "GET";
  r.query =
      "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
      "&scope=openid";
  auto resp = redirecting.front().authorize(r);
  ASSERT_EQ(resp.status, 302u) << resp.body;
  auto loc = std::string(*resp.headers.get("Location"));
  ASSERT_TRUE(loc.starts_with("https://node.example/sso/redirect?SAMLRequest=")) << loc;
  auto query = loc.substr(loc.find('?') + 1);
  auto sig_at = query.find("&Signature=");
  ASSERT_NE(sig_at, std::string::npos);
  auto signed_part = query.substr(0, sig_at);
  EXPECT_NE(signed_part.find("&RelayState="), std::string::npos);
  EXPECT_TRUE(signed_part.ends_with(
      "&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"));
  auto sig = base64_decode(*form_decode(query.substr(sig_at + 11)));
  ASSERT_TRUE(sig);
  std::ofstream(keys.f("q.txt"), std::ios::binary) << signed_part;
  std::ofstream(keys.f("q.sig"), std::ios::binary) << *sig;
  test::sh("openssl x509 -in " + keys.f("sp-sign.crt") + " -pubkey -noout -out " +
           keys.f("sp.pub"));
  EXPECT_EQ(std::system(("openssl dgst -sha256 -verify " + keys.f("sp.pub") + " -signature " +
                         keys.f("q.sig") + " " + keys.f("q.txt") + " >/dev/null 2>&1")
                            .c_str()),
            0);
  // The SAMLRequest inflates to an unsigned AuthnRequest (the signature is in the query).
  auto f = *parse_form(signed_part);
  auto xml = inflate_raw(*base64_decode(f[0].second), 1 << 20);
  ASSERT_TRUE(xml);
  EXPECT_NE(xml->find("Destination=\"https://node.example/sso/redirect\""), std::string::npos);
  EXPECT_EQ(xml->find("Signature"), std::string::npos);
}

// node.metadata_url: fetched through the gateway's http_client (allow-listed in config), verified
// like a file.
TEST_F(SamlFlow, MetadataFromAnAllowListedUrl) {
  struct served final : http_client {
    std::string body;
    std::vector<std::string> urls;
    result<client_response> send(client_request const& r) override {
      urls.push_back(r.url);
      client_response c;
      c.status = 200;
      c.body = body;
      return c;
    }
  } http;
  std::ifstream in(keys.f("idp-metadata.xml"));
  http.body.assign(std::istreambuf_iterator<char>(in), {});
  connector_context ctx{svc.db,  svc.sink, svc.clock,           svc.stats,
                        svc.log, http,     "https://gw.example"};
  auto cfg = conn->config();
  cfg.node.metadata_file.clear();
  cfg.node.metadata_url = "https://node.example/metadata";
  eid_connector fetched(cfg, ctx);
  EXPECT_EQ(http.urls, std::vector<std::string>{"https://node.example/metadata"});
  request r;
  r.method = "GET";
  r.query =
      "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
      "&scope=openid";
  EXPECT_NE(fetched.front().authorize(r).body.find("https://node.example/sso/post"),
            std::string::npos);
  // A body the anchor did not sign: the connector refuses to start.
  http.body =
      "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
      "entityID=\"https://evil.example\"/>";
  EXPECT_THROW(eid_connector(cfg, ctx), std::runtime_error);
}

// The node re-signs an assertion changed after the fact: valid signature, wrong content.
struct semantic_case {
  std::string from, to, rule;
};
void PrintTo(semantic_case const& c, std::ostream* os) {
  *os << c.rule;
}
struct SignedButWrong : SamlFlow, ::testing::WithParamInterface<semantic_case> {};

TEST_P(SignedButWrong, IsRefusedByItsRule) {
  auto const& k = GetParam();
  auto b64 = node_response(start(), "--sign assertion --replace '" + k.from + "' '" + k.to + "'");
  ASSERT_FALSE(b64.empty());
  auto before = state();
  auto r = post_acs(b64);
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(rejected(k.rule), 1);
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 1);
  EXPECT_EQ(state(), before);
}

INSTANTIATE_TEST_SUITE_P(
    Eid, SignedButWrong,
    ::testing::Values(
        semantic_case{"Audience>https://gw.example/eid/metadata<",
                      "Audience>https://other.example/metadata<", "audience"},
        semantic_case{"Recipient=\"https://gw.example/eid/acs\"",
                      "Recipient=\"https://evil.example/acs\"", "subject_confirmation"},
        semantic_case{"http://eidas.europa.eu/LoA/substantial",
                      "http://eidas.europa.eu/NotNotified/LoA/high", "level_of_assurance"},
        semantic_case{"http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName\"",
                      "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenNameX\"",
                      "attributes"},
        semantic_case{">https://node.example/metadata<", ">https://other.example/metadata<",
                      "assertion_issuer"},
        // A second value with a comment inside (exclusive c14n ignores comments, so the node's
        // signature covers it): every value is read whole, not only the first.
        semantic_case{">Javier</ns1:AttributeValue>",
                      ">Javier</ns1:AttributeValue><ns1:AttributeValue "
                      "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
                      "xsi:type=\"xs:string\">Jo<!---->se</ns1:AttributeValue>",
                      "attributes"}),
    [](auto const& info) { return info.param.rule + "_" + std::to_string(info.index); });

// Mutations of a real pysaml2 Response (signed Response and Assertion), not re-signed.
struct mutation_case {
  std::string name;
  std::string from, to;            // replaced once; from "" = prepend `to` before the root element
  std::vector<std::string> rules;  // any of these may refuse it
};
void PrintTo(mutation_case const& c, std::ostream* os) {
  *os << c.name;
}
struct Mutated : SamlFlow, ::testing::WithParamInterface<mutation_case> {};

TEST_P(Mutated, IsRefusedByTheRightRule) {
  auto const& m = GetParam();
  auto xml = xml_of(node_response(start()));
  auto bad = xml;
  if (m.from.empty()) {
    auto root = bad.find("Response");
    bad.insert(bad.rfind('<', root), m.to);
  } else if (auto p = bad.find(m.from); p != std::string::npos) {
    bad.replace(p, m.from.size(), m.to);
  }
  ASSERT_NE(bad, xml) << "mutation did not apply";
  auto before = state();
  auto r = post_acs(base64_encode(bad));
  EXPECT_EQ(r.status, 403u);
  double n = 0;
  for (auto const& rl : m.rules) n += rejected(rl);
  EXPECT_EQ(n, 1);
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 1);
  EXPECT_EQ(state(), before);
}

INSTANTIATE_TEST_SUITE_P(
    Eid, Mutated,
    ::testing::Values(mutation_case{"value_changed", ">Javier<", ">Jose<", {"response_signature"}},
                      mutation_case{"comment_in_nameid",
                                    "ES/DE/99999999R</",
                                    "ES/DE/9999<!---->9999R</",
                                    {"response_signature", "subject_confirmation"}},
                      mutation_case{"xxe",
                                    "",
                                    "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
                                    {"parse"}},
                      mutation_case{"wrong_destination",
                                    "Destination=\"https://gw.example/eid/acs\"",
                                    "Destination=\"https://evil.example/acs\"",
                                    {"destination"}},
                      mutation_case{"signature_value_corrupted",
                                    "<ns2:SignatureValue>",
                                    "<ns2:SignatureValue>AAAA",
                                    {"response_signature"}}),
    [](auto const& info) { return info.param.name; });

TEST_F(SamlFlow, SignatureWrappingWithASecondAssertionIsRefused) {
  auto xml = xml_of(node_response(start(), "--sign assertion"));
  // XSW: copy the signed assertion, change the copy's values and ID, put it first.
  auto open = xml.find("<ns1:Assertion") != std::string::npos ? xml.find("<ns1:Assertion")
                                                              : xml.find("<saml:Assertion");
  ASSERT_NE(open, std::string::npos);
  auto tag_end = xml.find(':', open) + 1;
  auto prefix = xml.substr(open + 1, tag_end - open - 2);
  auto close = xml.find("</" + prefix + ":Assertion>", open);
  auto original = xml.substr(open, close + prefix.size() + 13 - open);
  auto evil = original;
  evil.replace(evil.find("ID=\"") + 4, 1, "X");
  evil.replace(evil.find(">Javier<"), 8, ">Mallory<");
  auto wrapped = xml;
  wrapped.insert(open, evil);
  auto before = state();
  auto r = post_acs(base64_encode(wrapped));
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(svc.stats.total("bbgw_eid_acs_rejections_total"), 1);
  EXPECT_EQ(state(), before);  // a refused Response emits nothing and keeps the pending login
}

}  // namespace
}  // namespace bbgw::eid

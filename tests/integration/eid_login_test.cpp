// The eID login end to end through the real gateway (bbgw-testbed) over real HTTP: pysaml2 as the
// eIDAS node (its signed metadata loaded at start, our SP metadata fetched from /eid/metadata, our
// signed AuthnRequest taken from the auto-post form), python3-authlib as the OIDC relying party
// (code flow with PKCE), python3-jwcrypto verifying the ID token with /oidc/jwks, and the login
// events read back from Kafka by an independent librdkafka consumer and checked against their
// JSON Schemas.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;

std::string const node_script = BBGW_SOURCE_DIR "/tests/connectors/eid/pysaml2_node.py";
std::string const lasso_script = BBGW_SOURCE_DIR "/tests/connectors/eid/lasso_node.py";
std::string const rp_script = BBGW_SOURCE_DIR "/tests/integration/eid_rp.py";

void must(std::string const& cmd) {
  auto [rc, out] = run_command(cmd + " 2>&1");
  if (rc != 0) throw std::runtime_error(cmd + ": " + out);
}

struct eid_gateway {
  std::filesystem::path dir = make_temp_dir("bbgw-eid-it");
  std::string f(std::string const& n) const { return (dir / n).string(); }
  std::unique_ptr<gateway> gw;
  std::string node;  // the node's script

  // `node_extra`: more lines of connectors.eid.node (6 spaces deep).
  explicit eid_gateway(std::string node_script_ = node_script, std::string const& node_extra = "")
      : node(std::move(node_script_)) {
    for (auto n : {"sp-sign", "sp-enc"})
      must("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=" + std::string(n) +
           " -keyout " + f(std::string(n) + ".key") + " -out " + f(std::string(n) + ".crt"));
    must("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + f("oidc.key"));
    must("/usr/bin/python3 " + node + " setup " + dir.string() + " https://node.test");
    std::string eid =
        "  eid:\n"
        "    enabled: true\n"
        "    schemas_dir: " BBGW_SOURCE_DIR
        "/schemas/xsd\n"
        "    sp:\n"
        "      signing_key: " +
        f("sp-sign.key") +
        "\n"
        "      signing_cert: " +
        f("sp-sign.crt") +
        "\n"
        "      encryption_key: " +
        f("sp-enc.key") +
        "\n"
        "      encryption_cert: " +
        f("sp-enc.crt") +
        "\n"
        // xmlsec1 1.2.37 under pysaml2 has no RSASSA-PSS.
        "      signature_method: http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\n"
        "    node:\n"
        "      metadata_file: " +
        f("idp-metadata.xml") +
        "\n"
        "      trust_anchor: " +
        f("idp.crt") + "\n" + node_extra +
        "    oidc:\n"
        "      signing_key: " +
        f("oidc.key") +
        "\n"
        "      pairwise_secret: it-pairwise-secret-0123456789\n"
        "      clients:\n"
        "        - id: spa\n"
        "          public: true\n"
        "          redirect_uris: [\"http://127.0.0.1:9/cb\"]\n"
        "          scopes: [openid, profile]\n";
    auto yaml = gateway_yaml("", eid);
    yaml.replace(yaml.find("server:\n"), 8, "server:\n  public_base_url: http://gw.test\n");
    gw = std::make_unique<gateway>(dir, yaml);
    auto md = curl(gw->url() + "/eid/metadata");
    if (md.status != 200) throw std::runtime_error("no SP metadata: " + md.body);
    write_file(dir / "sp-metadata.xml", md.body);
  }

  json::object login(std::string const& opts = "") {
    auto [rc, out] = run_command("/usr/bin/python3 " + rp_script + " " + gw->url() +
                                 " http://gw.test " + dir.string() + " " + f("sp-metadata.xml") +
                                 " --node " + node + " " + opts + " 2>" + f("rp.err"));
    if (rc != 0) throw std::runtime_error("rp failed: " + read_file(dir / "rp.err"));
    return json::parse(out).as_object();
  }
};

TEST(EidLogin, PysamlNodeAndAuthlibRelyingPartyCompleteTheCodeFlow) {
  eid_gateway e;
  auto r = e.login();
  ASSERT_FALSE(r.contains("error")) << json::serialize(r);
  auto const& c = r.at("claims").as_object();
  EXPECT_EQ(c.at("iss"), "http://gw.test");
  EXPECT_EQ(c.at("aud"), "spa");
  EXPECT_EQ(c.at("acr"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(c.at("amr"), json::array{"eidas"});
  EXPECT_EQ(c.at("given_name"), "Javier");
  EXPECT_EQ(c.at("family_name"), "Garcia");
  EXPECT_EQ(c.at("birthdate"), "1965-01-01");
  EXPECT_EQ(c.at("sub").as_string().size(), 43u);  // base64url HMAC-SHA256
  EXPECT_EQ(r.at("userinfo").as_object().at("sub"), c.at("sub"));
  // The code was single use.
  EXPECT_EQ(r.at("replay_status").as_int64(), 400);
  EXPECT_EQ(r.at("replay").as_object().at("error"), "invalid_grant");

  auto recs = consume(e.gw->bootstrap(), "bbgw.eid", 1, 20s);
  ASSERT_EQ(recs.size(), 1u);
  auto ev = json::parse(recs[0].value).as_object();
  EXPECT_EQ(ev.at("type"), "eu.bbgateway.eid.login.succeeded.v1");
  EXPECT_EQ(recs[0].key, std::string(ev.at("subject").as_string()));
  EXPECT_EQ(recs[0].value.find("Javier"), std::string::npos);  // nothing released by default
  write_file(e.dir / "ev.json", recs[0].value);
  auto [rc, out] = run_command("/usr/bin/python3 " BBGW_SOURCE_DIR
                               "/tests/tools/validate_json.py " BBGW_SOURCE_DIR
                               "/schemas/events/eid.login.succeeded.json " +
                               e.f("ev.json") + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
  // No attribute values or tokens in the gateway's log.
  for (auto const& l : e.gw->proc().lines()) {
    EXPECT_EQ(l.find("Javier"), std::string::npos) << l;
    EXPECT_EQ(l.find("99999999R"), std::string::npos) << l;
  }
}

// Lasso as the node, its AES-256-CBC + RSA-OAEP-MGF1P (SHA-1 digest) encryption allowed for this
// node by config: signed and encrypted, through the real gateway, verified by jwcrypto.
TEST(EidLogin, LassoNodeSignedAndEncryptedCompletesTheCodeFlow) {
  eid_gateway e(lasso_script,
                "      allow_cbc_encryption: true\n"
                "      allow_oaep_sha1: true\n");
  auto r = e.login("--encrypt cbc");
  ASSERT_FALSE(r.contains("error")) << json::serialize(r);
  auto const& c = r.at("claims").as_object();
  EXPECT_EQ(c.at("acr"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(c.at("given_name"), "Javier");
  EXPECT_EQ(c.at("birthdate"), "1965-01-01");
  auto recs = consume(e.gw->bootstrap(), "bbgw.eid", 1, 20s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(json::parse(recs[0].value).at("type"), "eu.bbgateway.eid.login.succeeded.v1");
  EXPECT_EQ(recs[0].value.find("Javier"), std::string::npos);  // nothing released by default
}

// The same without the allowances: refused, and nothing reaches Kafka.
TEST(EidLogin, LassoCbcEncryptionIsRefusedByDefault) {
  eid_gateway e(lasso_script);
  auto r = e.login("--encrypt cbc");
  EXPECT_EQ(r.at("error"), "acs refused");
  EXPECT_EQ(r.at("status").as_int64(), 403);
  EXPECT_TRUE(consume(e.gw->bootstrap(), "bbgw.eid", 1, 2s).empty());
}

TEST(EidLogin, NodeFailureIsAPageAndALoginFailedEvent) {
  eid_gateway e;
  auto r = e.login("--status AuthnFailed");
  EXPECT_EQ(r.at("error"), "acs refused");
  EXPECT_EQ(r.at("status").as_int64(), 403);
  auto recs = consume(e.gw->bootstrap(), "bbgw.eid", 1, 20s);
  ASSERT_EQ(recs.size(), 1u);
  auto ev = json::parse(recs[0].value).as_object();
  EXPECT_EQ(ev.at("type"), "eu.bbgateway.eid.login.failed.v1");
  EXPECT_EQ(ev.at("data").as_object().at("reason"), "AuthnFailed");
  write_file(e.dir / "ev.json", recs[0].value);
  auto [rc, out] = run_command("/usr/bin/python3 " BBGW_SOURCE_DIR
                               "/tests/tools/validate_json.py " BBGW_SOURCE_DIR
                               "/schemas/events/eid.login.failed.json " +
                               e.f("ev.json") + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
}

}  // namespace
}  // namespace bbgw::it

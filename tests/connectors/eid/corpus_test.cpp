// The ACS rules over python3-saml's response corpus (/work/shared/fixtures/saml, signed by
// another toolkit with rsa-sha1 / RSA-1024): with the clock injected and that toolkit's SP
// settings per file, the default eIDAS policy refuses the signatures (algorithm), an explicitly
// legacy profile accepts them cryptographically (and the semantic rules then stop at the
// non-eIDAS LoA), and each invalid file is refused by the rule that names its defect.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "eid/acs_rules.hpp"
#include "eid/codec.hpp"
#include "eid/saml_ns.hpp"
#include "xmlsec/schema_set.hpp"

namespace bbgw::eid {
namespace {

std::string const dir = BBGW_SHARED_DIR "/fixtures/saml/python3-saml/";

std::string fixture(std::string const& name) {
  std::ifstream in(dir + name + ".xml.base64");
  std::stringstream ss;
  ss << in.rdbuf();
  auto xml = base64_decode(ss.str());
  if (!xml) throw std::runtime_error("not base64: " + name);
  return *xml;
}

struct corpus_case {
  std::string file;
  std::string issuer, acs, audience, now;
  std::string legacy_rule;  // the rule that refuses it under the legacy profile
  std::string eidas_rule;   // ... under the default eIDAS policy
};

void PrintTo(corpus_case const& c, std::ostream* os) {
  *os << c.file;
}

struct Corpus : ::testing::TestWithParam<corpus_case> {
  static xmlsec::schema_set load_schemas() {
    std::filesystem::path d = BBGW_SOURCE_DIR "/schemas/xsd";
    std::vector<std::filesystem::path> files{
        d / "saml/saml-schema-protocol-2.0.xsd", d / "saml/saml-schema-assertion-2.0.xsd",
        d / "saml/xmldsig-core-schema.xsd", d / "saml/xenc-schema.xsd",
        d / "eidas/saml_eidas_extension.xsd"};
    return std::move(*xmlsec::schema_set::load(files));
  }

  std::string run(bool legacy) {
    auto const& c = GetParam();
    eid_config cfg;
    cfg.sp.acs_url = c.acs;
    cfg.sp.entity_id = c.audience;
    cfg.max_authn_age = std::chrono::hours(24);
    node_metadata node;
    node.entity_id = c.issuer;
    node.signing_keys.push_back(*xmlsec::key::from_pem_file(dir + "idp.crt"));
    auto schemas = load_schemas();
    auto policy = xmlsec::algorithm_policy::eidas(true);
    if (legacy) policy = xmlsec::algorithm_policy::legacy(policy);
    acs_context ctx;
    ctx.xml = fixture(c.file);
    ctx.cfg = &cfg;
    ctx.node = &node;
    ctx.schemas = &schemas;
    ctx.policy = &policy;
    ctx.now = *parse_saml_time(c.now);
    ctx.find_request = [](std::string const& id) -> std::optional<pending_login> {
      pending_login p;
      p.request_id = id;  // the toolkit's request ids, as if we had issued them
      p.loa = "http://eidas.europa.eu/LoA/low";
      return p;
    };
    ctx.remember_assertion = [](std::string const&, sys_time) -> result<bool> { return true; };
    auto out = run_acs_rules(ctx);
    return std::string(out.failed_rule) + (out.failed_rule.empty() ? "" : ": " + ctx.detail);
  }
};

TEST_P(Corpus, LegacyProfileReachesTheExpectedRule) {
  auto got = run(true);
  EXPECT_TRUE(got.starts_with(GetParam().legacy_rule + ":")) << got;
}

TEST_P(Corpus, DefaultEidasPolicyRefusesIt) {
  auto got = run(false);
  EXPECT_TRUE(got.starts_with(GetParam().eidas_rule + ":")) << got;
}

std::string const pit_idp = "https://pitbulk.no-ip.org/simplesaml/saml2/idp/metadata.php";
std::string const pit_acs = "https://pitbulk.no-ip.org/newonelogin/demo1/index.php?acs";
std::string const pit_sp = "https://pitbulk.no-ip.org/newonelogin/demo1/metadata.php";

INSTANTIATE_TEST_SUITE_P(
    PythonSaml, Corpus,
    ::testing::Values(
        // Cryptographically valid: under legacy every rule passes up to the LoA (a SAML
        // password class, not an eIDAS level); under eIDAS the rsa-sha1 signature is refused.
        corpus_case{"signed_message_response", pit_idp, pit_acs, pit_sp, "2014-03-21T13:41:10Z",
                    "level_of_assurance", "response_signature"},
        corpus_case{"signed_assertion_response", pit_idp, pit_acs, pit_sp, "2014-03-31T00:37:17Z",
                    "level_of_assurance", "assertion_signature"},
        corpus_case{"double_signed_response", pit_idp, pit_acs, pit_sp, "2014-03-21T13:42:32Z",
                    "level_of_assurance", "response_signature"},
        // Invalid ones, refused by the rule that names the defect.
        corpus_case{"unsigned_response", "http://idp.example.com/",
                    "http://stuff.com/endpoints/endpoints/acs.php",
                    "http://stuff.com/endpoints/metadata.php", "2011-06-17T14:54:15Z",
                    "assertion_signature", "assertion_signature"},
        // A wrapped copy of the signed element carries the same ID: refused while parsing.
        corpus_case{"invalids/signature_wrapping_attack", pit_idp, pit_acs, pit_sp,
                    "2014-03-21T13:41:10Z", "parse", "parse"},
        corpus_case{"invalids/no_conditions", pit_idp, pit_acs, pit_sp, "2014-02-19T01:37:02Z",
                    "conditions", "response_signature"}),
    [](auto const& info) {
      auto n = info.param.file;
      for (auto& ch : n)
        if (ch == '/') ch = '_';
      return n;
    });

}  // namespace
}  // namespace bbgw::eid

// connectors.eid: defaults, and errors that name the key.
#include <gtest/gtest.h>

#include "eid_env.hpp"

namespace bbgw::eid {
namespace {

using test::key_files;

std::string error_key(std::string const& yaml) {
  try {
    test::read(yaml);
  } catch (config_error const& e) {
    return e.key();
  }
  return "";
}

TEST(EidConfig, DisabledByDefaultAndAcceptsAnything) {
  auto eff = std::make_shared<effective_config>();
  config_reader r(YAML::Load("{sp: {bogus: 1}}"), "connectors.eid", eff);
  EXPECT_FALSE(read_config(r).has_value());
}

TEST(EidConfig, DefaultsFollowThePublicBaseUrl) {
  key_files k;
  auto c = test::read(k.yaml());
  EXPECT_EQ(c.sp.entity_id, "https://gw.example/eid/metadata");
  EXPECT_EQ(c.sp.acs_url, "https://gw.example/eid/acs");
  EXPECT_EQ(c.oidc.issuer, "https://gw.example");
  EXPECT_EQ(c.sp.sp_type, "public");
  EXPECT_EQ(c.sp.binding, "post");
  EXPECT_EQ(c.sp.loa, "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(c.clock_skew, std::chrono::seconds(60));
  EXPECT_EQ(c.oidc.code_ttl, std::chrono::seconds(60));
  EXPECT_FALSE(c.node.legacy_algorithms);
  EXPECT_FALSE(c.node.allow_cbc_encryption);  // Lasso-style encryption is opt-in per node
  EXPECT_FALSE(c.node.allow_oaep_sha1);
  EXPECT_TRUE(c.event_claims.empty());  // events carry no attribute values by default
  ASSERT_EQ(c.oidc.clients.size(), 2u);
  EXPECT_EQ(c.oidc.clients[0].sector, "web");
  EXPECT_TRUE(c.oidc.clients[1].is_public);
  EXPECT_EQ(c.oidc.clients[1].sector, "spa.example");
}

TEST(EidConfig, ErrorsNameTheKey) {
  key_files k;
  EXPECT_EQ(error_key(k.yaml("clock_skew: 6m\n")), "connectors.eid.clock_skew");
  EXPECT_EQ(error_key(k.yaml("bogus: 1\n")), "connectors.eid.bogus");
  auto y = k.yaml();
  auto with = [&](std::string from, std::string to) {
    auto s = y;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  EXPECT_EQ(error_key(with("sp:\n", "sp:\n  sp_type: government\n")), "connectors.eid.sp.sp_type");
  EXPECT_EQ(error_key(with("sp:\n", "sp:\n  loa: loa2\n")), "connectors.eid.sp.loa");
  EXPECT_EQ(error_key(with("sp:\n", "sp:\n  binding: artifact\n")), "connectors.eid.sp.binding");
  EXPECT_EQ(error_key(with(k.f("sp-sign.key"), "/nonexistent.key")),
            "connectors.eid.sp.signing_key");
  EXPECT_EQ(
      error_key(with("sp:\n", "sp:\n  requested_attributes:\n    - {name: CurrentGivenName}\n")),
      "connectors.eid.sp.requested_attributes[0].name");
  EXPECT_EQ(error_key(with("0123456789abcdef-pairwise", "short")),
            "connectors.eid.oidc.pairwise_secret");
  EXPECT_EQ(error_key(with("web-secret-0123456789", "x")), "connectors.eid.oidc.clients[0].secret");
  EXPECT_EQ(error_key(with("scopes: [openid, profile]\n", "scopes: [profile]\n")),
            "connectors.eid.oidc.clients[0].scopes");
  EXPECT_EQ(error_key(with("- id: spa", "- id: web")), "connectors.eid.oidc.clients[1].id");
  EXPECT_EQ(error_key(k.yaml("node: {metadata_url: \"https://evil.example/md\", "
                             "metadata_url_allow: [\"https://node.example/\"]}\n")),
            "connectors.eid.node.metadata_url");
  EXPECT_EQ(error_key(k.yaml("node: {metadata_file: " + k.f("sp-sign.crt") + "}\n")),
            "connectors.eid.node.trust_anchor");
  EXPECT_EQ(error_key(k.yaml("events: {release: [password]}\n")), "connectors.eid.events.release");
  EXPECT_EQ(error_key(k.yaml("node: {allow_cbc_encryption: maybe}\n")),
            "connectors.eid.node.allow_cbc_encryption");
  EXPECT_EQ(error_key(k.yaml("node: {allow_oaep_sha1: 2}\n")),
            "connectors.eid.node.allow_oaep_sha1");
}

TEST(EidConfig, NodeEncryptionAllowancesAreRead) {
  key_files k;
  auto c = test::read(k.yaml("node: {allow_cbc_encryption: true, allow_oaep_sha1: true}\n"));
  EXPECT_TRUE(c.node.allow_cbc_encryption);
  EXPECT_TRUE(c.node.allow_oaep_sha1);
}

TEST(EidConfig, PairwiseSecretIsMaskedInTheEffectiveConfig) {
  key_files k;
  auto eff = std::make_shared<effective_config>();
  config_reader r(YAML::Load(k.yaml()), "connectors.eid", eff);
  ASSERT_TRUE(read_config(r));
  auto text = YAML::Dump(eff->tree());
  EXPECT_EQ(text.find("0123456789abcdef-pairwise"), std::string::npos) << text;
  EXPECT_EQ(text.find("web-secret-0123456789"), std::string::npos) << text;
}

}  // namespace
}  // namespace bbgw::eid

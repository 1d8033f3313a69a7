// connectors.context: defaults, every key read, and a config_error naming the key for each
// mistake (unknown keys included).
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace bbgw::context::testing {
namespace {

std::string error_key(std::string const& yaml) {
  try {
    load_config(yaml);
  } catch (config_error const& e) {
    return e.key();
  }
  return "<no error>";
}

TEST(ContextConfig, DisabledByDefault) {
  config_reader r(YAML::Load("{}"), "connectors.context", nullptr);
  EXPECT_FALSE(read_config(r));
  r.finish();
  config_reader none(YAML::Node{}, "connectors.context", nullptr);
  EXPECT_FALSE(read_config(none));
}

TEST(ContextConfig, DisabledSectionIsAcceptedUnvalidated) {
  config_reader r(YAML::Load("{enabled: false, brokers: [{name: 'bad name'}]}"),
                  "connectors.context", nullptr);
  EXPECT_FALSE(read_config(r));
  EXPECT_NO_THROW(r.finish());
}

TEST(ContextConfig, DefaultsAndValues) {
  auto c = load_config(test_yaml());
  EXPECT_EQ(c.notify_path_prefix, "/context/notify");
  EXPECT_EQ(c.resync_interval, std::chrono::seconds(60));
  EXPECT_EQ(c.max_entities_per_notification, 1000);
  EXPECT_EQ(c.body_limit, 1024u * 1024u);
  EXPECT_EQ(c.family_template, "context.{tenant}.{type}");
  EXPECT_EQ(c.dedupe_window, std::chrono::hours(1));
  ASSERT_EQ(c.brokers.size(), 3u);
  auto const& o = c.brokers[0];
  EXPECT_EQ(o.name, "orion");
  EXPECT_EQ(o.flavour, flavour::ngsi_v2);
  EXPECT_EQ(o.base_url, "http://orion.test:1026");  // trailing '/' dropped
  EXPECT_EQ(o.tenant, "migr");
  EXPECT_EQ(o.service_path, "/madrid");
  ASSERT_TRUE(o.auth_header);
  EXPECT_EQ(o.auth_header->first, "X-Auth-Token");
  EXPECT_EQ(o.auth_header->second, "broker-token-1");
  ASSERT_EQ(o.subscriptions.size(), 1u);
  auto const& s = o.subscriptions[0];
  EXPECT_EQ(s.entity_types, std::vector<std::string>{"Case"});
  EXPECT_EQ(s.watched_attributes, (std::vector<std::string>{"status", "waitingDays"}));
  EXPECT_EQ(s.format, "normalized");
  EXPECT_EQ(s.throttling, 5);
  EXPECT_EQ(s.secret, derive_secret(secret_key, "orion", "cases"));
  EXPECT_EQ(c.brokers[1].subscriptions[0].secret, centres_secret);
  EXPECT_EQ(c.brokers[2].flavour, flavour::ngsi_ld);
  EXPECT_EQ(c.brokers[2].ld_context, "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld");
}

TEST(ContextConfig, SecretsAreMaskedInTheEffectiveConfig) {
  auto eff = std::make_shared<effective_config>();
  config_reader r(YAML::Load(test_yaml()), "connectors.context", eff);
  read_config(r);
  YAML::Emitter e;
  e << eff->tree();
  std::string text = e.c_str();
  EXPECT_EQ(text.find(secret_key), std::string::npos) << text;
  EXPECT_EQ(text.find("broker-token-1"), std::string::npos) << text;
  EXPECT_EQ(text.find(centres_secret), std::string::npos) << text;
}

std::string replace(std::string s, std::string const& from, std::string const& to) {
  auto p = s.find(from);
  if (p == std::string::npos) throw std::runtime_error("no " + from);
  return s.replace(p, from.size(), to);
}

TEST(ContextConfig, MistakesNameTheirKey) {
  auto base = test_yaml();
  EXPECT_EQ(error_key(base + "colour: blue\n"), "connectors.context.colour");
  EXPECT_EQ(error_key(replace(base, "    tenant: migr\n", "    tenant: migr\n    tennant: x\n")),
            "connectors.context.brokers[0].tennant");
  EXPECT_EQ(error_key(replace(base, "        throttling: 5\n",
                              "        throttling: 5\n        formt: x\n")),
            "connectors.context.brokers[0].subscriptions[0].formt");
  EXPECT_EQ(error_key(replace(base, "flavour: ngsi-v2", "flavour: ngsi-v3")),
            "connectors.context.brokers[0].flavour");
  EXPECT_EQ(error_key(replace(base, "http://orion.test:1026/", "ftp://orion")),
            "connectors.context.brokers[0].base_url");
  EXPECT_EQ(error_key(replace(base, "tenant: migr", "tenant: 'mi gr'")),
            "connectors.context.brokers[0].tenant");
  EXPECT_EQ(error_key(replace(base, "service_path: /madrid", "service_path: madrid")),
            "connectors.context.brokers[0].service_path");
  EXPECT_EQ(error_key(replace(base, "format: keyValues", "format: concise")),
            "connectors.context.brokers[1].subscriptions[0].format");
  EXPECT_EQ(error_key(replace(base, "name: events", "name: 'ev ents'")),
            "connectors.context.brokers[2].subscriptions[0].name");
  EXPECT_EQ(error_key(replace(base, "name: city", "name: orion")),
            "connectors.context.brokers[1].name");
  EXPECT_EQ(error_key(replace(base, "throttling: 5", "throttling: -1")),
            "connectors.context.brokers[0].subscriptions[0].throttling");
  EXPECT_EQ(error_key(replace(base, std::string("secret: ") + centres_secret, "secret: short")),
            "connectors.context.brokers[1].subscriptions[0].secret");
  EXPECT_EQ(error_key(replace(base, std::string("secret_key: ") + secret_key + "\n", "")),
            "connectors.context.brokers[0].subscriptions[0].secret");
  EXPECT_EQ(error_key(replace(base, "entity_types: [Event]", "id_pattern: '.*'")),
            "connectors.context.brokers[2].subscriptions[0].entity_types");
  EXPECT_EQ(error_key(base + "family_template: 'ctx.{tenant}.{colour}'\n"),
            "connectors.context.family_template");
  EXPECT_EQ(error_key(base + "family_template: 'ctx/{tenant}'\n"),
            "connectors.context.family_template");
  EXPECT_EQ(error_key(base + "notify_path_prefix: 'context/notify'\n"),
            "connectors.context.notify_path_prefix");
  EXPECT_EQ(error_key(base + "max_entities_per_notification: 0\n"),
            "connectors.context.max_entities_per_notification");
  EXPECT_EQ(error_key(base + "body_limit: 10\n"), "connectors.context.body_limit");
  EXPECT_EQ(error_key(replace(base, "auth_header: {name: X-Auth-Token, value: broker-token-1}",
                              "auth_header: x")),
            "connectors.context.brokers[0].auth_header");
  EXPECT_EQ(error_key(replace(base, "auth_header: {name: X-Auth-Token, value: broker-token-1}",
                              "auth_header: {name: 'X Auth', value: v}")),
            "connectors.context.brokers[0].auth_header.name");
  EXPECT_EQ(error_key(replace(base, "    tenant: migr\n",
                              "    tenant: migr\n    tls: {ca_file: /no/such.pem}\n")),
            "connectors.context.brokers[0].tls.ca_file");
  EXPECT_EQ(error_key(replace(base, "    tenant: migr\n",
                              "    tenant: migr\n    ld_context: https://x/c.jsonld\n")),
            "connectors.context.brokers[0].ld_context");
  EXPECT_EQ(error_key("enabled: true\nsecret_key: 0123456789abcdef0\nbrokers: []\n"),
            "connectors.context.brokers");
}

}  // namespace
}  // namespace bbgw::context::testing

// Specification of the gateway's typed config: embedded defaults, validation, env overrides.
#include "config/gateway_config.hpp"

#include <gtest/gtest.h>

namespace bbgw::config {
namespace {

TEST(GatewayConfig, EmbeddedDefaultsListenOn8080And8443WithTheDevCertificate) {
  auto c = read_gateway_config(YAML::Node{});
  ASSERT_EQ(c.server.listeners.size(), 2u);
  EXPECT_EQ(c.server.listeners[0].name, "http");
  EXPECT_EQ(c.server.listeners[0].address, "127.0.0.1");
  EXPECT_EQ(c.server.listeners[0].port, 8080);
  EXPECT_FALSE(c.server.listeners[0].tls);
  EXPECT_EQ(c.server.listeners[1].port, 8443);
  ASSERT_TRUE(c.server.listeners[1].tls);
  EXPECT_EQ(c.server.listeners[1].tls->certificate_file, "var/certs/tls-server-chain.crt");
  EXPECT_TRUE(c.kafka.bootstrap_servers.empty()) << "empty = embedded broker";
  EXPECT_EQ(c.kafka.topics.prefix, "bbgw");
  EXPECT_EQ(c.public_base_url, "https://127.0.0.1:8443");
  EXPECT_GE(c.server.io_threads, 1u);
  EXPECT_EQ(c.server.worker_threads, 2 * c.server.io_threads);
  EXPECT_EQ(c.server.max_streamed_bodies, 0u) << "0: half the workers, decided by the server";
}

TEST(GatewayConfig, ReadsListenersLimitsAndKafka) {
  auto c = read_gateway_config(YAML::Load(R"(
server:
  listeners:
    - {name: in, address: 0.0.0.0, port: 9000, tls: {certificate: c.pem, private_key: k.pem, client_ca: ca.pem}}
  limits: {body_limit: 4MiB, read_timeout: 3s, max_connections: 50}
  worker_threads: 6
  max_streamed_bodies: 2
  public_base_url: https://gw.example.org
kafka:
  bootstrap_servers: k1:9092,k2:9092
  topic_prefix: immerse
  topics: {eid: platform.logins}
  producer: {linger.ms: "10"}
store: {sqlite: {path: /var/lib/bbgw/db, max_batch: 64, cache_mib: 16}}
)"));
  EXPECT_EQ(c.sqlite.path, "/var/lib/bbgw/db");
  EXPECT_EQ(c.sqlite.max_batch, 64u);
  EXPECT_EQ(c.sqlite.cache_mib, 16u);
  ASSERT_EQ(c.server.listeners.size(), 1u);
  auto const& l = c.server.listeners[0];
  EXPECT_EQ(l.port, 9000);
  ASSERT_TRUE(l.tls);
  EXPECT_EQ(l.tls->client_verify, http::client_auth::required)
      << "a client CA without client_auth means required";
  EXPECT_EQ(c.server.lim.body_limit, 4u * 1024 * 1024);
  EXPECT_EQ(c.server.lim.read_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c.server.lim.max_connections, 50u);
  EXPECT_EQ(c.server.max_streamed_bodies, 2u);
  EXPECT_EQ(c.public_base_url, "https://gw.example.org");
  EXPECT_EQ(c.kafka.bootstrap_servers, "k1:9092,k2:9092");
  EXPECT_EQ(c.kafka.topics.prefix, "immerse");
  ASSERT_EQ(c.kafka.topics.overrides.size(), 1u);
  EXPECT_EQ(c.kafka.topics.overrides[0].second, "platform.logins");
  ASSERT_EQ(c.kafka.producer_properties.size(), 1u);
}

std::string error_key(std::string const& yaml) {
  try {
    read_gateway_config(YAML::Load(yaml));
  } catch (config_error const& e) {
    return e.key();
  }
  return "<accepted>";
}

TEST(GatewayConfig, InvalidConfigsNameTheKey) {
  EXPECT_EQ(error_key("server: {listeners: [{name: a}, {name: a, port: 1}]}"),
            "server.listeners[1].name");
  EXPECT_EQ(error_key("server: {listeners: [{port: 1}]}"), "server.listeners[0].name");
  EXPECT_EQ(error_key("server: {listeners: [{name: a, tls: {certificate: c, private_key: k, "
                      "client_auth: required}}]}"),
            "server.listeners[0].tls.client_ca");
  EXPECT_EQ(error_key("server: {limits: {header_limit: 100}}"), "server.limits.header_limit");
  EXPECT_EQ(error_key("server: {worker_threads: 4, max_streamed_bodies: 4}"),
            "server.max_streamed_bodies")
      << "streams hold workers: one always stays free";
  EXPECT_EQ(error_key("kafka: {backoff_min: 5s, backoff_max: 1s}"), "kafka.backoff_max");
  EXPECT_EQ(error_key("store: {backend: postgres}"), "store.backend");
  EXPECT_EQ(error_key("store: {sqlite: {synchronous: off}}"), "store.sqlite.synchronous");
  EXPECT_EQ(error_key("store: {sqlite: {cache_mib: 0}}"), "store.sqlite.cache_mib");
  EXPECT_EQ(error_key("readiness: {probe_interval: 10ms}"), "readiness.probe_interval");
  EXPECT_EQ(error_key("unknown_section: {}"), "unknown_section");
  EXPECT_EQ(error_key("connectors: [a]"), "connectors");
}

TEST(EnvOverrides, MapDoubleUnderscoresToKeysAndNumbersToIndexes) {
  YAML::Node root = YAML::Load("kafka: {bootstrap_servers: file:9092}");
  char const* env[] = {"PATH=/usr/bin",
                       "BBGW_KAFKA__BOOTSTRAP_SERVERS=env:9092",
                       "BBGW_SERVER__LISTENERS__0__NAME=main",
                       "BBGW_SERVER__LISTENERS__0__PORT=9100",
                       "BBGW_LOG__LEVEL=debug",
                       nullptr};
  apply_env_overrides(root, env);
  auto c = read_gateway_config(root);
  EXPECT_EQ(c.kafka.bootstrap_servers, "env:9092");
  ASSERT_EQ(c.server.listeners.size(), 1u);
  EXPECT_EQ(c.server.listeners[0].name, "main");
  EXPECT_EQ(c.server.listeners[0].port, 9100);
  EXPECT_EQ(c.log.level, "debug");
}

TEST(EnvOverrides, AnOverrideThatDoesNotFitIsAConfigError) {
  YAML::Node root = YAML::Load("server: {listeners: x}");
  char const* env[] = {"BBGW_SERVER__LISTENERS__0__PORT=1", nullptr};
  EXPECT_THROW(apply_env_overrides(root, env), config_error);
}

TEST(EffectiveConfig, ShowsDefaultsAndMasksSecrets) {
  auto c = read_gateway_config(YAML::Load("kafka: {producer: {sasl.password: hunter2}}"));
  auto text = render_effective(c);
  EXPECT_NE(text.find("read_timeout: 10000ms"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
}

}  // namespace
}  // namespace bbgw::config

// The command line: check-config prints the effective config with secrets masked; a wrong key
// or value stops start-up with exit code 2 and a message naming the key.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

std::string bbgw_bin() { return std::string(BBGW_BINARY_DIR) + "/gateway/app/bbgw"; }

struct run_result {
  int rc;
  std::string out;
};

run_result bbgw(std::string const& args, std::string const& env = "") {
  auto [rc, out] = run_command(env + " " + bbgw_bin() + " " + args);
  return {rc, out};
}

TEST(Cli, CheckConfigPrintsEffectiveConfigWithDefaultsAndMaskedSecrets) {
  auto dir = make_temp_dir("bbgw-cli");
  write_file(dir / "g.yaml",
             "kafka:\n  bootstrap_servers: k1:9092\n  producer: {sasl.password: s3cr3t, "
             "linger.ms: '5'}\nserver:\n  limits: {body_limit: 2MiB}\n");
  auto r = bbgw("check-config " + (dir / "g.yaml").string());
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("bootstrap_servers: k1:9092"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("body_limit: 2097152"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("read_timeout: 10000ms"), std::string::npos) << "defaults are shown";
  EXPECT_NE(r.out.find("port: 8443"), std::string::npos) << "default listeners are shown";
  EXPECT_EQ(r.out.find("s3cr3t"), std::string::npos) << "secret printed:\n" << r.out;
}

TEST(Cli, UnknownKeyExitsTwoNamingTheKey) {
  auto dir = make_temp_dir("bbgw-cli");
  write_file(dir / "g.yaml", "server:\n  limits: {read_timout: 5s}\n");
  auto r = bbgw("check-config " + (dir / "g.yaml").string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.out.find("server.limits.read_timout"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("unknown key"), std::string::npos) << r.out;
  // serve refuses the same file the same way, before listening on anything.
  auto s = bbgw("serve --config " + (dir / "g.yaml").string());
  EXPECT_EQ(s.rc, 2);
  EXPECT_NE(s.out.find("server.limits.read_timout"), std::string::npos) << s.out;
}

TEST(Cli, WrongValuesExitTwoNamingTheKey) {
  auto dir = make_temp_dir("bbgw-cli");
  struct c {
    std::string yaml, key;
  } cases[] = {
      {"server:\n  listeners:\n    - {name: a, port: 70000}\n", "server.listeners[0].port"},
      {"server:\n  listeners:\n    - {name: a, tls: {certificate: x}}\n",
       "server.listeners[0].tls.private_key"},
      {"kafka: {compression: brotli}\n", "kafka.compression"},
      {"log: {level: chatty}\n", "log.level"},
      {"connectors: {nosuch: {}}\n", "connectors.nosuch"},
      {"server: [1, 2]\n", "server"},
  };
  for (auto const& tc : cases) {
    write_file(dir / "g.yaml", tc.yaml);
    auto r = bbgw("check-config " + (dir / "g.yaml").string());
    EXPECT_EQ(r.rc, 2) << tc.yaml;
    EXPECT_NE(r.out.find("'" + tc.key + "'"), std::string::npos) << tc.yaml << " -> " << r.out;
  }
  write_file(dir / "bad.yaml", "server: {limits: [}\n");
  auto r = bbgw("check-config " + (dir / "bad.yaml").string());
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.out.find("YAML syntax error at line 1"), std::string::npos) << r.out;
}

TEST(Cli, EnvironmentVariablesOverrideTheFile) {
  auto dir = make_temp_dir("bbgw-cli");
  write_file(dir / "g.yaml", "kafka: {bootstrap_servers: file:9092}\n");
  auto r = bbgw("check-config " + (dir / "g.yaml").string(),
                "BBGW_KAFKA__BOOTSTRAP_SERVERS=env:9092 BBGW_SERVER__LIMITS__BODY_LIMIT=1KiB");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("bootstrap_servers: env:9092"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("body_limit: 1024"), std::string::npos) << r.out;
  auto bad = bbgw("check-config " + (dir / "g.yaml").string(),
                  "BBGW_SERVER__LIMITS__READ_TIMEOUT=soon");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.out.find("server.limits.read_timeout"), std::string::npos) << bad.out;
  auto unknown = bbgw("check-config " + (dir / "g.yaml").string(), "BBGW_KAFKA__BOOTSTRAP=x");
  EXPECT_EQ(unknown.rc, 2);
  EXPECT_NE(unknown.out.find("kafka.bootstrap"), std::string::npos) << unknown.out;
}

TEST(Cli, TheAnnotatedExampleConfigIsValid) {
  auto r = bbgw("check-config " + std::string(BBGW_SOURCE_DIR) + "/gateway.example.yaml");
  EXPECT_EQ(r.rc, 0) << r.out;
}

TEST(Cli, VersionAndUsage) {
  auto v = bbgw("version");
  EXPECT_EQ(v.rc, 0);
  EXPECT_EQ(v.out.rfind("bbgw ", 0), 0u);
  auto u = bbgw("frobnicate");
  EXPECT_EQ(u.rc, 2);
}

}  // namespace
}  // namespace bbgw::it

// TLS and mTLS through the real binary, with the development PKI from certs/ and curl (OpenSSL)
// as the client.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

std::string tls_listeners(std::filesystem::path const& pki) {
  std::string p = pki.string();
  return "server:\n"
         "  listeners:\n"
         "    - {name: http, address: 127.0.0.1, port: 0}\n"
         "    - name: https\n"
         "      address: 127.0.0.1\n"
         "      port: 0\n"
         "      tls: {certificate: " + p + "/tls-server-chain.crt, private_key: " + p +
         "/tls-server.key}\n"
         "    - name: https-mtls\n"
         "      address: 127.0.0.1\n"
         "      port: 0\n"
         "      tls: {certificate: " + p + "/tls-server-chain.crt, private_key: " + p +
         "/tls-server.key, client_ca: " + p + "/ca.crt, client_auth: required}\n"
         "store: {sqlite: {path: bbgw.db}}\n"
         "connectors: {test: {enabled: true}}\n";
}

TEST(Tls, HandshakesAreAcceptedAndRefusedAsConfigured) {
  auto pki = dev_pki();
  auto dir = make_temp_dir("bbgw-tls");
  gateway gw(dir, tls_listeners(pki));
  std::string ca = (pki / "ca.crt").string();

  auto ok = curl(gw.url("https") + "/healthz", {"--cacert", ca, "--tlsv1.3"});
  EXPECT_EQ(ok.status, 200);
  auto v12 = curl(gw.url("https") + "/healthz", {"--cacert", ca, "--tlsv1.2", "--tls-max", "1.2"});
  EXPECT_EQ(v12.status, 200) << "TLS 1.2 is the minimum, still accepted";
  auto v11 = curl(gw.url("https") + "/healthz", {"--cacert", ca, "--tls-max", "1.1"});
  EXPECT_EQ(v11.status, 0) << "TLS 1.1 must be refused";
  auto untrusted = curl(gw.url("https") + "/healthz");
  EXPECT_EQ(untrusted.status, 0) << "the dev CA is not a public CA";

  auto no_cert = curl(gw.url("https-mtls") + "/healthz", {"--cacert", ca});
  EXPECT_EQ(no_cert.status, 0) << "mTLS listener accepted a client without a certificate";
  auto with_cert = curl(gw.url("https-mtls") + "/healthz",
                        {"--cacert", ca, "--cert", (pki / "tls-client.crt").string(), "--key",
                         (pki / "tls-client.key").string()});
  EXPECT_EQ(with_cert.status, 200);
  // A certificate from another CA is refused.
  auto other = make_temp_dir("bbgw-other-ca");
  auto [rc, out] = run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "
      "/CN=intruder -keyout " + (other / "k.pem").string() + " -out " + (other / "c.pem").string());
  ASSERT_EQ(rc, 0) << out;
  auto wrong = curl(gw.url("https-mtls") + "/healthz",
                    {"--cacert", ca, "--cert", (other / "c.pem").string(), "--key",
                     (other / "k.pem").string()});
  EXPECT_EQ(wrong.status, 0) << "mTLS listener accepted a certificate from another CA";
}

}  // namespace
}  // namespace bbgw::it

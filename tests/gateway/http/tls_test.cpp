// TLS listeners: TLS 1.3 preferred, TLS 1.2 minimum with ECDHE+AEAD only, client certificates
// (mTLS) required or optional against a configured CA. Certificates are made at run time.
#include <gtest/gtest.h>

#include "../../support/test_pki.hpp"
#include "http_test_support.hpp"

namespace bbgw::http {
namespace {

using namespace bbgw::testing;
using namespace std::chrono_literals;

// A PKI per test: a CA with a server and a client certificate, and a second, unrelated CA with
// its own client certificate.
struct pki {
  temp_dir dir;
  test_ca ca{"Test CA"};
  test_ca other_ca{"Other CA"};
  pem_pair ca_files = ca.write(dir.path(), "ca");
  pem_pair server = ca.issue(dir.path(), "server", "localhost", true);
  pem_pair client = ca.issue(dir.path(), "client", "client", false);
  pem_pair stranger = other_ca.issue(dir.path(), "stranger", "stranger", false);
};

bbgw::response whoami(bbgw::request const& q) {
  std::string body = q.tls ? "tls" : "plain";
  body += "|";
  body += q.client_subject.value_or("-");
  body += "|";
  body += q.client_certificate_der ? std::to_string(q.client_certificate_der->size()) : "0";
  return bbgw::response::text(200, body);
}

http::server_settings tls_settings_for(pki const& p, client_auth verify) {
  auto st = test_settings();
  st.listeners[0].name = "tls";
  http::tls_settings t;
  t.certificate_file = p.server.cert_file;
  t.private_key_file = p.server.key_file;
  if (verify != client_auth::none) t.client_ca_file = p.ca_files.cert_file;
  t.client_verify = verify;
  st.listeners[0].tls = t;
  return st;
}

// Handshake, one request, one response; nullopt when refused at any point.
std::optional<http_response> tls_get(std::uint16_t port, tls_client_options const& o,
                                     int* version = nullptr) {
  test_client c(port);
  if (!c.handshake(o)) return std::nullopt;
  if (version) *version = c.tls_version();
  // With TLS 1.3 the server checks the client certificate after the client's handshake has
  // completed, so a refusal may only show as the connection failing here.
  if (!c.send(get_request("/whoami"))) return std::nullopt;
  return c.read_response(false, 3000ms);
}

double handshake_rejections(running_server const& s) {
  return s.metrics.value("bbgw_http_connections_rejected_total", {{"reason", "tls_handshake"}});
}

TEST(http_tls, serves_over_tls13_by_default) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::none),
                   {make_route({"GET"}, "/whoami", whoami)});
  EXPECT_TRUE(s.bound.at(0).tls);
  EXPECT_TRUE(s.log.contains("listening", {{"listener", "tls"}, {"tls", "true"}}));
  int version = 0;
  auto r = tls_get(s.port(), {.ca_file = p.ca_files.cert_file}, &version);
  ASSERT_TRUE(r);
  EXPECT_EQ(version, TLS1_3_VERSION);
  EXPECT_EQ(r->body(), "tls|-|0");
  EXPECT_EQ(handshake_rejections(s), 0);
}

TEST(http_tls, accepts_tls12_with_ecdhe_aead) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::none),
                   {make_route({"GET"}, "/whoami", whoami)});
  int version = 0;
  auto r =
      tls_get(s.port(), {.ca_file = p.ca_files.cert_file, .max_version = TLS1_2_VERSION}, &version);
  ASSERT_TRUE(r);
  EXPECT_EQ(version, TLS1_2_VERSION);
}

TEST(http_tls, refuses_tls11) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::none),
                   {make_route({"GET"}, "/whoami", whoami)});
  // The client really offers TLS 1.1 (security level 0), so the refusal is the server's.
  test_client c(s.port());
  EXPECT_FALSE(c.handshake({.ca_file = p.ca_files.cert_file,
                            .min_version = TLS1_1_VERSION,
                            .max_version = TLS1_1_VERSION,
                            .legacy = true}));
  EXPECT_NE(c.handshake_error.find("protocol version"), std::string::npos) << c.handshake_error;
  EXPECT_TRUE(eventually([&] { return handshake_rejections(s) == 1; }));
}

TEST(http_tls, refuses_tls12_without_forward_secrecy) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::none),
                   {make_route({"GET"}, "/whoami", whoami)});
  test_client c(s.port());
  EXPECT_FALSE(c.handshake({.ca_file = p.ca_files.cert_file,
                            .max_version = TLS1_2_VERSION,
                            .ciphers = "AES128-GCM-SHA256:AES128-SHA"}));
  EXPECT_TRUE(eventually([&] { return handshake_rejections(s) == 1; }));
}

TEST(http_tls, mtls_required_refuses_a_client_without_certificate) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::required),
                   {make_route({"GET"}, "/whoami", whoami)});
  EXPECT_FALSE(tls_get(s.port(), {.ca_file = p.ca_files.cert_file}));
  EXPECT_TRUE(eventually([&] { return handshake_rejections(s) == 1; }));
}

TEST(http_tls, mtls_required_accepts_a_client_certificate_from_the_ca) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::required),
                   {make_route({"GET"}, "/whoami", whoami)});
  auto r = tls_get(s.port(), {.ca_file = p.ca_files.cert_file,
                              .cert_file = p.client.cert_file,
                              .key_file = p.client.key_file});
  ASSERT_TRUE(r);
  auto body = r->body();
  EXPECT_TRUE(body.starts_with("tls|CN=client,O=BB Gateway Test|")) << body;
  EXPECT_NE(body, "tls|CN=client,O=BB Gateway Test|0");  // DER present
  EXPECT_EQ(handshake_rejections(s), 0);
}

TEST(http_tls, mtls_required_refuses_a_certificate_from_another_ca) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::required),
                   {make_route({"GET"}, "/whoami", whoami)});
  EXPECT_FALSE(tls_get(s.port(), {.ca_file = p.ca_files.cert_file,
                                  .cert_file = p.stranger.cert_file,
                                  .key_file = p.stranger.key_file}));
  EXPECT_TRUE(eventually([&] { return handshake_rejections(s) == 1; }));
}

TEST(http_tls, mtls_optional_accepts_no_certificate_but_refuses_an_invalid_one) {
  pki p;
  running_server s(tls_settings_for(p, client_auth::optional),
                   {make_route({"GET"}, "/whoami", whoami)});
  auto anon = tls_get(s.port(), {.ca_file = p.ca_files.cert_file});
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->body(), "tls|-|0");
  auto good = tls_get(s.port(), {.ca_file = p.ca_files.cert_file,
                                 .cert_file = p.client.cert_file,
                                 .key_file = p.client.key_file});
  ASSERT_TRUE(good);
  EXPECT_TRUE(good->body().starts_with("tls|CN=client,O=BB Gateway Test|"));
  EXPECT_FALSE(tls_get(s.port(), {.ca_file = p.ca_files.cert_file,
                                  .cert_file = p.stranger.cert_file,
                                  .key_file = p.stranger.key_file}));
  EXPECT_TRUE(eventually([&] { return handshake_rejections(s) == 1; }));
}

TEST(http_tls, handshake_timeout_cuts_a_silent_client) {
  pki p;
  auto st = tls_settings_for(p, client_auth::none);
  st.lim.handshake_timeout = 300ms;
  running_server s(st, {make_route({"GET"}, "/whoami", whoami)});
  test_client c(s.port());  // connects, never sends a ClientHello
  EXPECT_TRUE(c.closed_within(3000ms));
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_timeouts_total", {{"phase", "handshake"}}) == 1;
  }));
}

TEST(http_tls, start_fails_naming_listener_and_file_when_certificate_is_missing) {
  pki p;
  auto st = tls_settings_for(p, client_auth::none);
  st.listeners[0].tls->certificate_file = p.dir.file("missing.crt");
  fake_metrics metrics;
  fake_logger log;
  http::server srv(st, http::router{}, metrics, log);
  try {
    srv.start();
    FAIL() << "expected runtime_error";
  } catch (std::runtime_error const& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("\"tls\""), std::string::npos) << what;
    EXPECT_NE(what.find("missing.crt"), std::string::npos) << what;
  }
}

TEST(http_tls, start_fails_when_the_key_does_not_match_without_printing_it) {
  pki p;
  auto st = tls_settings_for(p, client_auth::none);
  st.listeners[0].tls->private_key_file = p.client.key_file;
  fake_metrics metrics;
  fake_logger log;
  http::server srv(st, http::router{}, metrics, log);
  try {
    srv.start();
    FAIL() << "expected runtime_error";
  } catch (std::runtime_error const& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("client.key"), std::string::npos) << what;
    EXPECT_EQ(what.find("PRIVATE KEY"), std::string::npos) << what;
  }
}

TEST(http_tls, start_fails_when_client_verification_has_no_ca) {
  pki p;
  auto st = tls_settings_for(p, client_auth::required);
  st.listeners[0].tls->client_ca_file.clear();
  fake_metrics metrics;
  fake_logger log;
  http::server srv(st, http::router{}, metrics, log);
  EXPECT_THROW(srv.start(), std::runtime_error);
}

}  // namespace
}  // namespace bbgw::http

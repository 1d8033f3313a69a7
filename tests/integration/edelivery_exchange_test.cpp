// Two gateway processes exchange an AS4 message over HTTP: the platform submits to A
// (POST /api/v1/edelivery/messages), A compresses, signs and encrypts three payloads for B and
// pushes them; B verifies, stores, emits `received` and answers a signed receipt; A verifies the
// receipt and emits `delivered`. Both sides' events are read back with an independent Kafka
// consumer and validated against their JSON Schemas. Over mTLS: B down for a while → A retries
// with backoff, B comes up → delivered (submitted, sent, delivered on A; received on B); the
// message as A sent it, replayed to B, gets the first receipt again and no second event.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

std::string const as4 = std::string(BBGW_SOURCE_DIR) + "/../shared/fixtures/as4/as4net/";

std::string pem(std::filesystem::path const& out, std::string const& pfx, std::string const& pw) {
  auto [rc, text] =
      run_command("openssl pkcs12 -in " + as4 + pfx + " -passin pass:" + pw +
                  " -nokeys -clcerts 2>/dev/null | openssl x509 -out " + out.string() + " 2>&1");
  EXPECT_EQ(rc, 0) << text;
  return out.string();
}

std::string section(std::filesystem::path const& dir, std::string const& own_pfx,
                    std::string const& own_pw, std::string const& domain,
                    std::string const& pmode) {
  return "  edelivery:\n"
         "    enabled: true\n"
         "    key: {pkcs12: " +
         as4 + own_pfx + ", password: " + own_pw +
         "}\n"
         "    party_domain: " +
         domain +
         "\n"
         "    payload_dir: " +
         (dir / "payloads").string() +
         "\n"
         "    xsd_dir: " +
         std::string(BBGW_SOURCE_DIR) +
         "/schemas/xsd/ebms\n"
         "    pmodes:\n" +
         pmode;
}

std::string pmode(std::string const& id, std::string const& endpoint, std::string const& cert,
                  std::string const& tls = "", int attempts = 5,
                  std::string const& retry = "retry_interval: 200ms") {
  return "      - id: " + id + "\n" +
         // Sending: gzip every payload (the default, auto, would skip these tiny ones).
         (endpoint.empty() ? ""
                           : "        endpoint: " + endpoint + "\n        compression: gzip\n") +
         (tls.empty() ? "" : "        tls: " + tls + "\n") +
         "        service: Permits\n"
         "        service_type: 'urn:services'\n"
         "        action: Submit\n"
         "        initiator: {party_id: gw-a, party_type: 'urn:t', role: Sender}\n"
         "        responder: {party_id: gw-b, party_type: 'urn:t', role: Receiver}\n"
         "        security: {encrypt: true, partner_certificates: [" +
         cert +
         "]}\n"
         "        reliability: {max_attempts: " +
         std::to_string(attempts) + ", " + retry + "}\n";
}

void validate(std::filesystem::path const& dir, kafka_record const& rec,
              std::string const& schema) {
  auto f = dir / "ev.json";
  write_file(f, rec.value);
  auto [rc, out] = run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                               "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                               "/schemas/events/" + schema + " " + f.string());
  EXPECT_EQ(rc, 0) << out << rec.value;
}

std::string schema_of(kafka_record const& r) {
  return json::parse(r.value).at("type") == "eu.bbgateway.edelivery.message.sent.v1"
             ? "edelivery.message.sent.json"
             : "edelivery.message.outbound.json";
}

TEST(EdeliveryExchange, AtoBDeliveredReceiptedAndPublishedOnBothSides) {
  auto dir_a = make_temp_dir("bbgw-it-as4-a");
  auto dir_b = make_temp_dir("bbgw-it-as4-b");
  auto a_cert = pem(dir_b / "a.pem", "AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  auto b_cert = pem(dir_a / "b.pem", "AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  gateway b{dir_b, gateway_yaml("", section(dir_b, "AccessPointB.pfx", "Pz4cZK4SULUwmraZb",
                                            "gw-b.test", pmode("from-a", "", a_cert)))};
  gateway a{dir_a,
            gateway_yaml("", section(dir_a, "AccessPointA.pfx", "Pz4cZK4SULUwmraZa", "gw-a.test",
                                     pmode("to-b", b.url() + "/edelivery/as4", b_cert)))};

  auto res = post_json(a.url() + "/api/v1/edelivery/messages",
                       R"({"pmode": "to-b", "conversationId": "case-42",
                           "payloads": [{"mimeType": "application/xml", "contentBase64": "PHBlcm1pdC8+"},
                                        {"mimeType": "text/plain", "contentBase64": "aGVsbG8="},
                                        {"mimeType": "application/pdf", "contentBase64": "JVBERi0xLjQK"}]})");
  ASSERT_EQ(res.status, 202) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());

  // A: submitted, sent, then delivered (keyed by the conversation).
  auto a_events = consume(a.bootstrap(), "bbgw.edelivery", 3, 20s);
  ASSERT_EQ(a_events.size(), 3u);
  for (auto const& r : a_events) {
    EXPECT_EQ(r.key, "case-42");
    validate(dir_a, r, schema_of(r));
  }
  EXPECT_EQ(json::parse(a_events[0].value).at("type"),
            "eu.bbgateway.edelivery.message.submitted.v1");
  EXPECT_EQ(json::parse(a_events[1].value).at("type"), "eu.bbgateway.edelivery.message.sent.v1");
  EXPECT_EQ(json::parse(a_events[2].value).at("type"),
            "eu.bbgateway.edelivery.message.delivered.v1");
  auto st = curl(a.url() + "/api/v1/edelivery/messages/" + id);
  ASSERT_EQ(st.status, 200);
  EXPECT_EQ(json::parse(st.body).at("status"), "delivered");

  // B: received, with the same three payload digests, and the bytes served.
  auto b_events = consume(b.bootstrap(), "bbgw.edelivery", 1, 20s);
  ASSERT_EQ(b_events.size(), 1u);
  validate(dir_b, b_events[0], "edelivery.message.received.json");
  auto got = json::parse(b_events[0].value).at("data");
  EXPECT_EQ(got.at("messageId"), json::string(id));
  auto const submitted = json::parse(a_events[0].value);
  auto const& sent = submitted.at("data").at("payloads").as_array();
  auto const& recv = got.at("payloads").as_array();
  ASSERT_EQ(recv.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(recv[i].at("sha256"), sent[i].at("sha256"));
  auto bytes = curl(b.url() + std::string(recv[1].at("href").as_string()));
  EXPECT_EQ(bytes.body, "hello");
}

TEST(EdeliveryExchange, OverMutualTlsOnlyWithTheClientCertificate) {
  auto pki = dev_pki();
  std::string p = pki.string();
  auto dir_a = make_temp_dir("bbgw-it-as4-ma");
  auto dir_b = make_temp_dir("bbgw-it-as4-mb");
  auto a_cert = pem(dir_b / "a.pem", "AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  auto b_cert = pem(dir_a / "b.pem", "AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  auto b_yaml = gateway_yaml("", section(dir_b, "AccessPointB.pfx", "Pz4cZK4SULUwmraZb",
                                         "gw-b.test", pmode("from-a", "", a_cert)));
  std::string const http_listener = "    - {name: http, address: 127.0.0.1, port: 0}\n";
  ASSERT_NE(b_yaml.find(http_listener), std::string::npos);
  b_yaml.replace(b_yaml.find(http_listener), http_listener.size(),
                 http_listener +
                     "    - name: https-mtls\n"
                     "      address: 127.0.0.1\n"
                     "      port: 0\n"
                     "      tls: {certificate: " +
                     p + "/tls-server-chain.crt, private_key: " + p +
                     "/tls-server.key, client_ca: " + p + "/ca.crt, client_auth: required}\n");
  gateway b{dir_b, b_yaml};
  auto endpoint = b.url("https-mtls") + "/edelivery/as4";
  auto with_cert = "{ca_file: " + p + "/ca.crt, certificate: " + p +
                   "/tls-client.crt, private_key: " + p + "/tls-client.key}";
  auto without_cert = "{ca_file: " + p + "/ca.crt}";
  gateway a{dir_a,
            gateway_yaml("", section(dir_a, "AccessPointA.pfx", "Pz4cZK4SULUwmraZa", "gw-a.test",
                                     pmode("mtls", endpoint, b_cert, with_cert) +
                                         pmode("no-cert", endpoint, b_cert, without_cert, 2)))};
  auto submit = [&](std::string const& pm, std::string const& content_base64) {
    auto res = post_json(
        a.url() + "/api/v1/edelivery/messages",
        R"({"pmode": ")" + pm +
            R"(", "conversationId": "c", "payloads": [{"mimeType": "text/plain", "contentBase64": ")" +
            content_base64 + R"("}]})");
    EXPECT_EQ(res.status, 202) << res.body;
    return std::string(json::parse(res.body).at("messageId").as_string());
  };
  // Over 1 MiB: A sends it while it builds it (chunked, over mutual TLS), B reads it while it
  // arrives.
  std::string large;
  for (int i = 0; large.size() < (3u << 19); ++i)
    large += "line " + std::to_string(i) + " of a case file\n";
  write_file(dir_a / "large.txt", large);
  auto [b64_rc, large_base64] = run_command("base64 -w0 " + (dir_a / "large.txt").string());
  ASSERT_EQ(b64_rc, 0);
  auto ok_id = submit("mtls", large_base64);
  auto refused_id = submit("no-cert", "aGVsbG8=");
  // submitted ×2, then sent + delivered and failed (the refused one never reached B).
  auto events = consume(a.bootstrap(), "bbgw.edelivery", 5, 30s);
  ASSERT_EQ(events.size(), 5u);
  auto status = [&](std::string const& id) {
    auto r = curl(a.url() + "/api/v1/edelivery/messages/" + id);
    return json::parse(r.body).as_object();
  };
  EXPECT_EQ(status(ok_id).at("status"), "delivered");
  auto refused = status(refused_id);
  EXPECT_EQ(refused.at("status"), "failed");
  EXPECT_EQ(refused.at("ebmsCode"), "EBMS:0301");
  EXPECT_EQ(consume(b.bootstrap(), "bbgw.edelivery", 2, 3s).size(), 1u) << "only the mTLS one";
}

// A port held for a gateway started later: bound (SO_REUSEADDR) but never listening, so that
// connections to it are refused like to a gateway that is down, and neither another test's
// bind(0) nor an outgoing connection's ephemeral port (a client trying it could even connect to
// itself) can take it meanwhile. The gateway's listener (SO_REUSEADDR too) binds it while it is
// still held: Linux allows that as long as no socket listens on it.
class reserved_port {
 public:
  reserved_port() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    EXPECT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on), 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~reserved_port() { ::close(fd_); }
  reserved_port(reserved_port const&) = delete;
  reserved_port& operator=(reserved_port const&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// SHA-256 (hex) by coreutils' sha256sum, an independent implementation.
std::string sha256_hex(std::filesystem::path const& dir, std::string const& s) {
  auto f = dir / "sha256.in";
  write_file(f, s);
  auto [rc, out] = run_command("sha256sum " + f.string());
  EXPECT_EQ(rc, 0) << out;
  return out.substr(0, 64);
}

TEST(EdeliveryExchange, OverMutualTlsBDownForAWhileThenDeliveredAndADuplicateGetsTheFirstReceipt) {
  auto pki = dev_pki();
  std::string p = pki.string();
  auto dir_a = make_temp_dir("bbgw-it-as4-da");
  auto dir_b = make_temp_dir("bbgw-it-as4-db");
  auto a_cert = pem(dir_b / "a.pem", "AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  auto b_cert = pem(dir_a / "b.pem", "AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  reserved_port const b_reserved;  // held until the end: B binds it while it is held
  auto const b_port = b_reserved.port();
  auto endpoint = "https://127.0.0.1:" + std::to_string(b_port) + "/edelivery/as4";
  auto client_tls = "{ca_file: " + p + "/ca.crt, certificate: " + p +
                    "/tls-client.crt, private_key: " + p + "/tls-client.key}";
  gateway a{dir_a,
            gateway_yaml("", section(dir_a, "AccessPointA.pfx", "Pz4cZK4SULUwmraZa", "gw-a.test",
                                     pmode("to-b", endpoint, b_cert, client_tls, 20,
                                           "retry_interval: 100ms, retry_max: 400ms")))};

  // Submitted as multipart/form-data by curl (an independent client): metadata + two files.
  write_file(dir_a / "permit.xml", "<permit id=\"7\"/>");
  write_file(dir_a / "note.txt", "hello from A");
  auto res = curl(
      a.url() + "/api/v1/edelivery/messages",
      {"-F", R"(metadata={"pmode": "to-b", "conversationId": "case-down"};type=application/json)",
       "-F", "payload=@" + (dir_a / "permit.xml").string() + ";type=application/xml", "-F",
       "payload=@" + (dir_a / "note.txt").string() + ";type=text/plain"});
  ASSERT_EQ(res.status, 202) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());

  // B is down: A retries with backoff (its log says so, twice), and the message stays submitted.
  int retries = 0;
  auto retried = a.proc().wait_line(
      [&](std::string const& l) {
        return l.find("no receipt yet, retrying") != std::string::npos && ++retries >= 2;
      },
      15s);
  ASSERT_TRUE(retried) << "A did not retry";
  auto status = [&] {
    return json::parse(curl(a.url() + "/api/v1/edelivery/messages/" + id).body).as_object();
  };
  EXPECT_EQ(status().at("status"), "submitted");

  // B comes up on the port A is trying, behind mTLS.
  auto b_yaml = gateway_yaml("", section(dir_b, "AccessPointB.pfx", "Pz4cZK4SULUwmraZb",
                                         "gw-b.test", pmode("from-a", "", a_cert)));
  std::string const http_listener = "    - {name: http, address: 127.0.0.1, port: 0}\n";
  ASSERT_NE(b_yaml.find(http_listener), std::string::npos);
  b_yaml.replace(b_yaml.find(http_listener), http_listener.size(),
                 http_listener + "    - name: https-mtls\n      address: 127.0.0.1\n      port: " +
                     std::to_string(b_port) + "\n      tls: {certificate: " + p +
                     "/tls-server-chain.crt, private_key: " + p +
                     "/tls-server.key, client_ca: " + p + "/ca.crt, client_auth: required}\n");
  gateway b{dir_b, b_yaml};

  // A: submitted, sent, delivered (keyed by the conversation), valid against their schemas.
  auto a_events = consume(a.bootstrap(), "bbgw.edelivery", 3, 30s);
  ASSERT_EQ(a_events.size(), 3u);
  std::vector<std::string> types;
  for (auto const& r : a_events) {
    EXPECT_EQ(r.key, "case-down");
    auto type = std::string(json::parse(r.value).at("type").as_string());
    types.push_back(type);
    validate(dir_a, r, schema_of(r));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"eu.bbgateway.edelivery.message.submitted.v1",
                                             "eu.bbgateway.edelivery.message.sent.v1",
                                             "eu.bbgateway.edelivery.message.delivered.v1"}));
  auto st = status();
  EXPECT_EQ(st.at("status"), "delivered");
  EXPECT_GT(st.at("attempts").as_int64(), 2) << "delivered after retries";
  auto receipt_id = std::string(st.at("receiptId").as_string());

  // B: one received event with both payloads' digests; the bytes are served.
  auto b_events = consume(b.bootstrap(), "bbgw.edelivery", 1, 20s);
  ASSERT_EQ(b_events.size(), 1u);
  validate(dir_b, b_events[0], "edelivery.message.received.json");
  auto got = json::parse(b_events[0].value).at("data");
  EXPECT_EQ(got.at("messageId"), json::string(id));
  auto const& recv = got.at("payloads").as_array();
  ASSERT_EQ(recv.size(), 2u);
  EXPECT_EQ(recv[0].at("sha256"), json::string(sha256_hex(dir_a, "<permit id=\"7\"/>")));
  EXPECT_EQ(curl(b.url() + std::string(recv[1].at("href").as_string())).body, "hello from A");

  // The duplicate: the message exactly as A sent it (kept beside its payloads), pushed to B
  // again by curl with A's client certificate → B's first receipt, no second event.
  auto sent_file = dir_a / "payloads" / "out" / sha256_hex(dir_a, id) / "as4-message";
  auto sent = read_file(sent_file);
  ASSERT_FALSE(sent.empty()) << sent_file;
  EXPECT_NE(sent.find("CompressionType"), std::string::npos) << "PMode compression: gzip";
  EXPECT_FALSE(std::filesystem::exists(sent_file.string() + ".partial")) << "built, then renamed";
  auto boundary = sent.substr(2, sent.find("\r\n") - 2);
  auto dup = curl(endpoint, {"--cacert", p + "/ca.crt", "--cert", p + "/tls-client.crt", "--key",
                             p + "/tls-client.key", "-H",
                             "Content-Type: multipart/related; type=\"application/soap+xml\"; "
                             "boundary=\"" +
                                 boundary + "\"",
                             "--data-binary", "@" + sent_file.string()});
  EXPECT_EQ(dup.status, 200);
  EXPECT_NE(dup.body.find("Receipt"), std::string::npos) << dup.body;
  EXPECT_NE(dup.body.find(receipt_id), std::string::npos) << "the first receipt, again";
  EXPECT_EQ(consume(b.bootstrap(), "bbgw.edelivery", 2, 3s).size(), 1u) << "no second event";
}

}  // namespace
}  // namespace bbgw::it

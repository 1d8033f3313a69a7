// The eDelivery connector through the real gateway: an AS4.NET vector (encrypted and signed by
// AccessPointA for AccessPointB) is POSTed over HTTP with curl; the signed receipt is verified
// with the xmlsec1 command-line tool (an independent verifier) against AccessPointB's
// certificate; the `message received` event is read back by an independent Kafka consumer and
// validated against its JSON Schema; the platform API serves the payload bytes; a duplicate
// gets the same receipt and no second event; a tampered copy gets an eb:Error and no event.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;

std::string const as4_dir = std::string(BBGW_SOURCE_DIR) + "/../shared/fixtures/as4/as4net/";
std::string const message_id = "b545c3a0-e57f-46aa-862f-381eb4b70097@CLT-SMOREELS.mshome.net";

std::string certificate_pem(std::filesystem::path const& out, std::string const& pfx,
                            std::string const& password) {
  auto [rc, text] =
      run_command("openssl pkcs12 -in " + as4_dir + pfx + " -passin pass:" + password +
                  " -nokeys -clcerts 2>/dev/null | openssl x509 -out " + out.string() + " 2>&1");
  EXPECT_EQ(rc, 0) << text;
  return out.string();
}

std::string edelivery_section(std::filesystem::path const& dir) {
  auto a = certificate_pem(dir / "accesspoint-a.pem", "AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  return "  edelivery:\n"
         "    enabled: true\n"
         "    body_limit: 2MiB\n"
         "    key: {pkcs12: " +
         as4_dir +
         "AccessPointB.pfx, password: Pz4cZK4SULUwmraZb}\n"
         "    party_domain: gw-b.test\n"
         "    payload_dir: " +
         (dir / "payloads").string() +
         "\n"
         "    xsd_dir: " +
         std::string(BBGW_SOURCE_DIR) +
         "/schemas/xsd/ebms\n"
         "    pmodes:\n"
         "      - id: holodeck-test\n"
         "        agreement: http://agreements.holodeckb2b.org/examples/agreement0\n"
         "        service: Test\n"
         "        service_type: 'org:holodeckb2b:services'\n"
         "        action: StoreMessage\n"
         "        initiator: {party_id: 'org:holodeckb2b:example:company:A', role: Sender}\n"
         "        responder: {party_id: 'org:eu:europa:as4:example', role: Receiver}\n"
         "        security: {sign: true, encrypt: true, partner_certificates: [" +
         a +
         "]}\n"
         "        reliability: {duplicate_window: 1h}\n";
}

struct EdeliveryReceive : ::testing::Test {
  std::filesystem::path dir = make_temp_dir("bbgw-it-as4");
  gateway gw{dir, gateway_yaml("", edelivery_section(dir))};

  http_result post(std::string const& file) {
    auto body = read_file(file);
    auto boundary = body.substr(2, body.find("\r\n") - 2);
    return curl(gw.url() + "/edelivery/as4",
                {"-X", "POST", "--data-binary", "@" + file, "-H",
                 "Content-Type: multipart/related; type=\"application/soap+xml\"; boundary=\"" +
                     boundary + "\""});
  }
};

TEST_F(EdeliveryReceive, EncryptedMessageIsReceiptedStoredAndPublished) {
  auto res = post(as4_dir + "as4-encrypted-signed-issuerserial.as4");
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find("NonRepudiationInformation"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find(message_id), std::string::npos);
  // Read while it arrived (each attachment decrypted on the way), not spooled first.
  auto metrics = curl(gw.url() + "/metrics").body;
  EXPECT_NE(metrics.find("bbgw_http_streamed_bodies_total 1\n"), std::string::npos) << metrics;

  // xmlsec1 verifies our receipt's signature (eb:Messaging and Body by wsu:Id).
  auto receipt = dir / "receipt.xml";
  write_file(receipt, res.body);
  auto b = certificate_pem(dir / "accesspoint-b.pem", "AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  auto [rc, out] = run_command(
      "xmlsec1 --verify --id-attr:Id Messaging --id-attr:Id Body "
      "--pubkey-cert-pem " +
      b + " " + receipt.string() + " 2>&1");
  EXPECT_EQ(rc, 0) << out;

  // The event, read back by an independent consumer.
  auto recs = consume(gw.bootstrap(), "bbgw.edelivery", 1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, "org:holodeckb2b:test:conversation");
  auto ev = json::parse(recs[0].value).as_object();
  EXPECT_EQ(ev.at("type"), "eu.bbgateway.edelivery.message.received.v1");
  EXPECT_EQ(ev.at("subject"), json::string(message_id));
  auto ev_file = dir / "event.json";
  write_file(ev_file, recs[0].value);
  auto [vrc, vout] = run_command(
      "/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) + "/tests/tools/validate_json.py " +
      BBGW_SOURCE_DIR + "/schemas/events/edelivery.message.received.json " + ev_file.string());
  EXPECT_EQ(vrc, 0) << vout;
  auto const& payloads = ev.at("data").at("payloads").as_array();
  ASSERT_EQ(payloads.size(), 2u);
  EXPECT_EQ(recs[0].value.find("/9j/"), std::string::npos) << "no inline JPEG bytes";

  // The platform API: status and the payload bytes (checked against the event's SHA-256).
  auto status = curl(gw.url() + "/api/v1/edelivery/messages/" + message_id);
  ASSERT_EQ(status.status, 200) << status.body;
  EXPECT_EQ(json::parse(status.body).at("status"), "received");
  for (auto const& p : payloads) {
    auto href = std::string(p.at("href").as_string());
    auto got = curl(gw.url() + href);
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(got.headers["content-type"], std::string(p.at("mimeType").as_string()));
    EXPECT_EQ(got.body.size(), p.at("size").to_number<std::size_t>());
    auto file = dir / "payload.bin";
    write_file(file, got.body);
    auto [src, sum] = run_command("sha256sum " + file.string());
    ASSERT_EQ(src, 0) << sum;
    EXPECT_EQ(sum.substr(0, 64), std::string(p.at("sha256").as_string()));
  }

  // A duplicate: the same receipt, no second event.
  auto again = post(as4_dir + "as4-encrypted-signed-issuerserial.as4");
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, res.body);
  EXPECT_EQ(consume(gw.bootstrap(), "bbgw.edelivery", 2, 3s).size(), 1u);
}

TEST_F(EdeliveryReceive, TamperedMessageGetsAnEbmsErrorAndNoEvent) {
  auto body = read_file(as4_dir + "as4-encrypted-signed-keyidentifier.as4");
  auto last = body.rfind("--MIMEBoundary");
  body[last - 50] ^= 0x01;  // inside the last encrypted attachment
  auto file = dir / "tampered.as4";
  write_file(file, body);
  auto res = post(file.string());
  EXPECT_NE(res.body.find("errorCode=\"EBMS:0102\""), std::string::npos) << res.body;
  EXPECT_NE(curl(gw.url() + "/metrics").body.find("bbgw_http_streamed_bodies_total 1\n"),
            std::string::npos);
  auto status = curl(gw.url() +
                     "/api/v1/edelivery/messages/"
                     "c3df11e3-39fa-467a-8593-10780f9d8d57@CLT-SMOREELS.mshome.net");
  EXPECT_EQ(status.status, 404) << "nothing stored";
  EXPECT_TRUE(consume(gw.bootstrap(), "bbgw.edelivery", 1, 3s).empty());
}

// A PMode bound to the partner's TLS client certificate, on a real mTLS listener (client
// certificates optional at the TLS level, so the connector decides): without the certificate →
// eb:Error EBMS:0101 and nothing stored; with it → the signed receipt. The message is also a
// larger one (8 MiB, made by the independent generator) so that the spooled-body route of the
// real server is what reads it.
TEST(EdeliveryReceiveTls, PmodeBoundToTheClientCertificate) {
  auto pki = dev_pki();
  std::string p = pki.string();
  auto dir = make_temp_dir("bbgw-it-as4-mtls");
  auto a = certificate_pem(dir / "accesspoint-a.pem", "AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  auto yaml = gateway_yaml(
      "",
      "  edelivery:\n"
      "    enabled: true\n"
      "    body_limit: 64MiB\n"
      "    key: {pkcs12: " +
          as4_dir +
          "AccessPointB.pfx, password: Pz4cZK4SULUwmraZb}\n"
          "    payload_dir: " +
          (dir / "payloads").string() +
          "\n"
          "    pmodes:\n"
          "      - id: holodeck-test\n"
          "        agreement: http://agreements.holodeckb2b.org/examples/agreement0\n"
          "        service: Test\n"
          "        service_type: 'org:holodeckb2b:services'\n"
          "        action: StoreMessage\n"
          "        initiator: {party_id: 'org:holodeckb2b:example:company:A', role: Sender}\n"
          "        responder: {party_id: 'org:eu:europa:as4:example', role: Receiver}\n"
          "        tls_client_certificates: [" +
          p + "/tls-client.crt]\n" +
          "        security: {sign: true, encrypt: true, partner_certificates: [" + a + "]}\n");
  std::string const http_listener = "    - {name: http, address: 127.0.0.1, port: 0}\n";
  ASSERT_NE(yaml.find(http_listener), std::string::npos);
  yaml.replace(yaml.find(http_listener), http_listener.size(),
               http_listener +
                   "    - name: https-mtls\n"
                   "      address: 127.0.0.1\n"
                   "      port: 0\n"
                   "      tls: {certificate: " +
                   p + "/tls-server-chain.crt, private_key: " + p +
                   "/tls-server.key, client_ca: " + p + "/ca.crt, client_auth: optional}\n");
  gateway gw{dir, yaml};

  auto message = dir / "large.as4";
  auto [grc, gen] =
      run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                  "/tests/connectors/edelivery/make_large_as4.py " + message.string() +
                  " 8388608 " + as4_dir + "AccessPointA.pfx Pz4cZK4SULUwmraZa " + as4_dir +
                  "AccessPointB.pfx Pz4cZK4SULUwmraZb large-mtls@it.test 2>&1");
  ASSERT_EQ(grc, 0) << gen;
  auto info = json::parse(gen).as_object();
  auto content_type = std::string(info.at("content_type").as_string());
  auto post = [&](std::vector<std::string> tls) {
    std::vector<std::string> args{"-X",
                                  "POST",
                                  "--data-binary",
                                  "@" + message.string(),
                                  "-H",
                                  "Content-Type: " + content_type,
                                  "--cacert",
                                  p + "/ca.crt"};
    args.insert(args.end(), tls.begin(), tls.end());
    return curl(gw.url("https-mtls") + "/edelivery/as4", args);
  };
  auto refused = post({});
  EXPECT_NE(refused.body.find("errorCode=\"EBMS:0101\""), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("TLS client certificate"), std::string::npos);
  EXPECT_EQ(curl(gw.url() + "/api/v1/edelivery/messages/large-mtls@it.test").status, 404);
  EXPECT_TRUE(consume(gw.bootstrap(), "bbgw.edelivery", 1, 2s).empty());

  auto ok = post({"--cert", p + "/tls-client.crt", "--key", p + "/tls-client.key"});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.body.find("NonRepudiationInformation"), std::string::npos) << ok.body;
  auto status = curl(gw.url() + "/api/v1/edelivery/messages/large-mtls@it.test");
  ASSERT_EQ(status.status, 200) << status.body;
  auto const record = json::parse(status.body);
  auto const& payload = record.at("payloads").as_array()[0];
  EXPECT_EQ(payload.at("sha256"), info.at("payload_sha256"));
  EXPECT_EQ(payload.at("size").to_number<std::uint64_t>(), 8388608u);
  // The bytes come back streamed from the file, equal to what was sent.
  auto out = dir / "payload.bin";
  auto [crc, cout_] =
      run_command("curl -sS -o " + out.string() + " " + gw.url() +
                  std::string(payload.at("href").as_string()) + " && sha256sum " + out.string());
  ASSERT_EQ(crc, 0) << cout_;
  EXPECT_EQ(cout_.substr(0, 64), std::string(info.at("payload_sha256").as_string()));
  EXPECT_EQ(consume(gw.bootstrap(), "bbgw.edelivery", 1).size(), 1u);
}

// connectors.edelivery.retention: a wrong value stops start-up with exit code 2 naming the key;
// a good one (days) is shown by check-config.
TEST(EdeliveryConfig, RetentionOfPayloadsIsValidatedNamingTheKey) {
  auto dir = make_temp_dir("bbgw-it-as4cfg");
  auto const bbgw = std::string(BBGW_BINARY_DIR) + "/gateway/app/bbgw";
  auto section = edelivery_section(dir);
  write_file(dir / "bad.yaml", "connectors:\n" + section + "    retention: {payloads: forever}\n");
  auto [rc, out] = run_command(bbgw + " check-config " + (dir / "bad.yaml").string() + " 2>&1");
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("connectors.edelivery.retention.payloads"), std::string::npos) << out;
  write_file(dir / "good.yaml", "connectors:\n" + section + "    retention: {payloads: 90d}\n");
  auto [grc, gout] = run_command(bbgw + " check-config " + (dir / "good.yaml").string() + " 2>&1");
  EXPECT_EQ(grc, 0) << gout;
  EXPECT_NE(gout.find("payloads: 7776000000ms"), std::string::npos) << gout;  // 90 days
}

}  // namespace
}  // namespace bbgw::it

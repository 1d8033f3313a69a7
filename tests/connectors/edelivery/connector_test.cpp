// The receiving endpoint end to end in process: a real AS4.NET vector is POSTed, the signed
// receipt is verified (with our certificate, through the same verification code), the
// message, its payload files and its event are stored in one transaction; duplicates get the
// first receipt and no second event; refusals answer an eb:Error and store nothing.
#include <filesystem>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/inbound.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"

namespace bbgw::edelivery {
namespace {

using test::null_sink;

namespace fs = std::filesystem;

class null_http final : public http_client {
 public:
  result<client_response> send(client_request const&) override {
    return boost::system::errc::make_error_code(boost::system::errc::not_supported);
  }
};

void expect_valid_event(cloud_event const& ev) {
  auto file = fs::temp_directory_path() / ("bbgw-as4-ev-" + std::to_string(::getpid()) + ".json");
  std::ofstream(file) << to_structured_json(ev);
  std::string cmd = "/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                    "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                    "/schemas/events/edelivery.message.received.json " + file.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << to_structured_json(ev);
  fs::remove(file);
}

class receiving : public ::testing::Test {
 protected:
  receiving() {
    dir_ = fs::temp_directory_path() /
           ("bbgw-as4-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto c = test::holodeck_receiver_config(dir_);
    own_cert_ = c.own_key.public_only();
    time_.set(at("2018-12-19T08:56:30Z"));
    connector_ = std::make_unique<edelivery_connector>(c, ctx_);
  }
  ~receiving() override { fs::remove_all(dir_); }

  static sys_time at(std::string_view s) { return test::at(s); }

  response post(std::string body) {
    request req;
    req.method = "POST";
    req.path = "/edelivery/as4";
    auto first = body.substr(2, body.find("\r\n") - 2);
    req.headers.set("Content-Type",
                    "multipart/related; type=\"application/soap+xml\"; boundary=\"" + first + "\"");
    req.body = std::move(body);
    req.request_id = "req-1";
    return connector_->receive_as4(req);
  }

  std::string encrypted() { return test::fixture("as4net/as4-encrypted-signed-issuerserial.as4"); }

  double rejected(std::string const& reason, std::string const& code) {
    return metrics_.value("bbgw_edelivery_messages_rejected_total",
                          {{"reason", reason}, {"code", code}});
  }

  fs::path dir_;
  testing::manual_clock time_;
  testing::memory_store db_{time_};
  null_sink sink_;
  testing::fake_metrics metrics_;
  testing::fake_logger log_;
  null_http http_;
  connector_context ctx_{db_, sink_, time_, metrics_, log_, http_, "https://gw.test"};
  xmlsec::key own_cert_;
  std::unique_ptr<edelivery_connector> connector_;
};

TEST_F(receiving, stores_emits_and_returns_a_verifiable_receipt) {
  auto res = post(encrypted());
  ASSERT_EQ(res.status, 200u) << res.body;
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/soap+xml; charset=UTF-8");
  // The receipt verifies with our certificate and acknowledges the message.
  std::vector<xmlsec::key> us{own_cert_};
  std::string detail;
  auto xsd = load_ebms_schemas(BBGW_SOURCE_DIR "/schemas/xsd/ebms", &detail);
  ASSERT_TRUE(xsd) << detail;
  inbound_options strict;
  strict.schemas = &*xsd;  // our eb:Messaging must be valid for the peers' XSD checks too
  auto receipt =
      receive("application/soap+xml", res.body, strict, us, nullptr, time_.now(), &detail);
  ASSERT_TRUE(receipt) << receipt.error().message() << ": " << detail << "\n" << res.body;
  ASSERT_EQ(receipt->ebms.signals.size(), 1u);
  auto const& sig = receipt->ebms.signals[0];
  EXPECT_EQ(sig.kind, signal_kind::receipt);
  EXPECT_EQ(sig.info.ref_to_message_id,
            "b545c3a0-e57f-46aa-862f-381eb4b70097@CLT-SMOREELS.mshome.net");
  // NonRepudiationInformation copies the four ds:References (two of them cid:).
  auto nri =
      xmlsec::children(xmlsec::children(sig.receipt, ns::ebbp, "NonRepudiationInformation").at(0),
                       ns::ebbp, "MessagePartNRInformation");
  ASSERT_EQ(nri.size(), 4u);
  int cids = 0;
  for (auto* part : nri) {
    auto refs = xmlsec::children(part, ns::ds, "Reference");
    ASSERT_EQ(refs.size(), 1u);
    if (xmlsec::attribute(refs[0], "URI").value_or("").rfind("cid:", 0) == 0) ++cids;
  }
  EXPECT_EQ(cids, 2);

  // One event, in the committed outbox, with payload descriptors (no bytes).
  auto out = db_.outbox();
  ASSERT_EQ(out.size(), 1u);
  auto const& ev = out[0];
  EXPECT_EQ(ev.type, "eu.bbgateway.edelivery.message.received.v1");
  EXPECT_EQ(ev.family, "edelivery");
  EXPECT_EQ(ev.partitionkey, "org:holodeckb2b:test:conversation");
  expect_valid_event(ev);
  auto const& payloads = ev.data.at("payloads").as_array();
  ASSERT_EQ(payloads.size(), 2u);

  // The status view and the payload files.
  request get;
  get.params = {{"id", "b545c3a0-e57f-46aa-862f-381eb4b70097@CLT-SMOREELS.mshome.net"}};
  auto status = connector_->get_message(get);
  ASSERT_EQ(status.status, 200u);
  EXPECT_NE(status.body.find("\"status\":\"received\""), std::string::npos);
  EXPECT_EQ(status.body.find("envelope"), std::string::npos);
  for (std::size_t n = 0; n < 2; ++n) {
    auto q = get;
    q.params.emplace_back("n", std::to_string(n));
    auto p = connector_->get_payload(q);
    ASSERT_EQ(p.status, 200u);
    EXPECT_EQ(p.headers.get("Content-Type").value_or(""),
              std::string(payloads[n].at("mimeType").as_string()));
    ASSERT_TRUE(fs::exists(p.body_file));
    EXPECT_EQ(fs::file_size(p.body_file), payloads[n].at("size").to_number<std::uint64_t>());
  }
  auto q = get;
  q.params.emplace_back("n", "2");
  EXPECT_EQ(connector_->get_payload(q).status, 404u);
  EXPECT_EQ(metrics_.value("bbgw_edelivery_messages_received_total"), 1);
  // AS4.NET's signature is in the shape the direct path verifies (not left to xmlsec).
  EXPECT_EQ(metrics_.value("bbgw_edelivery_signatures_verified_total", {{"path", "direct"}}), 1);
  EXPECT_EQ(metrics_.value("bbgw_edelivery_signatures_verified_total", {{"path", "xmlsec"}}), 0);
}

TEST_F(receiving, duplicate_gets_the_first_receipt_and_no_second_event) {
  auto first = post(encrypted());
  ASSERT_EQ(first.status, 200u);
  time_.advance(std::chrono::minutes(5));
  auto second = post(encrypted());
  ASSERT_EQ(second.status, 200u);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(db_.outbox().size(), 1u);
  EXPECT_EQ(metrics_.value("bbgw_edelivery_messages_duplicate_total"), 1);
}

TEST_F(receiving, no_matching_pmode_is_ebms_0010_with_the_reason) {
  auto body = encrypted();
  // eb:Messaging is signed, but the PMode is looked up first: change the Action.
  auto p = body.find("<eb3:Action>StoreMessage");
  ASSERT_NE(p, std::string::npos);
  body.replace(p + 12, 5, "Other");
  auto res = post(body);
  EXPECT_NE(res.body.find("errorCode=\"EBMS:0010\""), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("Action 'OtherMessage' is not 'StoreMessage'"), std::string::npos)
      << res.body;
  EXPECT_TRUE(db_.outbox().empty());
  EXPECT_EQ(db_.records(), 0u);
  EXPECT_EQ(rejected("pmode_mismatch", "EBMS:0010"), 1);
}

TEST_F(receiving, tampered_payload_is_refused_signed_and_nothing_is_stored) {
  auto body = test::fixture("as4net/as4-encrypted-signed-keyidentifier.as4");
  auto last = body.rfind("--MIMEBoundary");
  body[last - 50] ^= 0x01;
  auto res = post(body);
  EXPECT_NE(res.body.find("errorCode=\"EBMS:0102\""), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("refToMessageInError="), std::string::npos);
  // The error signal is signed by us.
  std::vector<xmlsec::key> us{own_cert_};
  std::string detail;
  auto xsd = load_ebms_schemas(BBGW_SOURCE_DIR "/schemas/xsd/ebms", &detail);
  ASSERT_TRUE(xsd) << detail;
  inbound_options strict;
  strict.schemas = &*xsd;
  auto err = receive("application/soap+xml", res.body, strict, us, nullptr, time_.now(), &detail);
  ASSERT_TRUE(err) << detail;
  ASSERT_EQ(err->ebms.signals.at(0).kind, signal_kind::error);
  EXPECT_EQ(err->ebms.signals[0].errors.at(0).error_code, "EBMS:0102");
  EXPECT_TRUE(db_.outbox().empty());
  EXPECT_EQ(db_.records(), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "payloads") && !fs::is_empty(dir_ / "payloads"));
  EXPECT_EQ(rejected("decryption_failed", "EBMS:0102"), 1);
}

TEST_F(receiving, malformed_mime_is_a_soap_fault_with_ebms_0007) {
  auto body = encrypted();
  body.resize(body.rfind("--MIMEBoundary"));
  auto res = post(body);
  EXPECT_EQ(res.status, 500u);
  EXPECT_NE(res.body.find("errorCode=\"EBMS:0007\""), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("Fault"), std::string::npos);
  EXPECT_TRUE(db_.outbox().empty());
}

TEST_F(receiving, unencrypted_message_is_refused_when_the_pmode_requires_encryption) {
  auto body = test::fixture("as4net/signed_holodeck_message.as4");
  time_.set(at("2018-01-24T16:12:30Z"));
  auto res = post(body);
  // signed_holodeck_message is signed by AccessPointB, which this PMode does not trust; and it
  // is not encrypted: the encryption rule comes first.
  EXPECT_NE(res.body.find("errorCode=\"EBMS:0103\""), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("an attachment is not encrypted"), std::string::npos) << res.body;
  EXPECT_TRUE(db_.outbox().empty());
}

}  // namespace
}  // namespace bbgw::edelivery

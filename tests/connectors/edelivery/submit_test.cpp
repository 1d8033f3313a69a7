// The sending API between two connectors in process: the platform submits to A
// (POST /api/v1/edelivery/messages), A stores it with its `submitted` event, then sends it
// (compress → sign → encrypt) through a scripted network to B's real receiving connector,
// verifies B's receipt and records `delivered`; B down for every attempt → `failed` with
// EBMS:0301. Events validate against their JSON Schema.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/message_event.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"

namespace bbgw::edelivery {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class null_sink final : public event_sink {
 public:
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

class network final : public http_client {
 public:
  std::function<response(request const&)> b;
  int down = 0;
  int calls = 0;
  std::string last_url;
  result<client_response> send(client_request const& req) override {
    ++calls;
    last_url = req.url;
    if (down > 0) {
      --down;
      return boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    }
    request q;
    q.method = req.method;
    q.headers = req.headers;
    q.body = req.body;
    auto res = b(q);
    return client_response{res.status, res.headers, res.body};
  }
};

void expect_valid(std::vector<cloud_event> const& events, std::string const& schema) {
  for (auto const& ev : events) {
    auto file =
        fs::temp_directory_path() / ("bbgw-as4-sub-" + std::to_string(::getpid()) + ".json");
    std::ofstream(file) << to_structured_json(ev);
    std::string cmd = "/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/tools/validate_json.py " +
                      std::string(BBGW_SOURCE_DIR) + "/schemas/events/" + schema + " " +
                      file.string();
    EXPECT_EQ(std::system(cmd.c_str()), 0) << to_structured_json(ev);
    fs::remove(file);
  }
}

struct side {
  testing::manual_clock time{test::at("2026-11-24T12:00:00Z")};
  testing::memory_store db{time};
  null_sink sink;
  testing::fake_metrics metrics;
  testing::fake_logger log;
};

class submitting : public ::testing::Test {
 protected:
  submitting() {
    dir_ = fs::temp_directory_path() /
           ("bbgw-as4-submit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    pmode to_b;
    to_b.id = "to-b";
    to_b.endpoint = "https://gw-b.test/edelivery/as4";
    to_b.service = "Permits";
    to_b.service_type = "urn:services";
    to_b.action = "Submit";
    to_b.initiator = {"gw-a", "urn:t", "Sender"};
    to_b.responder = {"gw-b", "urn:t", "Receiver"};
    to_b.encrypt = true;
    to_b.partner_certificates = {b_.public_only()};
    to_b.max_attempts = 3;
    to_b.retry_interval = std::chrono::milliseconds(1);
    edelivery_config ca;
    ca.own_key = a_;
    ca.party_domain = "gw-a.test";
    ca.payload_dir = (dir_ / "a").string();
    ca.pmodes = {to_b};
    auto from_a = to_b;
    from_a.id = "from-a";
    from_a.endpoint.clear();
    from_a.partner_certificates = {a_.public_only()};
    edelivery_config cb;
    cb.own_key = b_;
    cb.party_domain = "gw-b.test";
    cb.payload_dir = (dir_ / "b").string();
    cb.pmodes = {from_a};
    b_conn_ = std::make_unique<edelivery_connector>(cb, ctx_b_);
    net_.b = [this](request const& q) { return b_conn_->receive_as4(q); };
    a_conn_ = std::make_unique<edelivery_connector>(ca, ctx_a_);
  }
  ~submitting() override { fs::remove_all(dir_); }

  response submit(std::string const& body) {
    request r;
    r.method = "POST";
    r.headers.set("Content-Type", "application/json");
    r.body = body;
    r.request_id = "req-9";
    return a_conn_->submit(r);
  }
  json::object status(edelivery_connector& c, std::string const& id) {
    request r;
    r.params = {{"id", id}};
    auto res = c.get_message(r);
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body).as_object();
  }
  static std::string body() {
    return R"({"pmode": "to-b", "conversationId": "case-42",
               "properties": {"originalSender": "urn:c1", "finalRecipient": "urn:c4"},
               "payloads": [{"mimeType": "application/xml", "contentBase64": "PHBlcm1pdC8+"},
                            {"mimeType": "text/plain", "contentBase64": "aGVsbG8=", "partId": "p2@a"},
                            {"mimeType": "application/pdf", "contentBase64": "JVBERi0xLjQK"}]})";
  }

  xmlsec::key a_ = test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  xmlsec::key b_ = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  fs::path dir_;
  network net_;
  side a_side_, b_side_;
  connector_context ctx_a_{a_side_.db,  a_side_.sink, a_side_.time,       a_side_.metrics,
                           a_side_.log, net_,         "https://gw-a.test"};
  connector_context ctx_b_{b_side_.db,  b_side_.sink, b_side_.time,       b_side_.metrics,
                           b_side_.log, net_,         "https://gw-b.test"};
  std::unique_ptr<edelivery_connector> b_conn_;
  std::unique_ptr<edelivery_connector> a_conn_;
};

TEST_F(submitting, submitted_message_is_sent_receipted_and_recorded) {
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  EXPECT_EQ(status(*a_conn_, id).at("status"), "submitted");
  ASSERT_EQ(a_side_.db.outbox().size(), 1u);
  EXPECT_EQ(a_side_.db.outbox()[0].type, submitted_type);
  EXPECT_TRUE(a_side_.db.get(pending_namespace, "ids").value()->find(id) != std::string::npos);

  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_FALSE(a_conn_->send_next()) << "queue empty";
  EXPECT_EQ(net_.last_url, "https://gw-b.test/edelivery/as4");
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "delivered");
  EXPECT_EQ(st.at("attempts"), 1);
  ASSERT_EQ(a_side_.db.outbox().size(), 2u);
  EXPECT_EQ(a_side_.db.outbox()[1].type, delivered_type);
  EXPECT_EQ(a_side_.db.outbox()[1].partitionkey, "case-42");
  EXPECT_EQ(a_side_.db.get(pending_namespace, "ids").value()->find(id), std::string::npos);
  expect_valid(a_side_.db.outbox(), "edelivery.message.outbound.json");

  // B received the three payloads, byte for byte.
  ASSERT_EQ(b_side_.db.outbox().size(), 1u);
  auto const b_events = b_side_.db.outbox();
  auto const a_events = a_side_.db.outbox();
  auto const& got = b_events[0];
  EXPECT_EQ(got.partitionkey, "case-42");
  EXPECT_EQ(got.data.at("finalRecipient"), "urn:c4");
  auto const& sent = a_events[0].data.at("payloads").as_array();
  auto const& recv = got.data.at("payloads").as_array();
  ASSERT_EQ(recv.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(recv[i].at("sha256"), sent[i].at("sha256"));
}

TEST_F(submitting, partner_down_for_every_attempt_is_failed_with_missing_receipt) {
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u);
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  net_.down = 100;
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(net_.calls, 3);
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("ebmsCode"), "EBMS:0301");
  ASSERT_EQ(a_side_.db.outbox().size(), 2u);
  EXPECT_EQ(a_side_.db.outbox()[1].type, failed_type);
  expect_valid(a_side_.db.outbox(), "edelivery.message.outbound.json");
  EXPECT_TRUE(b_side_.db.outbox().empty());
}

TEST_F(submitting, partner_down_for_a_while_then_delivered) {
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u);
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  net_.down = 2;
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(status(*a_conn_, id).at("status"), "delivered");
  EXPECT_EQ(status(*a_conn_, id).at("attempts"), 3);
  EXPECT_EQ(b_side_.db.outbox().size(), 1u);
}

TEST_F(submitting, bad_submissions_are_problems_and_store_nothing) {
  EXPECT_EQ(submit("{").status, 400u);
  EXPECT_EQ(submit(R"({"pmode": "from-a", "payloads": []})").status, 400u);
  EXPECT_EQ(submit(R"({"pmode": "to-b", "payloads": []})").status, 400u);
  EXPECT_EQ(submit(R"({"pmode": "to-b", "payloads": [{"mimeType": "a/b", "contentBase64": "*"}]})")
                .status,
            400u);
  EXPECT_EQ(
      submit(R"({"pmode": "nope", "payloads": [{"mimeType": "a/b", "contentBase64": ""}]})").status,
      400u);
  request r;
  r.headers.set("Content-Type", "text/plain");
  r.body = body();
  EXPECT_EQ(a_conn_->submit(r).status, 415u);
  EXPECT_TRUE(a_side_.db.outbox().empty());
  EXPECT_EQ(a_side_.db.records(), 0u);
}

}  // namespace
}  // namespace bbgw::edelivery

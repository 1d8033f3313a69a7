// Reception awareness between two access points in process: A builds and pushes a message, the
// "network" (a scripted http_client) hands it to B's real receiving connector; A retries with
// backoff while B is unreachable, verifies B's receipt, and gives up with EBMS:0301 when no
// receipt ever comes. B stores the message once, however often A retries.
#include <filesystem>

#include <gtest/gtest.h>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/sender.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"
#include "support/piecewise_body.hpp"

namespace bbgw::edelivery {
namespace {

using test::network;
using test::null_sink;

namespace fs = std::filesystem;

class exchange : public ::testing::Test {
 protected:
  exchange() {
    dir_ = fs::temp_directory_path() /
           ("bbgw-as4-send-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    edelivery_config c;
    c.own_key = b_;
    c.payload_dir = (dir_ / "payloads").string();
    pmode p;
    p.id = "a-to-b";
    p.service = "Permits";
    p.service_type = "urn:services";
    p.action = "Submit";
    p.initiator = {"gw-a", "urn:t", "Sender"};
    p.responder = {"gw-b", "urn:t", "Receiver"};
    p.encrypt = true;
    p.partner_certificates = {a_.public_only()};
    c.pmodes.push_back(p);
    time_.set(test::at("2026-11-24T12:00:00Z"));
    connector_ = std::make_unique<edelivery_connector>(c, ctx_);
    net_.b = [this](request const& q) { return connector_->receive_as4(q); };
  }
  ~exchange() override { fs::remove_all(dir_); }

  outbound_message build(std::string const& id) {
    outbound_spec s;
    s.header.info.timestamp = "2026-11-24T12:00:00Z";
    s.header.info.message_id = id;
    s.header.from = {{{"urn:t", "gw-a"}}, "Sender"};
    s.header.to = {{{"urn:t", "gw-b"}}, "Receiver"};
    s.header.service = "Permits";
    s.header.service_type = "urn:services";
    s.header.action = "Submit";
    s.header.conversation_id = "conv-7";
    s.payloads = {{"p1@gw-a", "application/xml", "<permit/>", true},
                  {"p2@gw-a", "image/png", std::string(3000, '\x89'), true},
                  {"p3@gw-a", "text/plain", "third", true}};
    s.signing_key = &a_;
    s.recipient = &b_;
    auto m = build_user_message(s);
    EXPECT_TRUE(m);
    return m.value();
  }

  result<send_outcome> send(outbound_message const& m, std::string const& id, int attempts = 5) {
    send_policy policy;
    policy.max_attempts = attempts;
    return send_message(
        net_, "https://gw-b.test/edelivery/as4", m, id, trust_b_, time_, policy,
        [this](std::chrono::milliseconds d) { waits_.push_back(d); }, &detail_);
  }

  xmlsec::key a_ = test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  xmlsec::key b_ = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  std::vector<xmlsec::key> trust_b_{b_.public_only()};
  fs::path dir_;
  testing::manual_clock time_;
  testing::memory_store db_{time_};
  null_sink sink_;
  testing::fake_metrics metrics_;
  testing::fake_logger log_;
  network net_;
  connector_context ctx_{db_, sink_, time_, metrics_, log_, net_, "https://gw-b.test"};
  std::unique_ptr<edelivery_connector> connector_;
  std::vector<std::chrono::milliseconds> waits_;
  std::string detail_;
};

TEST_F(exchange, three_payloads_are_delivered_and_receipted) {
  auto m = build("m1@gw-a");
  auto out = send(m, "m1@gw-a");
  ASSERT_TRUE(out) << detail_;
  EXPECT_EQ(out->attempts, 1);
  ASSERT_EQ(db_.outbox().size(), 1u);
  EXPECT_EQ(db_.outbox()[0].data.at("payloads").as_array().size(), 3u);
  EXPECT_EQ(db_.outbox()[0].partitionkey, "conv-7");
}

TEST_F(exchange, b_down_for_a_while_then_delivered_with_backoff) {
  auto m = build("m2@gw-a");
  net_.down = 2;
  auto out = send(m, "m2@gw-a");
  ASSERT_TRUE(out) << detail_;
  EXPECT_EQ(out->attempts, 3);
  ASSERT_EQ(waits_.size(), 2u);
  EXPECT_EQ(waits_[0], std::chrono::seconds(1));
  EXPECT_EQ(waits_[1], std::chrono::seconds(2));
  EXPECT_EQ(db_.outbox().size(), 1u);
}

// A partner that takes no chunked body answers the streamed first attempt with 411: the file
// goes at once — no backoff, and not at the cost of an attempt, so even a PMode allowing one
// attempt delivers.
TEST_F(exchange, a_411_to_the_streamed_body_sends_the_file_at_once_without_using_an_attempt) {
  auto m = build("m411@gw-a");
  bbgw::testing::piecewise_body first(m.body, 4096);
  int done_calls = 0;
  send_policy policy;
  policy.max_attempts = 1;
  policy.first_body = &first;
  policy.first_done = [&]() -> result<void> {
    ++done_calls;
    return {};
  };
  net_.refuse_chunked = true;
  auto out = send_message(
      net_, "https://gw-b.test/edelivery/as4", m, "m411@gw-a", trust_b_, time_, policy,
      [this](std::chrono::milliseconds d) { waits_.push_back(d); }, &detail_);
  ASSERT_TRUE(out) << detail_;
  EXPECT_EQ(out->attempts, 2) << "two requests: the refused stream, then the file";
  EXPECT_TRUE(waits_.empty()) << "no backoff before the file";
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(net_.calls, 2);
  EXPECT_EQ(db_.outbox().size(), 1u);
}

TEST_F(exchange, resending_after_a_lost_receipt_yields_the_first_receipt_and_one_event) {
  auto m = build("m3@gw-a");
  auto first = send(m, "m3@gw-a");
  ASSERT_TRUE(first);
  auto again = send(m, "m3@gw-a");
  ASSERT_TRUE(again) << detail_;
  EXPECT_EQ(again->receipt, first->receipt);
  EXPECT_EQ(db_.outbox().size(), 1u);
}

TEST_F(exchange, no_receipt_within_the_attempts_is_missing_receipt) {
  auto m = build("m4@gw-a");
  net_.down = 10;
  net_.down_as_503 = true;
  auto out = send(m, "m4@gw-a", 3);
  ASSERT_FALSE(out);
  EXPECT_EQ(std::string(ebms_error_for(out.error()).code), "EBMS:0301");
  EXPECT_EQ(net_.calls, 3);
  EXPECT_TRUE(db_.outbox().empty());
}

TEST_F(exchange, a_refusal_by_b_ends_the_exchange_without_retry) {
  auto m = build("m5@gw-a");
  // Corrupt the last encrypted attachment on the way: B answers EBMS:0102.
  auto last = m.body.rfind("--MIMEBoundary");
  m.body[last - 10] ^= 0x01;
  auto out = send(m, "m5@gw-a");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error(), errc::delivery_failed);
  EXPECT_NE(detail_.find("EBMS:0102"), std::string::npos) << detail_;
  EXPECT_EQ(net_.calls, 1);
}

TEST_F(exchange, a_receipt_for_other_references_is_invalid_receipt) {
  auto m = build("m6@gw-a");
  auto claimed = m;
  claimed.references.back().digest_value[0] ^= 0x01;  // A believes it sent something else
  auto out = send(claimed, "m6@gw-a");
  ASSERT_FALSE(out);
  EXPECT_EQ(std::string(ebms_error_for(out.error()).code), "EBMS:0302");
}

}  // namespace
}  // namespace bbgw::edelivery

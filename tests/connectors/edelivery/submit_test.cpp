// The sending API between two connectors in process: the platform submits to A
// (POST /api/v1/edelivery/messages), A stores it with its `submitted` event, then sends it
// (compress → sign → encrypt) through a scripted network to B's real receiving connector,
// verifies B's receipt and records `delivered`; B down for every attempt → `failed` with
// EBMS:0301. The same API as multipart/form-data from a spooled body; 400/413/415/422
// problems that store nothing; the `sent` event; PMode reporting.receipt: false. Events validate
// against their JSON Schema.
#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/message_event.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"
#include "support/piecewise_body.hpp"
#include "two_gateways.hpp"

namespace bbgw::edelivery {
namespace {

using test::network;
using test::null_sink;

namespace fs = std::filesystem;
namespace json = boost::json;

// Each event against `schema`, the `sent` event against its own.
void expect_valid(std::vector<cloud_event> const& events, std::string const& outbound) {
  for (auto const& ev : events) {
    auto schema = ev.type == sent_type ? std::string("edelivery.message.sent.json") : outbound;
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

using test::side;

class submitting : public test::two_gateways {
 protected:
  submitting() : two_gateways("bbgw-as4-submit") {
    connect();
    auto cs = ca_;
    cs.max_submit_bytes = 4;
    cs.payload_dir = (dir_ / "small").string();
    small_ = std::make_unique<edelivery_connector>(cs, ctx_a_);
  }

  // Both PModes with reporting.receipt: false (A may still expect one, to see it refused).
  void recreate_without_receipts(bool a_expects_receipt = false) {
    ca_.pmodes[0].receipt = a_expects_receipt;
    cb_.pmodes[0].receipt = false;
    connect();
  }
  static request json_request(std::string const& body) {
    request r;
    r.method = "POST";
    r.headers.set("Content-Type", "application/json");
    r.body = body;
    return r;
  }
  // A request as the server hands over a spooled body: in a file, request::body empty.
  request spooled(std::string const& form) {
    fs::create_directories(dir_ / "spool");
    spool_file_ = dir_ / "spool" / "body";
    std::ofstream(spool_file_, std::ios::binary) << form;
    request r;
    r.method = "POST";
    r.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary_);
    r.body_file = spool_file_.string();
    r.request_id = "req-10";
    return r;
  }
  std::size_t file_count() const {
    std::size_t n = 0;
    std::error_code ec;
    for (auto const* d : {"a", "small"})
      for (auto it = fs::recursive_directory_iterator(dir_ / d, ec);
           !ec && it != fs::recursive_directory_iterator(); ++it)
        n += it->is_regular_file() ? 1 : 0;
    return n;
  }
  bool no_payload_files() const { return file_count() == 0; }

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

  std::unique_ptr<edelivery_connector> small_;  // max_submit_size: 4 bytes
  fs::path spool_file_;
  std::string boundary_ = "bNd-7f3a";
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
  EXPECT_EQ(net_.from_file, 1) << "the built message is streamed from its file";
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "delivered");
  EXPECT_EQ(st.at("attempts"), 1);
  EXPECT_TRUE(st.contains("sentAt"));
  EXPECT_NE(std::string(st.at("receiptId").as_string()).find("@gw-b.test"), std::string::npos);
  ASSERT_EQ(a_side_.db.outbox().size(), 3u);
  EXPECT_EQ(a_side_.db.outbox()[1].type, sent_type);
  EXPECT_EQ(a_side_.db.outbox()[1].data.at("status"), "sent");
  EXPECT_EQ(a_side_.db.outbox()[2].type, delivered_type);
  for (auto const& ev : a_side_.db.outbox()) EXPECT_EQ(ev.partitionkey, "case-42");
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
  // Payload bytes are never in an event, even tiny ones: neither raw nor base64.
  for (auto const* events : {&a_events, &b_events})
    for (auto const& ev : *events) {
      auto text = to_structured_json(ev);
      for (auto const* bytes : {"<permit/>", "PHBlcm1pdC8+", "hello\"", "aGVsbG8=", "JVBERi0xLjQK"})
        EXPECT_EQ(text.find(bytes), std::string::npos) << bytes << " in " << text;
    }
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
  ASSERT_EQ(a_side_.db.outbox().size(), 2u) << "never sent: no `sent` event";
  EXPECT_EQ(a_side_.db.outbox()[1].type, failed_type);
  expect_valid(a_side_.db.outbox(), "edelivery.message.outbound.json");
  EXPECT_TRUE(b_side_.db.outbox().empty());
}

// A sends what was submitted or nothing: a payload file changed on disk after the 202 no
// longer matches the SHA-256 the submission recorded, which A signs, so B refuses the message.
TEST_F(submitting, a_payload_changed_on_disk_after_submission_is_never_delivered) {
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u);
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  std::size_t changed = 0;
  for (auto const& e : fs::recursive_directory_iterator(dir_ / "a"))
    if (e.is_regular_file() && e.path().filename() == "1") {  // "hello", sent uncompressed
      std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "jello";
      ++changed;
    }
  ASSERT_EQ(changed, 1u);
  EXPECT_TRUE(a_conn_->send_next());
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("ebmsCode"), "EBMS:0202") << st;  // A's DeliveryFailure, B's reason in it
  auto const reason = std::string(st.at("reason").as_string());
  EXPECT_NE(reason.find("EBMS:0101"), std::string::npos) << reason;
  EXPECT_NE(reason.find("cid:p2@a): digest does not match"), std::string::npos) << reason;
  EXPECT_TRUE(b_side_.db.outbox().empty()) << "B stored nothing";
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

// Holds every send until `expected` are in flight at the same time (or 10 s passed), then lets
// them reach B one by one (the test network is not thread-safe); records the most in flight.
class gated_network final : public http_client {
 public:
  gated_network(network& inner, int expected) : inner_(inner), expected_(expected) {}
  result<client_response> send(client_request const& req) override {
    {
      std::unique_lock lock(mutex_);
      ++sends_;
      most_ = std::max(most_, ++in_flight_);
      opened_.notify_all();
      opened_.wait_for(lock, std::chrono::seconds(10), [this] { return most_ >= expected_; });
    }
    result<client_response> r = make_error_code(boost::system::errc::io_error);
    {
      std::lock_guard serial(inner_mutex_);
      r = inner_.send(req);
    }
    std::lock_guard lock(mutex_);
    --in_flight_;
    return r;
  }
  int most_in_flight() {
    std::lock_guard lock(mutex_);
    return most_;
  }
  int sends() {
    std::lock_guard lock(mutex_);
    return sends_;
  }

 private:
  network& inner_;
  int const expected_;
  std::mutex mutex_, inner_mutex_;
  std::condition_variable opened_;
  int in_flight_ = 0, most_ = 0, sends_ = 0;
};

// sending_threads: that many messages are in flight at once (each thread takes its own), and
// every one is sent and delivered once, with its events, although start() finds the four
// submitted messages in the pending index as well as in the queue (they were submitted before
// it): a message is never taken by two threads, nor sent again once final.
TEST_F(submitting, sending_threads_send_that_many_messages_at_once) {
  ca_.sending_threads = 3;
  gated_network gate(net_, 3);
  connector_context ctx{a_side_.db,  a_side_.sink, a_side_.time,       a_side_.metrics,
                        a_side_.log, gate,         "https://gw-a.test"};
  auto a = std::make_unique<edelivery_connector>(ca_, ctx);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    request r = json_request(body());
    auto res = a->submit(r);
    ASSERT_EQ(res.status, 202u) << res.body;
    ids.emplace_back(json::parse(res.body).at("messageId").as_string());
  }
  a->start();
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto delivered = [&] {
    for (auto const& id : ids)
      if (status(*a, id).at("status") != "delivered") return false;
    return true;
  };
  while (!delivered() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  a->stop();
  EXPECT_TRUE(delivered());
  EXPECT_EQ(gate.most_in_flight(), 3) << "three sending threads, three messages at once";
  EXPECT_EQ(gate.sends(), 4) << "each message sent once";
  EXPECT_EQ(b_side_.db.outbox().size(), 4u) << "one `received` event per message";
  std::size_t delivered_events = 0;
  for (auto const& ev : a_side_.db.outbox()) delivered_events += ev.type == delivered_type;
  EXPECT_EQ(delivered_events, 4u);
  EXPECT_EQ(*a_side_.db.get(pending_namespace, "ids").value(), "[]");
}

TEST_F(submitting, bad_submissions_are_problems_and_store_nothing) {
  EXPECT_EQ(submit("{").status, 400u);
  EXPECT_EQ(submit(R"({"pmode": "from-a", "payloads": [{"mimeType": "a/b", "contentBase64": ""}]})")
                .status,
            422u)
      << "a receiving PMode cannot send";
  EXPECT_EQ(submit(R"({"pmode": "to-b", "payloads": []})").status, 422u);
  EXPECT_EQ(submit(R"({"pmode": "to-b", "payloads": [{"mimeType": "a/b", "contentBase64": "*"}]})")
                .status,
            400u);
  EXPECT_EQ(
      submit(R"({"pmode": "to-b", "payloads": [{"mimeType": "", "contentBase64": ""}]})").status,
      422u);
  EXPECT_EQ(
      submit(R"({"pmode": "nope", "payloads": [{"mimeType": "a/b", "contentBase64": ""}]})").status,
      422u);
  // 6 bytes decoded, over a max_submit_size of 4.
  EXPECT_EQ(
      small_
          ->submit(json_request(
              R"({"pmode": "to-b", "payloads": [{"mimeType": "a/b", "contentBase64": "aGVsbG8h"}]})"))
          .status,
      413u);
  request r;
  r.headers.set("Content-Type", "text/plain");
  r.body = body();
  EXPECT_EQ(a_conn_->submit(r).status, 415u);
  auto res = a_conn_->submit(r);
  EXPECT_EQ(res.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_TRUE(a_side_.db.outbox().empty());
  EXPECT_EQ(a_side_.db.records(), 0u);
  EXPECT_TRUE(no_payload_files()) << "refused submissions leave no files";
}

// multipart/form-data: a `metadata` JSON part and one part per payload, from a spooled body.
std::string const boundary = "bNd-7f3a";

std::string form_part(std::string const& name, std::string const& content_type,
                      std::string const& content, std::string const& filename = "") {
  std::string s = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"";
  if (!filename.empty()) s += "; filename=\"" + filename + "\"";
  s += "\r\n";
  if (!content_type.empty()) s += "Content-Type: " + content_type + "\r\n";
  return s + "\r\n" + content + "\r\n";
}

// A multipart submission of one binary payload to PMode to-b, for the large-message tests.
std::string one_payload_form(std::string const& conversation, std::string const& payload) {
  return form_part("metadata", "application/json",
                   R"({"pmode": "to-b", "conversationId": ")" + conversation + R"("})") +
         form_part("payload", "application/octet-stream", payload, "x.bin") + "--" + boundary +
         "--\r\n";
}

// Pseudo-random (incompressible) bytes, the same every run.
std::string noise(std::size_t n) {
  std::mt19937 gen(42);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen() & 0xff);
  return s;
}

TEST_F(submitting, multipart_submission_from_a_spooled_body_is_sent_and_delivered) {
  auto const big = noise(3 << 20);  // binary, over many read chunks
  std::string form = "preamble to ignore\r\n" +
                     form_part("metadata", "application/json",
                               R"({"pmode": "to-b", "conversationId": "case-7",
                    "properties": {"finalRecipient": "urn:c4"},
                    "payloads": [{"partId": "permit@a"}]})") +
                     form_part("payload", "application/xml", "<permit/>", "permit.xml") +
                     form_part("payload", "application/octet-stream", big, "scan.bin") + "--" +
                     boundary + "--\r\nepilogue";
  auto res = a_conn_->submit(spooled(form));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  auto st = status(*a_conn_, id);
  auto const& ps = st.at("payloads").as_array();
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].at("partId"), "permit@a");
  EXPECT_EQ(ps[0].at("mimeType"), "application/xml");
  EXPECT_EQ(ps[0].at("filename"), "permit.xml");
  EXPECT_EQ(ps[1].at("size"), big.size());
  EXPECT_EQ(ps[1].at("filename"), "scan.bin");

  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(status(*a_conn_, id).at("status"), "delivered");
  EXPECT_GT(net_.last_body_size, big.size()) << "compressed, signed, encrypted, all of it";
  EXPECT_EQ(net_.from_stream, 1) << "over 1 MiB of payloads: sent while it was built";
  EXPECT_EQ(net_.from_file, 0);
  auto message = dir_ / "a" / "out";
  bool kept = false;
  for (auto const& d : fs::directory_iterator(message))
    kept |= fs::exists(d.path() / "as4-message");
  EXPECT_TRUE(kept) << "the message as sent is kept for non-repudiation";
  for (auto const& d : fs::directory_iterator(message)) {
    std::ifstream in(d.path() / "as4-message", std::ios::binary);
    std::string sent((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(sent.find("CompressionType"), std::string::npos)
        << "PMode compression auto: neither 9 bytes of XML nor random bytes are worth gzip";
    EXPECT_TRUE(sent == net_.last_body) << "the kept message is byte for byte what was sent";
    EXPECT_FALSE(fs::exists(d.path() / "as4-message.partial"));
  }
  ASSERT_EQ(b_side_.db.outbox().size(), 1u);
  auto const b_events = b_side_.db.outbox();
  auto const& recv = b_events[0].data.at("payloads").as_array();
  ASSERT_EQ(recv.size(), 2u);
  EXPECT_EQ(recv[0].at("partId"), "permit@a");
  EXPECT_EQ(recv[1].at("sha256"), ps[1].at("sha256"));
  EXPECT_EQ(recv[1].at("size"), big.size());
  expect_valid(a_side_.db.outbox(), "edelivery.message.outbound.json");
}

// A large message whose streamed first attempt breaks half-way: the builder still completes
// the message file, and the retry sends that file — delivered once, the kept message being the
// one delivered.
TEST_F(submitting, a_streamed_send_that_breaks_is_retried_from_the_finished_file) {
  auto const big = noise(3 << 20);
  auto res = a_conn_->submit(spooled(one_payload_form("case-8", big)));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  net_.cut_stream_after = 1 << 20;
  EXPECT_TRUE(a_conn_->send_next());
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "delivered") << st;
  EXPECT_EQ(st.at("attempts"), 2);
  EXPECT_EQ(net_.from_stream, 1);
  EXPECT_EQ(net_.from_file, 1) << "the retry sends the message file";
  ASSERT_EQ(b_side_.db.outbox().size(), 1u);
  EXPECT_EQ(b_side_.db.outbox()[0].data.at("payloads").as_array()[0].at("size"), big.size());
  for (auto const& d : fs::directory_iterator(dir_ / "a" / "out")) {
    std::ifstream in(d.path() / "as4-message", std::ios::binary);
    std::string sent((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(sent == net_.last_body);
  }
}

// The gateway stopping while a large message is streamed: the builder ends where it is (the
// partner sees a broken body, never a complete message), nothing of the message file is left,
// and the message stays pending for the next start.
TEST_F(submitting, a_stop_during_a_streamed_send_ends_the_build_and_keeps_the_message_pending) {
  auto res = a_conn_->submit(spooled(one_payload_form("case-s", noise(6 << 20))));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  auto const before = status(*a_conn_, id).at("status");
  net_.stop_after = 1 << 20;
  net_.at_stop = [this] { a_conn_->stop(); };
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(net_.from_stream, 1);
  EXPECT_EQ(net_.last_status, 0u) << "B never got a whole message";
  EXPECT_TRUE(b_side_.db.outbox().empty());
  EXPECT_EQ(status(*a_conn_, id).at("status"), before) << "still to be sent";
  for (auto const& d : fs::directory_iterator(dir_ / "a" / "out")) {
    EXPECT_FALSE(fs::exists(d.path() / "as4-message")) << "the build stopped, not completed";
    EXPECT_FALSE(fs::exists(d.path() / "as4-message.partial"));
  }
}

// The partner down on the first attempt (nothing of the stream read): the builder is not held
// up by the unread pipe, and the retry sends the file.
TEST_F(submitting, a_streamed_send_to_a_partner_down_is_retried_from_the_file) {
  auto res = a_conn_->submit(spooled(one_payload_form("case-9", noise(5 << 20))));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  net_.down = 1;
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(status(*a_conn_, id).at("status"), "delivered");
  EXPECT_EQ(net_.calls, 2) << "the streamed attempt, then the file";
  EXPECT_EQ(net_.from_file, 1);
}

// A partner (or proxy) that takes no chunked body answers 411: the message goes again at once
// from its file, with its length; the 411 is not `sent`.
TEST_F(submitting, a_partner_refusing_chunked_bodies_gets_the_file) {
  auto res = a_conn_->submit(spooled(one_payload_form("case-10", noise(2 << 20))));
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  net_.refuse_chunked = true;
  EXPECT_TRUE(a_conn_->send_next());
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "delivered") << st;
  EXPECT_EQ(st.at("attempts"), 2);
  EXPECT_EQ(net_.from_file, 1);
  auto const events = a_side_.db.outbox();
  ASSERT_EQ(events.size(), 3u) << "submitted, sent (once, by the attempt with the file), delivered";
  EXPECT_EQ(events[1].type, sent_type);
  EXPECT_EQ(events[1].data.at("attempts"), 2);
}

using bbgw::testing::piecewise_body;

TEST_F(submitting, a_streamed_multipart_body_gives_the_payloads_a_spooled_one_gives) {
  auto const big = noise(2 << 20);
  std::string const form =
      form_part("metadata", "application/json", R"({"pmode": "to-b", "conversationId": "s"})") +
      form_part("payload", "application/xml", "<permit/>", "permit.xml") +
      form_part("payload", "application/octet-stream", big, "scan.bin") + "--" + boundary +
      "--\r\n";
  auto descriptors = [&](response const& res) {
    EXPECT_EQ(res.status, 202u) << res.body;
    auto id = std::string(json::parse(res.body).at("messageId").as_string());
    return status(*a_conn_, id).at("payloads").as_array();
  };
  auto const from_file = descriptors(a_conn_->submit(spooled(form)));
  // Odd piece sizes: delimiters and part headers fall across reads.
  piecewise_body in(form, 4093);
  request r;
  r.method = "POST";
  r.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary);
  r.body_stream = &in;
  auto const streamed = descriptors(a_conn_->submit(r));
  ASSERT_EQ(streamed.size(), 2u);
  ASSERT_EQ(from_file.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(streamed[i].at("sha256"), from_file[i].at("sha256"));
    EXPECT_EQ(streamed[i].at("size"), from_file[i].at("size"));
    EXPECT_EQ(streamed[i].at("filename"), from_file[i].at("filename"));
  }
  EXPECT_EQ(streamed[1].at("size"), big.size());
}

TEST_F(submitting, a_streamed_json_body_is_submitted_like_one_in_memory) {
  piecewise_body in(body(), 7);
  request r;
  r.method = "POST";
  r.headers.set("Content-Type", "application/json");
  r.body_stream = &in;
  auto res = a_conn_->submit(r);
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  EXPECT_EQ(status(*a_conn_, id).at("payloads").as_array().size(), 3u);
}

TEST_F(submitting, a_streamed_body_that_does_not_arrive_whole_is_refused_and_stores_nothing) {
  std::string const form =
      form_part("metadata", "application/json", R"({"pmode": "to-b", "conversationId": "s"})") +
      form_part("payload", "application/octet-stream", noise(300000), "scan.bin") + "--" +
      boundary + "--\r\n";
  auto cut = [&](std::string data, boost::system::errc::errc_t why, std::string type) {
    piecewise_body b(std::move(data), 65536, make_error_code(why));
    request r;
    r.method = "POST";
    r.headers.set("Content-Type", type);
    r.body_stream = &b;
    return a_conn_->submit(r);
  };
  auto const multipart = "multipart/form-data; boundary=" + boundary;
  auto r1 = cut(form.substr(0, 200000), boost::system::errc::connection_aborted, multipart);
  EXPECT_EQ(r1.status, 400u) << r1.body;
  EXPECT_NE(r1.body.find("did not arrive whole"), std::string::npos);
  auto r2 = cut(form.substr(0, 200000), boost::system::errc::message_size, multipart);
  EXPECT_EQ(r2.status, 413u) << r2.body;
  auto r3 = cut(body().substr(0, 40), boost::system::errc::message_size, "application/json");
  EXPECT_EQ(r3.status, 413u) << r3.body;
  // The whole form, then the body goes over the limit in its epilogue: still refused.
  auto r4 = cut(form + "epilogue", boost::system::errc::message_size, multipart);
  EXPECT_EQ(r4.status, 413u) << r4.body;
  EXPECT_TRUE(no_payload_files());
  EXPECT_TRUE(a_side_.db.outbox().empty());
}

TEST_F(submitting, a_malformed_streamed_form_is_refused_without_reading_the_rest) {
  std::string const data = "no delimiter here\r\n" + std::string(std::size_t{8} << 20, 'x');
  piecewise_body in(data, 65536);
  request r;
  r.method = "POST";
  r.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary);
  r.body_stream = &in;
  auto res = a_conn_->submit(r);
  EXPECT_EQ(res.status, 400u) << res.body;
  EXPECT_LT(in.consumed(), data.size()) << "the rest of a broken form is not read";
  EXPECT_TRUE(no_payload_files());
}

TEST_F(submitting, the_submit_route_spools_its_body_with_room_for_base64) {
  bool found = false;
  for (auto const& r : a_conn_->routes())
    if (r.pattern == "/api/v1/edelivery/messages") {
      found = true;
      EXPECT_TRUE(r.spool_body);
      EXPECT_TRUE(r.stream_body) << "read while it arrives when the server can";
      EXPECT_GE(r.body_limit, ca_.max_submit_bytes / 3 * 4);
    }
  EXPECT_TRUE(found);
}

TEST_F(submitting, bad_multipart_submissions_are_problems_and_store_nothing) {
  auto const meta = form_part("metadata", "application/json", R"({"pmode": "to-b"})");
  auto const payload = form_part("payload", "text/plain", "hello");
  auto const close = "--" + boundary + "--\r\n";
  EXPECT_EQ(a_conn_->submit(spooled(meta + payload + close)).status, 202u) << "the baseline";
  auto const events = a_side_.db.outbox().size();
  auto const records = a_side_.db.records();
  auto const files = file_count();

  EXPECT_EQ(a_conn_->submit(spooled(meta + payload)).status, 400u) << "no close delimiter";
  EXPECT_EQ(a_conn_->submit(spooled(payload + close)).status, 400u) << "no metadata part";
  EXPECT_EQ(a_conn_->submit(spooled(meta + meta + payload + close)).status, 400u);
  EXPECT_EQ(a_conn_->submit(spooled(form_part("metadata", "", "{") + payload + close)).status,
            400u);
  EXPECT_EQ(
      a_conn_
          ->submit(spooled("--" + boundary + "\r\nContent-Type: text/plain\r\n\r\nx\r\n" + close))
          .status,
      400u)
      << "a part without Content-Disposition";
  EXPECT_EQ(a_conn_->submit(spooled(meta + close)).status, 422u) << "no payload";
  EXPECT_EQ(
      a_conn_->submit(spooled(form_part("metadata", "", R"({"pmode": "nope"})") + payload + close))
          .status,
      422u);
  EXPECT_EQ(a_conn_->submit(spooled(meta + form_part("payload", "not a type", "x") + close)).status,
            422u);
  EXPECT_EQ(small_->submit(spooled(meta + payload + close)).status, 413u) << "5 bytes > 4";
  auto no_boundary = spooled(meta + payload + close);
  no_boundary.headers.set("Content-Type", "multipart/form-data");
  EXPECT_EQ(a_conn_->submit(no_boundary).status, 400u);
  EXPECT_EQ(a_side_.db.outbox().size(), events);
  EXPECT_EQ(a_side_.db.records(), records);
  EXPECT_EQ(file_count(), files);
}

TEST_F(submitting, without_receipts_sent_is_the_last_status_and_b_answers_no_signal) {
  recreate_without_receipts();
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u) << res.body;
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(net_.last_status, 202u) << "B stored it and answered without a receipt";
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "sent");
  EXPECT_EQ(st.at("receiptExpected"), false);
  EXPECT_FALSE(st.contains("receiptId"));
  ASSERT_EQ(a_side_.db.outbox().size(), 2u);
  EXPECT_EQ(a_side_.db.outbox()[1].type, sent_type);
  EXPECT_EQ(a_side_.db.get(pending_namespace, "ids").value()->find(id), std::string::npos);
  expect_valid(a_side_.db.outbox(), "edelivery.message.outbound.json");
  EXPECT_EQ(b_side_.db.outbox().size(), 1u);
  // The receipt-expecting default would have failed it: B's empty answer is no receipt.
}

TEST_F(submitting, a_refusal_under_errors_false_is_an_empty_answer_and_fails_the_message) {
  // B trusts another signer (so it refuses A's message, EBMS:0101) and reports no errors.
  cb_.pmodes[0].partner_certificates = {b_.public_only()};
  cb_.pmodes[0].report_errors = false;
  b_conn_ = std::make_unique<edelivery_connector>(cb_, ctx_b_);
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u);
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(net_.last_status, 400u);
  EXPECT_TRUE(net_.last_response.empty()) << "no eb:Error signal on the back channel";
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("ebmsCode"), "EBMS:0202");
  EXPECT_TRUE(b_side_.db.outbox().empty());

  // The default (errors: true) answers the signed eb:Error with the code.
  cb_.pmodes[0].report_errors = true;
  b_conn_ = std::make_unique<edelivery_connector>(cb_, ctx_b_);
  ASSERT_EQ(submit(body()).status, 202u);
  EXPECT_TRUE(a_conn_->send_next());
  EXPECT_EQ(net_.last_status, 200u);
  EXPECT_NE(net_.last_response.find("EBMS:0101"), std::string::npos);
}

TEST_F(submitting, a_sender_expecting_a_receipt_fails_when_the_partner_sends_none) {
  recreate_without_receipts(/*a_expects_receipt=*/true);
  auto res = submit(body());
  ASSERT_EQ(res.status, 202u);
  auto id = std::string(json::parse(res.body).at("messageId").as_string());
  EXPECT_TRUE(a_conn_->send_next());
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("ebmsCode"), "EBMS:0302");
}

}  // namespace
}  // namespace bbgw::edelivery

// Payload files on disk between two connectors in process (A submits and sends to B): names
// are made durable (directory fsync) after the rename and before the record commits, once per
// message; crash leftovers (temporary names) are removed at start and counted, orphans are
// counted and kept, referenced payloads kept; payloads of final messages are purged after the
// retention period (injected clock): the record stays, marked, and the payload answers 410.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/housekeeping.hpp"
#include "edelivery/message_event.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"
#include "two_gateways.hpp"

namespace bbgw::edelivery {
namespace {

using test::network;
using test::null_sink;

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

using test::side;

void touch(fs::path const& p, std::string const& bytes = "x") {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// Sets a file's (or directory's) modification time to `t` of the injected clock.
void age(fs::path const& p, sys_time t) {
  fs::last_write_time(p, std::chrono::file_clock::from_sys(t));
}

class payload_files : public test::two_gateways {
 protected:
  payload_files() : two_gateways("bbgw-as4-house") {
    ca_.pmodes[0].max_attempts = 2;
    connect();
  }

  std::string submit(std::string const& text = "<permit/>") {
    request r;
    r.method = "POST";
    r.headers.set("Content-Type", "application/json");
    r.body = R"({"pmode": "to-b", "conversationId": "c",
                 "payloads": [{"mimeType": "application/xml", "contentBase64": ")" +
             base64_encode(text) + R"("},
                              {"mimeType": "text/plain", "contentBase64": "aGVsbG8="},
                              {"mimeType": "text/plain", "contentBase64": "d29ybGQ="}]})";
    auto res = a_conn_->submit(r);
    EXPECT_EQ(res.status, 202u) << res.body;
    return std::string(json::parse(res.body).at("messageId").as_string());
  }
  static response get(edelivery_connector& c, std::string const& id, std::string const& n = "") {
    request r;
    r.params = {{"id", id}};
    if (n.empty()) return c.get_message(r);
    r.params.push_back({"n", n});
    return c.get_payload(r);
  }
  static json::object status(edelivery_connector& c, std::string const& id) {
    auto res = get(c, id);
    EXPECT_EQ(res.status, 200u) << res.body;
    return json::parse(res.body).as_object();
  }
  // The payload files a message's record points at (from the store, as GET does not show them).
  static std::vector<std::string> files(side& s, std::string const& id) {
    auto rec = json::parse(s.db.get(message_namespace, id).value().value()).as_object();
    std::vector<std::string> out;
    if (auto const* f = rec.if_contains("files"))
      for (auto const& v : f->as_array()) out.emplace_back(v.as_string());
    return out;
  }
  // The id of the only message B received.
  std::string received_id() {
    auto events = b_side_.db.outbox();
    EXPECT_EQ(events.size(), 1u);
    return events.empty() ? std::string() : *events[0].subject;
  }
};

TEST_F(payload_files, names_are_synced_after_the_rename_and_before_the_commit_once_per_message) {
  struct call {
    std::string dir;     // relative to payload_dir
    std::size_t events;  // in the outbox then: each commit of the message adds its event
  };
  std::vector<call> b_calls, a_calls;
  auto watch = [](side& s, std::string const& payload_dir, std::vector<call>& calls) {
    return [&s, payload_dir, &calls](std::string const& d) -> result<void> {
      calls.push_back({fs::relative(d, payload_dir).string(), s.db.outbox().size()});
      return sync_directory(d);
    };
  };
  b_conn_->set_directory_syncer(watch(b_side_, cb_.payload_dir, b_calls));
  a_conn_->set_directory_syncer(watch(a_side_, ca_.payload_dir, a_calls));

  auto id = submit();  // three payloads
  // A's submission: the message directory (out/<sha>, renamed from .partial) and out/.
  ASSERT_EQ(a_calls.size(), 2u);
  EXPECT_TRUE(a_calls[0].dir.starts_with("out/")) << a_calls[0].dir;
  EXPECT_FALSE(a_calls[0].dir.ends_with(".partial")) << "synced after the rename";
  EXPECT_EQ(a_calls[1].dir, "out");
  for (auto const& c : a_calls) EXPECT_EQ(c.events, 0u) << "synced before the commit";
  for (auto const& f : files(a_side_, id)) EXPECT_TRUE(fs::exists(f)) << f;

  ASSERT_TRUE(a_conn_->send_next());
  EXPECT_EQ(status(*a_conn_, id).at("status"), "delivered");
  // The message as sent (as4-message, renamed from .partial) is durable before `delivered`.
  ASSERT_EQ(a_calls.size(), 3u);
  EXPECT_EQ(a_calls[2].dir, a_calls[0].dir);
  EXPECT_EQ(a_calls[2].events, 2u) << "after submitted + sent, before delivered";
  // B's receive: three payloads, still one sync of the message directory and one of its parent.
  ASSERT_EQ(b_calls.size(), 2u);
  EXPECT_EQ(b_calls[0].dir.size(), 32u) << "the renamed <random> directory: " << b_calls[0].dir;
  EXPECT_EQ(b_calls[1].dir, ".");
  for (auto const& c : b_calls) EXPECT_EQ(c.events, 0u) << "synced before the commit";
  EXPECT_EQ(files(b_side_, received_id()).size(), 3u);
}

TEST_F(payload_files, a_failing_directory_sync_refuses_the_message_and_keeps_nothing) {
  b_conn_->set_directory_syncer(
      [](std::string const&) -> result<void> { return errc::delivery_failed; });
  auto id = submit();
  ASSERT_TRUE(a_conn_->send_next());
  auto st = status(*a_conn_, id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("ebmsCode"), "EBMS:0202") << "B answered eb:Error DeliveryFailure";
  EXPECT_TRUE(st.contains("failedAt"));
  EXPECT_TRUE(b_side_.db.outbox().empty()) << "no event";
  std::size_t left = 0;
  for ([[maybe_unused]] auto const& e : fs::recursive_directory_iterator(cb_.payload_dir)) ++left;
  EXPECT_EQ(left, 0u) << "no file left on B";

  a_conn_->set_directory_syncer(
      [](std::string const&) -> result<void> { return errc::delivery_failed; });
  request r;
  r.method = "POST";
  r.headers.set("Content-Type", "application/json");
  r.body =
      R"({"pmode": "to-b", "payloads": [{"mimeType": "text/plain", "contentBase64": "eA=="}]})";
  EXPECT_EQ(a_conn_->submit(r).status, 503u);
  EXPECT_EQ(a_side_.db.outbox().size(), 3u) << "submitted, sent, failed of the first only";
}

TEST_F(payload_files, crash_leftovers_are_removed_at_start_orphans_counted_and_kept) {
  auto id = submit();
  ASSERT_TRUE(a_conn_->send_next());
  ASSERT_EQ(status(*a_conn_, id).at("status"), "delivered");
  auto const a_files = files(a_side_, id);
  ASSERT_EQ(a_files.size(), 3u);
  auto const out_dir = fs::path(a_files[0]).parent_path();
  ASSERT_TRUE(fs::exists(out_dir / "as4-message"));

  // What crashes would leave, an hour old on the injected clock.
  fs::path const a = ca_.payload_dir;
  auto const old = a_side_.time.now() - 1h;
  std::vector<fs::path> leftovers = {
      a / "0123456789abcdef0123456789abcdef.partial",  // a receive stopped before its rename
      a / "out" / "feed.partial",                      // a submission stopped before its rename
      out_dir / "as4-message.partial",                 // a build stopped half-way
      out_dir / "as4-message.z0.partial",              // its compressed staging file
      a / ".scratch-1-Ab3dEf"};                        // a scratch file not yet unlinked
  touch(leftovers[0] / "0", "permit of a migrant");
  touch(leftovers[1] / "0");
  touch(leftovers[2]);
  touch(leftovers[3]);
  touch(leftovers[4]);
  for (auto const& p : leftovers) age(p, old);
  // Too young: another instance sharing the directory may be writing it.
  auto const young = a / "fedcba9876543210fedcba9876543210.partial";
  touch(young / "0");
  age(young, a_side_.time.now() - 1min);
  // Orphans: a directory and a loose file no record refers to (could be data: kept).
  auto const orphan_dir = a / "deadbeefdeadbeefdeadbeefdeadbeef";
  touch(orphan_dir / "0", "someone's case file");
  touch(a / "out" / "stray.bin");

  // A restart: a new connector on the same store and directory.
  a_conn_ = std::make_unique<edelivery_connector>(ca_, ctx_a_);
  a_conn_->start();
  a_conn_->stop();

  for (auto const& p : leftovers) EXPECT_FALSE(fs::exists(p)) << p;
  EXPECT_TRUE(fs::exists(young / "0")) << "younger than retention.leftover_grace";
  for (auto const& f : a_files) EXPECT_TRUE(fs::exists(f)) << "referenced payload kept: " << f;
  EXPECT_TRUE(fs::exists(out_dir / "as4-message")) << "the message as sent is kept";
  EXPECT_TRUE(fs::exists(orphan_dir / "0"));
  EXPECT_TRUE(fs::exists(a / "out" / "stray.bin"));
  EXPECT_EQ(a_side_.metrics.value("bbgw_edelivery_leftovers_removed_total"), 5);
  EXPECT_EQ(a_side_.metrics.value("bbgw_edelivery_payload_orphans"), 2);
  // Logged with a count and the directory only: no file names, no contents.
  bool logged = false;
  for (auto const& l : a_side_.log.lines()) {
    for (auto const& [k, v] : l.fields) {
      EXPECT_EQ(v.find("0123456789abcdef"), std::string::npos) << k << "=" << v;
      EXPECT_EQ(v.find("deadbeef"), std::string::npos) << k << "=" << v;
      EXPECT_EQ(v.find("migrant"), std::string::npos) << k << "=" << v;
    }
    if (l.message.find("leftovers") != std::string::npos) {
      logged = true;
      EXPECT_EQ(l.fields, (std::vector<std::pair<std::string, std::string>>{
                              {"count", "5"}, {"dir", ca_.payload_dir}}));
    }
  }
  EXPECT_TRUE(logged);

  // With no grace (a single instance), the young one goes too; the files stay where they are.
  ca_.retention.leftover_grace = 0ms;
  a_conn_ = std::make_unique<edelivery_connector>(ca_, ctx_a_);
  auto rep = a_conn_->housekeep();
  EXPECT_EQ(rep.leftovers_removed, 1u);
  EXPECT_EQ(rep.orphans, 2u);
  EXPECT_FALSE(fs::exists(young));
  EXPECT_EQ(a_side_.metrics.value("bbgw_edelivery_leftovers_removed_total"), 6);
  EXPECT_EQ(get(*a_conn_, id, "0").status, 200u);
}

TEST_F(payload_files, payloads_of_final_messages_are_purged_after_the_retention_period) {
  auto const start = a_side_.time.now();
  auto delivered = submit();
  ASSERT_TRUE(a_conn_->send_next());
  auto failed = submit();
  net_.down = 100;
  ASSERT_TRUE(a_conn_->send_next());
  net_.down = 0;
  auto waiting = submit("<pending/>");  // submitted, not sent yet: never purged
  ASSERT_EQ(status(*a_conn_, delivered).at("status"), "delivered");
  ASSERT_EQ(status(*a_conn_, failed).at("status"), "failed");
  auto received = received_id();
  auto const a_delivered = files(a_side_, delivered), a_failed = files(a_side_, failed),
             a_waiting = files(a_side_, waiting), b_received = files(b_side_, received);
  auto const out_dir = fs::path(a_delivered[0]).parent_path();

  // Default: 30 days. One second before, everything is kept.
  ASSERT_EQ(ca_.retention.payloads, std::chrono::hours(24 * 30));
  a_side_.time.set(start + 30 * 24h - 1s);
  b_side_.time.set(start + 30 * 24h - 1s);
  EXPECT_EQ(a_conn_->housekeep().purged, 0u);
  EXPECT_EQ(b_conn_->housekeep().purged, 0u);
  EXPECT_EQ(get(*b_conn_, received, "0").status, 200u);
  EXPECT_EQ(get(*a_conn_, delivered, "1").status, 200u);

  // Past it: the final ones go (payload files and the message as sent), the record stays.
  a_side_.time.set(start + 30 * 24h + 1s);
  b_side_.time.set(start + 30 * 24h + 1s);
  auto ra = a_conn_->housekeep();
  auto rb = b_conn_->housekeep();
  EXPECT_EQ(ra.purged, 2u);
  EXPECT_EQ(rb.purged, 1u);
  EXPECT_EQ(ra.orphans, 0u);
  for (auto const* fl : {&a_delivered, &a_failed, &b_received})
    for (auto const& f : *fl) EXPECT_FALSE(fs::exists(f)) << f;
  EXPECT_FALSE(fs::exists(out_dir)) << "as4-message too";
  for (auto const& f : a_waiting) EXPECT_TRUE(fs::exists(f)) << "not final: kept " << f;
  EXPECT_EQ(get(*a_conn_, waiting, "0").status, 200u);
  EXPECT_EQ(a_side_.metrics.value("bbgw_edelivery_payloads_purged_total"), 2);
  EXPECT_EQ(b_side_.metrics.value("bbgw_edelivery_payloads_purged_total"), 1);

  auto gone = get(*b_conn_, received, "0");
  EXPECT_EQ(gone.status, 410u);
  EXPECT_EQ(gone.headers.get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(json::parse(gone.body).at("status"), 410);
  EXPECT_EQ(get(*a_conn_, delivered, "2").status, 410u);
  EXPECT_EQ(get(*a_conn_, delivered, "7").status, 404u) << "never existed";
  auto st = status(*b_conn_, received);
  EXPECT_EQ(st.at("status"), "received");
  EXPECT_TRUE(st.contains("payloadsPurgedAt"));
  EXPECT_EQ(st.at("payloads").as_array().size(), 3u) << "descriptors (sizes, SHA-256) stay";
  EXPECT_EQ(st.at("payloads").as_array()[0].at("sha256").as_string().size(), 64u);
  EXPECT_TRUE(status(*a_conn_, failed).contains("payloadsPurgedAt"));
  EXPECT_FALSE(status(*a_conn_, waiting).contains("payloadsPurgedAt"));

  // A later sweep finds nothing more; no purged directory is taken for an orphan.
  EXPECT_EQ(a_conn_->housekeep().purged, 0u);
  EXPECT_EQ(b_conn_->housekeep().orphans, 0u);
  EXPECT_EQ(a_side_.metrics.value("bbgw_edelivery_payloads_purged_total"), 2);
}

TEST_F(payload_files, a_purge_interrupted_after_its_commit_is_finished_by_the_next_sweep) {
  auto id = submit();
  ASSERT_TRUE(a_conn_->send_next());
  auto received = received_id();
  auto const dir = fs::path(files(b_side_, received)[0]).parent_path();
  // The record already says purged (the commit happened), the files are still there.
  auto rec = json::parse(b_side_.db.get(message_namespace, received).value().value()).as_object();
  rec["payloadsPurgedAt"] = "2026-12-24T12:00:00.000000Z";
  ASSERT_TRUE(b_side_.db.transact(
      [&](unit_of_work& u) { return u.put(message_namespace, received, json::serialize(rec)); }));
  auto rep = b_conn_->housekeep();
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(rep.orphans, 0u);
  EXPECT_EQ(get(*b_conn_, received, "0").status, 410u);
}

TEST_F(payload_files, retention_zero_keeps_payloads_forever) {
  cb_.retention.payloads = 0ms;
  b_conn_ = std::make_unique<edelivery_connector>(cb_, ctx_b_);
  submit();
  ASSERT_TRUE(a_conn_->send_next());
  auto received = received_id();
  b_side_.time.advance(24h * 3650);
  EXPECT_EQ(b_conn_->housekeep().purged, 0u);
  EXPECT_EQ(get(*b_conn_, received, "0").status, 200u);
}

}  // namespace
}  // namespace bbgw::edelivery

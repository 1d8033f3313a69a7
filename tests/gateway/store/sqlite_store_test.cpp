// The SQLite store: key/value records with expiry, transactions that commit or leave nothing,
// group commit that isolates a failing transaction, the outbox, migrations and durability.
#include "store/sqlite_store.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>
#include <boost/json.hpp>

#include "../../support/fakes.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using bbgw::storage::errc;
using bbgw::storage::sqlite_settings;
using bbgw::storage::sqlite_store;

// A clock that moves only when the test says so.
class manual_clock final : public bbgw::clock {
 public:
  bbgw::sys_time now() const override {
    return bbgw::sys_time{bbgw::sys_time::duration{now_.load()}};
  }
  void advance(bbgw::sys_time::duration d) { now_ += d.count(); }

 private:
  std::atomic<bbgw::sys_time::duration::rep> now_{
      std::chrono::duration_cast<bbgw::sys_time::duration>(std::chrono::seconds{1'790'000'000})
          .count()};
};

bool logged(bbgw::testing::fake_logger const& l, std::string_view text) {
  for (auto const& e : l.entries())
    if (e.message.find(text) != std::string::npos) return true;
  return false;
}

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("bbgw-store-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    settings_.path = (dir_ / "nested" / "bbgw.db").string();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  sqlite_store& open() {
    store_.reset();
    auto s = sqlite_store::open(settings_, clock_, metrics_, logger_);
    EXPECT_TRUE(s) << (s ? "" : s.error().message());
    store_ = std::move(*s);
    return *store_;
  }
  // Raw SQL on the file, as an independent reader.
  std::int64_t scalar(std::string const& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(settings_.path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sql;
    std::int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
  }
  static bbgw::cloud_event event(std::string id, std::string key = "k", json::value data = {}) {
    bbgw::cloud_event ev;
    ev.id = std::move(id);
    ev.source = "/bbgw/test";
    ev.type = "eu.bbgateway.test.emitted.v1";
    ev.family = "test";
    ev.partitionkey = std::move(key);
    ev.time = bbgw::sys_time{std::chrono::seconds{1'790'000'000}};
    ev.data = std::move(data);
    return ev;
  }
  std::vector<bbgw::storage::outbox_record> undelivered() {
    auto r = store_->fetch_undelivered(0, 1'000'000);
    EXPECT_TRUE(r);
    return r ? *r : std::vector<bbgw::storage::outbox_record>{};
  }

  fs::path dir_;
  sqlite_settings settings_;
  manual_clock clock_;
  bbgw::testing::fake_metrics metrics_;
  bbgw::testing::fake_logger logger_;
  std::unique_ptr<sqlite_store> store_;
};

TEST_F(SqliteStore, OpenCreatesDirectorySchemaAndWal) {
  open();
  EXPECT_TRUE(fs::exists(settings_.path));
  EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
            bbgw::storage::sqlite_schema_version());
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE type='table' AND name IN "
                   "('kv','outbox','schema_version')"),
            3);
  // Schema 2: the outbox holds undelivered records only (no delivered_at, no partial index).
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE name='outbox_undelivered'"), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM pragma_table_info('outbox') WHERE name='delivered_at'"),
            0);
  // Schema 3: no expiry index, no second index on the outbox, no sqlite_sequence counter.
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE type='index' AND tbl_name IN "
                   "('kv','outbox')"),
            0)
      << "each table is its primary key alone";
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'"), 0);
  EXPECT_TRUE(fs::exists(settings_.path + "-wal")) << "WAL journal mode";
  EXPECT_TRUE(store_->check_writable());
}

TEST_F(SqliteStore, RejectsUnknownSynchronousMode) {
  settings_.synchronous = "off";
  auto s = sqlite_store::open(settings_, clock_, metrics_, logger_);
  EXPECT_FALSE(s);
}

TEST_F(SqliteStore, PutGetInsertErase) {
  auto& s = open();
  auto r = s.transact([](bbgw::unit_of_work& u) -> bbgw::result<void> {
    if (auto p = u.put("ns", "a", "one"); !p) return p;
    auto ins = u.insert("ns", "a", "other");
    EXPECT_TRUE(ins);
    EXPECT_FALSE(*ins) << "insert must not overwrite a live record";
    ins = u.insert("ns", "b", std::string("bin\0ary", 7));
    EXPECT_TRUE(ins && *ins);
    auto g = u.get("ns", "a");  // a transaction sees its own writes
    EXPECT_TRUE(g && *g == std::optional<std::string>("one"));
    return {};
  });
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*s.get("ns", "a"), std::optional<std::string>("one"));
  EXPECT_EQ(*s.get("ns", "b"), std::optional<std::string>(std::string("bin\0ary", 7)));
  EXPECT_EQ(*s.get("other-ns", "a"), std::nullopt) << "namespaces are separate";

  ASSERT_TRUE(s.transact([](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "a", "two"));  // put overwrites
    auto e = u.erase("ns", "b");
    EXPECT_TRUE(e && *e);
    e = u.erase("ns", "missing");
    EXPECT_TRUE(e && !*e);
    return {};
  }));
  EXPECT_EQ(*s.get("ns", "a"), std::optional<std::string>("two"));
  EXPECT_EQ(*s.get("ns", "b"), std::nullopt);
}

TEST_F(SqliteStore, ExpiredRecordsAreInvisibleAndPurged) {
  auto& s = open();
  auto t0 = clock_.now();
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "short", "v1", t0 + 10s));
    EXPECT_TRUE(u.put("ns", "long", "v2", t0 + 1h));
    EXPECT_TRUE(u.put("ns", "forever", "v3"));
    return {};
  }));
  EXPECT_EQ(*s.get("ns", "short"), std::optional<std::string>("v1"));

  clock_.advance(11s);
  EXPECT_EQ(*s.get("ns", "short"), std::nullopt);
  EXPECT_EQ(*s.get("ns", "long"), std::optional<std::string>("v2"));
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_EQ(*u.get("ns", "short"), std::nullopt);
    auto e = u.erase("ns", "short");
    EXPECT_TRUE(e && !*e) << "an expired record does not count as existing";
    auto ins = u.insert("ns", "short", "fresh", t0 + 1h);
    EXPECT_TRUE(ins && *ins) << "insert takes the place of an expired record";
    return {};
  }));
  EXPECT_EQ(*s.get("ns", "short"), std::optional<std::string>("fresh"));

  clock_.advance(2h);
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns='ns'"), 3) << "still on disk before purge";
  auto purged = s.purge_expired();
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, 2u);
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns='ns'"), 1);
  EXPECT_EQ(*s.get("ns", "forever"), std::optional<std::string>("v3"));
}

// The sweep walks kv in key order a few records at a time: every expired record of every
// namespace goes, wherever it falls in the steps, and nothing else does.
TEST_F(SqliteStore, PurgeSweepsEveryStepAndKeepsLiveRecords) {
  settings_.purge_chunk = 3;
  auto& s = open();
  auto t0 = clock_.now();
  int expired = 0;
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    for (char const* ns : {"", "a", "b.c", "zz"})
      for (int i = 0; i < 7; ++i) {
        auto key = std::string(i == 0 ? "" : "k") + std::to_string(i);
        bool dies = (i + ns[0]) % 3 == 0;
        expired += dies;
        EXPECT_TRUE(u.put(ns, key, "v", dies ? std::optional(t0 + 1s) : std::nullopt));
      }
    return {};
  }));
  ASSERT_GT(expired, 3);
  clock_.advance(2s);
  auto purged = s.purge_expired();
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, static_cast<std::size_t>(expired));
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns != 'bbgw.health'"), 28 - expired);
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE expires_at IS NOT NULL AND ns != 'bbgw.health'"),
            0);
  EXPECT_EQ(*s.purge_expired(), 0u) << "a second pass finds nothing";
  EXPECT_EQ(metrics_.counter_value("bbgw_store_expired_records_deleted_total", {}), expired);
}

// Without a call to purge_expired: the committer starts a sweep every purge_interval and runs
// its steps between group commits, so expired records leave the file on their own.
TEST_F(SqliteStore, TheCommitterSweepsExpiredRecordsPeriodically) {
  settings_.purge_chunk = 2;
  settings_.purge_interval = 20ms;
  auto& s = open();
  auto t0 = clock_.now();
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    for (int i = 0; i < 9; ++i)
      EXPECT_TRUE(u.put("ns", "k" + std::to_string(i), "v",
                        i % 3 == 0 ? std::nullopt : std::optional(t0 + 1s)));
    return {};
  }));
  clock_.advance(2s);
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (scalar("SELECT count(*) FROM kv WHERE ns='ns'") != 3 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns='ns'"), 3);
  EXPECT_EQ(metrics_.counter_value("bbgw_store_expired_records_deleted_total", {}), 6);
  for (int i = 0; i < 9; i += 3)
    EXPECT_EQ(*s.get("ns", "k" + std::to_string(i)), std::optional<std::string>("v"));
}

TEST_F(SqliteStore, FailedTransactionLeavesNoStateAndNoEvent) {
  auto& s = open();
  auto r = s.transact([](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "k", "v"));
    EXPECT_TRUE(u.emit(event("ev-1")));
    return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), boost::system::errc::make_error_code(boost::system::errc::invalid_argument))
      << "the work's own error is returned";
  EXPECT_EQ(*s.get("ns", "k"), std::nullopt);
  EXPECT_TRUE(undelivered().empty());
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(metrics_.counter_value("bbgw_store_transactions_total", {{"result", "rolled_back"}}),
            1);

  // A throwing work is rolled back too, with its own error code.
  r = s.transact([](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "k2", "v"));
    throw std::runtime_error("boom");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), bbgw::error_code(errc::work_failed));
  EXPECT_EQ(*s.get("ns", "k2"), std::nullopt);
}

TEST_F(SqliteStore, EmitWritesStructuredJsonToTheOutbox) {
  auto& s = open();
  auto ev = event("ev-1", "key-1", json::object{{"seq", 1}, {"note", "n"}});
  ev.subject = "subj";
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(ev); }));
  auto recs = undelivered();
  ASSERT_EQ(recs.size(), 1u);
  auto const& r = recs[0];
  EXPECT_GT(r.seq, 0);
  EXPECT_EQ(r.id, "ev-1");
  EXPECT_EQ(r.family, "test");
  EXPECT_EQ(r.key, "key-1");
  EXPECT_EQ(r.type, ev.type);
  EXPECT_EQ(r.source, ev.source);
  EXPECT_EQ(r.subject, std::optional<std::string>("subj"));
  EXPECT_EQ(r.time, bbgw::format_rfc3339(ev.time));
  EXPECT_EQ(r.payload, bbgw::to_structured_json(ev));
  auto back = bbgw::from_structured_json(r.payload);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->data, ev.data);
}

// The outbox keeps what it is given, in commit order: an event id is its producer's (derived
// from the state the connector dedupes on), and consumers dedupe on it (DESIGN.md, 6). An
// event that could not be routed fails its transaction, and the transaction's state with it.
TEST_F(SqliteStore, UnroutableEventFailsItsTransactionAndIdsAreTheProducers) {
  auto& s = open();
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("same")); }));
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("same")); }));
  auto recs = undelivered();
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_LT(recs[0].seq, recs[1].seq);

  auto bad = event("x");
  bad.family.clear();
  auto r = s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "side-effect", "v"));
    return u.emit(bad);
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), bbgw::error_code(errc::constraint))
      << "an event without a family could never be routed";
  EXPECT_EQ(*s.get("ns", "side-effect"), std::nullopt);
  EXPECT_EQ(undelivered().size(), 2u);
}

TEST_F(SqliteStore, FailingWorkInAGroupCommitDoesNotAffectTheOthers) {
  auto& s = open();
  // Hold the committer inside a first transaction so that the next ones queue up and are
  // committed together as one batch.
  std::atomic<bool> entered{false}, release{false};
  std::thread blocker([&] {
    EXPECT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
      entered = true;
      while (!release) std::this_thread::yield();
      return u.put("ns", "blocker", "v");
    }));
  });
  while (!entered) std::this_thread::yield();

  constexpr int n = 12;
  std::vector<bbgw::result<void>> results(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      results[i] = s.transact([i](bbgw::unit_of_work& u) -> bbgw::result<void> {
        auto k = "k" + std::to_string(i);
        if (auto p = u.put("ns", k, "v"); !p) return p;
        if (i % 4 == 1) return boost::system::errc::make_error_code(boost::system::errc::io_error);
        return u.emit(event("ev-" + std::to_string(i)));
      });
    });
  }
  while (s.pending_transactions() < n) std::this_thread::yield();
  release = true;
  blocker.join();
  for (auto& t : threads) t.join();

  EXPECT_EQ(metrics_.histogram_count("bbgw_store_commit_batch_size"), 2u)
      << "the blocker alone, then the n queued transactions in one batch";
  std::set<std::string> ids;
  for (auto const& r : undelivered()) ids.insert(r.id);
  for (int i = 0; i < n; ++i) {
    auto k = "k" + std::to_string(i);
    if (i % 4 == 1) {
      ASSERT_FALSE(results[i]);
      EXPECT_EQ(results[i].error(),
                boost::system::errc::make_error_code(boost::system::errc::io_error));
      EXPECT_EQ(*s.get("ns", k), std::nullopt) << k;
    } else {
      EXPECT_TRUE(results[i]) << i << ": " << (results[i] ? "" : results[i].error().message());
      EXPECT_EQ(*s.get("ns", k), std::optional<std::string>("v")) << k;
    }
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(n - n / 4));
  EXPECT_EQ(metrics_.counter_value("bbgw_store_transactions_total", {{"result", "rolled_back"}}),
            n / 4);
  EXPECT_EQ(metrics_.counter_value("bbgw_store_transactions_total", {{"result", "committed"}}),
            1 + n - n / 4);
}

TEST_F(SqliteStore, FailingEmitInsideABatchFailsAlone) {
  auto& s = open();
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("taken")); }));
  std::atomic<bool> entered{false}, release{false};
  std::thread blocker([&] {
    EXPECT_TRUE(s.transact([&](bbgw::unit_of_work&) -> bbgw::result<void> {
      entered = true;
      while (!release) std::this_thread::yield();
      return {};
    }));
  });
  while (!entered) std::this_thread::yield();
  bbgw::result<void> ok1, dup, ok2;
  std::thread a(
      [&] { ok1 = s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("a")); }); });
  while (s.pending_transactions() < 1) std::this_thread::yield();
  std::thread b([&] {
    dup = s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
      EXPECT_TRUE(u.put("ns", "dup", "v"));
      auto unroutable = event("b");
      unroutable.family.clear();
      return u.emit(unroutable);
    });
  });
  while (s.pending_transactions() < 2) std::this_thread::yield();
  std::thread c(
      [&] { ok2 = s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("c")); }); });
  while (s.pending_transactions() < 3) std::this_thread::yield();
  release = true;
  blocker.join();
  a.join();
  b.join();
  c.join();
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), bbgw::error_code(errc::constraint));
  EXPECT_EQ(*s.get("ns", "dup"), std::nullopt);
  std::vector<std::string> ids;
  for (auto const& r : undelivered()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"taken", "a", "c"})) << "commit order is seq order";
}

TEST_F(SqliteStore, ConcurrentTransactionsAllCommitInOrderPerThread) {
  auto& s = open();
  constexpr int threads_n = 8, per_thread = 2000;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto ev = event(bbgw::new_event_id(), "t" + std::to_string(t),
                        json::object{{"thread", t}, {"i", i}});
        auto r = s.transact([&](bbgw::unit_of_work& u) { return u.emit(ev); });
        if (!r) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);

  auto recs = undelivered();
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(threads_n * per_thread));
  std::set<std::string> ids;
  std::map<std::int64_t, int> next;  // thread -> next expected i
  std::int64_t last_seq = 0;
  for (auto const& r : recs) {
    EXPECT_GT(r.seq, last_seq);
    last_seq = r.seq;
    ids.insert(r.id);
    auto data = json::parse(r.payload).at("data");
    auto t = data.at("thread").as_int64();
    auto i = data.at("i").as_int64();
    ASSERT_EQ(i, next[t]) << "thread " << t << " out of order";
    ++next[t];
  }
  EXPECT_EQ(ids.size(), recs.size()) << "every event exactly once";
  for (int t = 0; t < threads_n; ++t) EXPECT_EQ(next[t], per_thread);
  auto batches = metrics_.histogram_count("bbgw_store_commit_batch_size");
  EXPECT_LT(batches, static_cast<std::uint64_t>(threads_n * per_thread))
      << "group commit shares transactions";
  EXPECT_EQ(metrics_.counter_value("bbgw_store_transactions_total", {{"result", "committed"}}),
            threads_n * per_thread);
}

TEST_F(SqliteStore, OutboxFetchMarkDeletesAndStats) {
  auto& s = open();
  auto t0 = clock_.now();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("e" + std::to_string(i))); }));
    clock_.advance(1s);
  }
  auto st = s.stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->depth, 10u);
  EXPECT_EQ(st->oldest_created, t0);

  auto first = s.fetch_undelivered(0, 4);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ((*first)[0].id, "e0");
  auto next = s.fetch_undelivered(first->back().seq, 100);
  ASSERT_EQ(next->size(), 6u);
  EXPECT_EQ((*next)[0].id, "e4");

  // Deliver e0..e2 and e5 (not contiguous).
  std::vector<std::int64_t> seqs = {(*first)[2].seq, (*first)[0].seq, (*first)[1].seq,
                                    (*next)[1].seq};
  ASSERT_TRUE(s.mark_delivered(seqs));
  ASSERT_TRUE(s.mark_delivered(seqs)) << "marking again is harmless";
  st = s.stats();
  EXPECT_EQ(st->depth, 6u);
  EXPECT_EQ(st->oldest_created, t0 + 3s);
  std::vector<std::string> ids;
  for (auto const& r : undelivered()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"e3", "e4", "e6", "e7", "e8", "e9"}));

  // Delivered records are gone from the file, not just hidden.
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 6);

  // Deliver the rest: the outbox is empty, and seqs are still never reused while the store is
  // open (the committer numbers them), so the relay's cursor stays valid.
  std::vector<std::int64_t> rest;
  for (auto const& r : undelivered()) rest.push_back(r.seq);
  ASSERT_TRUE(s.mark_delivered(rest));
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 0);
  st = s.stats();
  EXPECT_EQ(st->depth, 0u);
  EXPECT_EQ(st->oldest_created, std::nullopt);
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("late")); }));
  auto all = undelivered();
  EXPECT_EQ(all.back().id, "late");
  EXPECT_GT(all.back().seq, (*next).back().seq);
}

// The relay's read: one buffer kept across reads. Records are written over the earlier ones
// (a subject appears and disappears with them), the buffer never shrinks, and only buf[0, n)
// is the answer.
TEST_F(SqliteStore, OutboxFetchIntoAKeptBuffer) {
  auto& s = open();
  for (int i = 0; i < 5; ++i) {
    auto ev =
        event("e" + std::to_string(i), "key-" + std::to_string(i),
              json::object{{"i", i}, {"pad", std::string(static_cast<std::size_t>(i) * 100, 'x')}});
    if (i % 2 == 1) ev.subject = "subject-" + std::to_string(i);
    ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(ev); }));
  }
  std::vector<bbgw::storage::outbox_record> buf;
  auto n = s.fetch_undelivered(0, 100, buf);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 5u);
  ASSERT_EQ(buf.size(), 5u);
  EXPECT_EQ(buf[4].id, "e4");
  EXPECT_EQ(buf[1].subject, std::optional<std::string>("subject-1"));

  // After e2, two at a time: buf[0] (was e0, no subject) now holds e3 (a subject), buf[1] (was
  // e1, with a subject) holds e4 (none).
  auto seq = [&](int i) { return buf[static_cast<std::size_t>(i)].seq; };
  std::int64_t const seq0 = seq(0), seq2 = seq(2), seq4 = seq(4);
  n = s.fetch_undelivered(seq2, 2, buf);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 2u);
  EXPECT_EQ(buf.size(), 5u) << "the buffer is kept whole for the next read";
  EXPECT_EQ(buf[0].id, "e3");
  EXPECT_EQ(buf[0].key, "key-3");
  EXPECT_EQ(buf[0].subject, std::optional<std::string>("subject-3"));
  EXPECT_EQ(buf[1].id, "e4");
  EXPECT_EQ(buf[1].subject, std::nullopt);
  auto whole = s.fetch_undelivered(0, 100);
  ASSERT_TRUE(whole);
  EXPECT_EQ(buf[1].payload, (*whole)[4].payload);

  // A shorter record over a longer one (e1's payload over e3's): nothing of e3 is left.
  n = s.fetch_undelivered(seq0, 1, buf);
  ASSERT_TRUE(n);
  ASSERT_EQ(*n, 1u);
  EXPECT_EQ(buf[0].id, "e1");
  EXPECT_EQ(buf[0].payload, (*whole)[1].payload);
  EXPECT_EQ(json::parse(buf[0].payload).at("data").at("pad").as_string().size(), 100u);
  EXPECT_EQ(buf[0].subject, std::optional<std::string>("subject-1"));

  // Past the end: none, and nothing in the buffer counts.
  n = s.fetch_undelivered(seq4, 100, buf);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(buf.size(), 5u);
}

// may_hold: whether a namespace has an unexpired record (what a connector asks at start).
TEST_F(SqliteStore, MayHoldSeesOnlyUnexpiredRecordsOfTheNamespace) {
  auto& s = open();
  EXPECT_FALSE(*s.may_hold("ns"));
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    if (auto r = u.put("other", "k", "v"); !r) return r;
    return u.put("ns", "k", "v", clock_.now() + 10s);
  }));
  EXPECT_TRUE(*s.may_hold("ns"));
  EXPECT_FALSE(*s.may_hold("n")) << "a prefix of a namespace is another namespace";
  clock_.advance(10s);
  EXPECT_FALSE(*s.may_hold("ns")) << "expired, even before a sweep removed it";
  EXPECT_TRUE(*s.may_hold("other"));
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.put("ns", "k2", "v"); }));
  EXPECT_TRUE(*s.may_hold("ns")) << "a record without expiry";
}

TEST_F(SqliteStore, ReopenKeepsDataAndUndeliveredEvents) {
  {
    auto& s = open();
    ASSERT_TRUE(s.transact([](bbgw::unit_of_work& u) -> bbgw::result<void> {
      EXPECT_TRUE(u.put("ns", "k", "kept"));
      return u.emit(event("durable-1"));
    }));
    ASSERT_TRUE(s.transact([](bbgw::unit_of_work& u) { return u.emit(event("durable-2")); }));
    store_.reset();  // closes
  }
  auto& s = open();
  EXPECT_EQ(*s.get("ns", "k"), std::optional<std::string>("kept"));
  std::vector<std::string> ids;
  for (auto const& r : undelivered()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"durable-1", "durable-2"}));
  EXPECT_EQ(scalar("SELECT count(*) FROM schema_version"), bbgw::storage::sqlite_schema_version())
      << "migrations are not applied twice";
}

// A database written by schema 1 (delivered_at + partial index, delivered rows kept for an
// hour) is migrated through 2 and 3: delivered rows go, undelivered ones stay with their seqs
// and in order, new events are numbered above them, and records keep their expiry.
TEST_F(SqliteStore, MigratesASchema1Outbox) {
  fs::create_directories(fs::path(settings_.path).parent_path());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(settings_.path.c_str(), &db), SQLITE_OK);
  // Migration 1 as released, with its schema_version row.
  char const* v1 = R"sql(
PRAGMA journal_mode=WAL;
CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE kv (
  ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, expires_at INTEGER,
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX kv_expiry ON kv(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, family TEXT NOT NULL,
  key TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL, subject TEXT, time TEXT NOT NULL,
  payload TEXT NOT NULL, created_at INTEGER NOT NULL, delivered_at INTEGER
);
CREATE INDEX outbox_undelivered ON outbox(seq) WHERE delivered_at IS NULL;
INSERT INTO schema_version VALUES(1, '2026-01-01T00:00:00Z');
INSERT INTO outbox(id,family,key,type,source,time,payload,created_at,delivered_at) VALUES
  ('a','test','k','t','/s','2026-01-01T00:00:00Z','{}',1,5),
  ('b','test','k','t','/s','2026-01-01T00:00:00Z','{}',2,NULL),
  ('c','test','k','t','/s','2026-01-01T00:00:00Z','{}',3,6),
  ('d','test','k','t','/s','2026-01-01T00:00:00Z','{}',4,NULL),
  ('e','test','k','t','/s','2026-01-01T00:00:00Z','{}',5,7);
INSERT INTO kv VALUES('ns','old',x'6f6c64',1), ('ns','kept',x'6b',NULL);
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto& s = open();
  EXPECT_EQ(scalar("SELECT max(version) FROM schema_version"),
            bbgw::storage::sqlite_schema_version());
  EXPECT_EQ(scalar("SELECT count(*) FROM pragma_table_info('outbox') WHERE name='delivered_at'"),
            0);
  std::vector<std::string> ids;
  for (auto const& r : undelivered()) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b", "d"}));
  auto st = s.stats();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->depth, 2u);
  auto before = undelivered();
  ASSERT_EQ(before.size(), 2u);
  EXPECT_EQ(before[0].seq, 2);
  EXPECT_EQ(before[1].seq, 4);
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) { return u.emit(event("f")); }));
  EXPECT_EQ(undelivered().back().seq, 5) << "numbered above the highest undelivered";
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('kv_expiry','outbox_v3') "
                   "OR sql LIKE '%AUTOINCREMENT%' OR sql LIKE '%UNIQUE%'"),
            0);
  EXPECT_EQ(scalar("SELECT count(*) FROM sqlite_sequence WHERE name='outbox'"), 0);
  EXPECT_EQ(*s.get("ns", "old"), std::nullopt) << "expired in 1970";
  EXPECT_EQ(*s.purge_expired(), 1u);
  EXPECT_EQ(*s.get("ns", "kept"), std::optional<std::string>("k"));
}

TEST_F(SqliteStore, RefusesADatabaseFromANewerGateway) {
  open();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(settings_.path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES(999, 'future')", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = sqlite_store::open(settings_, clock_, metrics_, logger_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), bbgw::error_code(errc::schema_too_new));
  EXPECT_TRUE(logged(logger_, "newer"));
}

TEST_F(SqliteStore, RefusesAFileThatIsNotADatabase) {
  fs::create_directories(fs::path(settings_.path).parent_path());
  {
    std::ofstream f(settings_.path);
    f << std::string(4096, 'x');
  }
  auto s = sqlite_store::open(settings_, clock_, metrics_, logger_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), bbgw::error_code(errc::corrupt));
}

}  // namespace

// transact_async: the caller is not blocked; `done` comes from the committer thread once the
// transaction is durable (readable by an independent connection), or with the work's error.
class SqliteStoreAsync : public SqliteStore {
 protected:
  struct outcome {
    std::mutex m;
    std::condition_variable cv;
    std::optional<bbgw::result<void>> r;
    std::thread::id thread;
    bbgw::store::completion done() {
      return [this](bbgw::result<void> res) {
        std::lock_guard lock(m);
        r = res;
        thread = std::this_thread::get_id();
        cv.notify_all();
      };
    }
    bool wait() {
      std::unique_lock lock(m);
      return cv.wait_for(lock, std::chrono::seconds(10), [&] { return r.has_value(); });
    }
  };
};

TEST_F(SqliteStoreAsync, CommitsThenCompletesOnTheStoresThread) {
  auto& s = open();
  outcome o;
  s.transact_async(
      [](bbgw::unit_of_work& u) -> bbgw::result<void> {
        if (auto r = u.put("ns", "async", "v"); !r) return r;
        return u.emit(event("ev-async"));
      },
      o.done());
  ASSERT_TRUE(o.wait());
  EXPECT_TRUE(*o.r);
  EXPECT_NE(o.thread, std::this_thread::get_id());
  // Durable by the time done ran: an independent connection sees the record and the event.
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns = 'ns' AND key = 'async'"), 1);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 1);
}

TEST_F(SqliteStoreAsync, FailingWorkIsRolledBackAndReported) {
  auto& s = open();
  outcome o;
  s.transact_async(
      [](bbgw::unit_of_work& u) -> bbgw::result<void> {
        EXPECT_TRUE(u.put("ns", "gone", "v"));
        EXPECT_TRUE(u.emit(event("ev-gone")));
        return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
      },
      o.done());
  ASSERT_TRUE(o.wait());
  ASSERT_FALSE(*o.r);
  EXPECT_EQ(o.r->error(),
            boost::system::errc::make_error_code(boost::system::errc::invalid_argument));
  EXPECT_EQ(*s.get("ns", "gone"), std::nullopt);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), 0);
}

TEST_F(SqliteStoreAsync, ManyInFlightFromOneThreadAllCommit) {
  auto& s = open();
  constexpr int n = 200;
  std::mutex m;
  std::condition_variable cv;
  int finished = 0, failed = 0;
  for (int i = 0; i < n; ++i)
    s.transact_async([i](bbgw::unit_of_work& u) { return u.put("many", std::to_string(i), "v"); },
                     [&](bbgw::result<void> r) {
                       std::lock_guard lock(m);
                       ++finished;
                       if (!r) ++failed;
                       cv.notify_all();
                     });
  std::unique_lock lock(m);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return finished == n; }));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns = 'many'"), n);
}

namespace {

// The serialised form a producer makes before the transaction (what the context connector does
// on its I/O thread); the views point into `json` and `time`, which the test keeps alive.
struct serialised {
  std::string json, time;
  bbgw::serialised_event view(bbgw::cloud_event const& ev) const {
    return {ev.id,
            ev.source,
            ev.type,
            ev.subject ? std::optional<std::string_view>(*ev.subject) : std::nullopt,
            ev.partitionkey,
            ev.family,
            time,
            json};
  }
};
serialised serialise(bbgw::cloud_event const& ev) {
  return {bbgw::to_structured_json(ev), bbgw::format_rfc3339(ev.time)};
}

}  // namespace

// emit_serialised writes the row emit() would have written, without serialising on the
// committer; the same checks apply (unroutable events).
TEST_F(SqliteStore, EmitSerialisedWritesTheSameRowAsEmit) {
  auto& s = open();
  auto a = event("ev-a", "key-1", json::object{{"seq", 1}, {"note", "n"}});
  a.subject = "subj";
  auto b = a;
  b.id = "ev-b";
  auto sb = serialise(b);
  ASSERT_TRUE(s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    if (auto r = u.emit(a); !r) return r;
    return u.emit_serialised(sb.view(b));
  }));
  auto recs = undelivered();
  ASSERT_EQ(recs.size(), 2u);
  auto const& ra = recs[0];
  auto const& rb = recs[1];
  EXPECT_EQ(rb.id, "ev-b");
  EXPECT_EQ(rb.family, ra.family);
  EXPECT_EQ(rb.key, ra.key);
  EXPECT_EQ(rb.type, ra.type);
  EXPECT_EQ(rb.source, ra.source);
  EXPECT_EQ(rb.subject, std::optional<std::string>("subj"));
  EXPECT_EQ(rb.time, ra.time);
  EXPECT_EQ(rb.payload, bbgw::to_structured_json(b));

  // An unroutable event, serialised or not, fails the transaction and leaves nothing.
  auto unroutable = event("ev-c");
  unroutable.family.clear();
  auto sc = serialise(unroutable);
  auto r = s.transact([&](bbgw::unit_of_work& u) -> bbgw::result<void> {
    EXPECT_TRUE(u.put("ns", "side-effect", "v"));
    return u.emit_serialised(sc.view(unroutable));
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), bbgw::error_code(errc::constraint));
  EXPECT_EQ(*s.get("ns", "side-effect"), std::nullopt);
  EXPECT_EQ(undelivered().size(), 2u);
}

// The default emit_serialised (for stores that do not override it) parses the JSON back and
// emits the event it describes, family included.
TEST(UnitOfWorkDefault, EmitSerialisedParsesBackAndEmits) {
  struct recording final : bbgw::unit_of_work {
    bbgw::result<void> put(std::string_view, std::string_view, std::string_view,
                           std::optional<bbgw::sys_time>) override {
      return {};
    }
    bbgw::result<bool> insert(std::string_view, std::string_view, std::string_view,
                              std::optional<bbgw::sys_time>) override {
      return true;
    }
    bbgw::result<std::optional<std::string>> get(std::string_view, std::string_view) override {
      return std::optional<std::string>{};
    }
    bbgw::result<bool> erase(std::string_view, std::string_view) override { return false; }
    bbgw::result<void> emit(bbgw::cloud_event const& ev) override {
      emitted.push_back(ev);
      return {};
    }
    std::vector<bbgw::cloud_event> emitted;
  } u;
  bbgw::cloud_event ev;
  ev.id = "ev-1";
  ev.source = "/bbgw/test";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.family = "test.family";
  ev.partitionkey = "key-1";
  ev.subject = "subj";
  ev.requestid = "req-1";
  ev.time = bbgw::sys_time{std::chrono::microseconds{1'790'000'000'123'456}};
  ev.data = json::object{{"n", 4}, {"x", -3.7038}, {"s", "é"}};
  auto s = serialise(ev);
  ASSERT_TRUE(u.emit_serialised(s.view(ev)));
  ASSERT_EQ(u.emitted.size(), 1u);
  auto const& back = u.emitted[0];
  EXPECT_EQ(back.id, ev.id);
  EXPECT_EQ(back.family, ev.family);
  EXPECT_EQ(back.partitionkey, ev.partitionkey);
  EXPECT_EQ(back.subject, ev.subject);
  EXPECT_EQ(back.requestid, ev.requestid);
  EXPECT_EQ(back.time, ev.time);
  EXPECT_EQ(back.data, ev.data);
  EXPECT_EQ(bbgw::to_structured_json(back), s.json);

  bbgw::serialised_event broken = s.view(ev);
  broken.json = "{not json";
  EXPECT_FALSE(u.emit_serialised(broken));
  EXPECT_EQ(u.emitted.size(), 1u);
}

// Many single-event transactions in flight at once (64 notifications of one entity on 64
// connections) share group commits: queued while the committer is busy, they are committed
// together in ONE SQLite transaction, each still all-or-nothing on its own.
TEST_F(SqliteStoreAsync, QueuedAsyncTransactionsShareOneCommit) {
  auto& s = open();
  std::mutex m;
  std::condition_variable cv;
  bool entered = false, release = false;
  int finished = 0, failed = 0;
  auto count = [&](bbgw::result<void> r) {
    std::lock_guard lock(m);
    ++finished;
    if (!r) ++failed;
    cv.notify_all();
  };
  // Never leave the committer held (the store's destructor joins it), also on a failed ASSERT.
  struct releaser {
    std::mutex& m;
    std::condition_variable& cv;
    bool& release;
    ~releaser() {
      std::lock_guard lock(m);
      release = true;
      cv.notify_all();
    }
  } guard{m, cv, release};
  // Holds the committer inside a first transaction, so that the next ones queue up.
  s.transact_async(
      [&](bbgw::unit_of_work& u) -> bbgw::result<void> {
        std::unique_lock lock(m);
        entered = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        return u.put("ns", "blocker", "v");
      },
      count);
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return entered; }));
  }
  constexpr int n = 64;
  for (int i = 0; i < n; ++i)
    s.transact_async(
        [i](bbgw::unit_of_work& u) -> bbgw::result<void> {
          if (auto r = u.insert("dedupe", "note-" + std::to_string(i), "v"); !r) return r.error();
          return u.emit(event("ev-" + std::to_string(i), "entity-" + std::to_string(i)));
        },
        count);
  ASSERT_EQ(s.pending_transactions(), static_cast<std::size_t>(n));
  {
    std::unique_lock lock(m);
    release = true;
    cv.notify_all();
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return finished == n + 1; }));
  }
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(metrics_.histogram_count("bbgw_store_commit_batch_size"), 2u)
      << "the blocker alone, then the 64 queued transactions in one commit";
  EXPECT_EQ(scalar("SELECT count(*) FROM kv WHERE ns = 'dedupe'"), n);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox"), n);
}

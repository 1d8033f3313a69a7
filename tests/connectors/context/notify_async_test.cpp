// The notify route as the gateway runs it (handle_async over a store with one writer thread, like
// the SQLite store): the events reach the store already serialised, so the writer thread only
// writes rows; the dedupe record and the events commit together; a redelivery is deduped; the
// per-notification buffers are reused without carrying anything over.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "bbgw/cloud_event.hpp"
#include "test_support.hpp"

namespace bbgw::context::testing {
namespace {

using namespace std::chrono_literals;

// One writer thread runs the queued transactions and then their completions. Its unit of work
// takes pre-serialised events only: emit() (serialising on the writer thread) is counted and
// fails the transaction.
class writer_thread_store final : public store {
 public:
  struct row {
    std::string id, source, type, partitionkey, family, time, json;
    std::optional<std::string> subject;
  };

  writer_thread_store() : thread_([this] { run(); }) {}
  ~writer_thread_store() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  result<void> transact(std::function<result<void>(unit_of_work&)> work) override {
    std::mutex m;
    std::condition_variable cv;
    std::optional<result<void>> out;
    transact_async(std::move(work), [&](result<void> r) {
      std::lock_guard lock(m);
      out = r;
      cv.notify_all();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return out.has_value(); });
    return *out;
  }
  void transact_async(std::function<result<void>(unit_of_work&)> work, completion done) override {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(std::move(work), std::move(done));
    }
    cv_.notify_all();
  }
  result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mutex_);
    auto it = kv_.find({std::string(ns), std::string(key)});
    if (it == kv_.end()) return std::optional<std::string>{};
    return std::optional<std::string>{it->second};
  }

  std::vector<row> rows() {
    std::lock_guard lock(mutex_);
    return rows_;
  }
  int plain_emits() {
    std::lock_guard lock(mutex_);
    return plain_emits_;
  }
  std::thread::id writer() const { return thread_.get_id(); }

 private:
  using table = std::map<std::pair<std::string, std::string>, std::string>;
  class uow final : public unit_of_work {
   public:
    explicit uow(table kv) : kv_(std::move(kv)) {}
    result<void> put(std::string_view ns, std::string_view key, std::string_view value,
                     std::optional<sys_time>) override {
      kv_[{std::string(ns), std::string(key)}] = std::string(value);
      return {};
    }
    result<bool> insert(std::string_view ns, std::string_view key, std::string_view value,
                        std::optional<sys_time>) override {
      return kv_.emplace(std::pair{std::string(ns), std::string(key)}, std::string(value)).second;
    }
    result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override {
      auto it = kv_.find({std::string(ns), std::string(key)});
      if (it == kv_.end()) return std::optional<std::string>{};
      return std::optional<std::string>{it->second};
    }
    result<bool> erase(std::string_view ns, std::string_view key) override {
      return kv_.erase({std::string(ns), std::string(key)}) > 0;
    }
    result<void> emit(cloud_event const&) override {
      ++plain_emits_;
      return boost::system::errc::make_error_code(boost::system::errc::operation_not_supported);
    }
    result<void> emit_serialised(serialised_event const& ev) override {
      rows_.push_back({std::string(ev.id), std::string(ev.source), std::string(ev.type),
                       std::string(ev.partitionkey), std::string(ev.family), std::string(ev.time),
                       std::string(ev.json),
                       ev.subject ? std::optional<std::string>(*ev.subject) : std::nullopt});
      return {};
    }

    table kv_;
    std::vector<row> rows_;
    int plain_emits_ = 0;
  };

  void run() {
    for (;;) {
      std::pair<std::function<result<void>(unit_of_work&)>, completion> job;
      table base;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
        base = kv_;
      }
      uow u(std::move(base));
      auto r = job.first(u);
      {
        std::lock_guard lock(mutex_);
        plain_emits_ += u.plain_emits_;
        if (r) {  // commit: the dedupe record and the events together
          kv_ = std::move(u.kv_);
          for (auto& row : u.rows_) rows_.push_back(std::move(row));
        }
      }
      job.second(r);
    }
  }

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::pair<std::function<result<void>(unit_of_work&)>, completion>> queue_;
  bool stop_ = false;
  table kv_;
  std::vector<row> rows_;
  int plain_emits_ = 0;
  std::thread thread_;  // last: started once the rest is constructed
};

struct async_rig {
  context_config cfg = load_config(test_yaml());
  manual_clock time;
  writer_thread_store db;
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  notify_handler handler{cfg, db, time, stats, log};

  struct answer {
    response resp;
    std::thread::id thread;
  };
  // handle_async, waiting (bounded) for the responder.
  answer call(request const& r) {
    std::mutex m;
    std::condition_variable cv;
    std::optional<answer> out;
    handler.handle_async(r, [&](response resp) {
      std::lock_guard lock(m);
      out = answer{std::move(resp), std::this_thread::get_id()};
      cv.notify_all();
    });
    std::unique_lock lock(m);
    EXPECT_TRUE(cv.wait_for(lock, 10s, [&] { return out.has_value(); }));
    return out ? std::move(*out) : answer{};
  }
};

TEST(ContextNotifyAsync, EventsReachTheStoreSerialisedBeforeTheTransaction) {
  async_rig rig;
  auto a = rig.call(fixture_for("v2-normalized.http", "orion", "cases"));
  ASSERT_EQ(a.resp.status, 204u) << a.resp.body;
  EXPECT_EQ(a.resp.headers.get("X-Bbgw-Context-Events").value_or(""), "1");
  EXPECT_EQ(a.thread, rig.db.writer()) << "answered once durable, from the store's thread";
  EXPECT_EQ(rig.db.plain_emits(), 0) << "no event left for the writer thread to serialise";

  auto rows = rig.db.rows();
  ASSERT_EQ(rows.size(), 1u);
  auto const& row = rows[0];
  auto ev = from_structured_json(row.json);
  ASSERT_TRUE(ev) << row.json;
  // The indexed attributes are those of the serialised event.
  EXPECT_EQ(row.id, ev->id);
  EXPECT_EQ(row.source, ev->source);
  EXPECT_EQ(row.source, "/bbgw/context/orion/migr");
  EXPECT_EQ(row.type, ev->type);
  EXPECT_EQ(row.type, "eu.bbgateway.context.entity.updated.v1");
  EXPECT_EQ(row.partitionkey, ev->partitionkey);
  EXPECT_EQ(row.partitionkey, "urn:Case:17");
  EXPECT_EQ(row.subject, ev->subject);
  EXPECT_EQ(row.family, "context.migr.Case");
  EXPECT_EQ(row.time, format_rfc3339(rig.time.now()));
  EXPECT_EQ(ev->time, rig.time.now());
  EXPECT_EQ(ev->requestid.value_or(""), "req-v2-normalized.http");
  EXPECT_EQ(ev->data.at("id"), "urn:Case:17");
  EXPECT_EQ(ev->data.at("notification").at("count"), 1);
  EXPECT_EQ(rig.stats.counter_value("bbgw_context_entities_total",
                                    {{"broker", "orion"}, {"subscription", "cases"}}),
            1);
}

TEST(ContextNotifyAsync, ARedeliveryIsDedupedAndEmitsNothing) {
  async_rig rig;
  auto r = fixture_for("ld-normalized-link.http", "ld", "events");
  ASSERT_EQ(rig.call(r).resp.status, 204u);
  auto again = rig.call(r);
  EXPECT_EQ(again.resp.status, 204u);
  EXPECT_EQ(again.resp.headers.get("X-Bbgw-Context-Duplicate").value_or(""), "true");
  EXPECT_EQ(again.resp.headers.get("X-Bbgw-Context-Events").value_or(""), "0");
  EXPECT_EQ(rig.db.rows().size(), 1u);
  EXPECT_EQ(rig.stats.counter_value(
                "bbgw_context_notifications_total",
                {{"broker", "ld"}, {"subscription", "events"}, {"outcome", "duplicate"}}),
            1);
}

// Buffers go back to a pool and serve the next notifications: a small notification after a
// larger one carries nothing of it, and the answer of a fresh one is not the duplicate's.
TEST(ContextNotifyAsync, ReusedBuffersCarryNothingOver) {
  async_rig rig;
  auto three = fixture_for("v2-normalized.http", "orion", "cases");
  three.headers.set("Fiware-Correlator", "corr-3; cbnotif=1");
  three.body =
      R"({"data":[{"id":"A","type":"Case"},{"id":"B","type":"Case"},{"id":"C","type":"Office"}]})";
  ASSERT_EQ(rig.call(three).resp.status, 204u);
  EXPECT_EQ(rig.handler.pooled_buffers(), 1u);
  auto dup = rig.call(three);
  EXPECT_EQ(dup.resp.headers.get("X-Bbgw-Context-Duplicate").value_or(""), "true");
  EXPECT_EQ(rig.handler.pooled_buffers(), 1u) << "the same buffer served the redelivery";

  auto one = fixture_for("v2-normalized.http", "orion", "cases");
  one.headers.set("Fiware-Correlator", "corr-1; cbnotif=1");
  one.body = R"({"data":[{"id":"D","type":"Case"}]})";
  auto a = rig.call(one);
  ASSERT_EQ(a.resp.status, 204u);
  EXPECT_FALSE(a.resp.headers.get("X-Bbgw-Context-Duplicate"));
  EXPECT_EQ(a.resp.headers.get("X-Bbgw-Context-Events").value_or(""), "1");
  EXPECT_EQ(rig.handler.pooled_buffers(), 1u);

  auto rows = rig.db.rows();
  ASSERT_EQ(rows.size(), 4u);
  std::set<std::string> ids;
  for (auto const& row : rows) {
    auto ev = from_structured_json(row.json);
    ASSERT_TRUE(ev) << row.json;
    EXPECT_EQ(row.id, ev->id);
    EXPECT_EQ(row.partitionkey, ev->partitionkey);
    ids.insert(row.id);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(rows[2].family, "context.migr.Office");
  EXPECT_EQ(rows[3].partitionkey, "D");
  auto last = from_structured_json(rows[3].json);
  EXPECT_EQ(last->data.at("notification").at("count"), 1);
}

}  // namespace
}  // namespace bbgw::context::testing

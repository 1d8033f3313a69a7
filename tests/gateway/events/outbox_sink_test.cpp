// The event sink writes each event durably into the outbox before returning.
#include "events/outbox_sink.hpp"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "../../support/fakes.hpp"
#include "store/sqlite_store.hpp"

namespace {

namespace fs = std::filesystem;

class OutboxSink : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("bbgw-sink-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    bbgw::storage::sqlite_settings s;
    s.path = (dir_ / "bbgw.db").string();
    auto st = bbgw::storage::sqlite_store::open(s, clock_, metrics_, logger_);
    ASSERT_TRUE(st);
    store_ = std::move(*st);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  fs::path dir_;
  bbgw::system_clock clock_;
  bbgw::testing::fake_metrics metrics_;
  bbgw::testing::fake_logger logger_;
  std::unique_ptr<bbgw::storage::sqlite_store> store_;
};

TEST_F(OutboxSink, PublishIsDurableInTheOutboxAndNotifies) {
  int notified = 0;
  bbgw::events::outbox_sink sink(*store_, [&] { ++notified; });
  bbgw::cloud_event ev;
  ev.id = "e-1";
  ev.source = "/bbgw/test";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.family = "test";
  ev.partitionkey = "k";
  ev.data = boost::json::object{{"seq", 0}, {"note", "n"}};
  ASSERT_TRUE(sink.publish(ev));
  EXPECT_EQ(notified, 1);
  auto recs = store_->fetch_undelivered(0, 10);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].id, "e-1");
  EXPECT_EQ((*recs)[0].payload, bbgw::to_structured_json(ev));

  auto unroutable = ev;
  unroutable.family.clear();
  auto refused = sink.publish(unroutable);
  ASSERT_FALSE(refused) << "an event the relay could not route is refused";
  EXPECT_EQ(refused.error(), bbgw::error_code(bbgw::storage::errc::constraint));
  EXPECT_EQ(notified, 1) << "no wake-up for what was not committed";
}

TEST_F(OutboxSink, ABatchIsPublishedWholeInOrderOrNotAtAll) {
  int notified = 0;
  bbgw::events::outbox_sink sink(*store_, [&] { ++notified; });
  std::vector<bbgw::cloud_event> batch(3);
  for (int i = 0; i < 3; ++i) {
    batch[i].id = "b-" + std::to_string(i);
    batch[i].source = "/bbgw/test";
    batch[i].type = "eu.bbgateway.test.emitted.v1";
    batch[i].family = "test";
    batch[i].partitionkey = "k";
    batch[i].data = boost::json::object{{"seq", i}, {"note", "n"}};
  }
  ASSERT_TRUE(sink.publish(std::span<bbgw::cloud_event const>(batch)));
  EXPECT_EQ(notified, 1) << "one commit for the whole batch";
  auto recs = store_->fetch_undelivered(0, 10);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*recs)[i].id, "b-" + std::to_string(i));

  // One bad event (no family: it could not be routed) rejects the whole batch: nothing of it
  // is kept.
  std::vector<bbgw::cloud_event> bad(2, batch[0]);
  bad[0].id = "c-0";
  bad[1].id = "c-1";
  bad[1].family.clear();
  EXPECT_FALSE(sink.publish(std::span<bbgw::cloud_event const>(bad)));
  recs = store_->fetch_undelivered(0, 10);
  ASSERT_TRUE(recs);
  EXPECT_EQ(recs->size(), 3u) << "c-0 must not be stored when its batch failed";
  EXPECT_EQ(notified, 1);
}

TEST_F(OutboxSink, PublishAsyncCompletesOnlyOnceDurableAndReportsFailures) {
  std::atomic<int> notified{0};
  bbgw::events::outbox_sink sink(*store_, [&] { ++notified; });
  bbgw::cloud_event ev;
  ev.id = "a-1";
  ev.source = "/bbgw/test";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.family = "test";
  ev.partitionkey = "k";
  ev.data = boost::json::object{{"seq", 0}, {"note", "n"}};
  auto const expected = bbgw::to_structured_json(ev);

  std::mutex m;
  std::condition_variable cv;
  std::vector<bbgw::result<void>> outcomes;
  std::vector<std::thread::id> threads;
  auto done = [&](bbgw::result<void> r) {
    std::lock_guard lock(m);
    outcomes.push_back(r);
    threads.push_back(std::this_thread::get_id());
    cv.notify_all();
  };
  auto unroutable = ev;
  unroutable.id = "a-2";
  unroutable.family.clear();
  sink.publish_async(ev, done);
  sink.publish_async(unroutable, done);  // its own transaction, refused alone
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return outcomes.size() == 2; }));
  }
  for (auto id : threads)
    EXPECT_NE(id, std::this_thread::get_id()) << "completed on the store's thread, not inline";
  EXPECT_TRUE(outcomes[0]) << "the first publish is committed";
  ASSERT_FALSE(outcomes[1]);
  EXPECT_EQ(outcomes[1].error(), bbgw::error_code(bbgw::storage::errc::constraint));
  EXPECT_EQ(notified.load(), 1) << "after_commit only for the committed one";
  // Completed means durable: the committed event is in the outbox, serialised as publish() does.
  auto recs = store_->fetch_undelivered(0, 10);
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 1u);
  EXPECT_EQ((*recs)[0].id, "a-1");
  EXPECT_EQ((*recs)[0].payload, expected);
}

}  // namespace

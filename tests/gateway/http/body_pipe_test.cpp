// The hand-over of a streamed request body between a connection and its handler's thread.
#include "http/body_pipe.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace bbgw::http {
namespace {

using boost::system::errc::connection_aborted;
using boost::system::errc::message_size;

std::string read_all(body_pipe& p, std::size_t chunk, error_code* failed = nullptr) {
  std::string out, buf(chunk, '\0');
  for (;;) {
    auto n = p.read(buf);
    if (!n) {
      if (failed) *failed = n.error();
      return out;
    }
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(body_pipe, bytes_come_out_in_order_in_any_read_size_then_end) {
  body_pipe p(1 << 20, {});
  p.push("hello ", 6);
  p.push("streamed ", 9);
  p.push("world", 5);
  p.finish();
  EXPECT_EQ(read_all(p, 4), "hello streamed world");
  char c;
  auto again = p.read({&c, 1});
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);  // stays at its end
}

TEST(body_pipe, a_full_pipe_stops_the_writer_until_the_reader_frees_half) {
  int wakes = 0;
  body_pipe p(100, [&] { ++wakes; });
  std::string const block(60, 'x');
  EXPECT_TRUE(p.wants_more());
  p.push(block.data(), block.size());
  EXPECT_TRUE(p.wants_more());  // 60 < 100
  p.push(block.data(), block.size());
  EXPECT_FALSE(p.wants_more());  // 120 unread
  char buf[30];
  ASSERT_EQ(*p.read(buf), 30u);  // 90 unread: more than half
  EXPECT_EQ(wakes, 0);
  ASSERT_EQ(*p.read(buf), 30u);  // 60
  EXPECT_EQ(wakes, 0);
  ASSERT_EQ(*p.read(buf), 30u);  // 30: at most half, the writer may go on
  EXPECT_EQ(wakes, 1);
  EXPECT_TRUE(p.wants_more());
  ASSERT_EQ(*p.read(buf), 30u);
  EXPECT_EQ(wakes, 1);  // once per time the writer was told to wait
}

TEST(body_pipe, an_error_comes_after_the_bytes_that_arrived_before_it_and_stays) {
  body_pipe p(1 << 20, {});
  p.push("partial", 7);
  p.fail(make_error_code(message_size));
  error_code failed;
  EXPECT_EQ(read_all(p, 3, &failed), "partial");
  EXPECT_EQ(failed, make_error_code(message_size));
  char c;
  auto again = p.read({&c, 1});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), make_error_code(message_size));
}

TEST(body_pipe, a_failure_after_the_end_changes_nothing) {
  body_pipe p(16, {});
  p.push("done", 4);
  p.finish();
  p.fail(make_error_code(connection_aborted));
  error_code failed;
  EXPECT_EQ(read_all(p, 16, &failed), "done");
  EXPECT_FALSE(failed);
}

TEST(body_pipe, once_the_reader_is_closed_the_writer_is_not_asked_for_more) {
  body_pipe p(16, {});
  p.push("some", 4);
  p.close_reader();
  EXPECT_FALSE(p.wants_more());
  p.push("more", 4);  // dropped, no growth
  EXPECT_FALSE(p.wants_more());
}

TEST(body_pipe, a_read_waits_for_bytes_from_another_thread) {
  body_pipe p(1 << 20, {});
  std::atomic<bool> pushed{false};
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pushed = true;
    p.push("late", 4);
    p.finish();
  });
  EXPECT_EQ(read_all(p, 2), "late");
  EXPECT_TRUE(pushed.load());
  writer.join();
}

TEST(body_pipe, an_empty_buffer_is_refused_rather_than_read_as_the_end) {
  body_pipe p(16, {});
  p.push("x", 1);
  auto n = p.read({});
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), make_error_code(boost::system::errc::invalid_argument));
  char c;
  EXPECT_EQ(*p.read({&c, 1}), 1u);  // nothing was lost
}

TEST(body_pipe, the_waker_lets_a_waiting_writer_thread_go_on) {
  std::mutex m;
  std::condition_variable cv;
  bool woken = false;
  body_pipe p(8, [&] {
    std::lock_guard lock(m);
    woken = true;
    cv.notify_one();
  });
  std::string const all = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::thread writer([&] {
    for (std::size_t at = 0; at < all.size(); at += 4) {
      std::unique_lock lock(m);
      while (!p.wants_more()) {
        cv.wait(lock, [&] { return woken; });
        woken = false;
      }
      lock.unlock();
      p.push(all.data() + at, std::min<std::size_t>(4, all.size() - at));
    }
    p.finish();
  });
  EXPECT_EQ(read_all(p, 3), all);
  writer.join();
}

}  // namespace
}  // namespace bbgw::http

// The pipe between the thread that builds an AS4 message and the HTTP client sending it: the
// bytes arrive whole and in order across threads, the writer is held to the capacity, and
// either side can end it without the other hanging.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "edelivery/byte_pipe.hpp"

namespace bbgw::edelivery {
namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131) ^ (i >> 9));
  return s;
}

TEST(byte_pipe, bytes_cross_threads_whole_and_in_order) {
  auto const data = pattern((5 << 20) + 17);
  byte_pipe pipe(64 * 1024);
  std::thread writer([&] {
    std::string_view rest = data;
    while (!rest.empty()) {  // pieces that do not line up with the reader's
      auto n = std::min<std::size_t>(rest.size(), 100'003);
      if (!pipe.write(rest.substr(0, n))) {
        ADD_FAILURE() << "the reader is still there";
        break;
      }
      rest.remove_prefix(n);
    }
    pipe.finish();
  });
  std::string got;
  std::vector<char> chunk(77'777);
  for (;;) {
    auto n = pipe.read(chunk);
    ASSERT_TRUE(n) << n.error().message();
    if (*n == 0) break;
    got.append(chunk.data(), *n);
  }
  writer.join();
  EXPECT_TRUE(got == data);
  EXPECT_EQ(pipe.read(chunk).value(), 0u) << "the end stays the end";
}

TEST(byte_pipe, the_writer_waits_at_capacity_and_a_closed_reader_releases_it) {
  byte_pipe pipe(1024);
  std::atomic<bool> returned{false};
  bool accepted = true;
  std::thread writer([&] {
    accepted = pipe.write(pattern(4096));  // more than the capacity: blocks
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(returned) << "held at the capacity while nobody reads";
  pipe.close_reader();
  writer.join();
  EXPECT_FALSE(accepted) << "the reader is gone: the bytes are dropped";
  EXPECT_FALSE(pipe.write("more")) << "and every later write returns at once";
}

TEST(byte_pipe, a_failure_reaches_a_waiting_reader) {
  byte_pipe pipe;
  std::thread failer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pipe.fail(make_error_code(boost::system::errc::io_error));
  });
  std::vector<char> chunk(16);
  auto n = pipe.read(chunk);
  failer.join();
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), boost::system::errc::io_error);
  EXPECT_FALSE(pipe.read(chunk)) << "and stays";
  std::span<char> none;
  EXPECT_EQ(pipe.read(none).error(), boost::system::errc::invalid_argument);
}

}  // namespace
}  // namespace bbgw::edelivery

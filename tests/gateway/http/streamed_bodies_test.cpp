// Request bodies read by their handler while they arrive (route::stream_body), over real
// sockets: no spool file, the client paced by the handler, errors handed to the handler, and a
// fallback to spooling when every stream slot is taken.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "../../support/test_pki.hpp"
#include "http_test_support.hpp"

namespace bbgw::http {
namespace {

using namespace bbgw::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string header(std::string_view target, std::size_t length) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

bool no_files_in(fs::path const& p) {
  std::error_code ec;
  return !fs::exists(p, ec) || fs::is_empty(p, ec);
}

// A latch the tests open to let a handler go on.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  void release() {
    {
      std::lock_guard lock(m);
      open = true;
    }
    cv.notify_all();
  }
  void wait() {
    std::unique_lock lock(m);
    cv.wait_for(lock, 10s, [&] { return open; });
  }
};

class streamed_bodies : public ::testing::Test {
 protected:
  temp_dir tmp;
  fs::path spool = tmp.path() / "spool";
  std::mutex m;
  std::string mode;  // "stream" or "spool": how the last request's body reached the handler
  std::string content;
  error_code read_error;
  std::atomic<std::size_t> read_so_far{0};
  gate hold;  // /slow waits on it after its first byte

  // The last request's body reached the handler through the stream, and was `want`.
  void expect_streamed(std::string const& want) {
    std::lock_guard lock(m);
    EXPECT_EQ(mode, "stream");
    EXPECT_TRUE(content == want) << content.size() << " bytes, " << want.size() << " expected";
  }

  http::server_settings settings() {
    auto st = test_settings(2, 3);
    st.lim.body_limit = 1024;
    st.lim.read_timeout = 3000ms;
    st.spool_dir = spool.string();
    st.max_streamed_bodies = 1;
    st.lim.shutdown_grace = 1000ms;
    return st;
  }

  // Reads the body the way the route got it, in odd-sized pieces, and answers its size.
  bbgw::response consume(bbgw::request const& q, bool slow) {
    std::string got;
    error_code failed;
    std::string how;
    if (q.body_stream) {
      how = "stream";
      std::string buf(7001, '\0');
      bool first = true;
      for (;;) {
        auto n = q.body_stream->read(first && slow ? std::span(buf.data(), 1) : std::span(buf));
        if (!n) {
          failed = n.error();
          break;
        }
        if (*n == 0) break;
        got.append(buf.data(), *n);
        read_so_far += *n;
        if (first && slow) hold.wait();
        first = false;
      }
    } else if (q.body_file) {
      how = "spool";
      std::ifstream in(*q.body_file, std::ios::binary);
      got.assign(std::istreambuf_iterator<char>(in), {});
    }
    std::lock_guard lock(m);
    mode = how;
    content = got;
    read_error = failed;
    if (failed == make_error_code(boost::system::errc::message_size))
      return bbgw::response::problem(413, "too large, as the handler saw it");
    if (failed) return bbgw::response::text(400, "cut off");
    return bbgw::response::text(200, std::to_string(got.size()));
  }

  bbgw::route streaming(std::string pattern, bbgw::handler h, std::size_t limit = 32 << 20) {
    auto r = make_route({"POST"}, std::move(pattern), std::move(h), bbgw::execution::worker, limit);
    r.spool_body = true;
    r.stream_body = true;
    return r;
  }

  running_server s{settings(),
                   {streaming("/stream", [this](auto const& q) { return consume(q, false); }),
                    streaming(
                        "/slow", [this](auto const& q) { return consume(q, true); }, 128 << 20),
                    streaming("/ignore",
                              [](auto const&) {
                                // Late enough that the server is waiting for more of the body by
                                // then.
                                std::this_thread::sleep_for(200ms);
                                return bbgw::response::text(202, "not read");
                              }),
                    streaming("/throw", [](bbgw::request const& q) -> bbgw::response {
                      char c;
                      (void)q.body_stream->read({&c, 1});
                      throw std::runtime_error("handler failed mid-body");
                    })}};

  double metric(std::string const& name) { return s.metrics.value(name); }
};

TEST_F(streamed_bodies, the_handler_reads_the_body_while_it_arrives_and_nothing_is_spooled) {
  auto const body = patterned(6 << 20);
  test_client c(s.port());
  ASSERT_TRUE(c.send(header("/stream", body.size())));
  ASSERT_TRUE(c.send(std::string_view(body).substr(0, body.size() / 2)));
  // The handler is reading before the client has sent the rest: nothing waits for the whole.
  ASSERT_TRUE(eventually([&] { return read_so_far.load() > 0; }));
  EXPECT_TRUE(no_files_in(spool));
  ASSERT_TRUE(c.send(std::string_view(body).substr(body.size() / 2)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), std::to_string(body.size()));
  expect_streamed(body);
  EXPECT_EQ(metric("bbgw_http_streamed_bodies_total"), 1);
  // The connection goes on: the body was read to its end.
  ASSERT_TRUE(c.send(header("/stream", 5) + "again"));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body(), "5");
  EXPECT_TRUE(no_files_in(spool));
}

TEST_F(streamed_bodies, a_chunked_body_is_streamed_without_its_framing) {
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("POST /stream HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "11");
  expect_streamed("hello world");
}

TEST_F(streamed_bodies, a_body_over_the_route_limit_reaches_the_handler_as_message_size) {
  test_client c(s.port());
  // Chunked, so the limit trips while the body streams, not on Content-Length.
  c.send(chunked_upload("/stream", 33));  // the server may close before it has read everything
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_EQ(r->body().find("as the handler saw it") != std::string::npos, true);
  std::lock_guard lock(m);
  EXPECT_EQ(read_error, make_error_code(boost::system::errc::message_size));
  EXPECT_LE(content.size(), std::size_t{32} << 20);
}

TEST_F(streamed_bodies, a_declared_length_over_the_limit_is_413_before_any_handler) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(header("/stream", std::size_t{64} << 20)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  std::lock_guard lock(m);
  EXPECT_TRUE(mode.empty());
}

TEST_F(streamed_bodies, a_client_that_goes_away_mid_body_gives_the_handler_an_error) {
  {
    test_client c(s.port());
    ASSERT_TRUE(c.send(header("/stream", 1 << 20) + std::string(1000, 'a')));
    ASSERT_TRUE(eventually([&] { return read_so_far.load() >= 1000; }));
  }  // closed
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(m);
    return !mode.empty();
  }));
  std::lock_guard lock(m);
  EXPECT_EQ(read_error, make_error_code(boost::system::errc::connection_aborted));
  EXPECT_EQ(content, std::string(1000, 'a'));
}

TEST_F(streamed_bodies, a_client_too_slow_for_the_read_timeout_gives_the_handler_an_error) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(header("/stream", 100) + "only ten b"));
  // Nothing more is sent: the read timeout (3 s) ends the request.
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(m);
        return !mode.empty();
      },
      8000ms));
  std::lock_guard lock(m);
  EXPECT_EQ(read_error, make_error_code(boost::system::errc::connection_aborted));
  EXPECT_EQ(content, "only ten b");
}

TEST_F(streamed_bodies, a_handler_that_answers_without_reading_gets_its_answer_sent_then_close) {
  test_client c(s.port());
  // Half the body, then the client waits for an answer: the server is waiting for the other
  // half when the handler answers, and must send that answer rather than wait on.
  ASSERT_TRUE(c.send(header("/ignore", 200000) + std::string(100000, 'z')));
  auto r = c.read_response(false, 2500ms);  // under the 3 s read timeout
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 202u);
  EXPECT_EQ((*r)[boost::beast::http::field::connection], "close");
  EXPECT_TRUE(c.closed_within(3000ms));
}

TEST_F(streamed_bodies, a_handler_that_throws_mid_body_is_a_500_and_the_connection_closes) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(header("/throw", 50000) + std::string(20000, 't')));
  auto r = c.read_response(false, 2500ms);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500u);
  EXPECT_TRUE(c.closed_within(3000ms));
  EXPECT_TRUE(s.log.contains("handler failed", {{"error", "handler failed mid-body"}}));
}

TEST_F(streamed_bodies, expect_100_continue_is_answered_before_the_body_streams) {
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("POST /stream HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
             "Content-Length: 9\r\n\r\n"));
  ASSERT_TRUE(c.send("continued"));
  auto r = c.read_response();  // the interim 100 is skipped
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "9");
  expect_streamed("continued");
}

TEST_F(streamed_bodies, a_shutdown_while_a_body_streams_fails_the_read_and_the_server_stops) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(header("/stream", 1 << 20) + std::string(5000, 'd')));
  ASSERT_TRUE(eventually([&] { return read_so_far.load() >= 5000; }));
  auto const t0 = std::chrono::steady_clock::now();
  s.stop_and_join();  // the request is in flight: it gets the grace period, then its socket closes
  EXPECT_TRUE(s.returned());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  std::lock_guard lock(m);
  EXPECT_EQ(mode, "stream");
  EXPECT_EQ(read_error, make_error_code(boost::system::errc::connection_aborted));
}

TEST_F(streamed_bodies, the_client_is_paced_by_the_handler) {
  // A raw socket that counts what the kernel accepted from it.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(s.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  auto const body = patterned(std::size_t{64} << 20);
  auto const head = header("/slow", body.size());
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<long>(head.size()));
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    std::size_t off = 0;
    while (off < body.size()) {
      long n = ::send(fd, body.data() + off, std::min<std::size_t>(64 << 10, body.size() - off),
                      MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<std::size_t>(n);
      sent = off;
    }
  });
  // The handler read one byte and stopped: the server takes at most its 1 MiB buffer (and the
  // kernel its socket buffers, a few MiB), so the client cannot send the 64 MiB.
  ASSERT_TRUE(eventually([&] { return read_so_far.load() == 1; }));
  std::this_thread::sleep_for(500ms);
  auto const stalled = sent.load();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(sent.load(), stalled);
  EXPECT_LT(stalled, body.size() / 2);
  hold.release();
  sender.join();
  EXPECT_EQ(sent.load(), body.size());
  char buf[4096];
  std::string reply;
  while (reply.find("\r\n\r\n") == std::string::npos) {
    long n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply.substr(0, 200);
  std::lock_guard lock(m);
  EXPECT_TRUE(content == body);
}

TEST_F(streamed_bodies, beyond_the_stream_slots_a_body_is_spooled_instead) {
  // The one slot is held by a request whose handler waits.
  test_client first(s.port());
  ASSERT_TRUE(first.send(header("/slow", 10) + "0123456789"));
  ASSERT_TRUE(eventually([&] { return read_so_far.load() == 1; }));
  test_client second(s.port());
  ASSERT_TRUE(second.send(header("/stream", 11) + "hello spool"));
  auto r = second.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "11");
  {
    std::lock_guard lock(m);
    EXPECT_EQ(mode, "spool");
    EXPECT_EQ(content, "hello spool");
  }
  EXPECT_EQ(metric("bbgw_http_stream_fallbacks_total"), 1);
  hold.release();
  auto r1 = first.read_response();
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->body(), "10");
  expect_streamed("0123456789");
}

}  // namespace
}  // namespace bbgw::http

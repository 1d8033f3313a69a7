// Connection deadlines over real sockets: a passed deadline cancels the pending operation and
// says so (and later operations fail too), a cleared or renewed one does not, and the ticking stops
// with the last connection.
#include "http/connection_deadlines.hpp"

#include <optional>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace bbgw::http {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using socket_type = tcp::socket;
using namespace std::chrono_literals;
using steady = connection_deadlines::clock;

// A connected pair of sockets on 127.0.0.1 in one io_context.
struct socket_pair {
  asio::io_context ctx{1};
  socket_type server{ctx};
  socket_type client{ctx};
  socket_pair() {
    tcp::acceptor acc(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acc.local_endpoint());
    acc.accept(server);
  }
};

// Runs handlers until `done` holds or `limit` passed (the deadline timer keeps ticking while a
// connection exists, so run_for would always take the whole limit).
template <class Pred>
void run_until(asio::io_context& ctx, Pred done, steady::duration limit = 3s) {
  auto const end = steady::now() + limit;
  while (!done() && steady::now() < end) ctx.run_one_for(10ms);
}

// Starts a read on the server side that records how it ended.
struct pending_read {
  std::array<char, 16> buf{};
  std::optional<boost::system::error_code> result;
  steady::time_point done{};
  void start(socket_type& s) {
    s.async_read_some(asio::buffer(buf), [this](boost::system::error_code ec, std::size_t) {
      result = ec;
      done = steady::now();
    });
  }
};

TEST(connection_deadlines, a_passed_deadline_cancels_the_pending_read_and_says_so) {
  socket_pair p;
  connection_deadlines d(p.ctx, 10ms);
  connection_deadlines::entry e(d, p.server);
  auto const start = steady::now();
  e.expires_after(100ms);
  pending_read r;
  r.start(p.server);
  run_until(p.ctx, [&] { return r.result.has_value(); });
  ASSERT_TRUE(r.result.has_value());
  EXPECT_EQ(*r.result, asio::error::operation_aborted);
  EXPECT_TRUE(e.expired());
  // Within a tick either way of the deadline, never long after it.
  EXPECT_GE(r.done - start, 90ms);
  EXPECT_LT(r.done - start, 1s);
}

TEST(connection_deadlines, a_cleared_deadline_leaves_the_read_alone_until_data_comes) {
  socket_pair p;
  connection_deadlines d(p.ctx, 5ms);
  connection_deadlines::entry e(d, p.server);
  e.expires_after(20ms);
  e.clear();
  pending_read r;
  r.start(p.server);
  p.ctx.run_for(150ms);
  EXPECT_FALSE(r.result.has_value());
  asio::write(p.client, asio::buffer("ping", 4));
  run_until(p.ctx, [&] { return r.result.has_value(); });
  ASSERT_TRUE(r.result.has_value());
  EXPECT_FALSE(*r.result);
  EXPECT_EQ(std::string_view(r.buf.data(), 4), "ping");
  EXPECT_FALSE(e.expired());
}

TEST(connection_deadlines, a_deadline_renewed_before_it_passes_holds) {
  socket_pair p;
  connection_deadlines d(p.ctx, 5ms);
  connection_deadlines::entry e(d, p.server);
  e.expires_after(30ms);
  pending_read r;
  r.start(p.server);
  p.ctx.run_for(10ms);
  e.expires_after(5s);
  p.ctx.run_for(100ms);
  EXPECT_FALSE(r.result.has_value());
  EXPECT_FALSE(e.expired());
  asio::write(p.client, asio::buffer("x", 1));
  run_until(p.ctx, [&] { return r.result.has_value(); });
  ASSERT_TRUE(r.result.has_value());
  EXPECT_FALSE(*r.result);
}

// A tick can find nothing pending on the socket (e.g. a partial write's completion queued, the
// next part not started): an operation started after the deadline passed must fail too, not wait
// without a bound.
TEST(connection_deadlines, an_operation_started_after_the_deadline_passed_fails_at_once) {
  socket_pair p;
  connection_deadlines d(p.ctx, 5ms);
  connection_deadlines::entry e(d, p.server);
  e.expires_after(10ms);
  p.ctx.run_for(100ms);  // ticks pass the deadline with no operation pending
  ASSERT_TRUE(e.expired());
  pending_read r;
  r.start(p.server);
  run_until(
      p.ctx, [&] { return r.result.has_value(); }, 500ms);
  ASSERT_TRUE(r.result.has_value());
  EXPECT_TRUE(*r.result);
}

TEST(connection_deadlines, only_the_connection_whose_deadline_passed_is_cut) {
  socket_pair a;
  // Two connections on one io_context.
  tcp::acceptor acc(a.ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  socket_type client2(a.ctx), server2(a.ctx);
  client2.connect(acc.local_endpoint());
  acc.accept(server2);

  connection_deadlines d(a.ctx, 5ms);
  connection_deadlines::entry short_one(d, a.server);
  connection_deadlines::entry long_one(d, server2);
  short_one.expires_after(20ms);
  long_one.expires_after(10s);
  pending_read r1, r2;
  r1.start(a.server);
  r2.start(server2);
  a.ctx.run_for(300ms);
  ASSERT_TRUE(r1.result.has_value());
  EXPECT_EQ(*r1.result, asio::error::operation_aborted);
  EXPECT_FALSE(r2.result.has_value());
  EXPECT_FALSE(long_one.expired());
  server2.cancel();
  run_until(a.ctx, [&] { return r2.result.has_value(); });
}

TEST(connection_deadlines, ticking_stops_with_the_last_connection) {
  socket_pair p;
  connection_deadlines d(p.ctx, 5ms);
  {
    connection_deadlines::entry e(d, p.server);
    e.expires_after(1h);
    p.ctx.run_for(30ms);  // a few ticks
  }
  // Nothing left to do: run() returns at once instead of ticking for ever.
  auto const start = steady::now();
  p.ctx.restart();
  p.ctx.run_for(5s);
  EXPECT_LT(steady::now() - start, 1s);
  EXPECT_TRUE(p.ctx.stopped());
}

TEST(connection_deadlines, tick_is_a_tenth_of_the_shortest_timeout_within_bounds) {
  EXPECT_EQ(connection_deadlines::tick_for(300ms), 30ms);
  EXPECT_EQ(connection_deadlines::tick_for(30s), 250ms);
  EXPECT_EQ(connection_deadlines::tick_for(10ms), 5ms);
}

}  // namespace
}  // namespace bbgw::http

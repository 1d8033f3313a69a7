// The HTTP client's timeout is enforced on every step: a peer that accepts the connection (the
// kernel completes it from the listen backlog) and then never answers — neither the HTTP
// response nor the TLS handshake — is a timeout error within about the timeout, not a thread
// held forever. A slow but steady upload is not cut: each block of the body gets its own time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include <gtest/gtest.h>

#include "http/beast_client.hpp"
#include "http_test_support.hpp"
#include "support/piecewise_body.hpp"

namespace bbgw::http {
namespace {

using namespace std::chrono_literals;

// A TCP listener that never accepts: connections complete, nothing is ever read or sent.
class silent_listener {
 public:
  silent_listener() : fd_(bbgw::testing::listen_loopback(port_)) {}
  ~silent_listener() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_ = 0;  // before fd_: set by its initialiser
  int fd_ = -1;
};

bbgw::result<bbgw::client_response> timed(bbgw::client_request const& req,
                                          std::chrono::milliseconds& took) {
  beast_client c;
  auto start = std::chrono::steady_clock::now();
  auto r = c.send(req);
  took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
  return r;
}

// Over plain HTTP the request is written (into the kernel's buffers) and the response never
// comes; over TLS the handshake never completes.
class silent_peer : public ::testing::TestWithParam<char const*> {};

TEST_P(silent_peer, is_a_timeout_within_about_the_timeout) {
  silent_listener peer;
  bbgw::client_request req;
  req.url = std::string(GetParam()) + "://127.0.0.1:" + std::to_string(peer.port()) + "/x";
  req.timeout = 300ms;
  std::chrono::milliseconds took{};
  auto r = timed(req, took);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(client_errc::timeout)) << r.error().message();
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 5s);
}

INSTANTIATE_TEST_SUITE_P(client_timeout, silent_peer, ::testing::Values("http", "https"),
                         [](auto const& info) { return std::string(info.param); });

// A body that takes longer in total than the timeout, each piece well within it: sent whole.
class slow_body final : public bbgw::body_reader {
 public:
  result<std::size_t> read(std::span<char> into) override {
    if (left_ == 0) return std::size_t{0};
    std::this_thread::sleep_for(100ms);
    auto n = std::min<std::size_t>({into.size(), left_, 1000});
    std::fill_n(into.data(), n, 'z');
    left_ -= n;
    return n;
  }

 private:
  std::size_t left_ = 6000;
};

TEST(client_timeout, a_slow_steady_body_is_not_cut) {
  std::string seen;
  bbgw::testing::running_server s{bbgw::testing::test_settings(),
                                  {bbgw::testing::make_route(
                                      {"POST"}, "/in",
                                      [&](bbgw::request const& q) {
                                        seen = q.body;
                                        return bbgw::response::text(200, "ok");
                                      },
                                      bbgw::execution::worker, 1 << 20)}};
  slow_body body;
  bbgw::client_request req;
  req.method = "POST";
  req.url = "http://127.0.0.1:" + std::to_string(s.port()) + "/in";
  req.body_stream = &body;
  req.timeout = 300ms;  // the whole upload takes ~600 ms
  std::chrono::milliseconds took{};
  auto r = timed(req, took);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_GE(took, 500ms);
  EXPECT_EQ(seen, std::string(6000, 'z'));
}

}  // namespace
}  // namespace bbgw::http

// Interim responses: a server may answer 100 Continue or 103 Early Hints before its final
// response (RFC 9110, 15.2) — some do so unasked during a long upload. The client skips them and
// returns the final response; a peer that sends nothing but interim responses is a protocol error,
// not a loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "http/beast_client.hpp"
#include "http_test_support.hpp"

namespace bbgw::http {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads the request head (and a Content-Length body), writes `answer`
// and closes.
class scripted_peer {
 public:
  explicit scripted_peer(std::string answer) : fd_(bbgw::testing::listen_loopback(port_)) {
    thread_ = std::thread([this, answer = std::move(answer)] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[4096];
      for (;;) {  // the head, then as many body bytes as it announces
        auto n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        request_.append(buf, static_cast<std::size_t>(n));
        auto end = request_.find("\r\n\r\n");
        if (end == std::string::npos) continue;
        std::size_t body = 0;
        if (auto cl = request_.find("Content-Length: "); cl != std::string::npos)
          body = std::stoul(request_.substr(cl + 16));
        if (request_.size() >= end + 4 + body) break;
      }
      std::size_t off = 0;
      while (off < answer.size()) {
        auto n = ::send(c, answer.data() + off, answer.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    });
  }
  ~scripted_peer() {
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/as4"; }

 private:
  std::uint16_t port_ = 0;  // before fd_: set by its initialiser
  int fd_ = -1;
  std::string request_;
  std::thread thread_;
};

bbgw::client_request post(std::string url) {
  bbgw::client_request req;
  req.method = "POST";
  req.url = std::move(url);
  req.body = "<signal/>";
  req.timeout = 5s;
  return req;
}

TEST(client_interim, continue_and_early_hints_are_skipped_for_the_final_response) {
  scripted_peer peer(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nX-Final: yes\r\n"
      "Content-Length: 9\r\n\r\n<receipt>");
  beast_client c;
  auto r = c.send(post(peer.url()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "<receipt>");
  EXPECT_EQ(r->headers.get("X-Final").value_or(""), "yes");
  EXPECT_FALSE(r->headers.get("Link")) << "nothing of the interim responses is kept";
}

TEST(client_interim, a_final_error_after_continue_is_that_error) {
  scripted_peer peer(
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
  beast_client c;
  auto r = c.send(post(peer.url()));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 503u);
  EXPECT_EQ(r->body, "busy");
}

TEST(client_interim, endless_interim_responses_are_a_protocol_error) {
  std::string answer;
  for (int i = 0; i < 40; ++i) answer += "HTTP/1.1 100 Continue\r\n\r\n";
  scripted_peer peer(answer);
  beast_client c;
  auto r = c.send(post(peer.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), make_error_code(client_errc::protocol_error)) << r.error().message();
}

}  // namespace
}  // namespace bbgw::http

#pragma once
// Test harness for the HTTP server: a server running on its own thread, and a blocking client
// over a plain POSIX socket (optionally OpenSSL) whose every wait is bounded.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "../../support/fakes.hpp"
#include "http/server.hpp"

namespace bbgw::testing {

using namespace std::chrono_literals;
using http_response = boost::beast::http::response<boost::beast::http::string_body>;

// A TCP socket listening on 127.0.0.1 at a port the kernel picks (written to `port`); the
// caller owns (closes) the descriptor.
inline int listen_loopback(std::uint16_t& port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 8) != 0)
    throw std::runtime_error("cannot listen on 127.0.0.1");
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

// Polls `pred` until it holds or `timeout` passes (a condition wait for state owned by other
// threads, e.g. metrics updated after a response was written).
inline bool eventually(std::function<bool()> const& pred,
                       std::chrono::milliseconds timeout = 5000ms) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

inline bbgw::route make_route(std::vector<std::string> methods, std::string pattern,
                              bbgw::handler h, bbgw::execution exec = bbgw::execution::io,
                              std::size_t body_limit = 0) {
  bbgw::route r;
  r.methods = std::move(methods);
  r.pattern = std::move(pattern);
  r.handle = std::move(h);
  r.exec = exec;
  r.body_limit = body_limit;
  return r;
}

inline http::server_settings test_settings(unsigned io_threads = 2, unsigned workers = 2) {
  http::server_settings s;
  http::listener_settings l;
  l.name = "test";
  l.port = 0;
  s.listeners.push_back(l);
  s.io_threads = io_threads;
  s.worker_threads = workers;
  s.lim.shutdown_grace = 5000ms;
  return s;
}

// A started server whose run() executes on a background thread; stopped on destruction.
class running_server {
 public:
  running_server(http::server_settings s, std::vector<bbgw::route> routes) {
    http::router r;
    for (auto& rt : routes) r.add(std::move(rt));
    srv_ = std::make_unique<http::server>(std::move(s), std::move(r), metrics, log);
    bound = srv_->start();
    thread_ = std::thread([this] {
      run_thread_id = std::this_thread::get_id();
      srv_->run();
      returned_ = true;
    });
  }
  ~running_server() { stop_and_join(); }

  std::uint16_t port(std::size_t i = 0) const { return bound.at(i).port; }
  void stop() { srv_->stop(); }
  void stop_and_join() {
    if (!thread_.joinable()) return;
    srv_->stop();
    thread_.join();
  }
  bool returned() const { return returned_; }

  fake_metrics metrics;
  fake_logger log;
  std::vector<http::bound_listener> bound;
  std::atomic<std::thread::id> run_thread_id{};

 private:
  std::unique_ptr<http::server> srv_;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

struct tls_client_options {
  std::string ca_file;              // trust anchor for the server certificate
  std::string cert_file, key_file;  // client certificate, if any
  int min_version = TLS1_2_VERSION;
  int max_version = 0;  // 0 = highest
  std::string ciphers;  // TLS 1.2 cipher list; empty = default
  bool legacy = false;  // security level 0, so the client really offers old protocols
};

// A blocking client with bounded waits (SO_RCVTIMEO/SO_SNDTIMEO, poll).
class test_client {
 public:
  explicit test_client(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    set_timeout(5000ms);
  }
  ~test_client() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  test_client(test_client const&) = delete;
  test_client& operator=(test_client const&) = delete;

  // TLS handshake; false (with handshake_error set) when it fails.
  bool handshake(tls_client_options const& o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (o.legacy) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    SSL_CTX_set_min_proto_version(ctx_, o.min_version);
    if (o.max_version) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    if (!o.ciphers.empty()) SSL_CTX_set_cipher_list(ctx_, o.ciphers.c_str());
    if (!o.ca_file.empty()) SSL_CTX_load_verify_locations(ctx_, o.ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (!o.cert_file.empty()) {
      SSL_CTX_use_certificate_chain_file(ctx_, o.cert_file.c_str());
      SSL_CTX_use_PrivateKey_file(ctx_, o.key_file.c_str(), SSL_FILETYPE_PEM);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set1_host(ssl_, "localhost");
    SSL_set_tlsext_host_name(ssl_, "localhost");
    SSL_set_fd(ssl_, fd_);
    ERR_clear_error();
    if (SSL_connect(ssl_) == 1) return true;
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    handshake_error = buf;
    return false;
  }
  int tls_version() const { return ssl_ ? SSL_version(ssl_) : 0; }

  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      long n = ssl_ ? SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()))
                    : ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response; nullopt when the connection ends (or `timeout` passes) before it is complete.
  std::optional<http_response> read_response(bool head = false,
                                             std::chrono::milliseconds timeout = 5000ms) {
    namespace bhttp = boost::beast::http;
    std::optional<bhttp::response_parser<bhttp::string_body>> p;
    auto fresh = [&] {
      p.emplace();
      p->body_limit(64 * 1024 * 1024);
      p->skip(head);
    };
    fresh();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      // Feed what is buffered; 1xx interim responses are skipped.
      while (!pending_.empty()) {
        boost::system::error_code ec;
        auto used = p->put(boost::asio::buffer(pending_), ec);
        pending_.erase(0, used);
        if (ec == bhttp::error::need_more) break;
        if (ec) return std::nullopt;
        if (p->is_done()) {
          if (p->get().result_int() / 100 == 1) {
            fresh();
            continue;
          }
          return p->release();
        }
        if (used == 0) break;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      char buf[16384];
      long n = read_some(buf, sizeof buf, left);
      if (n <= 0) {
        if (n == 0 && p->got_some()) {  // close-delimited body
          boost::system::error_code ec;
          p->put_eof(ec);
          if (!ec && p->is_done()) return p->release();
        }
        return std::nullopt;
      }
      pending_.append(buf, static_cast<std::size_t>(n));
    }
  }

  // True when the server closes the connection (EOF or reset) within `timeout` (any bytes that
  // arrive first are discarded).
  bool closed_within(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      char buf[4096];
      long n = read_some(buf, sizeof buf, left);
      if (n == 0) return true;
      if (n < 0) return n == -1;  // -1: error/reset; -2: timeout
    }
  }

  std::string handshake_error;

 private:
  void set_timeout(std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000),
               static_cast<suseconds_t>((t.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  // >0 bytes, 0 EOF, -1 error or reset, -2 timeout.
  long read_some(char* buf, std::size_t n, std::chrono::milliseconds timeout) {
    if (!ssl_ || SSL_pending(ssl_) == 0) {
      pollfd pfd{fd_, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(std::max<long>(1, timeout.count())));
      if (r == 0) return -2;
      if (r < 0) return -1;
    }
    if (ssl_) {
      int r = SSL_read(ssl_, buf, static_cast<int>(n));
      if (r > 0) return r;
      int err = SSL_get_error(ssl_, r);
      ERR_clear_error();
      return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
    long r = ::recv(fd_, buf, n, 0);
    if (r < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
    return r;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

inline std::string get_request(std::string_view target, std::string_view extra_headers = {}) {
  std::string r = "GET ";
  r += target;
  r += " HTTP/1.1\r\nHost: localhost\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

// n bytes that are neither text nor repetitive, the same every run.
inline std::string patterned(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

// A chunked POST of `mib` 1 MiB chunks: a body whose size no Content-Length announces.
inline std::string chunked_upload(std::string_view target, int mib) {
  std::string req = "POST " + std::string(target) +
                    " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string const chunk(1 << 20, 'x');
  for (int i = 0; i < mib; ++i) req += "100000\r\n" + chunk + "\r\n";
  return req + "0\r\n\r\n";
}

inline boost::json::value json_body(http_response const& r) {
  return boost::json::parse(r.body());
}

}  // namespace bbgw::testing

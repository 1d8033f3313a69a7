#pragma once
// The HTTP(S) server: listeners, keep-alive connections, limits, routing, graceful shutdown.
// Beast and Asio stay in server.cpp (pimpl), so including this costs little.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "http/router.hpp"

namespace bbgw::http {

enum class client_auth { none, optional, required };

struct tls_settings {
  std::string certificate_file;  // PEM chain, leaf first
  std::string private_key_file;  // PEM
  std::string client_ca_file;    // PEM; needed when client_verify is not none
  client_auth client_verify = client_auth::none;
};

struct listener_settings {
  std::string name;
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = ephemeral
  std::optional<tls_settings> tls;
};

struct limits {
  std::size_t header_limit = 16 * 1024;
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{
      10000};  // whole request (headers+body) must arrive within it
  std::chrono::milliseconds idle_timeout{60000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds handshake_timeout{10000};
  std::size_t max_connections = 10000;
  std::chrono::milliseconds shutdown_grace{10000};
};

struct server_settings {
  std::vector<listener_settings> listeners;
  limits lim;
  unsigned io_threads = 0;      // 0 = cores
  unsigned worker_threads = 0;  // 0 = 2*cores
  std::string server_name = "bbgw";
  // Where routes with spool_body write request bodies (created at start when needed).
  std::string spool_dir = "var/spool";
  // Request bodies read while their handler runs (routes with stream_body), at most this many
  // at once; 0 = half the worker threads. Each holds a worker until the client has sent its
  // body, so never more than worker_threads - 1 (with one worker, bodies are always spooled).
  unsigned max_streamed_bodies = 0;
};

struct bound_listener {
  std::string name;
  std::string address;
  std::uint16_t port;
  bool tls;
};

class server {
 public:
  server(server_settings s, router r, bbgw::metrics& m, bbgw::logger& log);
  ~server();
  server(server const&) = delete;
  server& operator=(server const&) = delete;

  // Binds and listens on every listener (port 0 = ephemeral); throws std::runtime_error naming
  // the listener on failure (startup only). Logs one "listening" line per listener with name,
  // address:port, tls.
  std::vector<bound_listener> start();
  // Runs the io_context on io_threads threads until a SIGINT/SIGTERM arrives or stop() is
  // called, then shuts down gracefully: stop accepting, let in-flight requests finish (up to
  // shutdown_grace), close idle keep-alive connections, join threads, and return.
  void run();
  // Thread-safe, idempotent: triggers the graceful shutdown from anywhere.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bbgw::http

#pragma once
// Outbound HTTP(S) for connectors (context-broker subscriptions, eTranslation, AS4 sending):
// blocking, so call it from a worker or a connector's own thread, never from an I/O handler.
#include <chrono>
#include <optional>
#include <string>

#include "bbgw/body_reader.hpp"
#include "bbgw/header_list.hpp"
#include "bbgw/result.hpp"

namespace bbgw {

struct client_tls {
  std::string ca_file;           // PEM bundle to verify the server; empty = system store
  std::string certificate_file;  // client certificate (mTLS), PEM; optional
  std::string private_key_file;  // PEM; with certificate_file
};

struct client_request {
  std::string method = "GET";
  std::string url;  // http:// or https://
  header_list headers;
  std::string body;
  // When set, the body is streamed from this file instead (`body` must be empty): large
  // uploads (AS4 messages) without holding them in memory. An unreadable file is an error.
  std::string body_file;
  // When set instead (`body` and `body_file` empty), the body is pulled from it while it is
  // sent, with `Transfer-Encoding: chunked`: a body still being made (an AS4 message while it
  // is encrypted). An error from it abandons the request — the connection is closed without
  // the last chunk, so the server sees the body cut off — and is returned as is.
  body_reader* body_stream = nullptr;
  // Each step must finish within it: connecting, the TLS handshake, writing the header, each
  // block (up to 1 MiB) of the body, reading the response. Time spent waiting for a
  // body_stream's bytes is not a step.
  std::chrono::milliseconds timeout{10000};
  std::optional<client_tls> tls;  // for https: trust and client certificate
  std::size_t max_response_body = 16 * 1024 * 1024;
};

struct client_response {
  unsigned status = 0;
  header_list headers;
  std::string body;
};

class http_client {
 public:
  virtual ~http_client() = default;
  // Transport failures (DNS, connect, TLS, timeout, oversized or malformed response) are errors;
  // any HTTP status, 4xx and 5xx included, is a response.
  virtual result<client_response> send(client_request const& req) = 0;
};

}  // namespace bbgw

#pragma once
// The request view a connector's handler sees: no Beast types.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/body_reader.hpp"
#include "bbgw/header_list.hpp"

namespace bbgw {

struct request {
  std::string method;  // upper case token, e.g. "POST"
  std::string target;  // as received: path and query
  std::string path;    // percent-encoded path, without the query
  std::string query;   // without the leading '?'
  header_list headers;
  std::string body;  // empty when the route spools its body to a file
  // Routes with spool_body: the file holding the body (possibly empty), private to this request.
  std::optional<std::string> body_file;
  // Routes with stream_body, when the server streams this body: read it from the handler's
  // thread while the handler runs (body and body_file are then empty).
  body_reader* body_stream = nullptr;
  // Path parameters bound by the router: "/messages/{id}" matched against "/messages/42"
  // gives {"id", "42"} (percent-decoded).
  std::vector<std::pair<std::string, std::string>> params;
  std::string request_id;      // from X-Request-Id when acceptable, else generated
  std::string remote_address;  // "ip:port"
  std::string listener;        // the name of the listener that accepted it
  bool tls = false;
  // Subject of the verified client certificate (mTLS), RFC 2253 form.
  std::optional<std::string> client_subject;
  // DER of the verified client certificate (mTLS).
  std::optional<std::string> client_certificate_der;

  std::optional<std::string_view> header(std::string_view name) const { return headers.get(name); }
  std::optional<std::string_view> param(std::string_view name) const {
    for (auto const& [k, v] : params)
      if (k == name) return v;
    return std::nullopt;
  }
};

}  // namespace bbgw

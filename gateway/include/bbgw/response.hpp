#pragma once
// The response a handler returns; the server adds Date, Server, X-Request-Id, Content-Length.
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "bbgw/header_list.hpp"

namespace bbgw {

struct response {
  unsigned status = 200;
  header_list headers;
  std::string body;
  // When set, the body is streamed from this file instead (`body` must be empty): large
  // downloads without holding them in memory. The file must exist when the handler returns.
  std::string body_file;

  static response text(unsigned status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static response json(unsigned status, boost::json::value const& body,
                       std::string content_type = "application/json");
  // RFC 9457 problem details (application/problem+json). `type` defaults to about:blank,
  // whose title is the status's reason phrase when `title` is empty.
  static response problem(unsigned status, std::string_view detail, std::string_view title = {},
                          std::string_view type = "about:blank");
};

}  // namespace bbgw

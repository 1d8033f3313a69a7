#include "bbgw/response.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace bbgw {

namespace {

// Reason phrases of RFC 9110 (and the few common extensions), used as the problem title for
// about:blank (RFC 9457 4.2.1).
std::string_view reason_phrase(unsigned status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 425:
      return "Too Early";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown Status";
  }
}

}  // namespace

response response::text(unsigned status, std::string body, std::string content_type) {
  response r;
  r.status = status;
  r.headers.add("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

response response::json(unsigned status, boost::json::value const& body, std::string content_type) {
  response r;
  r.status = status;
  r.headers.add("Content-Type", std::move(content_type));
  r.body = boost::json::serialize(body);
  return r;
}

response response::problem(unsigned status, std::string_view detail, std::string_view title,
                           std::string_view type) {
  boost::json::object o;
  o["type"] = type.empty() ? std::string_view("about:blank") : type;
  o["title"] = title.empty() ? reason_phrase(status) : title;
  o["status"] = status;
  if (!detail.empty()) o["detail"] = detail;
  return json(status, o, "application/problem+json");
}

}  // namespace bbgw

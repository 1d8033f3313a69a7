#pragma once
// Reads a recorded HTTP request (.http file: request line, CRLF headers, blank line, body) from
// ../shared/fixtures/ngsi/ into a bbgw::request.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bbgw/request.hpp"

namespace bbgw::context::testing {

inline std::string fixtures_dir() {
  return std::string(BBGW_SHARED_DIR) + "/fixtures/ngsi";
}

inline std::string slurp(std::string const& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline request parse_http(std::string const& text) {
  request r;
  auto head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("no end of headers");
  std::string head = text.substr(0, head_end);
  r.body = text.substr(head_end + 4);
  std::size_t pos = 0;
  bool first = true;
  while (pos <= head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (first) {
      first = false;
      auto sp1 = line.find(' ');
      auto sp2 = line.rfind(' ');
      r.method = line.substr(0, sp1);
      r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      auto q = r.target.find('?');
      r.path = r.target.substr(0, q);
      r.query = q == std::string::npos ? "" : r.target.substr(q + 1);
      continue;
    }
    auto colon = line.find(':');
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.add(line.substr(0, colon), value);
  }
  if (auto cl = r.headers.get("Content-Length");
      cl && std::stoul(std::string(*cl)) != r.body.size())
    throw std::runtime_error("Content-Length does not match the body");
  return r;
}

inline request load_fixture(std::string const& name) {
  return parse_http(slurp(fixtures_dir() + "/" + name));
}

}  // namespace bbgw::context::testing

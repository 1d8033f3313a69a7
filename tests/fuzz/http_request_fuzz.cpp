// Fuzzes what the server does with the bytes of a connection (gateway/src/http/server.cpp): a
// Beast request_parser with the server's limits (16 KiB header, no body limit until the route is
// known, then the route's), keep-alive request after request, then the post-parse steps that are
// callable outside the server: the request-target split, router::match on a representative route
// table, percent_decode, and the header list the handler sees.
//
// The input is the byte stream of one connection. It is parsed twice, once arriving in 4 KiB
// reads (the server's read size) and once in small pieces, and both must give the same requests:
// how TCP segments a request must not change what the gateway sees.
//
// (A malformed header that never ends may be refused with 400 or by closing; see same_requests.)
//
// Invariants: percent_decode agrees with an independent decoder; router::match agrees with a
// brute-force reference matcher (outcome, route, parameters, Allow); 405 carries a non-empty
// Allow without the request's method; matched never has a null route; a body never exceeds the
// route's limit and equals Content-Length when one is given; header_list::get finds the first
// field of a name case-insensitively.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bbgw/connector.hpp"
#include "bbgw/header_list.hpp"
#include "fuzz_check.hpp"
#include "http/router.hpp"

namespace {

namespace bhttp = boost::beast::http;
using boost::system::error_code;

constexpr std::size_t header_limit = 16 * 1024;  // server.hpp limits::header_limit
constexpr std::size_t default_body_limit = 1024 * 1024;

// ---- routes ---------------------------------------------------------------------------------

struct route_spec {
  std::vector<std::string> methods;
  std::string pattern;
  std::size_t body_limit = 0;
};

// Shaped like the gateway's: ops literals, the context notify route, a REST resource with a
// literal beside a parameter, a percent-encoded literal, and a catch-one-segment parameter.
std::vector<route_spec> const& route_specs() {
  static std::vector<route_spec> const specs = {
      {{"GET", "HEAD"}, "/healthz"},
      {{"GET", "HEAD"}, "/readyz"},
      {{"GET"}, "/metrics"},
      {{"GET"}, "/openapi.yaml"},
      {{"GET"}, "/"},
      {{"POST"}, "/context/notify/{broker}/{subscription}", 2048},
      {{"GET", "PUT", "DELETE"}, "/api/v1/things/{id}", 64},
      {{"GET"}, "/api/v1/things/new"},
      {{"POST"}, "/api/v1/things/new", 16},
      {{"GET"}, "/api/v1/things/{id}/parts/{part}"},
      {{"GET"}, "/files/{name}"},
      {{"GET"}, "/a/{x}/d"},
      {{"POST"}, "/a/b/c", 1},
      {{"GET", "PATCH"}, "/a/b/{y}"},
      {{"GET"}, "/caf%C3%A9/{q}"},
      {{"OPTIONS"}, "/{any}"},
  };
  return specs;
}

bbgw::http::router const& the_router() {
  static bbgw::http::router const r = [] {
    bbgw::http::router r;
    for (auto const& s : route_specs()) {
      bbgw::route rt;
      rt.methods = s.methods;
      rt.pattern = s.pattern;
      rt.body_limit = s.body_limit;
      rt.handle = [](bbgw::request const&) { return bbgw::response{}; };
      r.add(std::move(rt));
    }
    return r;
  }();
  return r;
}

// ---- reference implementations --------------------------------------------------------------

std::optional<std::string> ref_decode(std::string_view in) {
  auto hex = [](char c) -> int {
    if ('0' <= c && c <= '9') return c - '0';
    if ('a' <= c && c <= 'f') return c - 'a' + 10;
    if ('A' <= c && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  std::size_t i = 0;
  while (i < in.size()) {
    if (in[i] != '%') {
      out += in[i++];
      continue;
    }
    if (in.size() - i < 3 || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0) return std::nullopt;
    out += static_cast<char>(hex(in[i + 1]) << 4 | hex(in[i + 2]));
    i += 3;
  }
  return out;
}

void check_percent_decode(std::string_view in) {
  std::string out = "stale";
  bool ok = bbgw::http::percent_decode(in, out);
  auto ref = ref_decode(in);
  FUZZ_CHECK(ok == ref.has_value());
  if (ok) FUZZ_CHECK(out == *ref);
}

std::vector<std::string_view> split_segments(std::string_view path) {
  std::vector<std::string_view> segs;
  if (path == "/") return segs;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    segs.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return segs;
    path.remove_prefix(slash + 1);
  }
}

bool is_param(std::string_view seg) {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Whether `spec` matches the decoded segments; its rank orders matches as the router's
// depth-first walk does (literal before parameter, segment by segment).
bool ref_matches(route_spec const& spec, std::vector<std::string> const& segs,
                 std::vector<int>& rank) {
  auto psegs = split_segments(spec.pattern);
  if (psegs.size() != segs.size()) return false;
  rank.clear();
  for (std::size_t i = 0; i < psegs.size(); ++i) {
    if (is_param(psegs[i])) {
      if (segs[i].empty()) return false;
      rank.push_back(1);
    } else {
      auto lit = ref_decode(psegs[i]);
      if (!lit || *lit != segs[i]) return false;
      rank.push_back(0);
    }
  }
  return true;
}

bool has(std::vector<std::string> const& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Runs router::match and checks it against the reference matcher.
void check_match(std::string_view method, std::string_view path) {
  auto m = the_router().match(method, path);
  FUZZ_CHECK(m.status() == (m.outcome == bbgw::http::match_result::kind::matched     ? 200u
                            : m.outcome == bbgw::http::match_result::kind::not_found ? 404u
                                                                                     : 405u));

  // Reference: decode every segment; one that does not decode matches nothing.
  std::vector<std::string> segs;
  bool decodable = !path.empty() && path.front() == '/';
  if (decodable)
    for (auto s : split_segments(path)) {
      auto d = ref_decode(s);
      if (!d) {
        decodable = false;
        break;
      }
      segs.push_back(std::move(*d));
    }
  route_spec const* best = nullptr;
  std::vector<int> best_rank, rank;
  std::set<std::string> allow;
  bool any_path_match = false;
  if (decodable)
    for (auto const& spec : route_specs()) {
      if (!ref_matches(spec, segs, rank)) continue;
      any_path_match = true;
      allow.insert(spec.methods.begin(), spec.methods.end());
      if (has(spec.methods, method) && (!best || rank < best_rank)) {
        best = &spec;
        best_rank = rank;
      }
    }

  using kind = bbgw::http::match_result::kind;
  if (best) {
    FUZZ_CHECK(m.outcome == kind::matched);
    FUZZ_CHECK(m.matched != nullptr);
    FUZZ_CHECK(m.matched->pattern == best->pattern);
    FUZZ_CHECK(has(m.matched->methods, method));
    FUZZ_CHECK(m.allow.empty());
    // Parameters: in pattern order, named as in the pattern, each the decoded segment.
    auto psegs = split_segments(best->pattern);
    std::size_t pi = 0;
    for (std::size_t i = 0; i < psegs.size(); ++i) {
      if (!is_param(psegs[i])) continue;
      FUZZ_CHECK(pi < m.params.size());
      FUZZ_CHECK(m.params[pi].first == psegs[i].substr(1, psegs[i].size() - 2));
      FUZZ_CHECK(m.params[pi].second == segs[i]);
      FUZZ_CHECK(!m.params[pi].second.empty());
      ++pi;
    }
    FUZZ_CHECK(pi == m.params.size());
    return;
  }
  FUZZ_CHECK(m.matched == nullptr);
  FUZZ_CHECK(m.params.empty());
  if (!any_path_match) {
    FUZZ_CHECK(m.outcome == kind::not_found);
    FUZZ_CHECK(m.allow.empty());
    return;
  }
  FUZZ_CHECK(m.outcome == kind::method_not_allowed);
  FUZZ_CHECK(!m.allow.empty());
  // Allow: "A, B, C", each method once, exactly the methods of the routes matching the path.
  std::vector<std::string> listed;
  std::string_view a = m.allow;
  while (true) {
    auto comma = a.find(", ");
    listed.emplace_back(a.substr(0, comma));
    if (comma == std::string_view::npos) break;
    a.remove_prefix(comma + 2);
  }
  std::set<std::string> listed_set(listed.begin(), listed.end());
  FUZZ_CHECK(listed_set.size() == listed.size());
  FUZZ_CHECK(listed_set == allow);
  FUZZ_CHECK(!listed_set.contains(std::string(method)));
}

// ---- the connection -------------------------------------------------------------------------

// What the server made of one request: the response it would send, or the request a handler
// would see. Compared between the two ways the bytes arrive.
struct outcome {
  unsigned status = 0;  // 0: the connection closed without a response (truncated input)
  std::string method, target, body;
  std::vector<std::pair<std::string, std::string>> fields;
  std::vector<std::pair<std::string, std::string>> params;
  bool keep = false;
  bool operator==(outcome const&) const = default;
};

// The bytes of a connection arriving `chunk` at a time into the server's read buffer.
class connection {
 public:
  connection(std::string_view input, std::size_t chunk) : input_(input), chunk_(chunk) {}

  std::string_view buffered() const { return {buf_.data() + used_, buf_.size() - used_}; }
  void consume(std::size_t n) {
    FUZZ_CHECK(n <= buf_.size() - used_);
    used_ += n;
  }
  // One read: false at end of stream.
  bool read_more() {
    if (input_.empty()) return false;
    auto n = std::min(chunk_, input_.size());
    buf_.append(input_.substr(0, n));
    input_.remove_prefix(n);
    return true;
  }
  bool at_eof() const { return input_.empty() && used_ == buf_.size(); }
  std::size_t consumed() const { return used_; }

 private:
  std::string_view input_;
  std::size_t chunk_;
  std::string buf_;
  std::size_t used_ = 0;
};

// Feeds the parser until `done()` or an error, as Beast's read_some loop does: parse what is
// buffered, read more only when the parser needs more (or the buffer is empty), and at the end
// of the stream either finish the message (put_eof) or report end_of_stream.
template <class Done>
error_code feed(connection& c, bhttp::request_parser<bhttp::string_body>& p, Done done) {
  while (!done()) {
    error_code ec;
    if (auto data = c.buffered(); !data.empty()) {
      std::size_t n = p.put(boost::asio::const_buffer(data.data(), data.size()), ec);
      c.consume(n);
      if (ec != bhttp::error::need_more) {
        if (ec) return ec;
        continue;
      }
    }
    if (!c.read_more()) {
      if (!p.got_some()) return bhttp::error::end_of_stream;
      p.put_eof(ec);
      if (ec) return ec;
      FUZZ_CHECK(p.is_done());
      return {};
    }
  }
  return {};
}

bool fatal(error_code ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message;
}

std::vector<outcome> serve(std::string_view input, std::size_t chunk) {
  std::vector<outcome> out;
  connection c(input, chunk);
  c.read_more();
  while (!c.at_eof()) {
    auto const before = c.consumed();
    outcome o;
    bhttp::request_parser<bhttp::string_body> p;
    p.header_limit(static_cast<std::uint32_t>(header_limit));
    p.body_limit(boost::none);
    error_code ec = feed(c, p, [&] { return p.is_header_done(); });
    if (ec) {
      if (fatal(ec)) break;  // closed mid-header: no response
      o.status = ec == bhttp::error::header_limit ? 431 : 400;
      out.push_back(std::move(o));
      break;
    }
    auto& req = p.get();
    o.method = std::string(req.method_string());
    std::string_view const target = req.target();
    o.target = std::string(target);
    FUZZ_CHECK(!o.method.empty());
    bool const body_pending = !p.is_done();
    bool const keep = req.keep_alive();
    if (target.empty() || target.front() != '/' ||
        (req.version() >= 11 && req.find(bhttp::field::host) == req.end())) {
      o.status = 400;
      out.push_back(std::move(o));
      break;
    }

    auto const qpos = target.find('?');
    std::string_view const path = target.substr(0, qpos);
    std::string_view const query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    FUZZ_CHECK(path.size() + (qpos == std::string_view::npos ? 0 : query.size() + 1) ==
               target.size());
    check_percent_decode(path);
    check_percent_decode(query);
    check_match(o.method, path);
    auto m = the_router().match(o.method, path);
    if (m.outcome != bbgw::http::match_result::kind::matched) {
      o.status = m.status();
      o.keep = keep && !body_pending;
      bool const again = o.keep;
      out.push_back(std::move(o));
      if (!again) break;
      FUZZ_CHECK(c.consumed() > before);  // progress: a request consumed bytes
      continue;
    }
    FUZZ_CHECK(m.matched != nullptr);

    std::size_t const limit = m.matched->body_limit ? m.matched->body_limit : default_body_limit;
    if (body_pending) {
      if (auto cl = p.content_length(); cl && *cl > limit) {
        o.status = 413;
        out.push_back(std::move(o));
        break;
      }
      p.body_limit(limit);
      p.eager(true);  // as http::async_read does
      ec = feed(c, p, [&] { return p.is_done(); });
      if (ec == bhttp::error::body_limit) {
        o.status = 413;
        out.push_back(std::move(o));
        break;
      }
      if (ec) {
        if (!fatal(ec)) {
          o.status = 400;
          out.push_back(std::move(o));
        }
        break;
      }
    }
    FUZZ_CHECK(p.is_done());
    auto& body = req.body();
    FUZZ_CHECK(body.size() <= limit);
    if (!body_pending) FUZZ_CHECK(body.empty());
    if (auto cl = p.content_length(); cl && !p.chunked()) FUZZ_CHECK(body.size() == *cl);

    // The handler's view of the headers: every field, in order, found by any case.
    bbgw::header_list headers;
    for (auto const& f : req) {
      headers.add(std::string(f.name_string()), std::string(f.value()));
      o.fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    FUZZ_CHECK(headers.size() == o.fields.size());
    for (auto const& field : o.fields) {
      std::string_view const name = field.first;
      auto got = headers.get(name);
      FUZZ_CHECK(got.has_value());
      auto first = std::find_if(o.fields.begin(), o.fields.end(),
                                [&](auto const& f) { return bbgw::iequals(f.first, name); });
      FUZZ_CHECK(*got == first->second);
    }
    o.body = std::move(body);
    o.params = std::move(m.params);
    o.status = 200;
    o.keep = keep;
    out.push_back(std::move(o));
    if (!keep) break;
    FUZZ_CHECK(c.consumed() > before);
  }
  return out;
}

// Equal, except for a refusal of an unparsable header at the very end: once Beast has asked for
// more of a header it waits for the blank line before it parses again, so a header that is both
// malformed and unterminated gets a 400 when it arrived whole and a silent close at the end of
// the stream when it trickled in. Either way the request is refused; every request before it,
// and any request that is accepted, must be seen identically.
bool same_requests(std::vector<outcome> a, std::vector<outcome> b) {
  auto strip = [](std::vector<outcome>& v) {
    if (!v.empty() && v.back().method.empty()) v.pop_back();
  };
  strip(a);
  strip(b);
  return a == b;
}

void dump(std::vector<outcome> const& v) {
  for (auto const& o : v)
    std::fprintf(stderr, "  %u %s %s keep=%d fields=%zu body=%zu\n", o.status, o.method.c_str(),
                 o.target.c_str(), int(o.keep), o.fields.size(), o.body.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view input(reinterpret_cast<char const*>(data), size);
  // router::match and percent_decode on the raw bytes too, not only on what Beast lets through.
  check_percent_decode(input);
  if (!input.empty() && input.front() == '/') check_match("GET", input.substr(0, 512));

  auto server_reads = serve(input, 4096);
  std::size_t const small = 1 + (size ? data[size - 1] % 7 : 0);
  auto trickle = serve(input, small);
  if (!same_requests(server_reads, trickle)) {
    std::fprintf(stderr, "4 KiB reads:\n");
    dump(server_reads);
    std::fprintf(stderr, "%zu-byte reads:\n", small);
    dump(trickle);
  }
  FUZZ_CHECK(same_requests(server_reads, trickle));
  return 0;
}

#include "http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/container/small_vector.hpp>

namespace bbgw::http {

namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_param(std::string_view seg) noexcept {
  return seg.size() >= 2 && seg.front() == '{' && seg.back() == '}';
}

// Splits "/a/b" into {"a","b"}; "/" gives no segments. Pattern and request use the same rule,
// so "/a/" (segments "a","") does not match "/a".
template <class F>
bool for_each_segment(std::string_view path, F&& f) {
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;
  std::size_t pos = 1;
  while (true) {
    auto slash = path.find('/', pos);
    auto seg = path.substr(pos, slash == std::string_view::npos ? path.size() - pos : slash - pos);
    if (!f(seg)) return false;
    if (slash == std::string_view::npos) return true;
    pos = slash + 1;
  }
}

}  // namespace

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// A trie over path segments; `param` is the child for any "{name}" segment at that depth.
struct router::node {
  std::vector<std::pair<std::string, std::unique_ptr<node>>> literals;
  std::unique_ptr<node> param;
  // Routes ending here, each with the parameter names in pattern order.
  struct endpoint {
    bbgw::route const* r;
    std::vector<std::string> param_names;
  };
  std::vector<endpoint> endpoints;

  node* literal(std::string_view seg) const {
    for (auto const& [k, child] : literals)
      if (k == seg) return child.get();
    return nullptr;
  }
};

router::router() : root_(std::make_unique<node>()) {}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

void router::add(bbgw::route r) {
  std::string const pattern = r.pattern;
  auto fail = [&](std::string const& why) {
    throw std::invalid_argument("route \"" + pattern + "\": " + why);
  };
  if (r.methods.empty()) fail("no methods");
  if (!r.handle && !r.handle_async) fail("no handler");
  if (r.stream_body && (!r.spool_body || r.handle_async || r.exec != bbgw::execution::worker))
    fail("stream_body is for worker handlers with spool_body (the fallback)");
  for (auto const& m : r.methods) {
    if (m.empty() || !std::all_of(m.begin(), m.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
      fail("method \"" + m + "\" is not an upper-case token");
    if (std::count(r.methods.begin(), r.methods.end(), m) > 1) fail("method " + m + " twice");
  }

  node* at = root_.get();
  std::vector<std::string> names;
  std::string decoded;
  bool ok = for_each_segment(pattern, [&](std::string_view seg) {
    if (seg.empty()) fail("empty segment");
    if (is_param(seg)) {
      auto name = seg.substr(1, seg.size() - 2);
      if (name.empty() || name.find_first_of("{}/") != std::string_view::npos)
        fail("bad parameter segment");
      if (std::find(names.begin(), names.end(), name) != names.end())
        fail("parameter {" + std::string(name) + "} twice");
      names.emplace_back(name);
      if (!at->param) at->param = std::make_unique<node>();
      at = at->param.get();
      return true;
    }
    if (seg.find_first_of("{}") != std::string_view::npos) fail("braces inside a segment");
    // Literals are stored decoded, as request segments are compared decoded.
    if (!percent_decode(seg, decoded)) fail("bad percent-encoding");
    node* child = at->literal(decoded);
    if (!child) {
      at->literals.emplace_back(decoded, std::make_unique<node>());
      child = at->literals.back().second.get();
    }
    at = child;
    return true;
  });
  if (!ok) fail("must start with '/'");

  for (auto const& e : at->endpoints)
    for (auto const& m : r.methods)
      if (std::find(e.r->methods.begin(), e.r->methods.end(), m) != e.r->methods.end())
        fail("method " + m + " already routed by \"" + e.r->pattern + "\"");

  routes_.push_back(std::make_unique<bbgw::route>(std::move(r)));
  at->endpoints.push_back({routes_.back().get(), std::move(names)});
}

match_result router::match(std::string_view method, std::string_view path) const {
  match_result res;
  // Decode the request's segments once; a segment that does not decode matches nothing.
  // Inline storage: most paths have few short segments, so no allocation here.
  boost::container::small_vector<std::string, 8> segs;
  bool decodable = for_each_segment(path, [&](std::string_view seg) {
    segs.emplace_back();
    return percent_decode(seg, segs.back());
  });
  if (!decodable) return res;

  // Depth-first, literal before parameter. The first endpoint set that routes `method` wins;
  // otherwise every endpoint set that matched the path contributes to Allow.
  boost::container::small_vector<node const*, 4> path_matches;
  node::endpoint const* found = nullptr;

  auto visit = [&](auto&& self, node const* n, std::size_t depth) -> bool {
    if (depth == segs.size()) {
      if (n->endpoints.empty()) return false;
      for (auto const& e : n->endpoints)
        if (std::find(e.r->methods.begin(), e.r->methods.end(), method) != e.r->methods.end()) {
          found = &e;
          return true;
        }
      path_matches.push_back(n);
      return false;
    }
    auto const& seg = segs[depth];
    if (node const* lit = n->literal(seg); lit && self(self, lit, depth + 1)) return true;
    if (n->param && !seg.empty() && self(self, n->param.get(), depth + 1)) return true;
    return false;
  };

  if (visit(visit, root_.get(), 0)) {
    res.outcome = match_result::kind::matched;
    res.matched = found->r;
    // Re-walk to bind parameters: the endpoint's names are in pattern order, and the
    // parameter segments are the positions where the pattern has "{...}".
    std::size_t ni = 0;
    std::size_t depth = 0;
    for_each_segment(found->r->pattern, [&](std::string_view pseg) {
      if (is_param(pseg)) res.params.emplace_back(found->param_names[ni++], std::move(segs[depth]));
      ++depth;
      return true;
    });
    return res;
  }
  if (path_matches.empty()) return res;

  res.outcome = match_result::kind::method_not_allowed;
  std::vector<std::string_view> allow;
  for (node const* n : path_matches)
    for (auto const& e : n->endpoints)
      for (auto const& m : e.r->methods)
        if (std::find(allow.begin(), allow.end(), m) == allow.end()) allow.push_back(m);
  for (auto m : allow) {
    if (!res.allow.empty()) res.allow += ", ";
    res.allow += m;
  }
  return res;
}

std::vector<bbgw::route const*> router::routes() const {
  std::vector<bbgw::route const*> out;
  out.reserve(routes_.size());
  for (auto const& r : routes_) out.push_back(r.get());
  return out;
}

}  // namespace bbgw::http

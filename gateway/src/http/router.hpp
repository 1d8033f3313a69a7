#pragma once
// Maps (method, path) to a route. Patterns are literal segments and "{name}" segments (one
// segment each); a literal beats a parameter where both could match. Pure logic, no Beast.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/connector.hpp"

namespace bbgw::http {

struct match_result {
  enum class kind { matched, not_found, method_not_allowed };
  kind outcome = kind::not_found;
  // Set when matched; points into the router, valid as long as it lives.
  bbgw::route const* matched = nullptr;
  // Path parameters in pattern order, percent-decoded.
  std::vector<std::pair<std::string, std::string>> params;
  // For method_not_allowed: the methods the path accepts, "GET, HEAD" (the Allow header).
  std::string allow;

  // Status code the outcome answers with when not matched (404 or 405); 200 when matched.
  unsigned status() const noexcept {
    return outcome == kind::matched ? 200 : outcome == kind::not_found ? 404 : 405;
  }
};

class router {
 public:
  router();
  ~router();
  router(router&&) noexcept;
  router& operator=(router&&) noexcept;

  // Throws std::invalid_argument (startup only) for a malformed pattern, a route without
  // methods or handler, or a pattern+method already routed (patterns that differ only in
  // parameter names count as the same pattern).
  void add(bbgw::route r);

  // `path` is the percent-encoded path without the query. A segment with invalid
  // percent-encoding matches nothing.
  match_result match(std::string_view method, std::string_view path) const;

  // Every route, in the order added (stable addresses).
  std::vector<bbgw::route const*> routes() const;

 private:
  struct node;
  std::unique_ptr<node> root_;
  std::vector<std::unique_ptr<bbgw::route>> routes_;
};

// Percent-decodes `in` into `out`; false when a '%' is not followed by two hex digits.
bool percent_decode(std::string_view in, std::string& out);

}  // namespace bbgw::http

#pragma once
// The eTranslation web service's synchronous answer: a bare integer, the request id when
// positive, an error code when negative.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bbgw::etranslation {

struct upstream_answer {
  std::int64_t value = 0;  // > 0: request id; < 0: error code
  bool ok() const { return value > 0; }
};

// Parses the body (surrounding whitespace and one pair of JSON quotes tolerated); nothing when
// it is not an integer or is zero.
std::optional<upstream_answer> parse_answer(std::string_view body);

// A clear message for a documented error code ("-20013: language pair not supported for the
// domain"); unknown codes keep their number ("-29999: unknown eTranslation error").
std::string describe_code(std::int64_t code);

// -20028: the application's concurrency quota upstream is exhausted; retry later with backoff.
inline bool is_retryable_code(std::int64_t code) {
  return code == -20028;
}

}  // namespace bbgw::etranslation

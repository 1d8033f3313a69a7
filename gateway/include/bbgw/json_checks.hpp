#pragma once
// Checks on parsed JSON shared by every parser of untrusted input.
#include <boost/json/value.hpp>

namespace bbgw {

// False when a number in `v` is not finite. Boost.JSON 1.81 parses a number beyond double's
// range (1e400) as an infinity and serialises it as the non-JSON token "Infinity", so such a
// value can never be written back as JSON (into an event, the outbox or Kafka).
bool all_numbers_finite(boost::json::value const& v) noexcept;

}  // namespace bbgw

#pragma once
// RFC 3339 / xsd:dateTime timestamps, read and written the same way everywhere in the gateway
// (CloudEvents `time`, SAML instants, WS-Security Timestamps, stored records).
#include <optional>
#include <string>
#include <string_view>

#include "bbgw/clock.hpp"

namespace bbgw {

struct date_time_options {
  // xsd:dateTime allows a value without a zone; WS-Security says such times are UTC.
  // Off: a zone (Z or ±hh:mm) is required, as RFC 3339 and SAML 2.0 require it.
  bool utc_without_zone = false;
  // sys_time counts nanoseconds in 64 bits (years ~1678..2261). Off: a time outside is refused.
  // On: it is clamped to 1700-01-01 / 2200-01-01, which keeps the outcome of every comparison
  // with a present-day time (SAML test corpora use NotOnOrAfter in the year 2993).
  bool clamp_out_of_range = false;
};

// YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm): a valid calendar date, hh ≤ 23, mm ≤ 59, ss ≤ 60 (a
// leap second counts as the next second), at least one fraction digit after the dot (kept to
// microseconds, what format_rfc3339 writes), offset hours ≤ 23 and minutes ≤ 59, nothing after.
std::optional<sys_time> parse_rfc3339(std::string_view text, date_time_options options = {});

// RFC 3339 UTC with microseconds: "2026-11-24T10:00:00.123456Z".
std::string format_rfc3339(sys_time t);

}  // namespace bbgw

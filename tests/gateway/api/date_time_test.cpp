// The one RFC 3339 / xsd:dateTime reader and writer of the gateway.
#include "bbgw/date_time.hpp"

#include <gtest/gtest.h>

namespace bbgw {
namespace {

using namespace std::chrono;

sys_time utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return sys_time{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} + seconds{s}};
}

TEST(date_time, what_format_writes_parses_back_to_the_microsecond) {
  auto const t = utc(2026, 11, 24, 12, 34, 56) + microseconds(123456);
  EXPECT_EQ(format_rfc3339(t), "2026-11-24T12:34:56.123456Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
  // Finer than microseconds is cut to what format_rfc3339 keeps.
  EXPECT_EQ(parse_rfc3339("2026-11-24T12:34:56.1234567Z"), t);
}

TEST(date_time, format_pads_every_field_and_handles_times_before_1970) {
  EXPECT_EQ(format_rfc3339(utc(2026, 1, 2, 3, 4, 5) + microseconds(6)),
            "2026-01-02T03:04:05.000006Z");
  EXPECT_EQ(format_rfc3339(utc(1970, 1, 1)), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(utc(1970, 1, 1) - microseconds(1)), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(utc(1700, 2, 28, 23, 59, 59)), "1700-02-28T23:59:59.000000Z");
  EXPECT_EQ(format_rfc3339(utc(2262, 4, 11, 0, 0, 0) + microseconds(999999)),
            "2262-04-11T00:00:00.999999Z");
  // Below a microsecond is cut, never rounded up into the next second.
  EXPECT_EQ(format_rfc3339(utc(2026, 12, 31, 23, 59, 59) + nanoseconds(999999999)),
            "2026-12-31T23:59:59.999999Z");
}

TEST(date_time, offsets_are_converted_to_utc) {
  auto const t = utc(2026, 11, 24, 10);
  EXPECT_EQ(parse_rfc3339("2026-11-24T11:00:00+01:00"), t);
  EXPECT_EQ(parse_rfc3339("2026-11-24T06:30:00-03:30"), t);
  EXPECT_EQ(parse_rfc3339("2026-11-24T10:00:00.5Z"), t + milliseconds(500));
  EXPECT_EQ(parse_rfc3339("2026-12-31T23:59:60Z"), utc(2027, 1, 1));  // leap second
}

TEST(date_time, a_zone_is_required_unless_utc_without_zone_is_asked_for) {
  EXPECT_FALSE(parse_rfc3339("2026-11-24T10:00:00"));
  EXPECT_FALSE(parse_rfc3339("2026-11-24T10:00:00.25"));
  EXPECT_EQ(parse_rfc3339("2026-11-24T10:00:00", {.utc_without_zone = true}),
            utc(2026, 11, 24, 10));
  EXPECT_EQ(parse_rfc3339("2026-11-24T10:00:00.25", {.utc_without_zone = true}),
            utc(2026, 11, 24, 10) + milliseconds(250));
}

TEST(date_time, malformed_or_impossible_values_are_refused) {
  for (std::string_view bad :
       {"", "yesterday", "2026-11-24", "2026-11-24 10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-24T24:00:00Z",
        "2026-11-24T10:60:00Z", "2026-11-24T10:00:61Z", "2026-11-24T10:00:00.Z",
        "2026-11-24T10:00:00Zjunk", "2026-11-24T10:00:00+0100", "2026-11-24T10:00:00+24:00",
        "2026-11-24T10:00:00+01:60", "2026-1-24T10:00:00Z", "+2026-11-24T10:00:00Z"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(date_time, times_beyond_the_clock_range_are_refused_or_clamped_on_request) {
  EXPECT_FALSE(parse_rfc3339("2993-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("1000-01-01T00:00:00Z"));
  auto const later = parse_rfc3339("2993-01-01T00:00:00Z", {.clamp_out_of_range = true});
  auto const earlier = parse_rfc3339("1000-01-01T00:00:00Z", {.clamp_out_of_range = true});
  ASSERT_TRUE(later && earlier);
  EXPECT_EQ(*later, utc(2200, 1, 1));
  EXPECT_EQ(*earlier, utc(1700, 1, 1));
  // Within range, clamping changes nothing.
  EXPECT_EQ(parse_rfc3339("2261-01-01T00:00:00Z", {.clamp_out_of_range = true}), utc(2261, 1, 1));
}

}  // namespace
}  // namespace bbgw

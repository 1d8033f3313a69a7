#include "bbgw/date_time.hpp"

#include <chrono>
#include <cstdint>

namespace bbgw {

namespace {

int digits(std::string_view s, std::size_t pos, std::size_t n, bool& ok) {
  int v = 0;
  if (pos + n > s.size()) {
    ok = false;
    return 0;
  }
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      ok = false;
      return 0;
    }
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<sys_time> parse_rfc3339(std::string_view s, date_time_options options) {
  using namespace std::chrono;
  bool ok = true;
  int y = digits(s, 0, 4, ok), mo = digits(s, 5, 2, ok), d = digits(s, 8, 2, ok);
  int h = digits(s, 11, 2, ok), mi = digits(s, 14, 2, ok), se = digits(s, 17, 2, ok);
  if (!ok || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  std::size_t pos = 19;
  nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t start = pos;
    std::int64_t ns = 0, scale = 100'000'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    // Microseconds, the precision format_rfc3339 writes: a re-written event keeps its time.
    frac = duration_cast<microseconds>(nanoseconds{ns});
  }
  minutes offset{0};
  if (pos == s.size()) {
    if (!options.utc_without_zone) return std::nullopt;
  } else if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = digits(s, pos + 1, 2, ok), om = digits(s, pos + 4, 2, ok);
    if (!ok || s[pos + 3] != ':' || oh > 23 || om > 59) return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  // In whole seconds first: sys_time counts nanoseconds in 64 bits (about 1677..2262), so a
  // valid RFC 3339 year outside that range would overflow.
  auto whole = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} - offset;
  if (whole < time_point_cast<seconds>(sys_time::min()) + seconds{1} ||
      whole > time_point_cast<seconds>(sys_time::max()) - seconds{1}) {
    if (!options.clamp_out_of_range) return std::nullopt;
    return sys_time{sys_days{year{whole.time_since_epoch().count() < 0 ? 1700 : 2200} / 1 / 1}};
  }
  return time_point_cast<sys_time::duration>(whole) + frac;
}

std::string format_rfc3339(sys_time t) {
  using namespace std::chrono;
  auto us = floor<microseconds>(t);
  auto day = floor<days>(us);
  year_month_day ymd{day};
  hh_mm_ss<microseconds> tod{us - day};
  // Fixed layout, written digit by digit (snprintf was a measurable part of building an event).
  // sys_time spans about 1677..2262, so the year always has four digits.
  std::string out = "0000-00-00T00:00:00.000000Z";
  auto put = [&out](std::size_t at, std::size_t width, unsigned long long v) {
    for (std::size_t i = width; i-- > 0; v /= 10) out[at + i] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, static_cast<unsigned>(static_cast<int>(ymd.year())));
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, static_cast<unsigned long long>(tod.hours().count()));
  put(14, 2, static_cast<unsigned long long>(tod.minutes().count()));
  put(17, 2, static_cast<unsigned long long>(tod.seconds().count()));
  put(20, 6, static_cast<unsigned long long>(tod.subseconds().count()));
  return out;
}

}  // namespace bbgw

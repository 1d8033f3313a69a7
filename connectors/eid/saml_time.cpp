#include <cctype>
#include <ctime>

#include "eid/saml_ns.hpp"

namespace bbgw::eid {

std::optional<sys_time> parse_saml_time(std::string_view s) {
  // YYYY-MM-DDThh:mm:ss[.f+](Z|±hh:mm)
  auto digits = [&](std::size_t pos, std::size_t n) -> int {
    if (pos + n > s.size()) return -1;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  int y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2),
      se = digits(17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      se < 0 || se > 60)
    return std::nullopt;
  std::size_t p = 19;
  std::chrono::nanoseconds frac{0};
  if (p < s.size() && s[p] == '.') {
    ++p;
    long long scale = 100'000'000, ns = 0;
    std::size_t start = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      ns += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
    frac = std::chrono::nanoseconds(ns);
  }
  long offset = 0;
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    int oh = digits(p + 1, 2), om = digits(p + 4, 2);
    if (oh < 0 || om < 0) return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[p] == '+' ? 1 : -1);
    p += 6;
  } else {
    return std::nullopt;  // no zone: SAML requires UTC
  }
  if (p != s.size()) return std::nullopt;
  // system_clock counts nanoseconds (±292 years): later instants (test corpora use the year
  // 2993) are clamped to 2200-01-01, which keeps every comparison's outcome.
  if (y >= 2200) return sys_time{std::chrono::seconds(7258118400)};
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  auto t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t - offset) +
         std::chrono::duration_cast<sys_time::duration>(frac);
}

}  // namespace bbgw::eid

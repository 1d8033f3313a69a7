// Fuzzes the CloudEvents structured-mode JSON reader (gateway/src/api/cloud_event.cpp): events
// come back from Kafka and the outbox in this form, and connectors may accept them from peers.
//
// Invariants: when from_structured_json accepts the bytes, the event survives a round trip
// (to_structured_json, then from_structured_json accepts the text and gives an equal event,
// attribute by attribute), and serialising is deterministic (the same event gives the same
// text, and the re-read event serialises to that text again). format_rfc3339 of the time is
// always 27 characters of the documented shape.
//
// Known limit, not ours: Boost.JSON 1.81 parses some doubles one or two ULP off the nearest
// value (correct rounding came in 1.83 as number_precision::precise), so a number in `data`
// can move by an ULP per serialise/parse hop. Doubles in `data` are compared within 4 ULP, and
// the "same text again" rule applies when the data came back exactly.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "bbgw/cloud_event.hpp"
#include "fuzz_check.hpp"

namespace {

namespace json = boost::json;

// Distance in representable doubles (both finite, or both the same infinity).
std::uint64_t ulp_distance(double a, double b) {
  if (a == b) return 0;
  auto key = [](double d) {
    auto u = std::bit_cast<std::uint64_t>(d);
    return (u >> 63) ? ~u : (u | (std::uint64_t{1} << 63));  // monotonic in d
  };
  auto x = key(a), y = key(b);
  return x > y ? x - y : y - x;
}

// json::value equality, except that doubles may differ by a few ULP (see above).
bool near_equal(json::value const& a, json::value const& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::double_:
      return ulp_distance(a.get_double(), b.get_double()) <= 4;
    case json::kind::array: {
      auto const &x = a.get_array(), &y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!near_equal(x[i], y[i])) return false;
      return true;
    }
    case json::kind::object: {
      auto const &x = a.get_object(), &y = b.get_object();
      if (x.size() != y.size()) return false;
      for (auto const& kv : x) {
        auto const* other = y.if_contains(kv.key());
        if (!other || !near_equal(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

void check_equal(bbgw::cloud_event const& a, bbgw::cloud_event const& b) {
  FUZZ_CHECK(a.id == b.id);
  FUZZ_CHECK(a.source == b.source);
  FUZZ_CHECK(a.type == b.type);
  FUZZ_CHECK(a.subject == b.subject);
  FUZZ_CHECK(a.time == b.time);
  FUZZ_CHECK(a.datacontenttype == b.datacontenttype);
  FUZZ_CHECK(a.dataschema == b.dataschema);
  FUZZ_CHECK(a.partitionkey == b.partitionkey);
  FUZZ_CHECK(a.requestid == b.requestid);
  FUZZ_CHECK(near_equal(a.data, b.data));
  FUZZ_CHECK(a.family == b.family);
}

// "YYYY-MM-DDTHH:MM:SS.ffffffZ".
bool rfc3339_shape(std::string_view s) {
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (s.size() != shape.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view input(reinterpret_cast<char const*>(data), size);
  auto ev = bbgw::from_structured_json(input);
  if (!ev) {
    FUZZ_CHECK(ev.error().failed());
    return 0;
  }
  FUZZ_CHECK(!ev->id.empty() && !ev->source.empty() && !ev->type.empty());
  FUZZ_CHECK(rfc3339_shape(bbgw::format_rfc3339(ev->time)));

  std::string const text = bbgw::to_structured_json(*ev);
  FUZZ_CHECK(bbgw::to_structured_json(*ev) == text);
  auto again = bbgw::from_structured_json(text);
  if (!again) {
    std::fprintf(stderr, "re-read failed: %s\ntext: %s\n", again.error().message().c_str(),
                 text.c_str());
    FUZZ_CHECK(again.has_value());
  }
  check_equal(*ev, *again);
  if (ev->data == again->data) FUZZ_CHECK(bbgw::to_structured_json(*again) == text);
  return 0;
}

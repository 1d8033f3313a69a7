// Fuzzes the multipart/form-data parser of the eDelivery submission API
// (connectors/edelivery/form_data.cpp) as the API meets it: from a spooled body (a std::istream
// over bytes in one piece) and from a body streamed by the server while it arrives
// (body_streambuf over a bbgw::body_reader that hands the bytes over in pieces of a size the
// input chooses, then ends or fails).
//
// Input: byte 0 chooses the piece size (1–256), byte 1 whether the stream ends with an error;
// the rest is the body, with the boundary "fz".
//
// Invariants:
// - both ways give the same outcome (success or the same error) and the same parts: heads and
//   bytes — how TCP and the server cut a body must not change what is submitted;
// - a stream that fails before its end never parses as a whole form unless the form was
//   complete before the failure (the parser stops at the close delimiter), and the error is
//   kept by the stream buffer;
// - part count within the limit; part heads within the header limit; the parts' bytes never
//   more than the body.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/body_reader.hpp"
#include "edelivery/body_streambuf.hpp"
#include "edelivery/form_data.hpp"
#include "fuzz_check.hpp"
#include "support/piecewise_body.hpp"

namespace ed = bbgw::edelivery;

namespace {

struct recorded_part {
  ed::form_part_head head;
  std::string bytes;
  bool ended = false;
};

class recorder final : public ed::form_handler {
 public:
  std::vector<recorded_part> parts;
  bbgw::result<void> begin(ed::form_part_head const& head) override {
    FUZZ_CHECK(parts.empty() || parts.back().ended);
    parts.push_back({head, {}, false});
    return {};
  }
  bbgw::result<void> data(std::string_view bytes) override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    parts.back().bytes.append(bytes);
    return {};
  }
  bbgw::result<void> end() override {
    FUZZ_CHECK(!parts.empty() && !parts.back().ended);
    parts.back().ended = true;
    return {};
  }
};

bool same(recorded_part const& a, recorded_part const& b) {
  return a.head.name == b.head.name && a.head.filename == b.head.filename &&
         a.head.content_type == b.head.content_type && a.bytes == b.bytes && a.ended == b.ended;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t const piece = std::size_t{data[0]} + 1;
  bool const fail_at_end = (data[1] & 1) != 0;
  std::string_view const body(reinterpret_cast<char const*>(data) + 2, size - 2);
  ed::form_limits limits;
  limits.max_parts = 8;
  limits.max_header_bytes = 512;

  recorder whole;
  std::istringstream in{std::string(body)};
  auto r1 = ed::parse_form_data(in, "fz", whole, limits);

  recorder streamed;
  bbgw::testing::piecewise_body reader(
      std::string(body), piece,
      fail_at_end ? make_error_code(boost::system::errc::connection_aborted) : bbgw::error_code{});
  ed::body_streambuf buf(reader);
  std::istream sin(&buf);
  auto r2 = ed::parse_form_data(sin, "fz", streamed, limits);

  std::size_t total = 0;
  FUZZ_CHECK(whole.parts.size() <= limits.max_parts);
  for (auto const& p : whole.parts) {
    total += p.bytes.size();
    FUZZ_CHECK(p.head.name.size() + p.head.filename.size() + p.head.content_type.size() <=
               limits.max_header_bytes);
  }
  FUZZ_CHECK(total <= body.size());

  if (!fail_at_end) {
    FUZZ_CHECK(r1.has_value() == r2.has_value());
    if (!r1) FUZZ_CHECK(r1.error() == r2.error());
    FUZZ_CHECK(whole.parts.size() == streamed.parts.size());
    for (std::size_t i = 0; i < whole.parts.size(); ++i)
      FUZZ_CHECK(same(whole.parts[i], streamed.parts[i]));
    FUZZ_CHECK(!buf.error());
  } else {
    // The same bytes, then a failure instead of the end: a form complete before it parses the
    // same; anything else is refused, and the failure is kept for the caller.
    if (r2) {
      FUZZ_CHECK(r1.has_value());
      FUZZ_CHECK(whole.parts.size() == streamed.parts.size());
      for (std::size_t i = 0; i < whole.parts.size(); ++i)
        FUZZ_CHECK(same(whole.parts[i], streamed.parts[i]));
    } else {
      FUZZ_CHECK(buf.error() || !r1);
    }
  }
  return 0;
}

#pragma once
// multipart/form-data (RFC 7578) for POST /api/v1/edelivery/messages, parsed as a stream: each
// part's bytes go to the caller's handler chunk by chunk (into a payload file), so a spooled
// upload of any size is never held in memory. Part headers understood: Content-Disposition
// (form-data; name, filename) and Content-Type; the header block of a part is bounded.
#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

#include "bbgw/result.hpp"

namespace bbgw::edelivery {

struct form_part_head {
  std::string name;          // Content-Disposition name=
  std::string filename;      // filename= (may be empty)
  std::string content_type;  // as sent; empty when absent
};

class form_handler {
 public:
  virtual ~form_handler() = default;
  // Errors returned by the handler end parsing and are returned unchanged.
  virtual result<void> begin(form_part_head const& head) = 0;
  virtual result<void> data(std::string_view bytes) = 0;
  virtual result<void> end() = 0;
};

struct form_limits {
  std::size_t max_parts = 32;
  std::size_t max_header_bytes = 8 * 1024;  // one part's header block
};

// Structure errors → errc::mime_malformed / mime_too_many_parts / mime_header_too_large, with
// a log-safe `detail`. `boundary` is the Content-Type's boundary parameter.
result<void> parse_form_data(std::istream& in, std::string_view boundary, form_handler& handler,
                             form_limits const& limits = {}, std::string* detail = nullptr);

}  // namespace bbgw::edelivery

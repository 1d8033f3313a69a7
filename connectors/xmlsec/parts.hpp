#pragma once
// The parts of a message that `cid:` references may name (SOAP-with-attachments). References
// resolve through this and nothing else: no files, no network. Parts may be large and on disk,
// so they are read as streams.
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

#include "bbgw/result.hpp"

namespace bbgw::xmlsec {

class part_reader {
 public:
  virtual ~part_reader() = default;
  // Fills `buffer` from the start of the part onwards; 0 = end of part.
  virtual result<std::size_t> read(std::span<char> buffer) = 0;
};

class part_source {
 public:
  virtual ~part_source() = default;
  // `content_id` without "cid:" and without angle brackets, as in the part's Content-ID.
  // Unknown ids → errc::part_not_found.
  virtual result<std::unique_ptr<part_reader>> open(std::string_view content_id) const = 0;
};

}  // namespace bbgw::xmlsec

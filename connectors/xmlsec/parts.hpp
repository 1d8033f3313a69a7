#pragma once
// The parts of a message that `cid:` references may name (SOAP-with-attachments). References
// resolve through this and nothing else: no files, no network. Parts may be large and on disk,
// so they are read as streams.
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
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
  // The SHA-256 (32 raw bytes) of exactly the octets open() returns for this part, when the
  // source already computed it (e.g. while decrypting the part into place): a SHA-256
  // Reference to the part then needs no second pass. nullopt: the part is read.
  virtual std::optional<std::string> known_sha256(std::string_view content_id) const {
    (void)content_id;
    return std::nullopt;
  }
};

}  // namespace bbgw::xmlsec

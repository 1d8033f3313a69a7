#pragma once
// A multipart/related body read once, front to back, while it arrives (the receive route's
// streamed request body): the grammar, checks and limits of scan_multipart, but the parts come
// one at a time — the headers first, then the content in chunks with the transfer encoding
// undone — so the receiver can decrypt and digest each attachment as it arrives and store
// nothing it has not checked. At most one buffer (1 MiB, or twice the header window when the
// limits make that larger) of the body is held.
//
// The same bodies are accepted, with the same parts; a body with several faults may be refused
// for another of them than scan_multipart names when it is over the size limit (scan_multipart
// sees the whole size first), always with an errc of this module.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/result.hpp"
#include "edelivery/mime.hpp"

namespace bbgw::edelivery {

class mime_stream {
 public:
  // Fills the span with the body's next bytes: how many (at least one), 0 at its end.
  using pull_fn = std::function<result<std::size_t>(std::span<char>)>;
  using chunk_fn = std::function<result<void>(std::span<char const>)>;

  // Reads up to the first delimiter. `content_type_header` may be empty: then the body must
  // start with "--boundary". Errors: the same errc as scan_multipart, or the pull's own.
  // `buffer_bytes` (at least twice the header window, see limits) is for tests that want
  // the buffer's end met often.
  static result<mime_stream> open(std::string_view content_type_header, pull_fn pull,
                                  mime_limits const& limits,
                                  std::size_t buffer_bytes = 1024 * 1024);

  // The next part's headers (its content is read with read_content, or skipped when this is
  // called again first); nullopt after the close delimiter, once the epilogue has been read to
  // the body's end.
  result<std::optional<located_part>> next_part();
  // The current part's content in chunks, up to the delimiter after it; the total size.
  result<std::uint64_t> read_content(chunk_fn const& fn);

  // The `start` parameter of the Content-Type (bare Content-ID), when given.
  std::optional<std::string> const& start() const { return start_; }
  // Every byte pulled so far from the first delimiter on (the preamble, ignored by the
  // grammar, left out), when all of it is still buffered — always while the first part's
  // headers are the last thing read: what a caller that falls back to a spooled body writes
  // first (the spooled copy then parses as the body would).
  std::optional<std::string_view> read_from_first_delimiter() const;

 private:
  mime_stream(pull_fn pull, mime_limits const& limits, std::size_t buffer_bytes);
  result<void> fill();                     // pulls once more (false eof_ until the end)
  result<void> ensure(std::size_t bytes);  // at least `bytes` buffered, or the end reached
  std::string_view buffered() const { return {buf_.data() + begin_, end_ - begin_}; }
  result<void> read_epilogue();

  enum class state { at_delimiter, in_content, done };
  pull_fn pull_;
  mime_limits limits_;
  std::optional<std::string> start_;
  std::string dash_;       // "--" boundary
  std::string delimiter_;  // "\n--" boundary: the end of a part's content
  std::vector<char> buf_;
  std::size_t begin_ = 0, end_ = 0;
  std::uint64_t discarded_ = 0, total_ = 0;
  std::uint64_t first_delimiter_ = 0;  // its offset in the body
  bool eof_ = false;
  state state_ = state::at_delimiter;
  bool base64_ = false;
  std::vector<located_part> seen_;  // the parts' headers so far (count, Content-ID checks)
};

}  // namespace bbgw::edelivery

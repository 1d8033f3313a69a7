#include "edelivery/mime_stream.hpp"

#include <algorithm>
#include <cstring>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

// A delimiter line and a header block within the limits (next_part's window).
std::size_t window_for(mime_limits const& limits) {
  return 2 + 70 + 1024 + limits.max_header_bytes;
}

}  // namespace

mime_stream::mime_stream(pull_fn pull, mime_limits const& limits, std::size_t buffer_bytes)
    : pull_(std::move(pull)),
      limits_(limits),
      buf_(std::max(buffer_bytes, 2 * (window_for(limits) + 1))) {}

result<void> mime_stream::fill() {
  if (eof_) return {};
  if (end_ == buf_.size()) {                 // keep what is unread, at the front
    if (begin_ == 0) return errc::internal;  // callers never ask for more than a buffer
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    discarded_ += begin_;
    end_ -= begin_;
    begin_ = 0;
  }
  auto n = pull_(std::span<char>(buf_.data() + end_, buf_.size() - end_));
  if (!n) return n.error();
  if (*n == 0) {
    eof_ = true;
    return {};
  }
  end_ += *n;
  total_ += *n;
  if (total_ > limits_.max_total_bytes) return errc::mime_too_large;
  return {};
}

result<void> mime_stream::ensure(std::size_t bytes) {
  while (end_ - begin_ < bytes && !eof_)
    if (auto r = fill(); !r) return r;
  return {};
}

std::optional<std::string_view> mime_stream::read_from_first_delimiter() const {
  if (discarded_ > first_delimiter_) return std::nullopt;
  auto const from = static_cast<std::size_t>(first_delimiter_ - discarded_);
  return std::string_view(buf_.data() + from, end_ - from);
}

result<mime_stream> mime_stream::open(std::string_view content_type_header, pull_fn pull,
                                      mime_limits const& limits, std::size_t buffer_bytes) {
  mime_stream s(std::move(pull), limits, buffer_bytes);
  std::string_view head;
  if (content_type_header.empty()) {
    if (auto r = s.ensure(2 + 70 + 2); !r) return r.error();
    head = s.buffered().substr(0, 2 + 70 + 2);
  }
  auto boundary = boundary_of(content_type_header, head, s.start_);
  if (!boundary) return boundary.error();
  s.dash_ = "--" + *boundary;
  s.delimiter_ = "\n" + s.dash_;
  // The first delimiter: at the very start, or after a preamble on a line of its own.
  if (auto r = s.ensure(s.dash_.size()); !r) return r.error();
  if (s.buffered().substr(0, s.dash_.size()) == s.dash_) return s;
  for (;;) {
    auto b = s.buffered();
    auto hit = b.find(s.delimiter_);
    if (hit != std::string_view::npos) {
      s.begin_ += hit + 1;
      s.first_delimiter_ = s.discarded_ + s.begin_;
      return s;
    }
    if (s.eof_) return errc::mime_malformed;
    // The preamble is dropped, but for the bytes a delimiter may start in.
    if (b.size() >= s.delimiter_.size()) s.begin_ += b.size() - (s.delimiter_.size() - 1);
    if (auto r = s.fill(); !r) return r.error();
  }
}

result<std::optional<located_part>> mime_stream::next_part() {
  if (state_ == state::in_content)
    if (auto r = read_content([](std::span<char const>) -> result<void> { return {}; }); !r)
      return r.error();
  if (state_ == state::done) return std::optional<located_part>();
  std::size_t const window = dash_.size() + 1024 + limits_.max_header_bytes;
  // One byte more than the window: whether the body goes on after it is then known.
  if (auto r = ensure(window + 1); !r) return r.error();
  auto w = buffered().substr(0, window);
  bool const more_follows = end_ - begin_ > w.size();
  located_part part;
  auto content_at = parse_part_header(w, dash_.size(), more_follows, limits_, seen_, part);
  if (!content_at) return content_at.error();
  begin_ += *content_at;
  state_ = state::in_content;
  base64_ = part.transfer_encoding == "base64";
  seen_.push_back(part);
  return std::optional<located_part>(std::move(part));
}

result<std::uint64_t> mime_stream::read_content(chunk_fn const& fn) {
  if (state_ != state::in_content) return errc::internal;
  base64_decoder decoder;
  bool bad_base64 = false;
  std::string decoded;
  std::uint64_t length = 0;
  auto emit = [&](std::string_view raw) -> result<void> {
    if (raw.empty()) return {};
    if (!base64_) {
      length += raw.size();
      return fn(std::span<char const>(raw.data(), raw.size()));
    }
    decoded.clear();
    if (bad_base64) return {};
    if (!decoder.update(raw, decoded)) {
      // Reported once the part's end is found: a part without one is malformed first, as
      // scan_multipart finds it (it locates a part before decoding it).
      bad_base64 = true;
      return {};
    }
    length += decoded.size();
    if (decoded.empty()) return {};
    return fn(std::span<char const>(decoded.data(), decoded.size()));
  };
  for (;;) {
    auto b = buffered();
    auto hit = b.find(delimiter_);
    if (hit != std::string_view::npos) {
      auto content = b.substr(0, hit);  // a match never starts where the last chunk ended
      if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
      if (auto r = emit(content); !r) return r.error();
      if (base64_ && (bad_base64 || !decoder.finish())) return errc::mime_bad_base64;
      begin_ += hit + 1;  // at the delimiter
      if (auto r = ensure(dash_.size() + 2); !r) return r.error();
      if (buffered().substr(dash_.size(), 2) == "--") {
        if (auto r = read_epilogue(); !r) return r.error();
        state_ = state::done;
      } else {
        state_ = state::at_delimiter;
      }
      return length;
    }
    if (eof_) return errc::mime_malformed;  // no close delimiter
    // Everything but the bytes a delimiter (and the CR before it) may start in.
    if (b.size() >= delimiter_.size()) {
      auto safe = b.size() - delimiter_.size();
      if (auto r = emit(b.substr(0, safe)); !r) return r.error();
      begin_ += safe;
    }
    if (auto r = fill(); !r) return r.error();
  }
}

result<void> mime_stream::read_epilogue() {
  // Ignored, but read to the end: the body is whole only then (and within the size limit).
  while (!eof_) {
    begin_ = end_;
    if (auto r = fill(); !r) return r;
  }
  begin_ = end_;
  return {};
}

}  // namespace bbgw::edelivery

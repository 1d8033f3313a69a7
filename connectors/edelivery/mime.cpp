#include "edelivery/mime.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <vector>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool token_char(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u <= 32 || u >= 127) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// RFC 2046 §5.1.1: 1..70 characters from a restricted set, not ending in a space.
bool valid_boundary(std::string_view b) {
  if (b.empty() || b.size() > 70 || b.back() == ' ') return false;
  return std::all_of(b.begin(), b.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
  });
}

std::optional<std::size_t> find_line_end(std::string_view s, std::size_t from) {
  auto p = s.find('\n', from);
  if (p == std::string_view::npos) return std::nullopt;
  return p;
}

}  // namespace

std::string_view bare_content_id(std::string_view id) noexcept {
  id = trim(id);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  if (id.size() >= 4 && lower(id.substr(0, 4)) == "cid:") id.remove_prefix(4);
  return id;
}

result<header_params> parse_header_params(std::string_view value) {
  header_params params;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' ||
                                value[i] == '\n' || value[i] == ';'))
      ++i;
    if (i >= value.size()) break;
    auto eq = value.find('=', i);
    if (eq == std::string_view::npos) return errc::mime_malformed;
    auto name = trim(value.substr(i, eq - i));
    if (name.empty() || !std::all_of(name.begin(), name.end(), token_char))
      return errc::mime_malformed;
    i = eq + 1;
    while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
    std::string val;
    if (i < value.size() && value[i] == '"') {
      ++i;
      bool closed = false;
      while (i < value.size()) {
        char c = value[i++];
        if (c == '\\' && i < value.size()) {
          val += value[i++];
        } else if (c == '"') {
          closed = true;
          break;
        } else {
          val += c;
        }
      }
      if (!closed) return errc::mime_malformed;
    } else {
      auto end = value.find(';', i);
      if (end == std::string_view::npos) end = value.size();
      val = std::string(trim(value.substr(i, end - i)));
      i = end;
    }
    params.emplace_back(lower(name), std::move(val));
  }
  return params;
}

result<content_type> content_type::parse(std::string_view value) {
  content_type ct;
  auto semi = value.find(';');
  auto media = trim(value.substr(0, semi));
  auto slash = media.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == media.size() ||
      !std::all_of(media.begin(), media.end(), [](char c) { return c == '/' || token_char(c); }))
    return errc::unsupported_media_type;
  ct.media_type = lower(media);
  if (semi == std::string_view::npos) return ct;
  auto params = parse_header_params(value.substr(semi + 1));
  if (!params) return params.error();
  ct.params = std::move(*params);
  return ct;
}

std::optional<std::string> content_type::param(std::string_view name) const {
  for (auto const& [k, v] : params)
    if (k == name) return v;
  return std::nullopt;
}

mime_part const* mime_message::find(std::string_view content_id) const {
  auto id = bare_content_id(content_id);
  for (auto const& p : parts)
    if (p.content_id == id) return &p;
  return nullptr;
}

bool base64_decoder::update(std::string_view text, std::string& out) {
  static constexpr auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++pad_;
      ++symbols_;
      continue;
    }
    if (pad_) return false;  // data after padding
    int v = value(c);
    if (v < 0) return false;
    ++symbols_;
    acc_ = ((acc_ << 6) | static_cast<unsigned>(v)) & 0xffffff;
    bits_ += 6;
    if (bits_ >= 8) {
      bits_ -= 8;
      out.push_back(static_cast<char>((acc_ >> bits_) & 0xff));
    }
  }
  return true;
}

bool base64_decoder::finish() const {
  if (symbols_ % 4 != 0 || pad_ > 2) return false;
  return (acc_ & ((1u << bits_) - 1)) == 0;  // non-canonical trailing bits
}

located_part* mime_layout::attachment(std::string_view content_id) {
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (i != root && parts[i].content_id == content_id) return &parts[i];
  return nullptr;
}

located_part const* mime_layout::attachment(std::string_view content_id) const {
  return const_cast<mime_layout*>(this)->attachment(content_id);
}

result<std::size_t> parse_part_header(std::string_view w, std::size_t dash_size, bool more_follows,
                                      mime_limits const& limits,
                                      std::span<located_part const> earlier, located_part& part) {
  std::size_t const after = dash_size;
  if (w.substr(after, 2) == "--") return errc::mime_malformed;  // no part at all
  auto eol = find_line_end(w, after);
  if (!eol) return errc::mime_malformed;
  if (!trim(w.substr(after, *eol - after)).empty()) return errc::mime_malformed;
  if (earlier.size() == limits.max_parts) return errc::mime_too_many_parts;
  // Header block: lines until an empty one (folded lines continue the previous header).
  std::size_t line_start = *eol + 1;
  std::size_t header_bytes = 0, lines = 0;
  for (;;) {
    auto le = find_line_end(w, line_start);
    // The window ends inside the header block: too large, or the body ends there.
    if (!le) return more_follows ? errc::mime_header_too_large : errc::mime_malformed;
    auto line = w.substr(line_start, *le - line_start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    header_bytes += *le + 1 - line_start;
    line_start = *le + 1;
    if (header_bytes > limits.max_header_bytes) return errc::mime_header_too_large;
    if (line.empty()) break;
    if (++lines > limits.max_header_lines) return errc::mime_header_too_large;
    if (line.front() == ' ' || line.front() == '\t') {
      if (part.headers.empty()) return errc::mime_malformed;
      part.headers.back().second += " " + std::string(trim(line));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return errc::mime_malformed;
    auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), token_char)) return errc::mime_malformed;
    part.headers.emplace_back(lower(name), std::string(trim(line.substr(colon + 1))));
  }
  bool have_ct = false, have_id = false, have_cte = false;
  for (auto const& [k, v] : part.headers) {
    if (k == "content-id") {
      if (have_id) return errc::mime_malformed;
      have_id = true;
      part.content_id = std::string(bare_content_id(v));
    } else if (k == "content-type") {
      if (have_ct) return errc::mime_malformed;
      have_ct = true;
      part.content_type = v;
    } else if (k == "content-transfer-encoding") {
      if (have_cte) return errc::mime_malformed;
      have_cte = true;
      part.transfer_encoding = lower(v);
    }
  }
  auto const& te = part.transfer_encoding;
  if (!(te.empty() || te == "binary" || te == "8bit" || te == "7bit" || te == "base64"))
    return errc::mime_unsupported_encoding;
  if (!part.content_id.empty())
    for (auto const& p : earlier)
      if (p.content_id == part.content_id) return errc::mime_duplicate_content_id;
  return line_start;
}

result<std::string> boundary_of(std::string_view content_type_header, std::string_view head,
                                std::optional<std::string>& start) {
  if (!content_type_header.empty()) {
    auto ct = content_type::parse(content_type_header);
    if (!ct) return ct.error();
    if (ct->media_type != "multipart/related") return errc::unsupported_media_type;
    auto b = ct->param("boundary");
    if (!b || !valid_boundary(*b)) return errc::mime_no_boundary;
    if (auto s = ct->param("start")) start = std::string(bare_content_id(*s));
    return std::move(*b);
  }
  // Raw body: the first line is the first delimiter.
  if (head.substr(0, 2) != "--") return errc::mime_no_boundary;
  auto eol = find_line_end(head, 0);
  if (!eol) return errc::mime_no_boundary;
  auto b = trim(head.substr(2, *eol - 2));
  if (!valid_boundary(b)) return errc::mime_no_boundary;
  return std::string(b);
}

bool is_soap_root(located_part const& part) {
  auto ct = content_type::parse(part.content_type);
  return ct && (ct->media_type == "application/soap+xml" || ct->media_type == "text/xml");
}

namespace {

// Reads the body in chunks to find delimiters; only a small window is ever in memory.
class scanner {
 public:
  explicit scanner(byte_source const& body) : body_(body), buffer_(1024 * 1024) {}

  // The first occurrence of `needle` at or after `from`.
  result<std::optional<std::uint64_t>> find(std::string_view needle, std::uint64_t from) {
    std::uint64_t const size = body_.size();
    std::uint64_t pos = from;
    while (pos < size) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), size - pos));
      auto n = body_.read_at(pos, std::span<char>(buffer_.data(), want));
      if (!n) return n.error();
      if (*n != want) return errc::internal;
      auto* hit =
          static_cast<char const*>(::memmem(buffer_.data(), want, needle.data(), needle.size()));
      if (hit) return std::optional<std::uint64_t>(pos + (hit - buffer_.data()));
      if (pos + want >= size) break;
      pos += want - (needle.size() - 1);  // a match may straddle two chunks
    }
    return std::optional<std::uint64_t>();
  }

  result<std::string> read(std::uint64_t pos, std::size_t max) {
    if (pos >= body_.size()) return std::string();
    std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(max, body_.size() - pos)),
                    '\0');
    auto n = body_.read_at(pos, out);
    if (!n) return n.error();
    out.resize(*n);
    return out;
  }

 private:
  byte_source const& body_;
  std::vector<char> buffer_;
};

result<byte_range> decode_base64(byte_range raw, sink_factory& sinks) {
  auto sink = sinks.scratch();
  if (!sink) return sink.error();
  base64_decoder dec;
  std::string out;
  bool ok = true;
  auto r = for_each_chunk(raw, [&](std::span<char const> in) -> result<void> {
    out.clear();
    if (!dec.update(std::string_view(in.data(), in.size()), out)) {
      ok = false;
      return errc::mime_bad_base64;
    }
    return (*sink)->write(out);
  });
  if (!ok || !dec.finish()) return errc::mime_bad_base64;
  if (!r) return r.error();
  auto src = (*sink)->finish();
  if (!src) return src.error();
  auto size = (*src)->size();
  return byte_range{std::move(*src), 0, size};
}

}  // namespace

result<mime_layout> scan_multipart(std::string_view content_type_header, source_ptr body,
                                   mime_limits const& limits, sink_factory& decoded) {
  std::uint64_t const size = body->size();
  if (size > limits.max_total_bytes) return errc::mime_too_large;
  scanner scan(*body);
  mime_layout msg;
  std::optional<std::string> start;
  std::string head;
  if (content_type_header.empty()) {
    auto h = scan.read(0, 2 + 70 + 2);
    if (!h) return h.error();
    head = std::move(*h);
  }
  auto boundary = boundary_of(content_type_header, head, start);
  if (!boundary) return boundary.error();
  msg.boundary = std::move(*boundary);
  std::string const dash = "--" + msg.boundary;
  std::string const next_delimiter = "\n" + dash;

  // The first delimiter: at the very start, or after a preamble on a line of its own.
  std::uint64_t pos;
  auto first = scan.read(0, dash.size());
  if (!first) return first.error();
  if (*first == dash) {
    pos = 0;
  } else {
    auto p = scan.find(next_delimiter, 0);
    if (!p) return p.error();
    if (!*p) return errc::mime_malformed;
    pos = **p + 1;
  }
  for (;;) {
    // `pos` is at a delimiter line; the window holds it and the part's header block.
    auto win = scan.read(pos, dash.size() + 1024 + limits.max_header_bytes);
    if (!win) return win.error();
    located_part part;
    auto content_at =
        parse_part_header(*win, dash.size(), pos + win->size() < size, limits, msg.parts, part);
    if (!content_at) return content_at.error();
    bool const base64 = part.transfer_encoding == "base64";
    // Content: up to the CRLF (or LF) before the next delimiter.
    std::uint64_t const content_start = pos + *content_at;
    auto next = scan.find(next_delimiter, content_start);
    if (!next) return next.error();
    if (!*next) return errc::mime_malformed;  // no close delimiter
    std::uint64_t content_end = **next;
    if (content_end > content_start) {
      auto cr = scan.read(content_end - 1, 1);
      if (!cr) return cr.error();
      if (*cr == "\r") --content_end;
    }
    part.content = byte_range{body, content_start, content_end - content_start};
    if (base64) {
      auto d = decode_base64(part.content, decoded);
      if (!d) return d.error();
      part.content = std::move(*d);
    }
    msg.parts.push_back(std::move(part));
    pos = **next + 1;
    auto close = scan.read(pos + dash.size(), 2);
    if (!close) return close.error();
    if (*close == "--") break;  // close delimiter; the epilogue is ignored
  }

  // The root: the part `start` names, else the first.
  if (start) {
    auto it = std::find_if(msg.parts.begin(), msg.parts.end(),
                           [&](located_part const& p) { return p.content_id == *start; });
    if (it == msg.parts.end()) return errc::mime_no_root;
    msg.root = static_cast<std::size_t>(it - msg.parts.begin());
  }
  if (!is_soap_root(msg.parts[msg.root])) return errc::mime_no_root;
  return msg;
}

result<mime_message> parse_multipart(std::string_view content_type_header, std::string_view body,
                                     mime_limits const& limits) {
  auto sinks = memory_sinks();
  auto layout = scan_multipart(content_type_header, memory_view_source(body), limits, *sinks);
  if (!layout) return layout.error();
  mime_message msg;
  msg.boundary = std::move(layout->boundary);
  msg.root = layout->root;
  for (auto& lp : layout->parts) {
    mime_part p;
    p.content_id = std::move(lp.content_id);
    p.content_type = std::move(lp.content_type);
    p.transfer_encoding = std::move(lp.transfer_encoding);
    p.headers = std::move(lp.headers);
    auto c = read_all(lp.content, limits.max_total_bytes, errc::mime_too_large);
    if (!c) return c.error();
    p.content = std::move(*c);
    msg.parts.push_back(std::move(p));
  }
  return msg;
}

}  // namespace bbgw::edelivery

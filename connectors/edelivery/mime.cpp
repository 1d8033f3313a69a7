#include "edelivery/mime.hpp"

#include <algorithm>
#include <cctype>

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

result<content_type> content_type::parse(std::string_view value) {
  content_type ct;
  auto semi = value.find(';');
  auto media = trim(value.substr(0, semi));
  auto slash = media.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == media.size() ||
      !std::all_of(media.begin(), media.end(), [](char c) { return c == '/' || token_char(c); }))
    return errc::unsupported_media_type;
  ct.media_type = lower(media);
  std::size_t i = semi == std::string_view::npos ? value.size() : semi + 1;
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
    ct.params.emplace_back(lower(name), std::move(val));
  }
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

std::optional<std::string> base64_decode(std::string_view text) {
  static constexpr auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0, pad = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t') continue;
    if (c == '=') {
      ++pad;
      ++symbols;
      continue;
    }
    if (pad) return std::nullopt;  // data after padding
    int v = value(c);
    if (v < 0) return std::nullopt;
    ++symbols;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (symbols % 4 != 0 || pad > 2) return std::nullopt;
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

result<mime_message> parse_multipart(std::string_view content_type_header, std::string_view body,
                                     mime_limits const& limits) {
  if (body.size() > limits.max_total_bytes) return errc::mime_too_large;
  mime_message msg;
  std::optional<std::string> start;
  if (!content_type_header.empty()) {
    auto ct = content_type::parse(content_type_header);
    if (!ct) return ct.error();
    if (ct->media_type != "multipart/related") return errc::unsupported_media_type;
    auto b = ct->param("boundary");
    if (!b || !valid_boundary(*b)) return errc::mime_no_boundary;
    msg.boundary = *b;
    if (auto s = ct->param("start")) start = std::string(bare_content_id(*s));
  } else {
    // Raw body: the first line is the first delimiter.
    if (body.substr(0, 2) != "--") return errc::mime_no_boundary;
    auto eol = find_line_end(body, 0);
    if (!eol) return errc::mime_no_boundary;
    auto b = trim(body.substr(2, *eol - 2));
    if (!valid_boundary(b)) return errc::mime_no_boundary;
    msg.boundary = std::string(b);
  }
  std::string const dash = "--" + msg.boundary;

  // The first delimiter: at the very start, or after a preamble on a line of its own.
  std::size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = 0;
  } else {
    auto p = body.find("\n" + dash);
    if (p == std::string_view::npos) return errc::mime_malformed;
    pos = p + 1;
  }
  for (;;) {
    // `pos` is at a delimiter line.
    std::size_t after = pos + dash.size();
    if (body.substr(after, 2) == "--") return errc::mime_malformed;  // no part at all
    auto eol = find_line_end(body, after);
    if (!eol) return errc::mime_malformed;
    if (!trim(body.substr(after, *eol - after)).empty()) return errc::mime_malformed;
    if (msg.parts.size() == limits.max_parts) return errc::mime_too_many_parts;
    mime_part part;
    // Header block: lines until an empty one (folded lines continue the previous header).
    std::size_t line_start = *eol + 1;
    std::size_t header_bytes = 0, lines = 0;
    for (;;) {
      auto le = find_line_end(body, line_start);
      if (!le) return errc::mime_malformed;
      auto line = body.substr(line_start, *le - line_start);
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
    // Content: up to the CRLF (or LF) before the next delimiter.
    auto next = body.find("\n" + dash, line_start);
    if (next == std::string_view::npos) return errc::mime_malformed;  // no close delimiter
    std::size_t content_end = next;
    if (content_end > line_start && body[content_end - 1] == '\r') --content_end;
    auto raw = body.substr(line_start, content_end - line_start);
    auto const& te = part.transfer_encoding;
    if (te.empty() || te == "binary" || te == "8bit" || te == "7bit") {
      part.content = std::string(raw);
    } else if (te == "base64") {
      auto decoded = base64_decode(raw);
      if (!decoded) return errc::mime_bad_base64;
      part.content = std::move(*decoded);
    } else {
      return errc::mime_unsupported_encoding;
    }
    if (!part.content_id.empty())
      for (auto const& p : msg.parts)
        if (p.content_id == part.content_id) return errc::mime_duplicate_content_id;
    msg.parts.push_back(std::move(part));
    pos = next + 1;
    auto after_next = pos + dash.size();
    if (body.substr(after_next, 2) == "--") break;  // close delimiter; the epilogue is ignored
  }

  // The root: the part `start` names, else the first.
  if (start) {
    auto it = std::find_if(msg.parts.begin(), msg.parts.end(),
                           [&](mime_part const& p) { return p.content_id == *start; });
    if (it == msg.parts.end()) return errc::mime_no_root;
    msg.root = static_cast<std::size_t>(it - msg.parts.begin());
  }
  auto root_ct = content_type::parse(msg.parts[msg.root].content_type);
  if (!root_ct ||
      (root_ct->media_type != "application/soap+xml" && root_ct->media_type != "text/xml"))
    return errc::mime_no_root;
  return msg;
}

}  // namespace bbgw::edelivery

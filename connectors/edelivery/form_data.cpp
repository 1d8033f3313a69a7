#include "edelivery/form_data.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/mime.hpp"

namespace bbgw::edelivery {

namespace {

constexpr std::size_t chunk_bytes = 64 * 1024;
constexpr std::size_t max_preamble_bytes = 64 * 1024;

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// `form-data; name="x"; filename="y"` → disposition "form-data" and its parameters; false when
// the syntax is wrong (unterminated quotes, a parameter without '=').
bool parse_disposition(std::string_view v, std::string& kind, header_params& params) {
  auto const semi = v.find(';');
  kind = lower(trim(v.substr(0, semi)));
  if (kind.empty()) return false;
  if (semi == std::string_view::npos) return true;
  auto parsed = parse_header_params(v.substr(semi + 1));
  if (!parsed) return false;
  params = std::move(*parsed);
  return true;
}

}  // namespace

result<void> parse_form_data(std::istream& in, std::string_view boundary, form_handler& handler,
                             form_limits const& limits, std::string* detail) {
  if (boundary.empty() || boundary.size() > 70)
    return fail(errc::mime_no_boundary, detail, "no usable boundary parameter");
  std::string const delim = "\r\n--" + std::string(boundary);
  std::string buf = "\r\n";  // so that a boundary on the first line is found like any other
  std::vector<char> chunk(chunk_bytes);
  bool eof = false;
  auto fill = [&]() -> bool {
    if (eof) return false;
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0 || !in) eof = true;
    buf.append(chunk.data(), n);
    return n > 0;
  };

  // Preamble (ignored, bounded) up to the first delimiter.
  std::size_t skipped = 0;
  for (;;) {
    auto pos = buf.find(delim);
    if (pos != std::string::npos) {
      buf.erase(0, pos + delim.size());
      break;
    }
    auto keep = std::min(buf.size(), delim.size() - 1);
    skipped += buf.size() - keep;
    buf.erase(0, buf.size() - keep);
    if (skipped > max_preamble_bytes || !fill())
      return fail(errc::mime_malformed, detail, "no opening boundary");
  }

  std::size_t parts = 0;
  for (;;) {
    while (buf.size() < 2 && fill()) {
    }
    if (buf.compare(0, 2, "--") == 0) {  // close delimiter; the epilogue is ignored
      if (parts == 0) return fail(errc::mime_malformed, detail, "no parts");
      return {};
    }
    // Transport padding, then the CRLF ending the delimiter line and the header block.
    std::size_t header_end = std::string::npos;
    for (;;) {
      std::size_t p = 0;
      while (p < buf.size() && (buf[p] == ' ' || buf[p] == '\t')) ++p;
      if (p < buf.size() && buf[p] != '\r')
        return fail(errc::mime_malformed, detail, "text after a boundary");
      if (p > 0 && p < buf.size()) buf.erase(0, p);
      header_end = buf.find("\r\n\r\n");
      if (header_end != std::string::npos) break;
      if (buf.size() > limits.max_header_bytes + 4)
        return fail(errc::mime_header_too_large, detail, "a part's header block is too large");
      if (!fill()) return fail(errc::mime_malformed, detail, "a part's headers are not ended");
    }
    if (buf.compare(0, 2, "\r\n") != 0)
      return fail(errc::mime_malformed, detail, "text after a boundary");
    if (header_end > limits.max_header_bytes + 2)
      return fail(errc::mime_header_too_large, detail, "a part's header block is too large");
    if (++parts > limits.max_parts)
      return fail(errc::mime_too_many_parts, detail, "too many parts");
    form_part_head head;
    bool have_disposition = false;
    std::string_view block(buf.data() + 2, header_end >= 2 ? header_end - 2 : 0);
    while (!block.empty()) {
      auto eol = block.find("\r\n");
      auto line = block.substr(0, eol);
      block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
      if (line.empty()) continue;
      auto colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0)
        return fail(errc::mime_malformed, detail, "a part header without a name");
      auto name = lower(trim(line.substr(0, colon)));
      auto value = trim(line.substr(colon + 1));
      if (name == "content-disposition") {
        std::string kind;
        header_params params;
        if (have_disposition || !parse_disposition(value, kind, params) || kind != "form-data")
          return fail(errc::mime_malformed, detail,
                      "a part's Content-Disposition is not form-data");
        have_disposition = true;
        for (auto const& [k, v] : params) {
          if (k == "name") head.name = v;
          if (k == "filename") head.filename = v;
        }
      } else if (name == "content-type") {
        head.content_type = std::string(value);
      }
    }
    if (!have_disposition || head.name.empty())
      return fail(errc::mime_malformed, detail, "a part without a form-data name");
    buf.erase(0, header_end + 4);
    if (auto r = handler.begin(head); !r) return r;
    for (;;) {
      auto pos = buf.find(delim);
      if (pos != std::string::npos) {
        if (auto r = handler.data(std::string_view(buf.data(), pos)); !r) return r;
        buf.erase(0, pos + delim.size());
        break;
      }
      auto keep = std::min(buf.size(), delim.size() - 1);
      if (buf.size() > keep) {
        if (auto r = handler.data(std::string_view(buf.data(), buf.size() - keep)); !r) return r;
        buf.erase(0, buf.size() - keep);
      }
      if (!fill()) return fail(errc::mime_malformed, detail, "no closing boundary");
    }
    if (auto r = handler.end(); !r) return r;
  }
}

}  // namespace bbgw::edelivery

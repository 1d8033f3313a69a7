#include "context/json_text.hpp"

#include <charconv>

namespace bbgw::context {

void json_text::append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // bytes copied as they are, in one append
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto const c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void json_text::key(std::string_view k) {
  separate();
  append_quoted(out_, k);
  out_ += ':';
  comma_ = false;  // the value follows without one
}

void json_text::string(std::string_view s) {
  separate();
  append_quoted(out_, s);
}

void json_text::null() {
  separate();
  out_ += "null";
}

void json_text::number(std::uint64_t n) {
  separate();
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out_.append(buf, r.ptr);
}

void json_text::value(boost::json::value const& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      null();
      return;
    case boost::json::kind::bool_:
      separate();
      out_ += v.get_bool() ? "true" : "false";
      return;
    case boost::json::kind::int64: {
      separate();
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out_.append(buf, r.ptr);
      return;
    }
    case boost::json::kind::uint64:
      number(v.get_uint64());
      return;
    case boost::json::kind::double_: {
      // Boost.JSON's shortest round-trip form, as everywhere else in the events.
      separate();
      sr_.reset(&v);
      char buf[64];
      while (!sr_.done()) {
        auto written = sr_.read(buf, sizeof buf);
        out_.append(written.data(), written.size());
      }
      return;
    }
    case boost::json::kind::string:
      string(v.get_string());
      return;
    case boost::json::kind::array:
      // Recursion as deep as the parser allowed (boost::json::parse_options::max_depth).
      begin_array();
      for (auto const& e : v.get_array()) value(e);
      end_array();
      return;
    case boost::json::kind::object:
      begin_object();
      for (auto const& kv : v.get_object()) {
        key(kv.key());
        value(kv.value());
      }
      end_object();
      return;
  }
}

void json_text::raw(std::string_view json) {
  if (json.empty()) return;  // nothing: no comma either
  separate();
  out_ += json;
}

}  // namespace bbgw::context

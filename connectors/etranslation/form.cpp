#include "etranslation/form.hpp"

#include <cctype>

namespace bbgw::etranslation {

namespace {

int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> form_params::first(std::string_view name) const {
  for (auto const& [k, v] : items_)
    if (k == name) return v;
  return std::nullopt;
}

std::vector<std::string> form_params::all(std::string_view name) const {
  std::vector<std::string> out;
  for (auto const& [k, v] : items_)
    if (k == name) out.push_back(v);
  return out;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

bool is_latin1_charset(std::string_view content_type) {
  auto ct = lower(content_type);
  auto p = ct.find("charset=");
  if (p == std::string::npos) return false;
  auto v = ct.substr(p + 8);
  if (!v.empty() && v.front() == '"') v.erase(0, 1);
  auto e = v.find_first_of("\"; ");
  if (e != std::string::npos) v.resize(e);
  return v == "iso-8859-1" || v == "latin1" || v == "iso8859-1" || v == "iso_8859-1";
}

bool is_form(std::string_view content_type) {
  auto ct = lower(content_type);
  auto e = ct.find(';');
  if (e != std::string::npos) ct.resize(e);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct == "application/x-www-form-urlencoded";
}

bool parse_form(std::string_view text, bool latin1, form_params& out) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto amp = text.find('&', pos);
    if (amp == std::string_view::npos) amp = text.size();
    auto pair = text.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) {
      if (amp == text.size()) break;
      continue;
    }
    auto eq = pair.find('=');
    auto k = decode(pair.substr(0, eq));
    auto v = decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!k || !v) return false;
    if (latin1) {
      *k = latin1_to_utf8(*k);
      *v = latin1_to_utf8(*v);
    }
    if (!valid_utf8(*k) || !valid_utf8(*v)) return false;
    out.add(std::move(*k), std::move(*v));
    if (amp == text.size()) break;
  }
  return true;
}

}  // namespace bbgw::etranslation

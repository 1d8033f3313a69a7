#pragma once
// application/x-www-form-urlencoded decoding for callbacks: percent-decoding with '+' as space,
// Latin-1 bodies converted to UTF-8, anything else required to be valid UTF-8.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/utf8.hpp"

namespace bbgw::etranslation {

class form_params {
 public:
  void add(std::string k, std::string v) { items_.emplace_back(std::move(k), std::move(v)); }
  // The first value of `name`, if any.
  std::optional<std::string> first(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

using bbgw::valid_utf8;  // bbgw/utf8.hpp
std::string latin1_to_utf8(std::string_view s);
// True when a Content-Type names ISO-8859-1 (or its aliases latin1 / windows-1252) as charset.
bool is_latin1_charset(std::string_view content_type);
// True when a Content-Type is application/x-www-form-urlencoded.
bool is_form(std::string_view content_type);

// Decodes `text` ("a=1&b=%C3%A9") into `out`. False on a bad %-escape or, once decoded (and
// converted from Latin-1 when `latin1`), text that is not UTF-8.
bool parse_form(std::string_view text, bool latin1, form_params& out);

}  // namespace bbgw::etranslation

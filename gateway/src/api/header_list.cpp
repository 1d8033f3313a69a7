#include "bbgw/header_list.hpp"

#include <algorithm>

namespace bbgw {

namespace {

// ASCII-only folding: field names are tokens (RFC 9110 5.1), so locale rules must not apply.
constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void header_list::set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](field const& f) { return iequals(f.first, name); });
  if (first == fields_.end()) {
    fields_.emplace_back(std::string(name), std::move(value));
    return;
  }
  // Keep the position of the first occurrence; drop the others.
  first->second = std::move(value);
  fields_.erase(std::remove_if(std::next(first), fields_.end(),
                               [&](field const& f) { return iequals(f.first, name); }),
                fields_.end());
}

std::optional<std::string_view> header_list::get(std::string_view name) const {
  for (auto const& f : fields_)
    if (iequals(f.first, name)) return std::string_view(f.second);
  return std::nullopt;
}

}  // namespace bbgw

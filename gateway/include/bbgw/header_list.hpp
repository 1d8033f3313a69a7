#pragma once
// HTTP header fields as an ordered list with case-insensitive lookup (RFC 9110 field names).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bbgw {

bool iequals(std::string_view a, std::string_view b) noexcept;

class header_list {
 public:
  using field = std::pair<std::string, std::string>;

  void add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field of that name by one.
  void set(std::string_view name, std::string value);
  // The first field of that name, if any.
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }

  auto begin() const { return fields_.begin(); }
  auto end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }

 private:
  std::vector<field> fields_;
};

}  // namespace bbgw

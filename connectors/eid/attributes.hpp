#pragma once
// The eIDAS attributes this SP knows (by Name URI: matching never uses FriendlyName), the
// OIDC claim each maps to, the scope that requests it, and the levels of assurance.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bbgw::eid {

namespace attr {
inline constexpr std::string_view np = "http://eidas.europa.eu/attributes/naturalperson/";
inline constexpr std::string_view person_identifier =
    "http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier";
inline constexpr std::string_view family_name =
    "http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName";
inline constexpr std::string_view given_name =
    "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName";
inline constexpr std::string_view date_of_birth =
    "http://eidas.europa.eu/attributes/naturalperson/DateOfBirth";
inline constexpr std::string_view legal_person_identifier =
    "http://eidas.europa.eu/attributes/legalperson/LegalPersonIdentifier";
inline constexpr std::string_view legal_name =
    "http://eidas.europa.eu/attributes/legalperson/LegalName";
}  // namespace attr

struct attribute_info {
  std::string_view name;           // the eIDAS Name URI
  std::string_view friendly_name;  // for metadata and requests only
  std::string_view claim;          // the OIDC claim it becomes
  std::string_view scope;          // the OIDC scope that requests it
};

// Every attribute known, natural and legal person.
std::vector<attribute_info> const& known_attributes();
attribute_info const* find_attribute(std::string_view name_uri);
attribute_info const* find_claim(std::string_view claim);

// Levels of assurance, ordered: low < substantial < high. The NotNotified variants
// (http://eidas.europa.eu/NotNotified/LoA/...) are requested with Comparison="exact".
struct loa {
  int level = 0;  // 1 low, 2 substantial, 3 high
  bool not_notified = false;
  std::string uri;
};
std::optional<loa> parse_loa(std::string_view uri);

}  // namespace bbgw::eid

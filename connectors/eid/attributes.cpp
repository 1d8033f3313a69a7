#include "eid/attributes.hpp"

namespace bbgw::eid {

std::vector<attribute_info> const& known_attributes() {
  static std::vector<attribute_info> const all{
      {attr::person_identifier, "PersonIdentifier", "eidas_person_identifier", "openid"},
      {attr::family_name, "FamilyName", "family_name", "profile"},
      {attr::given_name, "FirstName", "given_name", "profile"},
      {attr::date_of_birth, "DateOfBirth", "birthdate", "profile"},
      {"http://eidas.europa.eu/attributes/naturalperson/BirthName", "BirthName", "eidas_birth_name",
       "eidas"},
      {"http://eidas.europa.eu/attributes/naturalperson/PlaceOfBirth", "PlaceOfBirth",
       "eidas_place_of_birth", "eidas"},
      {"http://eidas.europa.eu/attributes/naturalperson/CurrentAddress", "CurrentAddress",
       "address", "address"},
      {"http://eidas.europa.eu/attributes/naturalperson/Gender", "Gender", "gender", "eidas"},
      {"http://eidas.europa.eu/attributes/naturalperson/Nationality", "Nationality",
       "eidas_nationality", "eidas"},
      {attr::legal_person_identifier, "LegalPersonIdentifier", "eidas_legal_person_identifier",
       "legal_person"},
      {attr::legal_name, "LegalName", "eidas_legal_name", "legal_person"},
  };
  return all;
}

attribute_info const* find_attribute(std::string_view name_uri) {
  for (auto const& a : known_attributes())
    if (a.name == name_uri) return &a;
  return nullptr;
}

attribute_info const* find_claim(std::string_view claim) {
  for (auto const& a : known_attributes())
    if (a.claim == claim) return &a;
  return nullptr;
}

std::optional<loa> parse_loa(std::string_view uri) {
  static constexpr std::string_view notified = "http://eidas.europa.eu/LoA/";
  static constexpr std::string_view not_notified = "http://eidas.europa.eu/NotNotified/LoA/";
  loa l;
  std::string_view rest;
  if (uri.starts_with(notified)) {
    rest = uri.substr(notified.size());
  } else if (uri.starts_with(not_notified)) {
    rest = uri.substr(not_notified.size());
    l.not_notified = true;
  } else {
    return std::nullopt;
  }
  if (rest == "low")
    l.level = 1;
  else if (rest == "substantial")
    l.level = 2;
  else if (rest == "high")
    l.level = 3;
  else
    return std::nullopt;
  l.uri = std::string(uri);
  return l;
}

}  // namespace bbgw::eid

#pragma once
// Why a structured-mode CloudEvent was rejected by from_structured_json.
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::cloudevents {

enum class errc {
  malformed_json = 1,       // not JSON at all
  not_an_object,            // JSON, but not an object
  missing_attribute,        // a required attribute (id, source, specversion, type) is absent
  mistyped_attribute,       // an attribute has the wrong JSON type or is empty
  unsupported_specversion,  // specversion is not "1.0"
  invalid_time,             // `time` is not RFC 3339
  unsupported_data,         // data_base64, or non-string data with a non-JSON content type
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace bbgw::cloudevents

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::cloudevents::errc> : std::true_type {};
}  // namespace boost::system

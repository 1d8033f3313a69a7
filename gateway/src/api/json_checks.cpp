#include "bbgw/json_checks.hpp"

#include <algorithm>
#include <cmath>

namespace bbgw {

bool all_numbers_finite(boost::json::value const& v) noexcept {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return std::isfinite(v.get_double());
    case boost::json::kind::array:
      return std::all_of(v.get_array().begin(), v.get_array().end(), all_numbers_finite);
    case boost::json::kind::object:
      return std::all_of(v.get_object().begin(), v.get_object().end(),
                         [](auto const& kv) { return all_numbers_finite(kv.value()); });
    default:
      return true;
  }
}

}  // namespace bbgw

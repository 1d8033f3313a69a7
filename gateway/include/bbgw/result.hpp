#pragma once
// The data-path error convention: boost::system::result with a per-module errc enum.
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace bbgw {

template <class T>
using result = boost::system::result<T>;

using boost::system::error_code;

}  // namespace bbgw

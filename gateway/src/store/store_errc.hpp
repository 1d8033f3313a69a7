#pragma once
// Errors of the SQLite store (bbgw_store), mapped from SQLite result codes where they apply.
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::storage {

enum class errc {
  busy = 1,        // the database stayed locked past busy_timeout
  io,              // disk I/O error, disk full, cannot open, read-only
  constraint,      // a constraint failed
  corrupt,         // the file is not a database or is damaged
  closed,          // the store is shut down
  schema_too_new,  // the database was written by a newer gateway
  work_failed,     // the transaction's work threw instead of returning an error
  internal,        // any other SQLite error (a bug: misuse, bad SQL)
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// Maps an SQLite primary or extended result code to errc.
errc from_sqlite(int rc) noexcept;

}  // namespace bbgw::storage

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::storage::errc> : std::true_type {};
}  // namespace boost::system

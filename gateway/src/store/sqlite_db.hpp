#pragma once
// Thin RAII over the SQLite C API: a connection and cached prepared statements.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <sqlite3.h>

namespace bbgw::storage {

struct sqlite_closer {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using sqlite_handle = std::unique_ptr<sqlite3, sqlite_closer>;

// A prepared statement, reset (bindings cleared) by each use.
class statement {
 public:
  statement() = default;
  statement(sqlite3* db, std::string_view sql) {
    rc_ = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  }
  statement(statement const&) = delete;
  statement& operator=(statement const&) = delete;
  statement(statement&& o) noexcept : stmt_(o.stmt_), rc_(o.rc_) { o.stmt_ = nullptr; }
  statement& operator=(statement&& o) noexcept {
    std::swap(stmt_, o.stmt_);
    std::swap(rc_, o.rc_);
    return *this;
  }
  ~statement() { sqlite3_finalize(stmt_); }

  int prepare_rc() const { return rc_; }
  explicit operator bool() const { return stmt_ != nullptr; }

  void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind_blob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
  template <class T>
  void bind(int i, std::optional<T> const& v) {
    if (v)
      bind(i, *v);
    else
      bind_null(i);
  }

  int step() { return sqlite3_step(stmt_); }
  // Resets for the next use; bound text was SQLITE_STATIC, so bindings are cleared too.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  bool is_null(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
  std::int64_t int64(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::string text(int c) const { return std::string(text_view(c)); }
  // Valid until the next step() or reset() of this statement.
  std::string_view text_view(int c) const {
    auto const* p = reinterpret_cast<char const*>(sqlite3_column_text(stmt_, c));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
             : std::string_view{};
  }
  std::string blob(int c) const {
    auto const* p = static_cast<char const*>(sqlite3_column_blob(stmt_, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c)))
             : std::string{};
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

// Resets a statement when a scope ends, whatever path leaves it.
class reset_guard {
 public:
  explicit reset_guard(statement& s) : s_(s) {}
  ~reset_guard() { s_.reset(); }
  reset_guard(reset_guard const&) = delete;
  reset_guard& operator=(reset_guard const&) = delete;

 private:
  statement& s_;
};

}  // namespace bbgw::storage

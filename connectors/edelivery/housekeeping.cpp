#include "edelivery/housekeeping.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "bbgw/date_time.hpp"
#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace fs = std::filesystem;

namespace {

std::string field(boost::json::object const& o, std::string_view k) {
  auto const* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::optional<sys_time> time_field(boost::json::object const& o, std::string_view k) {
  return parse_rfc3339(field(o, k));
}

}  // namespace

result<void> sync_directory(std::string const& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errc::delivery_failed;
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errc::delivery_failed;
  return {};
}

result<void> sync_file(std::string const& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errc::delivery_failed;
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errc::delivery_failed;
  return {};
}

bool is_temporary_name(std::string_view name) {
  return (name.size() > partial_suffix.size() && name.ends_with(partial_suffix)) ||
         name.starts_with(".scratch-");
}

std::size_t remove_leftovers(std::string const& payload_dir, sys_time now,
                             std::chrono::milliseconds grace) {
  std::size_t removed = 0;
  std::error_code ec;
  auto const cutoff = now - grace;
  for (auto it = fs::recursive_directory_iterator(payload_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto const name = it->path().filename().string();
    if (!is_temporary_name(name)) continue;
    if (it->is_directory(ec)) it.disable_recursion_pending();
    std::error_code tec;
    auto mtime = fs::last_write_time(it->path(), tec);
    if (tec) continue;
    if (std::chrono::file_clock::to_sys(mtime) > cutoff) continue;  // maybe still written
    std::error_code rec;
    if (fs::remove_all(it->path(), rec) > 0 && !rec) ++removed;
  }
  return removed;
}

payload_listing list_payload_dir(std::string const& payload_dir) {
  payload_listing out;
  std::error_code ec;
  auto scan = [&](fs::path const& dir, std::string const& prefix) {
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      auto name = it->path().filename().string();
      if (is_temporary_name(name) || (prefix.empty() && name == "out")) continue;
      std::error_code sec;
      if (it->is_directory(sec))
        out.message_dirs.push_back(prefix + name);
      else
        ++out.loose_files;
    }
    ec.clear();
  };
  scan(payload_dir, "");
  if (fs::is_directory(fs::path(payload_dir) / "out", ec))
    scan(fs::path(payload_dir) / "out", "out/");
  return out;
}

std::optional<sys_time> final_at(boost::json::object const& rec) {
  auto status = field(rec, "status");
  if (status == "received") return time_field(rec, "receivedAt");
  if (status == "delivered") return time_field(rec, "deliveredAt");
  if (status == "failed") {
    if (auto t = time_field(rec, "failedAt")) return t;
    return time_field(rec, "submittedAt");  // records written before failedAt existed
  }
  if (status == "sent") {  // final only when the PMode asks for no receipt
    auto const* expected = rec.if_contains("receiptExpected");
    if (expected && expected->is_bool() && !expected->as_bool()) return time_field(rec, "sentAt");
  }
  return std::nullopt;
}

}  // namespace bbgw::edelivery

#include "edelivery/byte_pipe.hpp"

#include <algorithm>
#include <cstring>

#include <boost/system/errc.hpp>

namespace bbgw::edelivery {

bool byte_pipe::write(std::string_view bytes) {
  std::unique_lock lock(mutex_);
  while (!bytes.empty()) {
    changed_.wait(lock, [&] { return reader_closed_ || buffer_.size() - head_ < capacity_; });
    if (reader_closed_) return false;
    if (head_ == buffer_.size()) {
      buffer_.clear();
      head_ = 0;
    } else if (head_ >= capacity_) {  // keep the buffer from growing: drop what was read
      buffer_.erase(0, head_);
      head_ = 0;
    }
    auto const n = std::min(bytes.size(), capacity_ - (buffer_.size() - head_));
    buffer_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    changed_.notify_all();
  }
  return true;
}

void byte_pipe::finish() {
  std::lock_guard lock(mutex_);
  finished_ = true;
  changed_.notify_all();
}

void byte_pipe::fail(error_code why) {
  std::lock_guard lock(mutex_);
  failed_ = why ? why : make_error_code(boost::system::errc::io_error);
  changed_.notify_all();
}

void byte_pipe::close_reader() {
  std::lock_guard lock(mutex_);
  reader_closed_ = true;
  changed_.notify_all();
}

result<std::size_t> byte_pipe::read(std::span<char> into) {
  if (into.empty()) return make_error_code(boost::system::errc::invalid_argument);
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failed_ || finished_ || head_ < buffer_.size(); });
  if (failed_) return failed_;
  auto const n = std::min(into.size(), buffer_.size() - head_);
  if (n == 0) return std::size_t{0};  // finished and all read
  std::memcpy(into.data(), buffer_.data() + head_, n);
  head_ += n;
  changed_.notify_all();
  return n;
}

}  // namespace bbgw::edelivery

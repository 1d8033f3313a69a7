#include "http/body_pipe.hpp"

#include <algorithm>
#include <cstring>

namespace bbgw::http {

body_pipe::body_pipe(std::size_t capacity, std::function<void()> wake)
    : capacity_(std::max<std::size_t>(capacity, 1)), wake_(std::move(wake)) {}

void body_pipe::push(char const* data, std::size_t size) {
  if (size == 0) return;
  {
    std::lock_guard lock(m_);
    if (reader_closed_) return;  // nobody will read it
    if (head_ > 0 && head_ >= buf_.size() / 2) {
      // Keep the buffer from growing with the body. (Not string::erase: g++ 12 warns
      // -Wrestrict, wrongly, on its inlined memmove.)
      std::size_t const unread = buf_.size() - head_;
      std::memmove(buf_.data(), buf_.data() + head_, unread);
      buf_.resize(unread);
      head_ = 0;
    }
    buf_.append(data, size);
  }
  readable_.notify_one();
}

bool body_pipe::wants_more() {
  std::lock_guard lock(m_);
  if (reader_closed_) return false;
  if (buf_.size() - head_ < capacity_) return true;
  writer_waiting_ = true;
  return false;
}

void body_pipe::finish() {
  {
    std::lock_guard lock(m_);
    complete_ = true;
  }
  readable_.notify_one();
}

void body_pipe::fail(error_code why) {
  {
    std::lock_guard lock(m_);
    if (!complete_ && !error_) error_ = why;
  }
  readable_.notify_one();
}

result<std::size_t> body_pipe::read(std::span<char> into) {
  // 0 means the end: an empty buffer would make a read look like it.
  if (into.empty()) return make_error_code(boost::system::errc::invalid_argument);
  bool wake = false;
  std::size_t n = 0;
  {
    std::unique_lock lock(m_);
    readable_.wait(lock, [&] { return head_ < buf_.size() || complete_ || error_; });
    if (head_ == buf_.size()) {
      if (error_) return error_;
      return std::size_t{0};  // complete
    }
    n = std::min(into.size(), buf_.size() - head_);
    std::memcpy(into.data(), buf_.data() + head_, n);
    head_ += n;
    if (head_ == buf_.size()) {
      buf_.clear();
      head_ = 0;
    }
    // Resume the connection once half the room is free again: fewer, larger socket reads.
    if (writer_waiting_ && buf_.size() - head_ <= capacity_ / 2) {
      writer_waiting_ = false;
      wake = true;
    }
  }
  if (wake && wake_) wake_();
  return n;
}

void body_pipe::close_reader() {
  {
    std::lock_guard lock(m_);
    reader_closed_ = true;
    buf_.clear();
    buf_.shrink_to_fit();
    head_ = 0;
    writer_waiting_ = false;
  }
  // No wake-up needed: the connection is waiting for the handler's answer, which follows.
}

}  // namespace bbgw::http

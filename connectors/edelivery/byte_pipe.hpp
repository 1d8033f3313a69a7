#pragma once
// A bounded pipe between one thread writing bytes and one reading them (as a bbgw::body_reader):
// the AS4 message as it is built, to the HTTP client that sends it. The writer blocks while
// `capacity` bytes wait unread, so neither side runs ahead by more than that; either side can
// end it: the writer with finish() or fail(), the reader with close_reader() (after which
// writes return false at once and the bytes are dropped).
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "bbgw/body_reader.hpp"
#include "bbgw/result.hpp"

namespace bbgw::edelivery {

class byte_pipe final : public bbgw::body_reader {
 public:
  explicit byte_pipe(std::size_t capacity = 1024 * 1024) : capacity_(capacity) {}

  // Blocks while the pipe is full; false once the reader has closed it.
  bool write(std::string_view bytes);
  void finish();              // the end: reads return 0 once the rest is read
  void fail(error_code why);  // reads return `why` from now on
  void close_reader();        // the reader is gone

  // body_reader: blocks until bytes, the end or the failure.
  result<std::size_t> read(std::span<char> into) override;

 private:
  std::size_t const capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string buffer_;
  std::size_t head_ = 0;  // the next unread byte in buffer_
  bool finished_ = false;
  bool reader_closed_ = false;
  error_code failed_;
};

}  // namespace bbgw::edelivery

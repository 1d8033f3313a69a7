#pragma once
// The hand-over between a connection, which reads a streamed request body from the socket, and
// the handler on a worker thread, which reads it through bbgw::body_reader. Bounded: the
// connection asks wants_more() before each socket read and waits when it says no; the reader
// calls the waker once it has made room again (or stopped reading), and the connection resumes.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "bbgw/body_reader.hpp"

namespace bbgw::http {

class body_pipe final : public bbgw::body_reader {
 public:
  // `capacity`: unread bytes beyond which the connection stops reading. `wake` is called from
  // the reader's thread, without the lock held, when a connection told "no more" may go on.
  body_pipe(std::size_t capacity, std::function<void()> wake);
  // Replaces the waker; only before the handler starts reading.
  void set_wake(std::function<void()> wake) { wake_ = std::move(wake); }

  // The connection's side.
  void push(char const* data, std::size_t size);
  // True while there is room and the reader still reads; false also registers for a wake-up.
  bool wants_more();
  void finish();              // the body is complete
  void fail(error_code why);  // the body ends with this error (see body_reader::read)

  // The handler's side.
  result<std::size_t> read(std::span<char> into) override;
  // The handler returned: nothing more is read; the connection stops waiting for room.
  void close_reader();

 private:
  std::mutex m_;
  std::condition_variable readable_;
  std::string buf_;  // unread bytes: buf_[head_, size())
  std::size_t head_ = 0;
  std::size_t capacity_;
  bool complete_ = false;
  error_code error_;
  bool reader_closed_ = false;
  bool writer_waiting_ = false;
  std::function<void()> wake_;
};

}  // namespace bbgw::http

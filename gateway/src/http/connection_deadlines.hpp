#pragma once

#include <algorithm>
#include <chrono>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

namespace bbgw::http {

// Read, write, idle and handshake deadlines of the connections of one io_context that exactly
// one thread runs. Instead of a timer operation per read and per write (what Beast's
// tcp_stream does: a timer-queue insert and removal, clock reads and often a timerfd update
// for every I/O), a deadline is a time point stored in the connection's entry, and one timer
// per io_context ticks while it has connections, closing the socket of each connection whose
// deadline has passed (as Beast's tcp_stream does): the pending operation ends with
// operation_aborted, any later one fails at once, and `expired` tells the session that it was a
// timeout. Closing rather than cancelling matters: a tick can come while the completion of a
// partial write is queued and nothing is pending on the socket, and the composed operation would
// then go on unbounded.
//
// Precision is one tick either way: deadlines are set from the time of the last tick (no
// clock read per operation) and found at the next tick. The tick is a fraction of the shortest
// configured timeout, so a 30 s read timeout is kept to within a quarter of a second and a
// 300 ms one to within 30 ms.
//
// Everything here runs on the io_context's thread; nothing is locked.
class connection_deadlines {
 public:
  using clock = std::chrono::steady_clock;

  // One connection's deadline; registered for the connection's lifetime.
  class entry {
   public:
    explicit entry(connection_deadlines& owner, boost::asio::ip::tcp::socket& sock)
        : owner_(owner), sock_(sock) {
      owner_.link(*this);
    }
    entry(entry const&) = delete;
    entry& operator=(entry const&) = delete;
    ~entry() { owner_.unlink(*this); }

    clock::time_point now() const { return owner_.now(); }
    void expires_after(clock::duration d) { expires_at(now() + d); }
    void expires_at(clock::time_point t) {
      at_ = t;
      expired_ = false;
    }
    // No deadline while the connection waits on something other than its peer (a handler).
    void clear() { expires_at(clock::time_point::max()); }
    // The connection's socket was closed because its deadline passed.
    bool expired() const noexcept { return expired_; }

   private:
    friend class connection_deadlines;
    connection_deadlines& owner_;
    boost::asio::ip::tcp::socket& sock_;
    clock::time_point at_ = clock::time_point::max();
    bool expired_ = false;
    entry* prev_ = nullptr;
    entry* next_ = nullptr;
  };

  connection_deadlines(boost::asio::io_context& ctx, clock::duration tick)
      : timer_(std::in_place, ctx), tick_(tick) {}
  connection_deadlines(connection_deadlines const&) = delete;
  connection_deadlines& operator=(connection_deadlines const&) = delete;

  // The time of the last tick while connections exist (the clock itself otherwise).
  clock::time_point now() const { return head_ ? now_ : clock::now(); }

  // Drops the timer before its io_context goes; entries may still unlink afterwards (frames
  // of connections destroyed with the io_context).
  void release_timer() { timer_.reset(); }

  // Tick length for the given shortest timeout: a tenth of it, between 5 ms and 250 ms.
  static clock::duration tick_for(clock::duration shortest) {
    using std::chrono::milliseconds;
    return std::clamp<clock::duration>(shortest / 10, milliseconds(5), milliseconds(250));
  }

 private:
  void link(entry& e) {
    bool const first = head_ == nullptr;
    e.next_ = head_;
    if (head_) head_->prev_ = &e;
    head_ = &e;
    if (first) {
      now_ = clock::now();
      arm();
    }
  }

  void unlink(entry& e) {
    if (e.prev_) e.prev_->next_ = e.next_;
    if (e.next_) e.next_->prev_ = e.prev_;
    if (head_ == &e) head_ = e.next_;
    e.prev_ = e.next_ = nullptr;
    // No connection left: stop ticking, so the io_context can run out of work.
    if (!head_ && timer_) timer_->cancel();
  }

  void arm() {
    if (!timer_) return;
    timer_->expires_at(now_ + tick_);
    timer_->async_wait([this](boost::system::error_code ec) {
      if (!ec) sweep();
    });
  }

  void sweep() {
    if (!head_) return;
    now_ = clock::now();
    for (entry* e = head_; e; e = e->next_) {
      if (e->expired_ || e->at_ > now_) continue;
      e->expired_ = true;
      boost::system::error_code ignored;
      e->sock_.close(ignored);
    }
    arm();
  }

  std::optional<boost::asio::steady_timer> timer_;
  clock::duration tick_;
  clock::time_point now_{};
  entry* head_ = nullptr;
};

}  // namespace bbgw::http

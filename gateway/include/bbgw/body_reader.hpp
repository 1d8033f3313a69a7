#pragma once
// A request body read while it arrives (routes with route::stream_body): the handler runs as
// soon as the header is in and pulls the body through this on its worker thread. The server
// reads from the client only as fast as the handler consumes, through a bounded buffer, so a
// large upload is neither held in memory nor written to a spool file first.
#include <cstddef>
#include <span>

#include "bbgw/result.hpp"

namespace bbgw {

class body_reader {
 public:
  // Blocks until bytes arrive; copies at most into.size() of them and returns how many (at
  // least one), or 0 once the whole body has been read. `into` must not be empty
  // (errc::invalid_argument). Errors, after which every read returns the same one:
  //   boost::system::errc::message_size        the body is larger than the route accepts
  //   boost::system::errc::connection_aborted  the client closed, reset, stopped sending within
  //                                            the read timeout, or broke the HTTP framing
  virtual result<std::size_t> read(std::span<char> into) = 0;

 protected:
  ~body_reader() = default;
};

}  // namespace bbgw

#pragma once
// A Beast request body that lives in memory or, for routes that ask for it, in a file: the
// server decides after routing, before the first body byte is read, so large uploads (AS4
// payloads) go to disk as they arrive instead of into memory, or — for routes that stream — to
// the handler through a body_pipe.
#include <cstdint>
#include <string>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

#include "http/body_pipe.hpp"

namespace bbgw::http {

struct spooling_body {
  struct value_type {
    std::string text;         // the body when not spooled
    boost::beast::file file;  // open (for writing) when spooled
    std::string pending;      // spooled bytes not yet written: the file gets large writes
    std::uint64_t spooled = 0;
    bool write_failed = false;  // the file refused bytes (disk full, quota)
    body_pipe* pipe = nullptr;  // set when the body is streamed to its handler
    std::uint64_t streamed = 0;
  };

  static std::uint64_t size(value_type const& v) {
    return v.pipe ? v.streamed : v.file.is_open() ? v.spooled : v.text.size();
  }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(boost::optional<std::uint64_t> const& length, boost::beast::error_code& ec) {
      ec = {};
      if (body_.pipe || body_.file.is_open() || !length) return;
      if (*length > body_.text.max_size()) {
        ec = boost::beast::http::error::buffer_overflow;
        return;
      }
      body_.text.reserve(static_cast<std::size_t>(*length));
    }

    template <class ConstBufferSequence>
    std::size_t put(ConstBufferSequence const& buffers, boost::beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto const b : boost::beast::buffers_range_ref(buffers)) {
        auto const* p = static_cast<char const*>(b.data());
        if (body_.pipe) {
          body_.pipe->push(p, b.size());
          body_.streamed += b.size();
        } else if (body_.file.is_open()) {
          // The socket hands over a few KiB at a time; one write per KiB-sized chunk made the
          // spool cost more than the whole AS4 processing. Writes go out in MiB blocks.
          if (body_.pending.capacity() < flush_at) body_.pending.reserve(flush_at + (64 << 10));
          body_.pending.append(p, b.size());
          body_.spooled += b.size();
          if (body_.pending.size() >= flush_at && !flush(ec)) return n;
        } else {
          body_.text.append(p, b.size());
        }
        n += b.size();
      }
      return n;
    }

    void finish(boost::beast::error_code& ec) {
      ec = {};
      if (body_.file.is_open()) flush(ec);
    }

   private:
    static constexpr std::size_t flush_at = std::size_t{1} << 20;

    // Writes every pending byte (a short write would lose bytes: loop until all are on disk).
    bool flush(boost::beast::error_code& ec) {
      char const* p = body_.pending.data();
      std::size_t left = body_.pending.size();
      while (left > 0) {
        std::size_t const w = body_.file.write(p, left, ec);
        if (ec) {
          body_.write_failed = true;
          return false;
        }
        p += w;
        left -= w;
      }
      body_.pending.clear();
      return true;
    }

    value_type& body_;
  };
};

}  // namespace bbgw::http

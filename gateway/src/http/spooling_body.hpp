#pragma once
// A Beast request body that lives in memory or, for routes that ask for it, in a file: the
// server decides after routing, before the first body byte is read, so large uploads (AS4
// payloads) go to disk as they arrive instead of into memory.
#include <cstdint>
#include <string>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/file.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional/optional.hpp>

namespace bbgw::http {

struct spooling_body {
  struct value_type {
    std::string text;         // the body when not spooled
    boost::beast::file file;  // open (for writing) when spooled
    std::uint64_t spooled = 0;
    bool write_failed = false;  // the file refused bytes (disk full, quota)
  };

  static std::uint64_t size(value_type const& v) {
    return v.file.is_open() ? v.spooled : v.text.size();
  }

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(boost::optional<std::uint64_t> const& length, boost::beast::error_code& ec) {
      ec = {};
      if (body_.file.is_open() || !length) return;
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
        if (body_.file.is_open()) {
          // A short write would lose bytes: write until all of this buffer is on disk.
          auto const* p = static_cast<char const*>(b.data());
          std::size_t left = b.size();
          while (left > 0) {
            std::size_t const w = body_.file.write(p, left, ec);
            if (ec) {
              body_.write_failed = true;
              return n;
            }
            p += w;
            left -= w;
            n += w;
            body_.spooled += w;
          }
        } else {
          body_.text.append(static_cast<char const*>(b.data()), b.size());
          n += b.size();
        }
      }
      return n;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

}  // namespace bbgw::http

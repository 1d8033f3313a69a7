#pragma once
// A std::streambuf over a request body the server streams to its handler (bbgw::body_reader),
// for the parsers that take a std::istream (multipart/form-data submissions). Reads go straight
// into the caller's buffer when they can; a read error ends the stream and is kept in error().
#include <array>
#include <memory>
#include <streambuf>

#include "bbgw/body_reader.hpp"

namespace bbgw::edelivery {

class body_streambuf final : public std::streambuf {
 public:
  explicit body_streambuf(body_reader& body) : body_(body) {}
  // Why the stream ended early (empty when it reached the body's end or has not ended).
  error_code error() const { return error_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (!buffer_) buffer_ = std::make_unique<std::array<char, 64 * 1024>>();
    auto n = pull(buffer_->data(), buffer_->size());
    if (n == 0) return traits_type::eof();
    setg(buffer_->data(), buffer_->data(), buffer_->data() + n);
    return traits_type::to_int_type(*gptr());
  }

  std::streamsize xsgetn(char* s, std::streamsize count) override {
    std::streamsize done = 0;
    if (auto const buffered = egptr() - gptr(); buffered > 0) {
      done = std::min(buffered, count);
      traits_type::copy(s, gptr(), static_cast<std::size_t>(done));
      gbump(static_cast<int>(done));
    }
    while (done < count) {
      auto n = pull(s + done, static_cast<std::size_t>(count - done));
      if (n == 0) break;
      done += static_cast<std::streamsize>(n);
    }
    return done;
  }

 private:
  std::size_t pull(char* into, std::size_t size) {
    if (ended_) return 0;
    auto n = body_.read({into, size});
    if (!n) error_ = n.error();
    if (!n || *n == 0) {
      ended_ = true;
      return 0;
    }
    return *n;
  }

  body_reader& body_;
  std::unique_ptr<std::array<char, 64 * 1024>> buffer_;
  error_code error_;
  bool ended_ = false;
};

}  // namespace bbgw::edelivery

#pragma once
// A request body as the HTTP server streams it to a handler (bbgw::body_reader): the bytes in
// pieces of at most `piece`, then the end — or `end`, an error, in its place (a client gone, a
// body over the limit).
#include <algorithm>
#include <cstring>
#include <string>

#include "bbgw/body_reader.hpp"

namespace bbgw::testing {

class piecewise_body final : public bbgw::body_reader {
 public:
  piecewise_body(std::string data, std::size_t piece, error_code end = {})
      : data_(std::move(data)), piece_(std::max<std::size_t>(piece, 1)), end_(end) {}

  result<std::size_t> read(std::span<char> into) override {
    if (into.empty()) return make_error_code(boost::system::errc::invalid_argument);
    if (pos_ == data_.size()) {
      if (end_) return end_;
      return std::size_t{0};
    }
    auto const n = std::min({into.size(), piece_, data_.size() - pos_});
    std::memcpy(into.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::size_t consumed() const { return pos_; }

 private:
  std::string data_;
  std::size_t piece_, pos_ = 0;
  error_code end_;
};

}  // namespace bbgw::testing

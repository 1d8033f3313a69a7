#pragma once
// Appends JSON text to a string as it is described — members and elements in the order given,
// commas placed — without building a boost::json value first. What the normaliser writes each
// entity's data with: most of an entity update is fixed keys and strings, plus subtrees of the
// parsed notification, which are serialised as they are.
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/serializer.hpp>
#include <boost/json/value.hpp>

namespace bbgw::context {

class json_text {
 public:
  explicit json_text(std::string& out) : out_(out) {}

  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // A member's key; its value (any of the calls below, or begin_*) follows.
  void key(std::string_view k);
  void string(std::string_view s);
  void null();
  void number(std::uint64_t n);
  // The same JSON as boost::json::serialize writes (numbers in the same form), member by member.
  void value(boost::json::value const& v);
  // Not from an object, array or string: that would copy it into a json::value first.
  void value(boost::json::object const&) = delete;
  void value(boost::json::array const&) = delete;
  void value(boost::json::string const&) = delete;
  // Text that is already JSON (one value, or with several members/elements when it is spliced
  // into an open object/array: then it must not start or end with a comma).
  void raw(std::string_view json);

  // `s` quoted and escaped as JSON (control characters, '"' and '\'); other bytes as they are.
  static void append_quoted(std::string& out, std::string_view s);

 private:
  void separate() {
    if (comma_) out_ += ',';
    comma_ = true;
  }
  void open(char c) {
    separate();
    out_ += c;
    comma_ = false;
  }
  void close(char c) {
    out_ += c;
    comma_ = true;
  }

  std::string& out_;
  bool comma_ = false;  // the next member or element needs a comma before it
  boost::json::serializer sr_;
};

}  // namespace bbgw::context

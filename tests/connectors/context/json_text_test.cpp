// json_text writes what boost::json reads back: every byte of a string survives its escaping,
// members and elements get their commas, parsed values are spliced in as they are.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "context/json_text.hpp"

namespace bbgw::context {
namespace {

namespace json = boost::json;

TEST(ContextJsonText, StringsSurviveEscapingByteForByte) {
  std::string every;  // all bytes below 0x80 (valid UTF-8 alone), then some UTF-8
  for (int c = 0; c < 0x80; ++c) every += static_cast<char>(c);
  every += "ελληνικά العربية \xF0\x9F\x98\x80";
  for (std::string_view s :
       {std::string_view{}, std::string_view("plain"),
        std::string_view("\"quoted\" and \\back\\slashed"), std::string_view(every)}) {
    std::string out;
    json_text::append_quoted(out, s);
    auto v = json::parse(out);
    ASSERT_TRUE(v.is_string()) << out;
    EXPECT_EQ(std::string_view(v.as_string()), s);
  }
  std::string out;
  json_text::append_quoted(out, std::string_view("a\0b\x1f\n", 5));
  EXPECT_EQ(out, R"("a\u0000b\u001f\n")");
}

TEST(ContextJsonText, CommasNestingAndSplicedValues) {
  auto const parsed = json::parse(R"({"v":[1,-2,"x",null,{"k":true}],"m":{}})");
  std::string out;
  json_text w(out);
  w.begin_object();
  w.key("a");
  w.begin_array();
  w.end_array();
  w.key("b");
  w.begin_array();
  w.number(0);
  w.number(18446744073709551615ull);
  w.null();
  w.string("s");
  w.begin_object();
  w.end_object();
  w.value(parsed);
  w.end_array();
  w.key("c");
  w.begin_object();
  w.raw(R"("x":1,"y":2)");  // members spliced into an open object
  w.key("z");
  w.number(3);
  w.end_object();
  w.key("d");
  w.raw("{}");
  w.key("e");
  w.begin_object();
  w.raw("");  // no members: no comma after it either
  w.key("f");
  w.null();
  w.end_object();
  w.end_object();
  EXPECT_EQ(out, R"({"a":[],"b":[0,18446744073709551615,null,"s",{},)"
                 R"({"v":[1,-2,"x",null,{"k":true}],"m":{}}],"c":{"x":1,"y":2,"z":3},"d":{},)"
                 R"("e":{"f":null}})");
  auto back = json::parse(out);
  EXPECT_EQ(back.at("b").at(5), parsed);
  EXPECT_EQ(back.at("c").at("z"), 3);
}

}  // namespace
}  // namespace bbgw::context

// header_list: ordered fields, case-insensitive lookup, set replaces every same-named field.
#include "bbgw/header_list.hpp"

#include <gtest/gtest.h>

namespace bbgw {
namespace {

TEST(iequals, compares_ascii_case_insensitively) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(iequals("a", "b"));
  // Only ASCII letters fold: '[' (0x5B) is not '{' (0x7B).
  EXPECT_FALSE(iequals("[", "{"));
}

TEST(header_list, get_is_case_insensitive_and_returns_the_first) {
  header_list h;
  h.add("Accept", "a");
  h.add("X-Thing", "one");
  h.add("x-thing", "two");
  EXPECT_EQ(h.get("X-THING"), "one");
  EXPECT_EQ(h.get("accept"), "a");
  EXPECT_FALSE(h.get("Missing").has_value());
  EXPECT_TRUE(h.contains("ACCEPT"));
  EXPECT_FALSE(h.contains("Accep"));
}

TEST(header_list, set_replaces_every_field_of_that_name_keeping_position) {
  header_list h;
  h.add("A", "1");
  h.add("Cache-Control", "x");
  h.add("B", "2");
  h.add("cache-control", "y");
  h.set("CACHE-CONTROL", "no-store");
  ASSERT_EQ(h.size(), 3u);
  std::vector<header_list::field> fields(h.begin(), h.end());
  EXPECT_EQ(fields[0].first, "A");
  EXPECT_EQ(fields[1], (header_list::field{"Cache-Control", "no-store"}));
  EXPECT_EQ(fields[2].first, "B");
  EXPECT_EQ(h.get("cache-control"), "no-store");
}

TEST(header_list, set_appends_when_absent) {
  header_list h;
  h.add("A", "1");
  h.set("B", "2");
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h.get("b"), "2");
}

}  // namespace
}  // namespace bbgw

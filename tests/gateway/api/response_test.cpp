// response factories: text, json, and RFC 9457 problem details.
#include "bbgw/response.hpp"

#include <gtest/gtest.h>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

namespace bbgw {
namespace {

TEST(response, text_sets_status_body_and_content_type) {
  auto r = response::text(201, "hello");
  EXPECT_EQ(r.status, 201u);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.headers.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(response::text(200, "", "text/csv").headers.get("Content-Type"), "text/csv");
}

TEST(response, json_serialises_the_value) {
  auto r = response::json(200, boost::json::object{{"a", 1}, {"b", "x"}});
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  auto v = boost::json::parse(r.body);
  EXPECT_EQ(v.at("a").as_int64(), 1);
  EXPECT_EQ(v.at("b").as_string(), "x");
}

TEST(response, problem_has_rfc9457_shape) {
  auto r = response::problem(404, "no such thing");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  auto o = boost::json::parse(r.body).as_object();
  EXPECT_EQ(o.at("type").as_string(), "about:blank");
  EXPECT_EQ(o.at("title").as_string(), "Not Found");  // reason phrase for about:blank
  EXPECT_EQ(o.at("status").to_number<int>(), 404);
  EXPECT_EQ(o.at("detail").as_string(), "no such thing");
  EXPECT_EQ(o.size(), 4u);
}

TEST(response, problem_uses_given_title_and_type) {
  auto r = response::problem(422, "bad field \"x\"", "Invalid input",
                             "https://bbgw.example/problems/invalid");
  auto o = boost::json::parse(r.body).as_object();
  EXPECT_EQ(o.at("type").as_string(), "https://bbgw.example/problems/invalid");
  EXPECT_EQ(o.at("title").as_string(), "Invalid input");
  EXPECT_EQ(o.at("detail").as_string(), "bad field \"x\"");  // escaped, round-trips
}

TEST(response, problem_titles_follow_rfc9110_reason_phrases) {
  auto title = [](unsigned s) {
    return std::string(boost::json::parse(response::problem(s, "d").body).at("title").as_string());
  };
  EXPECT_EQ(title(400), "Bad Request");
  EXPECT_EQ(title(405), "Method Not Allowed");
  EXPECT_EQ(title(413), "Content Too Large");
  EXPECT_EQ(title(431), "Request Header Fields Too Large");
  EXPECT_EQ(title(500), "Internal Server Error");
  EXPECT_EQ(title(503), "Service Unavailable");
}

TEST(response, problem_omits_empty_detail) {
  auto o = boost::json::parse(response::problem(500, "").body).as_object();
  EXPECT_FALSE(o.contains("detail"));
}

}  // namespace
}  // namespace bbgw

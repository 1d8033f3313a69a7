// The router: literal and {param} segments, literal precedence, 404/405 with Allow,
// percent-decoding of parameters, and startup errors for ambiguous or malformed routes.
#include "http/router.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace bbgw::http {
namespace {

bbgw::route rt(std::vector<std::string> methods, std::string pattern) {
  bbgw::route r;
  r.methods = std::move(methods);
  r.pattern = std::move(pattern);
  r.handle = [](bbgw::request const&) { return bbgw::response{}; };
  return r;
}

TEST(router, matches_literal_path_and_method) {
  router r;
  r.add(rt({"GET"}, "/healthz"));
  auto m = r.match("GET", "/healthz");
  ASSERT_EQ(m.outcome, match_result::kind::matched);
  EXPECT_EQ(m.matched->pattern, "/healthz");
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(m.status(), 200u);
}

TEST(router, root_pattern_matches_only_root) {
  router r;
  r.add(rt({"GET"}, "/"));
  EXPECT_EQ(r.match("GET", "/").outcome, match_result::kind::matched);
  EXPECT_EQ(r.match("GET", "/x").outcome, match_result::kind::not_found);
}

TEST(router, binds_parameters_in_pattern_order) {
  router r;
  r.add(rt({"GET"}, "/api/v1/things/{id}/parts/{part}"));
  auto m = r.match("GET", "/api/v1/things/42/parts/wheel");
  ASSERT_EQ(m.outcome, match_result::kind::matched);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"id", "42"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"part", "wheel"}));
}

TEST(router, parameter_is_exactly_one_nonempty_segment) {
  router r;
  r.add(rt({"GET"}, "/things/{id}"));
  EXPECT_EQ(r.match("GET", "/things/1/2").outcome, match_result::kind::not_found);
  EXPECT_EQ(r.match("GET", "/things/").outcome, match_result::kind::not_found);
  EXPECT_EQ(r.match("GET", "/things").outcome, match_result::kind::not_found);
}

TEST(router, trailing_slash_is_a_different_path) {
  router r;
  r.add(rt({"GET"}, "/a"));
  EXPECT_EQ(r.match("GET", "/a/").outcome, match_result::kind::not_found);
}

TEST(router, percent_decodes_parameters_without_splitting_on_encoded_slash) {
  router r;
  r.add(rt({"GET"}, "/files/{name}"));
  auto m = r.match("GET", "/files/a%2Fb%20c%C3%A9");
  ASSERT_EQ(m.outcome, match_result::kind::matched);
  EXPECT_EQ(m.params.at(0).second, "a/b c\xC3\xA9");
}

TEST(router, literal_segments_compare_decoded) {
  router r;
  r.add(rt({"GET"}, "/things"));
  EXPECT_EQ(r.match("GET", "/th%69ngs").outcome, match_result::kind::matched);
}

TEST(router, invalid_percent_encoding_matches_nothing) {
  router r;
  r.add(rt({"GET"}, "/files/{name}"));
  EXPECT_EQ(r.match("GET", "/files/a%zz").outcome, match_result::kind::not_found);
  EXPECT_EQ(r.match("GET", "/files/a%2").outcome, match_result::kind::not_found);
  EXPECT_EQ(r.match("GET", "/files/%").outcome, match_result::kind::not_found);
}

TEST(router, literal_beats_parameter_regardless_of_order) {
  router r;
  r.add(rt({"GET"}, "/things/{id}"));
  r.add(rt({"GET"}, "/things/new"));
  auto lit = r.match("GET", "/things/new");
  ASSERT_EQ(lit.outcome, match_result::kind::matched);
  EXPECT_EQ(lit.matched->pattern, "/things/new");
  EXPECT_TRUE(lit.params.empty());
  auto par = r.match("GET", "/things/old");
  ASSERT_EQ(par.outcome, match_result::kind::matched);
  EXPECT_EQ(par.matched->pattern, "/things/{id}");
}

TEST(router, falls_back_to_parameter_when_literal_branch_dead_ends) {
  router r;
  r.add(rt({"GET"}, "/a/b/c"));
  r.add(rt({"GET"}, "/a/{x}/d"));
  auto m = r.match("GET", "/a/b/d");
  ASSERT_EQ(m.outcome, match_result::kind::matched);
  EXPECT_EQ(m.matched->pattern, "/a/{x}/d");
  EXPECT_EQ(m.params.at(0).second, "b");
}

TEST(router, falls_back_to_parameter_route_for_a_method_the_literal_lacks) {
  router r;
  r.add(rt({"POST"}, "/things/new"));
  r.add(rt({"GET"}, "/things/{id}"));
  auto m = r.match("GET", "/things/new");
  ASSERT_EQ(m.outcome, match_result::kind::matched);
  EXPECT_EQ(m.matched->pattern, "/things/{id}");
}

TEST(router, unknown_path_is_not_found) {
  router r;
  r.add(rt({"GET"}, "/a"));
  auto m = r.match("GET", "/b");
  EXPECT_EQ(m.outcome, match_result::kind::not_found);
  EXPECT_EQ(m.status(), 404u);
  EXPECT_EQ(m.matched, nullptr);
}

TEST(router, wrong_method_is_405_with_allow_list) {
  router r;
  r.add(rt({"GET", "HEAD"}, "/things/{id}"));
  r.add(rt({"DELETE"}, "/things/{key}"));
  auto m = r.match("POST", "/things/1");
  ASSERT_EQ(m.outcome, match_result::kind::method_not_allowed);
  EXPECT_EQ(m.status(), 405u);
  EXPECT_EQ(m.allow, "GET, HEAD, DELETE");
}

TEST(router, head_is_not_implied_by_get) {
  router r;
  r.add(rt({"GET"}, "/a"));
  auto m = r.match("HEAD", "/a");
  EXPECT_EQ(m.outcome, match_result::kind::method_not_allowed);
  EXPECT_EQ(m.allow, "GET");
}

TEST(router, methods_are_case_sensitive) {
  router r;
  r.add(rt({"GET"}, "/a"));
  EXPECT_EQ(r.match("get", "/a").outcome, match_result::kind::method_not_allowed);
}

TEST(router, duplicate_pattern_and_method_is_rejected) {
  router r;
  r.add(rt({"GET", "POST"}, "/things/{id}"));
  EXPECT_THROW(r.add(rt({"POST"}, "/things/{id}")), std::invalid_argument);
  // Same shape, different parameter name: still ambiguous.
  EXPECT_THROW(r.add(rt({"GET"}, "/things/{other}")), std::invalid_argument);
  // Same pattern with a new method is fine.
  EXPECT_NO_THROW(r.add(rt({"DELETE"}, "/things/{id}")));
  EXPECT_EQ(r.match("DELETE", "/things/1").outcome, match_result::kind::matched);
}

TEST(router, stream_body_needs_a_worker_handler_that_can_also_take_a_spooled_body) {
  router r;
  auto streaming = [](bool spool, bbgw::execution exec) {
    auto x = rt({"POST"}, "/upload");
    x.stream_body = true;
    x.spool_body = spool;
    x.exec = exec;
    return x;
  };
  EXPECT_THROW(r.add(streaming(false, bbgw::execution::worker)), std::invalid_argument);
  EXPECT_THROW(r.add(streaming(true, bbgw::execution::io)), std::invalid_argument);
  EXPECT_NO_THROW(r.add(streaming(true, bbgw::execution::worker)));
}

TEST(router, duplicate_error_names_the_pattern) {
  router r;
  r.add(rt({"GET"}, "/x"));
  try {
    r.add(rt({"GET"}, "/x"));
    FAIL() << "expected invalid_argument";
  } catch (std::invalid_argument const& e) {
    EXPECT_NE(std::string(e.what()).find("/x"), std::string::npos);
  }
}

TEST(router, malformed_routes_are_rejected) {
  router r;
  EXPECT_THROW(r.add(rt({"GET"}, "no-slash")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({"GET"}, "/a//b")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({"GET"}, "/a/{}")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({"GET"}, "/a/x{id}")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({"GET"}, "/a/{id}/{id}")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({}, "/a")), std::invalid_argument);
  EXPECT_THROW(r.add(rt({"get"}, "/a")), std::invalid_argument);
  auto no_handler = rt({"GET"}, "/a");
  no_handler.handle = nullptr;
  EXPECT_THROW(r.add(std::move(no_handler)), std::invalid_argument);
}

TEST(router, routes_keep_insertion_order_and_stable_addresses) {
  router r;
  r.add(rt({"GET"}, "/a"));
  auto first = r.match("GET", "/a").matched;
  for (int i = 0; i < 50; ++i) r.add(rt({"GET"}, "/r" + std::to_string(i)));
  EXPECT_EQ(r.match("GET", "/a").matched, first);
  auto all = r.routes();
  ASSERT_EQ(all.size(), 51u);
  EXPECT_EQ(all.front(), first);
}

TEST(percent_decode, decodes_and_rejects) {
  std::string out;
  EXPECT_TRUE(percent_decode("a%41%3d+b", out));
  EXPECT_EQ(out, "aA=+b");  // '+' is not a space in paths
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%G1", out));
}

}  // namespace
}  // namespace bbgw::http

// The HTTP server over real sockets on 127.0.0.1: keep-alive, request ids, limits, errors as
// problem JSON, execution on I/O threads and workers, timeouts, connection limit, shutdown.
#include "http/server.hpp"

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "http_test_support.hpp"

namespace bbgw::http {
namespace {

using namespace bbgw::testing;
using namespace std::chrono_literals;

bbgw::response hello(bbgw::request const&) {
  return bbgw::response::text(200, "hello");
}

std::string post_request(std::string_view target, std::string_view body,
                         std::string_view extra = {}) {
  std::string r = "POST ";
  r += target;
  r += " HTTP/1.1\r\nHost: localhost\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n";
  r += extra;
  r += "\r\n";
  r += body;
  return r;
}

bool is_hex32(std::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

void expect_problem(http_response const& r, unsigned status) {
  EXPECT_EQ(r.result_int(), status);
  EXPECT_EQ(r[boost::beast::http::field::content_type], "application/problem+json");
  auto v = json_body(r);
  auto const& o = v.as_object();
  EXPECT_EQ(o.at("type").as_string(), "about:blank");
  EXPECT_FALSE(o.at("title").as_string().empty());
  EXPECT_EQ(o.at("status").to_number<unsigned>(), status);
  EXPECT_TRUE(o.contains("detail"));
  // The request id travels as an extension member and matches the header.
  EXPECT_EQ(o.at("request_id").as_string(), r["X-Request-Id"]);
}

TEST(http_server, serves_two_requests_on_one_keep_alive_connection) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send(get_request("/hello")));
    auto r = c.read_response();
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ(r->body(), "hello");
    EXPECT_TRUE(r->keep_alive());
  }
  // Both on the same connection, which is still open.
  EXPECT_EQ(s.metrics.value("bbgw_http_open_connections"), 1);
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value(
               "bbgw_http_requests_total",
               {{"listener", "test"}, {"route", "/hello"}, {"method", "GET"}, {"status", "200"}}) ==
           2;
  }));
}

TEST(http_server, adds_server_headers_and_keeps_handler_cache_control) {
  running_server s(test_settings(),
                   {make_route({"GET"}, "/hello", hello),
                    make_route({"GET"}, "/cached", [](bbgw::request const&) {
                      auto r = bbgw::response::text(200, "c");
                      r.headers.add("Cache-Control", "max-age=60");
                      r.headers.add("Content-Length", "999");        // server owns framing
                      r.headers.add("X-Bad", "a\r\nInjected: yes");  // never split a response
                      return r;
                    })});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/hello")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["Server"], "bbgw");
  EXPECT_FALSE((*r)["Date"].empty());
  EXPECT_TRUE((*r)["Date"].ends_with(" GMT"));
  EXPECT_EQ((*r)["Content-Length"], "5");
  EXPECT_TRUE(is_hex32((*r)["X-Request-Id"]));
  EXPECT_EQ((*r)["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ((*r)["Cache-Control"], "no-store");

  ASSERT_TRUE(c.send(get_request("/cached")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)["Cache-Control"], "max-age=60");
  EXPECT_EQ((*r)["Content-Length"], "1");
  EXPECT_EQ(r->body(), "c");
  EXPECT_EQ(r->count("Injected"), 0u);
  EXPECT_EQ(r->count("X-Bad"), 0u);
}

TEST(http_server, honours_connection_close) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/hello", "Connection: close\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_within(2000ms));
}

TEST(http_server, closes_after_http10_request_without_keep_alive) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->version(), 10u);
  EXPECT_TRUE(c.closed_within(2000ms));
}

TEST(http_server, request_id_is_echoed_when_valid_and_generated_otherwise) {
  running_server s(test_settings(), {make_route({"GET"}, "/id", [](bbgw::request const& q) {
                     return bbgw::response::text(200, q.request_id);
                   })});
  test_client c(s.port());
  auto ask = [&](std::string_view extra) {
    EXPECT_TRUE(c.send(get_request("/id", extra)));
    auto r = c.read_response();
    EXPECT_TRUE(r);
    EXPECT_EQ(r->body(), (*r)["X-Request-Id"]);  // handler and header agree
    return std::string(r->body());
  };
  EXPECT_EQ(ask("X-Request-Id: abc-123.DEF_4:5\r\n"), "abc-123.DEF_4:5");
  auto generated = ask("");
  EXPECT_TRUE(is_hex32(generated)) << generated;
  EXPECT_NE(ask(""), generated);  // fresh per request
  auto bad = ask("X-Request-Id: has space\r\n");
  EXPECT_TRUE(is_hex32(bad)) << bad;
  EXPECT_TRUE(is_hex32(ask("X-Request-Id: " + std::string(129, 'a') + "\r\n")));
  EXPECT_EQ(ask("X-Request-Id: " + std::string(128, 'a') + "\r\n"), std::string(128, 'a'));
  EXPECT_TRUE(is_hex32(ask("X-Request-Id: a/b\r\n")));
}

TEST(http_server, malformed_request_gets_400_problem_and_close) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 400);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_within(2000ms));
  EXPECT_EQ(s.metrics.value("bbgw_http_bad_requests_total", {{"reason", "malformed"}}), 1);
  EXPECT_TRUE(s.log.contains(
      "bad request", {{"reason", "malformed"}, {"request_id", std::string((*r)["X-Request-Id"])}}));
}

TEST(http_server, garbage_request_line_gets_400) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send("\x16\x03\x01 garbage\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 400);
  EXPECT_TRUE(c.closed_within(2000ms));
}

TEST(http_server, missing_host_and_non_origin_target_are_400) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  {
    test_client c(s.port());
    ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    expect_problem(*r, 400);
  }
  {
    test_client c(s.port());
    ASSERT_TRUE(c.send("GET * HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    expect_problem(*r, 400);
    EXPECT_TRUE(c.closed_within(2000ms));
  }
  EXPECT_EQ(s.metrics.value("bbgw_http_bad_requests_total", {{"reason", "bad_target"}}), 1);
}

class body_limits : public ::testing::Test {
 protected:
  static http::server_settings settings() {
    auto st = test_settings();
    st.lim.body_limit = 1000;
    return st;
  }
  static bbgw::response size_of(bbgw::request const& q) {
    return bbgw::response::text(200, std::to_string(q.body.size()));
  }
  running_server s{settings(),
                   {make_route({"POST"}, "/small", size_of, bbgw::execution::io, 10),
                    make_route({"POST"}, "/big", size_of, bbgw::execution::worker, 5000),
                    make_route({"POST"}, "/default", size_of)}};
};

TEST_F(body_limits, body_within_route_limit_is_delivered) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/small", "0123456789")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "10");
}

TEST_F(body_limits, route_limit_below_default_refuses_with_413_and_closes) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/small", std::string(11, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 413);
  EXPECT_FALSE(r->keep_alive());
  EXPECT_TRUE(c.closed_within(2000ms));
  EXPECT_EQ(s.metrics.value("bbgw_http_bad_requests_total", {{"reason", "body_too_large"}}), 1);
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_requests_total", {{"listener", "test"},
                                                        {"route", "/small"},
                                                        {"method", "POST"},
                                                        {"status", "413"}}) == 1;
  }));
}

TEST_F(body_limits, route_limit_above_default_accepts_larger_bodies) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/big", std::string(3000, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "3000");
}

TEST_F(body_limits, default_limit_applies_without_route_limit) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/default", std::string(3000, 'x'))));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 413);
}

TEST_F(body_limits, chunked_body_over_the_limit_is_413) {
  test_client c(s.port());
  std::string req =
      "POST /small HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n";
  ASSERT_TRUE(c.send(req));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 413);
}

TEST_F(body_limits, expect_100_continue_gets_interim_response) {
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nExpect: "
             "100-continue\r\n\r\n"));
  // The body is sent only now; the final response follows the interim 100.
  ASSERT_TRUE(c.send("abcd"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "4");
}

TEST_F(body_limits, content_length_with_transfer_encoding_is_400_not_smuggled) {
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n"
             "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 400);
  EXPECT_TRUE(c.closed_within(2000ms));
}

TEST(http_server, oversized_header_gets_431_and_close) {
  auto st = test_settings();
  st.lim.header_limit = 1024;
  running_server s(st, {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/hello", "X-Big: " + std::string(2000, 'a') + "\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 431);
  EXPECT_TRUE(c.closed_within(2000ms));
  EXPECT_EQ(s.metrics.value("bbgw_http_bad_requests_total", {{"reason", "header_too_large"}}), 1);
  // Headers just under the limit are fine.
  test_client ok(s.port());
  ASSERT_TRUE(ok.send(get_request("/hello", "X-Big: " + std::string(800, 'a') + "\r\n")));
  auto r2 = ok.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 200u);
}

TEST(http_server, unknown_route_is_404_problem_json_and_keeps_connection) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/nope?x=1", "X-Request-Id: rid-404\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 404);
  auto v = json_body(*r);
  EXPECT_EQ(v.at("title").as_string(), "Not Found");
  EXPECT_EQ(v.at("request_id").as_string(), "rid-404");
  EXPECT_TRUE(r->keep_alive());
  // Still usable.
  ASSERT_TRUE(c.send(get_request("/hello")));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->result_int(), 200u);
  // Bounded label: route "unmatched", never the raw path.
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_requests_total", {{"listener", "test"},
                                                        {"route", "unmatched"},
                                                        {"method", "GET"},
                                                        {"status", "404"}}) == 1;
  }));
}

TEST(http_server, unknown_method_on_unknown_route_is_counted_as_other) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send("FROBNICATE /x HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 404u);
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_requests_total", {{"listener", "test"},
                                                        {"route", "unmatched"},
                                                        {"method", "other"},
                                                        {"status", "404"}}) == 1;
  }));
}

TEST(http_server, wrong_method_is_405_with_allow) {
  running_server s(test_settings(), {make_route({"GET", "HEAD"}, "/things/{id}", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/things/1", "")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 405);
  EXPECT_EQ((*r)["Allow"], "GET, HEAD");
}

TEST(http_server, head_is_served_only_when_the_route_lists_it) {
  running_server s(test_settings(), {make_route({"GET", "HEAD"}, "/with-head", hello),
                                     make_route({"GET"}, "/get-only", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send("HEAD /with-head HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ((*r)["Content-Length"], "5");
  EXPECT_TRUE(r->body().empty());
  // No body bytes were sent: the next response parses cleanly on the same connection.
  ASSERT_TRUE(c.send("HEAD /get-only HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  r = c.read_response(true);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 405u);
  EXPECT_EQ((*r)["Allow"], "GET");
  ASSERT_TRUE(c.send(get_request("/get-only")));
  r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "hello");
}

TEST(http_server, fills_the_request_view) {
  std::mutex m;
  std::optional<bbgw::request> seen;
  running_server s(test_settings(),
                   {make_route({"PUT"}, "/things/{id}/parts/{part}", [&](bbgw::request const& q) {
                     std::lock_guard lock(m);
                     seen = q;
                     return bbgw::response::text(204, "");
                   })});
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("PUT /things/a%20b/parts/7?x=1&y=%20 HTTP/1.1\r\nHost: localhost\r\nX-Custom: V\r\n"
             "Content-Length: 3\r\n\r\nabc"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 204u);
  EXPECT_EQ(r->count("Content-Length"), 0u);
  std::lock_guard lock(m);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->method, "PUT");
  EXPECT_EQ(seen->target, "/things/a%20b/parts/7?x=1&y=%20");
  EXPECT_EQ(seen->path, "/things/a%20b/parts/7");
  EXPECT_EQ(seen->query, "x=1&y=%20");
  EXPECT_EQ(seen->param("id"), "a b");
  EXPECT_EQ(seen->param("part"), "7");
  EXPECT_EQ(seen->header("x-custom"), "V");
  EXPECT_EQ(seen->header("host"), "localhost");
  EXPECT_EQ(seen->body, "abc");
  EXPECT_TRUE(seen->remote_address.starts_with("127.0.0.1:"));
  EXPECT_EQ(seen->listener, "test");
  EXPECT_FALSE(seen->tls);
  EXPECT_FALSE(seen->client_subject);
  EXPECT_FALSE(seen->client_certificate_der);
}

TEST(http_server, io_handlers_run_inline_and_worker_handlers_on_the_pool) {
  std::atomic<std::thread::id> io_thread{}, worker_thread{};
  // One I/O thread: the one running server::run(), so the I/O handler must run on it.
  running_server s(test_settings(1, 1), {make_route({"GET"}, "/io",
                                                    [&](bbgw::request const&) {
                                                      io_thread = std::this_thread::get_id();
                                                      return bbgw::response::text(200, "io");
                                                    }),
                                         make_route(
                                             {"GET"}, "/worker",
                                             [&](bbgw::request const&) {
                                               worker_thread = std::this_thread::get_id();
                                               return bbgw::response::text(200, "worker");
                                             },
                                             bbgw::execution::worker)});
  test_client c(s.port());
  for (auto path : {"/io", "/worker", "/io", "/worker"}) {
    ASSERT_TRUE(c.send(get_request(path)));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
    EXPECT_EQ("/" + r->body(), path);
  }
  EXPECT_EQ(io_thread.load(), s.run_thread_id.load());
  EXPECT_NE(worker_thread.load(), s.run_thread_id.load());
  EXPECT_NE(worker_thread.load(), std::thread::id{});
}

TEST(http_server, handler_exception_gives_500_and_is_logged_without_the_body) {
  running_server s(
      test_settings(),
      {make_route(
           {"POST"}, "/boom",
           [](bbgw::request const&) -> bbgw::response { throw std::runtime_error("kaput"); },
           bbgw::execution::worker),
       make_route({"POST"}, "/boom-io", [](bbgw::request const&) -> bbgw::response { throw 42; })});
  test_client c(s.port());
  ASSERT_TRUE(c.send(post_request("/boom", "SECRET-BODY", "X-Request-Id: rid-500\r\n")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 500);
  EXPECT_TRUE(s.log.contains("handler failed",
                             {{"request_id", "rid-500"}, {"route", "/boom"}, {"error", "kaput"}}));
  ASSERT_TRUE(c.send(post_request("/boom-io", "SECRET-BODY")));
  r = c.read_response();
  ASSERT_TRUE(r);
  expect_problem(*r, 500);
  EXPECT_FALSE(s.log.mentions("SECRET-BODY"));
}

TEST(http_server, slow_client_is_cut_by_read_timeout_while_others_are_served) {
  auto st = test_settings();
  st.lim.read_timeout = 1500ms;
  running_server s(st, {make_route({"GET"}, "/hello", hello)});

  std::atomic<bool> slow_done{false};
  std::atomic<long> slow_cut_ms{-1};
  std::thread slow([&] {
    test_client c(s.port());
    auto start = std::chrono::steady_clock::now();
    std::string req = get_request("/hello");
    for (char ch : req) {
      if (!c.send(std::string_view(&ch, 1))) break;
      // One byte a second; a close shows up as EOF/reset during the wait.
      if (c.closed_within(1000ms)) break;
    }
    slow_cut_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
    slow_done = true;
  });

  int served = 0;
  test_client fast(s.port());
  auto give_up = std::chrono::steady_clock::now() + 8s;
  while (!slow_done && std::chrono::steady_clock::now() < give_up) {
    ASSERT_TRUE(fast.send(get_request("/hello")));
    auto r = fast.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->result_int(), 200u);
    ++served;
    std::this_thread::sleep_for(50ms);
  }
  slow.join();
  ASSERT_TRUE(slow_done);
  EXPECT_GE(slow_cut_ms.load(), 1300);
  EXPECT_LE(slow_cut_ms.load(), 3500);
  EXPECT_GE(served, 10);  // served throughout the slow client's 1.5 s
  EXPECT_EQ(s.metrics.value("bbgw_http_timeouts_total", {{"phase", "read"}}), 1);
}

TEST(http_server, idle_keep_alive_connection_is_closed_by_idle_timeout) {
  auto st = test_settings();
  st.lim.idle_timeout = 300ms;
  running_server s(st, {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/hello")));
  ASSERT_TRUE(c.read_response());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.closed_within(3000ms));
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 250ms);
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_timeouts_total", {{"phase", "idle"}}) == 1 &&
           s.metrics.value("bbgw_http_open_connections") == 0;
  }));
}

TEST(http_server, connections_beyond_max_get_503_and_are_closed) {
  auto st = test_settings();
  st.lim.max_connections = 2;
  running_server s(st, {make_route({"GET"}, "/hello", hello)});
  auto a = std::make_unique<test_client>(s.port());
  test_client b(s.port());
  for (auto* c : {a.get(), &b}) {
    ASSERT_TRUE(c->send(get_request("/hello")));
    ASSERT_TRUE(c->read_response());
  }
  EXPECT_EQ(s.metrics.value("bbgw_http_open_connections"), 2);
  {
    test_client third(s.port());
    auto r = third.read_response();
    ASSERT_TRUE(r);
    expect_problem(*r, 503);
    EXPECT_TRUE(third.closed_within(2000ms));
  }
  EXPECT_EQ(
      s.metrics.value("bbgw_http_connections_rejected_total", {{"reason", "max_connections"}}), 1);
  // Existing connections keep working; once one closes, a new one is accepted.
  ASSERT_TRUE(b.send(get_request("/hello")));
  ASSERT_TRUE(b.read_response());
  a.reset();
  ASSERT_TRUE(eventually([&] { return s.metrics.value("bbgw_http_open_connections") == 1; }));
  test_client fourth(s.port());
  ASSERT_TRUE(fourth.send(get_request("/hello")));
  auto r = fourth.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
}

TEST(http_server, stop_lets_in_flight_request_finish_and_closes_idle_connections) {
  std::mutex m;
  std::condition_variable cv;
  bool handler_started = false;
  auto st = test_settings();
  st.lim.shutdown_grace = 5000ms;
  running_server s(st, {make_route({"GET"}, "/hello", hello),
                        make_route(
                            {"GET"}, "/slow",
                            [&](bbgw::request const&) {
                              {
                                std::lock_guard lock(m);
                                handler_started = true;
                              }
                              cv.notify_all();
                              std::this_thread::sleep_for(300ms);
                              return bbgw::response::text(200, "slow done");
                            },
                            bbgw::execution::worker)});
  test_client idle(s.port());
  ASSERT_TRUE(idle.send(get_request("/hello")));
  ASSERT_TRUE(idle.read_response());

  test_client busy(s.port());
  ASSERT_TRUE(busy.send(get_request("/slow")));
  {
    std::unique_lock lock(m);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return handler_started; }));
  }
  auto t0 = std::chrono::steady_clock::now();
  s.stop();
  // The idle keep-alive connection is closed at once, well before the slow handler ends.
  EXPECT_TRUE(idle.closed_within(2000ms));
  auto r = busy.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), "slow done");
  EXPECT_FALSE(r->keep_alive());  // no more requests on a stopping server
  s.stop_and_join();
  EXPECT_TRUE(s.returned());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // did not wait for the grace period
  // No longer accepting.
  EXPECT_THROW(
      {
        test_client late(s.port());
        if (!late.send(get_request("/hello")) || !late.read_response(false, 500ms))
          throw std::runtime_error("refused");
      },
      std::runtime_error);
}

TEST(http_server, stop_closes_connections_left_after_the_grace_period) {
  auto st = test_settings();
  st.lim.shutdown_grace = 200ms;
  st.lim.read_timeout = 10000ms;
  running_server s(st, {make_route({"GET"}, "/hello", hello)});
  test_client partial(s.port());
  ASSERT_TRUE(partial.send("GET /hello HTTP/1.1\r\n"));  // mid-request: not idle
  ASSERT_TRUE(eventually([&] { return s.metrics.value("bbgw_http_open_connections") == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  s.stop_and_join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(partial.closed_within(1000ms));
}

TEST(http_server, client_that_does_not_read_is_cut_by_write_timeout) {
  auto st = test_settings();
  st.lim.write_timeout = 300ms;
  // Far more than loopback socket buffers hold, so the write must stall.
  running_server s(st, {make_route({"GET"}, "/huge", [](bbgw::request const&) {
                     return bbgw::response::text(200, std::string(48 * 1024 * 1024, 'x'));
                   })});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/huge")));
  EXPECT_TRUE(eventually(
      [&] {
        return s.metrics.value("bbgw_http_timeouts_total", {{"phase", "write"}}) == 1;
      },
      5000ms));
  EXPECT_TRUE(
      eventually([&] { return s.metrics.value("bbgw_http_open_connections") == 0; }, 2000ms));
}

TEST(http_server, sigterm_shuts_the_server_down_gracefully) {
  running_server s(test_settings(), {make_route({"GET"}, "/hello", hello)});
  test_client c(s.port());
  // A served request proves run() is up, and with it the server's SIGINT/SIGTERM handler.
  ASSERT_TRUE(c.send(get_request("/hello")));
  ASSERT_TRUE(c.read_response());
  ASSERT_EQ(::raise(SIGTERM), 0);
  EXPECT_TRUE(eventually([&] { return s.returned(); }, 5000ms));
  EXPECT_TRUE(c.closed_within(1000ms));
  EXPECT_TRUE(s.log.contains("shutting down", {{"signal", "SIGTERM"}}));
}

TEST(http_server, stop_before_run_returns_promptly) {
  http::router r;
  r.add(make_route({"GET"}, "/hello", hello));
  fake_metrics metrics;
  fake_logger log;
  http::server srv(test_settings(), std::move(r), metrics, log);
  srv.start();
  srv.stop();
  srv.stop();  // idempotent
  srv.run();
  EXPECT_TRUE(log.contains("server stopped"));
}

TEST(http_server, start_logs_listening_and_reports_bound_ports) {
  auto st = test_settings();
  http::listener_settings second;
  second.name = "second";
  second.port = 0;
  st.listeners.push_back(second);
  running_server s(st, {make_route({"GET"}, "/hello", hello)});
  ASSERT_EQ(s.bound.size(), 2u);
  EXPECT_NE(s.bound[0].port, 0);
  EXPECT_NE(s.bound[0].port, s.bound[1].port);
  EXPECT_EQ(s.bound[1].name, "second");
  EXPECT_FALSE(s.bound[1].tls);
  EXPECT_TRUE(s.log.contains("listening", {{"listener", "second"},
                                           {"address", "127.0.0.1:" + std::to_string(s.port(1))},
                                           {"tls", "false"}}));
  test_client c(s.port(1));
  ASSERT_TRUE(c.send(get_request("/hello")));
  ASSERT_TRUE(c.read_response());
  EXPECT_TRUE(eventually([&] {
    return s.metrics.value("bbgw_http_requests_total", {{"listener", "second"},
                                                        {"route", "/hello"},
                                                        {"method", "GET"},
                                                        {"status", "200"}}) == 1;
  }));
  EXPECT_TRUE(eventually([&] {
    return s.metrics.observations("bbgw_http_request_duration_seconds", {{"route", "/hello"}}) == 1;
  }));
}

TEST(http_server, start_fails_naming_the_listener_when_the_port_is_taken) {
  running_server first(test_settings(), {make_route({"GET"}, "/hello", hello)});
  auto st = test_settings();
  st.listeners[0].name = "clash";
  st.listeners[0].port = first.port();
  http::router r;
  fake_metrics metrics;
  fake_logger log;
  http::server srv(st, std::move(r), metrics, log);
  try {
    srv.start();
    FAIL() << "expected runtime_error";
  } catch (std::runtime_error const& e) {
    EXPECT_NE(std::string(e.what()).find("clash"), std::string::npos) << e.what();
  }
}

TEST(http_server, start_fails_for_a_bad_address) {
  auto st = test_settings();
  st.listeners[0].name = "bad";
  st.listeners[0].address = "not-an-ip";
  fake_metrics metrics;
  fake_logger log;
  http::server srv(st, http::router{}, metrics, log);
  EXPECT_THROW(srv.start(), std::runtime_error);
}

TEST(http_server, pipelined_requests_are_answered_in_order) {
  running_server s(test_settings(), {make_route({"GET"}, "/echo/{x}", [](bbgw::request const& q) {
                     return bbgw::response::text(200, std::string(*q.param("x")));
                   })});
  test_client c(s.port());
  ASSERT_TRUE(c.send(get_request("/echo/1") + get_request("/echo/2") + get_request("/echo/3")));
  for (auto want : {"1", "2", "3"}) {
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body(), want);
  }
}

}  // namespace
}  // namespace bbgw::http

namespace bbgw::http {
namespace {
using namespace bbgw::testing;
using namespace std::chrono_literals;

bbgw::route async_route(std::string pattern, bbgw::async_handler h) {
  bbgw::route r;
  r.methods = {"GET"};
  r.pattern = std::move(pattern);
  r.handle_async = std::move(h);
  return r;
}

// Asynchronous handlers hold no thread while they wait: they respond later from any thread.
TEST(http_server_async, handler_responds_later_from_another_thread) {
  std::mutex m;
  std::vector<std::thread> responders;
  std::thread::id handler_thread;
  running_server s(test_settings(1, 1),
                   {async_route("/later", [&](bbgw::request const& q, bbgw::responder respond) {
                     std::lock_guard lock(m);
                     handler_thread = std::this_thread::get_id();
                     std::string id = q.request_id;  // the request stays valid until respond
                     responders.emplace_back([respond = std::move(respond), id] {
                       std::this_thread::sleep_for(50ms);
                       respond(bbgw::response::text(200, "later " + id.substr(0, 4)));
                     });
                   })});
  test_client a(s.port()), b(s.port());
  // Two requests in flight at once on a server with ONE I/O thread and ONE worker: both are
  // answered, so neither held a thread while waiting.
  ASSERT_TRUE(a.send("GET /later HTTP/1.1\r\nHost: x\r\nX-Request-Id: aaaa1111\r\n\r\n"));
  ASSERT_TRUE(b.send("GET /later HTTP/1.1\r\nHost: x\r\nX-Request-Id: bbbb2222\r\n\r\n"));
  auto ra = a.read_response();
  auto rb = b.read_response();
  ASSERT_TRUE(ra && rb);
  EXPECT_EQ(ra->body(), "later aaaa");
  EXPECT_EQ(rb->body(), "later bbbb");
  {
    std::lock_guard lock(m);
    EXPECT_EQ(handler_thread, s.run_thread_id);
  }
  for (auto& t : responders) t.join();
  // The connection stays usable after an asynchronous answer.
  ASSERT_TRUE(a.send("GET /later HTTP/1.1\r\nHost: x\r\nX-Request-Id: cccc3333\r\n\r\n"));
  auto rc = a.read_response();
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->body(), "later cccc");
  std::lock_guard lock(m);
  for (auto& t : responders)
    if (t.joinable()) t.join();
}

TEST(http_server_async, a_second_respond_is_ignored) {
  running_server s(test_settings(),
                   {async_route("/twice", [](bbgw::request const&, bbgw::responder respond) {
                     respond(bbgw::response::text(200, "first"));
                     respond(bbgw::response::text(500, "second"));
                   })});
  test_client c(s.port());
  ASSERT_TRUE(c.send("GET /twice HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "first");
  ASSERT_TRUE(c.send("GET /twice HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r2 = c.read_response();
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->body(), "first");
}

TEST(http_server_async, dropped_responder_and_throwing_handler_give_500) {
  running_server s(test_settings(),
                   {async_route("/drop", [](bbgw::request const&, bbgw::responder) {}),
                    async_route("/throw", [](bbgw::request const&, bbgw::responder) {
                      throw std::runtime_error("boom");
                    })});
  test_client c(s.port());
  for (auto const* path : {"/drop", "/throw"}) {
    ASSERT_TRUE(c.send(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->result_int(), 500u) << path;
  }
}

}  // namespace
}  // namespace bbgw::http

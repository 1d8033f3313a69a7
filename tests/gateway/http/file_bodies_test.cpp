// Large bodies without memory: routes that spool request bodies to files, and responses streamed
// from files (what AS4 payloads need), over real sockets.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>

#include <gtest/gtest.h>

#include "../../support/test_pki.hpp"
#include "http_test_support.hpp"

namespace bbgw::http {
namespace {

using namespace bbgw::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string post(std::string_view target, std::string_view body) {
  std::string r = "POST ";
  r += target;
  r +=
      " HTTP/1.1\r\nHost: localhost\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  r += body;
  return r;
}

bool empty_dir(fs::path const& p) {
  std::error_code ec;
  return !fs::exists(p, ec) || fs::is_empty(p, ec);
}

class file_bodies : public ::testing::Test {
 protected:
  temp_dir tmp;
  fs::path spool = tmp.path() / "spool";
  fs::path kept = tmp.path() / "kept.body";
  std::mutex m;
  std::string seen_body;  // what the spooling handler found in request::body
  std::optional<std::string> seen_file;
  std::string seen_content;
  unsigned seen_mode = 0;

  http::server_settings settings() {
    auto st = test_settings();
    st.lim.body_limit = 1024;  // the default stays small: only the spooling routes take more
    st.spool_dir = spool.string();
    return st;
  }
  bbgw::response inspect(bbgw::request const& q) {
    std::lock_guard lock(m);
    seen_body = q.body;
    seen_file = q.body_file;
    if (q.body_file) {
      seen_content = read_file(*q.body_file);
      struct stat sb {};
      if (::stat(q.body_file->c_str(), &sb) == 0) seen_mode = sb.st_mode & 0777;
    }
    return bbgw::response::text(200, std::to_string(seen_content.size()));
  }
  bbgw::route spooling(std::string pattern, bbgw::handler h, std::size_t limit) {
    auto r = make_route({"POST"}, std::move(pattern), std::move(h), bbgw::execution::worker, limit);
    r.spool_body = true;
    return r;
  }
  running_server s{settings(),
                   {spooling(
                        "/upload", [this](auto const& q) { return inspect(q); }, 8 << 20),
                    spooling(
                        "/keep",
                        [this](bbgw::request const& q) {
                          fs::rename(*q.body_file, kept);
                          return bbgw::response::text(201, "kept");
                        },
                        8 << 20),
                    make_route({"GET", "HEAD"}, "/download/{name}", [this](bbgw::request const& q) {
                      bbgw::response r;
                      r.headers.add("Content-Type", "application/octet-stream");
                      r.body_file = (tmp.path() / std::string(*q.param("name"))).string();
                      return r;
                    })}};
};

TEST_F(file_bodies, spooled_body_arrives_in_a_private_file_and_is_removed_afterwards) {
  auto const body = patterned(5 << 20);  // far above the 1 KiB default limit
  test_client c(s.port());
  ASSERT_TRUE(c.send(post("/upload", body)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ(r->body(), std::to_string(body.size()));
  std::lock_guard lock(m);
  EXPECT_TRUE(seen_body.empty());  // nothing held in memory
  ASSERT_TRUE(seen_file);
  EXPECT_EQ(fs::path(*seen_file).parent_path(), spool);
  EXPECT_TRUE(seen_content == body);
  EXPECT_EQ(seen_mode, 0600u);
  EXPECT_TRUE(eventually([&] { return empty_dir(spool); }));
}

TEST_F(file_bodies, chunked_spooled_body_is_reassembled) {
  test_client c(s.port());
  ASSERT_TRUE(
      c.send("POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "11");
  std::lock_guard lock(m);
  EXPECT_EQ(seen_content, "hello world");
}

TEST_F(file_bodies, an_empty_body_still_gets_an_empty_file) {
  test_client c(s.port());
  ASSERT_TRUE(c.send(post("/upload", "")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body(), "0");
  std::lock_guard lock(m);
  ASSERT_TRUE(seen_file);
  EXPECT_TRUE(seen_content.empty());
}

TEST_F(file_bodies, a_handler_keeps_the_body_by_renaming_the_file) {
  auto const body = patterned(300000);
  test_client c(s.port());
  ASSERT_TRUE(c.send(post("/keep", body)));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 201u);
  EXPECT_TRUE(read_file(kept.string()) == body);
  EXPECT_TRUE(empty_dir(spool));
}

TEST_F(file_bodies, spooled_body_over_the_route_limit_is_413_and_leaves_no_file) {
  test_client c(s.port());
  // Chunked, so the limit trips while the file is being written, not on Content-Length.
  c.send(chunked_upload("/upload", 9));  // the server may close before it has read everything
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 413u);
  EXPECT_TRUE(eventually([&] { return empty_dir(spool); }));
  std::lock_guard lock(m);
  EXPECT_FALSE(seen_file);  // the handler never ran
}

TEST_F(file_bodies, response_is_streamed_from_a_file_with_its_length) {
  auto const content = patterned(3 << 20);
  {
    std::ofstream out(tmp.file("payload.bin"), std::ios::binary);
    out << content;
  }
  test_client c(s.port());
  ASSERT_TRUE(c.send("GET /download/payload.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 200u);
  EXPECT_EQ((*r)[boost::beast::http::field::content_length], std::to_string(content.size()));
  EXPECT_TRUE(r->body() == content);
  // The connection stays usable: HEAD gives the same length and no body.
  ASSERT_TRUE(c.send("HEAD /download/payload.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto h = c.read_response(true);
  ASSERT_TRUE(h);
  EXPECT_EQ((*h)[boost::beast::http::field::content_length], std::to_string(content.size()));
  EXPECT_TRUE(h->body().empty());
}

TEST_F(file_bodies, a_response_file_that_cannot_be_read_is_a_500_problem) {
  test_client c(s.port());
  ASSERT_TRUE(c.send("GET /download/missing.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 500u);
  EXPECT_EQ((*r)[boost::beast::http::field::content_type], "application/problem+json");
  EXPECT_TRUE(s.log.contains("response file that cannot be read"));
}

TEST(file_bodies_spool_dir, unusable_spool_directory_gives_503_not_a_crash) {
  temp_dir tmp;
  {
    std::ofstream out(tmp.file("not-a-dir"));
    out << "x";
  }
  auto st = test_settings();
  st.spool_dir = tmp.file("not-a-dir") + "/spool";
  auto rt = make_route(
      {"POST"}, "/upload", [](auto const&) { return bbgw::response::text(200, ""); },
      bbgw::execution::worker, 1 << 20);
  rt.spool_body = true;
  running_server s(st, {rt});
  test_client c(s.port());
  ASSERT_TRUE(c.send(post("/upload", "abc")));
  auto r = c.read_response();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result_int(), 503u);
}

}  // namespace
}  // namespace bbgw::http

// The HTTP client sends a request body streamed from a file (client_request::body_file), for
// uploads too large to hold in memory (AS4 messages): the server sees exactly the file's bytes
// with its length, and an unreadable file is an error before anything is sent. A body pulled
// while it is made (client_request::body_stream) goes chunked: the server sees exactly its
// bytes; a failing body abandons the request, which the server never hands to its handler as
// a whole body.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "http/beast_client.hpp"
#include "http_test_support.hpp"
#include "support/piecewise_body.hpp"

namespace bbgw::http {
namespace {

using namespace bbgw::testing;
namespace fs = std::filesystem;

class client_body_file : public ::testing::Test {
 protected:
  client_body_file() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
  }
  ~client_body_file() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  bbgw::response record(bbgw::request const& q) {
    std::lock_guard lock(m_);
    ++calls_;
    seen_ = q.body;
    content_length_ = std::string(q.header("Content-Length").value_or(""));
    content_type_ = std::string(q.header("Content-Type").value_or(""));
    return bbgw::response::text(200, "got " + std::to_string(q.body.size()));
  }

  fs::path dir_ =
      fs::temp_directory_path() / ("bbgw-client-body-" + std::to_string(::getpid()) + "-" +
                                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::mutex m_;
  int calls_ = 0;
  std::string seen_, content_length_, content_type_;
  running_server s_{test_settings(),
                    {make_route(
                        {"POST"}, "/in", [this](bbgw::request const& q) { return record(q); },
                        bbgw::execution::worker, 8 << 20)}};
  std::string url() const { return "http://127.0.0.1:" + std::to_string(s_.port()) + "/in"; }
};

TEST_F(client_body_file, body_is_streamed_from_the_file_with_its_length) {
  auto const body = patterned((3 << 20) + 12345);  // several blocks and a partial last one
  auto file = dir_ / "body.bin";
  std::ofstream(file, std::ios::binary) << body;
  bbgw::client_request req;
  req.method = "POST";
  req.url = url();
  req.headers.set("Content-Type", "multipart/related; boundary=x");
  req.body_file = file.string();
  beast_client c;
  auto res = c.send(req);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, "got " + std::to_string(body.size()));
  std::lock_guard lock(m_);
  EXPECT_EQ(content_length_, std::to_string(body.size()));
  EXPECT_EQ(content_type_, "multipart/related; boundary=x");
  EXPECT_TRUE(seen_ == body);
}

TEST_F(client_body_file, an_empty_file_is_an_empty_body) {
  auto file = dir_ / "empty.bin";
  std::ofstream(file, std::ios::binary).close();
  bbgw::client_request req;
  req.method = "POST";
  req.url = url();
  req.body_file = file.string();
  beast_client c;
  auto res = c.send(req);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->body, "got 0");
  std::lock_guard lock(m_);
  EXPECT_EQ(content_length_, "0");
}

TEST_F(client_body_file, an_unreadable_file_is_an_error_and_nothing_is_sent) {
  bbgw::client_request req;
  req.method = "POST";
  req.url = url();
  req.body_file = (dir_ / "missing.bin").string();
  beast_client c;
  auto res = c.send(req);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), make_error_code(client_errc::body_file_unreadable));
  std::lock_guard lock(m_);
  EXPECT_EQ(calls_, 0);
}

TEST_F(client_body_file, a_body_pulled_while_it_is_made_is_sent_chunked) {
  auto const body = patterned((3 << 20) + 777);
  piecewise_body source(body, 100'003);  // pieces that do not line up with the client's blocks
  bbgw::client_request req;
  req.method = "POST";
  req.url = url();
  req.headers.set("Content-Type", "multipart/related; boundary=x");
  req.body_stream = &source;
  beast_client c;
  auto res = c.send(req);
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->status, 200u);
  EXPECT_EQ(res->body, "got " + std::to_string(body.size()));
  EXPECT_EQ(source.consumed(), body.size());
  std::lock_guard lock(m_);
  EXPECT_EQ(content_length_, "") << "chunked";
  EXPECT_TRUE(seen_ == body);
}

TEST_F(client_body_file, a_failing_body_abandons_the_request) {
  piecewise_body source(patterned(2 << 20), 65536, make_error_code(boost::system::errc::io_error));
  bbgw::client_request req;
  req.method = "POST";
  req.url = url();
  req.body_stream = &source;
  beast_client c;
  auto res = c.send(req);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error(), boost::system::errc::io_error) << res.error().message();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::lock_guard lock(m_);
  EXPECT_EQ(calls_, 0) << "the handler never saw a whole body";
}

}  // namespace
}  // namespace bbgw::http

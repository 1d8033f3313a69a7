// A std::istream over a body the server streams to the handler: character reads, block reads
// and the two mixed give the body's bytes in order; a failing body ends the stream with its error.
#include "edelivery/body_streambuf.hpp"

#include <istream>
#include <string>

#include <gtest/gtest.h>

#include "support/piecewise_body.hpp"

namespace bbgw::edelivery {
namespace {

using bbgw::testing::piecewise_body;

TEST(body_streambuf, lines_and_blocks_come_out_in_order_across_pieces) {
  std::string const text = "first line\r\nsecond line\r\n" + std::string(200000, 'b') + "tail";
  piecewise_body body(text, 7);
  body_streambuf buf(body);
  std::istream in(&buf);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));  // character by character: underflow
  EXPECT_EQ(line, "first line\r");
  EXPECT_EQ(in.get(), 's');
  std::string block(200000 + 12, '\0');  // "econd line\r\n" and the run of b's: xsgetn
  in.read(block.data(), static_cast<std::streamsize>(block.size()));
  ASSERT_EQ(in.gcount(), static_cast<std::streamsize>(block.size()));
  EXPECT_EQ(block.substr(0, 12), "econd line\r\n");
  EXPECT_EQ(block.find_first_not_of('b', 12), std::string::npos);
  std::string rest(100, '\0');
  in.read(rest.data(), 100);
  EXPECT_EQ(in.gcount(), 4);  // the body's end: a short last read
  EXPECT_EQ(rest.substr(0, 4), "tail");
  EXPECT_TRUE(in.eof());
  EXPECT_FALSE(buf.error());
}

TEST(body_streambuf, a_failing_body_ends_the_stream_and_keeps_the_error) {
  piecewise_body body("partial", 3, make_error_code(boost::system::errc::connection_aborted));
  body_streambuf buf(body);
  std::istream in(&buf);
  std::string got(64, '\0');
  in.read(got.data(), 64);
  EXPECT_EQ(in.gcount(), 7);
  EXPECT_EQ(got.substr(0, 7), "partial");
  EXPECT_EQ(buf.error(), make_error_code(boost::system::errc::connection_aborted));
  in.clear();
  EXPECT_EQ(in.get(), std::char_traits<char>::eof());  // and stays ended
}

}  // namespace
}  // namespace bbgw::edelivery

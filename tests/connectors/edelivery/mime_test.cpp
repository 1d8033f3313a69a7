// The multipart/related parser: boundaries, part headers, transfer encodings, limits, and the
// AS4.NET raw bodies (no outer Content-Type).
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/mime.hpp"

namespace bbgw::edelivery {
namespace {

std::string read_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string const ct =
    "multipart/related; type=\"application/soap+xml\"; boundary=\"b1\"; start=\"<root@x>\"";

std::string two_parts() {
  return "--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n"
         "--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <p1@x>\r\n"
         "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b1--\r\n";
}

TEST(mime, parses_parts_with_headers_and_base64) {
  auto m = parse_multipart(ct, two_parts());
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->parts.size(), 2u);
  EXPECT_EQ(m->root, 0u);
  EXPECT_EQ(m->parts[0].content, "<e/>");
  EXPECT_EQ(m->parts[1].content_id, "p1@x");
  EXPECT_EQ(m->parts[1].content, "hello");
  ASSERT_NE(m->find("cid:p1@x"), nullptr);
  EXPECT_EQ(m->find("cid:p2@x"), nullptr);
}

TEST(mime, binary_content_is_kept_byte_exact) {
  std::string bin("\0\r\n--b\r\n\xff", 9);
  std::string body =
      "--b1\r\nContent-Type: application/soap+xml\r\n\r\n<e/>\r\n--b1\r\n"
      "Content-ID: <p@x>\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
      bin + "\r\n--b1--";
  auto m = parse_multipart("multipart/related; boundary=b1", body);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->parts[1].content, bin);
}

TEST(mime, boundary_from_first_line_for_raw_bodies) {
  auto m = parse_multipart("", two_parts());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->boundary, "b1");
  EXPECT_EQ(m->parts.size(), 2u);
}

TEST(mime, as4net_vector_has_soap_root_and_two_attachments) {
  auto body = read_file(BBGW_SHARED_DIR "/fixtures/as4/as4net/signed_holodeck_message.as4");
  ASSERT_FALSE(body.empty());
  auto m = parse_multipart("", body);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->parts.size(), 3u);
  EXPECT_NE(m->parts[0].content.find("Envelope"), std::string::npos);
  // The attachments are gzip members.
  EXPECT_EQ(static_cast<unsigned char>(m->parts[1].content[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(m->parts[2].content[0]), 0x1f);
}

TEST(mime, refusals_name_the_problem) {
  EXPECT_EQ(parse_multipart("multipart/related", two_parts()).error(), errc::mime_no_boundary);
  EXPECT_EQ(parse_multipart("text/plain; boundary=b1", two_parts()).error(),
            errc::unsupported_media_type);
  EXPECT_EQ(parse_multipart("", "<e/>").error(), errc::mime_no_boundary);
  // No close delimiter.
  auto open = two_parts();
  open.resize(open.find("--b1--"));
  EXPECT_EQ(parse_multipart(ct, open).error(), errc::mime_malformed);
  // A header line without a colon.
  EXPECT_EQ(parse_multipart(ct, "--b1\r\nbroken\r\n\r\nx\r\n--b1--").error(), errc::mime_malformed);
  // Unsupported transfer encoding and bad base64.
  auto qp = two_parts();
  qp.replace(qp.find("base64"), 6, "quoted-printable");
  EXPECT_EQ(parse_multipart(ct, qp).error(), errc::mime_unsupported_encoding);
  auto bad = two_parts();
  bad.replace(bad.find("aGVsbG8="), 8, "aGVs*G8=");
  EXPECT_EQ(parse_multipart(ct, bad).error(), errc::mime_bad_base64);
  // start= names no part.
  auto other = ct;
  other.replace(other.find("root@x"), 6, "none@x");
  EXPECT_EQ(parse_multipart(other, two_parts()).error(), errc::mime_no_root);
  // Duplicate Content-ID.
  auto dup = two_parts();
  dup.replace(dup.find("p1@x"), 4, "root@x");
  EXPECT_EQ(parse_multipart(ct, dup).error(), errc::mime_duplicate_content_id);
}

TEST(mime, limits) {
  mime_limits l;
  l.max_total_bytes = 10;
  EXPECT_EQ(parse_multipart(ct, two_parts(), l).error(), errc::mime_too_large);
  l = {};
  l.max_parts = 1;
  EXPECT_EQ(parse_multipart(ct, two_parts(), l).error(), errc::mime_too_many_parts);
  l = {};
  l.max_header_bytes = 40;
  EXPECT_EQ(parse_multipart(ct, two_parts(), l).error(), errc::mime_header_too_large);
  l = {};
  l.max_header_lines = 1;
  EXPECT_EQ(parse_multipart(ct, two_parts(), l).error(), errc::mime_header_too_large);
}

TEST(mime, content_type_parameters) {
  auto c = content_type::parse(
      "Multipart/Related; type=\"application/soap+xml\";boundary=x;"
      " start=\"<a\\\"b>\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->media_type, "multipart/related");
  EXPECT_EQ(c->param("type"), "application/soap+xml");
  EXPECT_EQ(c->param("boundary"), "x");
  EXPECT_EQ(c->param("start"), "<a\"b>");
  EXPECT_FALSE(content_type::parse("nonsense"));
  EXPECT_FALSE(content_type::parse("a/b; x=\"open"));
}

TEST(mime, base64_is_strict) {
  EXPECT_EQ(base64_decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64_decode("aGVs\r\nbG8="), "hello");
  EXPECT_FALSE(base64_decode("aGVsbG8"));
  EXPECT_FALSE(base64_decode("aGVsbG9="));  // non-zero trailing bits
  EXPECT_FALSE(base64_decode("aG=sbG8="));
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
}

}  // namespace
}  // namespace bbgw::edelivery

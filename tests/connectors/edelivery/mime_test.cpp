// The multipart/related parser: boundaries, part headers, transfer encodings, limits, and the
// AS4.NET raw bodies (no outer Content-Type).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/mime.hpp"
#include "mime_samples.hpp"

namespace bbgw::edelivery {
namespace {

std::string read_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string const& ct = test::mime_ct;
using test::two_parts;

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

// scan_multipart over a file: parts located by offsets (delimiters found across the 1 MiB read
// chunks), only base64 parts decoded (into anonymous scratch files), the same parts as the
// in-memory parser.
TEST(mime, scan_of_a_file_locates_parts_by_offset) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  // Place the next delimiter so that it straddles the first 1 MiB chunk boundary.
  std::string const head =
      "--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n"
      "--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <big@x>\r\n\r\n";
  big.resize(1024 * 1024 - head.size() - 3);
  for (auto& c : big)
    if (c == '-') c = '+';  // no accidental delimiter
  std::string body =
      head + big + "\r\n--b1\r\nContent-ID: <b64@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      base64_encode("hello, large world") + "\r\n--b1--\r\n";
  auto dir =
      std::filesystem::temp_directory_path() / ("bbgw-mime-scan-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = (dir / "body").string();
  std::ofstream(file, std::ios::binary) << body;
  auto src = open_file_source(file);
  ASSERT_TRUE(src);
  auto sinks = directory_sinks(dir.string());
  auto m = scan_multipart(ct, *src, {}, *sinks);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->parts.size(), 3u);
  EXPECT_EQ(m->root, 0u);
  auto const* p = m->attachment("big@x");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->content.source, *src) << "located in the body, not copied";
  EXPECT_EQ(p->content.offset, head.size());
  EXPECT_EQ(p->content.length, big.size());
  auto const* b = m->attachment("b64@x");
  ASSERT_NE(b, nullptr);
  EXPECT_NE(b->content.source, *src) << "decoded into a scratch sink";
  EXPECT_EQ(read_all(b->content, 100, errc::mime_too_large).value(), "hello, large world");
  EXPECT_EQ(m->attachment("root@x"), nullptr) << "the root is not an attachment";
  // The in-memory parser sees the same.
  auto mem = parse_multipart(ct, body);
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->parts[1].content, big);
  // Scratch files are anonymous: nothing but the body in the directory.
  std::size_t n = 0;
  for (auto const& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 1u);
  // A truncated copy has no close delimiter; a bad base64 part is refused while decoding.
  std::ofstream(file, std::ios::binary | std::ios::trunc) << body.substr(0, body.size() - 9);
  auto cut = open_file_source(file);
  ASSERT_TRUE(cut);
  EXPECT_EQ(scan_multipart(ct, *cut, {}, *sinks).error(), errc::mime_malformed);
  auto bad = body;
  bad.replace(bad.rfind("\r\n--b1--") - 4, 1, "*");
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bad;
  auto badsrc = open_file_source(file);
  ASSERT_TRUE(badsrc);
  EXPECT_EQ(scan_multipart(ct, *badsrc, {}, *sinks).error(), errc::mime_bad_base64);
  std::filesystem::remove_all(dir);
}

TEST(mime, base64_decoder_fed_in_pieces_matches_the_whole) {
  std::string text = base64_encode("The quick brown fox jumps over the lazy dog!");
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    base64_decoder d;
    std::string out;
    ASSERT_TRUE(d.update(text.substr(0, cut), out));
    ASSERT_TRUE(d.update(text.substr(cut), out));
    EXPECT_TRUE(d.finish());
    EXPECT_EQ(out, "The quick brown fox jumps over the lazy dog!");
  }
  base64_decoder d;
  std::string out;
  EXPECT_TRUE(d.update("aGVsbG8", out));
  EXPECT_FALSE(d.finish()) << "not a multiple of four";
}

}  // namespace
}  // namespace bbgw::edelivery

// The multipart/related parser read front to back while the body arrives: the same parts,
// contents and refusals as the located parser (scan_multipart, through parse_multipart) for
// the AS4 vectors of other products and for every malformed shape, whatever the pieces the
// body arrives in — delimiters and the CR before them split across pieces and across the
// stream's 1 MiB buffer.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/mime_stream.hpp"
#include "mime_samples.hpp"

namespace bbgw::edelivery {
namespace {

// The body in pieces of at most `piece` bytes; `consumed` counts what was pulled.
struct pieces {
  std::string data;
  std::size_t piece;
  std::size_t consumed = 0;
  error_code end;  // returned instead of the end, when set

  result<std::size_t> operator()(std::span<char> into) {
    if (consumed == data.size()) {
      if (end) return end;
      return std::size_t{0};
    }
    auto n = std::min({into.size(), piece, data.size() - consumed});
    std::memcpy(into.data(), data.data() + consumed, n);
    consumed += n;
    return n;
  }
};

// Every part through mime_stream, with the root chosen as scan_multipart chooses it.
result<mime_message> streamed(std::string_view ct, pieces& in, mime_limits const& limits = {},
                              std::size_t buffer = 1024 * 1024) {
  auto s = mime_stream::open(
      ct, [&](std::span<char> b) { return in(b); }, limits, buffer);
  if (!s) return s.error();
  mime_message msg;
  for (;;) {
    auto p = s->next_part();
    if (!p) return p.error();
    if (!*p) break;
    mime_part part;
    part.content_id = (*p)->content_id;
    part.content_type = (*p)->content_type;
    part.transfer_encoding = (*p)->transfer_encoding;
    part.headers = (*p)->headers;
    auto n = s->read_content([&](std::span<char const> bytes) -> result<void> {
      part.content.append(bytes.data(), bytes.size());
      return {};
    });
    if (!n) return n.error();
    if (*n != part.content.size()) return errc::internal;
    msg.parts.push_back(std::move(part));
  }
  if (auto const& start = s->start()) {
    auto it = std::find_if(msg.parts.begin(), msg.parts.end(),
                           [&](mime_part const& p) { return p.content_id == *start; });
    if (it == msg.parts.end()) return errc::mime_no_root;
    msg.root = static_cast<std::size_t>(it - msg.parts.begin());
  }
  located_part root;
  root.content_type = msg.parts[msg.root].content_type;
  if (!is_soap_root(root)) return errc::mime_no_root;
  return msg;
}

// The same outcome as the located parser, for every piece size.
void expect_same(std::string_view ct, std::string const& body, mime_limits const& limits = {}) {
  auto want = parse_multipart(ct, body, limits);
  for (std::size_t piece :
       {std::size_t{1}, std::size_t{3}, std::size_t{61}, std::size_t{4096}, std::size_t{1} << 22}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    pieces in{body, piece};
    // Below 4 KiB pieces, the smallest buffer the limits allow: its end met again and again.
    auto got = streamed(ct, in, limits, piece < 4096 ? 1 : 1024 * 1024);
    ASSERT_EQ(got.has_value(), want.has_value())
        << (want ? got.error().message() : want.error().message());
    if (!want) {
      EXPECT_EQ(got.error(), want.error());
      continue;
    }
    EXPECT_EQ(in.consumed, body.size()) << "the epilogue is read to the end";
    EXPECT_EQ(got->root, want->root);
    ASSERT_EQ(got->parts.size(), want->parts.size());
    for (std::size_t i = 0; i < want->parts.size(); ++i) {
      EXPECT_EQ(got->parts[i].content_id, want->parts[i].content_id);
      EXPECT_EQ(got->parts[i].content_type, want->parts[i].content_type);
      EXPECT_EQ(got->parts[i].headers, want->parts[i].headers);
      EXPECT_EQ(got->parts[i].content, want->parts[i].content) << "part " << i;
    }
  }
}

std::string const& ct = test::mime_ct;
using test::two_parts;

TEST(mime_stream, the_as4_vectors_of_other_products_split_as_the_located_parser_splits_them) {
  std::size_t multipart = 0;
  for (auto const* name :
       {"as4net/as4-encrypted-signed-issuerserial.as4",
        "as4net/as4-encrypted-signed-keyidentifier.as4", "as4net/signed_holodeck_message.as4",
        "as4net/rssbus_message.as4", "as4net/receipt_with_invalid_signature.as4",
        "as4net/as4-soap-signed-message.txt"}) {
    SCOPED_TRACE(name);
    auto body = test::fixture(name);
    ASSERT_FALSE(body.empty());
    if (body.rfind("--", 0) != 0) continue;  // SOAP-only
    ++multipart;
    expect_same("", body);
  }
  for (auto const* name : {"phase4/helger.as4in", "phase4/governikus.as4in",
                           "phase4/dataport1.as4in", "phase4/dataport1-mustunderstand.as4in"}) {
    SCOPED_TRACE(name);
    auto dump = test::split_dump(test::fixture(name));
    if (dump.content_type.find("multipart/") == std::string::npos) continue;
    ++multipart;
    expect_same(dump.content_type, dump.body);
  }
  EXPECT_GE(multipart, 4u);
}

TEST(mime_stream, well_formed_shapes) {
  expect_same(ct, two_parts());
  expect_same("", two_parts());
  expect_same(ct, "preamble\r\n" + two_parts() + "epilogue, ignored\r\n");
  // LF line ends, an empty part, folded headers, transport padding after the delimiter.
  expect_same(ct,
              "--b1  \nContent-Type: application/soap+xml\nContent-ID: <root@x>\n\n<e/>\n"
              "--b1\nContent-ID:\n <e@x>\n\n\n--b1\r\nContent-ID: <cr@x>\r\n\r\n\r\r\n--b1--");
  // A CR inside the content is kept; only the one of the CRLF before a delimiter goes.
  expect_same(ct,
              "--b1\r\nContent-Type: text/xml\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\r\n"
              "--b1\r\nContent-ID: <p@x>\r\n\r\na\r\n--b\r\n--b1x\r\n\r\n--b1--\r\n");
}

TEST(mime_stream, refusals_are_the_located_parsers) {
  expect_same("multipart/related", two_parts());
  expect_same("text/plain; boundary=b1", two_parts());
  expect_same("", "<e/>");
  expect_same(ct, two_parts().substr(0, two_parts().size() - 8));  // no close delimiter
  expect_same(ct, "--b1\r\nbroken\r\n\r\nx\r\n--b1--");
  expect_same(ct, "no delimiter at all");
  expect_same(ct, "--b1--\r\n");
  expect_same(ct, "--b1\r\nContent-ID: <root@x>\r\nContent-Type: text/xml");  // cut in headers
  auto qp = two_parts();
  qp.replace(qp.find("base64"), 6, "quoted-printable");
  expect_same(ct, qp);
  auto bad = two_parts();
  bad.replace(bad.find("aGVsbG8="), 8, "aGVsbG8*");
  expect_same(ct, bad);
  // Bad base64 early in a part that never ends: malformed (the part is not even whole), also
  // when the bad bytes were read long before the body's end.
  auto unended = two_parts().substr(0, two_parts().find("aGVsbG8=")) +
                 "aGVs*G8=" + std::string(40 * 1024, 'A');
  expect_same(ct, unended);
  auto dup = two_parts();
  dup.replace(dup.find("p1@x"), 4, "root@x");
  expect_same(ct, dup);
  expect_same("multipart/related; boundary=b1; start=\"<none@x>\"", two_parts());
  auto not_soap = two_parts();
  not_soap.replace(not_soap.find("application/soap+xml"), 20, "application/pdf");
  expect_same("multipart/related; boundary=b1", not_soap);
  mime_limits small;
  small.max_total_bytes = 40;
  expect_same(ct, two_parts(), small);
  small = {};
  small.max_parts = 1;
  expect_same(ct, two_parts(), small);
  small = {};
  small.max_header_bytes = 20;
  expect_same(ct, two_parts(), small);
  small = {};
  small.max_header_lines = 1;
  expect_same(ct, two_parts(), small);
}

// Delimiters, and the CR before them, at every position around the 1 MiB buffer's end.
TEST(mime_stream, delimiters_across_the_buffer_boundary) {
  std::string const head =
      "--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n<e/>\r\n"
      "--b1\r\nContent-Type: application/octet-stream\r\nContent-ID: <big@x>\r\n\r\n";
  for (std::size_t k = 0; k < 14; ++k) {
    SCOPED_TRACE("k = " + std::to_string(k));
    std::string big(1024 * 1024 - head.size() - k, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
    for (auto& c : big)
      if (c == '-') c = '+';
    big.back() = '\r';  // a CR of the content, before the CRLF of the delimiter
    auto body = head + big + "\r\n--b1\r\nContent-ID: <c@x>\r\n\r\nx\r\n--b1--\r\n";
    pieces in{body, 1 << 22};
    auto got = streamed(ct, in);
    ASSERT_TRUE(got) << got.error().message();
    ASSERT_EQ(got->parts.size(), 3u);
    EXPECT_EQ(got->parts[1].content, big);
    EXPECT_EQ(got->parts[2].content, "x");
  }
}

// Large preamble, base64 part and epilogue across the buffer's end; a header window larger
// than the buffer; a header block cut off exactly at the window's end.
TEST(mime_stream, large_framing_and_limits_beyond_the_buffer) {
  std::string blob(1536 * 1024, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i)
    blob[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::string filler(1200 * 1024, 'p');
  expect_same(ct, filler +
                      "\r\n--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: "
                      "<root@x>\r\n\r\n<e/>\r\n--b1\r\nContent-ID: <p@x>\r\n"
                      "Content-Transfer-Encoding: base64\r\n\r\n" +
                      base64_encode(blob) + "\r\n--b1--\r\n" + filler);
  mime_limits wide;
  wide.max_header_bytes = 2 * 1024 * 1024;  // a window larger than the 1 MiB buffer
  expect_same(ct,
              "--b1\r\nContent-Type: application/soap+xml\r\nContent-ID: <root@x>\r\n\r\n"
              "<e/>\r\n--b1\r\nContent-ID: <p@x>\r\n\r\n" +
                  blob + "\r\n--b1--\r\n",
              wide);
  mime_limits narrow;
  narrow.max_header_bytes = 2000;
  std::size_t const window = std::string("--b1").size() + 1024 + narrow.max_header_bytes;
  for (std::size_t len = window - 2; len <= window + 2; ++len) {
    SCOPED_TRACE(len);
    std::string cut = "--b1\r\nX-Long: ";
    cut.resize(len, 'a');  // the header block never ends
    expect_same(ct, cut, narrow);
  }
}

TEST(mime_stream, the_bodys_own_errors_pass_through_and_a_skipped_part_is_read_past) {
  pieces cut{two_parts().substr(0, 70), 16, 0,
             make_error_code(boost::system::errc::connection_aborted)};
  auto got = streamed(ct, cut);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), boost::system::errc::connection_aborted);

  pieces in{two_parts(), 5};
  auto s = mime_stream::open(ct, [&](std::span<char> b) { return in(b); }, {});
  ASSERT_TRUE(s);
  auto root = s->next_part();
  ASSERT_TRUE(root && *root);
  auto second = s->next_part();  // the root's content skipped
  ASSERT_TRUE(second && *second);
  EXPECT_EQ((*second)->content_id, "p1@x");
  std::string content;
  ASSERT_TRUE(s->read_content([&](std::span<char const> b) -> result<void> {
    content.append(b.data(), b.size());
    return {};
  }));
  EXPECT_EQ(content, "hello");
  auto end = s->next_part();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
  // Everything pulled is still there to be spooled by a caller that must fall back.
  ASSERT_TRUE(s->read_from_first_delimiter());
  EXPECT_EQ(*s->read_from_first_delimiter(), two_parts());
}

}  // namespace
}  // namespace bbgw::edelivery

// receive() over a body read while it arrives: the interop vectors of other products give the
// same message, signature and payloads as over the located body, in pieces of any size; a root
// that is not the first part falls back to a spooled copy; the body's own failures (over the
// route's limit, the client gone) become the EBMS errors the route answers. The tampering and
// route tests run every refusal both ways (tampering_test.cpp, receive_route_test.cpp).
#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"
#include "support/piecewise_body.hpp"

namespace bbgw::edelivery {
namespace {

using bbgw::testing::piecewise_body;
using test::at;
using test::fixture;

class inbound_stream : public ::testing::Test {
 protected:
  xmlsec::key own_ = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  std::vector<xmlsec::key> partners_{
      test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").public_only(), own_.public_only()};
  inbound_options options_;
  std::string detail_;
  security_selector fixed_ = [this](messaging const&, std::string*) -> result<security_choice> {
    return security_choice{partners_, options_.security};
  };

  result<inbound_message> streamed(std::string_view ct, std::string const& body, std::size_t piece,
                                   sys_time when, error_code end = {}) {
    piecewise_body in(body, piece, end);
    auto m = receive(ct, in, options_, fixed_, &own_, when, &detail_);
    if (m) {
      EXPECT_EQ(in.consumed(), body.size()) << "read to the end";
    }
    return m;
  }

  // The same message as over the located body.
  static void expect_same(inbound_message const& got, inbound_message const& want) {
    EXPECT_EQ(got.envelope_bytes, want.envelope_bytes);
    EXPECT_EQ(got.security.is_signed, want.security.is_signed);
    EXPECT_EQ(got.security.signer_index, want.security.signer_index);
    EXPECT_EQ(got.security.decrypted_content_ids, want.security.decrypted_content_ids);
    ASSERT_EQ(got.security.signature.references.size(), want.security.signature.references.size());
    for (std::size_t i = 0; i < want.security.signature.references.size(); ++i)
      EXPECT_EQ(got.security.signature.references[i].digest_value,
                want.security.signature.references[i].digest_value);
    ASSERT_EQ(got.payloads.size(), want.payloads.size());
    for (std::size_t i = 0; i < want.payloads.size(); ++i) {
      EXPECT_EQ(got.payloads[i].content_id, want.payloads[i].content_id);
      EXPECT_EQ(got.payloads[i].mime_type, want.payloads[i].mime_type);
      EXPECT_EQ(got.payloads[i].compressed, want.payloads[i].compressed);
      EXPECT_EQ(got.payloads[i].size, want.payloads[i].size);
      EXPECT_EQ(got.payloads[i].sha256_hex, want.payloads[i].sha256_hex);
      EXPECT_EQ(got.payloads[i].data, want.payloads[i].data);
    }
  }
};

struct vector_case {
  char const* file;
  char const* when;
  bool decrypt;
};

TEST_F(inbound_stream, interop_vectors_give_the_located_result_in_pieces_of_any_size) {
  for (auto const& v :
       {vector_case{"as4net/as4-encrypted-signed-issuerserial.as4", "2018-12-19T08:56:26Z", true},
        vector_case{"as4net/as4-encrypted-signed-keyidentifier.as4", "2018-12-19T08:30:16Z", true},
        vector_case{"as4net/signed_holodeck_message.as4", "2018-01-24T16:12:22Z", false}}) {
    SCOPED_TRACE(v.file);
    auto body = fixture(v.file);
    auto want = receive("", body, options_, partners_, &own_, at(v.when), &detail_);
    ASSERT_TRUE(want) << detail_;
    ASSERT_EQ(want->payloads.size(), 2u);
    EXPECT_EQ(want->security.decrypted_content_ids.size(), v.decrypt ? 2u : 0u);
    for (std::size_t piece : {std::size_t{1}, std::size_t{577}, std::size_t{1} << 20}) {
      SCOPED_TRACE(piece);
      auto got = streamed("", body, piece, at(v.when));
      ASSERT_TRUE(got) << got.error().message() << ": " << detail_;
      expect_same(*got, *want);
    }
  }
}

TEST_F(inbound_stream, payloads_go_to_the_same_files_as_over_a_located_body) {
  auto body = fixture("as4net/as4-encrypted-signed-issuerserial.as4");
  auto dir = std::filesystem::temp_directory_path() /
             ("bbgw-inbound-stream-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "located");
  std::filesystem::create_directories(dir / "streamed");
  options_.payload_dir = (dir / "located").string();
  auto want = receive("", body, options_, partners_, &own_, at("2018-12-19T08:56:26Z"), &detail_);
  ASSERT_TRUE(want) << detail_;
  options_.payload_dir = (dir / "streamed").string();
  auto got = streamed("", body, 4096, at("2018-12-19T08:56:26Z"));
  ASSERT_TRUE(got) << detail_;
  expect_same(*got, *want);
  for (std::size_t i = 0; i < got->payloads.size(); ++i) {
    EXPECT_EQ(std::filesystem::path(got->payloads[i].file).parent_path(), dir / "streamed");
    EXPECT_EQ(std::filesystem::file_size(got->payloads[i].file), want->payloads[i].size);
  }
  // Only the payload files: the decrypted parts were anonymous scratch files.
  std::size_t n = 0;
  for (auto const& e : std::filesystem::directory_iterator(dir / "streamed")) {
    (void)e;
    ++n;
  }
  EXPECT_EQ(n, 2u);
  std::filesystem::remove_all(dir);
}

// The SOAP envelope placed after the attachments (named by `start`): read by spooling the body.
TEST_F(inbound_stream, a_root_after_the_attachments_is_received_through_a_spooled_copy) {
  auto body = fixture("as4net/as4-encrypted-signed-issuerserial.as4");
  auto eol = body.find("\r\n");
  auto const boundary = body.substr(2, eol - 2);
  auto const delimiter = "\r\n--" + boundary;
  std::vector<std::string> parts;  // each from after its delimiter line's "--boundary"
  std::size_t pos = 2 + boundary.size();
  for (;;) {
    auto next = body.find(delimiter, pos);
    ASSERT_NE(next, std::string::npos);
    parts.push_back(body.substr(pos, next - pos));
    pos = next + delimiter.size();
    if (body.compare(pos, 2, "--") == 0) break;
  }
  ASSERT_EQ(parts.size(), 3u);
  auto layout = parse_multipart("", body);
  ASSERT_TRUE(layout);
  std::string const root_id = layout->parts[layout->root].content_id;
  std::string reordered = "--" + boundary + parts[1] + delimiter + parts[2] + delimiter + parts[0] +
                          delimiter + "--\r\n";
  std::string const ct =
      "multipart/related; boundary=\"" + boundary + "\"; start=\"<" + root_id + ">\"";
  auto want = receive("", body, options_, partners_, &own_, at("2018-12-19T08:56:26Z"), &detail_);
  ASSERT_TRUE(want);
  auto located =
      receive(ct, reordered, options_, partners_, &own_, at("2018-12-19T08:56:26Z"), &detail_);
  ASSERT_TRUE(located) << detail_;
  auto got = streamed(ct, reordered, 1000, at("2018-12-19T08:56:26Z"));
  ASSERT_TRUE(got) << got.error().message() << ": " << detail_;
  EXPECT_EQ(got->payloads.size(), 2u);
  EXPECT_EQ(got->mime.root, 2u) << "the layout of the spooled copy";
  for (std::size_t i = 0; i < 2; ++i)
    EXPECT_EQ(got->payloads[i].sha256_hex, want->payloads[i].sha256_hex);
  // After a preamble larger than the stream's buffer too (left out of the spooled copy).
  auto preambled = std::string(1536 * 1024, 'x') + "\r\n" + reordered;
  auto far = streamed(ct, preambled, 64 * 1024, at("2018-12-19T08:56:26Z"));
  ASSERT_TRUE(far) << far.error().message() << ": " << detail_;
  EXPECT_EQ(far->payloads.at(1).sha256_hex, want->payloads[1].sha256_hex);
}

TEST_F(inbound_stream, the_bodys_failures_become_the_routes_errors) {
  auto body = fixture("as4net/as4-encrypted-signed-issuerserial.as4");
  auto half = body.substr(0, body.size() / 2);
  auto when = at("2018-12-19T08:56:26Z");
  auto over = streamed("", half, 4096, when, make_error_code(boost::system::errc::message_size));
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error(), errc::mime_too_large) << detail_;
  auto cut =
      streamed("", half, 4096, when, make_error_code(boost::system::errc::connection_aborted));
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error(), errc::delivery_failed) << detail_;
  EXPECT_EQ(detail_, "the message was cut off");
  // A body that just ends early is a MIME error, as over a located body.
  auto ended = streamed("", half, 4096, when);
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error(), errc::mime_malformed) << detail_;
  // Over the MIME size limit while it arrives.
  options_.mime.max_total_bytes = body.size() / 2;
  auto big = streamed("", body, 4096, when);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error(), errc::mime_too_large);
}

TEST_F(inbound_stream, soap_only_messages_and_their_limits) {
  auto body = fixture("as4net/8.1.21-message.xml");
  auto when = at("2018-02-05T09:33:46Z");
  auto want = receive("application/soap+xml", body, options_, partners_, nullptr, when, &detail_);
  piecewise_body in(body, 333);
  auto got = receive("application/soap+xml", in, options_, fixed_, nullptr, when, &detail_);
  ASSERT_EQ(got.has_value(), want.has_value()) << detail_;
  if (want) {
    expect_same(*got, *want);
  } else {
    EXPECT_EQ(got.error(), want.error());
  }
  options_.xml.max_bytes = body.size() - 1;
  auto over_xml = streamed("application/soap+xml", body, 333, when);
  ASSERT_FALSE(over_xml);
  EXPECT_EQ(over_xml.error(), errc::soap_malformed);
  options_.mime.max_total_bytes = body.size() - 1;
  auto over_total = streamed("application/soap+xml", body, 333, when);
  ASSERT_FALSE(over_total);
  EXPECT_EQ(over_total.error(), errc::mime_too_large);
  EXPECT_EQ(streamed("text/plain", body, 333, when).error(), errc::unsupported_media_type);
}

}  // namespace
}  // namespace bbgw::edelivery

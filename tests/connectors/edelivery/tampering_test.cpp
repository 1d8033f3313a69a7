// Tampered copies (in memory) of the interop vectors: each is refused with the EBMS error the
// profile names, before any payload is returned.
#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"
#include "support/piecewise_body.hpp"

namespace bbgw::edelivery {
namespace {

using test::at;
using test::fixture;

// Each case both ways: the body located in memory, and read while it arrives (in pieces).
class tampering : public ::testing::TestWithParam<bool> {
 protected:
  result<inbound_message> get(std::string const& body, sys_time when) {
    if (!GetParam()) return receive("", body, options_, partners_, &own_, when, &detail_);
    security_selector fixed = [&](messaging const&, std::string*) -> result<security_choice> {
      return security_choice{partners_, options_.security};
    };
    bbgw::testing::piecewise_body streamed(body, 4093);
    return receive("", streamed, options_, fixed, &own_, when, &detail_);
  }

  xmlsec::key own_ = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  std::vector<xmlsec::key> partners_{
      test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").public_only(), own_.public_only()};
  inbound_options options_;
  std::string detail_;

  std::string code(std::string const& body, sys_time when) {
    auto m = get(body, when);
    EXPECT_FALSE(m) << "accepted";
    return m ? std::string("accepted") : std::string(ebms_error_for(m.error()).code);
  }
  std::string holodeck() { return fixture("as4net/signed_holodeck_message.as4"); }
  // The same without its wsse:Security header.
  std::string unsigned_holodeck() {
    auto b = holodeck();
    auto s = b.find("<wsse:Security");
    auto e = b.find("</wsse:Security>");
    if (s != std::string::npos && e != std::string::npos) b.erase(s, e + 16 - s);
    return b;
  }
  std::string encrypted() { return fixture("as4net/as4-encrypted-signed-issuerserial.as4"); }
  sys_time holodeck_time() { return at("2018-01-24T16:12:22Z"); }
  sys_time encrypted_time() { return at("2018-12-19T08:56:26Z"); }
  // Offset of the n-th attachment's content (n = 1, 2; part 0 is the SOAP envelope).
  std::size_t attachment(std::string const& body, int n) {
    std::size_t delimiter = 0;
    for (int i = 0; i < n; ++i) delimiter = body.find("--MIMEBoundary", delimiter + 1);
    EXPECT_NE(delimiter, std::string::npos);
    return body.find("\r\n\r\n", delimiter) + 4;
  }
};

TEST_P(tampering, untouched_vectors_are_accepted) {
  EXPECT_TRUE(get(holodeck(), holodeck_time())) << detail_;
  EXPECT_TRUE(get(encrypted(), encrypted_time())) << detail_;
}

TEST_P(tampering, flipped_byte_in_a_signed_payload_fails_authentication) {
  auto b = holodeck();
  b[attachment(b, 1) + 100] ^= 0x01;
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0101") << detail_;
}

TEST_P(tampering, flipped_byte_in_an_encrypted_payload_fails_decryption) {
  auto b = encrypted();
  b[attachment(b, 2) + 100] ^= 0x01;
  EXPECT_EQ(code(b, encrypted_time()), "EBMS:0102") << detail_;
}

TEST_P(tampering, changed_eb_messaging_fails_authentication) {
  auto b = holodeck();
  auto p = b.find("<eb3:Action>");
  ASSERT_NE(p, std::string::npos);
  b[p + 12] ^= 0x20;  // case of the action's first letter
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0101") << detail_;
}

TEST_P(tampering, changed_body_fails_authentication) {
  auto b = fixture("as4net/8.1.21-message.xml");
  auto p = b.rfind("/>");  // the empty Body
  ASSERT_NE(p, std::string::npos);
  b.replace(p, 2, "><x/></soapenv:Body>");
  EXPECT_EQ(code(b, at("2018-02-05T09:33:46Z")), "EBMS:0101") << detail_;
}

TEST_P(tampering, swapped_attachments_fail_authentication) {
  auto b = holodeck();
  auto m = parse_multipart("", b);
  ASSERT_TRUE(m);
  auto id1 = m->parts[1].content_id, id2 = m->parts[2].content_id;
  auto h1 = b.find("<" + id1 + ">"), h2 = b.find("<" + id2 + ">");
  ASSERT_NE(h1, std::string::npos);
  ASSERT_NE(h2, std::string::npos);
  ASSERT_EQ(id1.size(), id2.size());
  b.replace(h1 + 1, id1.size(), id2);
  b.replace(h2 + 1, id2.size(), id1);
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0101") << detail_;
}

TEST_P(tampering, removed_signature_is_policy_noncompliance) {
  auto b = holodeck();
  auto s = b.find("<ds:Signature");
  auto e = b.find("</ds:Signature>");
  ASSERT_NE(s, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  b.erase(s, e + 15 - s);
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0103") << detail_;
  EXPECT_EQ(detail_, "no ds:Signature in wsse:Security");
}

TEST_P(tampering, sha1_or_unknown_algorithms_are_policy_noncompliance) {
  auto b = holodeck();
  std::string const sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
  auto p = b.find(sha256);
  ASSERT_NE(p, std::string::npos);
  b.replace(p, sha256.size(), "http://www.w3.org/2000/09/xmldsig#sha1");
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0103") << detail_;
  auto c = holodeck();
  std::string const rsa_sha384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
  auto q = c.find(rsa_sha384);
  ASSERT_NE(q, std::string::npos);
  c.replace(q, rsa_sha384.size(), "http://www.w3.org/2000/09/xmldsig#rsa-sha1");
  EXPECT_EQ(code(c, holodeck_time()), "EBMS:0103") << detail_;
}

// wsu:Timestamp freshness at the fixture's injected clock: the holodeck vector carries no
// Timestamp, so one is added to its Security header (outside the signature, which still
// verifies): fresh → accepted; expired or created in the future beyond the skew → EBMS:0103.
TEST_P(tampering, timestamp_must_be_fresh_at_the_injected_clock) {
  auto with_timestamp = [&](std::string const& created, std::string const& expires) {
    auto b = holodeck();
    auto s = b.find("<wsse:Security");
    EXPECT_NE(s, std::string::npos);
    auto gt = b.find('>', s) + 1;
    b.insert(gt,
             "<wsu:Timestamp xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/"
             "oasis-200401-wss-wssecurity-utility-1.0.xsd\"><wsu:Created>" +
                 created + "</wsu:Created><wsu:Expires>" + expires +
                 "</wsu:Expires></wsu:Timestamp>");
    return b;
  };
  // holodeck_time() is 2018-01-24T16:12:22Z; the default skew is one minute.
  auto fresh = with_timestamp("2018-01-24T16:12:20.123Z", "2018-01-24T16:17:20Z");
  EXPECT_TRUE(get(fresh, holodeck_time())) << detail_;
  auto offset = with_timestamp("2018-01-24T17:12:50+01:00", "2018-01-24T17:17:20+01:00");
  EXPECT_TRUE(get(offset, holodeck_time())) << "Created 28 s ahead, within the skew: " << detail_;
  EXPECT_EQ(code(with_timestamp("2018-01-24T16:00:00Z", "2018-01-24T16:05:00Z"), holodeck_time()),
            "EBMS:0103");
  EXPECT_EQ(detail_, "wsu:Timestamp has expired");
  EXPECT_EQ(code(with_timestamp("2018-01-24T16:20:00Z", "2018-01-24T16:25:00Z"), holodeck_time()),
            "EBMS:0103");
  EXPECT_EQ(detail_, "wsu:Timestamp Created is in the future");
  EXPECT_EQ(code(with_timestamp("yesterday", "2018-01-24T16:25:00Z"), holodeck_time()),
            "EBMS:0103");
  EXPECT_EQ(detail_, "unreadable wsu:Created");
  // The skew is the policy's: none at all refuses what one minute allowed.
  options_.security.timestamp_skew = std::chrono::seconds(0);
  EXPECT_EQ(code(offset, holodeck_time()), "EBMS:0103");
  // Expired by 30 s: refused without skew, accepted with the default minute.
  auto just_expired = with_timestamp("2018-01-24T16:07:00Z", "2018-01-24T16:11:52Z");
  EXPECT_EQ(code(just_expired, holodeck_time()), "EBMS:0103");
  options_.security.timestamp_skew = std::chrono::seconds(60);
  EXPECT_TRUE(get(just_expired, holodeck_time())) << detail_;
}

TEST_P(tampering, malformed_mime_is_mime_inconsistency) {
  auto b = holodeck();
  b.resize(b.rfind("--MIMEBoundary"));  // no close delimiter
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0007") << detail_;
}

TEST_P(tampering, missing_cid_part_is_refused) {
  auto b = holodeck();
  auto m = parse_multipart("", b);
  ASSERT_TRUE(m);
  // Drop the second attachment (from its delimiter to the next one).
  auto start = b.rfind("--MIMEBoundary", attachment(b, 2));
  auto end = b.find("--MIMEBoundary", start + 1);
  b.erase(start, end - start);
  // The signature's cid: reference resolves to no part: ExternalPayloadError.
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0011") << detail_;
}

// A CipherReference naming no attachment (another id, or the SOAP root's): ExternalPayloadError,
// whether the parts were located first or arrived after the header.
TEST_P(tampering, cipher_reference_naming_no_attachment_is_refused) {
  auto const root_id = parse_multipart("", encrypted()).value().parts[0].content_id;
  for (std::string const& target : {std::string("nowhere@x"), root_id}) {
    SCOPED_TRACE(target);
    auto b = encrypted();
    auto at = b.find("CipherReference URI=\"cid:");
    ASSERT_NE(at, std::string::npos);
    at += std::string("CipherReference URI=\"cid:").size();
    b.replace(at, b.find('"', at) - at, target);
    EXPECT_EQ(code(b, encrypted_time()), "EBMS:0011") << detail_;
  }
}

TEST_P(tampering, unsigned_message_is_refused) {
  auto b = unsigned_holodeck();
  ASSERT_NE(b, holodeck());
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0103") << detail_;
}

// A PMode that encrypts without signing: attachments sent in the clear are refused even
// though there is no security header to look at.
TEST_P(tampering, plain_attachments_are_refused_where_encryption_is_required_without_signing) {
  auto b = unsigned_holodeck();
  ASSERT_NE(b, holodeck());
  options_.security.require_signature = false;
  EXPECT_TRUE(get(b, holodeck_time())) << "accepted without the encryption requirement";
  options_.security.require_encryption = true;
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0103") << detail_;
}

// A part without Content-ID is never named, even by a PartInfo that points into the SOAP Body
// (no href): refused, not silently left out.
TEST_P(tampering, a_part_without_content_id_is_refused) {
  auto b = unsigned_holodeck();
  ASSERT_NE(b, holodeck());
  options_.security.require_signature = false;  // unsigned: the signature cannot catch it
  auto pi = b.find("<eb3:PayloadInfo>");
  ASSERT_NE(pi, std::string::npos);
  b.insert(pi + 17, "<eb3:PartInfo/>");
  EXPECT_TRUE(get(b, holodeck_time())) << detail_;
  auto const dash = b.substr(0, b.find("\r\n"));  // "--" + the boundary
  b.insert(b.rfind(dash), dash + "\r\nContent-Type: text/plain\r\n\r\nnot named\r\n");
  EXPECT_EQ(code(b, holodeck_time()), "EBMS:0003") << detail_;
}

TEST_P(tampering, gzip_bomb_in_a_payload_is_decompression_failure) {
  // Signature checks come first; the decompression step itself is exercised on the model.
  auto bomb = gzip(std::string(8 * 1024 * 1024, 'A'));
  ASSERT_TRUE(bomb);
  mime_layout mime;
  mime.parts.resize(2);
  mime.parts[0].content = {memory_source("<e/>"), 0, 4};
  mime.parts[1].content_id = "p@x";
  mime.parts[1].content = {memory_source(*bomb), 0, bomb->size()};
  user_message um;
  part_info pi;
  pi.href = "cid:p@x";
  pi.content_id = "p@x";
  pi.properties = {{"MimeType", "", "application/xml"},
                   {"CompressionType", "", "application/gzip"}};
  um.parts.push_back(pi);
  auto sinks = memory_sinks();
  auto r = extract_payloads(um, mime, {}, *sinks, &detail_);
  ASSERT_FALSE(r);
  EXPECT_EQ(std::string(ebms_error_for(r.error()).code), "EBMS:0303");
  EXPECT_NE(detail_.find("ratio"), std::string::npos);
  // An extra part no PartInfo names.
  mime.parts.push_back(mime.parts[1]);
  mime.parts.back().content_id = "other@x";
  auto ok = gzip("<ok/>");
  mime.parts[1].content = {memory_source(*ok), 0, ok->size()};
  auto extra = extract_payloads(um, mime, {}, *sinks, &detail_);
  ASSERT_FALSE(extra);
  EXPECT_EQ(extra.error(), errc::unexpected_part);
}

INSTANTIATE_TEST_SUITE_P(delivery, tampering, ::testing::Values(false, true),
                         [](auto const& info) { return info.param ? "streamed" : "located"; });

}  // namespace
}  // namespace bbgw::edelivery

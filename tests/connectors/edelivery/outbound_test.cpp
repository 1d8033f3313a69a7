// The sending side's message builder against our own receiver: AccessPointA compresses, signs
// and encrypts three payloads for AccessPointB; B decrypts, verifies and decompresses them and
// answers a receipt that A checks against the references it signed (EBMS:0302 otherwise).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"
#include "edelivery/outbound.hpp"
#include "edelivery/signals.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::edelivery {
namespace {

class outbound : public ::testing::Test {
 protected:
  xmlsec::key a_ = test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  xmlsec::key b_ = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  std::vector<xmlsec::key> trust_a_{a_.public_only()};
  std::vector<xmlsec::key> trust_b_{b_.public_only()};
  sys_time now_ = test::at("2026-11-24T12:00:00Z");
  std::string detail_;

  outbound_spec spec() {
    outbound_spec s;
    s.header.info.timestamp = "2026-11-24T12:00:00Z";
    s.header.info.message_id = "m1@gw-a.test";
    s.header.from = {{{"urn:t", "gw-a"}}, "Sender"};
    s.header.to = {{{"urn:t", "gw-b"}}, "Receiver"};
    s.header.service = "Permits";
    s.header.service_type = "urn:services";
    s.header.action = "Submit";
    s.header.conversation_id = "conv-1";
    s.header.message_properties = {{"originalSender", "urn:t", "c1"},
                                   {"finalRecipient", "urn:t", "c4"}};
    s.payloads = {{"p1@gw-a.test", "application/xml", "<permit id=\"1\"/>", true},
                  {"p2@gw-a.test", "application/pdf", std::string(5000, '\x25'), true},
                  {"p3@gw-a.test", "text/plain", "plain, not compressed", false}};
    s.signing_key = &a_;
    s.recipient = &b_;
    return s;
  }
};

TEST_F(outbound, compressed_signed_encrypted_message_round_trips_with_a_checked_receipt) {
  auto s = spec();
  auto msg = build_user_message(s, &detail_);
  ASSERT_TRUE(msg) << detail_;
  EXPECT_EQ(msg->references.size(), 5u);  // Messaging, Body, 3 attachments
  EXPECT_EQ(msg->body.find("plain, not compressed"), std::string::npos) << "p3 is encrypted";

  inbound_options opt;
  opt.security.require_encryption = true;
  auto got = receive(msg->content_type, msg->body, opt, trust_a_, &b_, now_, &detail_);
  ASSERT_TRUE(got) << got.error().message() << ": " << detail_;
  EXPECT_EQ(got->security.decrypted_content_ids.size(), 3u);
  ASSERT_EQ(got->payloads.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(got->payloads[i].data, s.payloads[i].data);
    EXPECT_EQ(got->payloads[i].mime_type, s.payloads[i].mime_type);
  }
  auto const& um = got->ebms.user_messages.at(0);
  EXPECT_EQ(um.message_property("finalRecipient"), "c4");
  EXPECT_EQ(um.conversation_id, "conv-1");

  // B's receipt, checked by A.
  auto receipt_xml =
      build_receipt(um.info.message_id, got->security.signature, b_, {"r1@gw-b.test", now_});
  ASSERT_TRUE(receipt_xml);
  auto receipt =
      receive("application/soap+xml", *receipt_xml, {}, trust_b_, nullptr, now_, &detail_);
  ASSERT_TRUE(receipt) << detail_;
  EXPECT_TRUE(check_receipt(*receipt, "m1@gw-a.test", msg->references, &detail_)) << detail_;

  // A receipt for other references, or for another message, is EBMS:0302.
  auto other = msg->references;
  other.back().digest_value[0] ^= 0x01;
  auto bad = check_receipt(*receipt, "m1@gw-a.test", other, &detail_);
  ASSERT_FALSE(bad);
  EXPECT_EQ(std::string(ebms_error_for(bad.error()).code), "EBMS:0302");
  EXPECT_FALSE(check_receipt(*receipt, "m2@gw-a.test", msg->references));
}

TEST_F(outbound, an_independent_checker_decrypts_and_verifies_what_we_send) {
  // lxml + Python 'cryptography' (tests/connectors/edelivery/as4_check.py), no code shared.
  auto msg = build_user_message(spec(), &detail_);
  ASSERT_TRUE(msg) << detail_;
  auto file = std::filesystem::temp_directory_path() /
              ("bbgw-as4-out-" + std::to_string(::getpid()) + ".mime");
  std::ofstream(file, std::ios::binary) << msg->body;
  std::string const as4 = BBGW_SHARED_DIR "/fixtures/as4/as4net/";
  std::string cmd =
      "/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/connectors/edelivery/as4_check.py " +
      file.string() + " '" + msg->content_type + "' " + as4 +
      "AccessPointB.pfx Pz4cZK4SULUwmraZb " + as4 + "AccessPointA.pfx Pz4cZK4SULUwmraZa";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  // The checker is not a rubber stamp: a flipped ciphertext byte fails it.
  auto tampered = msg->body;
  tampered[tampered.rfind("--MIMEBoundary") - 10] ^= 0x01;
  std::ofstream(file, std::ios::binary | std::ios::trunc) << tampered;
  EXPECT_NE(std::system((cmd + " >/dev/null 2>&1").c_str()), 0);
  std::filesystem::remove(file);
}

TEST_F(outbound, signed_only_message_is_refused_where_encryption_is_required) {
  auto s = spec();
  s.recipient = nullptr;
  auto msg = build_user_message(s, &detail_);
  ASSERT_TRUE(msg) << detail_;
  EXPECT_NE(msg->body.find("plain, not compressed"), std::string::npos) << "p3 is in clear";
  inbound_options opt;
  auto ok = receive(msg->content_type, msg->body, opt, trust_a_, &b_, now_, &detail_);
  ASSERT_TRUE(ok) << detail_;
  opt.security.require_encryption = true;
  auto refused = receive(msg->content_type, msg->body, opt, trust_a_, &b_, now_, &detail_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::encryption_missing);
}

TEST_F(outbound, a_message_built_into_a_file_from_payload_files_round_trips) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("bbgw-as4-outfile-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Payload files of several read chunks each; one compressed, one sent as it is.
  std::string big(300 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 5);
  std::ofstream(dir / "p0", std::ios::binary) << big;
  std::ofstream(dir / "p1", std::ios::binary) << big.substr(1000);
  std::ofstream(dir / "p2", std::ios::binary).close();  // an empty payload
  auto s = spec();
  s.payloads = {{"f0@gw-a.test", "application/pdf", {}, true},
                {"f1@gw-a.test", "application/octet-stream", {}, false},
                {"f2@gw-a.test", "text/plain", {}, true}};
  for (std::size_t i = 0; i < 3; ++i)
    s.payloads[i].file = (dir / ("p" + std::to_string(i))).string();
  auto const out = (dir / "message").string();
  auto msg = build_user_message_file(s, out, &detail_);
  ASSERT_TRUE(msg) << detail_;
  EXPECT_TRUE(msg->body.empty());
  EXPECT_EQ(msg->body_file, out);
  EXPECT_EQ(msg->size, fs::file_size(out));
  std::size_t files = 0;
  for ([[maybe_unused]] auto const& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 4u) << "the compressed staging files are removed";

  std::ifstream in(out, std::ios::binary);
  std::string body(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(body.find(big.substr(5000, 64)), std::string::npos) << "encrypted";
  inbound_options opt;
  opt.security.require_encryption = true;
  auto got = receive(msg->content_type, body, opt, trust_a_, &b_, now_, &detail_);
  ASSERT_TRUE(got) << got.error().message() << ": " << detail_;
  ASSERT_EQ(got->payloads.size(), 3u);
  EXPECT_TRUE(got->payloads[0].data == big);
  EXPECT_TRUE(got->payloads[1].data == big.substr(1000));
  EXPECT_TRUE(got->payloads[2].data.empty());
  auto receipt_xml =
      build_receipt("m1@gw-a.test", got->security.signature, b_, {"r1@gw-b.test", now_});
  ASSERT_TRUE(receipt_xml);
  auto receipt =
      receive("application/soap+xml", *receipt_xml, {}, trust_b_, nullptr, now_, &detail_);
  ASSERT_TRUE(receipt) << detail_;
  EXPECT_TRUE(check_receipt(*receipt, "m1@gw-a.test", msg->references, &detail_)) << detail_;

  // The independent checker (lxml + cryptography) agrees.
  std::string const as4 = BBGW_SHARED_DIR "/fixtures/as4/as4net/";
  std::string cmd =
      "/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/connectors/edelivery/as4_check.py " + out + " '" +
      msg->content_type + "' " + as4 + "AccessPointB.pfx Pz4cZK4SULUwmraZb " + as4 +
      "AccessPointA.pfx Pz4cZK4SULUwmraZa >/dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;

  // A missing payload file fails the build and leaves no message file behind.
  s.payloads[0].file = (dir / "missing").string();
  EXPECT_FALSE(build_user_message_file(s, (dir / "message2").string(), &detail_));
  EXPECT_FALSE(fs::exists(dir / "message2"));
  EXPECT_FALSE(fs::exists(dir / "message2.partial"));
  fs::remove_all(dir);
}

// An uncompressed payload file whose SHA-256 the submission computed is signed with that digest,
// not read again for it; bytes changed on disk since then are refused by the receiver.
TEST_F(outbound, a_known_payload_digest_is_signed_and_bytes_changed_since_are_refused) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("bbgw-as4-known-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string const submitted(70000, 'k');
  std::ofstream(dir / "p0", std::ios::binary) << submitted;
  auto s = spec();
  s.payloads = {{"k0@gw-a.test", "application/octet-stream", {}, false}};
  s.payloads[0].file = (dir / "p0").string();
  s.payloads[0].sha256 = xmlsec::digest(submitted, xmlsec::uri::sha256).value();
  inbound_options opt;
  opt.security.require_encryption = true;
  auto build_and_receive = [&](std::string const& name) {
    auto const out = (dir / name).string();
    auto msg = build_user_message_file(s, out, &detail_);
    EXPECT_TRUE(msg) << detail_;
    std::ifstream in(out, std::ios::binary);
    std::string body(std::istreambuf_iterator<char>(in), {});
    auto got = receive(msg->content_type, body, opt, trust_a_, &b_, now_, &detail_);
    EXPECT_EQ(msg->references.back().uri, "cid:k0@gw-a.test");
    EXPECT_EQ(msg->references.back().digest_value, s.payloads[0].sha256);
    return got;
  };
  auto got = build_and_receive("message");
  ASSERT_TRUE(got) << detail_;
  EXPECT_TRUE(got->payloads[0].data == submitted);

  // The file changed after submission: the signature still carries the submitted digest, so
  // the receiver finds the part's digest wrong (without the known digest it would sign, and B
  // accept, bytes nobody submitted).
  std::ofstream(dir / "p0", std::ios::binary | std::ios::trunc) << std::string(70000, 'K');
  auto tampered = build_and_receive("message2");
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error(), errc::signature_invalid) << detail_;
  fs::remove_all(dir);
}

// compression `auto` (PMode default): gzip where it pays only; the receiver takes both forms.
TEST_F(outbound, gzip_only_where_it_pays_and_the_receiver_reads_every_form) {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("bbgw-as4-gzauto-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string noise(2 << 20, '\0');  // incompressible (xorshift), over two read chunks
  std::uint64_t x = 88172645463325252ull;
  for (auto& c : noise) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  std::string text;
  while (text.size() < (2 << 20)) text += "<permit holder=\"x\">residence</permit>\n";
  std::ofstream(dir / "noise", std::ios::binary) << noise;
  std::ofstream(dir / "text", std::ios::binary) << text;
  std::ofstream(dir / "jpeg", std::ios::binary) << text;  // compressible, but a JPEG by type
  auto s = spec();
  s.payloads = {{"n@a", "application/octet-stream", {}, true},
                {"t@a", "application/xml", {}, true},
                {"j@a", "image/jpeg", {}, true},
                {"m@a", "text/plain", std::string(4000, 'a'), true}};  // in memory
  for (auto* p : {&s.payloads[0], &s.payloads[1], &s.payloads[2]})
    p->file = (dir / (p->content_id == "n@a"   ? "noise"
                      : p->content_id == "t@a" ? "text"
                                               : "jpeg"))
                  .string();
  for (auto& p : s.payloads) {
    p.only_if_it_pays = true;
    p.compression_level = 1;
  }
  auto const out = (dir / "message").string();
  auto msg = build_user_message_file(s, out, &detail_);
  ASSERT_TRUE(msg) << detail_;
  EXPECT_EQ(msg->compressed, (std::vector<bool>{false, true, false, true}));
  EXPECT_LT(msg->size, noise.size() + text.size() / 4 + text.size() + 64 * 1024)
      << "the text shrank, nothing grew";
  std::ifstream in(out, std::ios::binary);
  std::string body(std::istreambuf_iterator<char>(in), {});
  std::size_t gz = 0;
  for (auto p = body.find("CompressionType"); p != std::string::npos;
       p = body.find("CompressionType", p + 1))
    ++gz;
  EXPECT_EQ(gz, 2u) << "CompressionType only on the compressed parts";
  inbound_options opt;
  opt.security.require_encryption = true;
  auto got = receive(msg->content_type, body, opt, trust_a_, &b_, now_, &detail_);
  ASSERT_TRUE(got) << got.error().message() << ": " << detail_;
  ASSERT_EQ(got->payloads.size(), 4u);
  EXPECT_TRUE(got->payloads[0].data == noise);
  EXPECT_TRUE(got->payloads[1].data == text);
  EXPECT_TRUE(got->payloads[2].data == text);
  EXPECT_EQ(got->payloads[3].data, std::string(4000, 'a'));

  // Without only_if_it_pays every payload is compressed, as before.
  for (auto& p : s.payloads) p.only_if_it_pays = false;
  auto all = build_user_message_file(s, out, &detail_);
  ASSERT_TRUE(all) << detail_;
  EXPECT_EQ(all->compressed, (std::vector<bool>{true, true, true, true}));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bbgw::edelivery

// cid: references through the Attachment-Content-Signature-Transform: AS4.NET's signed Holodeck
// message (two gzip attachments) verifies, the part octets reach the digest unchanged, and a
// flipped byte, a missing part or a missing part source are refused.
#include <map>

#include "xmlsec/errc.hpp"
#include "xmlsec/signature.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

// In-memory parts, read back in small chunks so the resolver's streaming is exercised.
class memory_parts final : public part_source {
 public:
  std::map<std::string, std::string, std::less<>> parts;

  result<std::unique_ptr<part_reader>> open(std::string_view id) const override {
    auto it = parts.find(id);
    if (it == parts.end()) return make_error_code(errc::part_not_found);
    return std::unique_ptr<part_reader>(std::make_unique<reader>(it->second));
  }

 private:
  struct reader final : part_reader {
    explicit reader(std::string_view d) : data(d) {}
    result<std::size_t> read(std::span<char> buffer) override {
      std::size_t n = std::min({buffer.size(), data.size(), std::size_t{100}});
      data.copy(buffer.data(), n);
      data.remove_prefix(n);
      return n;
    }
    std::string_view data;
  };
};

// A minimal multipart/related splitter for the fixture (the edelivery connector has the real
// one): the boundary is the first line; each part is headers, CRLF CRLF, body.
struct mime_message {
  std::string soap;
  memory_parts attachments;
};

mime_message split(std::string const& raw) {
  mime_message m;
  std::string const boundary = raw.substr(0, raw.find("\r\n"));
  std::size_t pos = boundary.size() + 2;
  bool first = true;
  while (true) {
    auto end = raw.find("\r\n" + boundary, pos);
    if (end == std::string::npos) break;
    std::string part = raw.substr(pos, end - pos);
    auto split_at = part.find("\r\n\r\n");
    std::string headers = part.substr(0, split_at), body = part.substr(split_at + 4);
    if (first) {
      m.soap = body;
      first = false;
    } else {
      auto id = headers.find("Content-ID: <");
      auto close = headers.find('>', id);
      m.attachments.parts.emplace(headers.substr(id + 13, close - id - 13), body);
    }
    pos = end + 2 + boundary.size() + 2;
  }
  return m;
}

key access_point_b() {
  auto k = key::from_pkcs12_file(fixtures() / "as4/as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  EXPECT_TRUE(k);
  return k->public_only();
}

struct verified {
  std::optional<document> doc;
  result<verified_signature> r{make_error_code(errc::internal)};
  std::string detail;
};

verified verify_message(mime_message const& m, algorithm_policy const& policy, bool with_parts,
                        bool generic_only = false) {
  verified v;
  auto d = document::parse(m.soap);
  EXPECT_TRUE(d);
  EXPECT_TRUE(d->register_ids(wsu_id));
  std::vector<key> trusted{access_point_b()};
  v.r = verify(*d, find(d->root(), ns_ds, "Signature"), trusted,
               {.policy = &policy,
                .parts = with_parts ? &m.attachments : nullptr,
                .detail = &v.detail,
                .generic_only = generic_only});
  v.doc = std::move(*d);
  return v;
}

mime_message holodeck() {
  return split(read_file(fixtures() / "as4/as4net/signed_holodeck_message.as4"));
}

TEST(swa_transform, holodeck_message_with_gzip_attachments_verifies) {
  auto m = holodeck();
  ASSERT_EQ(m.attachments.parts.size(), 2u);
  auto v = verify_message(m, algorithm_policy::as4_receive(), true);
  ASSERT_TRUE(v.r) << v.detail;
  EXPECT_EQ(v.r->signature_method, uri::rsa_sha384);
  ASSERT_EQ(v.r->references.size(), 4u);
  EXPECT_TRUE(v.r->direct);  // cid: references with the SwA content transform alone: direct
  for (std::size_t i = 2; i < 4; ++i) {
    auto const& ref = v.r->references[i];
    EXPECT_EQ(ref.uri.rfind("cid:", 0), 0u);
    EXPECT_EQ(ref.element, nullptr);
    EXPECT_EQ(ref.transforms, std::vector<std::string>{std::string(uri::swa_content_signature)});
    // The transform passes the part's octets unchanged: the digest is SHA-256 of the bytes.
    auto const& bytes = m.attachments.parts.at(ref.uri.substr(4));
    EXPECT_EQ(ref.digest_value, digest(bytes, ref.digest_method).value());
  }
}

// The direct path (parts digested as they are read) and xmlsec's generic path (the SwA
// transform klass through the cid: resolver) agree on the Holodeck message and its breakages:
// same outcome, error code and reason.
TEST(swa_transform, direct_and_generic_paths_agree_on_cid_references) {
  auto const policy = algorithm_policy::as4_receive();
  std::vector<std::pair<char const*, mime_message>> cases;
  cases.emplace_back("as made", holodeck());
  auto flipped = holodeck();
  auto& part = flipped.attachments.parts.begin()->second;
  part[part.size() / 3] ^= 0x20;
  cases.emplace_back("attachment byte flipped", std::move(flipped));
  auto missing = holodeck();
  missing.attachments.parts.erase(std::prev(missing.attachments.parts.end()));
  cases.emplace_back("part missing", std::move(missing));
  auto swapped = holodeck();
  ASSERT_EQ(swapped.attachments.parts.size(), 2u);
  std::swap(swapped.attachments.parts.begin()->second,
            std::next(swapped.attachments.parts.begin())->second);
  cases.emplace_back("attachments swapped", std::move(swapped));
  for (auto const& [what, m] : cases) {
    SCOPED_TRACE(what);
    auto direct = verify_message(m, policy, true);
    auto generic = verify_message(m, policy, true, true);
    ASSERT_EQ(static_cast<bool>(direct.r), static_cast<bool>(generic.r))
        << direct.detail << " / " << generic.detail;
    if (!generic.r) {
      EXPECT_EQ(direct.r.error(), generic.r.error());
      EXPECT_EQ(direct.detail, generic.detail);
      continue;
    }
    EXPECT_TRUE(direct.r->direct);
    EXPECT_FALSE(generic.r->direct);
    ASSERT_EQ(direct.r->references.size(), generic.r->references.size());
    for (std::size_t i = 0; i < generic.r->references.size(); ++i) {
      EXPECT_EQ(direct.r->references[i].uri, generic.r->references[i].uri);
      EXPECT_EQ(direct.r->references[i].digest_value, generic.r->references[i].digest_value);
    }
  }
}

// Parts whose SHA-256 the source already knows (as the AS4 receiver does once it decrypted
// them); reads are counted.
class known_digest_parts final : public part_source {
 public:
  explicit known_digest_parts(memory_parts const& parts) : parts_(parts) {}
  std::map<std::string, std::string, std::less<>> sha256;
  mutable int opens = 0;
  result<std::unique_ptr<part_reader>> open(std::string_view id) const override {
    ++opens;
    return parts_.open(id);
  }
  std::optional<std::string> known_sha256(std::string_view id) const override {
    auto it = sha256.find(id);
    if (it == sha256.end()) return std::nullopt;
    return it->second;
  }

 private:
  memory_parts const& parts_;
};

TEST(swa_transform, known_part_digests_are_used_without_reading_the_parts) {
  auto m = holodeck();
  known_digest_parts known(m.attachments);
  for (auto const& [id, bytes] : m.attachments.parts)
    known.sha256.emplace(id, digest(bytes, uri::sha256).value());
  auto d = document::parse(m.soap);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->register_ids(wsu_id));
  std::vector<key> trusted{access_point_b()};
  auto const policy = algorithm_policy::as4_receive();
  std::string detail;
  auto r = verify(*d, find(d->root(), ns_ds, "Signature"), trusted,
                  {.policy = &policy, .parts = &known, .detail = &detail});
  ASSERT_TRUE(r) << detail;
  EXPECT_TRUE(r->direct);
  EXPECT_EQ(known.opens, 0);
  // A known digest that is not the signed one: the direct path declines, and xmlsec's generic
  // path, which has the last word on every refusal, reads the parts themselves (they are
  // intact here, so the message verifies).
  known.sha256.begin()->second[0] ^= 0x01;
  auto again = verify(*d, find(d->root(), ns_ds, "Signature"), trusted,
                      {.policy = &policy, .parts = &known, .detail = &detail});
  ASSERT_TRUE(again) << detail;
  EXPECT_FALSE(again->direct);
  EXPECT_EQ(known.opens, 2);
}

TEST(swa_transform, flipped_attachment_byte_is_a_digest_mismatch) {
  auto m = holodeck();
  auto& part = m.attachments.parts.begin()->second;
  part[part.size() / 2] ^= 0x01;
  auto v = verify_message(m, algorithm_policy::as4_receive(), true);
  ASSERT_FALSE(v.r);
  EXPECT_EQ(v.r.error(), errc::digest_mismatch);
  EXPECT_NE(v.detail.find("cid:"), std::string::npos) << v.detail;
}

TEST(swa_transform, missing_part_is_named) {
  auto m = holodeck();
  auto const id = m.attachments.parts.begin()->first;
  m.attachments.parts.erase(m.attachments.parts.begin());
  auto v = verify_message(m, algorithm_policy::as4_receive(), true);
  ASSERT_FALSE(v.r);
  EXPECT_EQ(v.r.error(), errc::part_not_found) << v.detail;
  EXPECT_NE(v.detail.find(id), std::string::npos) << v.detail;
}

TEST(swa_transform, cid_refused_without_parts_or_when_policy_lacks_the_transform) {
  auto m = holodeck();
  auto no_parts = verify_message(m, algorithm_policy::as4_receive(), false);
  ASSERT_FALSE(no_parts.r);
  EXPECT_EQ(no_parts.r.error(), errc::reference_not_allowed);
  auto policy = algorithm_policy::as4_receive();
  std::erase(policy.transforms, std::string(uri::swa_content_signature));
  auto no_transform = verify_message(m, policy, true);
  ASSERT_FALSE(no_transform.r);
  EXPECT_EQ(no_transform.r.error(), errc::transform_not_allowed);
}

TEST(swa_transform, sign_over_cid_parts_round_trips) {
  memory_parts parts;
  parts.parts.emplace("payload-1@example", std::string(5000, 'x') + "end");
  std::string const xml =
      "<S:Envelope xmlns:S='http://www.w3.org/2003/05/soap-envelope' xmlns:wsu='" +
      std::string(ns_wsu) + "'><S:Header/><S:Body wsu:Id='body'/></S:Envelope>";
  auto d = document::parse(xml);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->register_ids(wsu_id));
  sign_spec spec;
  spec.references = {{"#body", {std::string(uri::exc_c14n)}},
                     {"cid:payload-1@example", {std::string(uri::swa_content_signature)}}};
  auto k = key::from_pem_pair(vectors() / "rsa2048.key", vectors() / "rsa2048.crt");
  ASSERT_TRUE(k);
  auto sig = sign(*d, d->root()->children, nullptr, *k, spec, &parts);
  ASSERT_TRUE(sig) << sig.error().message();
  // without the parts, a cid: reference cannot be signed
  auto d2 = document::parse(xml);
  ASSERT_TRUE(d2);
  ASSERT_TRUE(d2->register_ids(wsu_id));
  auto none = sign(*d2, d2->root()->children, nullptr, *k, spec);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), errc::reference_not_allowed);

  auto policy = algorithm_policy::as4_receive();
  std::vector<key> trusted{k->public_only()};
  std::string detail;
  auto v = verify(*d, *sig, trusted, {.policy = &policy, .parts = &parts, .detail = &detail});
  ASSERT_TRUE(v) << detail;
  EXPECT_EQ(v->references[1].digest_value,
            digest(parts.parts.begin()->second, uri::sha256).value());
  parts.parts.begin()->second += "!";
  EXPECT_FALSE(verify(*d, *sig, trusted, {.policy = &policy, .parts = &parts}));
}

TEST(swa_transform, direct_and_generic_signing_agree_over_cid_parts) {
  memory_parts parts;
  parts.parts.emplace("payload-1@example", std::string(300000, 'y') + "end");
  parts.parts.emplace("payload-2@example", "<small/>");
  std::string const xml =
      "<S:Envelope xmlns:S='http://www.w3.org/2003/05/soap-envelope' xmlns:wsu='" +
      std::string(ns_wsu) +
      "'><S:Header><M wsu:Id='m'>x</M></S:Header><S:Body wsu:Id='body'/></S:Envelope>";
  sign_spec spec;
  spec.references = {{"#m", {std::string(uri::exc_c14n)}},
                     {"#body", {std::string(uri::exc_c14n)}},
                     {"cid:payload-1@example", {std::string(uri::swa_content_signature)}},
                     {"cid:payload-2@example", {std::string(uri::swa_content_signature)}}};
  auto k = key::from_pem_pair(vectors() / "rsa2048.key", vectors() / "rsa2048.crt");
  ASSERT_TRUE(k);
  auto signed_with = [&](part_source const& source, bool generic, std::string& out) {
    auto d = document::parse(xml);
    EXPECT_TRUE(d && d->register_ids(wsu_id));
    auto s = spec;
    s.generic_only = generic;
    auto sig = sign(*d, d->root()->children, nullptr, *k, s, &source);
    EXPECT_TRUE(sig) << (sig ? "" : sig.error().message());
    if (!sig) return std::string();
    out = d->serialise();
    xmlChar* text = xmlNodeGetContent(find((*sig)->children, ns_ds, "SignedInfo"));
    std::string v(reinterpret_cast<char const*>(text));
    xmlFree(text);
    std::erase_if(v, [](char c) { return c == '\n'; });
    return v;
  };
  std::string direct_xml, generic_xml, known_xml;
  auto const direct = signed_with(parts, false, direct_xml);
  EXPECT_EQ(direct, signed_with(parts, true, generic_xml));  // the same digests
  EXPECT_FALSE(direct.empty());

  // Known digests are signed without reading the parts.
  known_digest_parts known(parts);
  for (auto const& [id, bytes] : parts.parts) known.sha256[id] = digest(bytes, uri::sha256).value();
  EXPECT_EQ(signed_with(known, false, known_xml), direct);
  EXPECT_EQ(known.opens, 0);

  // xmlsec's verification, reading the parts, accepts what the direct path signed.
  auto policy = algorithm_policy::as4_receive();
  std::vector<key> trusted{k->public_only()};
  for (auto const* x : {&direct_xml, &known_xml}) {
    auto d = document::parse(*x);
    ASSERT_TRUE(d && d->register_ids(wsu_id));
    std::string detail;
    auto v = verify(*d, find(d->root(), ns_ds, "Signature"), trusted,
                    {.policy = &policy, .parts = &parts, .detail = &detail, .generic_only = true});
    EXPECT_TRUE(v) << detail;
  }
}

}  // namespace
}  // namespace bbgw::xmlsec

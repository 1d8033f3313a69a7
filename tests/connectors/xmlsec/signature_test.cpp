// verify(): signatures made by other implementations (xmlsec1 CLI, python3-lxml +
// python3-cryptography, python3-saml's corpus, AS4.NET and phase4) and the ways to break them.
#include "xmlsec/signature.hpp"

#include <functional>
#include <thread>

#include "xmlsec/errc.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

struct verify_outcome {
  std::optional<document> doc;  // keeps the elements the result points at alive
  result<verified_signature> r;
  std::string detail;
};

// Parses `xml`, registers IDs, verifies the first ds:Signature with `trusted`.
verify_outcome check(std::string const& xml, std::span<id_attribute const> ids,
                     std::vector<key> const& trusted, algorithm_policy const& policy,
                     part_source const* parts = nullptr) {
  verify_outcome out{std::nullopt, make_error_code(errc::internal), {}};
  auto d = document::parse(xml, {.max_bytes = 4 * 1024 * 1024});
  if (!d) {
    out.r = d.error();
    return out;
  }
  if (auto r = d->register_ids(ids); !r) {
    out.r = r.error();
    return out;
  }
  verify_options o{.policy = &policy, .parts = parts, .detail = &out.detail};
  out.r = verify(*d, find(d->root(), ns_ds, "Signature"), trusted, o);
  out.doc = std::move(*d);
  return out;
}

key load(std::string const& name) {
  auto k = key::from_pem_file(vectors() / name);
  EXPECT_TRUE(k) << name;
  return k ? *k : key();
}

algorithm_policy const eidas_pkcs1 = algorithm_policy::eidas(true);
algorithm_policy const eidas_strict = algorithm_policy::eidas(false);

TEST(verify, xmlsec1_cli_rsa_sha256) {
  auto o = check(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), saml_id, {load("rsa2048.crt")},
                 eidas_pkcs1);
  ASSERT_TRUE(o.r) << o.detail;
  EXPECT_EQ(o.r->signature_method, uri::rsa_sha256);
  ASSERT_EQ(o.r->references.size(), 1u);
  auto const& ref = o.r->references[0];
  EXPECT_EQ(ref.uri, "#_resp1");
  ASSERT_NE(ref.element, nullptr);
  EXPECT_TRUE(is(ref.element, "urn:oasis:names:tc:SAML:2.0:protocol", "Response"));
  EXPECT_EQ(ref.digest_method, uri::sha256);
  EXPECT_EQ(ref.digest_value.size(), 32u);
  EXPECT_EQ(ref.transforms, (std::vector<std::string>{std::string(uri::enveloped_signature),
                                                      std::string(uri::exc_c14n)}));
  EXPECT_TRUE(is(ref.reference_node, ns_ds, "Reference"));
}

// verify() looks transforms up through a per-thread index of xmlsec's transform list: another
// thread (with its own index) gets the same answers, refusals included.
TEST(verify, same_result_on_another_thread) {
  auto run = [] {
    auto ok = check(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), saml_id, {load("rsa2048.crt")},
                    eidas_pkcs1);
    auto refused = check(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), saml_id,
                         {load("rsa2048.crt")}, eidas_strict);
    return std::make_pair(static_cast<bool>(ok.r), refused.r ? error_code{} : refused.r.error());
  };
  auto here = run();
  std::pair<bool, error_code> there;
  std::thread t([&] { there = run(); });
  t.join();
  EXPECT_TRUE(here.first);
  EXPECT_EQ(here, there);
  EXPECT_EQ(there.second, errc::algorithm_not_allowed);
}

TEST(verify, rsa_pkcs1_refused_when_eidas_policy_excludes_it) {
  auto o = check(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), saml_id, {load("rsa2048.crt")},
                 eidas_strict);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::algorithm_not_allowed);
  EXPECT_NE(o.detail.find("SignatureMethod"), std::string::npos);
}

TEST(verify, xmlsec1_cli_ecdsa_sha256) {
  auto o = check(read_file(vectors() / "xmlsec1-ecdsa-sha256.xml"), saml_id, {load("p256.crt")},
                 eidas_strict);
  ASSERT_TRUE(o.r) << o.detail;
  EXPECT_EQ(o.r->signature_method, uri::ecdsa_sha256);
}

TEST(verify, python_cryptography_vectors_pss_and_ecdsa) {
  struct vec {
    char const* file;
    char const* cert;
    std::string_view method;
  };
  for (auto v : {vec{"python-pss-sha256-rsa2048.xml", "rsa2048.crt", uri::rsa_pss_sha256},
                 vec{"python-pss-sha384-rsa2048.xml", "rsa2048.crt", uri::rsa_pss_sha384},
                 vec{"python-pss-sha512-rsa2048.xml", "rsa2048.crt", uri::rsa_pss_sha512},
                 vec{"python-ecdsa-sha256-p256.xml", "p256.crt", uri::ecdsa_sha256},
                 vec{"python-ecdsa-sha384-p384.xml", "p384.crt", uri::ecdsa_sha384},
                 vec{"python-ecdsa-sha256-bp256.xml", "bp256.crt", uri::ecdsa_sha256}}) {
    SCOPED_TRACE(v.file);
    auto o = check(read_file(vectors() / v.file), saml_id, {load(v.cert)}, eidas_strict);
    ASSERT_TRUE(o.r) << o.detail;
    EXPECT_EQ(o.r->signature_method, v.method);
  }
}

TEST(verify, pss_signature_tampered_fails) {
  auto xml = read_file(vectors() / "python-pss-sha256-rsa2048.xml");
  auto pos = xml.find("<ds:SignatureValue>") + 19;
  xml[pos] = xml[pos] == 'A' ? 'B' : 'A';
  auto o = check(xml, saml_id, {load("rsa2048.crt")}, eidas_strict);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::signature_invalid);
}

TEST(verify, tampered_content_is_a_digest_mismatch) {
  auto xml = replace(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), "alice", "mallory");
  auto o = check(xml, saml_id, {load("rsa2048.crt")}, eidas_pkcs1);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::digest_mismatch);
  EXPECT_NE(o.detail.find("Reference 0 (#_resp1)"), std::string::npos) << o.detail;
}

TEST(verify, tampered_digest_value) {
  auto xml = read_file(vectors() / "xmlsec1-rsa-sha256.xml");
  auto pos = xml.find("<ds:DigestValue>") + 16;
  xml[pos] = xml[pos] == 'A' ? 'B' : 'A';
  auto o = check(xml, saml_id, {load("rsa2048.crt")}, eidas_pkcs1);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::digest_mismatch);
}

TEST(verify, tampered_signature_value) {
  auto xml = read_file(vectors() / "xmlsec1-ecdsa-sha256.xml");
  auto pos = xml.find("<SignatureValue>");
  if (pos == std::string::npos) pos = xml.find("<ds:SignatureValue>") + 3;
  pos += 16;
  xml[pos] = xml[pos] == 'A' ? 'B' : 'A';
  auto o = check(xml, saml_id, {load("p256.crt")}, eidas_strict);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::signature_invalid);
}

TEST(verify, key_not_in_trusted_list_and_trying_each_trusted_key) {
  auto xml = read_file(vectors() / "xmlsec1-rsa-sha256.xml");
  auto wrong = check(xml, saml_id, {load("rsa2048b.crt")}, eidas_pkcs1);
  ASSERT_FALSE(wrong.r);
  EXPECT_EQ(wrong.r.error(), errc::signature_invalid);
  auto second = check(xml, saml_id, {load("rsa2048b.crt"), load("rsa2048.crt")}, eidas_pkcs1);
  ASSERT_TRUE(second.r) << second.detail;
  EXPECT_EQ(second.r->key_index, 1u);
  auto none = check(xml, saml_id, {}, eidas_pkcs1);
  ASSERT_FALSE(none.r);
  EXPECT_EQ(none.r.error(), errc::key_not_trusted);
}

TEST(verify, wrong_key_type_is_unusable) {
  auto o = check(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), saml_id, {load("p256.crt")},
                 eidas_pkcs1);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::key_unusable);
  auto e = check(read_file(vectors() / "xmlsec1-ecdsa-sha256.xml"), saml_id, {load("rsa2048.crt")},
                 eidas_strict);
  ASSERT_FALSE(e.r);
  EXPECT_EQ(e.r.error(), errc::key_unusable);
}

TEST(verify, keyinfo_certificate_is_never_used) {
  // xmlsec1 signed with rsa2048 and the attacker puts rsa2048's certificate in KeyInfo: only
  // the trusted key counts.
  auto k = key::from_pem_file(vectors() / "rsa2048.crt");
  ASSERT_TRUE(k);
  std::string const cert = "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>" + [&] {
    std::string der = k->certificate_der(), b(4 * der.size() / 3 + 4, 0);
    b.resize(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b.data()),
                             reinterpret_cast<unsigned char const*>(der.data()),
                             static_cast<int>(der.size())));
    return b;
  }() + "</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>";
  auto xml = read_file(vectors() / "xmlsec1-rsa-sha256.xml");
  xml = replace(xml, "</ds:Signature>", cert);
  auto o = check(xml, saml_id, {load("rsa2048b.crt")}, eidas_pkcs1);
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::signature_invalid);
}

TEST(verify, keyinfo_retrieval_method_is_never_followed) {
  // A RetrievalMethod pointing at the network: ignored (no keys manager, level 0), and the
  // trusted key verifies as before.
  auto xml = replace(read_file(vectors() / "xmlsec1-rsa-sha256.xml"), "</ds:Signature>",
                     "<ds:KeyInfo><ds:RetrievalMethod URI=\"http://127.0.0.1:9/key\" "
                     "Type=\"http://www.w3.org/2000/09/xmldsig#X509Data\"/></ds:KeyInfo>"
                     "</ds:Signature>");
  auto o = check(xml, saml_id, {load("rsa2048.crt")}, eidas_pkcs1);
  ASSERT_TRUE(o.r) << o.detail;
}

TEST(verify, refuses_hmac_xslt_xpath_and_foreign_references) {
  auto const base = read_file(vectors() / "xmlsec1-rsa-sha256.xml");
  auto const trusted = std::vector<key>{load("rsa2048.crt")};
  auto expect = [&](std::string const& xml, errc e, algorithm_policy const& p = eidas_pkcs1) {
    auto o = check(xml, saml_id, trusted, p);
    ASSERT_FALSE(o.r);
    EXPECT_EQ(o.r.error(), e) << o.detail;
    EXPECT_FALSE(o.detail.empty());
  };
  expect(replace(base, uri::rsa_sha256, uri::hmac_sha256), errc::algorithm_not_allowed);
  // HMAC is refused even when a careless policy lists it.
  auto careless = eidas_pkcs1;
  careless.signature_methods.emplace_back(uri::hmac_sha256);
  expect(replace(base, uri::rsa_sha256, uri::hmac_sha256), errc::algorithm_not_allowed, careless);
  expect(replace(base, uri::enveloped_signature, "http://www.w3.org/TR/1999/REC-xslt-19991116"),
         errc::transform_not_allowed);
  expect(replace(base, uri::enveloped_signature, "http://www.w3.org/TR/1999/REC-xpath-19991116"),
         errc::transform_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"http://127.0.0.1:9/x\""),
         errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"file:///etc/passwd\""),
         errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"\""), errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"#xpointer(/)\""), errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"#a'b\""), errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"cid:part\""), errc::reference_not_allowed);
  expect(replace(base, "URI=\"#_resp1\"", "URI=\"#_nothing\""), errc::id_not_found);
  expect(replace(base, "xmlenc#sha256", "xmldsig#sha1"), errc::algorithm_not_allowed);
  expect(replace(base, "<ds:SignedInfo>", "<ds:SignedInfo><ds:Foo/>"), errc::signature_malformed);
}

TEST(verify, python3_saml_legacy_sha1_rsa1024_only_under_legacy_policy) {
  auto idp = key::from_pem_file(fixtures() / "saml/python3-saml/idp.crt");
  ASSERT_TRUE(idp);
  EXPECT_EQ(idp->bits(), 1024);
  auto const legacy = algorithm_policy::legacy(algorithm_policy::eidas(true));
  for (auto file : {"signed_message_response.xml.base64", "signed_assertion_response.xml.base64"}) {
    SCOPED_TRACE(file);
    auto xml = base64_file(fixtures() / "saml/python3-saml" / file);
    auto ok = check(xml, saml_id, {*idp}, legacy);
    ASSERT_TRUE(ok.r) << ok.detail;
    EXPECT_EQ(ok.r->signature_method, uri::rsa_sha1);
    ASSERT_EQ(ok.r->references.size(), 1u);
    EXPECT_NE(ok.r->references[0].element, nullptr);
    auto refused = check(xml, saml_id, {*idp}, algorithm_policy::eidas(true));
    ASSERT_FALSE(refused.r);
    EXPECT_EQ(refused.r.error(), errc::algorithm_not_allowed);
    // Even with SHA-1 allowed, an RSA-1024 key is below eIDAS's minimum.
    auto sha1_only = algorithm_policy::legacy(algorithm_policy::eidas(true));
    sha1_only.min_rsa_bits = 2048;
    auto small = check(xml, saml_id, {*idp}, sha1_only);
    ASSERT_FALSE(small.r);
    EXPECT_EQ(small.r.error(), errc::key_unusable);
  }
}

TEST(verify, python3_saml_corpus_every_signature_of_the_valid_files) {
  auto idp = key::from_pem_file(fixtures() / "saml/python3-saml/idp.crt");
  ASSERT_TRUE(idp);
  std::vector<key> trusted{*idp};
  auto const legacy = algorithm_policy::legacy(algorithm_policy::eidas(true));
  for (auto file : {"valid_response.xml.base64", "double_signed_response.xml.base64",
                    "valid_response_with_namequalifier.xml.base64"}) {
    SCOPED_TRACE(file);
    auto d = document::parse(base64_file(fixtures() / "saml/python3-saml" / file));
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->register_ids(saml_id));
    std::vector<xmlNodePtr> signatures;
    std::function<void(xmlNodePtr)> collect = [&](xmlNodePtr n) {
      for (; n != nullptr; n = n->next) {
        if (is(n, ns_ds, "Signature")) signatures.push_back(n);
        collect(n->children);
      }
    };
    collect(d->root());
    ASSERT_FALSE(signatures.empty());
    for (xmlNodePtr s : signatures) {
      std::string detail;
      auto r = verify(*d, s, trusted, {.policy = &legacy, .detail = &detail});
      EXPECT_TRUE(r) << detail;
    }
  }
}

key pfx_cert(char const* name, char const* password) {
  auto k = key::from_pkcs12_file(fixtures() / "as4/as4net" / name, password);
  EXPECT_TRUE(k);
  return k ? k->public_only() : key();
}

TEST(verify, as4net_8_1_21_message_rsa_sha384) {
  auto o =
      check(read_file(fixtures() / "as4/as4net/8.1.21-message.xml"), wsu_id,
            {pfx_cert("AccessPointB.pfx", "Pz4cZK4SULUwmraZb")}, algorithm_policy::as4_receive());
  ASSERT_TRUE(o.r) << o.detail;
  EXPECT_EQ(o.r->signature_method, uri::rsa_sha384);
  ASSERT_EQ(o.r->references.size(), 2u);
  EXPECT_TRUE(is(o.r->references[0].element,
                 "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/", "Messaging"));
  EXPECT_TRUE(is(o.r->references[1].element, "http://www.w3.org/2003/05/soap-envelope", "Body"));
  // The other access point's key does not verify it.
  auto a =
      check(read_file(fixtures() / "as4/as4net/8.1.21-message.xml"), wsu_id,
            {pfx_cert("AccessPointA.pfx", "Pz4cZK4SULUwmraZa")}, algorithm_policy::as4_receive());
  ASSERT_FALSE(a.r);
  EXPECT_EQ(a.r.error(), errc::signature_invalid);
}

// The signing certificate of the as4-soap-* fixtures, from their BinarySecurityToken (the
// test decides to trust it; verify() itself never reads it).
key token_cert(std::string const& xml) {
  auto d = document::parse(xml);
  EXPECT_TRUE(d);
  xmlNodePtr bst = find(d->root(),
                        "http://docs.oasis-open.org/wss/2004/01/"
                        "oasis-200401-wss-wssecurity-secext-1.0.xsd",
                        "BinarySecurityToken");
  EXPECT_NE(bst, nullptr);
  std::string text = text_of(bst).value(), der(text.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(der.data()),
                          reinterpret_cast<unsigned char const*>(text.data()),
                          static_cast<int>(text.size()));
  der.resize(static_cast<std::size_t>(n));
  while (!der.empty() && der.back() == '\0') der.pop_back();  // base64 padding
  auto k = key::from_certificate_der(der);
  EXPECT_TRUE(k);
  return k ? *k : key();
}

TEST(verify, as4net_soap_signed_message_and_its_wrong_twin) {
  auto good = read_file(fixtures() / "as4/as4net/as4-soap-signed-message.txt");
  // Signed with RSA-1024: below the profile's minimum, so only a legacy policy accepts it.
  auto const legacy = algorithm_policy::legacy(algorithm_policy::as4_receive());
  auto small = check(good, wsu_id, {token_cert(good)}, algorithm_policy::as4_receive());
  ASSERT_FALSE(small.r);
  EXPECT_EQ(small.r.error(), errc::key_unusable);
  auto o = check(good, wsu_id, {token_cert(good)}, legacy);
  ASSERT_TRUE(o.r) << o.detail;
  auto bad = read_file(fixtures() / "as4/as4net/as4-soap-wrong-signed-message.txt");
  auto w = check(bad, wsu_id, {token_cert(bad)}, legacy);
  ASSERT_FALSE(w.r);
  EXPECT_EQ(w.r.error(), errc::id_not_found) << w.detail;  // its Body Id was changed
}

// phase4's recorded HTTP responses: headers, a blank line, the SOAP envelope.
std::string http_body(std::filesystem::path const& file) {
  auto raw = read_file(file);
  auto at = raw.find("\n\n");
  EXPECT_NE(at, std::string::npos);
  return raw.substr(at + 2);
}

TEST(verify, signed_receipts_from_three_other_as4_products) {
  for (auto file : {"helger.as4in", "governikus.as4in", "dataport1-mustunderstand.as4in"}) {
    SCOPED_TRACE(file);
    auto xml = http_body(fixtures() / "as4/phase4" / file);
    auto o = check(xml, wsu_id, {token_cert(xml)}, algorithm_policy::as4_receive());
    ASSERT_TRUE(o.r) << o.detail;
    EXPECT_EQ(o.r->references.size(), 2u);
  }
  // The same receipt with its eb:Messaging re-serialised: the digest no longer matches.
  auto xml = http_body(fixtures() / "as4/phase4/dataport1.as4in");
  auto o = check(xml, wsu_id, {token_cert(xml)}, algorithm_policy::as4_receive());
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::digest_mismatch) << o.detail;
}

TEST(verify, phase4_wrong_signing_algorithm_refused) {
  auto xml = read_file(fixtures() / "as4/phase4/WrongSigningAlgorithm.xml");
  auto o = check(xml, wsu_id, {load("rsa2048.crt")}, algorithm_policy::as4_receive());
  ASSERT_FALSE(o.r);
  EXPECT_EQ(o.r.error(), errc::algorithm_not_allowed);
  EXPECT_NE(o.detail.find("randomcrypt"), std::string::npos);
}

// The direct path (own exclusive c14n + EVP, for signatures whose References are "#id" with
// [enveloped-signature,] exc-c14n) and xmlsec's generic path give the same outcome, error code
// and reason included, on the vectors of other implementations and on each way of breaking
// them; and the direct path is the one taken for those shapes.
TEST(verify, direct_and_generic_paths_agree) {
  struct vec {
    std::string xml;
    std::span<id_attribute const> ids;
    std::vector<key> trusted;
    algorithm_policy policy;
    char const* inside;  // a text of the signed content, to alter
  };
  auto idp = key::from_pem_file(fixtures() / "saml/python3-saml/idp.crt");
  ASSERT_TRUE(idp);
  auto const legacy = algorithm_policy::legacy(algorithm_policy::eidas(true));
  auto const receipt = http_body(fixtures() / "as4/phase4/helger.as4in");
  // The signature vectors of data/xsig: a SAML Response whose NameID is "alice".
  auto const xsig = [&](char const* file, char const* cert, algorithm_policy const& policy) {
    return vec{read_file(vectors() / file), saml_id, {load(cert)}, policy, "alice"};
  };
  std::vector<vec> vectors_in = {
      xsig("xmlsec1-rsa-sha256.xml", "rsa2048.crt", eidas_pkcs1),
      xsig("xmlsec1-ecdsa-sha256.xml", "p256.crt", eidas_strict),
      xsig("python-pss-sha384-rsa2048.xml", "rsa2048.crt", eidas_strict),
      xsig("python-ecdsa-sha256-bp256.xml", "bp256.crt", eidas_strict),
      {base64_file(fixtures() / "saml/python3-saml/signed_assertion_response.xml.base64"),
       saml_id,
       {*idp},
       legacy,
       "_3af62f1d03513bdd61dd5bf04d3deb7aa617480e22"},
      {receipt,
       wsu_id,
       {token_cert(receipt)},
       algorithm_policy::as4_receive(),
       "2022-03-07T17:36:50.173Z"},
  };
  std::size_t direct_taken = 0;
  for (auto const& v : vectors_in) {
    // One base64 character of the first element named `tag`, a few characters in.
    auto const flip = [](std::string xml, std::string_view tag) {
      auto pos = xml.find(tag);
      EXPECT_NE(pos, std::string::npos) << tag;
      if (pos == std::string::npos) return xml;
      pos = xml.find('>', pos) + 8;
      xml[pos] = xml[pos] == 'A' ? 'B' : 'A';
      return xml;
    };
    bool const prefixed = v.xml.find("<ds:SignatureValue") != std::string::npos;
    std::string const inside(v.inside);
    std::vector<std::pair<char const*, std::string>> cases = {
        {"as made", v.xml},
        {"signed text altered", replace(v.xml, inside, inside + "x")},
        {"comment added to signed text", replace(v.xml, inside, inside + "<!-- c -->")},
        {"SignatureValue altered",
         flip(v.xml, prefixed ? "<ds:SignatureValue" : "<SignatureValue")},
        {"DigestValue altered", flip(v.xml, prefixed ? "<ds:DigestValue" : "<DigestValue")},
    };
    for (auto const& [what, xml] : cases) {
      SCOPED_TRACE(std::string(inside) + ": " + what);
      auto direct = check(xml, v.ids, v.trusted, v.policy);
      std::string generic_detail;
      auto d = document::parse(xml, {.max_bytes = 4 * 1024 * 1024});
      ASSERT_TRUE(d);
      ASSERT_TRUE(d->register_ids(v.ids));
      verify_options o{.policy = &v.policy, .detail = &generic_detail, .generic_only = true};
      auto generic = verify(*d, find(d->root(), ns_ds, "Signature"), v.trusted, o);
      ASSERT_EQ(static_cast<bool>(direct.r), static_cast<bool>(generic))
          << direct.detail << " / " << generic_detail;
      if (!generic) {
        EXPECT_EQ(direct.r.error(), generic.error());
        EXPECT_EQ(direct.detail, generic_detail);
        continue;
      }
      EXPECT_FALSE(generic->direct);
      direct_taken += direct.r->direct;
      EXPECT_EQ(direct.r->key_index, generic->key_index);
      ASSERT_EQ(direct.r->references.size(), generic->references.size());
      for (std::size_t i = 0; i < generic->references.size(); ++i) {
        EXPECT_EQ(direct.r->references[i].uri, generic->references[i].uri);
        EXPECT_EQ(direct.r->references[i].transforms, generic->references[i].transforms);
        EXPECT_EQ(direct.r->references[i].digest_value, generic->references[i].digest_value);
        // The same element (of two parses of the same text): same name, same line.
        auto const* a = direct.r->references[i].element;
        auto const* b = generic->references[i].element;
        ASSERT_TRUE(a != nullptr && b != nullptr);
        EXPECT_STREQ(reinterpret_cast<char const*>(a->name),
                     reinterpret_cast<char const*>(b->name));
        EXPECT_EQ(xmlGetLineNo(a), xmlGetLineNo(b));
      }
    }
  }
  // Each vector verifies as made and with a comment added: twice, all on the direct path.
  EXPECT_EQ(direct_taken, 2 * vectors_in.size());
}

TEST(verify, signature_not_given) {
  auto d = document::parse("<a/>");
  ASSERT_TRUE(d);
  auto policy = algorithm_policy::as4_receive();
  auto r = verify(*d, nullptr, {}, {.policy = &policy});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::signature_missing);
}

}  // namespace
}  // namespace bbgw::xmlsec

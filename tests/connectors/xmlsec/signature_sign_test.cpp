// sign(), sign_bytes(), verify_bytes(), digest(): what we produce verifies with our verify()
// AND with independent verifiers (python3-cryptography + lxml, the xmlsec1 and openssl command
// lines), and what must never be produced is refused.
#include <cstdlib>

#include "xmlsec/errc.hpp"
#include "xmlsec/signature.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

key pair(std::string const& name) {
  auto k = key::from_pem_pair(vectors() / (name + ".key"), vectors() / (name + ".crt"));
  EXPECT_TRUE(k) << name;
  return k ? *k : key();
}

document unsigned_response() {
  auto d = document::parse(read_file(vectors() / "saml-unsigned.xml"));
  EXPECT_TRUE(d);
  EXPECT_TRUE(d->register_ids(saml_id));
  return std::move(*d);
}

sign_spec enveloped(std::string_view method) {
  sign_spec s;
  s.signature_method = std::string(method);
  s.references = {{"#_resp1", {std::string(uri::enveloped_signature), std::string(uri::exc_c14n)}}};
  return s;
}

// Signs the SAML-like Response with `name`'s key, placing the signature after the Issuer.
std::string signed_response(std::string const& name, std::string_view method) {
  auto d = unsigned_response();
  xmlNodePtr issuer = d.root()->children;
  auto sig = sign(d, d.root(), issuer->next, pair(name), enveloped(method));
  EXPECT_TRUE(sig) << (sig ? "" : sig.error().message());
  return d.serialise();
}

int run(std::string const& command) {
  return std::system((command + " >/dev/null 2>&1").c_str());
}

int python_verify(std::string const& cert, std::string const& xml) {
  temp_dir tmp;
  std::ofstream(tmp.path / "signed.xml") << xml;
  return run("/usr/bin/python3 " + (vectors() / "xsig_python.py").string() + " verify " +
             (vectors() / cert).string() + " " + (tmp.path / "signed.xml").string());
}

result<verified_signature> our_verify(std::string const& xml, std::string const& cert,
                                      algorithm_policy const& p, std::string* detail) {
  auto d = document::parse(xml);
  if (!d) return d.error();
  if (auto r = d->register_ids(saml_id); !r) return r.error();
  auto k = key::from_pem_file(vectors() / cert);
  std::vector<key> trusted{*k};
  return verify(*d, find(d->root(), ns_ds, "Signature"), trusted, {.policy = &p, .detail = detail});
}

TEST(sign, rsa_pss_round_trip_and_python_cryptography_verifies_it) {
  auto const policy = algorithm_policy::eidas(false);
  for (auto method : {uri::rsa_pss_sha256, uri::rsa_pss_sha384, uri::rsa_pss_sha512}) {
    SCOPED_TRACE(std::string(method));
    auto xml = signed_response("rsa2048", method);
    std::string detail;
    auto v = our_verify(xml, "rsa2048.crt", policy, &detail);
    ASSERT_TRUE(v) << detail;
    EXPECT_EQ(v->signature_method, method);
    EXPECT_EQ(python_verify("rsa2048.crt", xml), 0) << xml;
    // and a tampered copy fails in python too (the check is real)
    EXPECT_NE(python_verify("rsa2048.crt", replace(xml, "alice", "alicf")), 0);
  }
}

TEST(sign, ecdsa_round_trip_and_independent_verifiers) {
  auto const policy = algorithm_policy::eidas(false);
  struct c {
    char const* key;
    std::string_view method;
  };
  for (auto v : {c{"p256", uri::ecdsa_sha256}, c{"p384", uri::ecdsa_sha384},
                 c{"bp256", uri::ecdsa_sha256}}) {
    SCOPED_TRACE(v.key);
    auto xml = signed_response(v.key, v.method);
    std::string detail;
    ASSERT_TRUE(our_verify(xml, std::string(v.key) + ".crt", policy, &detail)) << detail;
    EXPECT_EQ(python_verify(std::string(v.key) + ".crt", xml), 0);
  }
}

TEST(sign, rsa_sha256_verifies_with_the_xmlsec1_command_line) {
  auto xml = signed_response("rsa2048", uri::rsa_sha256);
  temp_dir tmp;
  std::ofstream(tmp.path / "s.xml") << xml;
  EXPECT_EQ(run("xmlsec1 --verify --pubkey-cert-pem " + (vectors() / "rsa2048.crt").string() +
                " --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response " +
                (tmp.path / "s.xml").string()),
            0);
  EXPECT_EQ(python_verify("rsa2048.crt", xml), 0);
}

// The DigestValue and SignatureValue texts of a signature, whitespace removed (xmlsec wraps
// base64 at 64 columns; the direct path writes it on one line).
std::vector<std::string> signature_values(xmlNodePtr sig) {
  std::vector<std::string> out;
  for (auto local : {"DigestValue", "SignatureValue"})
    for (xmlNodePtr n = find(sig->children, ns_ds, local); n != nullptr;
         n = find(n->next, ns_ds, local)) {
      xmlChar* text = xmlNodeGetContent(n);
      std::string v(reinterpret_cast<char const*>(text));
      xmlFree(text);
      std::erase_if(v, [](char c) { return c == '\n' || c == '\r' || c == ' '; });
      out.push_back(v);
    }
  return out;
}

std::string signature_value_text(xmlNodePtr sig) {
  xmlChar* text = xmlNodeGetContent(find(sig->children, ns_ds, "SignatureValue"));
  std::string v(reinterpret_cast<char const*>(text));
  xmlFree(text);
  return v;
}

TEST(sign, direct_and_generic_paths_produce_the_same_signature) {
  // RSA PKCS#1 v1.5 is deterministic: the library's own c14n and EVP (the default path) must
  // give xmlsec's digests and SignatureValue exactly.
  for (auto method : {uri::rsa_sha256, uri::rsa_sha512}) {
    SCOPED_TRACE(std::string(method));
    auto direct_doc = unsigned_response(), generic_doc = unsigned_response();
    auto spec = enveloped(method);
    auto direct = sign(direct_doc, direct_doc.root(), direct_doc.root()->children->next,
                       pair("rsa2048"), spec);
    spec.generic_only = true;
    auto generic = sign(generic_doc, generic_doc.root(), generic_doc.root()->children->next,
                        pair("rsa2048"), spec);
    ASSERT_TRUE(direct);
    ASSERT_TRUE(generic);
    EXPECT_EQ(signature_values(*direct), signature_values(*generic));
    EXPECT_EQ(signature_values(*direct).size(), 2u);
    // Each path was the one asked for: xmlsec wraps its base64, the direct path does not.
    EXPECT_EQ(signature_value_text(*direct).find('\n'), std::string::npos);
    EXPECT_NE(signature_value_text(*generic).find('\n'), std::string::npos);
    // and xmlsec's own verification (not the direct verifier) accepts the direct signature
    auto const policy = algorithm_policy::as4_receive();
    std::vector<key> trusted{pair("rsa2048").public_only()};
    std::string detail;
    auto v = verify(direct_doc, *direct, trusted,
                    {.policy = &policy, .detail = &detail, .generic_only = true});
    EXPECT_TRUE(v) << detail;
  }
}

TEST(sign, includes_the_certificate_on_request) {
  auto d = unsigned_response();
  auto spec = enveloped(uri::rsa_sha256);
  auto sig = sign(d, d.root(), nullptr, pair("rsa2048"), spec);
  ASSERT_TRUE(sig);
  xmlNodePtr cert = find((*sig)->children, ns_ds, "X509Certificate");
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(d.root()->last, *sig);  // appended when `before` is null

  auto d2 = unsigned_response();
  spec.include_certificate = false;
  auto sig2 = sign(d2, d2.root(), nullptr, pair("rsa2048"), spec);
  ASSERT_TRUE(sig2);
  EXPECT_EQ(find((*sig2)->children, ns_ds, "KeyInfo"), nullptr);
}

TEST(sign, refuses_what_must_never_be_produced) {
  auto expect = [](sign_spec const& spec, errc e, key const& k) {
    auto d = unsigned_response();
    auto before = d.serialise();
    auto r = sign(d, d.root(), nullptr, k, spec);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), e);
    EXPECT_EQ(d.serialise(), before);  // nothing left behind
  };
  auto const rsa = pair("rsa2048");
  expect(enveloped(uri::hmac_sha256), errc::algorithm_not_allowed, rsa);
  expect(enveloped(uri::rsa_sha1), errc::algorithm_not_allowed, rsa);
  auto sha1 = enveloped(uri::rsa_sha256);
  sha1.digest_method = std::string(uri::sha1);
  expect(sha1, errc::algorithm_not_allowed, rsa);
  auto xslt = enveloped(uri::rsa_sha256);
  xslt.references[0].transforms = {"http://www.w3.org/TR/1999/REC-xslt-19991116"};
  expect(xslt, errc::transform_not_allowed, rsa);
  auto missing = enveloped(uri::rsa_sha256);
  missing.references[0].uri = "#_nothing";
  expect(missing, errc::id_not_found, rsa);
  auto external = enveloped(uri::rsa_sha256);
  external.references[0].uri = "http://example.org/";
  expect(external, errc::reference_not_allowed, rsa);
  expect(enveloped(uri::rsa_sha256), errc::key_unusable, rsa.public_only());
  expect(enveloped(uri::ecdsa_sha256), errc::key_unusable, rsa);
  expect(enveloped(uri::rsa_sha256), errc::key_unusable, pair("rsa1024"));
}

TEST(sign_bytes, round_trips_and_openssl_cli_verifies_pss) {
  std::string const data = "SAMLRequest=fZJNT%2BMwEIb%2FSuR7mg%2FaQq02UqFCVGKhouUevIWeZqo8";
  auto const policy = algorithm_policy::eidas(true);
  struct c {
    char const* key;
    std::string_view method;
  };
  for (auto v : {c{"rsa2048", uri::rsa_sha256}, c{"rsa2048", uri::rsa_pss_sha256},
                 c{"rsa2048", uri::rsa_pss_sha512}, c{"p256", uri::ecdsa_sha256},
                 c{"p384", uri::ecdsa_sha384}}) {
    SCOPED_TRACE(std::string(v.method));
    auto k = pair(v.key);
    auto sig = sign_bytes(data, k, v.method);
    ASSERT_TRUE(sig);
    if (k.family() == key_family::ec) EXPECT_EQ(sig->size(), 2u * ((k.bits() + 7) / 8));
    EXPECT_TRUE(verify_bytes(data, *sig, k.public_only(), v.method, policy));
    auto bad = verify_bytes(data + "x", *sig, k.public_only(), v.method, policy);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), errc::signature_invalid);
  }
  // Interop: openssl dgst verifies our PSS octets (salt = digest length, MGF1-SHA-256).
  auto sig = sign_bytes(data, pair("rsa2048"), uri::rsa_pss_sha256);
  ASSERT_TRUE(sig);
  temp_dir tmp;
  std::ofstream(tmp.path / "data", std::ios::binary) << data;
  std::ofstream(tmp.path / "sig", std::ios::binary) << *sig;
  auto const pub = (tmp.path / "pub.pem").string();
  ASSERT_EQ(run("openssl x509 -in " + (vectors() / "rsa2048.crt").string() +
                " -pubkey -noout -out " + pub),
            0);
  EXPECT_EQ(
      run("openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 "
          "-sigopt rsa_mgf1_md:sha256 -verify " +
          pub + " -signature " + (tmp.path / "sig").string() + " " + (tmp.path / "data").string()),
      0);
}

TEST(sign_bytes, policy_and_key_checks) {
  auto const policy = algorithm_policy::eidas(false);
  auto k = pair("rsa2048");
  auto sig = sign_bytes("x", k, uri::rsa_sha256);
  ASSERT_TRUE(sig);
  auto r = verify_bytes("x", *sig, k, uri::rsa_sha256, policy);  // pkcs1 not allowed here
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::algorithm_not_allowed);
  EXPECT_FALSE(sign_bytes("x", k, uri::hmac_sha256));
  EXPECT_FALSE(sign_bytes("x", k.public_only(), uri::rsa_pss_sha256));
  auto wrong = verify_bytes("x", *sig, pair("p256"), uri::rsa_pss_sha256, policy);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), errc::key_unusable);
}

TEST(digest, sha2_only) {
  auto d = digest("abc", uri::sha256);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, std::string("\xba\x78\x16\xbf\x8f\x01\xcf\xea\x41\x41\x40\xde\x5d\xae\x22\x23"
                            "\xb0\x03\x61\xa3\x96\x17\x7a\x9c\xb4\x10\xff\x61\xf2\x00\x15\xad",
                            32));
  EXPECT_EQ(digest("abc", uri::sha384)->size(), 48u);
  EXPECT_EQ(digest("abc", uri::sha512)->size(), 64u);
  EXPECT_FALSE(digest("abc", uri::sha1));
  EXPECT_FALSE(digest("abc", "urn:unknown"));
}

}  // namespace
}  // namespace bbgw::xmlsec

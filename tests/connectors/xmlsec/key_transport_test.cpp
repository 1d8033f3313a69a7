// RSA key transport: xmlenc#rsa-oaep-mgf1p and xmlenc11#rsa-oaep against EncryptedKeys made by
// python3-cryptography and xmlsec1, the policy checks, and the sending side checked by Python.
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "xenc_test_support.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace testing;

std::string hex(std::string_view s) {
  static char const digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

TEST(key_transport, decrypts_python_vectors_the_eidas_policy_allows) {
  auto recipient = load_key("rsa");
  auto policy = algorithm_policy::eidas(false);
  for (auto name : {"oaep-mgf1p-sha256", "oaep11-mgf1sha256-sha256", "oaep11-mgf1sha512-sha512",
                    "oaep11-label"}) {
    auto v = load_vector(name);
    std::string detail;
    auto cek = decrypt_key(v.encrypted_key, recipient, policy, &detail);
    ASSERT_TRUE(cek) << name << ": " << detail;
    EXPECT_EQ(*cek, v.cek) << name;
  }
}

TEST(key_transport, sha1_oaep_digest_only_when_the_policy_lists_it) {
  auto recipient = load_key("rsa");
  // Explicit SHA-1 DigestMethod, and none at all (the spec's default is SHA-1).
  for (auto name : {"oaep-mgf1p-sha1", "oaep-mgf1p-default"}) {
    auto v = load_vector(name);
    std::string detail;
    auto refused = decrypt_key(v.encrypted_key, recipient, algorithm_policy::eidas(false), &detail);
    ASSERT_FALSE(refused) << name;
    EXPECT_EQ(refused.error(), errc::algorithm_not_allowed);
    EXPECT_NE(detail.find("digest"), std::string::npos) << detail;
    auto cek = decrypt_key(v.encrypted_key, recipient, eidas_plus({uri::sha1}));
    ASSERT_TRUE(cek) << name;
    EXPECT_EQ(*cek, v.cek);
  }
}

TEST(key_transport, xmlenc11_mgf1_sha1_only_when_the_policy_lists_it) {
  auto recipient = load_key("rsa");
  auto v = load_vector("oaep11-mgf1sha1-sha256");
  auto refused = decrypt_key(v.encrypted_key, recipient, algorithm_policy::eidas(false));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::algorithm_not_allowed);
  auto cek = decrypt_key(v.encrypted_key, recipient, eidas_plus({uri::mgf1_sha1}));
  ASSERT_TRUE(cek);
  EXPECT_EQ(*cek, v.cek);
}

TEST(key_transport, decrypts_the_xmlsec1_command_line_vector) {
  // xmlsec1 1.2.37 only does rsa-oaep-mgf1p with a SHA-1 OAEP digest.
  auto v = load_vector("xmlsec1-oaep-mgf1p-gcm");
  auto cek = decrypt_key(v.encrypted_key, load_key("rsa"), eidas_plus({uri::sha1}));
  ASSERT_TRUE(cek);
  EXPECT_EQ(cek->size(), 16u);
  auto plain = decrypt_data(v.encrypted_data, *cek, algorithm_policy::eidas(false));
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->find("<saml:Issuer>https://idp.example</saml:Issuer>"), std::string::npos);
}

TEST(key_transport, rsa_1_5_is_refused_unless_a_legacy_policy_lists_it) {
  auto v = load_vector("rsa15");
  auto recipient = load_key("rsa");
  for (auto const& policy : {algorithm_policy::eidas(false), algorithm_policy::eidas(true),
                             algorithm_policy::as4_receive()}) {
    auto r = decrypt_key(v.encrypted_key, recipient, policy);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::algorithm_not_allowed);
  }
  auto legacy = algorithm_policy::legacy(algorithm_policy::eidas(false));
  legacy.key_transport.emplace_back(uri::rsa_1_5);
  auto cek = decrypt_key(v.encrypted_key, recipient, legacy);
  ASSERT_TRUE(cek);
  EXPECT_EQ(*cek, v.cek);
}

TEST(key_transport, the_policy_is_checked_before_the_private_key_is_used) {
  // A key without its private half: a refusal must come before any attempt to use it.
  auto public_only = load_key("rsa").public_only();
  auto v = load_vector("rsa15");
  EXPECT_EQ(decrypt_key(v.encrypted_key, public_only, algorithm_policy::eidas(false)).error(),
            errc::algorithm_not_allowed);
  auto ok = load_vector("oaep11-mgf1sha256-sha256");
  EXPECT_EQ(decrypt_key(ok.encrypted_key, public_only, algorithm_policy::eidas(false)).error(),
            errc::key_unusable);
}

TEST(key_transport, wrong_key_and_tampered_cipher_value_fail_cleanly) {
  auto v = load_vector("oaep11-mgf1sha256-sha256");
  std::string detail;
  auto r =
      decrypt_key(v.encrypted_key, load_key("rsa-other"), algorithm_policy::eidas(false), &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::decryption_failed);
  EXPECT_FALSE(detail.empty());
  EXPECT_EQ(detail.find(hex(v.cek)), std::string::npos);

  xmlNodePtr cv = find(v.encrypted_key, ns_xenc, "CipherValue");
  auto bytes = base64(*text_of(cv));
  bytes[10] = static_cast<char>(bytes[10] ^ 0x40);
  set_text(cv, to_base64(bytes));
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::decryption_failed);
  set_text(cv, "AAAA");  // far shorter than the modulus
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::decryption_failed);
  set_text(cv, to_base64(bytes + "x"));  // longer than the modulus
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::decryption_failed);
}

TEST(key_transport, the_oaep_label_is_part_of_the_check) {
  auto v = load_vector("oaep11-label");
  xmlNodePtr params = find(v.encrypted_key, ns_xenc, "OAEPparams");
  ASSERT_NE(params, nullptr);
  set_text(params, to_base64("another label"));
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::decryption_failed);
  xmlUnlinkNode(params);
  xmlFreeNode(params);
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::decryption_failed);
}

TEST(key_transport, unknown_algorithms_and_ec_keys_are_refused) {
  auto v = load_vector("oaep11-mgf1sha256-sha256");
  xmlNodePtr em = find(v.encrypted_key, ns_xenc, "EncryptionMethod");
  xmlSetProp(em, reinterpret_cast<xmlChar const*>("Algorithm"),
             reinterpret_cast<xmlChar const*>("http://example.com/rsa-magic"));
  EXPECT_EQ(decrypt_key(v.encrypted_key, load_key("rsa"), algorithm_policy::eidas(false)).error(),
            errc::algorithm_not_allowed);
  auto w = load_vector("oaep11-mgf1sha256-sha256");
  EXPECT_EQ(
      decrypt_key(w.encrypted_key, load_key("ec-p256"), algorithm_policy::eidas(false)).error(),
      errc::key_unusable);
}

// What we send: encrypt_key + build_encrypted_key, decrypted by us and by python3-cryptography.
TEST(key_transport, encrypted_keys_we_build_decrypt_here_and_in_python) {
  auto recipient = load_key("rsa");
  auto cek = *random_bytes(16);
  for (auto const& spec :
       {key_transport_spec{},
        key_transport_spec{std::string(uri::rsa_oaep_mgf1p), std::string(uri::sha256), ""}}) {
    auto cipher = encrypt_key(cek, recipient.public_only(), spec);
    ASSERT_TRUE(cipher);
    xmlDocPtr raw = xmlNewDoc(reinterpret_cast<xmlChar const*>("1.0"));
    document doc(raw);
    xmlNodePtr root =
        xmlNewDocNode(raw, nullptr, reinterpret_cast<xmlChar const*>("Security"), nullptr);
    xmlDocSetRootElement(raw, root);
    std::string const ids[] = {"ed-1", "ed-2"};
    auto ek = build_encrypted_key(root, *cipher, spec, ids);
    ASSERT_TRUE(ek);
    // Through text and back, as a peer would see it.
    auto reparsed = document::parse(doc.serialise());
    ASSERT_TRUE(reparsed);
    xmlNodePtr parsed_ek = find(reparsed->root(), ns_xenc, "EncryptedKey");
    ASSERT_NE(parsed_ek, nullptr);
    auto back = decrypt_key(parsed_ek, recipient, algorithm_policy::eidas(false));
    ASSERT_TRUE(back) << spec.method;
    EXPECT_EQ(*back, cek);
    auto text = reparsed->serialise();
    EXPECT_NE(text.find("<xenc:DataReference URI=\"#ed-2\"/>"), std::string::npos) << text;
    EXPECT_NE(text.find("ds:DigestMethod Algorithm=\"" + std::string(uri::sha256)),
              std::string::npos);
    EXPECT_EQ(text.find("MGF") != std::string::npos, spec.method == uri::rsa_oaep) << text;

    std::string mgf = spec.method == uri::rsa_oaep ? "SHA256" : "SHA1";
    std::string py =
        "/usr/bin/python3 -c \"import sys,base64;"
        "from cryptography.hazmat.primitives import serialization,hashes;"
        "from cryptography.hazmat.primitives.asymmetric import padding;"
        "k=serialization.load_pem_private_key(open(sys.argv[1],'rb').read(),None);"
        "print(k.decrypt(base64.b64decode(sys.argv[2]),padding.OAEP("
        "mgf=padding.MGF1(hashes." +
        mgf + "()),algorithm=hashes.SHA256(),label=None)).hex())\" " +
        (vectors_dir() / "rsa.key.pem").string() + " " +
        *text_of(find(parsed_ek, ns_xenc, "CipherValue"));
    EXPECT_EQ(run(py), hex(cek) + "\n");
  }
}

TEST(key_transport, builder_refuses_unknown_methods) {
  xmlDocPtr raw = xmlNewDoc(reinterpret_cast<xmlChar const*>("1.0"));
  document doc(raw);
  xmlNodePtr root = xmlNewDocNode(raw, nullptr, reinterpret_cast<xmlChar const*>("r"), nullptr);
  xmlDocSetRootElement(raw, root);
  key_transport_spec spec{std::string(uri::rsa_1_5), std::string(uri::sha256), ""};
  EXPECT_EQ(build_encrypted_key(root, "x", spec).error(), errc::algorithm_not_allowed);
  EXPECT_EQ(encrypt_key("0123456789abcdef", load_key("rsa"), spec).error(),
            errc::algorithm_not_allowed);
}

}  // namespace
}  // namespace bbgw::xmlsec

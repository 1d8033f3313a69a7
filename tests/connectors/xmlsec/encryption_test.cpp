// EncryptedData and encrypted elements: vectors from python3-cryptography and xmlsec1, the
// python3-saml corpus (rsa-1_5 + aes128-cbc) and AS4 messages made by AS4.NET and phase4.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <libxml/tree.h>

#include "xenc_test_support.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace testing;

std::filesystem::path shared(std::string const& rel) {
  return std::filesystem::path(BBGW_SHARED_DIR) / "fixtures" / rel;
}

// ---- EncryptedData ---------------------------------------------------------------------

TEST(decrypt_data, decrypts_aes_gcm_of_every_key_size) {
  for (auto name : {"oaep11-mgf1sha256-sha256", "oaep11-mgf1sha1-sha256", "oaep-mgf1p-sha256"}) {
    auto v = load_vector(name);
    auto plain = decrypt_data(v.encrypted_data, v.cek, algorithm_policy::eidas(false));
    ASSERT_TRUE(plain) << name;
    EXPECT_EQ(*plain, v.plaintext);
  }
}

TEST(decrypt_data, flipped_truncated_or_wrongly_keyed_data_fails) {
  auto v = load_vector("oaep11-mgf1sha256-sha256");
  auto policy = algorithm_policy::eidas(false);
  xmlNodePtr cv = data_cipher_value(v);
  auto const original = base64(*text_of(cv));
  for (std::size_t at : {std::size_t{3}, std::size_t{20}, original.size() - 2}) {
    auto bad = original;
    bad[at] = static_cast<char>(bad[at] ^ 0x80);
    set_text(cv, to_base64(bad));
    std::string detail;
    auto r = decrypt_data(v.encrypted_data, v.cek, policy, &detail);
    ASSERT_FALSE(r) << at;
    EXPECT_EQ(r.error(), errc::decryption_failed);
    EXPECT_FALSE(detail.empty());
  }
  set_text(cv, to_base64(original.substr(0, 27)));
  EXPECT_EQ(decrypt_data(v.encrypted_data, v.cek, policy).error(), errc::decryption_failed);
  set_text(cv, to_base64(original));
  EXPECT_EQ(decrypt_data(v.encrypted_data, *random_bytes(16), policy).error(),
            errc::decryption_failed);
  EXPECT_EQ(decrypt_data(v.encrypted_data, *random_bytes(32), policy).error(),
            errc::decryption_failed);  // key size does not match aes128-gcm
  set_text(cv, "not base64!");
  EXPECT_EQ(decrypt_data(v.encrypted_data, v.cek, policy).error(), errc::decryption_failed);
}

TEST(decrypt_data, cbc_only_when_the_policy_lists_it) {
  auto v = load_vector("cbc-aes128");
  auto refused = decrypt_data(v.encrypted_data, v.cek, algorithm_policy::eidas(false));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), errc::algorithm_not_allowed);
  EXPECT_EQ(decrypt_data(v.encrypted_data, v.cek, algorithm_policy::as4_receive()).error(),
            errc::algorithm_not_allowed);
  auto legacy = eidas_plus({}, {uri::aes128_cbc});
  auto plain = decrypt_data(v.encrypted_data, v.cek, legacy);
  ASSERT_TRUE(plain);
  EXPECT_EQ(*plain, v.plaintext);
  // Padding: the last octet must count 1..16 padding octets.
  xmlNodePtr cv = data_cipher_value(v);
  auto data = base64(*text_of(cv));
  data[data.size() - 17] = static_cast<char>(data[data.size() - 17] ^ 0x20);  // IV of last block
  set_text(cv, to_base64(data));
  auto bad = decrypt_data(v.encrypted_data, v.cek, legacy);
  EXPECT_TRUE(!bad || *bad != v.plaintext);
  set_text(cv, to_base64(data.substr(0, data.size() - 5)));  // not whole blocks
  EXPECT_EQ(decrypt_data(v.encrypted_data, v.cek, legacy).error(), errc::decryption_failed);
}

TEST(decrypt_data, a_cipher_reference_is_not_followed) {
  auto v = load_vector("oaep11-mgf1sha256-sha256");
  xmlNodePtr cd = children(v.encrypted_data, ns_xenc, "CipherData").at(0);
  xmlNodePtr cv = data_cipher_value(v);
  xmlUnlinkNode(cv);
  xmlFreeNode(cv);
  xmlNodePtr ref =
      xmlNewChild(cd, cd->ns, reinterpret_cast<xmlChar const*>("CipherReference"), nullptr);
  xmlNewProp(ref, reinterpret_cast<xmlChar const*>("URI"),
             reinterpret_cast<xmlChar const*>("file:///etc/passwd"));
  EXPECT_EQ(decrypt_data(v.encrypted_data, v.cek, algorithm_policy::eidas(false)).error(),
            errc::reference_not_allowed);
}

// ---- encrypted elements ----------------------------------------------------------------

void expect_assertion_replaced(vector_doc& v, xmlNodePtr element) {
  ASSERT_NE(element, nullptr);
  EXPECT_TRUE(is(element, ns_saml, "Assertion"));
  EXPECT_EQ(find(v.doc.root(), ns_saml, "EncryptedAssertion"), nullptr);
  EXPECT_EQ(find(v.doc.root(), ns_xenc, "EncryptedData"), nullptr);
  EXPECT_EQ(element->parent, v.doc.root());
  // The tree is whole: it serialises and parses again with the same content.
  auto again = document::parse(v.doc.serialise());
  ASSERT_TRUE(again);
  xmlNodePtr issuer = find(again->root(), ns_saml, "Issuer");
  ASSERT_NE(issuer, nullptr);
  EXPECT_EQ(*text_of(issuer), "https://idp.example");
}

TEST(decrypt_element, replaces_the_wrapper_by_the_decrypted_assertion) {
  for (auto [name, keyname] :
       std::map<std::string, std::string>{{"oaep11-mgf1sha256-sha256", "rsa"},
                                          {"oaep-mgf1p-sha256", "rsa"},
                                          {"ecdh-p256-kw128", "ec-p256"},
                                          {"ecdh-bp384-kw256", "ec-bp384"},
                                          {"sibling-retrieval", "rsa"},
                                          {"sibling-keyname", "rsa"},
                                          {"sibling-reflist", "rsa"},
                                          {"xml-declaration", "rsa"}}) {
    auto v = load_vector(name);
    std::string detail;
    auto element = decrypt_element(v.doc, v.wrapper, load_key(keyname),
                                   algorithm_policy::eidas(false), {}, &detail);
    ASSERT_TRUE(element) << name << ": " << detail;
    expect_assertion_replaced(v, *element);
  }
}

TEST(decrypt_element, decrypts_what_xmlsec1_encrypted) {
  auto v = load_vector("xmlsec1-oaep-mgf1p-gcm");
  EXPECT_EQ(decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {})
                .error(),
            errc::algorithm_not_allowed);  // xmlsec1 1.2 only does SHA-1 as the OAEP digest
  auto element = decrypt_element(v.doc, v.wrapper, load_key("rsa"), eidas_plus({uri::sha1}), {});
  ASSERT_TRUE(element);
  expect_assertion_replaced(v, *element);
}

TEST(decrypt_element, decrypts_a_pysaml2_encrypted_assertion) {
  // pysaml2 7 (through xmlsec1): EncryptedKey inside KeyInfo, rsa-oaep-mgf1p with SHA-1 OAEP
  // digest (all xmlsec1 1.2 can do), aes128-gcm; the plaintext relies on the Response's saml:
  // declaration (xmlsec serialises the node without the namespaces it inherits).
  auto v = load_vector("pysaml2-response");
  EXPECT_EQ(decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {})
                .error(),
            errc::algorithm_not_allowed);
  std::string detail;
  auto element =
      decrypt_element(v.doc, v.wrapper, load_key("rsa"), eidas_plus({uri::sha1}), {}, &detail);
  ASSERT_TRUE(element) << detail;
  expect_assertion_replaced(v, *element);
}

TEST(decrypt_element, prefixes_declared_around_the_wrapper_resolve_and_survive) {
  // The plaintext uses saml: (declared on the wrapper only) and xsi: (on the root).
  auto v = load_vector("context-ns");
  auto element =
      decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {});
  ASSERT_TRUE(element);
  expect_assertion_replaced(v, *element);
  xmlNodePtr attr = find(*element, ns_saml, "Attribute");
  ASSERT_NE(attr, nullptr);
  auto type = attribute_ns(attr, "http://www.w3.org/2001/XMLSchema-instance", "type");
  ASSERT_TRUE(type);
  EXPECT_EQ(*type, "saml:AttributeType");
  xmlNsPtr saml = xmlSearchNs(v.doc.get(), attr, reinterpret_cast<xmlChar const*>("saml"));
  ASSERT_NE(saml, nullptr);  // the QName's prefix is still in scope
  EXPECT_EQ(std::string_view(reinterpret_cast<char const*>(saml->href)), ns_saml);
}

TEST(decrypt_element, hostile_plaintexts_are_refused_and_the_tree_is_left_alone) {
  auto key = load_key("rsa");
  for (auto [name, expected] :
       std::map<std::string, errc>{{"bad-doctype", errc::doctype_forbidden},
                                   {"bad-entity", errc::doctype_forbidden},
                                   {"bad-two-elements", errc::unexpected_content}}) {
    auto v = load_vector(name);
    std::string detail;
    auto r = decrypt_element(v.doc, v.wrapper, key, algorithm_policy::eidas(false), {}, &detail);
    ASSERT_FALSE(r) << name;
    EXPECT_EQ(r.error(), expected) << name << ": " << detail;
    EXPECT_NE(find(v.doc.root(), ns_saml, "EncryptedAssertion"), nullptr);
    EXPECT_EQ(find(v.doc.root(), ns_saml, "Assertion"), nullptr);
  }
}

TEST(decrypt_element, the_limits_apply_to_the_plaintext) {
  auto v = load_vector("oaep11-mgf1sha256-sha256");
  parse_limits small;
  small.max_bytes = 100;
  EXPECT_EQ(
      decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), small)
          .error(),
      errc::too_large);
  parse_limits shallow;
  shallow.max_depth = 3;  // Response > Assertion > AttributeStatement > Attribute
  EXPECT_EQ(
      decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), shallow)
          .error(),
      errc::too_deep);
  parse_limits few;
  few.max_nodes = 5;
  EXPECT_EQ(decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), few)
                .error(),
            errc::too_large);
}

TEST(decrypt_element, a_retrieval_method_never_leaves_the_wrapper) {
  // The EncryptedKey it names exists nowhere in the wrapper: not found, nothing else searched.
  auto v = load_vector("retrieval-outside");
  auto r = decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::id_not_found);
  // An external URI is refused outright.
  auto w = load_vector("sibling-retrieval");
  xmlNodePtr rm = find(w.encrypted_data, ns_ds, "RetrievalMethod");
  xmlSetProp(rm, reinterpret_cast<xmlChar const*>("URI"),
             reinterpret_cast<xmlChar const*>("http://attacker.example/key.xml"));
  EXPECT_EQ(decrypt_element(w.doc, w.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {})
                .error(),
            errc::reference_not_allowed);
}

TEST(decrypt_element, refused_algorithms_and_wrong_keys) {
  {
    auto v = load_vector("rsa15");
    EXPECT_EQ(decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {})
                  .error(),
              errc::algorithm_not_allowed);
  }
  {
    auto v = load_vector("cbc-aes128");
    EXPECT_EQ(decrypt_element(v.doc, v.wrapper, load_key("rsa"), algorithm_policy::eidas(false), {})
                  .error(),
              errc::algorithm_not_allowed);
  }
  {
    auto v = load_vector("oaep11-mgf1sha256-sha256");
    std::string detail;
    auto r = decrypt_element(v.doc, v.wrapper, load_key("rsa-other"),
                             algorithm_policy::eidas(false), {}, &detail);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::decryption_failed);
    EXPECT_FALSE(detail.empty());
    EXPECT_NE(find(v.doc.root(), ns_saml, "EncryptedAssertion"), nullptr);
  }
}

TEST(decrypt_element, survives_mutated_messages) {
  // Memory safety under ASan on damaged input: every outcome is a result, never a crash; a
  // success must still be one Assertion element in place of the wrapper.
  std::string const original = read_file(vectors_dir() / "sibling-reflist.xml");
  auto recipient = load_key("rsa");
  std::uint32_t seed = 12345;
  auto next = [&] { return seed = seed * 1664525u + 1013904223u; };
  int decrypted = 0;
  int reached = 0;
  for (int i = 0; i < 400; ++i) {
    std::string text = original;
    auto at = next() % text.size();  // one mutation: most results still parse
    switch (next() % 3) {
      case 0:
        text[at] = static_cast<char>(next());
        break;
      case 1:
        text.erase(at, next() % 40);
        break;
      default:
        text.insert(at, text.substr(next() % text.size(), next() % 60));
        break;
    }
    auto doc = document::parse(text);
    if (!doc) continue;
    xmlNodePtr wrapper = find(doc->root(), ns_saml, "EncryptedAssertion");
    if (!wrapper) continue;
    ++reached;
    auto r = decrypt_element(*doc, wrapper, recipient, algorithm_policy::eidas(false), {});
    if (r) {
      ++decrypted;
      EXPECT_TRUE(is(*r, ns_saml, "Assertion"));
      EXPECT_TRUE(document::parse(doc->serialise()));
    }
  }
  EXPECT_GT(reached, 50);  // many mutations get past the parser into decryption
  EXPECT_LT(decrypted, reached);
  std::printf("mutations: %d reached decryption, %d still decrypted\n", reached, decrypted);
}

// ---- python3-saml corpus: rsa-1_5 + aes128-cbc -------------------------------------------

TEST(python3_saml, encrypted_assertion_is_refused_for_its_algorithms_not_its_key) {
  auto text = base64(read_file(shared("saml/python3-saml/signed_encrypted_assertion.xml.base64")));
  auto sp_key = key::from_pem_file(shared("saml/python3-saml/sp-settings8.key"));
  ASSERT_TRUE(sp_key);
  {
    auto doc = document::parse(text);
    ASSERT_TRUE(doc);
    xmlNodePtr wrapper = find(doc->root(), ns_saml, "EncryptedAssertion");
    ASSERT_NE(wrapper, nullptr);
    std::string detail;
    auto r = decrypt_element(*doc, wrapper, *sp_key, algorithm_policy::eidas(false), {}, &detail);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::algorithm_not_allowed);
    EXPECT_NE(detail.find("aes128-cbc"), std::string::npos) << detail;
    // Even with CBC allowed, rsa-1_5 is still refused.
    r = decrypt_element(*doc, wrapper, *sp_key, eidas_plus({}, {uri::aes128_cbc}), {}, &detail);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::algorithm_not_allowed);
  }
  auto doc = document::parse(text);
  ASSERT_TRUE(doc);
  xmlNodePtr wrapper = find(doc->root(), ns_saml, "EncryptedAssertion");
  auto legacy = algorithm_policy::legacy(algorithm_policy::eidas(false));  // RSA-1024 key
  legacy.key_transport.emplace_back(uri::rsa_1_5);
  legacy.data_encryption.emplace_back(uri::aes128_cbc);
  std::string detail;
  auto element = decrypt_element(*doc, wrapper, *sp_key, legacy, {}, &detail);
  ASSERT_TRUE(element) << detail;
  EXPECT_TRUE(is(*element, ns_saml, "Assertion"));
  EXPECT_NE(find(*element, "http://www.w3.org/2000/09/xmldsig#", "Signature"), nullptr);
  EXPECT_NE(find(*element, ns_saml, "NameID"), nullptr);
}

// ---- AS4: AS4.NET's encrypted message and phase4's --------------------------------------

struct mime_part {
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// A tiny multipart splitter for the test only (the connector has its own MIME parser).
std::vector<mime_part> split_mime(std::string const& raw) {
  std::vector<mime_part> parts;
  std::string const boundary = raw.substr(0, raw.find("\r\n"));  // "--…"
  std::size_t at = boundary.size() + 2;
  while (true) {
    std::size_t end = raw.find("\r\n" + boundary, at);
    if (end == std::string::npos) break;
    std::string chunk = raw.substr(at, end - at);
    std::size_t split = chunk.find("\r\n\r\n");
    mime_part p;
    std::string head = chunk.substr(0, split);
    std::size_t line = 0;
    while (line < head.size()) {
      std::size_t eol = head.find("\r\n", line);
      if (eol == std::string::npos) eol = head.size();
      std::string h = head.substr(line, eol - line);
      auto colon = h.find(':');
      std::string name = h.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      p.headers[name] = value;
      line = eol + 2;
    }
    p.body = chunk.substr(split + 4);
    parts.push_back(std::move(p));
    at = end + 2 + boundary.size();
    if (raw.compare(at, 2, "--") == 0) break;
    at += 2;
  }
  return parts;
}

int gunzip_count = 0;

std::string gunzip(std::string const& gz) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bbgw-xenc-" + std::to_string(::getpid()) + "-" + std::to_string(++gunzip_count));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "in.gz", std::ios::binary) << gz; }
  std::string cmd =
      "gzip -dc '" + (dir / "in.gz").string() + "' > '" + (dir / "out").string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  std::string out = read_file(dir / "out");
  std::filesystem::remove_all(dir);
  return out;
}

class as4net : public ::testing::TestWithParam<std::string> {};

TEST_P(as4net, decrypts_the_attachments_streamed_and_yields_jpeg_and_xml) {
  auto parts = split_mime(read_file(shared("as4/as4net/" + GetParam())));
  ASSERT_EQ(parts.size(), 3u);
  parse_limits limits;
  auto doc = document::parse(parts[0].body, limits);
  ASSERT_TRUE(doc);
  auto recipient =
      key::from_pkcs12_file(shared("as4/as4net/AccessPointB.pfx"), "Pz4cZK4SULUwmraZb");
  ASSERT_TRUE(recipient);
  xmlNodePtr ek = find(doc->root(), ns_xenc, "EncryptedKey");
  ASSERT_NE(ek, nullptr);
  auto policy = algorithm_policy::as4_receive();
  std::string detail;
  // rsa-oaep-mgf1p with a SHA-256 OAEP digest (and the MGF1-SHA1 mgf1p implies).
  auto cek = decrypt_key(ek, *recipient, policy, &detail);
  ASSERT_TRUE(cek) << detail;
  ASSERT_EQ(cek->size(), 16u);

  // Each xenc:EncryptedData names its attachment by CipherReference cid:…
  std::map<std::string, std::string> by_cid;
  for (auto const& p : parts) {
    auto id = p.headers.count("content-id") ? p.headers.at("content-id") : "";
    if (id.size() > 2) by_cid[id.substr(1, id.size() - 2)] = p.body;
  }
  int jpeg = 0, xml = 0;
  for (xmlNodePtr ed = find(doc->root(), ns_xenc, "EncryptedData"); ed;
       ed = find(ed->next, ns_xenc, "EncryptedData")) {
    xmlNodePtr ref = find(ed->children, ns_xenc, "CipherReference");
    ASSERT_NE(ref, nullptr);
    auto uri = *attribute(ref, "URI");
    ASSERT_EQ(uri.rfind("cid:", 0), 0u);
    auto const& body = by_cid.at(uri.substr(4));
    gcm_decryptor dec(*cek);
    std::string plain;
    for (std::size_t at = 0; at < body.size(); at += 4096)
      ASSERT_TRUE(dec.update(std::string_view(body).substr(at, 4096), plain));
    ASSERT_TRUE(dec.finish(plain));
    ASSERT_GE(plain.size(), 2u);
    EXPECT_EQ(plain.substr(0, 2), "\x1f\x8b");  // gzip (CompressionType application/gzip)
    auto payload = gunzip(plain);
    if (payload.rfind("\xff\xd8\xff", 0) == 0) ++jpeg;
    if (payload.find("<?xml") != std::string::npos || payload.rfind("<", 0) == 0) ++xml;
    // A flipped byte in the attachment fails the tag.
    auto bad = body;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
    EXPECT_EQ(aes_gcm_decrypt(*cek, bad).error(), errc::decryption_failed);
  }
  EXPECT_EQ(jpeg, 1);
  EXPECT_EQ(xml, 1);
}

INSTANTIATE_TEST_SUITE_P(messages, as4net,
                         ::testing::Values("as4-encrypted-signed-issuerserial.as4",
                                           "as4-encrypted-signed-keyidentifier.as4"));

TEST(as4, phase4_encrypted_key_parses_and_a_wrong_key_fails_cleanly) {
  auto raw = read_file(shared("as4/phase4/dump-raw.as4out"));
  auto start = raw.find("<S12:Envelope");
  auto end = raw.find("</S12:Envelope>");
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  auto doc = document::parse(raw.substr(start, end + 15 - start));
  ASSERT_TRUE(doc);
  xmlNodePtr ek = find(doc->root(), ns_xenc, "EncryptedKey");
  ASSERT_NE(ek, nullptr);
  auto not_the_recipient =
      key::from_pkcs12_file(shared("as4/as4net/AccessPointB.pfx"), "Pz4cZK4SULUwmraZb");
  ASSERT_TRUE(not_the_recipient);
  std::string detail;
  // xmlenc11 rsa-oaep + mgf1sha256 + sha256: allowed, so the failure is the key's.
  auto r = decrypt_key(ek, *not_the_recipient, algorithm_policy::as4_receive(), &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::decryption_failed) << detail;
  EXPECT_EQ(detail, "key transport decryption failed");
}

}  // namespace
}  // namespace bbgw::xmlsec

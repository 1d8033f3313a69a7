#pragma once
// Shared by the XML Encryption tests: the vectors made by data/make_xenc_vectors.py
// (python3-cryptography and the xmlsec1 command line), keys, small tree helpers.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <libxml/tree.h>

#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::xmlsec::testing {

inline constexpr std::string_view ns_xenc = "http://www.w3.org/2001/04/xmlenc#";
inline constexpr std::string_view ns_ds = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view ns_saml = "urn:oasis:names:tc:SAML:2.0:assertion";

inline std::filesystem::path vectors_dir() {
  return std::filesystem::path(BBGW_SOURCE_DIR) / "tests/connectors/xmlsec/data/xenc";
}

inline std::string read_file(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string unhex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

inline std::string base64(std::string_view text) {
  // Test-side decoder (independent of the library's).
  static constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : text) {
    auto v = alphabet.find(c);
    if (v == std::string_view::npos) continue;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  return out;
}

inline std::string to_base64(std::string_view bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(alphabet[(v >> 18) & 63]);
    out.push_back(alphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? alphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

inline void set_text(xmlNodePtr n, std::string const& text) {
  xmlNodeSetContent(n, reinterpret_cast<xmlChar const*>(text.c_str()));
}

// Depth-first: the first element with this namespace and local name under `n` (inclusive).
inline xmlNodePtr find(xmlNodePtr n, std::string_view ns, std::string_view local) {
  for (; n; n = n->next) {
    if (is(n, ns, local)) return n;
    if (n->type == XML_ELEMENT_NODE)
      if (xmlNodePtr hit = find(n->children, ns, local)) return hit;
  }
  return nullptr;
}

struct vector_doc {
  document doc;
  xmlNodePtr wrapper = nullptr;  // saml:EncryptedAssertion
  xmlNodePtr encrypted_data = nullptr;
  xmlNodePtr encrypted_key = nullptr;  // the first one, inside KeyInfo or beside
  std::string cek;                     // empty when the vector does not tell (xmlsec1)
  std::string plaintext;
};

inline vector_doc load_vector(std::string const& name) {
  auto parsed = document::parse(read_file(vectors_dir() / (name + ".xml")));
  EXPECT_TRUE(parsed) << name;
  vector_doc v{std::move(*parsed)};
  xmlNodePtr root = v.doc.root();
  xmlNodePtr expect = find(root, "urn:bbgw:test", "Expect");
  v.cek = unhex(*attribute(expect, "cek"));
  v.plaintext = base64(*attribute(expect, "plaintext"));
  v.wrapper = find(root, ns_saml, "EncryptedAssertion");
  v.encrypted_data = find(root, ns_xenc, "EncryptedData");
  v.encrypted_key = find(root, ns_xenc, "EncryptedKey");
  return v;
}

// The EncryptedData's own CipherValue element (not the one of an EncryptedKey inside KeyInfo).
inline xmlNodePtr data_cipher_value(vector_doc const& v) {
  return children(children(v.encrypted_data, ns_xenc, "CipherData").at(0), ns_xenc, "CipherValue")
      .at(0);
}

inline key load_key(std::string const& name) {
  auto k = key::from_pem_file(vectors_dir() / (name + ".key.pem"));
  EXPECT_TRUE(k) << name;
  return *k;
}

// eIDAS policy plus extra entries, for vectors that use what eIDAS refuses.
inline algorithm_policy eidas_plus(std::initializer_list<std::string_view> key_transport = {},
                                   std::initializer_list<std::string_view> data = {}) {
  auto p = algorithm_policy::eidas(false);
  for (auto u : key_transport) p.key_transport.emplace_back(u);
  for (auto u : data) p.data_encryption.emplace_back(u);
  return p;
}

// Runs a shell command and returns its standard output.
inline std::string run(std::string const& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

}  // namespace bbgw::xmlsec::testing

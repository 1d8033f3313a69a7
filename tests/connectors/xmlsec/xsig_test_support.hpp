#pragma once
// Shared by the parsing/schema/key/signature tests: fixture paths, the vectors made by
// data/xsig/make_xsig_vectors.sh, small helpers.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::xmlsec::xsig_testing {

inline constexpr std::string_view ns_ds = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view ns_wsu =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
inline constexpr id_attribute saml_id[] = {{"", "ID"}};
inline constexpr id_attribute wsu_id[] = {{ns_wsu, "Id"}};

inline std::filesystem::path vectors() {
  return std::filesystem::path(BBGW_SOURCE_DIR) / "tests/connectors/xmlsec/data/xsig";
}
inline std::filesystem::path fixtures() {
  return std::filesystem::path(BBGW_SHARED_DIR) / "fixtures";
}
inline std::filesystem::path schemas() {
  return std::filesystem::path(BBGW_SOURCE_DIR) / "schemas/xsd";
}

inline std::string read_file(std::filesystem::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string base64_file(std::filesystem::path const& p) {
  std::string text;
  for (char c : read_file(p))
    if (c != '\n' && c != '\r' && c != ' ') text.push_back(c);
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<unsigned char const*>(text.data()),
                          static_cast<int>(text.size()));
  std::size_t pad = text.size() > 1 ? (text.back() == '=') + (text[text.size() - 2] == '=') : 0;
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n) - pad);
  return out;
}

// The first element with this namespace and local name, depth-first.
inline xmlNodePtr find(xmlNodePtr n, std::string_view ns, std::string_view local) {
  for (; n != nullptr; n = n->next) {
    if (is(n, ns, local)) return n;
    if (auto* c = find(n->children, ns, local)) return c;
  }
  return nullptr;
}

inline std::string replace(std::string s, std::string_view from, std::string_view to) {
  auto pos = s.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

// A per-test temporary directory, removed afterwards.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bbgw-xsig-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace bbgw::xmlsec::xsig_testing

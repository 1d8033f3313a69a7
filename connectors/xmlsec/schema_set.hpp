#pragma once
// A set of XSDs loaded from local files only (imports are resolved to the files given, never to
// the network), validating documents or subtrees. Loading is for start-up; validation is
// thread-safe (one validation context per call).
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include <libxml/tree.h>

#include "bbgw/result.hpp"

namespace bbgw::xmlsec {

class schema_set {
 public:
  // `files` are XSDs (e.g. schemas/xsd/saml/saml-schema-protocol-2.0.xsd and
  // schemas/xsd/eidas/saml_eidas_extension.xsd); each namespace they import must be one of
  // `files` (by targetNamespace) or is refused. `detail` receives libxml2's first message.
  static result<schema_set> load(std::span<std::filesystem::path const> files,
                                 std::string* detail = nullptr);

  // Validates the element (and its subtree) or the whole document.
  result<void> validate(xmlDocPtr doc, std::string* detail = nullptr) const;
  result<void> validate(xmlNodePtr element, std::string* detail = nullptr) const;

  schema_set(schema_set&&) noexcept;
  schema_set& operator=(schema_set&&) noexcept;
  ~schema_set();

 private:
  struct impl;
  explicit schema_set(std::unique_ptr<impl>);
  std::unique_ptr<impl> impl_;
};

}  // namespace bbgw::xmlsec

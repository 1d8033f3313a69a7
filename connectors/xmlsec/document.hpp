#pragma once
// A hardened, parsed XML document: no DOCTYPE (rejected, not ignored), no entity substitution,
// no network, no XInclude, size/depth/node limits; ID attributes only those registered
// explicitly by the caller (never xml:id guessing, never DTD-declared IDs).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

#include "bbgw/result.hpp"

namespace bbgw::xmlsec {

struct parse_limits {
  std::size_t max_bytes = 1024 * 1024;
  unsigned max_depth = 64;
  std::size_t max_nodes = 100'000;  // elements + attributes + text nodes
};

// An attribute that identifies its element for same-document references, e.g.
// {"", "ID"} for SAML, {wsu namespace, "Id"} for WS-Security.
struct id_attribute {
  std::string_view ns;  // namespace URI of the attribute; empty = no namespace
  std::string_view name;
};

class document {
 public:
  static result<document> parse(std::string_view xml, parse_limits const& limits = {});
  // Adopts an xmlDoc built in code (e.g. an AuthnRequest about to be signed).
  explicit document(xmlDocPtr owned);

  document(document&&) noexcept;
  document& operator=(document&&) noexcept;
  ~document();

  xmlDocPtr get() const noexcept { return doc_; }
  xmlNodePtr root() const noexcept;

  // Registers every element's attribute matching one of `ids` as an XML ID. Two elements with
  // the same value → errc::duplicate_id (a wrapping attack's usual shape). May be called again
  // after the tree changed (e.g. after decrypting an assertion into it).
  result<void> register_ids(std::span<id_attribute const> ids);
  // The element whose registered ID equals `id` (no leading '#').
  xmlNodePtr find_id(std::string_view id) const;

  // The exact bytes of the tree as libxml2 serialises it (no pretty printing).
  std::string serialise() const;

 private:
  xmlDocPtr doc_ = nullptr;
};

// Small navigation helpers that never trust what they are not told to.
// The element's text when it holds only text (and CDATA); a comment, PI or child element
// inside → errc::unexpected_content (defeats comment-truncation attacks on NameID & co).
result<std::string> text_of(xmlNodePtr element);
// The value of attribute `name` (no namespace) or nullopt.
std::optional<std::string> attribute(xmlNodePtr element, std::string_view name);
std::optional<std::string> attribute_ns(xmlNodePtr element, std::string_view ns,
                                        std::string_view name);
// True when `node` is an element with this namespace URI and local name.
bool is(xmlNodePtr node, std::string_view ns, std::string_view local) noexcept;
// Escapes text for XML (and HTML) content and attribute values: & < > " '.
std::string xml_escape(std::string_view s);
// Element children of `parent` with this namespace and local name, in document order.
std::vector<xmlNodePtr> children(xmlNodePtr parent, std::string_view ns, std::string_view local);
// The only such child; nullopt when there are none; errc::unexpected_content when several.
result<xmlNodePtr> only_child(xmlNodePtr parent, std::string_view ns, std::string_view local);

}  // namespace bbgw::xmlsec

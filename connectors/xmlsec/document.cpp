// Hardened parsing: DOCTYPE refused at the parser (before any entity is declared or expanded),
// no network, no entity substitution, no DTD loading, no XInclude; limits on bytes, depth and
// nodes; IDs registered only as the caller says.
#include "xmlsec/document.hpp"

#include <cstring>
#include <utility>

#include <libxml/parser.h>
#include <libxml/valid.h>
#include <libxml/xmlsave.h>

#include "xmlsec/errc.hpp"
#include "xmlsec/library.hpp"

namespace bbgw::xmlsec {
namespace {

struct parse_state {
  bool doctype_seen = false;
};

// Any DOCTYPE (internal or external subset) or entity declaration stops the parser at once.
void on_internal_subset(void* ctx, xmlChar const*, xmlChar const*, xmlChar const*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<parse_state*>(ctxt->_private)->doctype_seen = true;
  xmlStopParser(ctxt);
}
void on_entity_decl(void* ctx, xmlChar const*, int, xmlChar const*, xmlChar const*, xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxtPtr>(ctx);
  static_cast<parse_state*>(ctxt->_private)->doctype_seen = true;
  xmlStopParser(ctxt);
}
struct limits_walk {
  parse_limits const& limits;
  std::size_t nodes = 0;
  errc failure{};
};

// Counts nodes, checks depth, and removes the IDs libxml2 registers by itself for xml:id:
// only the caller's register_ids() decides what is an ID.
bool walk(xmlDocPtr doc, xmlNodePtr node, unsigned depth, limits_walk& w) {
  for (; node != nullptr; node = node->next) {
    if (++w.nodes > w.limits.max_nodes) {
      w.failure = errc::too_large;
      return false;
    }
    if (node->type == XML_DTD_NODE || node->type == XML_ENTITY_DECL ||
        node->type == XML_ENTITY_REF_NODE || node->type == XML_XINCLUDE_START) {
      w.failure = errc::doctype_forbidden;
      return false;
    }
    if (node->type != XML_ELEMENT_NODE) continue;
    if (depth + 1 > w.limits.max_depth) {
      w.failure = errc::too_deep;
      return false;
    }
    for (xmlAttrPtr a = node->properties; a != nullptr; a = a->next) {
      if (++w.nodes > w.limits.max_nodes) {
        w.failure = errc::too_large;
        return false;
      }
      if (a->atype == XML_ATTRIBUTE_ID) xmlRemoveID(doc, a);
    }
    if (!walk(doc, node->children, depth + 1, w)) return false;
  }
  return true;
}

}  // namespace

result<document> document::parse(std::string_view xml, parse_limits const& limits) {
  if (auto r = initialise(); !r) return r.error();
  if (xml.size() > limits.max_bytes) return make_error_code(errc::too_large);
  if (xml.size() > static_cast<std::size_t>(INT32_MAX)) return make_error_code(errc::too_large);

  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) return make_error_code(errc::internal);
  parse_state state;
  ctxt->_private = &state;
  ctxt->sax->internalSubset = on_internal_subset;
  ctxt->sax->externalSubset = on_internal_subset;
  ctxt->sax->entityDecl = on_entity_decl;

  // No NOENT (no substitution), no DTDLOAD/DTDATTR, no XINCLUDE, NONET; NONET also guards the
  // entity loader, which library.cpp makes refuse everything anyway.
  // NOERROR/NOWARNING: no stderr noise from untrusted input; the result code says enough.
  int const options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlDocPtr doc =
      xmlCtxtReadMemory(ctxt, xml.data(), static_cast<int>(xml.size()), nullptr, nullptr, options);
  bool const well_formed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
  xmlFreeParserCtxt(ctxt);
  if (state.doctype_seen) {
    if (doc != nullptr) xmlFreeDoc(doc);
    return make_error_code(errc::doctype_forbidden);
  }
  if (doc == nullptr || !well_formed || xmlDocGetRootElement(doc) == nullptr) {
    if (doc != nullptr) xmlFreeDoc(doc);
    return make_error_code(errc::malformed_xml);
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    xmlFreeDoc(doc);
    return make_error_code(errc::doctype_forbidden);
  }
  limits_walk w{limits};
  if (!walk(doc, doc->children, 0, w)) {
    xmlFreeDoc(doc);
    return make_error_code(w.failure);
  }
  return document(doc);
}

document::document(xmlDocPtr owned) : doc_(owned) {}
document::document(document&& other) noexcept : doc_(std::exchange(other.doc_, nullptr)) {}
document& document::operator=(document&& other) noexcept {
  if (this != &other) {
    if (doc_ != nullptr) xmlFreeDoc(doc_);
    doc_ = std::exchange(other.doc_, nullptr);
  }
  return *this;
}
document::~document() {
  if (doc_ != nullptr) xmlFreeDoc(doc_);
}

xmlNodePtr document::root() const noexcept {
  return doc_ == nullptr ? nullptr : xmlDocGetRootElement(doc_);
}

namespace {

xmlAttrPtr find_attribute(xmlNodePtr node, id_attribute const& id) {
  for (xmlAttrPtr a = node->properties; a != nullptr; a = a->next) {
    if (a->name == nullptr || std::string_view(reinterpret_cast<char const*>(a->name)) != id.name)
      continue;
    std::string_view ns = a->ns != nullptr && a->ns->href != nullptr
                              ? std::string_view(reinterpret_cast<char const*>(a->ns->href))
                              : std::string_view();
    if (ns == id.ns) return a;
  }
  return nullptr;
}

result<void> register_tree(xmlDocPtr doc, xmlNodePtr node, std::span<id_attribute const> ids) {
  for (; node != nullptr; node = node->next) {
    if (node->type != XML_ELEMENT_NODE) continue;
    for (auto const& id : ids) {
      xmlAttrPtr a = find_attribute(node, id);
      if (a == nullptr) continue;
      xmlChar* value = xmlNodeListGetString(doc, a->children, 1);
      if (value == nullptr) continue;
      xmlAttrPtr existing = xmlGetID(doc, value);
      if (existing != nullptr && existing != a) {
        xmlFree(value);
        return make_error_code(errc::duplicate_id);
      }
      if (existing == nullptr && xmlAddID(nullptr, doc, value, a) == nullptr) {
        xmlFree(value);
        return make_error_code(errc::internal);
      }
      xmlFree(value);
    }
    if (auto r = register_tree(doc, node->children, ids); !r) return r;
  }
  return {};
}

}  // namespace

result<void> document::register_ids(std::span<id_attribute const> ids) {
  if (doc_ == nullptr) return make_error_code(errc::internal);
  return register_tree(doc_, doc_->children, ids);
}

xmlNodePtr document::find_id(std::string_view id) const {
  if (doc_ == nullptr) return nullptr;
  std::string const value(id);
  xmlAttrPtr a = xmlGetID(doc_, reinterpret_cast<xmlChar const*>(value.c_str()));
  return a == nullptr ? nullptr : a->parent;
}

std::string document::serialise() const {
  if (doc_ == nullptr) return {};
  xmlChar* mem = nullptr;
  int size = 0;
  xmlDocDumpFormatMemoryEnc(doc_, &mem, &size, "UTF-8", 0);
  std::string out(reinterpret_cast<char const*>(mem), static_cast<std::size_t>(size));
  xmlFree(mem);
  return out;
}

result<std::string> text_of(xmlNodePtr element) {
  if (element == nullptr || element->type != XML_ELEMENT_NODE)
    return make_error_code(errc::unexpected_content);
  std::string out;
  for (xmlNodePtr c = element->children; c != nullptr; c = c->next) {
    if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE)
      return make_error_code(errc::unexpected_content);
    if (c->content != nullptr) out += reinterpret_cast<char const*>(c->content);
  }
  return out;
}

std::optional<std::string> attribute(xmlNodePtr element, std::string_view name) {
  if (element == nullptr || element->type != XML_ELEMENT_NODE) return std::nullopt;
  std::string const n(name);
  xmlChar* v = xmlGetNoNsProp(element, reinterpret_cast<xmlChar const*>(n.c_str()));
  if (v == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<char const*>(v));
  xmlFree(v);
  return out;
}

std::optional<std::string> attribute_ns(xmlNodePtr element, std::string_view ns,
                                        std::string_view name) {
  if (element == nullptr || element->type != XML_ELEMENT_NODE) return std::nullopt;
  std::string const n(name), s(ns);
  xmlChar* v = xmlGetNsProp(element, reinterpret_cast<xmlChar const*>(n.c_str()),
                            reinterpret_cast<xmlChar const*>(s.c_str()));
  if (v == nullptr) return std::nullopt;
  std::string out(reinterpret_cast<char const*>(v));
  xmlFree(v);
  return out;
}

bool is(xmlNodePtr node, std::string_view ns, std::string_view local) noexcept {
  if (node == nullptr || node->type != XML_ELEMENT_NODE || node->name == nullptr) return false;
  if (std::string_view(reinterpret_cast<char const*>(node->name)) != local) return false;
  std::string_view href = node->ns != nullptr && node->ns->href != nullptr
                              ? std::string_view(reinterpret_cast<char const*>(node->ns->href))
                              : std::string_view();
  return href == ns;
}

std::vector<xmlNodePtr> children(xmlNodePtr parent, std::string_view ns, std::string_view local) {
  std::vector<xmlNodePtr> out;
  if (parent == nullptr) return out;
  for (xmlNodePtr c = parent->children; c != nullptr; c = c->next)
    if (is(c, ns, local)) out.push_back(c);
  return out;
}

result<xmlNodePtr> only_child(xmlNodePtr parent, std::string_view ns, std::string_view local) {
  auto found = children(parent, ns, local);
  if (found.size() > 1) return make_error_code(errc::unexpected_content);
  if (found.empty()) return static_cast<xmlNodePtr>(nullptr);
  return found.front();
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace bbgw::xmlsec

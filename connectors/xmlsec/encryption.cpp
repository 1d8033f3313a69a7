// XML Encryption: EncryptedKey → CEK, EncryptedData → octets, and an encrypted element (e.g.
// saml:EncryptedAssertion) → the element, parsed with the library's hardening. Algorithms are
// checked against the policy before any private-key operation; failures carry a log-safe detail.
#include <algorithm>
#include <climits>
#include <vector>

#include <libxml/parser.h>

#include "xmlsec/encryption.hpp"
#include "xmlsec/library.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec {

using namespace xenc_detail;

namespace {

result<std::string> algorithm_of(xmlNodePtr encrypted, std::string* detail,
                                 xmlNodePtr* method_node = nullptr) {
  auto em = only_child(encrypted, ns_xenc, "EncryptionMethod");
  if (!em || !*em) return fail(errc::decryption_failed, detail, "no (single) EncryptionMethod");
  auto a = attribute(*em, "Algorithm");
  if (!a) return fail(errc::decryption_failed, detail, "EncryptionMethod without Algorithm");
  if (method_node) *method_node = *em;
  return std::move(*a);
}

result<std::string> cipher_value_of(xmlNodePtr encrypted, std::string* detail) {
  auto cd = only_child(encrypted, ns_xenc, "CipherData");
  if (!cd || !*cd) return fail(errc::decryption_failed, detail, "no (single) CipherData");
  auto ref = only_child(*cd, ns_xenc, "CipherReference");
  if (ref && *ref)
    return fail(errc::reference_not_allowed, detail,
                "CipherReference: attachments are decrypted with gcm_decryptor");
  auto cv = only_child(*cd, ns_xenc, "CipherValue");
  if (!cv || !*cv) return fail(errc::decryption_failed, detail, "no (single) CipherValue");
  auto text = text_of(*cv);
  if (!text) return fail(errc::decryption_failed, detail, "CipherValue is not plain text");
  auto bytes = detail::base64_decode(*text);
  if (!bytes) return fail(errc::decryption_failed, detail, "CipherValue is not base64");
  return std::move(*bytes);
}

// The content cipher of an EncryptedData, refused unless known and listed by the policy.
result<content_cipher> data_cipher(xmlNodePtr encrypted_data, algorithm_policy const& policy,
                                   std::string* detail) {
  if (!is(encrypted_data, ns_xenc, "EncryptedData"))
    return fail(errc::decryption_failed, detail, "not an xenc:EncryptedData");
  auto method = algorithm_of(encrypted_data, detail);
  if (!method) return method.error();
  auto cipher = content_cipher_by_uri(*method);
  if (!cipher || !policy.allows(policy.data_encryption, *method))
    return fail(errc::algorithm_not_allowed, detail,
                "content encryption " + *method + " is not allowed");
  return *cipher;
}

// ---- the encrypted element's plaintext, parsed in the wrapper's namespace context ------

bool whitespace_only(xmlChar const* s) {
  for (; s && *s; ++s)
    if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return false;
  return true;
}

// True when `xml` holds a reference to an entity other than the five XML predefines (which
// can only be declared by a DTD): tells an entity attack from plain malformed input.
bool uses_entity(std::string_view xml) {
  for (std::size_t at = xml.find('&'); at != std::string_view::npos; at = xml.find('&', at + 1)) {
    std::size_t end = xml.find(';', at);
    if (end == std::string_view::npos) return false;
    std::string_view name = xml.substr(at + 1, end - at - 1);
    if (name.empty() || name[0] == '#') continue;
    if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") continue;
    if (name.find_first_of(" <>&\"'") == std::string_view::npos) return true;
  }
  return false;
}

// Elements, attributes and text nodes under `root` (inclusive) and the subtree's depth; drops
// the IDs libxml2 registers by itself for xml:id (as document::parse does: only the caller's
// register_ids() decides what is an ID). False when an entity reference node is found.
bool measure(xmlDocPtr doc, xmlNodePtr root, std::size_t& nodes, unsigned& depth) {
  nodes = 0;
  depth = 0;
  unsigned level = 1;
  xmlNodePtr n = root;
  while (n) {
    if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_DECL || n->type == XML_DTD_NODE)
      return false;
    if (n->type == XML_ELEMENT_NODE) {
      ++nodes;
      for (xmlAttrPtr a = n->properties; a; a = a->next) {
        ++nodes;
        if (a->atype == XML_ATTRIBUTE_ID) xmlRemoveID(doc, a);
      }
      depth = std::max(depth, level);
    } else if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
      ++nodes;
    }
    if (n->type == XML_ELEMENT_NODE && n->children) {
      n = n->children;
      ++level;
      continue;
    }
    while (n && n != root && !n->next) {
      n = n->parent;
      --level;
    }
    if (!n || n == root) break;
    n = n->next;
  }
  return true;
}

unsigned depth_of(xmlNodePtr node) {
  unsigned d = 0;
  for (; node && node->type == XML_ELEMENT_NODE; node = node->parent) ++d;
  return d;
}

// Parses `xml` as the content of `wrapper` (so prefixes declared around the wrapper resolve):
// no DTD, no entities (an entity reference without a DTD is a well-formedness error), no
// network, the caller's size/depth/node limits, exactly one element and nothing else but
// whitespace. The element is returned unlinked; it belongs to wrapper's document.
result<xmlNodePtr> parse_in_context(xmlNodePtr wrapper, std::string_view xml,
                                    parse_limits const& limits, std::string* detail) {
  if (xml.size() > limits.max_bytes || xml.size() > static_cast<std::size_t>(INT_MAX))
    return fail(errc::too_large, detail, "decrypted element larger than the limit");
  if (xml.find("<!DOCTYPE") != std::string_view::npos ||
      xml.find("<!ENTITY") != std::string_view::npos)
    return fail(errc::doctype_forbidden, detail, "decrypted element carries a DTD");
  // Some encryptors serialise the element with an XML declaration; content cannot carry one.
  if (auto start = xml.find_first_not_of(" \t\r\n");
      start != std::string_view::npos && xml.substr(start, 6) == "<?xml ") {
    auto end = xml.find("?>", start);
    if (end == std::string_view::npos)
      return fail(errc::malformed_xml, detail, "decrypted element is not well-formed XML");
    xml.remove_prefix(end + 2);
  }
  xmlNodePtr list = nullptr;
  int const options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  xmlParserErrors rc =
      xmlParseInNodeContext(wrapper, xml.data(), static_cast<int>(xml.size()), options, &list);
  if (rc != XML_ERR_OK) {
    xmlFreeNodeList(list);
    if (uses_entity(xml))
      return fail(errc::doctype_forbidden, detail, "decrypted element uses an entity");
    return fail(errc::malformed_xml, detail, "decrypted element is not well-formed XML");
  }
  xmlNodePtr element = nullptr;
  bool clean = true;
  for (xmlNodePtr n = list; n;) {
    xmlNodePtr next = n->next;
    n->next = n->prev = nullptr;
    n->parent = nullptr;
    if (n->type == XML_ELEMENT_NODE && !element) {
      element = n;
      n = next;
      continue;
    }
    if (!(n->type == XML_TEXT_NODE && whitespace_only(n->content))) clean = false;
    xmlFreeNode(n);
    n = next;
  }
  if (!element || !clean) {
    if (element) xmlFreeNode(element);
    return fail(errc::unexpected_content, detail, "decrypted content is not exactly one element");
  }
  std::size_t nodes = 0;
  unsigned depth = 0;
  if (!measure(wrapper->doc, element, nodes, depth)) {
    xmlFreeNode(element);
    return fail(errc::doctype_forbidden, detail, "decrypted element uses an entity");
  }
  if (nodes > limits.max_nodes) {
    xmlFreeNode(element);
    return fail(errc::too_large, detail, "decrypted element has too many nodes");
  }
  if (depth_of(wrapper) - 1 + depth > limits.max_depth) {
    xmlFreeNode(element);
    return fail(errc::too_deep, detail, "decrypted element nests too deep");
  }
  return element;
}

// The parsed nodes may point at namespace declarations of the wrapper, which is about to be
// freed: re-declare those on the element (same prefixes, so QName values keep their meaning).
void adopt_wrapper_namespaces(xmlNodePtr wrapper, xmlNodePtr element) {
  std::vector<std::pair<xmlNsPtr, xmlNsPtr>> moved;
  for (xmlNsPtr ns = wrapper->nsDef; ns; ns = ns->next) {
    bool declared = false;
    for (xmlNsPtr own = element->nsDef; own; own = own->next)
      if (xmlStrEqual(own->prefix, ns->prefix)) declared = true;
    if (declared) continue;  // shadowed: nothing below refers to the wrapper's one
    if (xmlNsPtr copy = xmlNewNs(element, ns->href, ns->prefix)) moved.emplace_back(ns, copy);
  }
  if (moved.empty()) return;
  auto remap = [&](xmlNsPtr& ns) {
    for (auto const& [from, to] : moved)
      if (ns == from) ns = to;
  };
  xmlNodePtr n = element;
  while (n) {
    if (n->type == XML_ELEMENT_NODE) {
      remap(n->ns);
      for (xmlAttrPtr a = n->properties; a; a = a->next) remap(a->ns);
      if (n->children) {
        n = n->children;
        continue;
      }
    }
    while (n && n != element && !n->next) n = n->parent;
    if (!n || n == element) break;
    n = n->next;
  }
}

// ---- which EncryptedKey belongs to the EncryptedData ----------------------------------

// Forms accepted (all confined to the wrapper): EncryptedKey inside EncryptedData/KeyInfo
// (xmlsec, pysaml2, python3-saml, Lasso); a sibling named by KeyInfo/RetrievalMethod "#Id" (one
// level, Type EncryptedKey, no transforms), by KeyInfo/KeyName = CarriedKeyName, or whose
// ReferenceList names the EncryptedData's Id (OpenSAML/Shibboleth, SAML 2.0 core §6.2); with
// no hint at all, the siblings themselves.
result<std::vector<xmlNodePtr>> key_candidates(xmlNodePtr wrapper, xmlNodePtr encrypted_data,
                                               std::string* detail) {
  std::vector<xmlNodePtr> found;
  auto add = [&](xmlNodePtr n) {
    if (std::find(found.begin(), found.end(), n) == found.end()) found.push_back(n);
  };
  auto const siblings = children(wrapper, ns_xenc, "EncryptedKey");
  bool hinted = false;
  auto key_info = only_child(encrypted_data, ns_ds, "KeyInfo");
  if (!key_info) return fail(errc::decryption_failed, detail, "several KeyInfo");
  if (*key_info) {
    for (xmlNodePtr ek : children(*key_info, ns_xenc, "EncryptedKey")) add(ek);
    for (xmlNodePtr rm : children(*key_info, ns_ds, "RetrievalMethod")) {
      hinted = true;
      auto type = attribute(rm, "Type");
      auto target = attribute(rm, "URI").value_or("");
      if ((type && *type != type_encrypted_key) || target.size() < 2 || target[0] != '#' ||
          !children(rm, ns_ds, "Transforms").empty())
        return fail(errc::reference_not_allowed, detail,
                    "RetrievalMethod must name a sibling EncryptedKey by #Id");
      xmlNodePtr hit = nullptr;
      for (xmlNodePtr ek : siblings)
        if (attribute(ek, "Id") == target.substr(1)) hit = ek;
      if (!hit)
        return fail(errc::id_not_found, detail, "RetrievalMethod names no EncryptedKey here");
      add(hit);
    }
    for (xmlNodePtr kn : children(*key_info, ns_ds, "KeyName")) {
      hinted = true;
      auto name = text_of(kn);
      if (!name) continue;
      for (xmlNodePtr ek : siblings)
        for (xmlNodePtr carried : children(ek, ns_xenc, "CarriedKeyName"))
          if (text_of(carried) && *text_of(carried) == *name) add(ek);
    }
  }
  if (auto id = attribute(encrypted_data, "Id")) {
    for (xmlNodePtr ek : siblings)
      for (xmlNodePtr list : children(ek, ns_xenc, "ReferenceList"))
        for (xmlNodePtr ref : children(list, ns_xenc, "DataReference"))
          if (attribute(ref, "URI") == "#" + *id) add(ek);
  }
  if (found.empty() && !hinted)
    for (xmlNodePtr ek : siblings) add(ek);
  if (found.empty())
    return fail(errc::decryption_failed, detail, "no EncryptedKey for the EncryptedData");
  constexpr std::size_t max_candidates = 4;  // bounds the private-key work one message can cause
  if (found.size() > max_candidates) found.resize(max_candidates);
  return found;
}

}  // namespace

result<std::string> decrypt_key(xmlNodePtr encrypted_key, key const& recipient,
                                algorithm_policy const& policy, std::string* detail) {
  if (!is(encrypted_key, ns_xenc, "EncryptedKey"))
    return fail(errc::decryption_failed, detail, "not an xenc:EncryptedKey");
  xmlNodePtr method_node = nullptr;
  auto method = algorithm_of(encrypted_key, detail, &method_node);
  if (!method) return method.error();
  bool const transport =
      *method == uri::rsa_oaep || *method == uri::rsa_oaep_mgf1p || *method == uri::rsa_1_5;
  bool const agreement = key_wrap_bytes(*method) != 0;
  if (!transport && !agreement)
    return fail(errc::algorithm_not_allowed, detail, "key algorithm " + *method + " is unknown");
  auto cipher = cipher_value_of(encrypted_key, detail);
  if (!cipher) return cipher.error();
  if (transport) return rsa_decrypt_key(method_node, *method, *cipher, recipient, policy, detail);

  auto key_info = only_child(encrypted_key, ns_ds, "KeyInfo");
  auto am = key_info && *key_info ? only_child(*key_info, ns_xenc, "AgreementMethod")
                                  : result<xmlNodePtr>(nullptr);
  if (!am || !*am)
    return fail(errc::decryption_failed, detail,
                "kw-aes EncryptedKey without (one) AgreementMethod: shared keys unsupported");
  return ecdh_es_unwrap(*am, *method, *cipher, recipient, policy, detail);
}

result<std::string> decrypt_data(xmlNodePtr encrypted_data, std::string_view cek,
                                 algorithm_policy const& policy, std::string* detail) {
  auto cipher = data_cipher(encrypted_data, policy, detail);
  if (!cipher) return cipher.error();
  auto data = cipher_value_of(encrypted_data, detail);
  if (!data) return data.error();
  if (cek.size() != cipher->key_bytes)
    return fail(errc::decryption_failed, detail, "key size does not match the content cipher");
  if (!cipher->gcm) return aes_cbc_decrypt(cek, *data, detail);
  if (data->size() < gcm_iv_bytes + gcm_tag_bytes)
    return fail(errc::decryption_failed, detail, "AES-GCM data shorter than IV and tag");
  auto plain = aes_gcm_decrypt(cek, *data);
  if (!plain) return fail(errc::decryption_failed, detail, "AES-GCM authentication failed");
  return plain;
}

result<xmlNodePtr> decrypt_element(document& doc, xmlNodePtr wrapper, key const& recipient,
                                   algorithm_policy const& policy, parse_limits const& limits,
                                   std::string* detail) {
  // The hardened libxml2 set-up (entity loader refusing everything) before parsing anything.
  if (auto ready = initialise(); !ready)
    return fail(errc::internal, detail, "XML-security library not initialised");
  if (!wrapper || wrapper->type != XML_ELEMENT_NODE || wrapper->doc != doc.get() ||
      !wrapper->parent)
    return fail(errc::internal, detail, "wrapper is not an element of this document");
  auto ed = only_child(wrapper, ns_xenc, "EncryptedData");
  if (!ed || !*ed) return fail(errc::decryption_failed, detail, "no (single) EncryptedData");
  if (auto type = attribute(*ed, "Type"); type && *type != type_element)
    return fail(errc::unexpected_content, detail, "EncryptedData Type is not Element");
  // The content algorithm first: nothing is decrypted for a refused message.
  auto cipher = data_cipher(*ed, policy, detail);
  if (!cipher) return cipher.error();
  auto candidates = key_candidates(wrapper, *ed, detail);
  if (!candidates) return candidates.error();

  std::string cek;
  error_code first_error;
  std::string first_detail;
  for (xmlNodePtr ek : *candidates) {
    std::string why;
    auto r = decrypt_key(ek, recipient, policy, &why);
    if (r && r->size() == cipher->key_bytes) {
      cek = std::move(*r);
      break;
    }
    if (r) {
      cleanse(*r);
      why = "decrypted key has the wrong size for the content cipher";
    }
    error_code e = r ? make_error_code(errc::decryption_failed) : r.error();
    // A refusal (algorithm, key type) says more than a failed decryption: report it first.
    if (!first_error || (first_error == errc::decryption_failed && e != errc::decryption_failed)) {
      first_error = e;
      first_detail = why;
    }
  }
  if (cek.empty()) {
    if (detail) *detail = first_detail;
    return first_error;
  }
  auto plain = decrypt_data(*ed, cek, policy, detail);
  cleanse(cek);
  if (!plain) return plain.error();
  auto element = parse_in_context(wrapper, *plain, limits, detail);
  cleanse(*plain);
  if (!element) return element.error();
  xmlReplaceNode(wrapper, *element);
  adopt_wrapper_namespaces(wrapper, *element);
  xmlFreeNode(wrapper);
  return *element;
}

}  // namespace bbgw::xmlsec

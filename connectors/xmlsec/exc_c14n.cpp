#include "xmlsec/exc_c14n.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace bbgw::xmlsec::detail {
namespace {

using sv = std::string_view;

sv str(xmlChar const* s) {
  return s != nullptr ? sv(reinterpret_cast<char const*>(s)) : sv();
}

constexpr unsigned k_max_depth = 256;

// C14N §2.3: in text, & < > and CR are escaped; in attribute values, & < " TAB LF CR.
// special[c] has bit 1 when c is escaped in text, bit 2 in attribute values: most text (base64
// values, names) has none, and is scanned with one look-up per character.
constexpr std::array<unsigned char, 256> special = [] {
  std::array<unsigned char, 256> t{};
  for (unsigned char c : {'&', '<', '\r'}) t[c] = 3;
  t['>'] = 1;
  for (unsigned char c : {'"', '\t', '\n'}) t[c] = 2;
  return t;
}();

template <bool Attribute>
void escape(sv s, std::string& out) {
  constexpr unsigned char mask = Attribute ? 2 : 1;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((special[static_cast<unsigned char>(s[i])] & mask) == 0) continue;
    sv rep;
    switch (s[i]) {
      case '&':
        rep = "&amp;";
        break;
      case '<':
        rep = "&lt;";
        break;
      case '\r':
        rep = "&#xD;";
        break;
      case '>':
        if (Attribute) continue;
        rep = "&gt;";
        break;
      case '"':
        if (!Attribute) continue;
        rep = "&quot;";
        break;
      case '\t':
        if (!Attribute) continue;
        rep = "&#x9;";
        break;
      case '\n':
        if (!Attribute) continue;
        rep = "&#xA;";
        break;
      default:
        continue;
    }
    out.append(s.data() + start, i - start);
    out.append(rep);
    start = i + 1;
  }
  out.append(s.data() + start, s.size() - start);
}

void qname(xmlNsPtr ns, xmlChar const* name, std::string& out) {
  if (ns != nullptr && ns->prefix != nullptr) {
    out.append(str(ns->prefix));
    out.push_back(':');
  }
  out.append(str(name));
}

struct binding {
  sv prefix;  // "" = the default namespace
  sv uri;
};

class canonicaliser {
 public:
  canonicaliser(xmlNodePtr excluded, std::span<std::string const> inclusive, std::string& out)
      : excluded_(excluded), out_(out) {
    for (auto const& p : inclusive) {
      if (p == "#default")
        inclusive_default_ = true;
      else if (!p.empty() && p != "xml")
        inclusive_.push_back(p);
    }
  }

  bool element(xmlNodePtr e, unsigned depth) {
    if (depth > k_max_depth) return false;
    // Namespace nodes (exclusive c14n §3): the ones the element visibly uses (its own prefix or
    // the default namespace, its attributes' prefixes) and those of the PrefixList in scope,
    // each rendered unless the nearest output ancestor rendered the same value.
    decls_.clear();
    if (e->ns != nullptr)
      consider(str(e->ns->prefix), str(e->ns->href));
    else
      consider({}, {});
    for (xmlAttrPtr a = e->properties; a != nullptr; a = a->next)
      if (a->ns != nullptr && a->ns->prefix != nullptr && str(a->ns->prefix) != "xml")
        consider(str(a->ns->prefix), str(a->ns->href));
    for (auto const& p : inclusive_)
      if (xmlNsPtr ns = xmlSearchNs(e->doc, e, reinterpret_cast<xmlChar const*>(p.c_str())))
        consider(p, str(ns->href));
    if (inclusive_default_) {
      xmlNsPtr ns = xmlSearchNs(e->doc, e, nullptr);
      consider({}, ns != nullptr ? str(ns->href) : sv());
    }
    std::sort(decls_.begin(), decls_.end(),
              [](binding const& a, binding const& b) { return a.prefix < b.prefix; });

    out_.push_back('<');
    qname(e->ns, e->name, out_);
    std::size_t const mark = rendered_.size();
    for (auto const& d : decls_) {
      out_.append(d.prefix.empty() ? sv(" xmlns") : sv(" xmlns:"));
      out_.append(d.prefix);
      out_.append("=\"");
      escape<true>(d.uri, out_);
      out_.push_back('"');
      rendered_.push_back(d);
    }
    // Attributes by namespace URI (none first), then local name.
    attrs_.clear();
    for (xmlAttrPtr a = e->properties; a != nullptr; a = a->next) attrs_.push_back(a);
    std::sort(attrs_.begin(), attrs_.end(), [](xmlAttrPtr a, xmlAttrPtr b) {
      sv const ua = a->ns != nullptr ? str(a->ns->href) : sv();
      sv const ub = b->ns != nullptr ? str(b->ns->href) : sv();
      if (ua != ub) return ua < ub;
      return str(a->name) < str(b->name);
    });
    for (xmlAttrPtr a : attrs_) {
      out_.push_back(' ');
      qname(a->ns, a->name, out_);
      out_.append("=\"");
      for (xmlNodePtr t = a->children; t != nullptr; t = t->next) {
        if (t->type != XML_TEXT_NODE) return false;
        escape<true>(str(t->content), out_);
      }
      out_.push_back('"');
    }
    out_.push_back('>');

    for (xmlNodePtr c = e->children; c != nullptr; c = c->next) {
      switch (c->type) {
        case XML_ELEMENT_NODE:
          if (c != excluded_ && !element(c, depth + 1)) return false;
          break;
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
          escape<false>(str(c->content), out_);
          break;
        case XML_COMMENT_NODE:
          break;
        case XML_PI_NODE:
          out_.append("<?");
          out_.append(str(c->name));
          if (c->content != nullptr && *c->content != 0) {
            out_.push_back(' ');
            out_.append(str(c->content));
          }
          out_.append("?>");
          break;
        default:
          return false;  // entity references, XInclude markers: not ours to decide
      }
    }
    out_.append("</");
    qname(e->ns, e->name, out_);
    out_.push_back('>');
    rendered_.resize(mark);
    return true;
  }

 private:
  // The value the nearest output ancestor rendered for `prefix`; for the default namespace the
  // implicit xmlns="" above the apex.
  std::optional<sv> rendered(sv prefix) const {
    for (auto it = rendered_.rbegin(); it != rendered_.rend(); ++it)
      if (it->prefix == prefix) return it->uri;
    if (prefix.empty()) return sv();
    return std::nullopt;
  }

  void consider(sv prefix, sv uri) {
    if (prefix == "xml") return;
    if (auto r = rendered(prefix); r && *r == uri) return;
    for (auto const& d : decls_)
      if (d.prefix == prefix) return;
    decls_.push_back({prefix, uri});
  }

  xmlNodePtr excluded_;
  std::string& out_;
  std::vector<std::string> inclusive_;
  bool inclusive_default_ = false;
  std::vector<binding> rendered_;  // namespace declarations output by the open elements
  std::vector<binding> decls_;     // per element, before its children are visited
  std::vector<xmlAttrPtr> attrs_;  // likewise
};

}  // namespace

bool exc_c14n(xmlNodePtr apex, xmlNodePtr excluded, std::span<std::string const> inclusive_prefixes,
              std::string& out) {
  if (apex == nullptr || apex->type != XML_ELEMENT_NODE) return false;
  if (apex == excluded) return true;
  canonicaliser c(excluded, inclusive_prefixes, out);
  return c.element(apex, 0);
}

}  // namespace bbgw::xmlsec::detail

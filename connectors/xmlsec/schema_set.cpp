// XSD sets from local files only. An in-memory wrapper schema imports each given file by its
// targetNamespace; every xs:import/xs:include location met while loading is mapped beforehand
// to one of the given files (by namespace) or to a local file beside the including one, and the
// entity loader (library.cpp) answers only those, for this thread, during load().
#include "xmlsec/schema_set.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include <libxml/parser.h>
#include <libxml/uri.h>
#include <libxml/xmlschemas.h>

#include "xmlsec/document.hpp"
#include "xmlsec/errc.hpp"
#include "xmlsec/internal.hpp"
#include "xmlsec/library.hpp"

namespace bbgw::xmlsec {

struct schema_set::impl {
  xmlSchemaPtr schema = nullptr;
  ~impl() {
    if (schema != nullptr) xmlSchemaFree(schema);
  }
};

namespace {

using detail::fail;
constexpr std::string_view ns_xs = "http://www.w3.org/2001/XMLSchema";

struct scanned {
  std::string target_namespace;
  std::vector<std::pair<std::string, std::string>> imports;  // namespace, resolved location
  std::vector<std::string> includes;                         // resolved location
};

std::optional<std::string> read_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A location as libxml2 will ask for it: resolved against the including file.
std::string resolve(std::string const& location, std::string const& base) {
  xmlChar* built = xmlBuildURI(reinterpret_cast<xmlChar const*>(location.c_str()),
                               reinterpret_cast<xmlChar const*>(base.c_str()));
  if (built == nullptr) return location;
  std::string out(reinterpret_cast<char*>(built));
  xmlFree(built);
  return out;
}

bool is_local_path(std::string const& s) {
  return s.find("://") == std::string::npos && !s.empty() && s[0] == '/';
}

result<scanned> scan(std::string const& path, std::string* detail) {
  auto text = read_file(path);
  if (!text) return fail(errc::schema_unavailable, detail, "cannot read " + path);
  // Schema files are trusted configuration, but are parsed without DTD loading or network too.
  xmlDocPtr doc = xmlReadMemory(text->data(), static_cast<int>(text->size()), path.c_str(), nullptr,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) return fail(errc::schema_unavailable, detail, "not XML: " + path);
  scanned out;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  out.target_namespace = attribute(root, "targetNamespace").value_or("");
  for (xmlNodePtr c = root != nullptr ? root->children : nullptr; c != nullptr; c = c->next) {
    auto loc = attribute(c, "schemaLocation");
    if (is(c, ns_xs, "import")) {
      out.imports.emplace_back(attribute(c, "namespace").value_or(""),
                               loc ? resolve(*loc, path) : std::string());
    } else if (is(c, ns_xs, "include") || is(c, ns_xs, "redefine")) {
      if (loc) out.includes.push_back(resolve(*loc, path));
    }
  }
  xmlFreeDoc(doc);
  return out;
}

void first_error(void* ctx, xmlErrorPtr error) {
  auto* detail = static_cast<std::string*>(ctx);
  if (detail != nullptr && detail->empty() && error != nullptr && error->message != nullptr) {
    *detail = error->message;
    while (!detail->empty() && detail->back() == '\n') detail->pop_back();
  }
}

}  // namespace

result<schema_set> schema_set::load(std::span<std::filesystem::path const> files,
                                    std::string* detail) {
  if (auto r = initialise(); !r) return r.error();
  if (files.empty()) return fail(errc::schema_unavailable, detail, "no schema files");
  std::map<std::string, std::string> by_namespace;  // targetNamespace → file
  std::map<std::string, std::string> allowed;       // location asked → file
  std::vector<std::string> pending;
  for (auto const& f : files) {
    std::error_code ec;
    auto p = std::filesystem::canonical(f, ec);
    if (ec) return fail(errc::schema_unavailable, detail, "no such schema file: " + f.string());
    pending.push_back(p.string());
  }
  std::vector<std::string> const given = pending;
  std::map<std::string, scanned> seen;
  // First the given files' namespaces, then every location reachable from them.
  for (auto const& p : given) {
    auto s = scan(p, detail);
    if (!s) return s.error();
    if (!by_namespace.emplace(s->target_namespace, p).second)
      return fail(errc::schema_unavailable, detail,
                  "two files for namespace " + s->target_namespace + "; include one of them");
    allowed[p] = p;
    seen.emplace(p, std::move(*s));
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    std::string const p = pending[i];
    if (!seen.count(p)) {
      auto s = scan(p, detail);
      if (!s) return s.error();
      seen.emplace(p, std::move(*s));
    }
    scanned const& s = seen.at(p);
    for (auto const& [ns, loc] : s.imports) {
      auto it = by_namespace.find(ns);
      if (it == by_namespace.end())
        return fail(errc::schema_unavailable, detail,
                    p + " imports namespace " + ns + " which is not among the files");
      if (!loc.empty()) allowed[loc] = it->second;
    }
    for (auto const& loc : s.includes) {
      if (!is_local_path(loc))
        return fail(errc::schema_unavailable, detail, p + " includes non-local " + loc);
      std::error_code ec;
      auto c = std::filesystem::canonical(loc, ec);
      if (ec) return fail(errc::schema_unavailable, detail, "no such included file: " + loc);
      allowed[loc] = c.string();
      allowed[c.string()] = c.string();
      if (std::find(pending.begin(), pending.end(), c.string()) == pending.end())
        pending.push_back(c.string());
    }
  }

  std::string wrapper =
      "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
      "targetNamespace=\"urn:bbgw:xmlsec:schema-set\">";
  for (auto const& [ns, file] : by_namespace) {
    wrapper += "<xs:import ";
    if (!ns.empty()) {
      xmlChar* esc = xmlEncodeSpecialChars(nullptr, reinterpret_cast<xmlChar const*>(ns.c_str()));
      wrapper += "namespace=\"" + std::string(reinterpret_cast<char*>(esc)) + "\" ";
      xmlFree(esc);
    }
    xmlChar* esc = xmlEncodeSpecialChars(nullptr, reinterpret_cast<xmlChar const*>(file.c_str()));
    wrapper += "schemaLocation=\"" + std::string(reinterpret_cast<char*>(esc)) + "\"/>";
    xmlFree(esc);
  }
  wrapper += "</xs:schema>";

  std::string message;
  detail::schema_files_scope scope(&allowed);
  xmlSchemaParserCtxtPtr pctxt =
      xmlSchemaNewMemParserCtxt(wrapper.data(), static_cast<int>(wrapper.size()));
  if (pctxt == nullptr) return fail(errc::internal, detail, "no schema parser");
  xmlSchemaSetParserStructuredErrors(pctxt, first_error, &message);
  xmlSchemaPtr schema = xmlSchemaParse(pctxt);
  xmlSchemaFreeParserCtxt(pctxt);
  if (schema == nullptr)
    return fail(errc::schema_unavailable, detail,
                message.empty() ? std::string("schema set does not load") : message);
  auto i = std::make_unique<impl>();
  i->schema = schema;
  return schema_set(std::move(i));
}

schema_set::schema_set(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
schema_set::schema_set(schema_set&&) noexcept = default;
schema_set& schema_set::operator=(schema_set&&) noexcept = default;
schema_set::~schema_set() = default;

namespace {

result<void> run(xmlSchemaPtr schema, xmlDocPtr doc, xmlNodePtr element, std::string* detail) {
  // One validation context per call: the compiled schema is shared read-only.
  xmlSchemaValidCtxtPtr v = xmlSchemaNewValidCtxt(schema);
  if (v == nullptr) return fail(errc::internal, detail, "no validation context");
  std::string message;
  xmlSchemaSetValidStructuredErrors(v, first_error, &message);
  int rc =
      element != nullptr ? xmlSchemaValidateOneElement(v, element) : xmlSchemaValidateDoc(v, doc);
  xmlSchemaFreeValidCtxt(v);
  if (rc == 0) return {};
  if (rc < 0) return fail(errc::internal, detail, "validation failed internally");
  return fail(errc::schema_invalid, detail, message);
}

}  // namespace

result<void> schema_set::validate(xmlDocPtr doc, std::string* detail) const {
  if (doc == nullptr) return make_error_code(errc::internal);
  return run(impl_->schema, doc, nullptr, detail);
}

result<void> schema_set::validate(xmlNodePtr element, std::string* detail) const {
  if (element == nullptr) return make_error_code(errc::internal);
  return run(impl_->schema, element->doc, element, detail);
}

}  // namespace bbgw::xmlsec

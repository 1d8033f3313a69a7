// libxml2's external-entity loader: refuses every URL except the XSD files a schema_set is
// loading on this thread (see internal.hpp for why the slot is thread_local).
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {
namespace {

thread_local std::map<std::string, std::string> const* current_files = nullptr;

xmlParserInputPtr refuse_or_schema(char const* url, char const* /*id*/, xmlParserCtxtPtr ctxt) {
  if (url == nullptr || current_files == nullptr) return nullptr;
  auto it = current_files->find(url);
  if (it == current_files->end()) return nullptr;
  return xmlNewInputFromFile(ctxt, it->second.c_str());
}

}  // namespace

schema_files_scope::schema_files_scope(std::map<std::string, std::string> const* files) noexcept
    : previous_(current_files) {
  current_files = files;
}

schema_files_scope::~schema_files_scope() {
  current_files = previous_;
}

void install_entity_loader() {
  xmlSetExternalEntityLoader(refuse_or_schema);
}

}  // namespace bbgw::xmlsec::detail

// The only URI resolver xmlsec keeps: `cid:` references answered from the parts of the message
// being verified or signed on this thread (see internal.hpp for why the slot is thread_local).
#include <cstring>
#include <memory>
#include <string>

#include <xmlsec/io.h>

#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {
namespace {

// xmlsec's IO callback table is process-wide, so the callbacks cannot carry the message: each
// thread publishes the parts of the message it is processing here, for the duration of one
// verify()/sign() call (part_source_scope), and no other thread can reach them.
thread_local part_source const* current_parts = nullptr;
thread_local std::string missing_part;

constexpr std::string_view scheme = "cid:";

int cid_match(char const* uri) {
  return uri != nullptr && current_parts != nullptr &&
         std::strncmp(uri, scheme.data(), scheme.size()) == 0;
}

void* cid_open(char const* uri) {
  if (current_parts == nullptr || uri == nullptr) return nullptr;
  // xmlsec hands the URI already percent-unescaped (RFC 2392 escaping of Content-IDs).
  std::string_view id(uri);
  id.remove_prefix(scheme.size());
  auto reader = current_parts->open(id);
  if (!reader) {
    missing_part = std::string(id);
    return nullptr;
  }
  return reader->release();
}

int cid_read(void* context, char* buffer, int len) {
  if (context == nullptr || len < 0) return -1;
  auto* reader = static_cast<part_reader*>(context);
  auto n = reader->read(std::span<char>(buffer, static_cast<std::size_t>(len)));
  if (!n) return -1;
  return static_cast<int>(*n);
}

int cid_close(void* context) {
  delete static_cast<part_reader*>(context);
  return 0;
}

}  // namespace

part_source_scope::part_source_scope(part_source const* parts) noexcept : previous_(current_parts) {
  current_parts = parts;
  missing_part.clear();
}

part_source_scope::~part_source_scope() {
  current_parts = previous_;
}

std::string const& part_source_scope::last_missing() {
  return missing_part;
}

result<void> install_cid_callbacks() {
  // Drop xmlsec's default file/http/ftp resolvers: a Reference URI can reach nothing else.
  xmlSecIOCleanupCallbacks();
  if (xmlSecIORegisterCallbacks(cid_match, cid_open, cid_read, cid_close) < 0)
    return make_error_code(errc::internal);
  return {};
}

}  // namespace bbgw::xmlsec::detail

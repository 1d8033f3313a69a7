#pragma once
// Internal to the library: for the signature half (library.cpp, signature.cpp, schema_set.cpp
// and the transform files) the hooks initialise() installs and the scopes that feed them; for
// both halves the one base64. Not part of the library's interface.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <xmlsec/transforms.h>

#include "bbgw/base64.hpp"
#include "bbgw/result.hpp"
#include "xmlsec/errc.hpp"
#include "xmlsec/parts.hpp"

namespace bbgw::xmlsec::detail {

// libxml2's external-entity loader and xmlsec's IO callbacks are process-wide, but a
// verification or schema load runs on one thread: these scopes publish what the current thread
// may read in thread_local slots, so concurrent verifications of different messages never see
// each other's parts, and any load outside a scope finds nothing and is refused.
class part_source_scope {
 public:
  explicit part_source_scope(part_source const* parts) noexcept;
  ~part_source_scope();
  part_source_scope(part_source_scope const&) = delete;
  part_source_scope& operator=(part_source_scope const&) = delete;
  // The content id of the last cid: reference that named no part (for the error detail).
  static std::string const& last_missing();

 private:
  part_source const* previous_;
};

// URL (schemaLocation, or the wrapper's own names) → local file, for schema_set::load only.
class schema_files_scope {
 public:
  explicit schema_files_scope(std::map<std::string, std::string> const* files) noexcept;
  ~schema_files_scope();
  schema_files_scope(schema_files_scope const&) = delete;
  schema_files_scope& operator=(schema_files_scope const&) = delete;

 private:
  std::map<std::string, std::string> const* previous_;
};

// Installs the entity loader and the cid: IO callbacks (library.cpp calls these once).
void install_entity_loader();
result<void> install_cid_callbacks();

// Transform klasses this library adds (rsa_pss_transform.cpp, swa_transform.cpp).
xmlSecTransformId rsa_pss_sha256_klass();
xmlSecTransformId rsa_pss_sha384_klass();
xmlSecTransformId rsa_pss_sha512_klass();
xmlSecTransformId swa_content_klass();

// xmlsec reports errors through one process-wide callback: it records the last one of this
// thread (for a specific `detail`) instead of printing untrusted input to stderr.
void install_error_capture();
void clear_xmlsec_error();
std::string const& last_xmlsec_error();

// Sets the log-safe reason and returns the error.
inline error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return make_error_code(e);
}

// Standard base64 as XML carries it: the gateway's one strict decoder (bbgw/base64.hpp).
using bbgw::base64_decode;
using bbgw::base64_encode;

}  // namespace bbgw::xmlsec::detail

// The error category of the XML-security library: short, log-safe messages.
#include "xmlsec/errc.hpp"

#include <string>

namespace bbgw::xmlsec {
namespace {

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.xmlsec"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::malformed_xml:
        return "XML is not well-formed";
      case errc::doctype_forbidden:
        return "DOCTYPE, DTD or entity declaration is forbidden";
      case errc::too_large:
        return "XML exceeds the size or node limits";
      case errc::too_deep:
        return "XML nesting exceeds the depth limit";
      case errc::schema_invalid:
        return "XML does not validate against the schema";
      case errc::schema_unavailable:
        return "XML schema set could not be loaded";
      case errc::duplicate_id:
        return "two elements carry the same ID";
      case errc::id_not_found:
        return "reference names no registered ID";
      case errc::unexpected_content:
        return "unexpected content in element";
      case errc::signature_missing:
        return "signature missing";
      case errc::signature_malformed:
        return "signature is malformed";
      case errc::signature_invalid:
        return "signature value does not verify";
      case errc::digest_mismatch:
        return "reference digest does not match";
      case errc::algorithm_not_allowed:
        return "algorithm not allowed";
      case errc::transform_not_allowed:
        return "transform not allowed";
      case errc::reference_not_allowed:
        return "reference URI not allowed";
      case errc::part_not_found:
        return "referenced message part not found";
      case errc::key_not_trusted:
        return "no trusted key";
      case errc::key_unusable:
        return "key unusable for this algorithm";
      case errc::decryption_failed:
        return "decryption failed";
      case errc::encryption_failed:
        return "encryption failed";
      case errc::internal:
        return "internal XML-security error";
    }
    return "unknown bbgw.xmlsec error";
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;
  return instance;
}

}  // namespace bbgw::xmlsec

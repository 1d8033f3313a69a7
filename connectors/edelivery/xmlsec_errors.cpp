// Maps errors of connectors/xmlsec to ours (kept apart so the MIME/errc code links without the
// XML-security library).
#include "edelivery/edelivery_errc.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::edelivery {

errc from_xmlsec(boost::system::error_code const& ec) noexcept {
  if (ec.category() != xmlsec::category()) return errc::internal;
  using x = xmlsec::errc;
  switch (static_cast<x>(ec.value())) {
    case x::malformed_xml:
    case x::doctype_forbidden:
    case x::too_large:
    case x::too_deep:
    case x::unexpected_content:
      return errc::soap_malformed;
    case x::schema_invalid:
      return errc::messaging_invalid;
    case x::duplicate_id:
    case x::id_not_found:
    case x::signature_malformed:
    case x::signature_invalid:
    case x::digest_mismatch:
      return errc::signature_invalid;
    case x::signature_missing:
      return errc::security_missing;
    case x::algorithm_not_allowed:
    case x::transform_not_allowed:
    case x::reference_not_allowed:
      return errc::algorithm_not_allowed;
    case x::part_not_found:
      return errc::payload_missing;
    case x::key_not_trusted:
    case x::key_unusable:
      return errc::signer_not_trusted;
    case x::decryption_failed:
      return errc::decryption_failed;
    case x::schema_unavailable:
    case x::encryption_failed:
    case x::internal:
      return errc::internal;
  }
  return errc::internal;
}

ebms_error const& ebms_error_for(boost::system::error_code const& ec) noexcept {
  if (ec.category() == category()) return ebms_error_for(static_cast<errc>(ec.value()));
  return ebms_error_for(from_xmlsec(ec));
}

}  // namespace bbgw::edelivery

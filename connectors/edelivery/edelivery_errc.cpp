#include "edelivery/edelivery_errc.hpp"

#include <string>

namespace bbgw::edelivery {

namespace {

// ebMS 3.0 core §6.7.1/§6.7.2 and AS4 §5.2.3. The XSD allows only "warning" and "failure" as
// severity, so the spec's "error" is sent as "failure" (as phase4 and Domibus do).
constexpr ebms_error table[] = {
    {"EBMS:0001", "ValueNotRecognized", "Content", "failure", "ebMS"},
    {"EBMS:0002", "FeatureNotSupported", "Content", "warning", "ebMS"},
    {"EBMS:0003", "ValueInconsistent", "Content", "failure", "ebMS"},
    {"EBMS:0004", "Other", "Content", "failure", "ebMS"},
    {"EBMS:0005", "ConnectionFailure", "Communication", "failure", "ebMS"},
    {"EBMS:0006", "EmptyMessagePartitionChannel", "Communication", "warning", "ebMS"},
    {"EBMS:0007", "MimeInconsistency", "Unpackaging", "failure", "ebMS"},
    {"EBMS:0008", "FeatureNotSupported", "Unpackaging", "failure", "ebMS"},
    {"EBMS:0009", "InvalidHeader", "Unpackaging", "failure", "ebMS"},
    {"EBMS:0010", "ProcessingModeMismatch", "Processing", "failure", "ebMS"},
    {"EBMS:0011", "ExternalPayloadError", "Content", "failure", "ebMS"},
    {"EBMS:0101", "FailedAuthentication", "Processing", "failure", "security"},
    {"EBMS:0102", "FailedDecryption", "Processing", "failure", "security"},
    {"EBMS:0103", "PolicyNoncompliance", "Processing", "failure", "security"},
    {"EBMS:0201", "DysfunctionalReliability", "Processing", "failure", "reliability"},
    {"EBMS:0202", "DeliveryFailure", "Communication", "failure", "reliability"},
    {"EBMS:0301", "MissingReceipt", "Communication", "failure", "ebMS"},
    {"EBMS:0302", "InvalidReceipt", "Communication", "failure", "ebMS"},
    {"EBMS:0303", "DecompressionFailure", "Communication", "failure", "ebMS"},
};

ebms_error const& row(std::string_view code) noexcept {
  for (auto const& r : table)
    if (r.code == code) return r;
  return table[3];  // Other
}

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.edelivery"; }
  std::string message(int ev) const override {
    auto e = static_cast<errc>(ev);
    auto const& r = ebms_error_for(e);
    return "edelivery: " + std::string(metric_reason(e)) + " (" + std::string(r.code) + " " +
           std::string(r.short_description) + ")";
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

ebms_error const& ebms_error_for(errc e) noexcept {
  switch (e) {
    case errc::mime_no_boundary:
    case errc::mime_malformed:
    case errc::mime_too_many_parts:
    case errc::mime_header_too_large:
    case errc::mime_too_large:
    case errc::mime_bad_base64:
    case errc::mime_duplicate_content_id:
    case errc::mime_no_root:
      return row("EBMS:0007");
    case errc::mime_unsupported_encoding:
    case errc::unsupported_media_type:
    case errc::feature_not_supported:
      return row("EBMS:0008");
    case errc::soap_malformed:
    case errc::soap_version_mismatch:
    case errc::messaging_missing:
    case errc::messaging_invalid:
      return row("EBMS:0009");
    case errc::value_not_recognized:
      return row("EBMS:0001");
    case errc::value_inconsistent:
    case errc::unexpected_part:
      return row("EBMS:0003");
    case errc::payload_missing:
      return row("EBMS:0011");
    case errc::pmode_mismatch:
      return row("EBMS:0010");
    case errc::signature_invalid:
    case errc::signer_not_trusted:
    case errc::tls_client_mismatch:
      return row("EBMS:0101");
    case errc::decryption_failed:
      return row("EBMS:0102");
    case errc::security_missing:
    case errc::algorithm_not_allowed:
    case errc::references_incomplete:
    case errc::encryption_missing:
    case errc::timestamp_invalid:
      return row("EBMS:0103");
    case errc::decompression_failed:
      return row("EBMS:0303");
    case errc::receipt_missing:
      return row("EBMS:0301");
    case errc::receipt_invalid:
      return row("EBMS:0302");
    case errc::delivery_failed:
      return row("EBMS:0202");
    case errc::internal:
      return row("EBMS:0004");
  }
  return row("EBMS:0004");
}

std::string_view metric_reason(errc e) noexcept {
  switch (e) {
    case errc::mime_no_boundary:
      return "mime_no_boundary";
    case errc::mime_malformed:
      return "mime_malformed";
    case errc::mime_too_many_parts:
      return "mime_too_many_parts";
    case errc::mime_header_too_large:
      return "mime_header_too_large";
    case errc::mime_too_large:
      return "mime_too_large";
    case errc::mime_unsupported_encoding:
      return "mime_unsupported_encoding";
    case errc::mime_bad_base64:
      return "mime_bad_base64";
    case errc::mime_duplicate_content_id:
      return "mime_duplicate_content_id";
    case errc::mime_no_root:
      return "mime_no_root";
    case errc::unsupported_media_type:
      return "unsupported_media_type";
    case errc::soap_malformed:
      return "soap_malformed";
    case errc::soap_version_mismatch:
      return "soap_version_mismatch";
    case errc::messaging_missing:
      return "messaging_missing";
    case errc::messaging_invalid:
      return "messaging_invalid";
    case errc::value_not_recognized:
      return "value_not_recognized";
    case errc::value_inconsistent:
      return "value_inconsistent";
    case errc::payload_missing:
      return "payload_missing";
    case errc::unexpected_part:
      return "unexpected_part";
    case errc::feature_not_supported:
      return "feature_not_supported";
    case errc::pmode_mismatch:
      return "pmode_mismatch";
    case errc::security_missing:
      return "security_missing";
    case errc::signature_invalid:
      return "signature_invalid";
    case errc::signer_not_trusted:
      return "signer_not_trusted";
    case errc::algorithm_not_allowed:
      return "algorithm_not_allowed";
    case errc::references_incomplete:
      return "references_incomplete";
    case errc::decryption_failed:
      return "decryption_failed";
    case errc::encryption_missing:
      return "encryption_missing";
    case errc::timestamp_invalid:
      return "timestamp_invalid";
    case errc::tls_client_mismatch:
      return "tls_client_mismatch";
    case errc::decompression_failed:
      return "decompression_failed";
    case errc::receipt_missing:
      return "receipt_missing";
    case errc::receipt_invalid:
      return "receipt_invalid";
    case errc::delivery_failed:
      return "delivery_failed";
    case errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace bbgw::edelivery

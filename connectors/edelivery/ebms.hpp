#pragma once
// The SOAP envelope and the ebMS 3 `eb:Messaging` header as a typed model. The document is
// parsed by connectors/xmlsec (hardened) and eb:Messaging is validated against the ebMS 3 XSD
// before this model is read; every rule that the XSD cannot express (cid: hrefs, part
// properties, one UserMessage per message) is checked here with a specific reason.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libxml/tree.h>

#include "bbgw/result.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/schema_set.hpp"

namespace bbgw::edelivery {

namespace ns {
inline constexpr std::string_view soap12 = "http://www.w3.org/2003/05/soap-envelope";
inline constexpr std::string_view soap11 = "http://schemas.xmlsoap.org/soap/envelope/";
inline constexpr std::string_view eb =
    "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/";
inline constexpr std::string_view wsse =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
inline constexpr std::string_view wsse11 =
    "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd";
inline constexpr std::string_view wsu =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
inline constexpr std::string_view ds = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view xenc = "http://www.w3.org/2001/04/xmlenc#";
inline constexpr std::string_view ebbp = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0";
}  // namespace ns

// WS-Security token attributes (BinarySecurityToken, KeyIdentifier).
namespace wss {
inline constexpr std::string_view encoding_base64 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#"
    "Base64Binary";
inline constexpr std::string_view value_type_x509 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
inline constexpr std::string_view value_type_ski =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#"
    "X509SubjectKeyIdentifier";
}  // namespace wss

enum class soap_version { soap11, soap12 };

struct soap_envelope {
  soap_version version = soap_version::soap12;
  xmlNodePtr envelope = nullptr;
  xmlNodePtr header = nullptr;
  xmlNodePtr body = nullptr;
  xmlNodePtr messaging = nullptr;  // the only eb:Messaging header block
  xmlNodePtr security = nullptr;   // the wsse:Security header for us (no actor/role), or null
};

// Finds Envelope/Header/Body, exactly one eb:Messaging and at most one wsse:Security without
// actor/role. SOAP 1.1 only when `allow_soap11` (receipts from older peers).
result<soap_envelope> locate(xmlsec::document const& doc, bool allow_soap11,
                             std::string* detail = nullptr);

struct property {
  std::string name;
  std::string type;
  std::string value;
};

struct party_id {
  std::string type;  // may be empty (then the value must be a URI)
  std::string value;
};

struct party {
  std::vector<party_id> ids;
  std::string role;
};

struct part_info {
  std::string href;        // as written; empty for a payload in the SOAP Body
  std::string content_id;  // href without "cid:" (empty for Body payloads)
  std::vector<property> properties;

  std::optional<std::string> property_value(std::string_view name) const;
  std::optional<std::string> mime_type() const { return property_value("MimeType"); }
  std::optional<std::string> compression_type() const { return property_value("CompressionType"); }
  std::optional<std::string> character_set() const { return property_value("CharacterSet"); }
};

struct message_info {
  std::string timestamp;
  std::string message_id;
  std::string ref_to_message_id;
};

struct user_message {
  message_info info;
  std::string mpc;
  party from;
  party to;
  std::string agreement_ref;
  std::string agreement_type;
  std::string agreement_pmode;
  std::string service;
  std::string service_type;
  std::string action;
  std::string conversation_id;  // may be empty
  std::vector<property> message_properties;
  std::vector<part_info> parts;

  std::optional<std::string> message_property(std::string_view name) const;
};

struct ebms_error_item {
  std::string error_code;
  std::string severity;
  std::string category;
  std::string short_description;
  std::string ref_to_message_in_error;
  std::string description;
  std::string detail;
};

enum class signal_kind { receipt, error, pull_request };

struct signal_message {
  message_info info;
  signal_kind kind = signal_kind::receipt;
  xmlNodePtr receipt = nullptr;  // eb:Receipt
  std::vector<ebms_error_item> errors;
  std::string pull_mpc;
};

struct messaging {
  xmlNodePtr element = nullptr;
  std::vector<user_message> user_messages;  // AS4: at most one
  std::vector<signal_message> signals;
};

// Loads the ebMS 3 header XSD (with the SOAP and ebbp XSDs it imports) from `xsd_dir`
// (schemas/xsd/ebms; xml.xsd from there or from ../saml). Start-up only.
result<xmlsec::schema_set> load_ebms_schemas(std::filesystem::path const& xsd_dir,
                                             std::string* detail = nullptr);

// Validates eb:Messaging against `schemas` (when given) and reads it. Errors: messaging_invalid
// (XSD), value_inconsistent (href not cid:, duplicate hrefs, compressed part without MimeType,
// several UserMessages, neither user message nor signal), value_not_recognized (an unknown
// CompressionType).
result<messaging> parse_messaging(xmlNodePtr element, xmlsec::schema_set const* schemas,
                                  std::string* detail = nullptr);

}  // namespace bbgw::edelivery

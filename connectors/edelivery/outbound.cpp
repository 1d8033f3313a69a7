#include "edelivery/outbound.hpp"

#include <array>

#include <libxml/tree.h>

#include "bbgw/cloud_event.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/gzip.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/signals.hpp"
#include "edelivery/ws_security.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::edelivery {

namespace x = bbgw::xmlsec;

namespace {

constexpr std::string_view encoding_b64 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#"
    "Base64Binary";
constexpr std::string_view value_type_x509 =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3";
constexpr std::string_view attachment_content_only =
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only";

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

std::string party_xml(std::string_view element, party const& p) {
  std::string s = "<eb:" + std::string(element) + ">";
  for (auto const& id : p.ids) {
    s += "<eb:PartyId";
    if (!id.type.empty()) s += " type=\"" + xml_escape(id.type) + "\"";
    s += ">" + xml_escape(id.value) + "</eb:PartyId>";
  }
  return s + "<eb:Role>" + xml_escape(p.role) + "</eb:Role></eb:" + std::string(element) + ">";
}

std::string property_xml(property const& p) {
  std::string s = "<eb:Property name=\"" + xml_escape(p.name) + "\"";
  if (!p.type.empty()) s += " type=\"" + xml_escape(p.type) + "\"";
  return s + ">" + xml_escape(p.value) + "</eb:Property>";
}

xmlNodePtr first_child(xmlNodePtr parent, std::string_view ns_uri, std::string_view local) {
  auto c = x::children(parent, ns_uri, local);
  return c.empty() ? nullptr : c.front();
}

}  // namespace

result<outbound_message> build_user_message(outbound_spec const& spec, std::string* detail) {
  if (!spec.signing_key || !spec.signing_key->has_private() || !spec.signing_key->certificate())
    return fail(errc::internal, detail, "no signing key with a certificate");
  auto const& h = spec.header;
  // 1. compress
  mime_message parts;  // parts[0] stands for the SOAP root (unused by the part source)
  parts.parts.resize(1);
  for (auto const& p : spec.payloads) {
    mime_part part;
    part.content_id = p.content_id;
    part.content_type = "application/octet-stream";
    if (p.compress) {
      auto z = gzip(p.data);
      if (!z) return fail(errc::internal, detail, "compression failed");
      part.content = std::move(*z);
    } else {
      part.content = p.data;
    }
    parts.parts.push_back(std::move(part));
  }
  // 2. the envelope
  auto uid = new_event_id();
  std::string bst_id = "X509-" + uid, messaging_id = "messaging-" + uid, body_id = "body-" + uid;
  std::string s = "<S12:Envelope xmlns:S12=\"" + std::string(ns::soap12) + "\" xmlns:eb=\"" +
                  std::string(ns::eb) + "\" xmlns:wsu=\"" + std::string(ns::wsu) +
                  "\" xmlns:wsse=\"" + std::string(ns::wsse) + "\" xmlns:ds=\"" +
                  std::string(ns::ds) + "\" xmlns:xenc=\"" + std::string(ns::xenc) +
                  "\"><S12:Header><wsse:Security S12:mustUnderstand=\"true\">"
                  "<wsse:BinarySecurityToken EncodingType=\"" +
                  std::string(encoding_b64) + "\" ValueType=\"" + std::string(value_type_x509) +
                  "\" wsu:Id=\"" + bst_id + "\">" +
                  base64_encode(spec.signing_key->certificate_der()) +
                  "</wsse:BinarySecurityToken>";
  std::vector<std::string> data_ids;
  if (spec.recipient) {
    for (std::size_t i = 0; i < spec.payloads.size(); ++i) {
      data_ids.push_back("ED-" + uid + "-" + std::to_string(i));
      s += "<xenc:EncryptedData Id=\"" + data_ids.back() + "\" MimeType=\"" +
           (spec.payloads[i].compress ? std::string("application/gzip")
                                      : xml_escape(spec.payloads[i].mime_type)) +
           "\" Type=\"" + std::string(attachment_content_only) +
           "\"><xenc:EncryptionMethod Algorithm=\"" + std::string(x::uri::aes128_gcm) +
           "\"/><xenc:CipherData><xenc:CipherReference URI=\"cid:" +
           xml_escape(spec.payloads[i].content_id) +
           "\"><xenc:Transforms><ds:Transform Algorithm=\"" + std::string(x::uri::swa_ciphertext) +
           "\"/></xenc:Transforms></xenc:CipherReference></xenc:CipherData></xenc:EncryptedData>";
    }
  }
  s += "</wsse:Security><eb:Messaging S12:mustUnderstand=\"true\" wsu:Id=\"" + messaging_id +
       "\"><eb:UserMessage><eb:MessageInfo><eb:Timestamp>" + xml_escape(h.info.timestamp) +
       "</eb:Timestamp><eb:MessageId>" + xml_escape(h.info.message_id) +
       "</eb:MessageId></eb:MessageInfo><eb:PartyInfo>" + party_xml("From", h.from) +
       party_xml("To", h.to) + "</eb:PartyInfo><eb:CollaborationInfo>";
  if (!h.agreement_ref.empty())
    s += "<eb:AgreementRef>" + xml_escape(h.agreement_ref) + "</eb:AgreementRef>";
  s += "<eb:Service";
  if (!h.service_type.empty()) s += " type=\"" + xml_escape(h.service_type) + "\"";
  s += ">" + xml_escape(h.service) + "</eb:Service><eb:Action>" + xml_escape(h.action) +
       "</eb:Action><eb:ConversationId>" + xml_escape(h.conversation_id) +
       "</eb:ConversationId></eb:CollaborationInfo>";
  if (!h.message_properties.empty()) {
    s += "<eb:MessageProperties>";
    for (auto const& p : h.message_properties) s += property_xml(p);
    s += "</eb:MessageProperties>";
  }
  if (!spec.payloads.empty()) {
    s += "<eb:PayloadInfo>";
    for (auto const& p : spec.payloads) {
      s += "<eb:PartInfo href=\"cid:" + xml_escape(p.content_id) + "\"><eb:PartProperties>" +
           property_xml({"MimeType", "", p.mime_type});
      if (p.compress) s += property_xml({"CompressionType", "", "application/gzip"});
      s += "</eb:PartProperties></eb:PartInfo>";
    }
    s += "</eb:PayloadInfo>";
  }
  s += "</eb:UserMessage></eb:Messaging></S12:Header><S12:Body wsu:Id=\"" + body_id +
       "\"/></S12:Envelope>";
  auto doc = x::document::parse(s);
  if (!doc) return fail(errc::internal, detail, "cannot parse the built envelope");
  std::array<x::id_attribute, 1> ids{x::id_attribute{ns::wsu, "Id"}};
  if (auto r = doc->register_ids(ids); !r) return r.error();
  auto* header = first_child(doc->root(), ns::soap12, "Header");
  auto* security = first_child(header, ns::wsse, "Security");

  // 3. sign over eb:Messaging, the Body and every (compressed) attachment
  x::sign_spec sign;
  sign.include_certificate = false;
  sign.references = {{"#" + messaging_id, {std::string(x::uri::exc_c14n)}},
                     {"#" + body_id, {std::string(x::uri::exc_c14n)}}};
  for (auto const& p : spec.payloads)
    sign.references.push_back(
        {"cid:" + p.content_id, {std::string(x::uri::swa_content_signature)}});
  memory_parts source(&parts);
  auto sig = x::sign(*doc, security, nullptr, *spec.signing_key, sign, &source);
  if (!sig) return fail(errc::internal, detail, "signing failed: " + sig.error().message());
  {
    xmlNsPtr ds_ns = xmlSearchNsByHref(doc->get(), *sig, BAD_CAST ns::ds.data());
    xmlNsPtr wsse_ns = xmlSearchNsByHref(doc->get(), *sig, BAD_CAST ns::wsse.data());
    auto* key_info = xmlNewChild(*sig, ds_ns, BAD_CAST "KeyInfo", nullptr);
    auto* str = xmlNewChild(key_info, wsse_ns, BAD_CAST "SecurityTokenReference", nullptr);
    auto* ref = xmlNewChild(str, wsse_ns, BAD_CAST "Reference", nullptr);
    xmlNewProp(ref, BAD_CAST "URI", BAD_CAST("#" + bst_id).c_str());
    xmlNewProp(ref, BAD_CAST "ValueType", BAD_CAST value_type_x509.data());
  }
  outbound_message out;
  auto* signed_info = first_child(*sig, ns::ds, "SignedInfo");
  for (auto* r : x::children(signed_info, ns::ds, "Reference")) {
    sent_reference sr;
    sr.uri = x::attribute(r, "URI").value_or("");
    if (auto* dm = first_child(r, ns::ds, "DigestMethod"))
      sr.digest_method = x::attribute(dm, "Algorithm").value_or("");
    auto* dv = first_child(r, ns::ds, "DigestValue");
    auto text = dv ? x::text_of(dv) : result<std::string>(errc::internal);
    auto raw = text ? base64_decode(*text) : std::nullopt;
    if (!raw) return fail(errc::internal, detail, "unreadable DigestValue");
    sr.digest_value = std::move(*raw);
    out.references.push_back(std::move(sr));
  }

  // 4. encrypt every attachment with one AES-128-GCM key, wrapped for the recipient
  if (spec.recipient) {
    auto cek = x::random_bytes(16);
    if (!cek) return cek.error();
    for (std::size_t i = 1; i < parts.parts.size(); ++i) {
      auto ct = x::aes_gcm_encrypt(*cek, parts.parts[i].content);
      if (!ct) return fail(errc::internal, detail, "attachment encryption failed");
      parts.parts[i].content = std::move(*ct);
    }
    x::key_transport_spec kt;  // xmlenc11 rsa-oaep + MGF1-SHA-256 + SHA-256
    auto wrapped = x::encrypt_key(*cek, *spec.recipient, kt);
    if (!wrapped) return fail(errc::internal, detail, "key transport failed");
    auto ek = x::build_encrypted_key(security, *wrapped, kt, data_ids);
    if (!ek) return fail(errc::internal, detail, "cannot build EncryptedKey");
    // KeyInfo: the recipient's certificate by IssuerSerial.
    xmlNsPtr ds_ns = xmlSearchNsByHref(doc->get(), security, BAD_CAST ns::ds.data());
    xmlNsPtr wsse_ns = xmlSearchNsByHref(doc->get(), security, BAD_CAST ns::wsse.data());
    auto* key_info = xmlNewNode(ds_ns, BAD_CAST "KeyInfo");
    auto* str = xmlNewChild(key_info, wsse_ns, BAD_CAST "SecurityTokenReference", nullptr);
    auto* x509 = xmlNewChild(str, ds_ns, BAD_CAST "X509Data", nullptr);
    auto* is = xmlNewChild(x509, ds_ns, BAD_CAST "X509IssuerSerial", nullptr);
    xmlNewTextChild(is, ds_ns, BAD_CAST "X509IssuerName",
                    BAD_CAST spec.recipient->issuer_name().c_str());
    xmlNewTextChild(is, ds_ns, BAD_CAST "X509SerialNumber",
                    BAD_CAST spec.recipient->serial_decimal().c_str());
    auto* method = (*ek)->children;
    while (method && method->type != XML_ELEMENT_NODE) method = method->next;
    if (method)
      xmlAddNextSibling(method, key_info);
    else
      xmlAddChild(*ek, key_info);
    // Header order is processing order for WSS4J-based peers: EncryptedKey and EncryptedData
    // before the Signature, so they decrypt before they verify.
    auto* first_ed = first_child(security, ns::xenc, "EncryptedData");
    if (first_ed) {
      xmlUnlinkNode(*ek);
      xmlAddPrevSibling(first_ed, *ek);
    }
  }

  // 5. MIME
  std::string boundary = "MIMEBoundary_" + uid;
  std::string root_id = "root-" + uid + "@bbgw";
  out.content_type = "multipart/related; type=\"application/soap+xml\"; boundary=\"" + boundary +
                     "\"; start=\"<" + root_id + ">\"";
  std::string& b = out.body;
  b += "--" + boundary +
       "\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nContent-Transfer-Encoding: "
       "binary\r\nContent-ID: <" +
       root_id + ">\r\n\r\n" + doc->serialise() + "\r\n";
  for (std::size_t i = 1; i < parts.parts.size(); ++i)
    b += "--" + boundary +
         "\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
         "Content-ID: <" +
         parts.parts[i].content_id + ">\r\n\r\n" + parts.parts[i].content + "\r\n";
  b += "--" + boundary + "--\r\n";
  return out;
}

result<void> check_receipt(inbound_message const& receipt, std::string const& message_id,
                           std::vector<sent_reference> const& sent, std::string* detail) {
  if (receipt.ebms.signals.size() != 1 || receipt.ebms.signals[0].kind != signal_kind::receipt)
    return fail(errc::receipt_invalid, detail, "not a receipt signal");
  auto const& sig = receipt.ebms.signals[0];
  if (sig.info.ref_to_message_id != message_id)
    return fail(errc::receipt_invalid, detail, "RefToMessageId names another message");
  auto nri = x::children(sig.receipt, ns::ebbp, "NonRepudiationInformation");
  if (nri.size() != 1) return fail(errc::receipt_invalid, detail, "no NonRepudiationInformation");
  std::vector<sent_reference> got;
  for (auto* part : x::children(nri.front(), ns::ebbp, "MessagePartNRInformation"))
    for (auto* r : x::children(part, ns::ds, "Reference")) {
      sent_reference sr;
      sr.uri = x::attribute(r, "URI").value_or("");
      auto* dv = first_child(r, ns::ds, "DigestValue");
      auto text = dv ? x::text_of(dv) : result<std::string>(errc::internal);
      auto raw = text ? base64_decode(*text) : std::nullopt;
      if (!raw) return fail(errc::receipt_invalid, detail, "unreadable DigestValue in the receipt");
      sr.digest_value = std::move(*raw);
      got.push_back(std::move(sr));
    }
  for (auto const& s : sent) {
    bool found = false;
    for (auto const& g : got)
      if (g.uri == s.uri && g.digest_value == s.digest_value) found = true;
    if (!found)
      return fail(errc::receipt_invalid, detail, "the receipt does not acknowledge " + s.uri);
  }
  return {};
}

}  // namespace bbgw::edelivery

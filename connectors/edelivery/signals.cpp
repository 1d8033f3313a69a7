#include "edelivery/signals.hpp"

#include <array>

#include <libxml/tree.h>

#include "bbgw/cloud_event.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/mime.hpp"
#include "xmlsec/document.hpp"

namespace bbgw::edelivery {

namespace x = bbgw::xmlsec;

namespace {

std::string envelope_open(x::key const* own, std::string const& bst_id) {
  std::string s;
  s += "<S12:Envelope xmlns:S12=\"" + std::string(ns::soap12) + "\" xmlns:eb=\"" +
       std::string(ns::eb) + "\" xmlns:wsu=\"" + std::string(ns::wsu) + "\" xmlns:wsse=\"" +
       std::string(ns::wsse) + "\" xmlns:ds=\"" + std::string(ns::ds) + "\" xmlns:ebbp=\"" +
       std::string(ns::ebbp) + "\"><S12:Header>";
  if (own) {
    s += "<wsse:Security S12:mustUnderstand=\"true\"><wsse:BinarySecurityToken EncodingType=\"" +
         std::string(wss::encoding_base64) + "\" ValueType=\"" + std::string(wss::value_type_x509) +
         "\" wsu:Id=\"" + bst_id + "\">" + base64_encode(own->certificate_der()) +
         "</wsse:BinarySecurityToken></wsse:Security>";
  }
  return s;
}

std::string message_info_xml(signal_identity const& id, std::string_view ref) {
  std::string s = "<eb:MessageInfo><eb:Timestamp>" + format_rfc3339(id.timestamp) +
                  "</eb:Timestamp><eb:MessageId>" + xml_escape(id.message_id) + "</eb:MessageId>";
  if (!ref.empty()) s += "<eb:RefToMessageId>" + xml_escape(ref) + "</eb:RefToMessageId>";
  return s + "</eb:MessageInfo>";
}

xmlNodePtr first_child(xmlNodePtr parent, std::string_view ns_uri, std::string_view local) {
  auto c = x::children(parent, ns_uri, local);
  return c.empty() ? nullptr : c.front();
}

// Signs eb:Messaging and the Body, KeyInfo = STR → our BST.
result<std::string> sign_envelope(x::document& doc, x::key const& own,
                                  std::string const& messaging_id, std::string const& body_id,
                                  std::string const& bst_id) {
  std::array<x::id_attribute, 1> ids{x::id_attribute{ns::wsu, "Id"}};
  if (auto r = doc.register_ids(ids); !r) return r.error();
  auto* header = first_child(doc.root(), ns::soap12, "Header");
  auto* security = header ? first_child(header, ns::wsse, "Security") : nullptr;
  if (!security) return errc::internal;
  x::sign_spec spec;
  spec.include_certificate = false;
  spec.references = {{"#" + messaging_id, {std::string(x::uri::exc_c14n)}},
                     {"#" + body_id, {std::string(x::uri::exc_c14n)}}};
  auto sig = x::sign(doc, security, nullptr, own, spec);
  if (!sig) return sig.error();
  // KeyInfo/wsse:SecurityTokenReference/wsse:Reference → the BST (KeyInfo is not signed).
  xmlNsPtr ds_ns = xmlSearchNsByHref(doc.get(), *sig, BAD_CAST ns::ds.data());
  xmlNsPtr wsse_ns = xmlSearchNsByHref(doc.get(), *sig, BAD_CAST ns::wsse.data());
  auto* key_info = xmlNewChild(*sig, ds_ns, BAD_CAST "KeyInfo", nullptr);
  auto* str = xmlNewChild(key_info, wsse_ns, BAD_CAST "SecurityTokenReference", nullptr);
  auto* ref = xmlNewChild(str, wsse_ns, BAD_CAST "Reference", nullptr);
  xmlNewProp(ref, BAD_CAST "URI", BAD_CAST("#" + bst_id).c_str());
  xmlNewProp(ref, BAD_CAST "ValueType", BAD_CAST wss::value_type_x509.data());
  return doc.serialise();
}

}  // namespace

std::string new_message_id(std::string_view domain) {
  return new_event_id() + "@" + std::string(domain);
}

result<std::string> build_receipt(std::string_view ref_to_message_id,
                                  x::verified_signature const& signature, x::key const& own,
                                  signal_identity const& id) {
  auto uid = new_event_id();
  std::string bst_id = "X509-" + uid, messaging_id = "messaging-" + uid, body_id = "body-" + uid;
  std::string s = envelope_open(&own, bst_id);
  s += "<eb:Messaging S12:mustUnderstand=\"true\" wsu:Id=\"" + messaging_id +
       "\"><eb:SignalMessage>" + message_info_xml(id, ref_to_message_id) +
       "<eb:Receipt><ebbp:NonRepudiationInformation/></eb:Receipt></eb:SignalMessage>"
       "</eb:Messaging></S12:Header><S12:Body wsu:Id=\"" +
       body_id + "\"/></S12:Envelope>";
  auto doc = x::document::parse(s);
  if (!doc) return doc.error();
  auto* header = first_child(doc->root(), ns::soap12, "Header");
  auto* messaging = first_child(header, ns::eb, "Messaging");
  auto* nri =
      first_child(first_child(first_child(messaging, ns::eb, "SignalMessage"), ns::eb, "Receipt"),
                  ns::ebbp, "NonRepudiationInformation");
  if (!nri) return errc::internal;
  xmlNsPtr ebbp_ns = xmlSearchNsByHref(doc->get(), nri, BAD_CAST ns::ebbp.data());
  for (auto const& ref : signature.references) {
    if (!ref.reference_node) return errc::internal;
    auto* part = xmlNewChild(nri, ebbp_ns, BAD_CAST "MessagePartNRInformation", nullptr);
    auto* copy = xmlDocCopyNode(ref.reference_node, doc->get(), 1);
    if (!copy) return errc::internal;
    xmlAddChild(part, copy);
    xmlReconciliateNs(doc->get(), copy);
  }
  return sign_envelope(*doc, own, messaging_id, body_id, bst_id);
}

result<std::string> build_error(error_signal const& e, x::key const* own,
                                signal_identity const& id) {
  auto uid = new_event_id();
  std::string bst_id = "X509-" + uid, messaging_id = "messaging-" + uid, body_id = "body-" + uid;
  auto const& err = *e.error;
  std::string s = envelope_open(own, bst_id);
  s += "<eb:Messaging S12:mustUnderstand=\"true\" wsu:Id=\"" + messaging_id +
       "\"><eb:SignalMessage>" + message_info_xml(id, e.ref_to_message_id) + "<eb:Error origin=\"" +
       std::string(err.origin) + "\" category=\"" + std::string(err.category) + "\" errorCode=\"" +
       std::string(err.code) + "\" severity=\"" + std::string(err.severity) +
       "\" shortDescription=\"" + std::string(err.short_description) + "\"";
  if (!e.ref_to_message_id.empty())
    s += " refToMessageInError=\"" + xml_escape(e.ref_to_message_id) + "\"";
  s += "><eb:Description xml:lang=\"en\">" + std::string(err.short_description) +
       "</eb:Description><eb:ErrorDetail>" + xml_escape(e.detail) +
       "</eb:ErrorDetail></eb:Error></eb:SignalMessage></eb:Messaging></S12:Header>"
       "<S12:Body wsu:Id=\"" +
       body_id + "\">";
  if (e.soap_fault)
    s += "<S12:Fault><S12:Code><S12:Value>S12:Sender</S12:Value></S12:Code><S12:Reason>"
         "<S12:Text xml:lang=\"en\">" +
         std::string(err.code) + " " + std::string(err.short_description) +
         "</S12:Text></S12:Reason></S12:Fault>";
  s += "</S12:Body></S12:Envelope>";
  if (!own) return s;
  auto doc = x::document::parse(s);
  if (!doc) return doc.error();
  return sign_envelope(*doc, *own, messaging_id, body_id, bst_id);
}

}  // namespace bbgw::edelivery

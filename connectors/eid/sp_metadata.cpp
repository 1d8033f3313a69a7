#include "eid/sp_metadata.hpp"

#include "eid/authn_request.hpp"
#include "eid/codec.hpp"
#include "eid/eid_errc.hpp"
#include "eid/saml_ns.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::eid {

namespace {
std::string key_descriptor(std::string_view use, xmlsec::key const& k) {
  return "<md:KeyDescriptor use=\"" + std::string(use) +
         "\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>" + base64_encode(k.certificate_der()) +
         "</ds:X509Certificate></ds:X509Data></ds:KeyInfo>" +
         (use == "encryption"
              ? "<md:EncryptionMethod Algorithm=\"" + std::string(xmlsec::uri::aes256_gcm) +
                    "\"/><md:EncryptionMethod Algorithm=\"" + std::string(xmlsec::uri::aes128_gcm) +
                    "\"/><md:EncryptionMethod Algorithm=\"" + std::string(xmlsec::uri::rsa_oaep) +
                    "\"/><md:EncryptionMethod Algorithm=\"" +
                    std::string(xmlsec::uri::rsa_oaep_mgf1p) + "\"/>"
              : std::string()) +
         "</md:KeyDescriptor>";
}
}  // namespace

std::string build_sp_metadata(eid_config const& cfg, xmlsec::key const& signing,
                              xmlsec::key const& encryption, sys_time valid_until,
                              std::string const& id) {
  std::string x =
      "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
      "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" "
      "xmlns:alg=\"urn:oasis:names:tc:SAML:metadata:algsupport\" "
      "xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\" ID=\"" +
      xml_escape(id) + "\" entityID=\"" + xml_escape(cfg.sp.entity_id) + "\" validUntil=\"" +
      saml_time(valid_until) + "\">";
  x += "<md:Extensions><eidas:SPType>" + xml_escape(cfg.sp.sp_type) + "</eidas:SPType>";
  for (auto d : {xmlsec::uri::sha512, xmlsec::uri::sha384, xmlsec::uri::sha256})
    x += "<alg:DigestMethod Algorithm=\"" + std::string(d) + "\"/>";
  for (auto s :
       {xmlsec::uri::ecdsa_sha512, xmlsec::uri::ecdsa_sha384, xmlsec::uri::ecdsa_sha256,
        xmlsec::uri::rsa_pss_sha512, xmlsec::uri::rsa_pss_sha384, xmlsec::uri::rsa_pss_sha256})
    x += "<alg:SigningMethod Algorithm=\"" + std::string(s) + "\"/>";
  x += "</md:Extensions>";
  x += "<md:SPSSODescriptor AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\" "
       "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">";
  x += key_descriptor("signing", signing);
  x += key_descriptor("encryption", encryption);
  x += "<md:NameIDFormat>" + xml_escape(cfg.sp.name_id_format) + "</md:NameIDFormat>";
  x += "<md:AssertionConsumerService Binding=\"" + std::string(ns::post_binding) +
       "\" Location=\"" + xml_escape(cfg.sp.acs_url) + "\" index=\"0\" isDefault=\"true\"/>";
  x += "</md:SPSSODescriptor></md:EntityDescriptor>";
  return x;
}

result<std::string> sign_saml(std::string const& xml, xmlsec::key const& signing,
                              std::string const& signature_method,
                              std::string const& digest_method) {
  auto doc = xmlsec::document::parse(xml);
  if (!doc) return doc.error();
  xmlsec::id_attribute const ids[] = {{"", "ID"}};
  if (auto r = doc->register_ids(ids); !r) return r.error();
  auto root = doc->root();
  auto id = xmlsec::attribute(root, "ID");
  if (!id) return errc::crypto_failure;
  // ds:Signature goes right after saml:Issuer (protocol messages) or first (metadata).
  xmlNodePtr before = nullptr;
  for (xmlNodePtr c = root->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE) continue;
    if (xmlsec::is(c, ns::saml, "Issuer")) continue;
    before = c;
    break;
  }
  xmlsec::sign_spec spec;
  spec.signature_method = signature_method;
  spec.digest_method = digest_method;
  spec.references.push_back(
      {"#" + *id,
       {std::string(xmlsec::uri::enveloped_signature), std::string(xmlsec::uri::exc_c14n)}});
  auto s = xmlsec::sign(*doc, root, before, signing, spec);
  if (!s) return s.error();
  return doc->serialise();
}

}  // namespace bbgw::eid

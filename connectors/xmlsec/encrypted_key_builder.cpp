// Builds xenc:EncryptedKey for RSA key transport (the sending side of AS4 and SAML).
#include "xmlsec/encryption.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec {

using namespace xenc_detail;

namespace {

xmlChar const* x(std::string_view s) {
  return reinterpret_cast<xmlChar const*>(s.data());
}

// A null-terminated copy for libxml2 (string_views from uri:: are, callers' may not be).
std::string z(std::string_view s) {
  return std::string(s);
}

}  // namespace

result<xmlNodePtr> build_encrypted_key(xmlNodePtr parent, std::string_view cipher_value,
                                       key_transport_spec const& spec,
                                       std::span<std::string const> data_reference_ids) {
  if (!parent || parent->type != XML_ELEMENT_NODE) return make_error_code(errc::internal);
  bool const oaep11 = spec.method == uri::rsa_oaep;
  if ((!oaep11 && spec.method != uri::rsa_oaep_mgf1p) || !digest_by_uri(spec.digest_method) ||
      (oaep11 && !mgf_digest_by_uri(spec.mgf)))
    return make_error_code(errc::algorithm_not_allowed);

  xmlNodePtr ek = xmlNewChild(parent, nullptr, x("EncryptedKey"), nullptr);
  if (!ek) return make_error_code(errc::internal);
  xmlNsPtr xenc = xmlNewNs(ek, x(z(ns_xenc)), x("xenc"));
  xmlNsPtr ds = xmlNewNs(ek, x(z(ns_ds)), x("ds"));
  xmlSetNs(ek, xenc);

  xmlNodePtr em = xmlNewChild(ek, xenc, x("EncryptionMethod"), nullptr);
  xmlNewProp(em, x("Algorithm"), x(z(spec.method)));
  xmlNodePtr dm = xmlNewChild(em, ds, x("DigestMethod"), nullptr);
  xmlNewProp(dm, x("Algorithm"), x(z(spec.digest_method)));
  if (oaep11) {
    xmlNsPtr xenc11 = xmlNewNs(ek, x(z(ns_xenc11)), x("xenc11"));
    xmlNodePtr mgf = xmlNewChild(em, xenc11, x("MGF"), nullptr);
    xmlNewProp(mgf, x("Algorithm"), x(z(spec.mgf)));
  }
  xmlNodePtr cd = xmlNewChild(ek, xenc, x("CipherData"), nullptr);
  // xmlNewTextChild escapes; base64 needs no escaping but this keeps it obviously safe.
  xmlNewTextChild(cd, xenc, x("CipherValue"), x(detail::base64_encode(cipher_value)));
  if (!data_reference_ids.empty()) {
    xmlNodePtr list = xmlNewChild(ek, xenc, x("ReferenceList"), nullptr);
    for (auto const& id : data_reference_ids) {
      xmlNodePtr ref = xmlNewChild(list, xenc, x("DataReference"), nullptr);
      xmlNewProp(ref, x("URI"), x("#" + id));
    }
  }
  return ek;
}

}  // namespace bbgw::xmlsec

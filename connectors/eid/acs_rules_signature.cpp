// ACS rules on signatures and encryption: the Response and/or the Assertion is signed by a key
// of the node's metadata, each signature's single reference is exactly the element then used
// (no wrapping), an EncryptedAssertion is decrypted only inside a signed Response unless the
// decrypted Assertion is signed itself, and exactly one Assertion remains.
#include "eid/acs_rules.hpp"
#include "eid/eid_errc.hpp"
#include "eid/saml_ns.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::eid::rules {

namespace {
result<void> refuse(acs_context& c, std::string d) {
  c.detail = std::move(d);
  return errc::saml_rejected;
}

// Verifies the ds:Signature that is a direct child of `element` (if any) with the node's keys;
// the one reference must be "#ID" of `element` itself. Sets `signed_out`.
result<void> verify_enveloped(acs_context& c, xmlNodePtr element, bool& signed_out,
                              std::string_view what) {
  auto sig = xmlsec::only_child(element, ns::ds, "Signature");
  if (!sig) return refuse(c, std::string(what) + " has several signatures");
  if (!*sig) return {};
  // Keys come from the metadata only; a RetrievalMethod (network, other elements) in the
  // signature's KeyInfo is an attack shape, refused rather than ignored.
  if (auto ki = xmlsec::only_child(*sig, ns::ds, "KeyInfo"); ki && *ki)
    for (auto n = (*ki)->children; n; n = n->next)
      if (xmlsec::is(n, ns::ds, "RetrievalMethod"))
        return refuse(c, std::string(what) + " signature KeyInfo has a RetrievalMethod");
  std::string why;
  xmlsec::verify_options opts;
  opts.policy = c.policy;
  opts.detail = &why;
  auto v = xmlsec::verify(*c.doc, *sig, c.node->signing_keys, opts);
  if (!v)
    return refuse(c,
                  std::string(what) + " signature: " + (why.empty() ? v.error().message() : why));
  auto id = xmlsec::attribute(element, "ID").value_or("");
  if (v->references.size() != 1 || v->references[0].element != element || id.empty() ||
      v->references[0].uri != "#" + id)
    return refuse(
        c, std::string(what) + " signature does not reference exactly the " + std::string(what));
  signed_out = true;
  ++(v->direct ? c.signatures_direct : c.signatures_xmlsec);
  return {};
}
}  // namespace

result<void> response_signature(acs_context& c) {
  return verify_enveloped(c, c.response, c.response_signed, "Response");
}

result<void> decrypt(acs_context& c) {
  auto enc = xmlsec::children(c.response, ns::saml, "EncryptedAssertion");
  if (enc.empty()) return {};
  if (enc.size() > 1) return refuse(c, "several EncryptedAssertions");
  if (!xmlsec::children(c.response, ns::saml, "Assertion").empty())
    return refuse(c, "an Assertion beside an EncryptedAssertion");
  if (!c.decryption_key) return refuse(c, "no decryption key");
  // AES-CBC (Lasso's only content cipher) is refused with a message naming the allowance.
  if (auto data = xmlsec::only_child(enc[0], ns::xenc, "EncryptedData"); data && *data)
    if (auto m = xmlsec::only_child(*data, ns::xenc, "EncryptionMethod"); m && *m) {
      auto alg = xmlsec::attribute(*m, "Algorithm").value_or("");
      for (auto cbc : cbc_uris)
        if (alg == cbc && !c.policy->allows(c.policy->data_encryption, alg))
          return refuse(c, "EncryptedAssertion: AES-CBC content encryption (" + alg +
                               ") is refused; connectors.eid.node.allow_cbc_encryption allows "
                               "it for this node");
    }
  std::string why;
  auto a = xmlsec::decrypt_element(*c.doc, enc[0], *c.decryption_key, *c.policy, {}, &why);
  if (!a) {
    if (why.find("OAEP digest " + std::string(xmlsec::uri::sha1)) != std::string::npos)
      why += "; connectors.eid.node.allow_oaep_sha1 allows it for this node";
    return refuse(c, "EncryptedAssertion: " + (why.empty() ? a.error().message() : why));
  }
  c.assertion_was_encrypted = true;
  xmlsec::id_attribute const ids[] = {{"", "ID"}};
  if (auto r = c.doc->register_ids(ids); !r)
    return refuse(c, "IDs after decryption: " + r.error().message());
  if (c.schemas) {
    if (auto r = c.schemas->validate(*a, &why); !r)
      return refuse(c, "decrypted assertion schema: " + without_values(why));
  }
  return {};
}

result<void> one_assertion(acs_context& c) {
  auto all = xmlsec::children(c.response, ns::saml, "Assertion");
  if (all.size() != 1) return refuse(c, "the Response must hold exactly one Assertion");
  if (!xmlsec::children(c.response, ns::saml, "EncryptedAssertion").empty())
    return refuse(c, "an EncryptedAssertion remains");
  c.assertion = all[0];
  return {};
}

result<void> assertion_signature(acs_context& c) {
  if (auto r = verify_enveloped(c, c.assertion, c.assertion_signed, "Assertion"); !r) return r;
  if (!c.response_signed && !c.assertion_signed)
    return refuse(c, "neither Response nor Assertion is signed");
  // Decrypted content is trusted only as part of a signed Response or when signed itself.
  if (c.assertion_was_encrypted && !c.response_signed && !c.assertion_signed)
    return refuse(c, "the decrypted Assertion is not covered by a signature");
  return {};
}

}  // namespace bbgw::eid::rules

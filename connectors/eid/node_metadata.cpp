#include "eid/node_metadata.hpp"

#include "eid/codec.hpp"
#include "eid/eid_errc.hpp"
#include "eid/saml_ns.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::eid {

result<node_metadata> parse_node_metadata(std::string_view xml, xmlsec::key const& trust_anchor,
                                          xmlsec::algorithm_policy const& policy, sys_time now,
                                          std::string* detail) {
  auto fail = [&](std::string d) -> result<node_metadata> {
    if (detail) *detail = std::move(d);
    return errc::node_unavailable;
  };
  xmlsec::parse_limits limits;
  limits.max_bytes = 4 * 1024 * 1024;
  auto doc = xmlsec::document::parse(xml, limits);
  if (!doc) return fail("metadata is not acceptable XML: " + doc.error().message());
  auto root = doc->root();
  if (!xmlsec::is(root, ns::md, "EntityDescriptor"))
    return fail("metadata root is not md:EntityDescriptor");
  xmlsec::id_attribute const ids[] = {{"", "ID"}};
  if (auto r = doc->register_ids(ids); !r) return fail("metadata IDs: " + r.error().message());
  auto sig = xmlsec::only_child(root, ns::ds, "Signature");
  if (!sig || !*sig) return fail("metadata is not signed");
  xmlsec::key const anchors[] = {trust_anchor};
  std::string why;
  xmlsec::verify_options opts;
  opts.policy = &policy;
  opts.detail = &why;
  auto v = xmlsec::verify(*doc, *sig, anchors, opts);
  if (!v) return fail("metadata signature: " + why);
  if (v->references.size() != 1 || v->references[0].element != root)
    return fail("metadata signature does not cover exactly the EntityDescriptor");
  node_metadata m;
  m.loaded = now;
  m.entity_id = xmlsec::attribute(root, "entityID").value_or("");
  if (m.entity_id.empty()) return fail("metadata has no entityID");
  if (auto vu = xmlsec::attribute(root, "validUntil")) {
    m.valid_until = parse_saml_time(*vu);
    if (!m.valid_until) return fail("metadata validUntil is malformed");
    if (*m.valid_until <= now) return fail("metadata validUntil has passed");
  }
  auto idp = xmlsec::only_child(root, ns::md, "IDPSSODescriptor");
  if (!idp || !*idp) return fail("metadata has no (single) IDPSSODescriptor");
  for (auto sso : xmlsec::children(*idp, ns::md, "SingleSignOnService")) {
    auto b = xmlsec::attribute(sso, "Binding").value_or("");
    auto loc = xmlsec::attribute(sso, "Location").value_or("");
    if (b == ns::post_binding && m.sso_post.empty()) m.sso_post = loc;
    if (b == ns::redirect_binding && m.sso_redirect.empty()) m.sso_redirect = loc;
  }
  for (auto kd : xmlsec::children(*idp, ns::md, "KeyDescriptor")) {
    auto use = xmlsec::attribute(kd, "use").value_or("signing");
    if (use != "signing") continue;
    auto ki = xmlsec::only_child(kd, ns::ds, "KeyInfo");
    if (!ki || !*ki) continue;
    for (auto x509 : xmlsec::children(*ki, ns::ds, "X509Data"))
      for (auto c : xmlsec::children(x509, ns::ds, "X509Certificate")) {
        auto text = xmlsec::text_of(c);
        if (!text) return fail("metadata certificate has unexpected content");
        auto der = base64_decode(*text);
        if (!der) return fail("metadata certificate is not base64");
        auto k = xmlsec::key::from_certificate_der(*der);
        if (!k) return fail("metadata certificate is not usable");
        m.signing_keys.push_back(std::move(*k));
      }
  }
  if (m.signing_keys.empty()) return fail("metadata names no signing key");
  if (m.sso_post.empty() && m.sso_redirect.empty())
    return fail("metadata has no SingleSignOnService for HTTP-POST or HTTP-Redirect");
  return m;
}

}  // namespace bbgw::eid

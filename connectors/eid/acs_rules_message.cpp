// ACS rules on the Response message itself: hardened parse, schema, Destination, Issuer,
// InResponseTo against the one-time request store, status.
#include "eid/acs_rules.hpp"
#include "eid/eid_errc.hpp"
#include "eid/saml_ns.hpp"

namespace bbgw::eid::rules {

namespace {
result<void> refuse(acs_context& c, std::string d) {
  c.detail = std::move(d);
  return errc::saml_rejected;
}

}  // namespace

// libxml2's schema messages quote the offending values ('1965-13-01' is not a valid ...): keep
// the qualified element names ('{ns}Name') and blank every other quoted text, so no
// attribute value reaches the log.
std::string without_values(std::string const& m) {
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] != '\'') {
      out += m[i];
      continue;
    }
    auto end = m.find('\'', i + 1);
    if (end == std::string::npos) break;
    auto quoted = std::string_view(m).substr(i + 1, end - i - 1);
    out += quoted.starts_with('{') ? "'" + std::string(quoted) + "'" : std::string("'…'");
    i = end;
  }
  return out;
}

result<void> parse(acs_context& c) {
  auto doc = xmlsec::document::parse(c.xml);  // no DOCTYPE, no entities, limits
  if (!doc) return refuse(c, "not acceptable XML: " + doc.error().message());
  c.doc.emplace(std::move(*doc));
  c.response = c.doc->root();
  if (!xmlsec::is(c.response, ns::samlp, "Response"))
    return refuse(c, "root is not samlp:Response");
  xmlsec::id_attribute const ids[] = {{"", "ID"}};
  if (auto r = c.doc->register_ids(ids); !r) return refuse(c, "IDs: " + r.error().message());
  return {};
}

result<void> schema(acs_context& c) {
  if (!c.schemas) return refuse(c, "no schema set loaded");
  std::string why;
  if (auto r = c.schemas->validate(c.doc->get(), &why); !r)
    return refuse(c, "schema: " + without_values(why));
  return {};
}

result<void> destination(acs_context& c) {
  auto d = xmlsec::attribute(c.response, "Destination");
  if (!d || *d != c.cfg->sp.acs_url) return refuse(c, "Destination is missing or not our ACS");
  return {};
}

result<void> issuer(acs_context& c) {
  // eIDAS requires the Response Issuer; it must be the node of the metadata.
  auto i = xmlsec::only_child(c.response, ns::saml, "Issuer");
  if (!i || !*i) return refuse(c, "Response Issuer is missing");
  auto text = xmlsec::text_of(*i);
  if (!text || *text != c.node->entity_id) return refuse(c, "Response Issuer is not the node");
  if (auto f = xmlsec::attribute(*i, "Format");
      f && *f != "urn:oasis:names:tc:SAML:2.0:nameid-format:entity")
    return refuse(c, "Response Issuer Format is not entity");
  return {};
}

result<void> in_response_to(acs_context& c) {
  auto irt = xmlsec::attribute(c.response, "InResponseTo");
  if (!irt || irt->empty()) return refuse(c, "InResponseTo is missing (unsolicited)");
  c.pending = c.find_request(*irt);
  if (!c.pending) return refuse(c, "InResponseTo names no pending request");
  c.in_response_to = *irt;
  return {};
}

result<void> status(acs_context& c) {
  auto st = xmlsec::only_child(c.response, ns::samlp, "Status");
  if (!st || !*st) return refuse(c, "Status is missing");
  auto code = xmlsec::only_child(*st, ns::samlp, "StatusCode");
  if (!code || !*code) return refuse(c, "StatusCode is missing");
  auto value = xmlsec::attribute(*code, "Value").value_or("");
  if (value == ns::success) return {};
  // The most specific code names the reason: RequestDenied, AuthnFailed, ...
  auto sub = xmlsec::only_child(*code, ns::samlp, "StatusCode");
  if (sub && *sub) value = xmlsec::attribute(*sub, "Value").value_or(value);
  auto colon = value.rfind(':');
  c.status_reason = colon == std::string::npos ? value : value.substr(colon + 1);
  if (c.status_reason.empty()) c.status_reason = "unknown_status";
  // Only the node's own (signed) answer may end a login with a `login failed` event: an
  // unsigned error Response changes nothing, like any other refused Response.
  if (!c.response_signed)
    return refuse(c, "a non-success Response (" + c.status_reason + ") without a signature");
  c.detail = "the node answered " + c.status_reason;
  return errc::login_failed;
}

}  // namespace bbgw::eid::rules

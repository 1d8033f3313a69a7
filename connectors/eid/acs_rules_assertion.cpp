// ACS rules on the (now trusted) Assertion: Issuer, bearer SubjectConfirmation, Conditions and
// AudienceRestriction, AuthnStatement age, level of assurance, required attributes, replay.
#include <algorithm>

#include "eid/acs_rules.hpp"
#include "eid/attributes.hpp"
#include "eid/eid_errc.hpp"
#include "eid/saml_ns.hpp"

namespace bbgw::eid::rules {

namespace {
result<void> refuse(acs_context& c, std::string d) {
  c.detail = std::move(d);
  return errc::saml_rejected;
}
std::optional<sys_time> time_attr(xmlNodePtr e, std::string_view name) {
  auto v = xmlsec::attribute(e, name);
  if (!v) return std::nullopt;
  return parse_saml_time(*v);
}
}  // namespace

result<void> assertion_issuer(acs_context& c) {
  auto i = xmlsec::only_child(c.assertion, ns::saml, "Issuer");
  if (!i || !*i) return refuse(c, "Assertion Issuer is missing");
  auto text = xmlsec::text_of(*i);
  if (!text || *text != c.node->entity_id) return refuse(c, "Assertion Issuer is not the node");
  return {};
}

result<void> subject_confirmation(acs_context& c) {
  auto subject = xmlsec::only_child(c.assertion, ns::saml, "Subject");
  if (!subject || !*subject) return refuse(c, "Subject is missing");
  auto nameid = xmlsec::only_child(*subject, ns::saml, "NameID");
  if (!nameid || !*nameid) return refuse(c, "NameID is missing");
  if (auto t = xmlsec::text_of(*nameid); !t || t->empty())
    return refuse(c, "NameID has unexpected content");  // e.g. a comment inside
  std::vector<xmlNodePtr> bearer;
  for (auto sc : xmlsec::children(*subject, ns::saml, "SubjectConfirmation"))
    if (xmlsec::attribute(sc, "Method") == std::optional<std::string>(std::string(ns::bearer)))
      bearer.push_back(sc);
  if (bearer.size() != 1) return refuse(c, "exactly one bearer SubjectConfirmation is required");
  auto data = xmlsec::only_child(bearer[0], ns::saml, "SubjectConfirmationData");
  if (!data || !*data) return refuse(c, "SubjectConfirmationData is missing");
  if (xmlsec::attribute(*data, "Recipient") != std::optional<std::string>(c.cfg->sp.acs_url))
    return refuse(c, "SubjectConfirmationData Recipient is not our ACS");
  if (xmlsec::attribute(*data, "InResponseTo") != std::optional<std::string>(c.in_response_to))
    return refuse(c, "SubjectConfirmationData InResponseTo does not match");
  auto noa = time_attr(*data, "NotOnOrAfter");
  if (!noa) return refuse(c, "SubjectConfirmationData NotOnOrAfter is missing or malformed");
  if (c.now >= *noa + c.cfg->clock_skew) return refuse(c, "SubjectConfirmationData has expired");
  if (xmlsec::attribute(*data, "NotBefore")) {
    auto nb = time_attr(*data, "NotBefore");
    if (!nb || c.now + c.cfg->clock_skew < *nb)
      return refuse(c, "SubjectConfirmationData not yet valid");
  }
  return {};
}

result<void> conditions(acs_context& c) {
  auto cond = xmlsec::only_child(c.assertion, ns::saml, "Conditions");
  if (!cond || !*cond) return refuse(c, "Conditions are missing");
  auto nb = time_attr(*cond, "NotBefore");
  auto noa = time_attr(*cond, "NotOnOrAfter");
  if (!nb || !noa) return refuse(c, "Conditions NotBefore/NotOnOrAfter missing or malformed");
  if (c.now + c.cfg->clock_skew < *nb) return refuse(c, "Conditions not yet valid");
  if (c.now >= *noa + c.cfg->clock_skew) return refuse(c, "Conditions have expired");
  c.not_on_or_after = *noa;
  return {};
}

result<void> audience(acs_context& c) {
  auto cond = *xmlsec::only_child(c.assertion, ns::saml, "Conditions");
  auto ar = xmlsec::children(cond, ns::saml, "AudienceRestriction");
  if (ar.size() != 1) return refuse(c, "exactly one AudienceRestriction is required");
  bool ours = false;
  for (auto a : xmlsec::children(ar[0], ns::saml, "Audience")) {
    auto t = xmlsec::text_of(a);
    if (!t) return refuse(c, "Audience has unexpected content");
    ours = ours || *t == c.cfg->sp.entity_id;
  }
  if (!ours) return refuse(c, "the AudienceRestriction does not name this SP");
  return {};
}

result<void> authn_statement(acs_context& c) {
  auto st = xmlsec::children(c.assertion, ns::saml, "AuthnStatement");
  if (st.size() != 1) return refuse(c, "exactly one AuthnStatement is required");
  auto instant = time_attr(st[0], "AuthnInstant");
  if (!instant) return refuse(c, "AuthnInstant is missing or malformed");
  if (*instant > c.now + c.cfg->clock_skew) return refuse(c, "AuthnInstant is in the future");
  if (c.now - *instant > c.cfg->max_authn_age + c.cfg->clock_skew)
    return refuse(c, "AuthnInstant is too old");
  c.who.auth_instant = *instant;
  return {};
}

result<void> level_of_assurance(acs_context& c) {
  auto st = xmlsec::children(c.assertion, ns::saml, "AuthnStatement")[0];
  auto ctx = xmlsec::only_child(st, ns::saml, "AuthnContext");
  if (!ctx || !*ctx) return refuse(c, "AuthnContext is missing");
  auto ref = xmlsec::only_child(*ctx, ns::saml, "AuthnContextClassRef");
  if (!ref || !*ref) return refuse(c, "AuthnContextClassRef is missing");
  auto text = xmlsec::text_of(*ref);
  auto got = text ? parse_loa(*text) : std::nullopt;
  auto want = parse_loa(c.pending->loa);
  if (!got || !want) return refuse(c, "the level of assurance is not an eIDAS LoA");
  if (want->not_notified ? got->uri != want->uri : (got->not_notified || got->level < want->level))
    return refuse(c, "the level of assurance is below the requested one");
  c.who.loa = got->uri;
  return {};
}

result<void> attributes(acs_context& c) {
  std::vector<std::pair<std::string, std::string>> values;
  for (auto as : xmlsec::children(c.assertion, ns::saml, "AttributeStatement"))
    for (auto a : xmlsec::children(as, ns::saml, "Attribute")) {
      auto name = xmlsec::attribute(a, "Name");  // matched on Name, never FriendlyName
      if (!name) continue;
      auto vals = xmlsec::children(a, ns::saml, "AttributeValue");
      if (vals.empty()) continue;
      // Every value is read whole (a comment inside any of them is refused); the first is used.
      for (auto v : vals)
        if (!xmlsec::text_of(v)) return refuse(c, "an AttributeValue has unexpected content");
      auto t = xmlsec::text_of(vals[0]);
      if (std::any_of(values.begin(), values.end(),
                      [&](auto const& v) { return v.first == *name; }))
        return refuse(c, "an attribute appears twice");
      values.emplace_back(*name, *t);
    }
  auto has = [&](std::string_view n) {
    return std::any_of(values.begin(), values.end(), [&](auto const& v) { return v.first == n; });
  };
  for (auto const& r : c.pending->attributes)
    if (r.required && !has(r.name)) return refuse(c, "a required attribute is missing: " + r.name);
  std::string pid;
  for (auto const& [n, v] : values)
    if (n == attr::person_identifier || n == attr::legal_person_identifier) pid = v;
  if (pid.empty()) return refuse(c, "no PersonIdentifier");
  c.who.person_identifier = pid;
  // The node's country: the first segment of the identifier (eIDAS "ES/DE/..."), else config.
  if (pid.size() > 2 && pid[2] == '/' && pid[0] >= 'A' && pid[0] <= 'Z' && pid[1] >= 'A' &&
      pid[1] <= 'Z')
    c.who.country = pid.substr(0, 2);
  else
    c.who.country = c.cfg->node.country;
  c.who.attributes = std::move(values);
  return {};
}

result<void> replay(acs_context& c) {
  auto id = xmlsec::attribute(c.assertion, "ID").value_or("");
  if (id.empty()) return refuse(c, "Assertion has no ID");
  auto fresh = c.remember_assertion(id, c.not_on_or_after + c.cfg->clock_skew);
  if (!fresh) return fresh.error();
  if (!*fresh) return refuse(c, "the Assertion was already used");
  return {};
}

}  // namespace bbgw::eid::rules

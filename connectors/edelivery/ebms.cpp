#include "edelivery/ebms.hpp"

#include <array>

#include "edelivery/edelivery_errc.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::edelivery {

namespace x = bbgw::xmlsec;

// Assigns the value of a result or returns its error.
#define EDELIVERY_ASSIGN(lhs, expr) \
  do {                              \
    auto r_ = (expr);               \
    if (!r_) return r_.error();     \
    lhs = std::move(*r_);           \
  } while (false)

namespace {

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

// Text of an optional child; "" when absent; error when it holds markup.
result<std::string> child_text(xmlNodePtr parent, std::string_view local) {
  auto c = x::only_child(parent, ns::eb, local);
  if (!c) return errc::messaging_invalid;
  if (!*c) return std::string();
  auto t = x::text_of(*c);
  if (!t) return errc::messaging_invalid;
  return *t;
}

result<std::vector<property>> properties_of(xmlNodePtr parent, std::string_view list) {
  std::vector<property> out;
  auto holder = x::only_child(parent, ns::eb, list);
  if (!holder) return errc::messaging_invalid;
  if (!*holder) return out;
  for (auto* p : x::children(*holder, ns::eb, "Property")) {
    auto t = x::text_of(p);
    if (!t) return errc::messaging_invalid;
    out.push_back({x::attribute(p, "name").value_or(""), x::attribute(p, "type").value_or(""), *t});
  }
  return out;
}

result<message_info> message_info_of(xmlNodePtr unit) {
  auto mi = x::only_child(unit, ns::eb, "MessageInfo");
  if (!mi || !*mi) return errc::messaging_invalid;
  message_info info;
  EDELIVERY_ASSIGN(info.timestamp, child_text(*mi, "Timestamp"));
  EDELIVERY_ASSIGN(info.message_id, child_text(*mi, "MessageId"));
  EDELIVERY_ASSIGN(info.ref_to_message_id, child_text(*mi, "RefToMessageId"));
  if (info.message_id.empty()) return errc::messaging_invalid;
  return info;
}

result<party> party_of(xmlNodePtr party_info, std::string_view which) {
  auto p = x::only_child(party_info, ns::eb, which);
  if (!p || !*p) return errc::messaging_invalid;
  party out;
  for (auto* id : x::children(*p, ns::eb, "PartyId")) {
    auto t = x::text_of(id);
    if (!t) return errc::messaging_invalid;
    out.ids.push_back({x::attribute(id, "type").value_or(""), *t});
  }
  EDELIVERY_ASSIGN(out.role, child_text(*p, "Role"));
  return out;
}

result<user_message> user_message_of(xmlNodePtr um, std::string* detail) {
  user_message m;
  EDELIVERY_ASSIGN(m.info, message_info_of(um));
  m.mpc = x::attribute(um, "mpc").value_or("");
  auto pi = x::only_child(um, ns::eb, "PartyInfo");
  if (!pi || !*pi) return fail(errc::messaging_invalid, detail, "PartyInfo missing");
  EDELIVERY_ASSIGN(m.from, party_of(*pi, "From"));
  EDELIVERY_ASSIGN(m.to, party_of(*pi, "To"));
  auto ci = x::only_child(um, ns::eb, "CollaborationInfo");
  if (!ci || !*ci) return fail(errc::messaging_invalid, detail, "CollaborationInfo missing");
  if (auto ar = x::only_child(*ci, ns::eb, "AgreementRef"); ar && *ar) {
    auto t = x::text_of(*ar);
    if (!t) return errc::messaging_invalid;
    m.agreement_ref = *t;
    m.agreement_type = x::attribute(*ar, "type").value_or("");
    m.agreement_pmode = x::attribute(*ar, "pmode").value_or("");
  }
  if (auto s = x::only_child(*ci, ns::eb, "Service"); s && *s) {
    auto t = x::text_of(*s);
    if (!t) return errc::messaging_invalid;
    m.service = *t;
    m.service_type = x::attribute(*s, "type").value_or("");
  } else {
    return fail(errc::messaging_invalid, detail, "Service missing");
  }
  EDELIVERY_ASSIGN(m.action, child_text(*ci, "Action"));
  EDELIVERY_ASSIGN(m.conversation_id, child_text(*ci, "ConversationId"));
  EDELIVERY_ASSIGN(m.message_properties, properties_of(um, "MessageProperties"));
  auto payload_info = x::only_child(um, ns::eb, "PayloadInfo");
  if (!payload_info) return errc::messaging_invalid;
  if (*payload_info) {
    bool body_payload = false;
    for (auto* p : x::children(*payload_info, ns::eb, "PartInfo")) {
      part_info part;
      part.href = x::attribute(p, "href").value_or("");
      if (part.href.empty() || part.href.front() == '#') {
        if (body_payload)
          return fail(errc::value_inconsistent, detail, "more than one SOAP Body payload");
        body_payload = true;
      } else if (part.href.size() > 4 && part.href.compare(0, 4, "cid:") == 0) {
        part.content_id = part.href.substr(4);
      } else {
        return fail(errc::value_inconsistent, detail, "PartInfo href is neither cid: nor #id");
      }
      for (auto const& other : m.parts)
        if (!part.href.empty() && other.href == part.href)
          return fail(errc::value_inconsistent, detail, "two PartInfo name the same part");
      EDELIVERY_ASSIGN(part.properties, properties_of(p, "PartProperties"));
      if (auto c = part.compression_type()) {
        if (*c != "application/gzip")
          return fail(errc::value_not_recognized, detail,
                      "CompressionType is not application/gzip");
        if (!part.mime_type())
          return fail(errc::value_inconsistent, detail, "compressed part without MimeType");
      }
      m.parts.push_back(std::move(part));
    }
  }
  return m;
}

result<signal_message> signal_of(xmlNodePtr sm, std::string* detail) {
  signal_message s;
  EDELIVERY_ASSIGN(s.info, message_info_of(sm));
  auto receipt = x::only_child(sm, ns::eb, "Receipt");
  auto pull = x::only_child(sm, ns::eb, "PullRequest");
  if (!receipt || !pull) return errc::messaging_invalid;
  auto errors = x::children(sm, ns::eb, "Error");
  int kinds = (*receipt ? 1 : 0) + (*pull ? 1 : 0) + (errors.empty() ? 0 : 1);
  if (kinds != 1)
    return fail(errc::value_inconsistent, detail,
                "SignalMessage must carry exactly one of Receipt, Error, PullRequest");
  if (*receipt) {
    s.kind = signal_kind::receipt;
    s.receipt = *receipt;
    if (s.info.ref_to_message_id.empty())
      return fail(errc::value_inconsistent, detail, "Receipt without RefToMessageId");
  } else if (*pull) {
    s.kind = signal_kind::pull_request;
    s.pull_mpc = x::attribute(*pull, "mpc").value_or("");
  } else {
    s.kind = signal_kind::error;
    for (auto* e : errors) {
      ebms_error_item item;
      item.error_code = x::attribute(e, "errorCode").value_or("");
      item.severity = x::attribute(e, "severity").value_or("");
      item.category = x::attribute(e, "category").value_or("");
      item.short_description = x::attribute(e, "shortDescription").value_or("");
      item.ref_to_message_in_error = x::attribute(e, "refToMessageInError").value_or("");
      if (auto d = x::only_child(e, ns::eb, "ErrorDetail"); d && *d)
        if (auto t = x::text_of(*d)) item.detail = *t;
      s.errors.push_back(std::move(item));
    }
  }
  return s;
}

bool targets_us(xmlNodePtr header_block, soap_version v) {
  // SOAP 1.2 `role` / SOAP 1.1 `actor`: a block for another node is not ours to process.
  auto ns_env = v == soap_version::soap12 ? ns::soap12 : ns::soap11;
  auto role = x::attribute_ns(header_block, ns_env, v == soap_version::soap12 ? "role" : "actor");
  return !role || role->empty() ||
         *role == "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver";
}

}  // namespace

std::optional<std::string> part_info::property_value(std::string_view name) const {
  for (auto const& p : properties)
    if (p.name == name) return p.value;
  return std::nullopt;
}

std::optional<std::string> user_message::message_property(std::string_view name) const {
  for (auto const& p : message_properties)
    if (p.name == name) return p.value;
  return std::nullopt;
}

result<soap_envelope> locate(x::document const& doc, bool allow_soap11, std::string* detail) {
  soap_envelope env;
  env.envelope = doc.root();
  if (x::is(env.envelope, ns::soap12, "Envelope")) {
    env.version = soap_version::soap12;
  } else if (x::is(env.envelope, ns::soap11, "Envelope")) {
    if (!allow_soap11)
      return fail(errc::soap_version_mismatch, detail, "SOAP 1.1 envelope where 1.2 is required");
    env.version = soap_version::soap11;
  } else {
    return fail(errc::soap_malformed, detail, "the root element is not a SOAP Envelope");
  }
  auto env_ns = env.version == soap_version::soap12 ? ns::soap12 : ns::soap11;
  auto header = x::only_child(env.envelope, env_ns, "Header");
  auto body = x::only_child(env.envelope, env_ns, "Body");
  if (!header || !body || !*body)
    return fail(errc::soap_malformed, detail, "Envelope needs one Header and one Body");
  if (!*header) return fail(errc::messaging_missing, detail, "no SOAP Header");
  env.header = *header;
  env.body = *body;
  auto messagings = x::children(env.header, ns::eb, "Messaging");
  if (messagings.size() != 1)
    return fail(errc::messaging_missing, detail,
                messagings.empty() ? "no eb:Messaging header" : "more than one eb:Messaging");
  env.messaging = messagings.front();
  for (auto* sec : x::children(env.header, ns::wsse, "Security")) {
    if (!targets_us(sec, env.version)) continue;
    if (env.security)
      return fail(errc::security_missing, detail, "more than one wsse:Security for this node");
    env.security = sec;
  }
  return env;
}

result<xmlsec::schema_set> load_ebms_schemas(std::filesystem::path const& xsd_dir,
                                             std::string* detail) {
  // The header XSD imports the XML namespace (xml:lang): its XSD sits with the SAML ones.
  auto xml = xsd_dir / "xml.xsd";
  if (!std::filesystem::exists(xml)) xml = xsd_dir / ".." / "saml" / "xml.xsd";
  std::array<std::filesystem::path, 4> files{xsd_dir / "ebms-header-3_0-200704.xsd",
                                             xsd_dir / "soap12.xsd", xsd_dir / "soap11.xsd", xml};
  return xmlsec::schema_set::load(files, detail);
}

result<messaging> parse_messaging(xmlNodePtr element, xmlsec::schema_set const* schemas,
                                  std::string* detail) {
  if (schemas) {
    std::string why;
    if (auto v = schemas->validate(element, &why); !v)
      return fail(errc::messaging_invalid, detail, "eb:Messaging does not validate: " + why);
  }
  messaging m;
  m.element = element;
  for (auto* um : x::children(element, ns::eb, "UserMessage")) {
    auto u = user_message_of(um, detail);
    if (!u) return u.error();
    m.user_messages.push_back(std::move(*u));
  }
  for (auto* sm : x::children(element, ns::eb, "SignalMessage")) {
    auto s = signal_of(sm, detail);
    if (!s) return s.error();
    m.signals.push_back(std::move(*s));
  }
  if (m.user_messages.size() > 1)
    return fail(errc::value_inconsistent, detail, "more than one UserMessage (AS4 allows one)");
  if (m.user_messages.empty() && m.signals.empty())
    return fail(errc::messaging_invalid, detail, "eb:Messaging holds no message unit");
  return m;
}

}  // namespace bbgw::edelivery

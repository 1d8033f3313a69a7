#include "eid/authn_request.hpp"

#include <ctime>
#include <optional>

#include <zlib.h>

#include "eid/attributes.hpp"
#include "eid/codec.hpp"

namespace bbgw::eid {

std::string saml_time(sys_time t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string build_authn_request(authn_request_spec const& s) {
  auto l = parse_loa(s.loa);
  bool exact = l && l->not_notified;
  std::string x;
  x += "<saml2p:AuthnRequest xmlns:saml2p=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
       "xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" "
       "xmlns:eidas=\"http://eidas.europa.eu/saml-extensions\"";
  x += " AssertionConsumerServiceURL=\"" + xml_escape(s.acs_url) + "\"";
  x += " Destination=\"" + xml_escape(s.destination) + "\"";
  x += " ForceAuthn=\"true\" ID=\"" + xml_escape(s.id) + "\"";
  x += " IsPassive=\"false\" IssueInstant=\"" + saml_time(s.issue_instant) + "\"";
  x += " ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"";
  x += " Version=\"2.0\">";
  x += "<saml2:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">" +
       xml_escape(s.issuer) + "</saml2:Issuer>";
  x += "<saml2p:Extensions><eidas:SPType>" + xml_escape(s.sp_type) + "</eidas:SPType>";
  x += "<eidas:RequestedAttributes>";
  for (auto const& a : s.attributes) {
    auto const* info = find_attribute(a.name);
    x += "<eidas:RequestedAttribute";
    if (info) x += " FriendlyName=\"" + xml_escape(info->friendly_name) + "\"";
    x += " Name=\"" + xml_escape(a.name) + "\"";
    x += " NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\"";
    x += std::string(" isRequired=\"") + (a.required ? "true" : "false") + "\"/>";
  }
  x += "</eidas:RequestedAttributes></saml2p:Extensions>";
  x +=
      "<saml2p:NameIDPolicy AllowCreate=\"true\" Format=\"" + xml_escape(s.name_id_format) + "\"/>";
  x += std::string("<saml2p:RequestedAuthnContext Comparison=\"") + (exact ? "exact" : "minimum") +
       "\">";
  x += "<saml2:AuthnContextClassRef>" + xml_escape(s.loa) + "</saml2:AuthnContextClassRef>";
  x += "</saml2p:RequestedAuthnContext></saml2p:AuthnRequest>";
  return x;
}

std::string deflate_raw(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::optional<std::string> inflate_raw(std::string_view data, std::size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, -15) != Z_OK) return std::nullopt;
  std::string out;
  char buf[16384];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) rc = Z_MEM_ERROR;  // inflation bomb
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

std::string redirect_query_to_sign(std::string_view xml, std::string_view relay_state,
                                   std::string_view sig_alg) {
  std::string q = "SAMLRequest=" + form_encode(base64_encode(deflate_raw(xml)));
  if (!relay_state.empty()) q += "&RelayState=" + form_encode(relay_state);
  q += "&SigAlg=" + form_encode(sig_alg);
  return q;
}

std::string post_form(std::string_view action, std::string_view field, std::string_view xml_base64,
                      std::string_view relay_state) {
  std::string h =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>eID login</title></head>"
      "<body onload=\"document.forms[0].submit()\"><noscript><p>Press Continue to go on to "
      "your national eID login.</p></noscript><form method=\"post\" action=\"" +
      xml_escape(action) + "\"><input type=\"hidden\" name=\"" + xml_escape(field) + "\" value=\"" +
      xml_escape(xml_base64) + "\"/>";
  if (!relay_state.empty())
    h += "<input type=\"hidden\" name=\"RelayState\" value=\"" + xml_escape(relay_state) + "\"/>";
  h += "<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>";
  return h;
}

}  // namespace bbgw::eid

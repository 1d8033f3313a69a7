#include "edelivery/message_event.hpp"

#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

namespace bbgw::edelivery {

namespace json = boost::json;

namespace {

json::object party_json(party const& p) {
  json::array ids;
  for (auto const& id : p.ids) {
    json::object o{{"id", id.value}};
    if (!id.type.empty()) o["type"] = id.type;
    ids.push_back(std::move(o));
  }
  return {{"partyIds", std::move(ids)}, {"role", p.role}};
}

// A MessageId as one URL path segment (RFC 3986 pchar kept, everything else %XX).
std::string path_segment(std::string_view id) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : id) {
    if (std::isalnum(c) || std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) !=
                               std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

}  // namespace

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

json::object metadata_json(received_record const& r, std::string_view api_base) {
  auto const& um = *r.um;
  json::array payloads;
  std::size_t n = 0;
  for (auto const& p : r.payloads) {
    json::object o{{"partId", p.part_id},
                   {"mimeType", p.mime_type},
                   {"size", p.size},
                   {"sha256", p.sha256_hex},
                   {"href", std::string(api_base) + "/messages/" + path_segment(r.message_id) +
                                "/payloads/" + std::to_string(n++)}};
    if (!p.character_set.empty()) o["characterSet"] = p.character_set;
    payloads.push_back(std::move(o));
  }
  json::object o{{"messageId", r.message_id},
                 {"conversationId", r.conversation_id},
                 {"pmode", r.pmode},
                 {"from", party_json(um.from)},
                 {"to", party_json(um.to)},
                 {"service", um.service},
                 {"action", um.action},
                 {"receivedAt", r.received_at},
                 {"payloads", std::move(payloads)}};
  if (!um.service_type.empty()) o["serviceType"] = um.service_type;
  if (!um.agreement_ref.empty()) o["agreement"] = um.agreement_ref;
  if (!um.info.timestamp.empty()) o["sentAt"] = um.info.timestamp;
  if (auto s = um.message_property("originalSender")) o["originalSender"] = *s;
  if (auto s = um.message_property("finalRecipient")) o["finalRecipient"] = *s;
  return o;
}

std::string record_json(received_record const& r, std::string_view api_base) {
  auto o = metadata_json(r, api_base);
  o["status"] = "received";
  json::array files;
  for (auto const& p : r.payloads) files.push_back(json::value(p.file));
  o["files"] = std::move(files);
  o["signer"] = r.signer;
  o["envelope"] = r.envelope;
  o["receipt"] = r.receipt;
  return json::serialize(o);
}

cloud_event received_event(received_record const& r, std::string_view api_base, sys_time now,
                           std::string const& request_id) {
  cloud_event ev;
  ev.id = new_event_id();
  ev.source = std::string(event_source);
  ev.type = std::string(received_type);
  ev.subject = r.message_id;
  ev.time = now;
  ev.dataschema = std::string(received_schema);
  // Per-conversation order; an empty ConversationId (allowed) falls back to the MessageId.
  ev.partitionkey = r.conversation_id.empty() ? r.message_id : r.conversation_id;
  if (!request_id.empty()) ev.requestid = request_id;
  ev.data = metadata_json(r, api_base);
  ev.family = std::string(event_family);
  return ev;
}

}  // namespace bbgw::edelivery

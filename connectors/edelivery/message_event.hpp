#pragma once
// The stored record of a received message and its `message received` event. Payload bytes are
// never in the event: only descriptors (part id, MIME type, size, SHA-256, fetch URL).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "bbgw/cloud_event.hpp"
#include "edelivery/ebms.hpp"

namespace bbgw::edelivery {

inline constexpr std::string_view received_type = "eu.bbgateway.edelivery.message.received.v1";
inline constexpr std::string_view received_schema =
    "https://bbgateway.eu/schemas/events/edelivery.message.received.json";
inline constexpr std::string_view event_family = "edelivery";
inline constexpr std::string_view event_source = "/bbgw/edelivery";
inline constexpr std::string_view submitted_type = "eu.bbgateway.edelivery.message.submitted.v1";
inline constexpr std::string_view sent_type = "eu.bbgateway.edelivery.message.sent.v1";
inline constexpr std::string_view sent_schema =
    "https://bbgateway.eu/schemas/events/edelivery.message.sent.json";
inline constexpr std::string_view delivered_type = "eu.bbgateway.edelivery.message.delivered.v1";
inline constexpr std::string_view failed_type = "eu.bbgateway.edelivery.message.failed.v1";
inline constexpr std::string_view outbound_schema =
    "https://bbgateway.eu/schemas/events/edelivery.message.outbound.json";
// Messages submitted and not yet delivered or failed (one record: the ids, for restarts).
inline constexpr std::string_view pending_namespace = "edelivery.pending";
// Record namespaces: key = the AS4 MessageId.
inline constexpr std::string_view message_namespace = "edelivery.message";
inline constexpr std::string_view duplicate_namespace = "edelivery.receipt";  // with expiry

struct stored_payload {
  std::string part_id;
  std::string mime_type;
  std::string character_set;
  std::uint64_t size = 0;
  std::string sha256_hex;
  std::string file;  // where the bytes are (never in events)
};

struct received_record {
  std::string message_id;
  std::string conversation_id;
  std::string pmode;
  user_message const* um = nullptr;
  std::string received_at;  // RFC 3339
  std::string signer;       // subject of the signing certificate
  std::vector<stored_payload> payloads;
  std::string envelope;  // the SOAP part as received (non-repudiation)
  std::string receipt;   // the signed receipt we returned
};

// Public metadata (status view and event data share it).
boost::json::object metadata_json(received_record const& r, std::string_view api_base);
// The full record kept in the store (metadata + files + envelope + receipt).
std::string record_json(received_record const& r, std::string_view api_base);
cloud_event received_event(received_record const& r, std::string_view api_base, sys_time now,
                           std::string const& request_id);

std::string hex(std::string_view bytes);

}  // namespace bbgw::edelivery

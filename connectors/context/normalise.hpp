#pragma once
// Turns one NGSI-v2 or NGSI-LD notification (headers + body) into entity updates in the one
// model documented in README.md and schemas/events/context.entity.updated.json. Pure: no I/O.
// A notification is accepted whole or refused whole: any invalid entity refuses it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/header_list.hpp"
#include "bbgw/result.hpp"
#include "context/config.hpp"
#include "context/context_errc.hpp"

namespace bbgw::context {

struct entity_update {
  std::string id;
  std::string type;       // the (first) entity type
  std::string event_id;   // deterministic: same notification, same entity -> same id
  std::string data_json;  // the entity-update model, as JSON text (one object)
};

struct notification {
  std::string tenant;  // "" = the broker's default tenant
  // Names this notification (the dedupe record's key): hex SHA-256, after a time prefix when the
  // notification carries its time ("t<UUIDv1 timestamp>-" or "n<notifiedAt>-").
  std::string dedupe_key;
  // Length of dedupe_key's time prefix (0: none). Gateways before the prefix keyed the same
  // notification by the rest (the hash alone), and their records may still be unexpired.
  std::size_t dedupe_prefix_size = 0;
  std::vector<entity_update> entities;
};

struct notification_input {
  broker_config const& broker;
  subscription_config const& subscription;
  header_list const& headers;
  std::string_view body;
  std::size_t max_entities = 1000;
  // Optional first block of the parse's arena (e.g. reused from one notification to the next, so
  // that a small one allocates nothing for its JSON); used only during normalise().
  std::span<unsigned char> scratch{};
};

// On failure, `why` says what is wrong (safe to return to the caller: no secrets in it).
result<notification> normalise(notification_input const& in, std::string& why);

// "600119ce-...; cbnotif=1" -> {"600119ce-...", 1}; cbnotif is -1 when absent or unparsable.
struct correlator {
  std::string base;
  long long cbnotif = -1;
};
correlator parse_correlator(std::string_view header);

// The @context URL of a Link header with rel="http://www.w3.org/ns/json-ld#context", if any;
// `malformed` is set when a Link header is present but not parsable.
std::optional<std::string> link_context(std::string_view link, bool& malformed);

// A UUID-shaped id (RFC 9562 version 8) from a SHA-256 digest's first 16 bytes.
std::string uuid_from_digest(std::array<std::uint8_t, 32> const& d);

}  // namespace bbgw::context

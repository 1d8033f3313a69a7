#pragma once
// The typed config of connectors.context, read and validated once at start-up.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/config_reader.hpp"

namespace bbgw::context {

enum class flavour { ngsi_v2, ngsi_ld };

std::string_view flavour_name(flavour f);

struct subscription_config {
  std::string name;         // [A-Za-z0-9_-]{1,64}, unique within its broker
  std::string description;  // free text; the sync marker is appended to it
  std::vector<std::string> entity_types;
  std::string id_pattern;  // regular expression on entity ids; empty = any
  std::vector<std::string> watched_attributes;
  std::vector<std::string> notified_attributes;
  // v2: normalized | keyValues | simplifiedNormalized | simplifiedKeyValues;
  // LD: normalized | concise | keyValues.
  std::string format = "normalized";
  std::int64_t throttling = 0;  // seconds; 0 = none
  std::string secret;           // the notify token (configured, or derived from secret_key)
};

struct broker_config {
  std::string name;  // [A-Za-z0-9_-]{1,64}
  context::flavour flavour = flavour::ngsi_v2;
  std::string base_url;      // http(s)://host[:port][/path], without a trailing '/'
  std::string tenant;        // Fiware-Service (v2) or NGSILD-Tenant (LD); empty = default tenant
  std::string service_path;  // Fiware-ServicePath (v2 only); empty = not sent
  std::optional<std::pair<std::string, std::string>> auth_header;  // name, value (secret)
  std::string ca_file;  // PEM bundle for https; empty = system trust store
  // LD only: the @context sent in the Link header with subscription requests.
  std::string ld_context = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld";
  bool manage_subscriptions = true;
  std::vector<subscription_config> subscriptions;
};

struct context_config {
  std::string notify_path_prefix = "/context/notify";
  std::chrono::milliseconds resync_interval{60000};
  std::chrono::milliseconds request_timeout{5000};
  std::int64_t max_entities_per_notification = 1000;
  std::uint64_t body_limit = 1024 * 1024;
  // Event family (the Kafka topic is "<kafka prefix>.<family>"); placeholders {tenant}, {type},
  // {broker}, {subscription}, each sanitised to [A-Za-z0-9._-].
  std::string family_template = "context.{tenant}.{type}";
  std::chrono::milliseconds dedupe_window{3600 * 1000};
  std::vector<broker_config> brokers;
};

// Reads connectors.context; nothing when disabled. Throws config_error naming the bad key.
std::optional<context_config> read_config(config_reader& r);

// The secret derived for a subscription that configures none: hex HMAC-SHA-256 of
// "bbgw-context-notify:<broker>/<subscription>" under secret_key, so it survives restarts.
std::string derive_secret(std::string const& secret_key, std::string const& broker,
                          std::string const& subscription);

// Expands the family template for one entity (placeholders sanitised, empty tenant = "default").
std::string expand_family(std::string const& tmpl, std::string_view broker,
                          std::string_view subscription, std::string_view tenant,
                          std::string_view type);

}  // namespace bbgw::context

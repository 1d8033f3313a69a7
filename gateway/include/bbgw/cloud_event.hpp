#pragma once
// A CloudEvents 1.0 event, and its structured JSON form (the form written to Kafka).
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "bbgw/clock.hpp"
#include "bbgw/date_time.hpp"  // format_rfc3339 of event times
#include "bbgw/result.hpp"

namespace bbgw {

struct cloud_event {
  static constexpr std::string_view specversion = "1.0";

  std::string id;      // unique per source, stable across retries (consumers dedupe on it)
  std::string source;  // URI-reference naming the producer, e.g. "/bbgw/eid"
  std::string type;    // e.g. "eu.bbgateway.eid.login.succeeded.v1"
  std::optional<std::string> subject;
  sys_time time{};
  std::string datacontenttype = "application/json";
  std::optional<std::string> dataschema;  // URI of the JSON Schema of `data`
  std::string partitionkey;               // extension; also the Kafka key
  std::optional<std::string> requestid;   // extension: the HTTP request that caused it
  boost::json::value data;
  // Not serialised: the event family, which selects the Kafka topic
  // ("{prefix}.{family}" unless kafka.topics overrides it), e.g. "eid".
  std::string family;
};

// A cloud_event's attributes as views, for a producer that serialises events without building
// them (the views must outlive the call). `data` null = no data.
struct cloud_event_view {
  std::string_view id, source, type;
  std::optional<std::string_view> subject;
  sys_time time{};
  std::string_view datacontenttype;
  std::optional<std::string_view> dataschema;
  std::string_view partitionkey;
  std::optional<std::string_view> requestid;
  boost::json::value const* data = nullptr;
  // The data already written as JSON text (one value), used instead of `data`; only with a JSON
  // datacontenttype (or none), where the data is inlined as it is.
  std::optional<std::string_view> data_json;
};

// Structured-mode JSON (CloudEvents JSON format, section 3).
std::string to_structured_json(cloud_event const& ev);
// The same bytes, appended to `out` (for callers that collect several events in one buffer).
void append_structured_json(std::string& out, cloud_event const& ev);
// What append_structured_json writes for the cloud_event these views describe.
void append_structured_json(std::string& out, cloud_event_view const& ev);
// Parses structured-mode JSON; rejects a missing or mistyped required attribute.
result<cloud_event> from_structured_json(std::string_view json);
// A new unique event id: UUID text, version 7 (RFC 9562: Unix milliseconds then 74 random
// bits), so ids are time-ordered.
std::string new_event_id();

}  // namespace bbgw

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

// Structured-mode JSON (CloudEvents JSON format, section 3).
std::string to_structured_json(cloud_event const& ev);
// The same bytes, appended to `out` (for callers that collect several events in one buffer).
void append_structured_json(std::string& out, cloud_event const& ev);
// Parses structured-mode JSON; rejects a missing or mistyped required attribute.
result<cloud_event> from_structured_json(std::string_view json);
// A new unique event id: UUID text, version 7 (RFC 9562: Unix milliseconds then 74 random
// bits), so ids are time-ordered.
std::string new_event_id();

}  // namespace bbgw

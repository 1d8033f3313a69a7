#pragma once
// Maps an event family to its Kafka topic: an override from config, else "{prefix}.{family}".
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bbgw/result.hpp"

namespace bbgw::events {

struct topic_settings {
  std::string prefix = "bbgw";
  std::vector<std::pair<std::string, std::string>> overrides;  // family -> topic
};

class topic_router {
 public:
  // Throws std::invalid_argument naming the bad prefix or override (start-up only).
  explicit topic_router(topic_settings settings);

  // For config checking without exceptions: errc::invalid_topic when a name is illegal.
  static bbgw::result<void> validate(topic_settings const& settings);
  // Kafka's rule: 1..249 characters of [a-zA-Z0-9._-], and not "." or "..".
  static bool is_valid_topic(std::string_view name);

  // Families come from code; a character Kafka does not allow becomes '_' so that an event
  // is never stuck in the outbox for its topic name.
  std::string topic_for(std::string_view family) const;

  topic_settings const& settings() const { return settings_; }

 private:
  topic_settings settings_;
};

}  // namespace bbgw::events

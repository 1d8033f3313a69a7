#include "events/topic_router.hpp"

#include <stdexcept>

#include "events/events_errc.hpp"

namespace bbgw::events {

namespace {

constexpr std::size_t k_max_topic = 249;

bool legal_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.events"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::broker_start_failed:
        return "events: embedded broker failed to start";
      case errc::topic_create_failed:
        return "events: embedded broker could not create topic";
      case errc::invalid_topic:
        return "events: invalid Kafka topic name";
    }
    return "events: unknown error";
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

bool topic_router::is_valid_topic(std::string_view name) {
  if (name.empty() || name.size() > k_max_topic || name == "." || name == "..") return false;
  for (char c : name)
    if (!legal_char(c)) return false;
  return true;
}

bbgw::result<void> topic_router::validate(topic_settings const& s) {
  for (char c : s.prefix)
    if (!legal_char(c)) return errc::invalid_topic;
  if (s.prefix.size() >= k_max_topic) return errc::invalid_topic;
  for (auto const& [family, topic] : s.overrides)
    if (family.empty() || !is_valid_topic(topic)) return errc::invalid_topic;
  return {};
}

topic_router::topic_router(topic_settings settings) : settings_(std::move(settings)) {
  for (char c : settings_.prefix)
    if (!legal_char(c) || settings_.prefix.size() >= k_max_topic)
      throw std::invalid_argument("kafka.topics.prefix: '" + settings_.prefix +
                                  "' is not a legal Kafka topic prefix ([a-zA-Z0-9._-])");
  for (auto const& [family, topic] : settings_.overrides)
    if (family.empty() || !is_valid_topic(topic))
      throw std::invalid_argument("kafka.topics." + family + ": '" + topic +
                                  "' is not a legal Kafka topic name ([a-zA-Z0-9._-], 1..249)");
}

std::string topic_router::topic_for(std::string_view family) const {
  for (auto const& [f, topic] : settings_.overrides)
    if (f == family) return topic;
  std::string t = settings_.prefix.empty() ? std::string{} : settings_.prefix + ".";
  for (char c : family) t.push_back(legal_char(c) ? c : '_');
  if (t.size() > k_max_topic) t.resize(k_max_topic);
  if (!is_valid_topic(t)) t = settings_.prefix.empty() ? "events" : settings_.prefix + ".events";
  return t;
}

}  // namespace bbgw::events

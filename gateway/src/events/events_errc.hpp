#pragma once
// Errors of the event pipeline (bbgw_events): Kafka relay and embedded broker start-up.
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace bbgw::events {

enum class errc {
  broker_start_failed = 1,  // the embedded (mock) cluster could not be created
  topic_create_failed,      // a topic could not be created on the embedded cluster
  invalid_topic,            // not a legal Kafka topic name
};

boost::system::error_category const& category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace bbgw::events

namespace boost::system {
template <>
struct is_error_code_enum<bbgw::events::errc> : std::true_type {};
}  // namespace boost::system

#pragma once
// What main hands every connector: the shared services, by reference, and its config.
#include <string>

#include "bbgw/clock.hpp"
#include "bbgw/config_reader.hpp"
#include "bbgw/event_sink.hpp"
#include "bbgw/http_client.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "bbgw/store.hpp"

namespace bbgw {

struct connector_context {
  store& db;
  event_sink& events;
  clock const& time;
  metrics& stats;
  logger& log;
  http_client& http;
  // The externally visible base URL of the gateway (e.g. "https://gw.example.org"), used to
  // build callback and metadata URLs.
  std::string public_base_url;
};

}  // namespace bbgw

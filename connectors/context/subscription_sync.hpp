#pragma once
// Makes a broker's subscriptions match the config: lists them (paged), finds the gateway's own
// by the marker in their description ("bbgw:<broker>/<subscription>#<fingerprint>"), creates the
// missing ones, recreates those that drifted (other fingerprint, inactive or expired), deletes
// duplicates and subscriptions of names no longer configured, and reports it all in metrics.
// Blocking (bbgw::http_client): run it on the connector's own thread.
#include <chrono>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "bbgw/http_client.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "context/config.hpp"

namespace bbgw::context {

struct sync_report {
  bool ok = false;  // the list succeeded and every needed create succeeded
  int in_sync = 0;  // configured subscriptions present and matching after the pass
  int created = 0;
  int deleted = 0;
  int drift = 0;  // missing + mismatched + duplicate + orphan found in this pass
  std::string error;
};

class subscription_sync {
 public:
  subscription_sync(broker_config const& broker, std::string public_base_url,
                    std::string notify_path_prefix, std::chrono::milliseconds timeout,
                    http_client& http, metrics& stats, logger& log);

  sync_report run_once();

  // What the gateway asks the broker to create for `sub` (description includes the marker).
  boost::json::object desired_body(subscription_config const& sub) const;
  // The notification URL (with ?token=) for `sub`.
  std::string notify_url(subscription_config const& sub) const;
  // "bbgw:<broker>/<subscription>#" + 16 hex digits of SHA-256 over the body without description.
  std::string marker(subscription_config const& sub) const;

  static constexpr int page_size = 100;

 private:
  client_request base_request(std::string method, std::string url) const;
  std::string collection_url() const;
  bool list(std::vector<boost::json::object>& out, std::string& error);
  bool create(subscription_config const& sub, std::string& id, std::string& error);
  bool remove(std::string const& id, std::string& error);

  broker_config const& broker_;
  std::string public_base_url_;
  std::string prefix_;
  std::chrono::milliseconds timeout_;
  http_client& http_;
  logger& log_;
  counter& created_;
  counter& deleted_;
  counter& errors_;
  counter& drift_missing_;
  counter& drift_mismatch_;
  counter& drift_duplicate_;
  counter& drift_orphan_;
  gauge& in_sync_;
};

}  // namespace bbgw::context

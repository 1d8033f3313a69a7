#pragma once
// The AS4 receiving endpoint and the platform API for received messages.
//   POST {path} (default /edelivery/as4): an AS4 message → signed eb:Receipt, or eb:Error.
//   POST /api/v1/edelivery/messages: submit a message to send (202 + MessageId).
//   GET  /api/v1/edelivery/messages/{id}: status and metadata.
//   GET  /api/v1/edelivery/messages/{id}/payloads/{n}: the payload bytes (from the file).
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/connector_context.hpp"
#include "edelivery/config.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "xmlsec/schema_set.hpp"

namespace bbgw::edelivery {

inline constexpr std::string_view api_base = "/api/v1/edelivery";

class edelivery_connector final : public bbgw::connector {
 public:
  // Throws std::runtime_error at start-up when the XSDs cannot be loaded.
  edelivery_connector(edelivery_config config, connector_context& ctx);
  ~edelivery_connector() override;

  std::string_view name() const override { return "edelivery"; }
  std::vector<route> routes() override;
  // Starts the sending threads (re-queues messages submitted before a restart).
  void start() override;
  void stop() override;

  response receive_as4(request const& req);
  // POST /api/v1/edelivery/messages: stores the message and its `submitted` event, queues it.
  response submit(request const& req);
  // Sends the next queued message (with its retries) and records the outcome; false when the
  // queue is empty. Each sending thread loops on it (one message per thread at a time; a
  // message is taken by one thread only); tests call it directly.
  bool send_next();
  response get_message(request const& req);
  // 410 (problem JSON) once the retention period purged the payload.
  response get_payload(request const& req);

  // The sweep start() runs and the first sending thread repeats every retention.sweep_interval:
  // removes crash leftovers (temporary names older than retention.leftover_grace), counts
  // orphans (files no stored message refers to: kept, they may be data), purges the payload
  // files of messages final for longer than retention.payloads (the record stays, marked).
  struct housekeeping_report {
    std::size_t leftovers_removed = 0;
    std::size_t orphans = 0;  // message directories without a record, and loose files
    std::size_t purged = 0;   // messages whose payload files were deleted
  };
  housekeeping_report housekeep();

  // Makes a directory's entries durable (fsync); replaceable so tests can see when it runs.
  using directory_syncer = std::function<result<void>(std::string const&)>;
  void set_directory_syncer(directory_syncer s) { sync_dir_ = std::move(s); }

 private:
  response reject(error_code ec, std::string const& detail, std::string const& ref_to);
  // Purges one message directory's files if its record says so; true when it did.
  bool purge_if_expired(std::string const& rel_dir, std::string const& message_id, sys_time now);

  edelivery_config config_;
  connector_context& ctx_;
  std::optional<xmlsec::schema_set> schemas_;
  counter* received_;
  counter* duplicates_;
  // Signatures of received messages verified by connectors/xmlsec's direct path or by xmlsec's
  // generic one (a shape or content the direct path leaves alone: slower, never a refusal).
  counter* signatures_direct_;
  counter* signatures_xmlsec_;
  std::map<int, counter*> rejected_;  // by errc value, registered up front
  counter* leftovers_removed_;
  gauge* orphans_;
  counter* purged_;
  directory_syncer sync_dir_;

  std::mutex mutex_;  // queue_, stopping_
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // message ids to send
  // Ids in queue_ or being sent: each at most once, so two sending threads never send the same
  // message (a re-queue at start() after submissions, a duplicate index entry).
  std::unordered_set<std::string> queued_;
  void enqueue(std::string id);  // with mutex_ held
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // config_.sending_threads of them
};

using builder = std::function<std::unique_ptr<bbgw::connector>(connector_context&)>;

// The connector table's `configure`: reads connectors.edelivery (throws config_error naming the
// key); nothing when disabled.
std::optional<builder> configure(config_reader& r);

}  // namespace bbgw::edelivery

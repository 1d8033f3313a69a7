#pragma once
// The embedded store: SQLite in WAL mode. Writes go through ONE committer thread that group
// commits: up to max_batch queued transactions share one SQLite transaction (each inside its
// own SAVEPOINT, so a failing one is rolled back alone), so throughput does not pay one commit
// per event. Reads outside transactions use a separate connection and never wait for it.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/logger.hpp"
#include "bbgw/metrics.hpp"
#include "bbgw/result.hpp"
#include "bbgw/store.hpp"
#include "store/outbox_payload.hpp"
#include "store/outbox_queue.hpp"
#include "store/sqlite_db.hpp"
#include "store/store_errc.hpp"

namespace bbgw::storage {

struct sqlite_settings {
  std::string path = "var/bbgw.db";
  std::string synchronous = "normal";  // normal|full
  std::chrono::milliseconds busy_timeout{5000};
  std::size_t max_batch = 512;  // transactions per group commit
  std::size_t cache_mib = 4;    // the writing connection's page cache
  // Expired records are deleted by a sweep started every purge_interval, in steps of
  // purge_chunk records between group commits.
  std::chrono::milliseconds purge_interval{60'000};
  std::size_t purge_chunk = 2000;
};

// The schema version this code writes; a database with a newer one is refused.
int sqlite_schema_version() noexcept;

class sqlite_store final : public bbgw::store, public outbox_queue {
 public:
  // Creates the parent directory and the database, applies pending migrations, starts the
  // committer thread.
  static bbgw::result<std::unique_ptr<sqlite_store>> open(sqlite_settings settings,
                                                          bbgw::clock const& clock,
                                                          bbgw::metrics& metrics,
                                                          bbgw::logger& logger);
  // Finishes the queued transactions, then closes.
  ~sqlite_store() override;
  sqlite_store(sqlite_store const&) = delete;
  sqlite_store& operator=(sqlite_store const&) = delete;

  // bbgw::store
  bbgw::result<void> transact(std::function<bbgw::result<void>(unit_of_work&)> work) override;
  void transact_async(std::function<bbgw::result<void>(unit_of_work&)> work,
                      completion done) override;
  bbgw::result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override;
  bbgw::result<bool> may_hold(std::string_view ns) override;

  // outbox_queue
  using outbox_queue::fetch_undelivered;
  bbgw::result<std::size_t> fetch_undelivered(std::int64_t after_seq, std::size_t limit,
                                              std::vector<outbox_record>& buf) override;
  bbgw::result<void> mark_delivered(std::span<const std::int64_t> seqs) override;
  bbgw::result<outbox_stats> stats() override;

  // For /readyz: a real (tiny) write through the committer.
  bbgw::result<void> check_writable();
  // Deletes expired kv records now, in one transaction (the committer also sweeps them
  // periodically); returns how many.
  bbgw::result<std::size_t> purge_expired();

  std::string const& path() const { return settings_.path; }
  // Transactions queued for the committer and not yet taken (observability, tests).
  std::size_t pending_transactions();

  class write_tx;  // the unit_of_work handed to transactions (defined in the .cpp)

 private:
  struct job;
  struct write_statements;
  struct read_statements;
  struct sweep_cursor {  // where the next step of a sweep over kv starts (inclusive)
    std::string ns, key;
    bool done = false;
  };
  static bbgw::result<std::size_t> sweep_chunk(write_statements& ws, sqlite3* db, sweep_cursor& c,
                                               std::int64_t now, std::size_t chunk);

  sqlite_store(sqlite_settings settings, bbgw::clock const& clock, bbgw::metrics& metrics,
               bbgw::logger& logger);
  bbgw::result<void> submit(std::function<bbgw::result<void>(write_tx&)> const& work);
  void run_committer();
  void commit_batch(std::vector<job*>& batch);

  sqlite_settings settings_;
  bbgw::clock const& clock_;
  bbgw::logger& logger_;
  bbgw::counter& tx_committed_;
  bbgw::counter& tx_rolled_back_;
  bbgw::counter& tx_failed_;
  bbgw::histogram& batch_size_;
  bbgw::histogram& commit_seconds_;
  bbgw::counter& expired_deleted_;

  sqlite_handle write_db_;  // used by the committer thread only
  std::unique_ptr<write_statements> ws_;
  std::mutex read_mutex_;  // guards read_db_ and rs_
  sqlite_handle read_db_;
  std::unique_ptr<read_statements> rs_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::vector<job*> queue_;
  bool stopping_ = false;
  bool committer_idle_ = false;  // waiting on queue_cv_
  // Asynchronous jobs the committer has finished, reused by transact_async (guarded by
  // queue_mutex_, at most max_batch kept).
  std::vector<job*> free_jobs_;
  std::vector<job*> recycled_;  // committer thread only: the batch's async jobs to give back
  std::thread committer_;
};

}  // namespace bbgw::storage

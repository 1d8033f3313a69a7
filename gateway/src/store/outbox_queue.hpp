#pragma once
// The outbox as the Kafka relay sees it: undelivered records in commit order, removed once
// delivered (from delivery reports). Kept apart from bbgw::store so another store (PostgreSQL) can
// serve the relay too.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"

namespace bbgw::storage {

struct outbox_record {
  std::int64_t seq;  // commit order; per-key order follows from it
  std::string family;
  std::string key;  // partition key (Kafka key)
  std::string id;
  std::string type;
  std::string source;
  std::optional<std::string> subject;
  std::string time;
  std::string payload;  // structured-mode CloudEvent JSON
};

struct outbox_stats {
  std::uint64_t depth;                           // undelivered records
  std::optional<bbgw::sys_time> oldest_created;  // when the oldest undelivered was written
};

class outbox_queue {
 public:
  virtual ~outbox_queue() = default;
  // Undelivered records with seq > after_seq, ascending, at most `limit`, written into
  // buf[0, n) (n returned): buf grows as needed and never shrinks, so a caller that keeps it
  // reuses the records' strings and reads the outbox without allocating once warmed up.
  virtual bbgw::result<std::size_t> fetch_undelivered(std::int64_t after_seq, std::size_t limit,
                                                      std::vector<outbox_record>& buf) = 0;
  // The same into a new vector of exactly the records read.
  bbgw::result<std::vector<outbox_record>> fetch_undelivered(std::int64_t after_seq,
                                                             std::size_t limit) {
    std::vector<outbox_record> out;
    auto n = fetch_undelivered(after_seq, limit, out);
    if (!n) return n.error();
    out.resize(*n);
    return out;
  }
  // Removes delivered records (acknowledged by Kafka): the outbox keeps only undelivered ones.
  // Harmless for seqs already removed.
  virtual bbgw::result<void> mark_delivered(std::span<const std::int64_t> seqs) = 0;
  virtual bbgw::result<outbox_stats> stats() = 0;
};

}  // namespace bbgw::storage

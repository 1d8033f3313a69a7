#pragma once
// The store connectors keep their state in: namespaced key/value records with optional
// expiry, written in transactions that may also append events to the outbox. Implemented by
// SQLite (embedded default); the same contract can be met by PostgreSQL.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "bbgw/clock.hpp"
#include "bbgw/cloud_event.hpp"
#include "bbgw/result.hpp"

namespace bbgw {

// An event its producer has already serialised (e.g. on an I/O thread, so that a store with one
// writer thread only writes rows): the attributes a store indexes, plus `json` =
// to_structured_json(ev) and `time` = format_rfc3339(ev.time) of the event they describe. Views:
// the producer keeps the bytes alive until the transaction is over.
struct serialised_event {
  std::string_view id;
  std::string_view source;
  std::string_view type;
  std::optional<std::string_view> subject;
  std::string_view partitionkey;
  std::string_view family;  // not in `json` (see cloud_event::family)
  std::string_view time;
  std::string_view json;
};

class unit_of_work {
 public:
  virtual ~unit_of_work() = default;
  virtual result<void> put(std::string_view ns, std::string_view key, std::string_view value,
                           std::optional<sys_time> expires = std::nullopt) = 0;
  // Insert only if absent; false when the key already exists (and is not expired).
  virtual result<bool> insert(std::string_view ns, std::string_view key, std::string_view value,
                              std::optional<sys_time> expires = std::nullopt) = 0;
  virtual result<std::optional<std::string>> get(std::string_view ns, std::string_view key) = 0;
  // True when the record existed.
  virtual result<bool> erase(std::string_view ns, std::string_view key) = 0;
  // Appends the event to the outbox; it is published only if the transaction commits.
  virtual result<void> emit(cloud_event const& ev) = 0;
  // emit() of an event given in serialised form; same outcome as emit() of the event it was made
  // from. Stores override it to skip the serialisation; this default parses `json` back (with
  // `family`) and calls emit(), so every unit_of_work accepts it.
  virtual result<void> emit_serialised(serialised_event const& ev) {
    auto parsed = from_structured_json(ev.json);
    if (!parsed) return parsed.error();
    parsed->family = std::string(ev.family);
    return emit(*parsed);
  }
};

class store {
 public:
  virtual ~store() = default;
  // Runs `work` in one transaction; commits when it returns success, rolls back otherwise.
  // Blocks until durable (group commit may batch it with other transactions): call it from a
  // worker, never from an I/O thread.
  virtual result<void> transact(std::function<result<void>(unit_of_work&)> work) = 0;

  using completion = std::function<void(result<void>)>;
  // transact() without blocking the caller, for handlers on I/O threads: `work` runs later on
  // the store's own thread (it may only use the unit of work: no locks, no I/O) and `done` is
  // called on that thread once the transaction is durable or failed; it must only hand the
  // outcome on (e.g. post a response). The default runs both at once on the calling thread.
  virtual void transact_async(std::function<result<void>(unit_of_work&)> work, completion done) {
    done(transact(std::move(work)));
  }
  // Reads a committed record outside any transaction.
  virtual result<std::optional<std::string>> get(std::string_view ns, std::string_view key) = 0;
  // False only when the store knows that namespace `ns` holds no unexpired committed record: for
  // start-up decisions such as whether records of an older format can exist. The default cannot
  // tell and says true.
  virtual result<bool> may_hold(std::string_view ns) {
    (void)ns;
    return true;
  }
};

}  // namespace bbgw

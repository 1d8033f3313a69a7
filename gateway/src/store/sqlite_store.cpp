#include "store/sqlite_store.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace bbgw::storage {

namespace {

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.store"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::busy:
        return "store: database busy";
      case errc::io:
        return "store: I/O error";
      case errc::constraint:
        return "store: constraint failed";
      case errc::corrupt:
        return "store: database corrupt";
      case errc::closed:
        return "store: closed";
      case errc::schema_too_new:
        return "store: database schema is newer than this gateway";
      case errc::work_failed:
        return "store: transaction work threw";
      case errc::internal:
        return "store: internal SQLite error";
    }
    return "store: unknown error";
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

errc from_sqlite(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::busy;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_PERM:
      return errc::io;
    case SQLITE_CONSTRAINT:
      return errc::constraint;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return errc::corrupt;
    default:
      return errc::internal;
  }
}

namespace {

std::int64_t to_micros(sys_time t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
sys_time from_micros(std::int64_t us) {
  return sys_time{std::chrono::duration_cast<sys_time::duration>(std::chrono::microseconds{us})};
}
std::optional<std::int64_t> to_micros(std::optional<sys_time> t) {
  if (!t) return std::nullopt;
  return to_micros(*t);
}

// Migrations, in order; each runs in its own transaction with its schema_version row.
// Append new steps; never edit a released one.
struct migration {
  int version;
  char const* sql;
};
constexpr migration k_migrations[] = {
    {1, R"sql(
CREATE TABLE kv (
  ns TEXT NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  expires_at INTEGER,                     -- microseconds since the epoch; NULL = never
  PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX kv_expiry ON kv(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, so the relay's cursor stays valid
  id TEXT NOT NULL UNIQUE,
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  subject TEXT,
  time TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,            -- microseconds since the epoch
  delivered_at INTEGER
);
CREATE INDEX outbox_undelivered ON outbox(seq) WHERE delivered_at IS NULL;
)sql"},
    // Delivered records are deleted when their delivery report comes in: the outbox holds only
    // undelivered ones, so neither the partial index nor a second write of each row (the
    // delivered_at UPDATE, then the purge) is needed.
    {2, R"sql(
DROP INDEX outbox_undelivered;
DELETE FROM outbox WHERE delivered_at IS NOT NULL;
ALTER TABLE outbox DROP COLUMN delivered_at;
)sql"},
    // Two indexes and a counter row that every write paid for, and nothing needed them (with
    // the three gone and the smaller page cache below, a 1-entity NGSI notification costs the
    // gateway ~20 % less CPU: bench/README.md, "Context broker", "Session 7"):
    // - kv_expiry: expired records are found by a sweep over the primary key (sweep_chunk), so a
    //   record is one B-tree insert, not two;
    // - outbox.id UNIQUE: a random insert and, on delivery, a random delete in a second B-tree
    //   per event, to refuse an id only while its first event was still undelivered. Event ids
    //   are derived by the connectors from the state they dedupe on, and consumers dedupe on
    //   the id (DESIGN.md, principle 6);
    // - AUTOINCREMENT: a sqlite_sequence read and write per insert. The committer numbers the
    //   events itself (write_statements::last_seq), monotonic for the life of the process, which
    //   is what the relay's cursor (in memory, from 0 at start) needs.
    {3, R"sql(
DROP INDEX kv_expiry;
CREATE TABLE outbox_v3 (
  seq INTEGER PRIMARY KEY,                -- given by the committer: increasing, commit order
  id TEXT NOT NULL,
  family TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  subject TEXT,
  time TEXT NOT NULL,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL             -- microseconds since the epoch
);
INSERT INTO outbox_v3(seq,id,family,key,type,source,subject,time,payload,created_at)
  SELECT seq,id,family,key,type,source,subject,time,payload,created_at FROM outbox ORDER BY seq;
DROP TABLE outbox;
ALTER TABLE outbox_v3 RENAME TO outbox;
)sql"},
};

int exec(sqlite3* db, char const* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

}  // namespace

int sqlite_schema_version() noexcept {
  return std::end(k_migrations)[-1].version;
}

struct sqlite_store::write_statements {
  explicit write_statements(sqlite3* db)
      : begin(db, "BEGIN IMMEDIATE"),
        commit(db, "COMMIT"),
        rollback(db, "ROLLBACK"),
        savepoint(db, "SAVEPOINT w"),
        release(db, "RELEASE w"),
        rollback_to(db, "ROLLBACK TO w"),
        kv_put(db,
               "INSERT INTO kv(ns,key,value,expires_at) VALUES(?1,?2,?3,?4) "
               "ON CONFLICT(ns,key) DO UPDATE SET value=excluded.value, "
               "expires_at=excluded.expires_at"),
        // Replaces an existing record only when it has expired: changes() tells which.
        kv_insert(db,
                  "INSERT INTO kv(ns,key,value,expires_at) VALUES(?1,?2,?3,?4) "
                  "ON CONFLICT(ns,key) DO UPDATE SET value=excluded.value, "
                  "expires_at=excluded.expires_at "
                  "WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?5"),
        kv_get(db,
               "SELECT value FROM kv WHERE ns=?1 AND key=?2 "
               "AND (expires_at IS NULL OR expires_at > ?3)"),
        kv_erase(db,
                 "DELETE FROM kv WHERE ns=?1 AND key=?2 "
                 "AND (expires_at IS NULL OR expires_at > ?3)"),
        // A sweep step: the key `chunk` records on from the cursor (inclusive), then the expired
        // records before it, or up to the end when there is none.
        sweep_next(db,
                   "SELECT ns, key FROM kv WHERE (ns, key) >= (?1, ?2) ORDER BY ns, key "
                   "LIMIT 1 OFFSET ?3"),
        sweep_range(db,
                    "DELETE FROM kv WHERE (ns, key) >= (?1, ?2) AND (ns, key) < (?3, ?4) "
                    "AND expires_at <= ?5"),
        sweep_tail(db, "DELETE FROM kv WHERE (ns, key) >= (?1, ?2) AND expires_at <= ?3"),
        outbox_insert(db,
                      "INSERT INTO outbox(seq,id,family,key,type,source,subject,time,payload,"
                      "created_at) VALUES(?10,?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        outbox_delete(db, "DELETE FROM outbox WHERE seq BETWEEN ?1 AND ?2") {}

  // The first statement that failed to prepare, or SQLITE_OK.
  int prepare_rc() const {
    for (auto const* s : {&begin, &commit, &rollback, &savepoint, &release, &rollback_to, &kv_put,
                          &kv_insert, &kv_get, &kv_erase, &sweep_next, &sweep_range, &sweep_tail,
                          &outbox_insert, &outbox_delete})
      if (s->prepare_rc() != SQLITE_OK) return s->prepare_rc();
    return SQLITE_OK;
  }

  statement begin, commit, rollback, savepoint, release, rollback_to;
  statement kv_put, kv_insert, kv_get, kv_erase;
  statement sweep_next, sweep_range, sweep_tail;
  statement outbox_insert, outbox_delete;
  // The seq of the last event written (committer thread only): from the highest in the outbox
  // at open, then one more per event. Seqs of a rolled-back transaction are skipped, never
  // reused, so seq order is commit order.
  std::int64_t last_seq = 0;
};

struct sqlite_store::read_statements {
  explicit read_statements(sqlite3* db)
      : kv_get(db,
               "SELECT value FROM kv WHERE ns=?1 AND key=?2 "
               "AND (expires_at IS NULL OR expires_at > ?3)"),
        kv_any(db,
               "SELECT 1 FROM kv WHERE ns=?1 AND (expires_at IS NULL OR expires_at > ?2) "
               "LIMIT 1"),
        fetch(db,
              "SELECT seq,family,key,id,type,source,subject,time,payload FROM outbox "
              "WHERE seq > ?1 ORDER BY seq LIMIT ?2"),
        depth(db, "SELECT count(*) FROM outbox"),
        oldest(db, "SELECT created_at FROM outbox ORDER BY seq LIMIT 1") {}
  int prepare_rc() const {
    for (auto const* s : {&kv_get, &kv_any, &fetch, &depth, &oldest})
      if (s->prepare_rc() != SQLITE_OK) return s->prepare_rc();
    return SQLITE_OK;
  }
  statement kv_get, kv_any, fetch, depth, oldest;
};

// A queued transaction. It lives on the stack of the thread blocked in submit().
// Completion is a bare futex: one syscall to sleep, one to wake, no mutex for the woken owner to
// contend on right after the committer released it (std::binary_semaphore and atomic::wait spin
// with sched_yield, which costs more than it saves when many publishers wait on one committer).
// The wake is skipped when the owner has not gone to sleep yet. (Waking the owners of one group
// commit in a chain, each waking the next, took the wake-ups off the committer but made a group
// commit's round trip longer and halved throughput with 8 publishers on 2 cores: not kept.)
struct sqlite_store::job {
  static constexpr std::uint32_t pending = 0, sleeping = 1, done_state = 2;

  std::function<bbgw::result<void>(write_tx&)> const* work;
  error_code ec;
  bool work_error = false;  // the work itself returned an error (rolled back alone)
  // Asynchronous jobs own their work (run instead of `work`) and are deleted once `on_done`
  // has been called.
  std::function<bbgw::result<void>(bbgw::unit_of_work&)> owned_work;
  completion on_done;
  std::atomic<std::uint32_t> done{pending};
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

  std::uint32_t* word() { return reinterpret_cast<std::uint32_t*>(&done); }
  void wait() {
    for (;;) {
      std::uint32_t v = done.load(std::memory_order_acquire);
      if (v == done_state) return;
      if (v == pending && !done.compare_exchange_weak(v, sleeping, std::memory_order_acquire,
                                                      std::memory_order_acquire))
        continue;  // completed (or spurious failure) meanwhile: look again
      ::syscall(SYS_futex, word(), FUTEX_WAIT_PRIVATE, sleeping, nullptr, nullptr, 0u);
    }
  }
  // Asynchronous jobs: hands the outcome over and empties the job for reuse (see free_jobs_).
  void complete(logger& log) {
    bbgw::result<void> outcome;
    if (ec) outcome = ec;
    try {
      on_done(outcome);
    } catch (...) {
      log.error("store: a transaction's completion threw; ignored");
    }
    owned_work = nullptr;
    on_done = nullptr;
  }
  void finish() {
    // Read the address first: once done is set the owner may return and its frame be reused.
    // A wake on such an address only causes a spurious wake-up, which wait() tolerates.
    std::uint32_t* w = word();
    if (done.exchange(done_state, std::memory_order_acq_rel) == sleeping)
      ::syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0u);
  }
};

namespace {

// Parameters 1..4 of kv_put and kv_insert: namespace, key, value, expiry.
void bind_record(statement& s, std::string_view ns, std::string_view key, std::string_view value,
                 std::optional<sys_time> expires) {
  s.bind(1, ns);
  s.bind(2, key);
  s.bind_blob(3, value);
  s.bind(4, to_micros(expires));
}

}  // namespace

// One step of a sweep over kv in primary-key order: deletes the expired records among the next
// `chunk` from the cursor and moves the cursor past them; done once it reached the end. Steps
// are short (the committer interleaves them with group commits) and need no index on the
// expiry: a record is found expired when the sweep passes it, and until then reads and inserts
// already treat it as absent.
bbgw::result<std::size_t> sqlite_store::sweep_chunk(write_statements& ws, sqlite3* db,
                                                    sweep_cursor& c, std::int64_t now,
                                                    std::size_t chunk) {
  bool last;
  std::string next_ns, next_key;
  {
    auto& s = ws.sweep_next;
    reset_guard g(s);
    s.bind(1, c.ns);
    s.bind(2, c.key);
    s.bind(3, static_cast<std::int64_t>(std::max<std::size_t>(chunk, 1)));
    int rc = s.step();
    if (rc == SQLITE_ROW) {
      next_ns = s.text(0);
      next_key = s.text(1);
    } else if (rc != SQLITE_DONE) {
      return from_sqlite(rc);
    }
    last = rc == SQLITE_DONE;
  }
  auto& s = last ? ws.sweep_tail : ws.sweep_range;
  reset_guard g(s);
  s.bind(1, c.ns);
  s.bind(2, c.key);
  if (last) {
    s.bind(3, now);
  } else {
    s.bind(3, next_ns);
    s.bind(4, next_key);
    s.bind(5, now);
  }
  if (int rc = s.step(); rc != SQLITE_DONE) return from_sqlite(rc);
  auto deleted = static_cast<std::size_t>(sqlite3_changes(db));
  c.done = last;
  c.ns = std::move(next_ns);
  c.key = std::move(next_key);
  return deleted;
}

// The unit_of_work of one transaction, run on the committer thread inside its savepoint.
class sqlite_store::write_tx final : public bbgw::unit_of_work, public prepared_emitter {
 public:
  write_tx(sqlite3* db, write_statements& ws, std::int64_t now) : db_(db), ws_(ws), now_(now) {}

  bbgw::result<void> put(std::string_view ns, std::string_view key, std::string_view value,
                         std::optional<sys_time> expires) override {
    auto& s = ws_.kv_put;
    reset_guard g(s);
    bind_record(s, ns, key, value, expires);
    int rc = s.step();
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    return {};
  }

  bbgw::result<bool> insert(std::string_view ns, std::string_view key, std::string_view value,
                            std::optional<sys_time> expires) override {
    auto& s = ws_.kv_insert;
    reset_guard g(s);
    bind_record(s, ns, key, value, expires);
    s.bind(5, now_);
    int rc = s.step();
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    return sqlite3_changes(db_) > 0;
  }

  bbgw::result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override {
    auto& s = ws_.kv_get;
    reset_guard g(s);
    s.bind(1, ns);
    s.bind(2, key);
    s.bind(3, now_);
    int rc = s.step();
    if (rc == SQLITE_ROW) return std::optional<std::string>{s.blob(0)};
    if (rc == SQLITE_DONE) return std::optional<std::string>{};
    return from_sqlite(rc);
  }

  bbgw::result<bool> erase(std::string_view ns, std::string_view key) override {
    auto& s = ws_.kv_erase;
    reset_guard g(s);
    s.bind(1, ns);
    s.bind(2, key);
    s.bind(3, now_);
    int rc = s.step();
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    return sqlite3_changes(db_) > 0;
  }

  bbgw::result<void> emit(cloud_event const& ev) override {
    if (!emittable(ev)) return errc::constraint;
    auto p = make_outbox_payload(ev);
    return insert_event(view_of(ev, p));
  }

  bbgw::result<void> emit_prepared(cloud_event const& ev, outbox_payload const& p) override {
    if (!emittable(ev)) return errc::constraint;
    return insert_event(view_of(ev, p));
  }

  // Serialised by the producer: this thread only binds and writes the row.
  bbgw::result<void> emit_serialised(bbgw::serialised_event const& ev) override {
    if (ev.id.empty() || ev.type.empty() || ev.source.empty() || ev.family.empty() ||
        ev.json.empty() || ev.time.empty())
      return errc::constraint;
    return insert_event(ev);
  }

  // Without these the relay could not route or the consumers dedupe: refuse early.
  static bool emittable(cloud_event const& ev) {
    return !ev.id.empty() && !ev.type.empty() && !ev.source.empty() && !ev.family.empty();
  }

  static bbgw::serialised_event view_of(cloud_event const& ev, outbox_payload const& p) {
    return {
        ev.id,           ev.source,
        ev.type,         ev.subject ? std::optional<std::string_view>(*ev.subject) : std::nullopt,
        ev.partitionkey, ev.family,
        p.time,          p.json};
  }

  bbgw::result<void> insert_event(bbgw::serialised_event const& ev) {
    auto& s = ws_.outbox_insert;
    reset_guard g(s);
    s.bind(1, ev.id);
    s.bind(2, ev.family);
    s.bind(3, ev.partitionkey);
    s.bind(4, ev.type);
    s.bind(5, ev.source);
    s.bind(6, ev.subject);
    s.bind(7, ev.time);
    s.bind(8, ev.json);
    s.bind(9, now_);
    s.bind(10, ++ws_.last_seq);
    int rc = s.step();
    if (rc != SQLITE_DONE) return from_sqlite(rc);
    return {};
  }

  sqlite3* db_;
  write_statements& ws_;
  std::int64_t now_;
};

sqlite_store::sqlite_store(sqlite_settings settings, bbgw::clock const& clock,
                           bbgw::metrics& metrics, bbgw::logger& logger)
    : settings_(std::move(settings)),
      clock_(clock),
      logger_(logger),
      tx_committed_(metrics.make_counter("bbgw_store_transactions_total",
                                         "Store transactions by result",
                                         {{"result", "committed"}})),
      tx_rolled_back_(metrics.make_counter("bbgw_store_transactions_total",
                                           "Store transactions by result",
                                           {{"result", "rolled_back"}})),
      tx_failed_(metrics.make_counter("bbgw_store_transactions_total",
                                      "Store transactions by result", {{"result", "failed"}})),
      batch_size_(metrics.make_histogram("bbgw_store_commit_batch_size",
                                         "Transactions per group commit",
                                         {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024})),
      commit_seconds_(metrics.make_histogram(
          "bbgw_store_commit_seconds", "Time to run and commit one group commit",
          {0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1})),
      expired_deleted_(metrics.make_counter("bbgw_store_expired_records_deleted_total",
                                            "Expired records deleted by the store's sweep")) {
  if (settings_.max_batch == 0) settings_.max_batch = 1;
}

bbgw::result<std::unique_ptr<sqlite_store>> sqlite_store::open(sqlite_settings settings,
                                                               bbgw::clock const& clock,
                                                               bbgw::metrics& metrics,
                                                               bbgw::logger& logger) {
  std::string sync_pragma;
  if (settings.synchronous == "normal")
    sync_pragma = "PRAGMA synchronous=NORMAL";
  else if (settings.synchronous == "full")
    sync_pragma = "PRAGMA synchronous=FULL";
  else {
    logger.error("store: synchronous must be normal or full", {{"value", settings.synchronous}});
    return errc::internal;
  }

  std::unique_ptr<sqlite_store> s(new sqlite_store(std::move(settings), clock, metrics, logger));
  auto const& path = s->settings_.path;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code fec;
    std::filesystem::create_directories(parent, fec);
    if (fec) {
      logger.error("store: cannot create directory",
                   {{"path", parent.string()}, {"error", fec.message()}});
      return errc::io;
    }
  }

  auto fail = [&](sqlite3* db, int rc,
                  char const* what) -> bbgw::result<std::unique_ptr<sqlite_store>> {
    logger.error(what, {{"path", path}, {"error", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)}});
    return from_sqlite(rc);
  };

  // The system SQLite (Debian) keeps memory statistics by default: a process-wide mutex taken
  // on every one of its allocations (and it is built without lookaside, so there are many).
  // Nothing here reads those statistics. Only possible before SQLite initialises; later calls
  // fail harmlessly (SQLITE_MISUSE).
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

  auto open_conn = [&](sqlite_handle& h) -> int {
    sqlite3* db = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    h.reset(db);
    if (rc != SQLITE_OK) return rc;
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, static_cast<int>(s->settings_.busy_timeout.count()));
    return SQLITE_OK;
  };

  if (int rc = open_conn(s->write_db_); rc != SQLITE_OK)
    return fail(s->write_db_.get(), rc, "store: cannot open database");
  sqlite3* db = s->write_db_.get();

  {
    statement wal(db, "PRAGMA journal_mode=WAL");
    int rc = wal.prepare_rc() == SQLITE_OK ? wal.step() : wal.prepare_rc();
    if (rc != SQLITE_ROW) return fail(db, rc, "store: cannot enable WAL");
    if (wal.text(0) != "wal")
      logger.warn("store: WAL journal mode not available", {{"mode", wal.text(0)}});
  }
  // A larger WAL between checkpoints: pages rewritten by many group commits reach the main
  // file once, and checkpoints (the only fsyncs with synchronous=NORMAL) are rarer. Not larger
  // than 8192 pages: a checkpoint holds the committer, and with 32768 the commits waiting behind
  // one made the mean latency 1.6x and the longest 2.5x for no measurable gain in rate
  // (bench/README.md, "Session 7").
  // secure_delete=FAST: the system SQLite (Debian) defaults to ON, which zeroes and rewrites
  // every page freed when delivered records are deleted; FAST still zeroes deleted content on
  // the pages a delete modifies anyway, and freed pages are soon reused by new records.
  for (char const* pragma :
       {sync_pragma.c_str(), "PRAGMA foreign_keys=ON", "PRAGMA wal_autocheckpoint=8192",
        "PRAGMA secure_delete=FAST", "PRAGMA temp_store=MEMORY"})
    if (int rc = exec(db, pragma); rc != SQLITE_OK) return fail(db, rc, "store: pragma failed");
  // The writer's page cache. Not larger than it needs: at the end of every write transaction
  // SQLite truncates its cache to the database size, and that walk grows with the pages cached
  // (4.6 % of the gateway's CPU at 1 650 commits/s with a 64 MiB cache; 0.3 % with 4 MiB).
  if (int rc =
          exec(db, ("PRAGMA cache_size=-" + std::to_string(s->settings_.cache_mib * 1024)).c_str());
      rc != SQLITE_OK)
    return fail(db, rc, "store: pragma failed");

  // Migrations.
  if (int rc = exec(db,
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                    "applied_at TEXT NOT NULL)");
      rc != SQLITE_OK)
    return fail(db, rc, "store: cannot create schema_version");
  int current = 0;
  {
    statement q(db, "SELECT coalesce(max(version), 0) FROM schema_version");
    int rc = q.prepare_rc() == SQLITE_OK ? q.step() : q.prepare_rc();
    if (rc != SQLITE_ROW) return fail(db, rc, "store: cannot read schema_version");
    current = static_cast<int>(q.int64(0));
  }
  if (current > sqlite_schema_version()) {
    logger.error("store: database schema is newer than this gateway",
                 {{"path", path},
                  {"db_version", std::to_string(current)},
                  {"code_version", std::to_string(sqlite_schema_version())}});
    return errc::schema_too_new;
  }
  for (auto const& m : k_migrations) {
    if (m.version <= current) continue;
    int rc = exec(db, "BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) rc = exec(db, m.sql);
    if (rc == SQLITE_OK) {
      statement ins(db,
                    "INSERT INTO schema_version(version, applied_at) "
                    "VALUES(?1, strftime('%Y-%m-%dT%H:%M:%fZ','now'))");
      rc = ins.prepare_rc();
      if (rc == SQLITE_OK) {
        ins.bind(1, static_cast<std::int64_t>(m.version));
        rc = ins.step() == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
      }
    }
    if (rc == SQLITE_OK) rc = exec(db, "COMMIT");
    if (rc != SQLITE_OK) {
      auto r = fail(db, rc, "store: migration failed");
      exec(db, "ROLLBACK");
      return r;
    }
    logger.info("store: migrated", {{"path", path}, {"version", std::to_string(m.version)}});
  }

  s->ws_ = std::make_unique<write_statements>(db);
  if (int rc = s->ws_->prepare_rc(); rc != SQLITE_OK)
    return fail(db, rc, "store: cannot prepare statements");
  {
    statement q(db, "SELECT coalesce(max(seq), 0) FROM outbox");
    int rc = q.prepare_rc() == SQLITE_OK ? q.step() : q.prepare_rc();
    if (rc != SQLITE_ROW) return fail(db, rc, "store: cannot read the outbox");
    s->ws_->last_seq = q.int64(0);
  }

  if (int rc = open_conn(s->read_db_); rc != SQLITE_OK)
    return fail(s->read_db_.get(), rc, "store: cannot open read connection");
  exec(s->read_db_.get(), "PRAGMA query_only=1");
  s->rs_ = std::make_unique<read_statements>(s->read_db_.get());
  if (int rc = s->rs_->prepare_rc(); rc != SQLITE_OK)
    return fail(s->read_db_.get(), rc, "store: cannot prepare statements");

  s->committer_ = std::thread([p = s.get()] { p->run_committer(); });
  logger.info("store: opened", {{"path", path},
                                {"schema_version", std::to_string(sqlite_schema_version())},
                                {"synchronous", s->settings_.synchronous}});
  return s;
}

sqlite_store::~sqlite_store() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
  for (auto* j : free_jobs_) delete j;
  rs_.reset();
  ws_.reset();
}

bbgw::result<void> sqlite_store::submit(std::function<bbgw::result<void>(write_tx&)> const& work) {
  job j;
  j.work = &work;
  bool wake;
  {
    std::lock_guard lock(queue_mutex_);
    if (stopping_) return errc::closed;
    queue_.push_back(&j);
    wake = committer_idle_;  // a busy committer finds the queue when it is done
  }
  if (wake) queue_cv_.notify_one();
  j.wait();
  if (j.ec) return j.ec;
  return {};
}

void sqlite_store::transact_async(std::function<bbgw::result<void>(unit_of_work&)> work,
                                  completion done) {
  job* j = nullptr;
  bool wake, closed = false;
  {
    std::lock_guard lock(queue_mutex_);
    // A job the committer finished with, if any: no allocation here and no free on the
    // committer (memory allocated on one thread and freed on another contends in malloc).
    if (free_jobs_.empty()) {
      j = new job;
    } else {
      j = free_jobs_.back();
      free_jobs_.pop_back();
    }
    j->work = nullptr;
    j->ec = {};
    j->work_error = false;
    j->owned_work = std::move(work);  // no wrapper: one allocation less per transaction
    j->on_done = std::move(done);
    if (stopping_) {
      j->ec = errc::closed;
      closed = true;
    } else {
      queue_.push_back(j);
    }
    wake = committer_idle_;
  }
  if (closed) {  // answer at once, on the caller's thread
    j->complete(logger_);
    delete j;
    return;
  }
  if (wake) queue_cv_.notify_one();
}

std::size_t sqlite_store::pending_transactions() {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

bbgw::result<void> sqlite_store::transact(std::function<bbgw::result<void>(unit_of_work&)> work) {
  // Captures one reference, so std::function keeps it inline (no allocation).
  std::function<bbgw::result<void>(write_tx&)> w = [&work](write_tx& tx) { return work(tx); };
  return submit(w);
}

void sqlite_store::run_committer() {
  std::vector<job*> batch;
  batch.reserve(settings_.max_batch);
  recycled_.reserve(settings_.max_batch);
  auto const interval = std::max(settings_.purge_interval, std::chrono::milliseconds{1});
  auto next_purge = std::chrono::steady_clock::now() + interval;
  sweep_cursor sweep;
  bool sweeping = false;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      committer_idle_ = true;
      // While a sweep is under way its next step runs as soon as the queue is empty.
      auto until = sweeping ? std::chrono::steady_clock::now() : next_purge;
      queue_cv_.wait_until(lock, until, [&] { return stopping_ || !queue_.empty(); });
      committer_idle_ = false;
      if (queue_.empty() && stopping_) return;
      std::size_t n = std::min(queue_.size(), settings_.max_batch);
      batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    if (!batch.empty()) commit_batch(batch);
    batch.clear();
    if (!sweeping && std::chrono::steady_clock::now() >= next_purge) {
      sweeping = true;
      sweep = sweep_cursor{};
    }
    if (sweeping) {
      // One step between group commits: each is its own short transaction.
      auto r =
          sweep_chunk(*ws_, write_db_.get(), sweep, to_micros(clock_.now()), settings_.purge_chunk);
      if (!r)
        logger_.warn("store: purging expired records failed",
                     {{"error", sqlite3_errmsg(write_db_.get())}});
      else if (*r)
        expired_deleted_.inc(static_cast<double>(*r));
      if (!r || sweep.done) {
        sweeping = false;
        next_purge = std::chrono::steady_clock::now() + interval;
      }
    }
  }
}

void sqlite_store::commit_batch(std::vector<job*>& batch) {
  auto t0 = std::chrono::steady_clock::now();
  sqlite3* db = write_db_.get();
  auto& ws = *ws_;
  std::int64_t now = to_micros(clock_.now());
  auto run = [](statement& s) {
    int rc = s.step();
    s.reset();
    return rc;
  };
  auto fail_range = [&](std::size_t from, std::size_t to, error_code ec) {
    for (std::size_t k = from; k < to; ++k)
      if (!batch[k]->ec) batch[k]->ec = ec;
  };

  std::size_t i = 0;
  while (i < batch.size()) {
    if (int rc = run(ws.begin); rc != SQLITE_DONE) {
      logger_.error("store: cannot begin transaction", {{"error", sqlite3_errmsg(db)}});
      fail_range(i, batch.size(), from_sqlite(rc));
      break;
    }
    std::size_t first = i;
    bool aborted = false;
    int abort_rc = SQLITE_OK;
    for (; i < batch.size(); ++i) {
      job& j = *batch[i];
      if (int rc = run(ws.savepoint); rc != SQLITE_DONE) {
        j.ec = from_sqlite(rc);
        continue;
      }
      write_tx tx(db, ws, now);
      bbgw::result<void> r;
      try {
        r = j.work ? (*j.work)(tx) : j.owned_work(tx);
      } catch (...) {
        r = errc::work_failed;
      }
      if (sqlite3_get_autocommit(db)) {
        // SQLite rolled the whole transaction back (I/O error, disk full): every work in it
        // is lost, so each gets an error; the rest of the batch starts a new transaction.
        aborted = true;
        abort_rc = sqlite3_extended_errcode(db);
        if (!r) {
          j.ec = r.error();
          j.work_error = true;
        }
        ++i;
        break;
      }
      if (!r) {
        run(ws.rollback_to);
        run(ws.release);
        j.ec = r.error();
        j.work_error = true;
      } else if (int rc = run(ws.release); rc != SQLITE_DONE) {
        j.ec = from_sqlite(rc);
      }
    }
    if (aborted) {
      logger_.error("store: transaction aborted by SQLite", {{"error", sqlite3_errmsg(db)}});
      fail_range(first, i, from_sqlite(abort_rc == SQLITE_OK ? SQLITE_IOERR : abort_rc));
      continue;
    }
    if (int rc = run(ws.commit); rc != SQLITE_DONE) {
      logger_.error("store: commit failed", {{"error", sqlite3_errmsg(db)}});
      if (!sqlite3_get_autocommit(db)) run(ws.rollback);
      fail_range(first, i, from_sqlite(rc));
    }
  }

  std::size_t committed = 0, rolled_back = 0, failed = 0;
  for (auto* j : batch) {
    if (!j->ec)
      ++committed;
    else if (j->work_error)
      ++rolled_back;
    else
      ++failed;
  }
  if (committed) tx_committed_.inc(static_cast<double>(committed));
  if (rolled_back) tx_rolled_back_.inc(static_cast<double>(rolled_back));
  if (failed) tx_failed_.inc(static_cast<double>(failed));
  batch_size_.observe(static_cast<double>(batch.size()));
  commit_seconds_.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  // Last: once released, a job's owner may return and its stack frame is gone.
  recycled_.clear();
  for (auto* j : batch) {
    if (j->on_done) {
      j->complete(logger_);
      recycled_.push_back(j);
    } else {
      j->finish();
    }
  }
  if (!recycled_.empty()) {
    std::lock_guard lock(queue_mutex_);
    for (auto* j : recycled_) {
      if (free_jobs_.size() < settings_.max_batch)
        free_jobs_.push_back(j);
      else
        delete j;
    }
  }
}

bbgw::result<std::optional<std::string>> sqlite_store::get(std::string_view ns,
                                                           std::string_view key) {
  std::lock_guard lock(read_mutex_);
  auto& s = rs_->kv_get;
  reset_guard g(s);
  s.bind(1, ns);
  s.bind(2, key);
  s.bind(3, to_micros(clock_.now()));
  int rc = s.step();
  if (rc == SQLITE_ROW) return std::optional<std::string>{s.blob(0)};
  if (rc == SQLITE_DONE) return std::optional<std::string>{};
  return from_sqlite(rc);
}

bbgw::result<bool> sqlite_store::may_hold(std::string_view ns) {
  std::lock_guard lock(read_mutex_);
  auto& s = rs_->kv_any;
  reset_guard g(s);
  s.bind(1, ns);
  s.bind(2, to_micros(clock_.now()));
  int rc = s.step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return from_sqlite(rc);
}

bbgw::result<std::size_t> sqlite_store::fetch_undelivered(std::int64_t after_seq, std::size_t limit,
                                                          std::vector<outbox_record>& buf) {
  std::lock_guard lock(read_mutex_);
  auto& s = rs_->fetch;
  reset_guard g(s);
  s.bind(1, after_seq);
  s.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  std::size_t n = 0;
  for (;;) {
    int rc = s.step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return from_sqlite(rc);
    if (n == buf.size()) buf.emplace_back();
    // assign() into the kept strings: no allocation once they have grown to size.
    outbox_record& r = buf[n++];
    r.seq = s.int64(0);
    r.family.assign(s.text_view(1));
    r.key.assign(s.text_view(2));
    r.id.assign(s.text_view(3));
    r.type.assign(s.text_view(4));
    r.source.assign(s.text_view(5));
    if (s.is_null(6))
      r.subject.reset();
    else if (r.subject)
      r.subject->assign(s.text_view(6));
    else
      r.subject.emplace(s.text_view(6));
    r.time.assign(s.text_view(7));
    r.payload.assign(s.text_view(8));
  }
  return n;
}

bbgw::result<void> sqlite_store::mark_delivered(std::span<const std::int64_t> seqs) {
  if (seqs.empty()) return {};
  // Delivery reports come in runs of consecutive seqs: one range DELETE per run. A range of
  // records still in the outbox cannot catch a later record (the committer numbers new ones
  // above every seq it has given), and a seq delivered earlier in this process is never given
  // again.
  std::vector<std::int64_t> sorted(seqs.begin(), seqs.end());
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  for (auto v : sorted) {
    if (!runs.empty() && (v == runs.back().second || v == runs.back().second + 1))
      runs.back().second = v;
    else
      runs.emplace_back(v, v);
  }
  std::function<bbgw::result<void>(write_tx&)> work = [&](write_tx& tx) -> bbgw::result<void> {
    auto& s = tx.ws_.outbox_delete;
    for (auto [lo, hi] : runs) {
      reset_guard g(s);
      s.bind(1, lo);
      s.bind(2, hi);
      if (int rc = s.step(); rc != SQLITE_DONE) return from_sqlite(rc);
    }
    return {};
  };
  return submit(work);
}

bbgw::result<outbox_stats> sqlite_store::stats() {
  std::lock_guard lock(read_mutex_);
  outbox_stats st{0, std::nullopt};
  {
    auto& s = rs_->depth;
    reset_guard g(s);
    int rc = s.step();
    if (rc != SQLITE_ROW) return from_sqlite(rc);
    st.depth = static_cast<std::uint64_t>(s.int64(0));
  }
  {
    auto& s = rs_->oldest;
    reset_guard g(s);
    int rc = s.step();
    if (rc == SQLITE_ROW)
      st.oldest_created = from_micros(s.int64(0));
    else if (rc != SQLITE_DONE)
      return from_sqlite(rc);
  }
  return st;
}

bbgw::result<void> sqlite_store::check_writable() {
  std::int64_t now = to_micros(clock_.now());
  std::function<bbgw::result<void>(write_tx&)> work = [&](write_tx& tx) -> bbgw::result<void> {
    auto& s = tx.ws_.kv_put;
    reset_guard g(s);
    s.bind(1, std::string_view{"bbgw.health"});
    s.bind(2, std::string_view{"writable"});
    s.bind_blob(3, std::string_view{"ok"});
    s.bind(4, now + 60'000'000);  // expires in a minute: purged like any record
    if (int rc = s.step(); rc != SQLITE_DONE) return from_sqlite(rc);
    return {};
  };
  return submit(work);
}

bbgw::result<std::size_t> sqlite_store::purge_expired() {
  std::size_t n = 0;
  std::int64_t now = to_micros(clock_.now());
  std::function<bbgw::result<void>(write_tx&)> work = [&](write_tx& tx) -> bbgw::result<void> {
    n = 0;
    sweep_cursor c;
    while (!c.done) {
      auto r = sweep_chunk(tx.ws_, tx.db_, c, now, settings_.purge_chunk);
      if (!r) return r.error();
      n += *r;
    }
    return {};
  };
  if (auto r = submit(work); !r) return r.error();
  if (n) expired_deleted_.inc(static_cast<double>(n));
  return n;
}

}  // namespace bbgw::storage

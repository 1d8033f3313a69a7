#include "http/server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <csignal>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "bbgw/request.hpp"
#include "bbgw/response.hpp"
#include "http/connection_deadlines.hpp"
#include "http/spooling_body.hpp"
#include "http/tls_context.hpp"
#include "http/unique_fd.hpp"

namespace bbgw::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using namespace std::string_view_literals;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Method label values for requests that matched no route: a fixed set keeps the label bounded.
constexpr std::array<std::string_view, 10> unmatched_methods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "other"};

constexpr unsigned min_status = 100, max_status = 599;
constexpr std::size_t status_slots = max_status - min_status + 1;

std::vector<double> latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

bool request_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

bool acceptable_request_id(std::string_view v) noexcept {
  return !v.empty() && v.size() <= 128 && std::all_of(v.begin(), v.end(), request_id_char);
}

// Request ids: 128 random bits as 32 hex digits. Ids correlate logs and events; they are not
// secrets, so a per-connection xoshiro256** seeded from the CSPRNG is enough and keeps the
// OpenSSL DRBG (locks, fork checks) off the per-request path.
class request_id_source {
 public:
  request_id_source() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(s_), sizeof s_) != 1) {
      auto t = static_cast<std::uint64_t>(steady::now().time_since_epoch().count());
      for (auto& w : s_) w = t = t * 6364136223846793005ULL + 1442695040888963407ULL;
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }
  std::string next() {
    std::string out;
    next(out);
    return out;
  }
  // Into `out`, reusing its capacity (one id per request on a keep-alive connection).
  void next(std::string& out) {
    static constexpr char hex[] = "0123456789abcdef";
    out.resize(32);
    for (int half = 0; half < 2; ++half) {
      std::uint64_t v = step();
      for (int i = 0; i < 16; ++i, v >>= 4) out[half * 16 + i] = hex[v & 0xf];
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t step() {
    std::uint64_t const result = rotl(s_[1] * 5, 7) * 9;
    std::uint64_t const t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  std::uint64_t s_[4];
};

bool tchar(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool valid_field_name(std::string_view n) noexcept {
  return !n.empty() && std::all_of(n.begin(), n.end(), tchar);
}

// No CR, LF, NUL or other controls except HTAB: a handler can never split the response.
bool valid_field_value(std::string_view v) noexcept {
  return std::all_of(v.begin(), v.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c != 0x7f);
  });
}

// Fields the server owns: a handler's value for them is ignored.
bool server_owned_field(std::string_view n) noexcept {
  for (std::string_view f : {"content-length", "transfer-encoding", "connection", "keep-alive",
                             "date", "server", "x-request-id", "upgrade", "trailer"})
    if (bbgw::iequals(n, f)) return true;
  return false;
}

// RFC 9110 IMF-fixdate, formatted without the locale; recomputed once a second per connection.
class date_cache {
 public:
  std::string_view get() {
    std::time_t now = std::time(nullptr);
    if (now != sec_) {
      sec_ = now;
      std::tm tm{};
      gmtime_r(&now, &tm);
      static constexpr char const* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
      static constexpr char const* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
      std::snprintf(text_, sizeof text_, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
                    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                    tm.tm_sec);
    }
    return {text_, 29};
  }

 private:
  std::time_t sec_ = -1;
  char text_[32] = {};
};

std::string format_endpoint(tcp::endpoint const& ep) {
  auto a = ep.address();
  std::string out = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  out += ':';
  out += std::to_string(ep.port());
  return out;
}

bool is_parse_error(error_code const& ec) noexcept {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_more && ec != bhttp::error::need_buffer;
}

// A request's spool file: removed when the request is over (a handler that wants to keep the
// body renames the file, and the removal then finds nothing).
struct spool_guard {
  std::string path;
  spool_guard() = default;
  spool_guard(spool_guard const&) = delete;
  spool_guard& operator=(spool_guard const&) = delete;
  ~spool_guard() {
    if (path.empty()) return;
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

// Creates a new spool file readable by this user only (bodies may hold personal data) and hands
// its descriptor to `f`.
error_code open_spool_file(std::string const& dir, std::uint64_t seq, boost::beast::file& f,
                           std::string& path) {
  path = dir + "/req-" + std::to_string(::getpid()) + "-" + std::to_string(seq) + ".body";
  auto open = [&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); };
  int fd = open();
  if (fd < 0 && errno == ENOENT) {
    std::error_code mk;
    std::filesystem::create_directories(dir, mk);
    fd = open();
  }
  if (fd < 0) {
    error_code ec(errno, boost::system::generic_category());
    path.clear();
    return ec;
  }
  f.native_handle(fd);
  return {};
}

// What a handler produced, or that it threw (handlers should not throw; we answer 500).
struct handler_outcome {
  bbgw::response resp;
  bool threw = false;
  std::string what;
};

handler_outcome invoke_handler(bbgw::route const& r, bbgw::request const& req) noexcept {
  handler_outcome o;
  try {
    o.resp = r.handle(req);
  } catch (std::exception const& e) {
    o.threw = true;
    o.what = e.what();
  } catch (...) {
    o.threw = true;
    o.what = "non-standard exception";
  }
  return o;
}

// Runs the handler on the worker pool and completes on the caller's executor (the connection's
// strand). The outstanding-work guard keeps the io_context running while the worker runs.
template <class CompletionToken>
auto async_run_on_worker(asio::thread_pool& pool, bbgw::route const& r, bbgw::request const& req,
                         CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(handler_outcome)>(
      [&pool](auto completion, bbgw::route const* r, bbgw::request const* req) {
        auto work = asio::prefer(asio::get_associated_executor(completion),
                                 asio::execution::outstanding_work.tracked);
        asio::post(pool, [r, req, completion = std::move(completion),
                          work = std::move(work)]() mutable {
          auto out = invoke_handler(*r, *req);
          asio::post(work, [completion = std::move(completion), out = std::move(out)]() mutable {
            std::move(completion)(std::move(out));
          });
        });
      },
      token, &r, &req);
}

// The answer of an asynchronous handler, shared by the copies of its responder: the first call
// completes; if every copy is dropped uncalled, the request gets a 500.
template <class Completion, class Work>
struct async_answer {
  std::mutex m;
  std::optional<Completion> completion;
  Work work;
  async_answer(Completion c, Work w) : completion(std::move(c)), work(std::move(w)) {}
  async_answer(async_answer const&) = delete;
  async_answer& operator=(async_answer const&) = delete;
  void complete(handler_outcome out) {
    std::optional<Completion> c;
    {
      std::lock_guard lock(m);
      if (!completion) return;  // answered already
      c.emplace(std::move(*completion));
      completion.reset();
    }
    // Always posted, never run inline: the responder may be called from any thread.
    asio::post(work, [c = std::move(*c), out = std::move(out)]() mutable {
      std::move(c)(std::move(out));
    });
  }
  ~async_answer() {
    if (!completion) return;
    handler_outcome out;
    out.threw = true;
    out.what = "the handler dropped the request without responding";
    complete(std::move(out));
  }
};

// Runs an asynchronous handler on this (I/O) thread and completes on the caller's executor when
// it responds, from whatever thread.
template <class CompletionToken>
auto async_run_async_handler(bbgw::route const& r, bbgw::request const& req,
                             CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(handler_outcome)>(
      [](auto completion, bbgw::route const* r, bbgw::request const* req) {
        auto work = asio::prefer(asio::get_associated_executor(completion),
                                 asio::execution::outstanding_work.tracked);
        using answer = async_answer<decltype(completion), decltype(work)>;
        auto st = std::make_shared<answer>(std::move(completion), std::move(work));
        bbgw::responder respond = [st](bbgw::response res) {
          handler_outcome out;
          out.resp = std::move(res);
          st->complete(std::move(out));
        };
        try {
          r->handle_async(*req, std::move(respond));
        } catch (std::exception const& e) {
          st->complete({bbgw::response{}, true, e.what()});
        } catch (...) {
          st->complete({bbgw::response{}, true, "non-standard exception"});
        }
      },
      token, &r, &req);
}

// A streamed request body's shared state: the pipe to the handler, the handler's outcome, and a
// timer the connection waits on until the handler has made room or answered. Signals are posted
// to the connection's own (single-threaded) executor, so a signal either comes before the wait
// (`signalled` is seen) or cancels it.
struct body_stream_state : std::enable_shared_from_this<body_stream_state> {
  static constexpr std::size_t buffer_bytes = std::size_t{1} << 20;

  explicit body_stream_state(asio::any_io_executor executor)
      : ex(std::move(executor)), timer(ex), pipe(buffer_bytes, {}) {}
  void signal() {
    signalled = true;
    timer.cancel();
  }
  // The handler's answer: it goes out now, even while a socket read for the rest of the body
  // is pending (the client may have stopped sending until it gets an answer).
  void answer(handler_outcome o) {
    outcome = std::move(o);
    signal();
    if (reading && cancel_read) cancel_read();
  }
  // Called by the pipe on the handler's thread.
  std::function<void()> waker() {
    return [w = weak_from_this(), ex = ex] {
      asio::post(ex, [w] {
        if (auto s = w.lock()) s->signal();
      });
    };
  }

  asio::any_io_executor ex;
  asio::steady_timer timer;
  bbgw::http::body_pipe pipe;
  bool signalled = false;
  bool reading = false;               // a socket read for the body is pending
  std::function<void()> cancel_read;  // cancels it (on the connection's thread)
  std::optional<handler_outcome> outcome;
};

// One of the server's max_streamed_bodies slots, held for a request's lifetime.
class stream_slot {
 public:
  stream_slot() = default;
  stream_slot(stream_slot const&) = delete;
  stream_slot& operator=(stream_slot const&) = delete;
  ~stream_slot() { release(); }
  void release() {
    if (count_) count_->fetch_sub(1);
    count_ = nullptr;
  }
  bool acquire(std::atomic<unsigned>& count, unsigned max) {
    unsigned v = count.load();
    while (v < max)
      if (count.compare_exchange_weak(v, v + 1)) {
        count_ = &count;
        return true;
      }
    return false;
  }

 private:
  std::atomic<unsigned>* count_ = nullptr;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct server::impl {
  // Per route (and one for "unmatched"): the duration histogram and a lazily filled table of
  // request counters indexed by listener, method and status, so the hot path never builds
  // label strings or takes a lock once a combination has been seen.
  struct route_metrics {
    std::string label;
    std::vector<std::string> methods;
    histogram* duration = nullptr;
    std::unique_ptr<std::atomic<counter*>[]> counters;
  };

  struct listener {
    listener_settings cfg;
    std::size_t index = 0;
    std::unique_ptr<ssl::context> tls;
    std::unique_ptr<tcp::acceptor> acceptor;
  };

  // What shutdown needs to reach a connection. `idle` and `close` are only touched on the
  // connection's strand.
  struct conn_handle {
    asio::any_io_executor ex;
    bool idle = false;
    std::function<void()> close;
  };

  impl(server_settings s, router r, bbgw::metrics& m, bbgw::logger& log);
  ~impl();

  counter& requests_counter(route_metrics& rm, std::size_t listener, std::size_t method_slot,
                            unsigned status);
  route_metrics& metrics_for(bbgw::route const* r) {
    if (!r) return unmatched_;
    auto it = by_route_.find(r);
    return it == by_route_.end() ? unmatched_ : *it->second;
  }

  std::vector<bound_listener> start();
  void run();
  void begin_shutdown();  // on control_
  void close_all();       // on control_
  void connection_ended();

  asio::awaitable<void> accept_loop(listener& l);
  asio::awaitable<void> serve(listener& l, tcp::socket sock, connection_deadlines& deadlines,
                              std::shared_ptr<conn_handle> h);
  template <class Stream>
  asio::awaitable<void> session(listener& l, Stream& stream, connection_deadlines::entry& dl,
                                conn_handle& h, bool reject);

  server_settings cfg_;
  router router_;
  bbgw::metrics& metrics_;
  bbgw::logger& log_;
  unsigned io_threads_;

  counter* rejected_max_;
  counter* rejected_tls_;
  counter* timeout_read_;
  counter* timeout_idle_;
  counter* timeout_write_;
  counter* timeout_handshake_;
  counter* bad_malformed_;
  counter* bad_header_;
  counter* bad_body_;
  counter* bad_target_;
  gauge* open_gauge_;
  std::vector<std::unique_ptr<route_metrics>> route_metrics_;
  std::unordered_map<bbgw::route const*, route_metrics*> by_route_;
  route_metrics unmatched_;

  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> spool_seq_{0};
  std::atomic<unsigned> streams_{0};  // streamed request bodies in progress
  unsigned max_streams_ = 0;
  counter* streamed_bodies_;
  counter* stream_fallbacks_;
  std::atomic<bool> destroying_{false};
  std::atomic<std::size_t> open_{0};
  std::mutex conns_mutex_;  // taken per connection open/close, never per request
  std::unordered_set<std::shared_ptr<conn_handle>> conns_;

  // One io_context per I/O thread, each run by exactly one thread: a connection lives on one
  // of them (round robin) and needs no strand, so completions take no strand lock and copying
  // its executor touches no shared reference count. ioc_ is run by the thread calling run()
  // and also holds the control strand; io_extra_ are run by the other I/O threads.
  // Per io_context (index 0: ioc_, i: io_extra_[i - 1]); declared before the io_contexts so
  // that it outlives the connection frames they destroy.
  std::vector<std::unique_ptr<connection_deadlines>> deadlines_;
  asio::io_context ioc_;
  std::vector<std::unique_ptr<asio::io_context>> io_extra_;
  std::atomic<std::size_t> next_io_{0};
  asio::strand<asio::io_context::executor_type> control_;  // accept loops, shutdown, signals
  // After ioc_: destroyed first, so queued tasks release their work on a live io_context.
  asio::thread_pool workers_;
  std::vector<std::unique_ptr<listener>> listeners_;
  std::unique_ptr<asio::signal_set> signals_;
  std::unique_ptr<asio::steady_timer> grace_timer_;
  bool shutdown_started_ = false;  // on control_
  bool started_ = false;
};

namespace {
unsigned cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}
std::vector<std::unique_ptr<asio::io_context>> make_io_contexts(unsigned n) {
  std::vector<std::unique_ptr<asio::io_context>> out;
  for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
  return out;
}
}  // namespace

server::impl::impl(server_settings s, router r, bbgw::metrics& m, bbgw::logger& log)
    : cfg_(std::move(s)),
      router_(std::move(r)),
      metrics_(m),
      log_(log),
      io_threads_(cfg_.io_threads ? cfg_.io_threads : cores()),
      ioc_(1),
      io_extra_(make_io_contexts(io_threads_ - 1)),
      control_(asio::make_strand(ioc_)),
      workers_(cfg_.worker_threads ? cfg_.worker_threads : 2 * cores()) {
  auto const tick = connection_deadlines::tick_for(
      std::min({cfg_.lim.read_timeout, cfg_.lim.idle_timeout, cfg_.lim.write_timeout,
                cfg_.lim.handshake_timeout}));
  deadlines_.push_back(std::make_unique<connection_deadlines>(ioc_, tick));
  for (auto& c : io_extra_) deadlines_.push_back(std::make_unique<connection_deadlines>(*c, tick));
  auto rejected = [&](char const* reason) -> counter& {
    return m.make_counter("bbgw_http_connections_rejected_total",
                          "Connections refused before any request was read", {{"reason", reason}});
  };
  rejected_max_ = &rejected("max_connections");
  rejected_tls_ = &rejected("tls_handshake");
  auto timeout = [&](char const* phase) -> counter& {
    return m.make_counter("bbgw_http_timeouts_total", "Connections cut by a timeout",
                          {{"phase", phase}});
  };
  timeout_read_ = &timeout("read");
  timeout_idle_ = &timeout("idle");
  timeout_write_ = &timeout("write");
  timeout_handshake_ = &timeout("handshake");
  auto bad = [&](char const* reason) -> counter& {
    return m.make_counter("bbgw_http_bad_requests_total",
                          "Requests refused as malformed or over a limit", {{"reason", reason}});
  };
  bad_malformed_ = &bad("malformed");
  bad_header_ = &bad("header_too_large");
  bad_body_ = &bad("body_too_large");
  {
    unsigned const workers = cfg_.worker_threads ? cfg_.worker_threads : 2 * cores();
    // Streams hold workers: one always stays free for other requests (one worker: no streams).
    max_streams_ =
        std::min(cfg_.max_streamed_bodies ? cfg_.max_streamed_bodies : workers / 2, workers - 1);
  }
  streamed_bodies_ = &m.make_counter("bbgw_http_streamed_bodies_total",
                                     "Request bodies read while their handler ran (stream_body)");
  stream_fallbacks_ =
      &m.make_counter("bbgw_http_stream_fallbacks_total",
                      "Bodies of stream_body routes spooled because every stream slot was in use");
  bad_target_ = &bad("bad_target");
  open_gauge_ = &m.make_gauge("bbgw_http_open_connections", "Open client connections");

  auto const n_listeners = std::max<std::size_t>(1, cfg_.listeners.size());
  auto init = [&](route_metrics& rm, std::string label, std::vector<std::string> methods) {
    rm.label = std::move(label);
    rm.methods = std::move(methods);
    rm.duration = &m.make_histogram("bbgw_http_request_duration_seconds",
                                    "Time from request header read to response written",
                                    latency_buckets(), {{"route", rm.label}});
    std::size_t n = n_listeners * rm.methods.size() * status_slots;
    rm.counters = std::make_unique<std::atomic<counter*>[]>(n);
    for (std::size_t i = 0; i < n; ++i) rm.counters[i].store(nullptr, std::memory_order_relaxed);
  };
  for (auto const* rt : router_.routes()) {
    auto rm = std::make_unique<route_metrics>();
    init(*rm, rt->pattern, rt->methods);
    by_route_.emplace(rt, rm.get());
    route_metrics_.push_back(std::move(rm));
  }
  init(unmatched_, "unmatched", {unmatched_methods.begin(), unmatched_methods.end()});
}

server::impl::~impl() {
  destroying_ = true;
  workers_.stop();
  workers_.join();
  // Close I/O objects before the io_context, then let it destroy any pending coroutine frames.
  signals_.reset();
  grace_timer_.reset();
  for (auto& l : listeners_)
    if (l->acceptor) {
      error_code ec;
      l->acceptor->close(ec);
    }
  for (auto& c : io_extra_) c->stop();
  ioc_.stop();
  for (auto& d : deadlines_) d->release_timer();
}

counter& server::impl::requests_counter(route_metrics& rm, std::size_t listener,
                                        std::size_t method_slot, unsigned status) {
  std::size_t idx =
      (listener * rm.methods.size() + method_slot) * status_slots + (status - min_status);
  counter* c = rm.counters[idx].load(std::memory_order_acquire);
  if (c) return *c;
  // First time for this combination: the registry returns the same object to racing threads.
  c = &metrics_.make_counter(
      "bbgw_http_requests_total", "HTTP requests by listener, route, method and status",
      {{"listener", listener < cfg_.listeners.size() ? cfg_.listeners[listener].name : ""},
       {"route", rm.label},
       {"method", rm.methods[method_slot]},
       {"status", std::to_string(status)}});
  rm.counters[idx].store(c, std::memory_order_release);
  return *c;
}

std::vector<bound_listener> server::impl::start() {
  if (started_) throw std::logic_error("server::start called twice");
  started_ = true;
  std::vector<bound_listener> out;
  for (std::size_t i = 0; i < cfg_.listeners.size(); ++i) {
    auto const& ls = cfg_.listeners[i];
    auto l = std::make_unique<listener>();
    l->cfg = ls;
    l->index = i;
    if (ls.tls) l->tls = make_tls_context(ls.name, *ls.tls);
    try {
      tcp::endpoint ep(asio::ip::make_address(ls.address), ls.port);
      auto acc = std::make_unique<tcp::acceptor>(control_);
      acc->open(ep.protocol());
      acc->set_option(asio::socket_base::reuse_address(true));
      acc->bind(ep);
      acc->listen(asio::socket_base::max_listen_connections);
      l->acceptor = std::move(acc);
    } catch (std::exception const& e) {
      throw std::runtime_error("listener \"" + ls.name + "\": cannot listen on " + ls.address +
                               ":" + std::to_string(ls.port) + ": " + e.what());
    }
    auto port = l->acceptor->local_endpoint().port();
    out.push_back({ls.name, ls.address, port, ls.tls.has_value()});
    log_.info("listening", {{"listener", ls.name},
                            {"address", ls.address + ":" + std::to_string(port)},
                            {"tls", ls.tls ? "true" : "false"}});
    listeners_.push_back(std::move(l));
  }
  for (auto& l : listeners_)
    asio::co_spawn(control_, accept_loop(*l), [this](std::exception_ptr e) {
      if (e) log_.error("accept loop ended by an exception");
    });
  return out;
}

asio::awaitable<void> server::impl::accept_loop(listener& l) {
  asio::steady_timer backoff(control_);
  while (!stopping_) {
    std::size_t const pick = next_io_.fetch_add(1, std::memory_order_relaxed) % io_threads_;
    asio::io_context& target = pick == 0 ? ioc_ : *io_extra_[pick - 1];
    connection_deadlines& deadlines = *deadlines_[pick];
    auto [ec, sock] = co_await l.acceptor->async_accept(target, nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) co_return;
      // Typically out of file descriptors: wait a little rather than spin.
      log_.warn("accept failed", {{"listener", l.cfg.name}, {"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(nothrow);
      continue;
    }
    error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);
    std::shared_ptr<conn_handle> h;
    if (open_.fetch_add(1) >= cfg_.lim.max_connections) {
      open_.fetch_sub(1);
      rejected_max_->inc();
    } else {
      open_gauge_->add(1);
      h = std::make_shared<conn_handle>();
      h->ex = sock.get_executor();
      std::lock_guard lock(conns_mutex_);
      conns_.insert(h);
    }
    auto ex = sock.get_executor();
    asio::co_spawn(ex, serve(l, std::move(sock), deadlines, std::move(h)),
                   [this](std::exception_ptr e) {
                     if (!e) return;
                     try {
                       std::rethrow_exception(e);
                     } catch (std::exception const& x) {
                       log_.error("connection ended by an exception", {{"error", x.what()}});
                     } catch (...) {
                       log_.error("connection ended by an exception");
                     }
                   });
  }
}

void server::impl::connection_ended() {
  open_gauge_->add(-1);
  if (open_.fetch_sub(1) == 1 && stopping_ && !destroying_)
    asio::post(control_, [this] {
      if (grace_timer_) grace_timer_->cancel();
    });
}

asio::awaitable<void> server::impl::serve(listener& l, tcp::socket sock,
                                          connection_deadlines& deadlines,
                                          std::shared_ptr<conn_handle> h) {
  // Unregisters on every exit path, on this connection's strand, before the stream dies.
  struct registration {
    impl& s;
    std::shared_ptr<conn_handle> h;
    ~registration() {
      if (!h) return;
      h->close = nullptr;
      {
        std::lock_guard lock(s.conns_mutex_);
        s.conns_.erase(h);
      }
      s.connection_ended();
    }
  };
  bool const reject = !h;
  conn_handle scratch;
  conn_handle& handle = h ? *h : scratch;
  if (l.tls) {
    beast::ssl_stream<tcp::socket> stream(std::move(sock), *l.tls);
    registration reg{*this, h};
    connection_deadlines::entry dl(deadlines, beast::get_lowest_layer(stream));
    handle.close = [&stream] {
      error_code ignored;
      beast::get_lowest_layer(stream).close(ignored);
    };
    co_await session(l, stream, dl, handle, reject);
  } else {
    tcp::socket stream(std::move(sock));
    registration reg{*this, h};
    connection_deadlines::entry dl(deadlines, stream);
    handle.close = [&stream] {
      error_code ignored;
      stream.close(ignored);
    };
    co_await session(l, stream, dl, handle, reject);
  }
}

namespace {

template <class Stream>
constexpr bool is_tls_stream = !std::is_same_v<Stream, tcp::socket>;

// The problem JSON the server itself answers with (RFC 9457, request id as an extension).
bbgw::response make_problem(unsigned status, std::string_view detail, std::string_view request_id) {
  // response::problem stays the single source of the member layout; request_id is appended.
  auto res = bbgw::response::problem(status, detail);
  auto& body = res.body;
  if (!body.empty() && body.back() == '}') {
    body.pop_back();
    body += ",\"request_id\":";
    body += boost::json::serialize(boost::json::value(request_id));
    body += '}';
  }
  return res;
}

}  // namespace

template <class Stream>
asio::awaitable<void> server::impl::session(listener& l, Stream& stream,
                                            connection_deadlines::entry& dl, conn_handle& handle,
                                            bool reject) {
  auto& lim = cfg_.lim;
  auto& sock = beast::get_lowest_layer(stream);
  std::string remote;
  {
    error_code ec;
    auto ep = sock.remote_endpoint(ec);
    remote = ec ? "unknown" : format_endpoint(ep);
  }
  std::optional<peer_certificate> peer;

  if constexpr (is_tls_stream<Stream>) {
    dl.expires_after(lim.handshake_timeout);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, nothrow);
    if (ec) {
      if (dl.expired()) timeout_handshake_->inc();
      rejected_tls_->inc();
      log_.debug("tls handshake failed",
                 {{"listener", l.cfg.name}, {"remote", remote}, {"error", ec.message()}});
      co_return;
    }
    peer = verified_peer_certificate(stream.native_handle());
  }

  date_cache dates;
  request_id_source ids;
  // Lingering close: send our side's FIN (TLS close_notify first), then read and discard what
  // the client still sends for a moment, so an unread request tail does not make the kernel
  // reset the connection before the client has read our answer.
  auto close = [&](bool drain) -> asio::awaitable<void> {
    if constexpr (is_tls_stream<Stream>) {
      dl.expires_after(
          std::min<std::chrono::milliseconds>(lim.write_timeout, std::chrono::milliseconds(1000)));
      co_await stream.async_shutdown(nothrow);
    }
    error_code ec;
    sock.shutdown(tcp::socket::shutdown_send, ec);
    if (drain && !ec && sock.is_open()) {
      dl.expires_after(std::chrono::milliseconds(500));
      std::array<char, 4096> scratch;
      std::size_t total = 0;
      while (total < 1024 * 1024) {
        auto [rec, n] = co_await sock.async_read_some(asio::buffer(scratch), nothrow);
        if (rec) break;
        total += n;
      }
    }
    sock.close(ec);
  };
  // Serialises the status line and header into a per-connection buffer (no allocation once
  // it has grown) and writes it with the body in one gather write. The server owns framing
  // and its own fields; handler fields are validated so a response can never be split.
  std::string head_text;
  std::unique_ptr<char[]> file_chunk;  // allocated on the first file response
  constexpr std::size_t file_chunk_size = 64 * 1024;
  constexpr std::size_t small_body = 16 * 1024;
  auto write = [&](bbgw::response& r, std::string_view request_id, unsigned version, bool keep,
                   bool head_request, std::string_view route) -> asio::awaitable<bool> {
    // A file body: its size is the Content-Length; its bytes follow the header in chunks.
    unique_fd file;
    std::uint64_t length = r.body.size();
    if (!r.body_file.empty()) {
      file.reset(::open(r.body_file.c_str(), O_RDONLY | O_CLOEXEC));
      struct stat sb {};
      if (!file || ::fstat(file.get(), &sb) != 0 || !S_ISREG(sb.st_mode) || !r.body.empty()) {
        log_.error("handler returned a response file that cannot be read",
                   {{"request_id", std::string(request_id)}, {"route", std::string(route)}});
        r = make_problem(500, "the response could not be produced", request_id);
        file.reset();
        length = r.body.size();
      } else {
        length = static_cast<std::uint64_t>(sb.st_size);
      }
    }
    unsigned const st = r.status;
    head_text.clear();
    head_text += version == 10 ? "HTTP/1.0 "sv : "HTTP/1.1 "sv;
    char num[24];
    auto [end, _] = std::to_chars(num, num + sizeof num, st);
    head_text.append(num, end);
    head_text += ' ';
    head_text += bhttp::obsolete_reason(static_cast<bhttp::status>(st));
    head_text += "\r\n"sv;
    bool cache_control = false;
    for (auto const& [name, value] : r.headers) {
      if (server_owned_field(name)) continue;
      if (!valid_field_name(name) || !valid_field_value(value)) {
        log_.warn("handler set an invalid header field; dropped",
                  {{"request_id", std::string(request_id)}, {"route", std::string(route)}});
        continue;
      }
      cache_control = cache_control || bbgw::iequals(name, "Cache-Control");
      head_text += name;
      head_text += ": "sv;
      head_text += value;
      head_text += "\r\n"sv;
    }
    head_text += "Date: "sv;
    head_text += dates.get();
    head_text += "\r\nServer: "sv;
    head_text += cfg_.server_name;
    head_text += "\r\nX-Request-Id: "sv;
    head_text += request_id;
    head_text += "\r\nX-Content-Type-Options: nosniff\r\n"sv;
    if (!cache_control) head_text += "Cache-Control: no-store\r\n"sv;
    if (version == 10 && keep) head_text += "Connection: keep-alive\r\n"sv;
    if (version != 10 && !keep) head_text += "Connection: close\r\n"sv;
    std::string_view body = r.body;
    bool send_file = static_cast<bool>(file);
    if (st == 204 || st == 304 || st < 200) {
      body = {};  // no content by definition: no body and no Content-Length (RFC 9110 8.6)
      send_file = false;
    } else {
      // HEAD: the length the GET would have, and no body.
      auto [e2, _2] = std::to_chars(num, num + sizeof num, length);
      head_text += "Content-Length: "sv;
      head_text.append(num, e2);
      head_text += "\r\n"sv;
      if (head_request) {
        body = {};
        send_file = false;
      }
    }
    head_text += "\r\n"sv;
    dl.expires_after(lim.write_timeout);
    // A small body is copied behind the header: one plain send instead of a gathering sendmsg.
    error_code ec;
    if (body.size() <= small_body) {
      head_text += body;
      std::tie(ec, std::ignore) =
          co_await asio::async_write(stream, asio::buffer(head_text), nothrow);
    } else {
      std::array<asio::const_buffer, 2> bufs{asio::buffer(head_text), asio::buffer(body)};
      std::tie(ec, std::ignore) = co_await asio::async_write(stream, bufs, nothrow);
    }
    if (ec && dl.expired()) timeout_write_->inc();
    if (ec || !send_file) co_return !ec;
    // Reads block briefly on the page cache; each chunk gets its own write deadline.
    if (!file_chunk) file_chunk = std::make_unique<char[]>(file_chunk_size);
    for (std::uint64_t left = length; left > 0;) {
      auto const want = static_cast<std::size_t>(std::min<std::uint64_t>(left, file_chunk_size));
      ssize_t const got = ::read(file.get(), file_chunk.get(), want);
      // The file shrank under us: the promised length cannot be kept, so the connection ends.
      if (got <= 0) co_return false;
      dl.expires_after(lim.write_timeout);
      auto [wec, w] = co_await asio::async_write(
          stream, asio::buffer(file_chunk.get(), static_cast<std::size_t>(got)), nothrow);
      if (wec) {
        if (dl.expired()) timeout_write_->inc();
        co_return false;
      }
      left -= static_cast<std::uint64_t>(got);
    }
    co_return true;
  };
  auto count = [&](route_metrics& rm, std::size_t slot, unsigned status, steady::time_point t0) {
    requests_counter(rm, l.index, slot, status).inc();
    rm.duration->observe(std::chrono::duration<double>(steady::now() - t0).count());
  };
  auto unmatched_slot = [](std::string_view method) {
    for (std::size_t i = 0; i + 1 < unmatched_methods.size(); ++i)
      if (unmatched_methods[i] == method) return i;
    return unmatched_methods.size() - 1;
  };
  // Answers a request the server refuses itself (no handler involved).
  auto refuse = [&](unsigned status, std::string_view detail, std::string_view request_id,
                    unsigned version, bool keep, bool head, route_metrics& rm, std::size_t slot,
                    steady::time_point t0, std::string_view allow = {}) -> asio::awaitable<bool> {
    auto res = make_problem(status, detail, request_id);
    if (!allow.empty()) res.headers.add("Allow", std::string(allow));
    bool ok = co_await write(res, request_id, version, keep, head, rm.label);
    count(rm, slot, status, t0);
    co_return ok&& keep;
  };

  if (reject) {
    auto rid = ids.next();
    auto res = make_problem(503, "the server is at its connection limit", rid);
    log_.warn("connection rejected", {{"request_id", rid},
                                      {"listener", l.cfg.name},
                                      {"remote", remote},
                                      {"reason", "max_connections"}});
    if (co_await write(res, rid, 11, false, false, "unmatched")) co_await close(true);
    co_return;
  }

  beast::flat_buffer buffer;
  std::optional<bhttp::request_parser<spooling_body>> parser;
  bbgw::request req;
  std::string rid;  // this request's id; its buffer is reused by the next request
  bool first = true;

  for (;;) {
    if (stopping_) break;
    // Wait for the first byte of the next request: bounded by the idle timeout between
    // keep-alive requests, by the read timeout for a connection's first request. Shutdown
    // closes a connection that is waiting here.
    auto const wait_start = dl.now();
    auto read_deadline = wait_start + lim.read_timeout;
    if (buffer.size() == 0) {
      dl.expires_at(first ? read_deadline : wait_start + lim.idle_timeout);
      handle.idle = true;
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), nothrow);
      handle.idle = false;
      if (ec) {
        if (dl.expired()) (first ? timeout_read_ : timeout_idle_)->inc();
        break;
      }
      buffer.commit(n);
      if (!first) read_deadline = dl.now() + lim.read_timeout;
    }
    first = false;

    // The whole request (header and body) must arrive by read_deadline.
    dl.expires_at(read_deadline);
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(lim.header_limit, std::numeric_limits<std::uint32_t>::max())));
    // The body limit depends on the route, known only after the header: checked below.
    parser->body_limit(boost::none);
    {
      // Fast path: the whole header usually came with the first read; parse it in place rather
      // than through the composed read, which would complete via one more scheduler round.
      error_code ec;
      buffer.consume(parser->put(buffer.data(), ec));
      if (ec == bhttp::error::need_more) {
        auto [rec, n] = co_await bhttp::async_read_header(stream, buffer, *parser, nothrow);
        ec = rec;
      }
      if (ec) {
        auto const t0 = steady::now();
        if (dl.expired()) {
          timeout_read_->inc();
          log_.info("request read timed out", {{"listener", l.cfg.name}, {"remote", remote}});
          break;
        }
        bool const too_large = ec == bhttp::error::header_limit;
        if (!too_large && !is_parse_error(ec)) break;  // closed, reset, aborted, truncated
        (too_large ? bad_header_ : bad_malformed_)->inc();
        ids.next(rid);
        log_.info("bad request", {{"request_id", rid},
                                  {"listener", l.cfg.name},
                                  {"remote", remote},
                                  {"reason", too_large ? "header_too_large" : "malformed"}});
        co_await refuse(too_large ? 431 : 400,
                        too_large ? "the request header is larger than the server accepts"
                                  : "the request is not valid HTTP/1.1",
                        rid, 11, false, false, unmatched_, unmatched_methods.size() - 1, t0);
        co_await close(true);
        co_return;
      }
    }
    auto const t0 = steady::now();
    auto& hreq = parser->get();
    std::string_view const method = hreq.method_string();
    std::string_view const target = hreq.target();
    unsigned const version = hreq.version();
    bool const head = method == "HEAD";
    bool keep = hreq.keep_alive();
    bool const body_pending = !parser->is_done();

    if (auto it = hreq.find("X-Request-Id"); it != hreq.end() && acceptable_request_id(it->value()))
      rid.assign(it->value());
    else
      ids.next(rid);

    // Origin-form targets only (RFC 9112 3.2.1); HTTP/1.1 requires Host.
    bool const bad_target = target.empty() || target.front() != '/';
    bool const no_host = version >= 11 && hreq.find(bhttp::field::host) == hreq.end();
    if (bad_target || no_host) {
      (bad_target ? bad_target_ : bad_malformed_)->inc();
      log_.info("bad request", {{"request_id", rid},
                                {"listener", l.cfg.name},
                                {"remote", remote},
                                {"reason", bad_target ? "bad_target" : "missing_host"}});
      co_await refuse(400,
                      bad_target ? "the request target must be an absolute path"
                                 : "an HTTP/1.1 request needs a Host header",
                      rid, version, false, head, unmatched_, unmatched_slot(method), t0);
      co_await close(true);
      co_return;
    }

    auto const qpos = target.find('?');
    std::string_view const path = target.substr(0, qpos);
    std::string_view const query =
        qpos == std::string_view::npos ? std::string_view{} : target.substr(qpos + 1);
    auto m = router_.match(method, path);

    if (m.outcome != match_result::kind::matched) {
      bool const not_found = m.outcome == match_result::kind::not_found;
      if (log_.enabled(bbgw::log_level::debug))
        log_.debug("request", {{"request_id", rid},
                               {"listener", l.cfg.name},
                               {"route", "unmatched"},
                               {"method", std::string(method)},
                               {"status", not_found ? "404" : "405"}});
      // An unread body would be taken for the next request: close instead of reading it.
      bool const k = keep && !body_pending && !stopping_;
      bool ok = co_await refuse(
          not_found ? 404 : 405,
          not_found ? "no route matches the request path" : "the route does not accept this method",
          rid, version, k, head, unmatched_, unmatched_slot(method), t0, m.allow);
      if (ok) continue;
      co_await close(body_pending);
      co_return;
    }

    bbgw::route const& rt = *m.matched;
    route_metrics& rm = metrics_for(&rt);
    std::size_t const slot = static_cast<std::size_t>(
        std::find(rt.methods.begin(), rt.methods.end(), method) - rt.methods.begin());

    // Routes that stream: the handler reads the body while it arrives, if a slot is free.
    stream_slot stream_held;
    bool streaming = false;
    if (rt.stream_body && body_pending && !rt.handle_async && rt.exec == bbgw::execution::worker) {
      streaming = stream_held.acquire(streams_, max_streams_);
      if (!streaming) stream_fallbacks_->inc();
    }
    // Routes that spool: the body goes to a private file as it arrives.
    spool_guard spool;
    if (rt.spool_body && !streaming) {
      if (auto ec = open_spool_file(cfg_.spool_dir, ++spool_seq_, hreq.body().file, spool.path)) {
        log_.error("cannot create a spool file",
                   {{"request_id", rid}, {"route", rt.pattern}, {"error", ec.message()}});
        co_await refuse(503, "the request body cannot be stored now", rid, version, false, head, rm,
                        slot, t0);
        co_await close(body_pending);
        co_return;
      }
    }

    auto note_body_too_large = [&] {
      bad_body_->inc();
      log_.info("bad request", {{"request_id", rid},
                                {"listener", l.cfg.name},
                                {"remote", remote},
                                {"route", rt.pattern},
                                {"reason", "body_too_large"}});
    };
    if (body_pending) {
      std::size_t const limit = rt.body_limit ? rt.body_limit : lim.body_limit;
      auto too_large = [&]() -> asio::awaitable<void> {
        note_body_too_large();
        co_await refuse(413, "the request body is larger than this route accepts", rid, version,
                        false, head, rm, slot, t0);
        co_await close(true);
      };
      if (auto cl = parser->content_length(); cl && *cl > limit) {
        co_await too_large();
        co_return;
      }
      parser->body_limit(limit);
      if (version >= 11) {
        if (auto it = hreq.find(bhttp::field::expect);
            it != hreq.end() && bbgw::iequals(it->value(), "100-continue")) {
          static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
          auto [ec, n] = co_await asio::async_write(stream, asio::buffer(cont), nothrow);
          if (ec) break;
        }
      }
      // A streamed body is read below, while its handler runs. (Plain if: g++ 12 mishandles a
      // co_await inside a conditional operator.)
      error_code ec;
      if (!streaming) {
        auto [rec, n] = co_await bhttp::async_read(stream, buffer, *parser, nothrow);
        ec = rec;
      }
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          co_await too_large();
          co_return;
        }
        if (dl.expired()) {
          timeout_read_->inc();
          log_.info("request read timed out",
                    {{"request_id", rid}, {"listener", l.cfg.name}, {"remote", remote}});
          break;
        }
        if (rt.spool_body && hreq.body().write_failed) {
          // Writing the spool file failed (disk full, quota): the client may retry later.
          log_.error("cannot write a spool file",
                     {{"request_id", rid}, {"route", rt.pattern}, {"error", ec.message()}});
          co_await refuse(503, "the request body cannot be stored now", rid, version, false, head,
                          rm, slot, t0);
          co_await close(true);
          co_return;
        }
        if (!is_parse_error(ec)) break;
        bad_malformed_->inc();
        log_.info("bad request", {{"request_id", rid},
                                  {"listener", l.cfg.name},
                                  {"remote", remote},
                                  {"reason", "malformed"}});
        co_await refuse(400, "the request body is not valid HTTP/1.1 framing", rid, version, false,
                        head, rm, slot, t0);
        co_await close(true);
        co_return;
      }
    }

    // The request view: strings reuse their capacity across requests on this connection.
    req.method.assign(method);
    req.target.assign(target);
    req.path.assign(path);
    req.query.assign(query);
    req.headers = bbgw::header_list{};
    for (auto const& f : hreq)
      req.headers.add(std::string(f.name_string()), std::string(f.value()));
    req.body_stream = nullptr;
    if (streaming) {
      req.body.clear();
      req.body_file.reset();
    } else if (rt.spool_body) {
      error_code cec;
      hreq.body().file.close(cec);
      if (cec) {
        log_.error("cannot complete a spool file",
                   {{"request_id", rid}, {"route", rt.pattern}, {"error", cec.message()}});
        co_await refuse(503, "the request body cannot be stored now", rid, version, false, head, rm,
                        slot, t0);
        co_await close(false);
        co_return;
      }
      req.body.clear();
      req.body_file = spool.path;
    } else {
      req.body = std::move(hreq.body().text);
      req.body_file.reset();
    }
    req.params = std::move(m.params);
    req.request_id = rid;
    req.remote_address = remote;
    req.listener = l.cfg.name;
    req.tls = is_tls_stream<Stream>;
    if (peer) {
      req.client_subject = peer->subject;
      req.client_certificate_der = peer->der;
    }

    // The handler's time is not the client's: no deadline until the response is written.
    dl.clear();
    // Plain if/else: g++ 12 mishandles temporaries of a co_await inside a conditional operator.
    handler_outcome out;
    bool body_unread = false;  // a streamed body the handler did not read to its end
    if (streaming) {
      // The handler runs on a worker while this loop feeds it the body, pausing whenever the
      // pipe is full. The client's time for the whole request is what is left of the read
      // timeout; time spent waiting for the handler does not count against it.
      streamed_bodies_->inc();
      auto st = std::make_shared<body_stream_state>(co_await asio::this_coro::executor);
      st->pipe.set_wake(st->waker());
      hreq.body().pipe = &st->pipe;
      req.body_stream = &st->pipe;
      auto work = asio::prefer(st->ex, asio::execution::outstanding_work.tracked);
      asio::post(workers_, [st, work, &rt, &req]() mutable {
        auto o = invoke_handler(rt, req);
        st->pipe.close_reader();
        asio::post(work, [st, o = std::move(o)]() mutable { st->answer(std::move(o)); });
      });
      st->cancel_read = [&sock] {
        error_code ignored;
        sock.cancel(ignored);
      };
      bool body_done = false, client_failed = false;
      auto client_left = read_deadline - dl.now();
      while (!st->outcome) {
        if (!body_done && !client_failed && st->pipe.wants_more()) {
          auto const t = dl.now();
          dl.expires_at(t + client_left);
          st->reading = true;
          auto [ec, n] = co_await bhttp::async_read_some(stream, buffer, *parser, nothrow);
          st->reading = false;
          client_left -= dl.now() - t;
          bool const timed_out = dl.expired();  // the socket was closed for it
          dl.clear();
          if (!ec && !timed_out) {
            if (parser->is_done()) {
              body_done = true;
              st->pipe.finish();
            }
            continue;
          }
          client_failed = true;
          if (st->outcome) {
            // Cancelled for the handler's answer: nobody reads the pipe any more.
          } else if (ec == bhttp::error::body_limit) {
            note_body_too_large();
            st->pipe.fail(make_error_code(boost::system::errc::message_size));
          } else {
            if (timed_out) {
              timeout_read_->inc();
              log_.info("request read timed out",
                        {{"request_id", rid}, {"listener", l.cfg.name}, {"remote", remote}});
            } else if (is_parse_error(ec)) {
              bad_malformed_->inc();
            }
            st->pipe.fail(make_error_code(boost::system::errc::connection_aborted));
          }
          continue;
        }
        if (!st->signalled) {
          st->timer.expires_at(steady::time_point::max());
          co_await st->timer.async_wait(nothrow);  // ends when signalled (cancelled)
        }
        st->signalled = false;
      }
      out = std::move(*st->outcome);
      stream_held.release();  // the worker is free: another body may stream
      st->cancel_read = nullptr;
      hreq.body().pipe = nullptr;
      req.body_stream = nullptr;
      body_unread = !body_done;
      // What is left of the body would be read as the next request: answer, then close.
      if (body_unread) keep = false;
    } else if (rt.handle_async)
      out = co_await async_run_async_handler(rt, req, asio::use_awaitable);
    else if (rt.exec == bbgw::execution::io)
      out = invoke_handler(rt, req);
    else
      out = co_await async_run_on_worker(workers_, rt, req, asio::use_awaitable);
    unsigned status = out.resp.status;
    if (out.threw) {
      log_.error("handler failed", {{"request_id", rid},
                                    {"listener", l.cfg.name},
                                    {"route", rt.pattern},
                                    {"method", std::string(method)},
                                    {"error", out.what}});
    } else if (status < 200 || status > max_status) {
      log_.error("handler returned an invalid status",
                 {{"request_id", rid}, {"route", rt.pattern}, {"status", std::to_string(status)}});
      out.threw = true;
    }
    keep = keep && !stopping_;
    if (out.threw) {
      bool ok = co_await refuse(500, "the request could not be processed", rid, version, keep, head,
                                rm, slot, t0);
      if (ok) continue;
      co_await close(body_unread);
      co_return;
    }

    bool const ok = co_await write(out.resp, rid, version, keep, head, rt.pattern);
    count(rm, slot, status, t0);
    if (log_.enabled(bbgw::log_level::debug))
      log_.debug("request", {{"request_id", rid},
                             {"listener", l.cfg.name},
                             {"route", rt.pattern},
                             {"method", std::string(method)},
                             {"status", std::to_string(status)}});
    if (!ok) break;
    if (!keep) {
      co_await close(body_unread);
      co_return;
    }
  }
  error_code ignored;
  sock.close(ignored);
}

void server::impl::run() {
  signals_ = std::make_unique<asio::signal_set>(control_, SIGINT, SIGTERM);
  signals_->async_wait([this](error_code ec, int sig) {
    if (ec) return;
    log_.info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    begin_shutdown();
  });
  grace_timer_ = std::make_unique<asio::steady_timer>(control_);
  // The other I/O threads keep running while they have no connection; once ioc_ has run out
  // of work (shutdown done or grace expired and connections told to close), their guards go
  // and each finishes what its connections still do.
  using guard = asio::executor_work_guard<asio::io_context::executor_type>;
  std::vector<guard> guards;
  std::vector<std::thread> threads;
  threads.reserve(io_extra_.size());
  for (auto& c : io_extra_) {
    guards.push_back(asio::make_work_guard(*c));
    threads.emplace_back([&ctx = *c] { ctx.run(); });
  }
  ioc_.run();
  for (auto& g : guards) g.reset();
  for (auto& t : threads) t.join();
  workers_.join();
  log_.info("server stopped");
}

void server::impl::begin_shutdown() {
  if (shutdown_started_) return;
  shutdown_started_ = true;
  stopping_ = true;
  if (signals_) {
    error_code ec;
    signals_->cancel(ec);
  }
  for (auto& l : listeners_) {
    error_code ec;
    if (l->acceptor) l->acceptor->close(ec);
  }
  std::vector<std::shared_ptr<conn_handle>> snapshot;
  {
    std::lock_guard lock(conns_mutex_);
    snapshot.assign(conns_.begin(), conns_.end());
  }
  // Idle connections close now; busy ones close after their current response.
  for (auto& h : snapshot)
    asio::post(h->ex, [h] {
      if (h->idle && h->close) h->close();
    });
  if (open_ == 0 || !grace_timer_) return;
  log_.info("waiting for in-flight requests",
            {{"connections", std::to_string(open_.load())},
             {"grace_ms", std::to_string(cfg_.lim.shutdown_grace.count())}});
  grace_timer_->expires_after(cfg_.lim.shutdown_grace);
  grace_timer_->async_wait([this](error_code ec) {
    if (!ec) close_all();
  });
}

void server::impl::close_all() {
  std::vector<std::shared_ptr<conn_handle>> snapshot;
  {
    std::lock_guard lock(conns_mutex_);
    snapshot.assign(conns_.begin(), conns_.end());
  }
  if (!snapshot.empty())
    log_.warn("shutdown grace expired; closing connections",
              {{"connections", std::to_string(snapshot.size())}});
  for (auto& h : snapshot)
    asio::post(h->ex, [h] {
      if (h->close) h->close();
    });
}

// ---------------------------------------------------------------------------------------------

server::server(server_settings s, router r, bbgw::metrics& m, bbgw::logger& log)
    : impl_(std::make_unique<impl>(std::move(s), std::move(r), m, log)) {}

server::~server() = default;

std::vector<bound_listener> server::start() {
  return impl_->start();
}

void server::run() {
  impl_->run();
}

void server::stop() {
  auto* i = impl_.get();
  asio::dispatch(i->control_, [i] { i->begin_shutdown(); });
}

}  // namespace bbgw::http

#pragma once
// What a connector is to the gateway: a name, its routes, and a way to stop it.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/request.hpp"
#include "bbgw/response.hpp"

namespace bbgw {

// Where a handler runs. `io` handlers must not block (no store, no file, no upstream call);
// `worker` handlers run on the worker pool and may block on the store or upstream calls.
enum class execution { io, worker };

using handler = std::function<response(request const&)>;

// Completes a request, from any thread. Call it exactly once; a responder dropped uncalled
// answers 500.
using responder = std::function<void(response)>;
// A handler that finishes later without holding a thread, e.g. once a store::transact_async
// commit is durable. It is called on an I/O thread and must not block; `request` stays valid
// until `respond` is called.
using async_handler = std::function<void(request const&, responder respond)>;

struct route {
  std::vector<std::string> methods;  // e.g. {"GET", "HEAD"}; HEAD is not implied
  std::string pattern;               // "/api/v1/things/{id}"; "{name}" binds one segment
  handler handle;
  std::size_t body_limit = 0;  // bytes; 0 = the server's default
  execution exec = execution::worker;
  // The body goes to a file in the server's spool directory as it arrives (request::body_file)
  // instead of memory: for large uploads. The file is removed after the handler returns unless
  // the handler moved it elsewhere (rename it to keep it).
  bool spool_body = false;
  // With spool_body (required), for worker handlers that consume the body in one pass: the handler
  // starts as soon as the header is in and reads the body as it arrives (request::body_stream), so
  // it is never written to a spool file. A stream holds a worker thread for as long as the client
  // takes to send, so the server streams at most server.max_streamed_bodies bodies at once;
  // beyond that (and for requests without a body) the body is spooled: such a handler accepts
  // both body_stream and body_file.
  bool stream_body = false;
  async_handler handle_async;  // when set, used instead of `handle` (and `exec` is ignored)
};

class connector {
 public:
  virtual ~connector() = default;
  virtual std::string_view name() const = 0;
  virtual std::vector<route> routes() = 0;
  // Called once all connectors are built and before the server accepts.
  virtual void start() {}
  // Called on shutdown after the server stopped accepting and in-flight requests ended.
  virtual void stop() = 0;
};

}  // namespace bbgw

#pragma once
// Fakes of the connector's ports shared by the eDelivery tests: an event sink that drops
// everything (the store's outbox is what tests read), and the network between two access
// points, which hands A's HTTP requests to B's connector.
#include <fstream>
#include <functional>
#include <iterator>
#include <span>
#include <string>

#include <boost/system/errc.hpp>

#include "bbgw/event_sink.hpp"
#include "bbgw/http_client.hpp"
#include "bbgw/request.hpp"
#include "bbgw/response.hpp"

namespace bbgw::edelivery::test {

class null_sink final : public event_sink {
 public:
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

// The first `down` calls fail (connection refused, or 503 with `down_as_503`), then every call
// reaches `b` (B's AS4 route); a body sent from a file is read back as B would receive it.
class network final : public http_client {
 public:
  std::function<response(request const&)> b;
  int down = 0;
  bool down_as_503 = false;
  int calls = 0;
  int from_file = 0;
  int from_stream = 0;
  std::size_t cut_stream_after = 0;  // once: a streamed body breaks after this many bytes
  bool refuse_chunked = false;       // streamed bodies are answered 411 Length Required
  std::size_t stop_after = 0;        // once: at_stop() runs when this much of a stream has come
  std::function<void()> at_stop;
  std::string last_body;
  std::size_t last_body_size = 0;
  unsigned last_status = 0;
  std::string last_response;
  std::string last_url;

  result<client_response> send(client_request const& req) override {
    ++calls;
    last_url = req.url;
    if (down > 0) {
      --down;
      if (!down_as_503)
        return boost::system::errc::make_error_code(boost::system::errc::connection_refused);
      client_response r;
      r.status = 503;
      r.body = "unavailable";
      return r;
    }
    if (req.body_stream && refuse_chunked) {  // a partner that wants a Content-Length
      client_response r;
      r.status = 411;
      return r;
    }
    request q;
    q.method = req.method;
    q.path = "/edelivery/as4";
    q.headers = req.headers;
    q.body = req.body;
    if (!req.body_file.empty()) {  // the sender streams the built message from its file
      ++from_file;
      std::ifstream in(req.body_file, std::ios::binary);
      q.body.assign(std::istreambuf_iterator<char>(in), {});
    }
    if (req.body_stream) {  // sent while it is built: pulled to its end, as a client would
      ++from_stream;
      std::vector<char> chunk(64 * 1024);
      for (;;) {
        auto n = req.body_stream->read(chunk);
        if (!n) return n.error();  // the request is abandoned
        if (*n == 0) break;
        q.body.append(chunk.data(), *n);
        if (stop_after && q.body.size() >= stop_after) {
          stop_after = 0;
          at_stop();
        }
        if (cut_stream_after && q.body.size() >= cut_stream_after) {  // the connection breaks
          cut_stream_after = 0;
          return boost::system::errc::make_error_code(boost::system::errc::connection_reset);
        }
      }
    }
    last_body = q.body;
    last_body_size = q.body.size();
    auto res = b(q);
    last_status = res.status;
    last_response = res.body;
    return client_response{res.status, res.headers, res.body};
  }
};

}  // namespace bbgw::edelivery::test

#include "http/beast_client.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>

#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include "http/unique_fd.hpp"

namespace bbgw::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

namespace {

class client_category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.http_client"; }
  std::string message(int ev) const override {
    switch (static_cast<client_errc>(ev)) {
      case client_errc::bad_url:
        return "malformed URL";
      case client_errc::unsupported_scheme:
        return "only http and https URLs are supported";
      case client_errc::resolve_failed:
        return "host name could not be resolved";
      case client_errc::connect_failed:
        return "connection failed";
      case client_errc::tls_failed:
        return "TLS handshake or certificate verification failed";
      case client_errc::timeout:
        return "request timed out";
      case client_errc::protocol_error:
        return "malformed HTTP response";
      case client_errc::body_too_large:
        return "response body too large";
      case client_errc::body_file_unreadable:
        return "the request body file cannot be read";
    }
    return "http client error";
  }
};

// A request body sent from a file after the header, in 1 MiB blocks: Beast's file_body reads
// and writes 4 KiB at a time, a quarter of a million of each per GiB (an AS4 message).
struct file_source {
  int fd = -1;
  std::uint64_t size = 0;
};

// One asynchronous operation run on `ioc` to its end. Beast enforces a stream's expiry on
// asynchronous operations only (blocking calls ignore it), so every step is one of these, with
// the expiry set just before it.
template <class Initiate>
beast::error_code run_step(asio::io_context& ioc, Initiate&& initiate) {
  beast::error_code result;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// Each step of a request gets `timeout` (a body is written block by block, each within it).
struct step_clock {
  asio::io_context& ioc;
  beast::tcp_stream& tcp;
  std::chrono::milliseconds timeout;

  template <class Initiate>
  beast::error_code operator()(Initiate&& initiate) {
    tcp.expires_after(timeout);
    return run_step(ioc, std::forward<Initiate>(initiate));
  }
};

client_errc transport_error(beast::error_code ec) {
  return ec == beast::error::timeout ? client_errc::timeout : client_errc::connect_failed;
}

// A request body pulled from a body_reader as it is written, in chunks of up to 1 MiB. The
// time the reader takes (a message still being built) is not a step: only the writes are.
template <class Stream>
std::optional<bbgw::error_code> write_chunked_body(Stream& stream, step_clock& step,
                                                   bbgw::body_reader& body) {
  constexpr std::size_t block_size = 1 << 20;
  auto block = std::make_unique<char[]>(block_size);
  for (;;) {
    auto n = body.read(std::span<char>(block.get(), block_size));
    if (!n) return n.error();
    char size_line[24];
    int const len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", *n);
    std::array<asio::const_buffer, 3> chunk{
        asio::buffer(size_line, static_cast<std::size_t>(len)), asio::buffer(block.get(), *n),
        asio::buffer("\r\n", 2)};  // the last chunk is "0\r\n\r\n"
    auto ec = step([&](auto handler) { asio::async_write(stream, chunk, std::move(handler)); });
    if (ec) return make_error_code(transport_error(ec));
    if (*n == 0) return std::nullopt;
  }
}

template <class Stream>
std::optional<client_errc> write_file_body(Stream& stream, step_clock& step, file_source const& f) {
  constexpr std::uint64_t block_size = 1 << 20;
  auto block = std::make_unique<char[]>(std::min(f.size, block_size));
  for (std::uint64_t left = f.size; left > 0;) {
    auto const want = static_cast<std::size_t>(std::min(left, block_size));
    ssize_t const got = ::read(f.fd, block.get(), want);
    // The file shrank or failed: the announced length cannot be kept.
    if (got <= 0) return client_errc::body_file_unreadable;
    auto ec = step([&](auto handler) {
      asio::async_write(stream, asio::buffer(block.get(), static_cast<std::size_t>(got)),
                        std::move(handler));
    });
    if (ec) return transport_error(ec);
    left -= static_cast<std::uint64_t>(got);
  }
  return std::nullopt;
}

template <class Stream, class Request>
bbgw::result<bbgw::client_response> exchange(Stream& stream, step_clock& step, Request& req,
                                             bbgw::client_request const& in,
                                             file_source const* file) {
  beast::error_code ec;
  if (in.body_stream) {  // the header alone (its serializer would end the chunked body too)
    bhttp::request_serializer<typename Request::body_type> sr(req);
    ec = step([&](auto handler) { bhttp::async_write_header(stream, sr, std::move(handler)); });
  } else {
    ec = step([&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
  }
  if (ec) return transport_error(ec);
  if (file)
    if (auto fe = write_file_body(stream, step, *file)) return *fe;
  if (in.body_stream)
    if (auto se = write_chunked_body(stream, step, *in.body_stream)) return *se;
  beast::flat_buffer buf;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  // Interim (1xx) responses — 100 Continue, 103 Early Hints — come before the final one and are
  // skipped (RFC 9110, 15.2), a bounded number of them; 101 is final (nothing asks to upgrade).
  constexpr int max_interim = 16;
  for (int interim = 0;; ++interim) {
    if (interim > max_interim) return client_errc::protocol_error;
    parser.emplace();
    parser->body_limit(in.max_response_body);
    parser->header_limit(64 * 1024);
    ec = step(
        [&](auto handler) { bhttp::async_read_header(stream, buf, *parser, std::move(handler)); });
    if (ec) break;
    unsigned const status = parser->get().result_int();
    if (status < 100 || status >= 200 || status == 101) break;
  }
  if (!ec)
    ec = step([&](auto handler) { bhttp::async_read(stream, buf, *parser, std::move(handler)); });
  if (ec == bhttp::error::body_limit) return client_errc::body_too_large;
  if (ec == beast::error::timeout) return client_errc::timeout;
  if (ec) return client_errc::protocol_error;
  auto& res = parser->get();
  bbgw::client_response out;
  out.status = res.result_int();
  for (auto const& f : res) out.headers.add(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(res.body());
  return out;
}

}  // namespace

boost::system::error_category const& client_category() noexcept {
  static client_category_impl const cat;
  return cat;
}

namespace {

struct target_parts {
  bool tls = false;
  std::string host, port, target, host_header;
};

// Connects (TLS when asked), writes `req` and reads the response, each step within
// `in.timeout`.
template <class Request>
bbgw::result<bbgw::client_response> transfer(bbgw::client_request const& in, target_parts const& t,
                                             Request& req, file_source const* file = nullptr) {
  asio::io_context ioc;
  asio::ip::tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(t.host, t.port, ec);
  if (ec) return client_errc::resolve_failed;

  if (!t.tls) {
    beast::tcp_stream stream(ioc);
    step_clock step{ioc, stream, in.timeout};
    ec = step([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) return transport_error(ec);
    auto r = exchange(stream, step, req, in, file);
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return r;
  }

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  if (in.tls && !in.tls->ca_file.empty()) {
    ctx.load_verify_file(in.tls->ca_file, ec);
    if (ec) return client_errc::tls_failed;
  } else {
    ctx.set_default_verify_paths(ec);
  }
  if (in.tls && !in.tls->certificate_file.empty()) {
    ctx.use_certificate_chain_file(in.tls->certificate_file, ec);
    if (!ec) ctx.use_private_key_file(in.tls->private_key_file, asio::ssl::context::pem, ec);
    if (ec) return client_errc::tls_failed;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  if (!SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str()))
    return client_errc::tls_failed;
  stream.set_verify_callback(asio::ssl::host_name_verification(t.host));
  step_clock step{ioc, beast::get_lowest_layer(stream), in.timeout};
  ec = step([&](auto handler) {
    beast::get_lowest_layer(stream).async_connect(endpoints, std::move(handler));
  });
  if (ec) return transport_error(ec);
  ec = step([&](auto handler) {
    stream.async_handshake(asio::ssl::stream_base::client, std::move(handler));
  });
  if (ec) return ec == beast::error::timeout ? client_errc::timeout : client_errc::tls_failed;
  auto r = exchange(stream, step, req, in, file);
  // A peer closing without close_notify is common; ignore. After a failure (e.g. a streamed
  // body that failed, cut off on purpose), no orderly shutdown: the connection is just closed.
  if (r) step([&](auto handler) { stream.async_shutdown(std::move(handler)); });
  return r;
}

template <class Body>
void set_head(bhttp::request<Body>& req, bbgw::client_request const& in, target_parts const& t) {
  req.method_string(in.method);
  req.target(t.target);
  req.version(11);
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "bbgw");
  for (auto const& [k, v] : in.headers) req.insert(k, v);
  req.keep_alive(false);
}

}  // namespace

bbgw::result<bbgw::client_response> beast_client::send(bbgw::client_request const& in) {
  auto url = boost::urls::parse_absolute_uri(in.url);
  if (!url) return client_errc::bad_url;
  std::string scheme(url->scheme());
  target_parts t;
  t.tls = scheme == "https";
  if (!t.tls && scheme != "http") return client_errc::unsupported_scheme;
  t.host = std::string(url->host_name().empty() ? url->encoded_host().decode() : url->host_name());
  if (url->host_type() == boost::urls::host_type::ipv6)
    t.host = std::string(url->host_ipv6_address().to_string());
  t.port = url->has_port() ? std::string(url->port()) : (t.tls ? "443" : "80");
  t.target = std::string(url->encoded_target());
  if (t.target.empty()) t.target = "/";
  t.host_header = std::string(url->encoded_host_and_port());

  if (in.body_stream) {  // chunked, as it is pulled (write_chunked_body)
    bhttp::request<bhttp::empty_body> req;
    set_head(req, in, t);
    req.chunked(true);
    return transfer(in, t, req);
  }
  if (!in.body_file.empty()) {
    // The header announces the file's length; the bytes follow it (write_file_body).
    unique_fd fd(::open(in.body_file.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat sb {};
    if (!fd || ::fstat(fd.get(), &sb) != 0 || !S_ISREG(sb.st_mode))
      return client_errc::body_file_unreadable;
    bhttp::request<bhttp::empty_body> req;
    set_head(req, in, t);
    req.content_length(static_cast<std::uint64_t>(sb.st_size));
    file_source const file{fd.get(), static_cast<std::uint64_t>(sb.st_size)};
    return transfer(in, t, req, &file);
  }
  bhttp::request<bhttp::string_body> req;
  set_head(req, in, t);
  req.body() = in.body;
  if (!in.body.empty() || in.method == "POST" || in.method == "PUT" || in.method == "PATCH")
    req.prepare_payload();
  return transfer(in, t, req);
}

}  // namespace bbgw::http

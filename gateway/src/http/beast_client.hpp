#pragma once
// bbgw::http_client on Boost.Beast: one connection per request, TLS with host-name checks,
// bounded by the request's timeout and response size.
#include "bbgw/http_client.hpp"
#include "bbgw/logger.hpp"

namespace bbgw::http {

enum class client_errc {
  bad_url = 1,
  unsupported_scheme,
  resolve_failed,
  connect_failed,
  tls_failed,
  timeout,
  protocol_error,
  body_too_large,
  body_file_unreadable,
};

boost::system::error_category const& client_category() noexcept;
inline bbgw::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

class beast_client final : public bbgw::http_client {
 public:
  bbgw::result<bbgw::client_response> send(bbgw::client_request const& req) override;
};

}  // namespace bbgw::http

template <>
struct boost::system::is_error_code_enum<bbgw::http::client_errc> : std::true_type {};

#include "eid/eid_errc.hpp"

#include <string>

namespace bbgw::eid {

namespace {

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.eid"; }
  std::string message(int ev) const override {
    return "eid: " + std::string(error_name(static_cast<errc>(ev)));
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

std::string_view error_name(errc e) noexcept {
  switch (e) {
    case errc::invalid_request:
      return "invalid_request";
    case errc::unauthorized_client:
      return "unauthorized_client";
    case errc::invalid_client:
      return "invalid_client";
    case errc::invalid_redirect_uri:
      return "invalid_redirect_uri";
    case errc::invalid_grant:
      return "invalid_grant";
    case errc::unsupported_response_type:
      return "unsupported_response_type";
    case errc::unsupported_grant_type:
      return "unsupported_grant_type";
    case errc::invalid_scope:
      return "invalid_scope";
    case errc::invalid_token:
      return "invalid_token";
    case errc::node_unavailable:
      return "temporarily_unavailable";
    case errc::saml_rejected:
      return "saml_rejected";
    case errc::login_failed:
      return "access_denied";
    case errc::store_failure:
      return "server_error";
    case errc::crypto_failure:
      return "server_error";
  }
  return "server_error";
}

unsigned http_status(errc e) noexcept {
  switch (e) {
    case errc::invalid_client:
    case errc::invalid_token:
      return 401;
    case errc::login_failed:
      return 403;
    case errc::node_unavailable:
    case errc::store_failure:
      return 503;
    case errc::crypto_failure:
      return 500;
    default:
      return 400;
  }
}

}  // namespace bbgw::eid

#include "context/context_errc.hpp"

#include <string>

namespace bbgw::context {

namespace {

class category_impl final : public boost::system::error_category {
 public:
  char const* name() const noexcept override { return "bbgw.context"; }
  std::string message(int ev) const override {
    return "context: " + std::string(metric_reason(static_cast<errc>(ev)));
  }
};

}  // namespace

boost::system::error_category const& category() noexcept {
  static category_impl const instance;  // error categories are singletons by design
  return instance;
}

unsigned http_status(errc e) noexcept {
  switch (e) {
    case errc::unknown_subscription:
      return 404;
    case errc::unauthorized:
      return 401;
    case errc::unsupported_media_type:
      return 415;
    case errc::body_too_large:
    case errc::too_many_entities:
      return 413;
    case errc::malformed_json:
    case errc::invalid_notification:
    case errc::invalid_entity:
      return 400;
    case errc::store_failure:
      return 503;
  }
  return 500;
}

std::string_view ngsi_error(errc e) noexcept {
  switch (e) {
    case errc::unknown_subscription:
      return "NotFound";
    case errc::unauthorized:
      return "Unauthorized";
    case errc::unsupported_media_type:
      return "UnsupportedMediaType";
    case errc::body_too_large:
    case errc::too_many_entities:
      return "RequestEntityTooLarge";
    case errc::malformed_json:
      return "ParseError";
    case errc::invalid_notification:
    case errc::invalid_entity:
      return "BadRequest";
    case errc::store_failure:
      return "ServiceUnavailable";
  }
  return "InternalError";
}

std::string_view metric_reason(errc e) noexcept {
  switch (e) {
    case errc::unknown_subscription:
      return "unknown_subscription";
    case errc::unauthorized:
      return "unauthorized";
    case errc::unsupported_media_type:
      return "unsupported_media_type";
    case errc::body_too_large:
      return "body_too_large";
    case errc::too_many_entities:
      return "too_many_entities";
    case errc::malformed_json:
      return "malformed_json";
    case errc::invalid_notification:
      return "invalid_notification";
    case errc::invalid_entity:
      return "invalid_entity";
    case errc::store_failure:
      return "store_failure";
  }
  return "unknown";
}

}  // namespace bbgw::context

#pragma once
// The SAML service provider side: sends AuthnRequests to the eIDAS node (POST or Redirect
// binding), serves the SP metadata, and runs the ACS rules over the node's Responses.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "bbgw/connector_context.hpp"
#include "bbgw/request.hpp"
#include "bbgw/response.hpp"
#include "eid/config.hpp"
#include "eid/login.hpp"

namespace bbgw::eid {

class saml_sp {
 public:
  using complete_fn =
      std::function<response(std::string_view request_id, identity const&, std::string const&)>;
  using fail_fn = std::function<response(std::string_view request_id, std::string_view reason,
                                         std::string_view detail, std::string const&)>;

  saml_sp(eid_config const& cfg, connector_context& ctx);
  ~saml_sp();
  void on_result(complete_fn ok, fail_fn failed);

  // The browser's way to the node for a stored pending login.
  response start_login(pending_login const& pl);
  response metadata(request const& r);
  response acs(request const& r);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace bbgw::eid

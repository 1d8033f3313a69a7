#pragma once
// The eID connector: an eIDAS-style SAML service provider toward the national eIDAS node, with
// an OpenID Connect front for the platform (see README.md for the routes and the rules).
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/connector.hpp"
#include "bbgw/connector_context.hpp"
#include "eid/config.hpp"
#include "eid/oidc_front.hpp"
#include "eid/saml_sp.hpp"

namespace bbgw::eid {

class eid_connector final : public bbgw::connector {
 public:
  // Loads the keys and the node metadata (throws at start-up when they are unusable).
  eid_connector(eid_config cfg, connector_context& ctx);
  ~eid_connector() override;

  std::string_view name() const override { return "eid"; }
  std::vector<route> routes() override;
  void stop() override {}

  oidc_front& front() { return *front_; }
  saml_sp& sp() { return *sp_; }
  eid_config const& config() const { return cfg_; }

 private:
  eid_config cfg_;
  connector_context& ctx_;
  std::unique_ptr<saml_sp> sp_;
  std::unique_ptr<oidc_front> front_;
};

using builder = std::function<std::unique_ptr<bbgw::connector>(connector_context&)>;

// The connector table's `configure`: reads connectors.eid (throws config_error naming the key);
// nothing when disabled.
std::optional<builder> configure(config_reader& r);

}  // namespace bbgw::eid

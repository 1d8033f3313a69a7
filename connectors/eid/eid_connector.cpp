#include "eid/eid_connector.hpp"

namespace bbgw::eid {

eid_connector::eid_connector(eid_config cfg, connector_context& ctx)
    : cfg_(std::move(cfg)), ctx_(ctx) {
  apply_base_url(cfg_, ctx_.public_base_url);
  sp_ = std::make_unique<saml_sp>(cfg_, ctx_);
  front_ = std::make_unique<oidc_front>(
      cfg_, ctx_, es256_signer::from_pem_file(cfg_.oidc.signing_key),
      [this](pending_login const& pl) { return sp_->start_login(pl); });
  sp_->on_result(
      [this](std::string_view request_id, identity const& who, std::string const& rid) {
        return front_->complete(request_id, who, rid);
      },
      [this](std::string_view request_id, std::string_view reason, std::string_view detail,
             std::string const& rid) { return front_->fail(request_id, reason, detail, rid); });
}

eid_connector::~eid_connector() = default;

std::vector<route> eid_connector::routes() {
  std::vector<route> r;
  // Discovery and JWKS are computed in memory: they may run on the I/O threads.
  r.push_back({{"GET", "HEAD"}, "/.well-known/openid-configuration", [this](request const& q) {
                 return front_->discovery(q);
               }});
  r.back().exec = execution::io;
  r.push_back(
      {{"GET", "HEAD"}, "/oidc/jwks", [this](request const& q) { return front_->jwks(q); }});
  r.back().exec = execution::io;
  r.push_back({{"GET", "POST"}, "/oidc/authorize", [this](request const& q) {
                 return front_->authorize(q);
               }});
  r.back().body_limit = 16 * 1024;
  r.push_back({{"POST"}, "/oidc/token", [this](request const& q) { return front_->token(q); }});
  r.back().body_limit = 16 * 1024;
  r.push_back({{"GET", "POST"}, "/oidc/userinfo", [this](request const& q) {
                 return front_->userinfo(q);
               }});
  r.back().body_limit = 4 * 1024;
  r.push_back(
      {{"GET", "HEAD"}, "/eid/metadata", [this](request const& q) { return sp_->metadata(q); }});
  r.push_back({{"POST"}, "/eid/acs", [this](request const& q) { return sp_->acs(q); }});
  r.back().body_limit = 1024 * 1024;
  return r;
}

std::optional<builder> configure(config_reader& r) {
  auto cfg = read_config(r);
  if (!cfg) return std::nullopt;
  return builder(
      [cfg = std::move(*cfg)](connector_context& ctx) -> std::unique_ptr<bbgw::connector> {
        return std::make_unique<eid_connector>(cfg, ctx);
      });
}

}  // namespace bbgw::eid

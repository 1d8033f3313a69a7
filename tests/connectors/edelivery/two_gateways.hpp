#pragma once
// Two access points in one process for the eDelivery tests: A (AccessPointA) submits and sends
// to B (AccessPointB) through test::network. Each side has its own clock, store and fakes; the
// configs pair A's sending PMode "to-b" (encrypting for B) with B's mirror "from-a".
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/config.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"

namespace bbgw::edelivery::test {

struct side {
  testing::manual_clock time{at("2026-11-24T12:00:00Z")};
  testing::memory_store db{time};
  null_sink sink;
  testing::fake_metrics metrics;
  testing::fake_logger log;
};

struct two_gateway_configs {
  edelivery_config a, b;
};

// Payload directories `dir`/a and `dir`/b; up to 3 attempts 1 ms apart; tests adjust the rest.
inline two_gateway_configs a_to_b_configs(xmlsec::key const& a, xmlsec::key const& b,
                                          std::filesystem::path const& dir) {
  pmode to_b;
  to_b.id = "to-b";
  to_b.endpoint = "https://gw-b.test/edelivery/as4";
  to_b.service = "Permits";
  to_b.service_type = "urn:services";
  to_b.action = "Submit";
  to_b.initiator = {"gw-a", "urn:t", "Sender"};
  to_b.responder = {"gw-b", "urn:t", "Receiver"};
  to_b.encrypt = true;
  to_b.partner_certificates = {b.public_only()};
  to_b.max_attempts = 3;
  to_b.retry_interval = std::chrono::milliseconds(1);
  auto from_a = to_b;
  from_a.id = "from-a";
  from_a.endpoint.clear();
  from_a.partner_certificates = {a.public_only()};
  two_gateway_configs g;
  g.a.own_key = a;
  g.a.party_domain = "gw-a.test";
  g.a.payload_dir = (dir / "a").string();
  g.a.pmodes = {to_b};
  g.b.own_key = b;
  g.b.party_domain = "gw-b.test";
  g.b.payload_dir = (dir / "b").string();
  g.b.pmodes = {from_a};
  return g;
}

// A test fixture with both gateways: payload directories under a temporary directory named
// after the test, configs from a_to_b_configs (adjust ca_/cb_ before connect()), A's requests
// reaching B's AS4 route through net_.
class two_gateways : public ::testing::Test {
 protected:
  explicit two_gateways(std::string const& dir_prefix)
      : dir_(std::filesystem::temp_directory_path() /
             (dir_prefix + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    auto g = a_to_b_configs(a_, b_, dir_);
    ca_ = std::move(g.a);
    cb_ = std::move(g.b);
  }
  ~two_gateways() override {
    if (a_conn_) a_conn_->stop();
    std::filesystem::remove_all(dir_);
  }
  // Creates both connectors from ca_ and cb_.
  void connect() {
    b_conn_ = std::make_unique<edelivery_connector>(cb_, ctx_b_);
    a_conn_ = std::make_unique<edelivery_connector>(ca_, ctx_a_);
    net_.b = [this](request const& q) { return b_conn_->receive_as4(q); };
  }

  xmlsec::key a_ = pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  xmlsec::key b_ = pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb");
  std::filesystem::path dir_;
  network net_;
  side a_side_, b_side_;
  connector_context ctx_a_{a_side_.db,  a_side_.sink, a_side_.time,       a_side_.metrics,
                           a_side_.log, net_,         "https://gw-a.test"};
  connector_context ctx_b_{b_side_.db,  b_side_.sink, b_side_.time,       b_side_.metrics,
                           b_side_.log, net_,         "https://gw-b.test"};
  edelivery_config ca_, cb_;
  std::unique_ptr<edelivery_connector> b_conn_;
  std::unique_ptr<edelivery_connector> a_conn_;
};

}  // namespace bbgw::edelivery::test

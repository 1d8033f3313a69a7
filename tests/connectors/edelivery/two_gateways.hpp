#pragma once
// Two access points in one process for the eDelivery tests: A (AccessPointA) submits and sends
// to B (AccessPointB) through test::network. Each side has its own clock, store and fakes; the
// configs pair A's sending PMode "to-b" (encrypting for B) with B's mirror "from-a".
#include <chrono>
#include <filesystem>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/config.hpp"
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

}  // namespace bbgw::edelivery::test

#pragma once
// Shared set-up of the context connector's unit tests: a config read through the real
// config_reader, fakes of the gateway's services, and fixture requests aimed at a subscription.
#include <memory>
#include <string>

#include <yaml-cpp/yaml.h>

#include "bbgw/config_reader.hpp"
#include "context/config.hpp"
#include "context/notify_handler.hpp"
#include "fake_store.hpp"
#include "http_fixture.hpp"
#include "support/fakes.hpp"

namespace bbgw::context::testing {

inline constexpr char const* secret_key = "unit-test-secret-key-0123456789";
inline constexpr char const* centres_secret = "centres-secret-0123456789";

inline std::string test_yaml(std::string const& extra_top = "") {
  return std::string(
             "enabled: true\n"
             "secret_key: ") +
         secret_key + "\n" + extra_top +
         "brokers:\n"
         "  - name: orion\n"
         "    flavour: ngsi-v2\n"
         "    base_url: http://orion.test:1026/\n"
         "    tenant: migr\n"
         "    service_path: /madrid\n"
         "    auth_header: {name: X-Auth-Token, value: broker-token-1}\n"
         "    subscriptions:\n"
         "      - name: cases\n"
         "        description: Open cases\n"
         "        entity_types: [Case]\n"
         "        watched_attributes: [status, waitingDays]\n"
         "        notified_attributes: [status, language, waitingDays, location]\n"
         "        throttling: 5\n"
         "  - name: city\n"
         "    flavour: ngsi-v2\n"
         "    base_url: http://city.test:1026\n"
         "    subscriptions:\n"
         "      - name: centres\n"
         "        entity_types: [SupportCentre]\n"
         "        id_pattern: '^urn:SupportCentre:'\n"
         "        format: keyValues\n"
         "        secret: " +
         centres_secret +
         "\n"
         "  - name: ld\n"
         "    flavour: ngsi-ld\n"
         "    base_url: http://ld.test:1026\n"
         "    subscriptions:\n"
         "      - name: events\n"
         "        entity_types: [Event]\n"
         "        watched_attributes: [name, seats]\n";
}

inline context_config load_config(std::string const& yaml) {
  config_reader r(YAML::Load(yaml), "connectors.context", nullptr);
  auto c = read_config(r);
  r.finish();
  if (!c) throw std::runtime_error("disabled");
  return *c;
}

inline std::string secret_of(std::string const& broker, std::string const& sub) {
  if (sub == "centres") return centres_secret;
  return derive_secret(secret_key, broker, sub);
}

// A fixture request aimed at /context/notify/<broker>/<sub>, with the token in the header.
inline request fixture_for(std::string const& file, std::string const& broker,
                           std::string const& sub, bool with_token = true) {
  auto r = load_fixture(file);
  r.path = "/context/notify/" + broker + "/" + sub;
  r.query.clear();
  r.target = r.path;
  r.params = {{"broker", broker}, {"subscription", sub}};
  r.request_id = "req-" + file;
  if (with_token) r.headers.add("X-Bbgw-Notify-Token", secret_of(broker, sub));
  return r;
}

struct handler_rig {
  context_config cfg = load_config(test_yaml());
  manual_clock time;
  fake_store db{time};
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  notify_handler handler{cfg, db, time, stats, log};
};

}  // namespace bbgw::context::testing

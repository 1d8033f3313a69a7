#pragma once
// Shared set-up of the eid unit tests: a temp dir with keys made by the openssl command line
// (an independent tool), a config text, and the fakes of the gateway's interfaces.
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include <yaml-cpp/yaml.h>

#include "bbgw/connector_context.hpp"
#include "bbgw/event_sink.hpp"
#include "bbgw/http_client.hpp"
#include "eid/config.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"
#include "support/test_pki.hpp"

namespace bbgw::eid::test {

inline void sh(std::string const& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("command failed: " + cmd);
}

// Keys of one test: SP signing/encryption (RSA-2048 + self-signed certs), OIDC (P-256).
struct key_files {
  bbgw::testing::temp_dir dir;
  key_files() {
    for (auto name : {"sp-sign", "sp-enc"})
      sh("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=" + std::string(name) +
         " -keyout " + dir.file(std::string(name) + ".key") + " -out " +
         dir.file(std::string(name) + ".crt"));
    sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
       dir.file("oidc.key"));
  }
  std::string f(std::string const& n) const { return dir.file(n); }

  // connectors.eid with two clients: "web" (confidential) and "spa" (public, PKCE).
  std::string yaml(std::string const& extra_top = "", std::string const& extra_oidc = "") const {
    return "enabled: true\n"
           "schemas_dir: " BBGW_SOURCE_DIR
           "/schemas/xsd\n"
           "sp:\n"
           "  signing_key: " +
           f("sp-sign.key") +
           "\n"
           "  signing_cert: " +
           f("sp-sign.crt") +
           "\n"
           "  encryption_key: " +
           f("sp-enc.key") +
           "\n"
           "  encryption_cert: " +
           f("sp-enc.crt") +
           "\n"
           "oidc:\n"
           "  signing_key: " +
           f("oidc.key") +
           "\n"
           "  pairwise_secret: 0123456789abcdef-pairwise\n" +
           extra_oidc +
           "  clients:\n"
           "    - id: web\n"
           "      secret: web-secret-0123456789\n"
           "      redirect_uris: [\"https://app.example/cb\"]\n"
           "      scopes: [openid, profile]\n"
           "    - id: spa\n"
           "      public: true\n"
           "      redirect_uris: [\"https://spa.example/cb\", \"http://127.0.0.1:9/cb\"]\n"
           "      scopes: [openid, profile, eidas]\n"
           "      claims: [given_name, family_name, birthdate, gender]\n"
           "      sector: spa.example\n" +
           extra_top;
  }
};

inline eid_config read(std::string const& yaml) {
  auto eff = std::make_shared<effective_config>();
  config_reader r(YAML::Load(yaml), "connectors.eid", eff);
  auto c = read_config(r);
  r.finish();
  if (!c) throw std::runtime_error("disabled");
  apply_base_url(*c, "https://gw.example");
  return *c;
}

struct null_sink final : event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};
struct no_http final : http_client {
  result<client_response> send(client_request const&) override {
    return boost::system::errc::make_error_code(boost::system::errc::not_supported);
  }
};

// The gateway's services as fakes, with an injected clock.
struct services {
  bbgw::testing::manual_clock clock;
  bbgw::testing::memory_store db{clock};
  null_sink sink;
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  no_http http;
  connector_context ctx{db, sink, clock, stats, log, http, "https://gw.example"};
};

}  // namespace bbgw::eid::test

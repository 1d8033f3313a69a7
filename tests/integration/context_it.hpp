#pragma once
// Shared by the context connector's integration tests: its config section, recorded NGSI
// requests replayed with curl, and the stub broker (tests/connectors/context/stub_broker.py).
#include <map>
#include <string>
#include <vector>

#include "harness.hpp"

namespace bbgw::it::context {

inline constexpr char const* cases_token = "it-cases-token-0123456789";
inline constexpr char const* centres_token = "it-centres-token-0123456789";
inline constexpr char const* events_token = "it-events-token-0123456789";

// The connectors.context section (indented to sit under `connectors:` after gateway_yaml's
// test connector). `v2_url`/`ld_url` are the brokers' base URLs; `manage` turns sync on.
inline std::string context_section(std::string const& v2_url, std::string const& ld_url,
                                   bool manage, std::string const& extra = "") {
  std::string m = manage ? "true" : "false";
  return std::string(
             "  context:\n"
             "    enabled: true\n"
             "    resync_interval: 300ms\n"
             "    request_timeout: 2s\n"
             "    body_limit: 64KiB\n") +
         extra +
         "    brokers:\n"
         "      - name: orion\n"
         "        flavour: ngsi-v2\n"
         "        base_url: " +
         v2_url +
         "\n"
         "        tenant: migr\n"
         "        service_path: /madrid\n"
         "        auth_header: {name: X-Auth-Token, value: it-broker-token}\n"
         "        manage_subscriptions: " +
         m +
         "\n"
         "        subscriptions:\n"
         "          - {name: cases, description: Open cases, entity_types: [Case], "
         "watched_attributes: [status],"
         " notified_attributes: [status, language, waitingDays, location], throttling: 2,"
         " secret: " +
         cases_token +
         "}\n"
         "      - name: city\n"
         "        flavour: ngsi-v2\n"
         "        base_url: " +
         v2_url +
         "\n"
         "        auth_header: {name: X-Auth-Token, value: it-broker-token}\n"
         "        manage_subscriptions: " +
         m +
         "\n"
         "        subscriptions:\n"
         "          - {name: centres, id_pattern: '^urn:SupportCentre:', entity_types: "
         "[SupportCentre],"
         " format: keyValues, secret: " +
         centres_token +
         "}\n"
         "      - name: ld\n"
         "        flavour: ngsi-ld\n"
         "        base_url: " +
         ld_url +
         "\n"
         "        tenant: cyprus\n"
         "        auth_header: {name: X-Auth-Token, value: it-broker-token}\n"
         "        manage_subscriptions: " +
         m +
         "\n"
         "        subscriptions:\n"
         "          - {name: events, entity_types: [Event], watched_attributes: [name, seats],"
         " secret: " +
         events_token + "}\n";
}

struct recorded_request {
  std::string method, target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

inline recorded_request read_fixture(std::string const& name) {
  auto text = read_file(std::string(BBGW_SOURCE_DIR) + "/../shared/fixtures/ngsi/" + name);
  recorded_request r;
  auto end = text.find("\r\n\r\n");
  r.body = text.substr(end + 4);
  std::string head = text.substr(0, end);
  std::size_t pos = 0;
  bool first = true;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    if (eol == std::string::npos) eol = head.size();
    std::string line = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (first) {
      first = false;
      auto a = line.find(' '), b = line.rfind(' ');
      r.method = line.substr(0, a);
      r.target = line.substr(a + 1, b - a - 1);
      continue;
    }
    auto colon = line.find(':');
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers.emplace_back(line.substr(0, colon), value);
  }
  return r;
}

// Replays `r` with curl against `url` (headers as recorded except Host and Content-Length, which
// curl sets; Content-Type etc. replaced or removed by `overrides`, "" meaning remove).
inline http_result replay(std::filesystem::path const& dir, std::string const& url,
                          recorded_request const& r,
                          std::map<std::string, std::string> const& overrides = {}) {
  static int n = 0;
  auto body = dir / ("body" + std::to_string(n++) + ".json");
  write_file(body, r.body);
  std::vector<std::string> args{"-X",      r.method,        "-H",
                                "Expect:", "--data-binary", "@" + body.string()};
  for (auto const& [k, v] : r.headers) {
    std::string lk = k;
    for (auto& c : lk) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lk == "host" || lk == "content-length" || overrides.count(lk)) continue;
    args.insert(args.end(), {"-H", k + ": " + v});
  }
  for (auto const& [k, v] : overrides) {
    if (v.empty())
      args.insert(args.end(), {"-H", k + ":"});  // curl: remove the header
    else
      args.insert(args.end(), {"-H", k + ": " + v});
  }
  return curl(url, args);
}

}  // namespace bbgw::it::context

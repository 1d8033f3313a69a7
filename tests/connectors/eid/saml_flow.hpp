#pragma once
// The SAML flow fixture shared by the tests that drive a real eIDAS-style node in process:
// pysaml2 (pysaml2_node.py) or Lasso (lasso_node.py) reads our signed SP metadata, takes our
// signed AuthnRequest and answers; the Response goes through the ACS rules.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

#include <boost/json.hpp>

#include "eid/acs_rules.hpp"
#include "eid/authn_request.hpp"
#include "eid/codec.hpp"
#include "eid/eid_connector.hpp"
#include "eid_env.hpp"

namespace bbgw::eid::test {

inline std::string const pysaml2_script = BBGW_SOURCE_DIR "/tests/connectors/eid/pysaml2_node.py";
inline std::string const lasso_script = BBGW_SOURCE_DIR "/tests/connectors/eid/lasso_node.py";
inline std::string const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
inline std::string const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

inline std::string run(std::string const& cmd) {
  std::array<char, 4096> buf;
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
  while (auto n = fread(buf.data(), 1, buf.size(), p.get())) out.append(buf.data(), n);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::string between(std::string const& s, std::string const& a, std::string const& b) {
  auto p = s.find(a);
  if (p == std::string::npos) return "";
  p += a.size();
  return s.substr(p, s.find(b, p) - p);
}

inline std::string param_of(std::string const& url, std::string const& name) {
  auto f = parse_form(url.substr(url.find('?') + 1));
  for (auto const& [k, v] : *f)
    if (k == name) return v;
  return "";
}

// A snapshot of everything an ACS call could change: committed transactions, stored records
// (pending logins, codes, assertion ids) and the outbox.
struct store_state {
  int commits = 0;
  std::size_t records = 0, events = 0;
  bool operator==(store_state const&) const = default;
};
inline void PrintTo(store_state const& s, std::ostream* os) {
  *os << "{commits " << s.commits << ", records " << s.records << ", events " << s.events << "}";
}

struct node_flow : ::testing::Test {
  std::string script;  // the node: pysaml2_script or lasso_script
  test::key_files keys;
  test::services svc;
  std::unique_ptr<eid_connector> conn;
  std::string sp_metadata_file = keys.f("sp-metadata.xml");

  explicit node_flow(std::string node_script) : script(std::move(node_script)) {}

  // connectors.eid.node with metadata_file and trust_anchor, plus `node_extra` (YAML lines
  // indented by two spaces) and `top_extra` (top-level lines of connectors.eid).
  eid_config config(std::string const& node_extra = "", std::string const& top_extra = "") const {
    auto cfg = test::read(keys.yaml("node:\n  metadata_file: " + keys.f("idp-metadata.xml") +
                                    "\n  trust_anchor: " + keys.f("idp.crt") + "\n" + node_extra +
                                    top_extra));
    // xmlsec1 1.2.37 (under pysaml2 and Lasso) has no RSASSA-PSS: sign our requests with
    // rsa-sha256 here.
    cfg.sp.signature_method = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    return cfg;
  }

  void SetUp() override {
    svc.clock.set(std::chrono::system_clock::now());  // the nodes use the real clock
    test::sh("/usr/bin/python3 " + script + " setup " + keys.dir.path().string() +
             " https://node.example");
    conn = std::make_unique<eid_connector>(config(), svc.ctx);
    request r;
    r.method = "GET";
    auto md = conn->sp().metadata(r);
    ASSERT_EQ(md.status, 200u) << md.body;
    std::ofstream(sp_metadata_file) << md.body;
  }

  // The connector again, with another config (same keys, same store).
  void reconfigure(std::string const& node_extra, std::string const& top_extra = "") {
    conn = std::make_unique<eid_connector>(config(node_extra, top_extra), svc.ctx);
  }

  // authorize → the auto-posting form's SAMLRequest (base64).
  std::string start(std::string extra = "") {
    request r;
    r.method = "GET";
    r.query =
        "client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&response_type=code"
        "&scope=openid+profile&state=st&nonce=nn&code_challenge=" +
        challenge + "&code_challenge_method=S256" + extra;
    auto resp = conn->front().authorize(r);
    EXPECT_EQ(resp.status, 200u) << resp.body;
    EXPECT_NE(resp.body.find("action=\"https://node.example/sso/post\""), std::string::npos);
    return between(resp.body, "name=\"SAMLRequest\" value=\"", "\"");
  }

  std::string node_response(std::string const& saml_request, std::string opts = "") {
    return run("/usr/bin/python3 " + script + " respond " + keys.dir.path().string() + " " +
               sp_metadata_file + " " + saml_request + " " + opts);
  }

  response post_acs(std::string const& b64) {
    request r;
    r.method = "POST";
    r.request_id = "acs-1";
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    r.body = "SAMLResponse=" + form_encode(b64) + "&RelayState=x";
    return conn->sp().acs(r);
  }

  // The refusing rule and its detail, for failure messages.
  std::string why() {
    std::string out;
    for (auto const& l : svc.log.lines())
      for (auto const& [k, v] : l.fields)
        if (k == "rule" || k == "detail") out += " " + k + "=" + v;
    return out;
  }
  std::string xml_of(std::string const& b64) { return *base64_decode(b64); }
  double rejected(std::string const& rule) {
    return svc.stats.value("bbgw_eid_acs_rejections_total", {{"rule", rule}});
  }
  store_state state() { return {svc.db.commits(), svc.db.records(), svc.db.outbox().size()}; }

  // Finishes the code flow from the ACS's redirect; returns the ID token's claims.
  boost::json::object redeem(response const& acs_redirect) {
    auto loc = std::string(*acs_redirect.headers.get("Location"));
    EXPECT_TRUE(loc.starts_with("https://spa.example/cb?code=")) << loc;
    EXPECT_EQ(param_of(loc, "state"), "st");
    request t;
    t.method = "POST";
    t.headers.add("Content-Type", "application/x-www-form-urlencoded");
    t.body = "grant_type=authorization_code&code=" + param_of(loc, "code") +
             "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&client_id=spa&code_verifier=" + verifier;
    auto tok = conn->front().token(t);
    EXPECT_EQ(tok.status, 200u) << tok.body;
    if (tok.status != 200u) return {};
    auto jwt = std::string(boost::json::parse(tok.body).at("id_token").as_string());
    auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
    return boost::json::parse(*base64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1))).as_object();
  }
};

}  // namespace bbgw::eid::test

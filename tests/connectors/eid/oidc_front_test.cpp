// The OpenID Connect front: authorize validates the client and redirect_uri before redirecting
// anything, stores a one-time pending login and hands it to the SAML side; complete() turns a
// validated identity into a code (with the `login succeeded` event in the same transaction);
// the token endpoint exchanges the code once, within 60 s, with PKCE / client_secret_basic;
// the ID token carries the pairwise subject, acr, amr, auth_time, nonce and released claims.
#include <gtest/gtest.h>

#include <fstream>

#include <boost/json.hpp>

#include "bbgw/cloud_event.hpp"

#include "eid/attributes.hpp"
#include "eid/codec.hpp"
#include "eid/oidc_front.hpp"
#include "eid_env.hpp"

namespace bbgw::eid {
namespace {

inline boost::json::value json_str(std::string const& s) {
  return boost::json::value(s);
}

namespace json = boost::json;
using namespace std::chrono_literals;

std::string const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
std::string const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

request get(std::string query) {
  request r;
  r.method = "GET";
  r.path = "/oidc/authorize";
  r.query = std::move(query);
  r.target = r.path + "?" + r.query;
  r.request_id = "req-1";
  return r;
}

std::string param_of(std::string const& url, std::string const& name) {
  auto q = url.find('?');
  auto f = parse_form(url.substr(q + 1));
  for (auto const& [k, v] : *f)
    if (k == name) return v;
  return "";
}

json::object jwt_payload(std::string const& jwt) {
  auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  return json::parse(*base64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1))).as_object();
}

struct OidcFront : ::testing::Test {
  test::key_files keys;
  eid_config cfg = test::read(keys.yaml());
  test::services svc;
  std::vector<pending_login> started;
  oidc_front front{cfg, svc.ctx, es256_signer::from_pem_file(keys.f("oidc.key")),
                   [this](pending_login const& pl) {
                     started.push_back(pl);
                     return response::text(200, "to the node");
                   }};

  identity person() {
    identity who;
    who.person_identifier = "ES/DE/12345678Z";
    who.loa = "http://eidas.europa.eu/LoA/substantial";
    who.auth_instant = svc.clock.now() - 5s;
    who.country = "ES";
    who.attributes = {{std::string(attr::person_identifier), "ES/DE/12345678Z"},
                      {std::string(attr::given_name), "Javier"},
                      {std::string(attr::family_name), "Garcia"},
                      {std::string(attr::date_of_birth), "1965-01-01"},
                      {"http://eidas.europa.eu/attributes/naturalperson/Gender", "Male"}};
    return who;
  }

  // authorize + complete for the public client; returns the redirect Location.
  std::string login_spa(std::string extra = "") {
    auto r =
        front.authorize(get("client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb"
                            "&response_type=code&scope=openid+profile+eidas&state=xyz"
                            "&nonce=n-1&code_challenge=" +
                            challenge + "&code_challenge_method=S256" + extra));
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_FALSE(started.empty());
    auto done = front.complete(started.back().request_id, person(), "req-2");
    EXPECT_EQ(done.status, 302u) << done.body;
    return std::string(done.headers.get("Location").value_or(""));
  }

  response token(std::string body, std::string basic = "") {
    request r;
    r.method = "POST";
    r.path = "/oidc/token";
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    if (!basic.empty()) r.headers.add("Authorization", "Basic " + base64_encode(basic));
    r.body = std::move(body);
    return front.token(r);
  }
};

TEST_F(OidcFront, DiscoveryAndJwksDescribeTheProvider) {
  auto d = json::parse(front.discovery(get("")).body).as_object();
  EXPECT_EQ(d.at("issuer"), "https://gw.example");
  EXPECT_EQ(d.at("authorization_endpoint"), "https://gw.example/oidc/authorize");
  EXPECT_EQ(d.at("jwks_uri"), "https://gw.example/oidc/jwks");
  EXPECT_EQ(d.at("id_token_signing_alg_values_supported"), json::array{"ES256"});
  EXPECT_EQ(d.at("code_challenge_methods_supported"), json::array{"S256"});
  EXPECT_EQ(d.at("subject_types_supported"), json::array{"pairwise"});
  auto j = json::parse(front.jwks(get("")).body).as_object();
  ASSERT_EQ(j.at("keys").as_array().size(), 1u);
  EXPECT_EQ(j.at("keys").as_array()[0].as_object().at("kid"), json_str(front.signer().kid()));
}

TEST_F(OidcFront, UnknownClientOrRedirectIsShownNeverRedirected) {
  for (auto q : {"client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code"
                 "&scope=openid",
                 "client_id=web&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&response_type=code"
                 "&scope=openid",
                 "client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%2F&response_type=code"
                 "&scope=openid",  // not exact: trailing slash
                 "client_id=web&response_type=code&scope=openid",
                 "redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid"}) {
    auto r = front.authorize(get(q));
    EXPECT_EQ(r.status, 400u) << q;
    EXPECT_FALSE(r.headers.contains("Location")) << q;
    EXPECT_NE(r.body.find("<h1>"), std::string::npos);
  }
  EXPECT_TRUE(started.empty());
}

TEST_F(OidcFront, LaterErrorsGoBackToTheRegisteredRedirect) {
  auto base = std::string("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s1");
  auto loc = [&](std::string q) {
    auto r = front.authorize(get(base + q));
    EXPECT_EQ(r.status, 302u) << q;
    return std::string(r.headers.get("Location").value_or(""));
  };
  auto l = loc("&response_type=token&scope=openid");
  EXPECT_TRUE(l.starts_with("https://app.example/cb?"));
  EXPECT_EQ(param_of(l, "error"), "unsupported_response_type");
  EXPECT_EQ(param_of(l, "state"), "s1");
  EXPECT_EQ(param_of(loc("&response_type=code&scope=profile"), "error"), "invalid_scope");
  EXPECT_EQ(param_of(loc("&response_type=code&scope=openid+eidas"), "error"), "invalid_scope");
  EXPECT_EQ(param_of(loc("&response_type=code&scope=openid&code_challenge=" + challenge +
                         "&code_challenge_method=plain"),
                     "error"),
            "invalid_request");
  EXPECT_EQ(param_of(loc("&response_type=code&scope=openid&acr_values=loa3"), "error"),
            "invalid_request");
  EXPECT_EQ(param_of(loc("&response_type=code&scope=openid&prompt=none"), "error"),
            "login_required");
  EXPECT_TRUE(started.empty());
}

TEST_F(OidcFront, PublicClientsMustUsePkce) {
  auto r =
      front.authorize(get("client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb"
                          "&response_type=code&scope=openid"));
  EXPECT_EQ(r.status, 302u);
  EXPECT_EQ(param_of(std::string(*r.headers.get("Location")), "error"), "invalid_request");
}

TEST_F(OidcFront, RepeatedParametersAreRefused) {
  auto r =
      front.authorize(get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
                          "&response_type=code&scope=openid&scope=openid"));
  EXPECT_EQ(r.status, 400u);
  EXPECT_TRUE(started.empty());
}

TEST_F(OidcFront, AuthorizeStoresAOneTimePendingLoginWithLoaAndAttributes) {
  auto r =
      front.authorize(get("client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb"
                          "&response_type=code&scope=openid+profile&state=xyz&nonce=n-1"
                          "&acr_values=http%3A%2F%2Feidas.europa.eu%2FLoA%2Fhigh"
                          "&code_challenge=" +
                          challenge + "&code_challenge_method=S256"));
  ASSERT_EQ(r.status, 200u);
  ASSERT_EQ(started.size(), 1u);
  auto const& pl = started[0];
  EXPECT_EQ(pl.loa, "http://eidas.europa.eu/LoA/high");
  EXPECT_EQ(pl.state, "xyz");
  EXPECT_EQ(pl.code_challenge, challenge);
  EXPECT_TRUE(pl.request_id.starts_with("_"));  // an NCName, usable as a SAML ID
  auto required = [&](std::string_view n) {
    for (auto const& a : pl.attributes)
      if (a.name == n) return a.required;
    ADD_FAILURE() << "not requested: " << n;
    return false;
  };
  EXPECT_TRUE(required(attr::person_identifier));
  EXPECT_TRUE(required(attr::given_name));
  EXPECT_TRUE(required(attr::date_of_birth));
  auto stored = svc.db.get(requests_ns, pl.request_id);
  ASSERT_TRUE(stored && *stored);
  svc.clock.advance(cfg.request_ttl + 1s);  // pending logins expire
  EXPECT_FALSE(*svc.db.get(requests_ns, pl.request_id));
}

TEST_F(OidcFront, CodeFlowWithPkceIssuesAVerifiableIdToken) {
  auto loc = login_spa();
  ASSERT_TRUE(loc.starts_with("https://spa.example/cb?code=")) << loc;
  EXPECT_EQ(param_of(loc, "state"), "xyz");
  EXPECT_EQ(param_of(loc, "iss"), "https://gw.example");
  auto code = param_of(loc, "code");
  // The event is in the same transaction as the code.
  auto out = svc.db.outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, succeeded_type);
  EXPECT_EQ(out[0].family, "eid");
  auto const& data = out[0].data.as_object();
  EXPECT_EQ(data.at("client_id"), "spa");
  EXPECT_EQ(data.at("loa"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(data.at("country"), "ES");
  EXPECT_FALSE(data.contains("claims"));  // nothing released by default
  EXPECT_EQ(json_str(out[0].partitionkey), data.at("subject"));
  auto text = json::serialize(out[0].data);
  EXPECT_EQ(text.find("Javier"), std::string::npos);
  EXPECT_EQ(text.find("12345678Z"), std::string::npos);

  auto t =
      token("grant_type=authorization_code&code=" + code +
            "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&client_id=spa&code_verifier=" + verifier);
  ASSERT_EQ(t.status, 200u) << t.body;
  EXPECT_EQ(t.headers.get("Cache-Control"), std::optional<std::string_view>("no-store"));
  auto body = json::parse(t.body).as_object();
  EXPECT_EQ(body.at("token_type"), "Bearer");
  auto id = jwt_payload(std::string(body.at("id_token").as_string()));
  EXPECT_EQ(id.at("iss"), "https://gw.example");
  EXPECT_EQ(id.at("aud"), "spa");
  EXPECT_EQ(id.at("nonce"), "n-1");
  EXPECT_EQ(id.at("acr"), "http://eidas.europa.eu/LoA/substantial");
  EXPECT_EQ(id.at("amr"), json::array{"eidas"});
  EXPECT_EQ(id.at("given_name"), "Javier");
  EXPECT_EQ(id.at("family_name"), "Garcia");
  EXPECT_EQ(id.at("birthdate"), "1965-01-01");
  EXPECT_EQ(id.at("gender"), "Male");
  EXPECT_FALSE(id.contains("eidas_person_identifier"));
  EXPECT_EQ(id.at("sub"), json_str(pairwise_subject("0123456789abcdef-pairwise", "spa.example",
                                                    "ES/DE/12345678Z")));
  EXPECT_NE(id.at("sub"),
            json_str(out[0].partitionkey));  // the event pseudonym is another sector's
  EXPECT_EQ(id.at("exp").as_int64() - id.at("iat").as_int64(), 300);
  EXPECT_EQ(id.at("auth_time").as_int64(), std::chrono::duration_cast<std::chrono::seconds>(
                                               (svc.clock.now() - 5s).time_since_epoch())
                                               .count());

  // userinfo with the access token.
  request u;
  u.method = "GET";
  u.headers.add("Authorization", "Bearer " + std::string(body.at("access_token").as_string()));
  auto ui = front.userinfo(u);
  ASSERT_EQ(ui.status, 200u) << ui.body;
  auto info = json::parse(ui.body).as_object();
  EXPECT_EQ(info.at("sub"), id.at("sub"));
  EXPECT_EQ(info.at("given_name"), "Javier");
  svc.clock.advance(cfg.oidc.token_ttl + 1s);
  EXPECT_EQ(front.userinfo(u).status, 401u);
  // No token value in the logs.
  EXPECT_FALSE(svc.log.mentions(std::string(body.at("access_token").as_string())));
  EXPECT_FALSE(svc.log.mentions(code));
  EXPECT_FALSE(svc.log.mentions("Javier"));
  EXPECT_EQ(svc.stats.value("bbgw_eid_logins_total", {{"outcome", "succeeded"}}), 1);
}

TEST_F(OidcFront, CodesAreSingleUse) {
  auto code = param_of(login_spa(), "code");
  auto body =
      "grant_type=authorization_code&code=" + code +
      "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&client_id=spa&code_verifier=" + verifier;
  EXPECT_EQ(token(body).status, 200u);
  auto again = token(body);
  EXPECT_EQ(again.status, 400u);
  EXPECT_EQ(json::parse(again.body).at("error"), "invalid_grant");
}

TEST_F(OidcFront, CodesExpireAfterSixtySeconds) {
  auto code = param_of(login_spa(), "code");
  svc.clock.advance(61s);
  auto t =
      token("grant_type=authorization_code&code=" + code +
            "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&client_id=spa&code_verifier=" + verifier);
  EXPECT_EQ(t.status, 400u);
  EXPECT_EQ(json::parse(t.body).at("error"), "invalid_grant");
}

TEST_F(OidcFront, WrongVerifierBurnsTheCode) {
  auto code = param_of(login_spa(), "code");
  auto base = "grant_type=authorization_code&code=" + code +
              "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&client_id=spa&code_verifier=";
  auto bad = token(base + std::string(43, 'a'));
  EXPECT_EQ(bad.status, 400u);
  EXPECT_EQ(json::parse(bad.body).at("error"), "invalid_grant");
  EXPECT_EQ(token(base + verifier).status, 400u);  // the code is gone
}

TEST_F(OidcFront, RedirectUriMustMatchTheAuthorizationRequest) {
  auto code = param_of(login_spa(), "code");
  auto t = token(
      "grant_type=authorization_code&code=" + code +
      "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&client_id=spa&code_verifier=" + verifier);
  EXPECT_EQ(t.status, 400u);
  EXPECT_EQ(json::parse(t.body).at("error"), "invalid_grant");
}

TEST_F(OidcFront, ConfidentialClientsAuthenticateWithBasic) {
  auto r =
      front.authorize(get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
                          "&response_type=code&scope=openid+profile"));
  ASSERT_EQ(r.status, 200u);
  auto loc = front.complete(started.back().request_id, person(), "r");
  auto code = param_of(std::string(*loc.headers.get("Location")), "code");
  auto body =
      "grant_type=authorization_code&code=" + code + "&redirect_uri=https%3A%2F%2Fapp.example%2Fcb";
  auto none = token(body);
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(json::parse(none.body).at("error"), "invalid_client");
  EXPECT_TRUE(none.headers.contains("WWW-Authenticate"));
  EXPECT_EQ(token(body, "web:wrong-secret-000000").status, 401u);
  EXPECT_EQ(token(body + "&client_id=web", "spa:").status, 401u);
  auto ok = token(body, "web:web-secret-0123456789");
  ASSERT_EQ(ok.status, 200u) << ok.body;
  auto id = jwt_payload(std::string(json::parse(ok.body).at("id_token").as_string()));
  EXPECT_EQ(id.at("aud"), "web");
  EXPECT_FALSE(id.contains("gender"));  // not in web's released claims
  EXPECT_FALSE(id.contains("nonce"));
  // Same person, another sector: another subject.
  EXPECT_EQ(id.at("sub"),
            json_str(pairwise_subject("0123456789abcdef-pairwise", "web", "ES/DE/12345678Z")));
}

TEST_F(OidcFront, ACodeIssuedToOneClientIsUselessToAnother) {
  auto code = param_of(login_spa(), "code");
  auto t = token(
      "grant_type=authorization_code&code=" + code + "&redirect_uri=https%3A%2F%2Fspa.example%2Fcb",
      "web:web-secret-0123456789");
  EXPECT_EQ(t.status, 400u);
  EXPECT_EQ(json::parse(t.body).at("error"), "invalid_grant");
}

TEST_F(OidcFront, TokenRequestErrorsFollowRfc6749) {
  auto e = [&](std::string b) { return json::parse(token(b).body).at("error"); };
  EXPECT_EQ(e("grant_type=password&client_id=spa"), "unsupported_grant_type");
  EXPECT_EQ(e("grant_type=authorization_code&client_id=spa"), "invalid_request");
  EXPECT_EQ(e("grant_type=authorization_code&client_id=spa&code=nope"), "invalid_grant");
  request r;
  r.method = "POST";
  r.headers.add("Content-Type", "application/json");
  r.body = "{}";
  EXPECT_EQ(front.token(r).status, 400u);
}

TEST_F(OidcFront, ALoginCompletesOnce) {
  login_spa();
  auto again = front.complete(started.back().request_id, person(), "req-3");
  EXPECT_EQ(again.status, 400u);
  EXPECT_FALSE(again.headers.contains("Location"));
  EXPECT_EQ(svc.db.outbox().size(), 1u);
}

// Default release policy: none. The login event carries no attribute value at all, although
// the client's ID token gets them.
TEST_F(OidcFront, EventsCarryNoAttributeValuesByDefault) {
  front.authorize(
      get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
          "&response_type=code&scope=openid+profile"));
  ASSERT_EQ(front.complete(started.back().request_id, person(), "r").status, 302u);
  auto ev = svc.db.outbox().back();
  EXPECT_EQ(ev.type, succeeded_type);
  EXPECT_FALSE(ev.data.as_object().contains("claims"));
  auto text = boost::json::serialize(ev.data);
  for (auto const& [name, value] : person().attributes)
    EXPECT_EQ(text.find(value), std::string::npos) << name;
}

TEST_F(OidcFront, ReleasePolicyPutsListedClaimsInEvents) {
  auto c2 = test::read(keys.yaml("events: {release: [given_name]}\n"));
  oidc_front f2{c2, svc.ctx, es256_signer::from_pem_file(keys.f("oidc.key")),
                [this](pending_login const& pl) {
                  started.push_back(pl);
                  return response::text(200, "");
                }};
  f2.authorize(
      get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
          "&response_type=code&scope=openid+profile"));
  ASSERT_EQ(f2.complete(started.back().request_id, person(), "r").status, 302u);
  auto ev = svc.db.outbox().back();
  EXPECT_EQ(ev.data.as_object().at("claims"), (json::object{{"given_name", "Javier"}}));
}

TEST_F(OidcFront, FailedLoginsEmitAnEventAndShowAPage) {
  front.authorize(
      get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
          "&response_type=code&scope=openid"));
  auto r = front.fail(started.back().request_id, "RequestDenied", "You cancelled the login.", "r");
  EXPECT_EQ(r.status, 403u);
  EXPECT_NE(r.body.find("You cancelled the login."), std::string::npos);
  auto out = svc.db.outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, failed_type);
  EXPECT_EQ(out[0].data.as_object().at("client_id"), "web");
  EXPECT_EQ(out[0].data.as_object().at("reason"), "RequestDenied");
  EXPECT_FALSE(*svc.db.get(requests_ns, started.back().request_id));  // consumed
  EXPECT_EQ(svc.stats.value("bbgw_eid_logins_total", {{"outcome", "failed"}}), 1);
}

TEST_F(OidcFront, NoCodeWithoutTheEvent) {
  front.authorize(
      get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
          "&response_type=code&scope=openid"));
  svc.db.fail_emit_at(0);
  auto r = front.complete(started.back().request_id, person(), "r");
  EXPECT_EQ(r.status, 503u);
  EXPECT_FALSE(r.headers.contains("Location"));
  EXPECT_TRUE(*svc.db.get(requests_ns, started.back().request_id));  // rolled back
}

}  // namespace
}  // namespace bbgw::eid

namespace bbgw::eid {
namespace {

// Every event type validates against its JSON Schema in schemas/events/ (python3-jsonschema).
TEST_F(OidcFront, EventsMatchTheirJsonSchemas) {
  login_spa();
  front.authorize(
      get("client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb"
          "&response_type=code&scope=openid"));
  front.fail(started.back().request_id, "RequestDenied", "cancelled", "r");
  front.fail("_unknown", "destination", "wrong Destination", "r2");
  auto out = svc.db.outbox();
  ASSERT_EQ(out.size(), 3u);
  for (auto const& ev : out) {
    auto file = keys.f("event.json");
    std::ofstream(file) << to_structured_json(ev);
    auto schema =
        std::string(BBGW_SOURCE_DIR "/schemas/events/") +
        (ev.type == succeeded_type ? "eid.login.succeeded.json" : "eid.login.failed.json");
    auto cmd =
        "/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/tools/validate_json.py " + schema + " " + file;
    EXPECT_EQ(std::system(cmd.c_str()), 0) << to_structured_json(ev);
  }
}

}  // namespace
}  // namespace bbgw::eid

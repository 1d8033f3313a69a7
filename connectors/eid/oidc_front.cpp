#include "eid/oidc_front.hpp"

#include <algorithm>
#include <set>

#include <boost/json.hpp>

#include "bbgw/cloud_event.hpp"
#include "eid/attributes.hpp"
#include "eid/codec.hpp"
#include "eid/eid_errc.hpp"
#include "xmlsec/document.hpp"

namespace bbgw::eid {

using xmlsec::xml_escape;

namespace json = boost::json;

namespace {

std::vector<std::string> split_spaces(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto p = s.find(' ');
    if (p != 0) out.emplace_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s = s.substr(p + 1);
  }
  return out;
}

// Parameters of a request, each at most once (RFC 6749 §3.1: no repeated parameters).
struct params {
  std::vector<std::pair<std::string, std::string>> items;
  bool duplicated = false;
  std::optional<std::string> get(std::string_view k) const {
    for (auto const& [n, v] : items)
      if (n == k) return v;
    return std::nullopt;
  }
};

std::optional<params> read_params(std::string_view text) {
  auto f = parse_form(text);
  if (!f) return std::nullopt;
  params p{std::move(*f), false};
  std::set<std::string> seen;
  for (auto const& [k, v] : p.items)
    if (!seen.insert(k).second) p.duplicated = true;
  return p;
}

bool contains(std::vector<std::string> const& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// RFC 7636 §4.1: 43..128 unreserved characters.
bool valid_verifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  return std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

std::int64_t unix_seconds(sys_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

void no_store(response& r) {
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
}

}  // namespace

std::string pairwise_subject(std::string_view secret, std::string_view sector,
                             std::string_view person_identifier) {
  std::string data(sector);
  data += '\0';
  data += person_identifier;
  return base64url_encode(hmac_sha256(secret, data));
}

oidc_front::oidc_front(eid_config const& cfg, connector_context& ctx, es256_signer signer,
                       login_starter start)
    : cfg_(cfg),
      ctx_(ctx),
      signer_(std::move(signer)),
      start_(std::move(start)),
      logins_ok_(&ctx.stats.make_counter("bbgw_eid_logins_total", "eID logins by outcome",
                                         {{"outcome", "succeeded"}})),
      logins_failed_(&ctx.stats.make_counter("bbgw_eid_logins_total", "eID logins by outcome",
                                             {{"outcome", "failed"}})),
      tokens_issued_(
          &ctx.stats.make_counter("bbgw_eid_tokens_issued_total", "OIDC token responses issued")) {}

response oidc_front::error_page(unsigned status, std::string_view title,
                                std::string_view detail) const {
  auto r = response::text(status,
                          "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" +
                              xml_escape(title) + "</title></head><body><h1>" + xml_escape(title) +
                              "</h1><p>" + xml_escape(detail) + "</p></body></html>",
                          "text/html; charset=utf-8");
  no_store(r);
  return r;
}

response oidc_front::redirect_error(std::string const& redirect_uri, std::string_view error,
                                    std::string_view description, std::string const& state) const {
  std::string loc = redirect_uri + (redirect_uri.find('?') == std::string::npos ? "?" : "&") +
                    "error=" + form_encode(error) +
                    "&error_description=" + form_encode(description);
  if (!state.empty()) loc += "&state=" + form_encode(state);
  response r;
  r.status = 302;
  r.headers.set("Location", loc);
  no_store(r);
  return r;
}

response oidc_front::token_error(unsigned status, std::string_view error,
                                 std::string_view description, bool basic_challenge) const {
  auto r =
      response::json(status, json::object{{"error", error}, {"error_description", description}});
  if (basic_challenge) r.headers.set("WWW-Authenticate", "Basic realm=\"bbgw\"");
  no_store(r);
  return r;
}

response oidc_front::discovery(request const&) const {
  auto const& iss = cfg_.oidc.issuer;
  json::array claims{"sub", "acr", "amr", "auth_time", "nonce"};
  for (auto const& a : known_attributes()) claims.emplace_back(a.claim);
  json::object o{
      {"issuer", iss},
      {"authorization_endpoint", iss + "/oidc/authorize"},
      {"token_endpoint", iss + "/oidc/token"},
      {"userinfo_endpoint", iss + "/oidc/userinfo"},
      {"jwks_uri", iss + "/oidc/jwks"},
      {"response_types_supported", json::array{"code"}},
      {"response_modes_supported", json::array{"query"}},
      {"grant_types_supported", json::array{"authorization_code"}},
      {"subject_types_supported", json::array{"pairwise"}},
      {"id_token_signing_alg_values_supported", json::array{"ES256"}},
      {"token_endpoint_auth_methods_supported", json::array{"client_secret_basic", "none"}},
      {"code_challenge_methods_supported", json::array{"S256"}},
      {"scopes_supported", json::array{"openid", "profile", "address", "eidas", "legal_person"}},
      {"claims_supported", claims},
      {"acr_values_supported",
       json::array{"http://eidas.europa.eu/LoA/low", "http://eidas.europa.eu/LoA/substantial",
                   "http://eidas.europa.eu/LoA/high", "http://eidas.europa.eu/NotNotified/LoA/low",
                   "http://eidas.europa.eu/NotNotified/LoA/substantial",
                   "http://eidas.europa.eu/NotNotified/LoA/high"}},
      {"claims_parameter_supported", false},
      {"request_parameter_supported", false},
  };
  return response::json(200, o);
}

response oidc_front::jwks(request const&) const {
  return response::json(200, json::object{{"keys", json::array{signer_.jwk()}}},
                        "application/jwk-set+json");
}

response oidc_front::authorize(request const& r) {
  auto p = read_params(r.method == "POST" ? std::string_view(r.body) : std::string_view(r.query));
  if (!p) return error_page(400, "Invalid request", "The request parameters are malformed.");
  // 1. Who is asking, and where the answer may go: shown, never redirected, when wrong.
  auto client_id = p->get("client_id");
  if (!client_id) return error_page(400, "Invalid request", "client_id is missing.");
  auto const* client = cfg_.oidc.client(*client_id);
  if (!client) return error_page(400, "Unknown client", "This application is not registered.");
  auto redirect_uri = p->get("redirect_uri");
  if (!redirect_uri || !contains(client->redirect_uris, *redirect_uri))
    return error_page(400, "Invalid redirect_uri",
                      "redirect_uri is missing or not registered for this application.");
  if (p->duplicated) return error_page(400, "Invalid request", "A request parameter is repeated.");
  std::string state = p->get("state").value_or("");
  auto back = [&](std::string_view e, std::string_view d) {
    return redirect_error(*redirect_uri, e, d, state);
  };
  // 2. Everything else goes back to the client.
  if (p->get("request") || p->get("request_uri"))
    return back("request_not_supported", "request objects are not supported");
  if (p->get("response_type") != std::optional<std::string>("code"))
    return back("unsupported_response_type", "only response_type=code is supported");
  if (auto rm = p->get("response_mode"); rm && *rm != "query")
    return back("invalid_request", "only response_mode=query is supported");
  auto scopes = split_spaces(p->get("scope").value_or(""));
  if (!contains(scopes, "openid")) return back("invalid_scope", "scope must include openid");
  for (auto const& s : scopes)
    if (!contains(client->scopes, s))
      return back("invalid_scope", "scope '" + s + "' is not allowed for this client");
  auto challenge = p->get("code_challenge").value_or("");
  auto method = p->get("code_challenge_method").value_or(challenge.empty() ? "" : "plain");
  if (!challenge.empty()) {
    if (method != "S256") return back("invalid_request", "code_challenge_method must be S256");
    auto raw = base64url_decode(challenge);
    if (!raw || raw->size() != 32)
      return back("invalid_request", "code_challenge must be a base64url SHA-256 value");
  } else if (client->is_public) {
    return back("invalid_request", "PKCE (code_challenge with S256) is required");
  } else if (!method.empty()) {
    return back("invalid_request", "code_challenge_method without code_challenge");
  }
  std::string loa_uri = cfg_.sp.loa;
  if (auto acr = p->get("acr_values")) {
    std::optional<loa> found;
    for (auto const& v : split_spaces(*acr))
      if ((found = parse_loa(v))) break;
    if (!found) return back("invalid_request", "acr_values names no eIDAS level of assurance");
    loa_uri = found->uri;
  }
  if (auto prompt = p->get("prompt"); prompt && contains(split_spaces(*prompt), "none"))
    return back("login_required", "an eIDAS login always needs the user");  // ForceAuthn

  pending_login pl;
  pl.request_id = "_" + random_token(24);
  pl.client_id = client->id;
  pl.redirect_uri = *redirect_uri;
  pl.state = state;
  pl.nonce = p->get("nonce").value_or("");
  pl.code_challenge = challenge;
  pl.scopes = scopes;
  pl.loa = loa_uri;
  pl.issued = ctx_.time.now();
  // What the node is asked for: the configured attributes plus what the scopes map to. The
  // eIDAS minimum data set of a natural person is required; the rest is optional.
  pl.attributes = cfg_.sp.requested_attributes;
  auto want = [&](std::string_view name, bool required) {
    for (auto& a : pl.attributes)
      if (a.name == name) {
        a.required = a.required || required;
        return;
      }
    pl.attributes.push_back({std::string(name), required});
  };
  want(attr::person_identifier, true);
  for (auto const& a : known_attributes()) {
    if (!contains(scopes, a.scope) || a.scope == "openid") continue;
    bool minimum = a.name == attr::family_name || a.name == attr::given_name ||
                   a.name == attr::date_of_birth || a.name == attr::legal_name ||
                   a.name == attr::legal_person_identifier;
    want(a.name, minimum);
  }
  auto stored = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto ok = u.insert(requests_ns, pl.request_id, pl.to_json(), pl.issued + cfg_.request_ttl);
    if (!ok) return ok.error();
    if (!*ok) return errc::store_failure;  // 192 random bits collided: refuse, do not reuse
    return {};
  });
  if (!stored) {
    ctx_.log.error("eid: cannot store the pending login", {{"error", stored.error().message()}});
    return back("temporarily_unavailable", "the login could not be started");
  }
  ctx_.log.info("eid: login started",
                {{"client_id", client->id}, {"loa", loa_uri}, {"request_id", r.request_id}});
  return start_(pl);
}

boost::json::object oidc_front::released_claims(oidc_client const& client,
                                                std::vector<std::string> const& scopes,
                                                identity const& who) const {
  json::object out;
  for (auto const& [name, value] : who.attributes) {
    auto const* a = find_attribute(name);                    // by Name URI, never FriendlyName
    if (!a || a->name == attr::person_identifier) continue;  // never released as is
    if (!contains(scopes, a->scope) || !contains(client.claims, a->claim)) continue;
    out[a->claim] = value;
  }
  return out;
}

response oidc_front::complete(std::string_view request_id, identity const& who,
                              std::string const& http_request_id) {
  std::optional<pending_login> pl;
  std::string code = random_token(32);
  std::string sub, event_subject;
  auto now = ctx_.time.now();
  auto done = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto rec = u.get(requests_ns, request_id);
    if (!rec) return rec.error();
    if (!*rec) return errc::invalid_grant;  // unknown, used or expired: checked before too
    pl = pending_login::from_json(**rec);
    if (!pl) return errc::store_failure;
    if (auto e = u.erase(requests_ns, request_id); !e) return e.error();  // one time
    auto const* client = cfg_.oidc.client(pl->client_id);
    if (!client) return errc::invalid_client;  // removed from the config meanwhile
    sub = pairwise_subject(cfg_.oidc.pairwise_secret, client->sector, who.person_identifier);
    event_subject =
        pairwise_subject(cfg_.oidc.pairwise_secret, event_sector, who.person_identifier);
    json::array sc;
    for (auto const& s : pl->scopes) sc.emplace_back(s);
    json::object rec_code{{"client_id", pl->client_id},
                          {"redirect_uri", pl->redirect_uri},
                          {"code_challenge", pl->code_challenge},
                          {"nonce", pl->nonce},
                          {"scopes", sc},
                          {"sub", sub},
                          {"acr", who.loa},
                          {"auth_time", unix_seconds(who.auth_instant)},
                          {"claims", released_claims(*client, pl->scopes, who)}};
    auto put = u.insert(codes_ns, code, json::serialize(rec_code), now + cfg_.oidc.code_ttl);
    if (!put) return put.error();
    if (!*put) return errc::store_failure;
    cloud_event ev;
    ev.id = new_event_id();
    ev.source = std::string(event_source);
    ev.type = std::string(succeeded_type);
    ev.subject = event_subject;
    ev.time = now;
    ev.dataschema = std::string(succeeded_schema);
    ev.partitionkey = event_subject;
    if (!http_request_id.empty()) ev.requestid = http_request_id;
    ev.family = std::string(event_family);
    json::object data{{"subject", event_subject},
                      {"client_id", pl->client_id},
                      {"loa", who.loa},
                      {"loa_requested", pl->loa},
                      {"country", who.country.empty() ? std::string("XX") : who.country},
                      {"auth_time", format_rfc3339(who.auth_instant)}};
    // Attribute values only as far as the release policy of the eid topic lists them.
    json::object released;
    for (auto const& [name, value] : who.attributes)
      if (auto const* a = find_attribute(name);
          a && std::find(cfg_.event_claims.begin(), cfg_.event_claims.end(), a->claim) !=
                   cfg_.event_claims.end())
        released[a->claim] = value;
    if (!released.empty()) data["claims"] = std::move(released);
    ev.data = std::move(data);
    return u.emit(ev);
  });
  if (!done) {
    bool unknown = done.error() == make_error_code(errc::invalid_grant);
    ctx_.log.warn("eid: login could not be completed",
                  {{"reason", done.error().message()}, {"request_id", http_request_id}});
    logins_failed_->inc();
    return error_page(unknown ? 400 : 503, "Login failed",
                      unknown ? "This login is unknown, was already used or has expired. Please "
                                "start again from the application."
                              : "The login could not be completed. Please try again.");
  }
  logins_ok_->inc();
  ctx_.log.info("eid: login succeeded",
                {{"client_id", pl->client_id}, {"loa", who.loa}, {"request_id", http_request_id}});
  std::string loc = pl->redirect_uri +
                    (pl->redirect_uri.find('?') == std::string::npos ? "?" : "&") +
                    "code=" + form_encode(code);
  if (!pl->state.empty()) loc += "&state=" + form_encode(pl->state);
  loc += "&iss=" + form_encode(cfg_.oidc.issuer);  // RFC 9207
  response r;
  r.status = 302;
  r.headers.set("Location", loc);
  no_store(r);
  return r;
}

response oidc_front::fail(std::string_view request_id, std::string_view reason,
                          std::string_view detail, std::string const& http_request_id) {
  std::optional<pending_login> pl;
  auto now = ctx_.time.now();
  auto done = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    if (!request_id.empty()) {
      auto rec = u.get(requests_ns, request_id);
      if (!rec) return rec.error();
      if (*rec) {
        pl = pending_login::from_json(**rec);
        if (auto e = u.erase(requests_ns, request_id); !e) return e.error();
      }
    }
    cloud_event ev;
    ev.id = new_event_id();
    ev.source = std::string(event_source);
    ev.type = std::string(failed_type);
    ev.time = now;
    ev.dataschema = std::string(failed_schema);
    std::string client = pl ? pl->client_id : std::string();
    ev.partitionkey = client.empty() ? std::string("unknown") : client;
    if (!http_request_id.empty()) ev.requestid = http_request_id;
    ev.family = std::string(event_family);
    json::object data{
        {"reason", reason},
        {"client_id", client.empty() ? json::value(nullptr) : json::value(client)},
        {"loa_requested", pl ? json::value(pl->loa) : json::value(nullptr)},
        {"country", cfg_.node.country.empty() ? std::string("XX") : cfg_.node.country},
        {"time", format_rfc3339(now)}};
    ev.data = std::move(data);
    return u.emit(ev);
  });
  logins_failed_->inc();
  ctx_.log.warn("eid: login failed", {{"reason", std::string(reason)},
                                      {"request_id", http_request_id},
                                      {"stored", done ? "yes" : "no"}});
  auto page = error_page(403, "Login failed", detail);
  return page;
}

response oidc_front::token(request const& r) {
  if (auto ct = r.header("Content-Type");
      !ct || !ct->starts_with("application/x-www-form-urlencoded"))
    return token_error(400, "invalid_request",
                       "the body must be application/x-www-form-urlencoded");
  auto p = read_params(r.body);
  if (!p || p->duplicated)
    return token_error(400, "invalid_request", "malformed or repeated parameters");
  // Client authentication: client_secret_basic, or a public client naming itself.
  oidc_client const* client = nullptr;
  if (auto auth = r.header("Authorization")) {
    if (!auth->starts_with("Basic "))
      return token_error(401, "invalid_client", "use HTTP Basic", true);
    auto raw = base64_decode(auth->substr(6));
    auto colon = raw ? raw->find(':') : std::string::npos;
    if (colon == std::string::npos)
      return token_error(401, "invalid_client", "malformed credentials", true);
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic encoding.
    auto id = form_decode(std::string_view(*raw).substr(0, colon));
    auto secret = form_decode(std::string_view(*raw).substr(colon + 1));
    client = id ? cfg_.oidc.client(*id) : nullptr;
    if (!client || client->is_public || !secret || !equal_secret(*secret, client->secret))
      return token_error(401, "invalid_client", "client authentication failed", true);
    if (auto bid = p->get("client_id"); bid && *bid != client->id)
      return token_error(401, "invalid_client", "client_id does not match the credentials", true);
  } else {
    auto id = p->get("client_id");
    client = id ? cfg_.oidc.client(*id) : nullptr;
    if (!client || !client->is_public || p->get("client_secret"))
      return token_error(401, "invalid_client", "client authentication failed", true);
  }
  if (p->get("grant_type") != std::optional<std::string>("authorization_code"))
    return token_error(400, "unsupported_grant_type", "only authorization_code is supported");
  auto code = p->get("code");
  if (!code || code->empty()) return token_error(400, "invalid_request", "code is missing");
  auto redirect_uri = p->get("redirect_uri").value_or("");
  auto verifier = p->get("code_verifier");

  std::string failure, failure_text;
  json::object out;
  auto now = ctx_.time.now();
  // One transaction: the code is erased whatever the outcome (single use, even when a wrong
  // verifier is tried), and the access token is stored with it.
  auto done = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto rec = u.get(codes_ns, *code);
    if (!rec) return rec.error();
    if (!*rec) {
      failure = "invalid_grant", failure_text = "the code is unknown, used or expired";
      return {};
    }
    if (auto e = u.erase(codes_ns, *code); !e) return e.error();
    boost::system::error_code ec;
    auto v = json::parse(**rec, ec);
    if (ec || !v.is_object()) return errc::store_failure;
    auto const& c = v.as_object();
    auto str = [&](char const* k) {
      auto const* x = c.if_contains(k);
      return x && x->is_string() ? std::string(x->as_string()) : std::string();
    };
    if (str("client_id") != client->id) {
      failure = "invalid_grant", failure_text = "the code was issued to another client";
      return {};
    }
    if (str("redirect_uri") != redirect_uri) {
      failure = "invalid_grant",
      failure_text = "redirect_uri does not match the authorization request";
      return {};
    }
    auto challenge = str("code_challenge");
    if (!challenge.empty() || verifier) {
      if (challenge.empty() || !verifier || !valid_verifier(*verifier) ||
          base64url_encode(sha256(*verifier)) != challenge) {
        failure = "invalid_grant", failure_text = "PKCE verification failed";
        return {};
      }
    }
    std::vector<std::string> scopes;
    if (auto const* sc = c.if_contains("scopes"); sc && sc->is_array())
      for (auto const& s : sc->as_array())
        if (s.is_string()) scopes.emplace_back(s.as_string());
    json::object claims = c.if_contains("claims") && c.at("claims").is_object()
                              ? c.at("claims").as_object()
                              : json::object{};
    auto iat = unix_seconds(now);
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg_.oidc.token_ttl).count();
    json::object id{
        {"iss", cfg_.oidc.issuer},
        {"sub", str("sub")},
        {"aud", client->id},
        {"azp", client->id},
        {"iat", iat},
        {"exp", iat + ttl},
        {"auth_time", c.if_contains("auth_time") ? c.at("auth_time") : json::value(iat)},
        {"acr", str("acr")},
        {"amr", json::array{"eidas"}}};
    if (auto n = str("nonce"); !n.empty()) id["nonce"] = n;
    for (auto const& [k, val] : claims) id[k] = val;
    auto jwt = signer_.sign(id);
    if (!jwt) return jwt.error();
    std::string access = random_token(32);
    json::object info = claims;
    info["sub"] = str("sub");
    auto put = u.put(tokens_ns, base64url_encode(sha256(access)), json::serialize(info),
                     now + cfg_.oidc.token_ttl);
    if (!put) return put.error();
    std::string scope_text;
    for (auto const& s : scopes) scope_text += (scope_text.empty() ? "" : " ") + s;
    out = {{"access_token", access},
           {"token_type", "Bearer"},
           {"expires_in", ttl},
           {"id_token", *jwt},
           {"scope", scope_text}};
    return {};
  });
  if (!done) {
    ctx_.log.error("eid: token request failed", {{"error", done.error().message()}});
    return token_error(500, "server_error", "the token could not be issued");
  }
  if (!failure.empty()) {
    ctx_.log.info("eid: token refused", {{"client_id", client->id}, {"reason", failure_text}});
    return token_error(400, failure, failure_text);
  }
  tokens_issued_->inc();
  auto resp = response::json(200, out);
  no_store(resp);
  return resp;
}

response oidc_front::userinfo(request const& r) {
  auto refuse = [&](std::string_view error, std::string_view desc) {
    auto resp = response::json(401, json::object{{"error", error}, {"error_description", desc}});
    resp.headers.set("WWW-Authenticate",
                     "Bearer realm=\"bbgw\", error=\"" + std::string(error) + "\"");
    no_store(resp);
    return resp;
  };
  auto auth = r.header("Authorization");
  if (!auth || auth->size() < 8 || !iequals(auth->substr(0, 7), "Bearer "))
    return refuse("invalid_token", "a Bearer access token is required");
  auto token = auth->substr(7);
  auto rec = ctx_.db.get(tokens_ns, base64url_encode(sha256(token)));
  if (!rec) {
    auto resp = response::json(503, json::object{{"error", "temporarily_unavailable"}});
    return resp;
  }
  if (!*rec) return refuse("invalid_token", "the access token is unknown or expired");
  boost::system::error_code ec;
  auto v = json::parse(**rec, ec);
  if (ec) return response::json(500, json::object{{"error", "server_error"}});
  auto resp = response::json(200, v);
  no_store(resp);
  return resp;
}

}  // namespace bbgw::eid

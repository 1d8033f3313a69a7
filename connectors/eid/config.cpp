#include "eid/config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <boost/url/parse.hpp>

#include "eid/attributes.hpp"

namespace bbgw::eid {

namespace {

bool is_http_url(std::string const& s, bool allow_query = false) {
  auto u = boost::urls::parse_absolute_uri(s);
  return u && (u->scheme() == "http" || u->scheme() == "https") && !u->host().empty() &&
         (allow_query || !u->has_query()) && !u->has_fragment() && !u->has_userinfo();
}

void need_file(config_reader& r, std::string_view key, std::string const& path) {
  if (!std::filesystem::is_regular_file(path)) r.fail(key, "no such file: " + path);
}

std::set<std::string> const& known_scopes() {
  static std::set<std::string> const s{"openid", "profile", "address", "eidas", "legal_person"};
  return s;
}

}  // namespace

oidc_client const* oidc_config::client(std::string_view id) const {
  for (auto const& c : clients)
    if (c.id == id) return &c;
  return nullptr;
}

std::optional<eid_config> read_config(config_reader& r) {
  static constexpr char const* keys[] = {"sp",          "node", "clock_skew", "max_authn_age",
                                         "request_ttl", "oidc", "events",     "schemas_dir"};
  if (!r.boolean("enabled", false)) {
    for (auto k : keys) (void)r.raw(k);  // disabled: accepted, not validated
    return std::nullopt;
  }
  eid_config c;
  {
    auto s = r.child("sp");
    auto& sp = c.sp;
    sp.entity_id = s.string("entity_id", "");
    if (!sp.entity_id.empty() && !is_http_url(sp.entity_id))
      s.fail("entity_id", "must be an http(s) URL (the SP's metadata URL)");
    sp.acs_url = s.string("acs_url", "");
    if (!sp.acs_url.empty() && !is_http_url(sp.acs_url))
      s.fail("acs_url", "must be an http(s) URL without query");
    sp.signing_key = s.string("signing_key", sp.signing_key);
    need_file(s, "signing_key", sp.signing_key);
    sp.signing_cert = s.string("signing_cert", sp.signing_cert);
    need_file(s, "signing_cert", sp.signing_cert);
    sp.encryption_key = s.string("encryption_key", sp.encryption_key);
    need_file(s, "encryption_key", sp.encryption_key);
    sp.encryption_cert = s.string("encryption_cert", sp.encryption_cert);
    need_file(s, "encryption_cert", sp.encryption_cert);
    sp.sp_type = s.choice("sp_type", sp.sp_type, {"public", "private"});
    sp.binding = s.choice("binding", sp.binding, {"post", "redirect"});
    sp.name_id_format = s.choice("name_id_format", sp.name_id_format,
                                 {"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
                                  "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
                                  "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"});
    sp.loa = s.string("loa", sp.loa);
    if (!parse_loa(sp.loa))
      s.fail("loa",
             "must be an eIDAS LoA URI such as http://eidas.europa.eu/LoA/substantial (or the "
             "http://eidas.europa.eu/NotNotified/LoA/... variants)");
    auto list = s.list("requested_attributes");
    for (std::size_t i = 0; i < list.size(); ++i) {
      auto& a = list[i];
      requested_attribute ra;
      ra.name = a.string("name", "");
      if (!find_attribute(ra.name))
        a.fail("name", "'" + ra.name + "' is not a known eIDAS attribute Name URI");
      ra.required = a.boolean("required", false);
      a.finish();
      sp.requested_attributes.push_back(std::move(ra));
    }
    sp.signature_method = s.choice("signature_method", sp.signature_method,
                                   {"http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
                                    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
                                    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                                    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
                                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"});
    sp.digest_method = s.choice(
        "digest_method", sp.digest_method,
        {"http://www.w3.org/2001/04/xmlenc#sha256", "http://www.w3.org/2001/04/xmldsig-more#sha384",
         "http://www.w3.org/2001/04/xmlenc#sha512"});
    s.finish();
  }
  {
    auto n = r.child("node");
    auto& node = c.node;
    node.metadata_file = n.string("metadata_file", "");
    node.metadata_url = n.string("metadata_url", "");
    node.metadata_url_allow = n.strings("metadata_url_allow", {});
    if (!node.metadata_file.empty() && !node.metadata_url.empty())
      n.fail("metadata_url", "give metadata_file or metadata_url, not both");
    if (!node.metadata_file.empty()) need_file(n, "metadata_file", node.metadata_file);
    if (!node.metadata_url.empty()) {
      if (!is_http_url(node.metadata_url, true)) n.fail("metadata_url", "must be an http(s) URL");
      bool allowed = std::any_of(
          node.metadata_url_allow.begin(), node.metadata_url_allow.end(),
          [&](auto const& p) { return !p.empty() && node.metadata_url.starts_with(p); });
      if (!allowed)
        n.fail("metadata_url", "'" + node.metadata_url +
                                   "' does not start with any prefix of node.metadata_url_allow");
    }
    node.trust_anchor = n.string("trust_anchor", "");
    if (!node.trust_anchor.empty()) need_file(n, "trust_anchor", node.trust_anchor);
    if ((!node.metadata_file.empty() || !node.metadata_url.empty()) && node.trust_anchor.empty())
      n.fail("trust_anchor", "must name the PEM certificate that signs the node's metadata");
    node.refresh_interval =
        n.duration("refresh_interval", node.refresh_interval, std::chrono::seconds(1));
    node.legacy_algorithms = n.boolean("legacy_algorithms", false);
    node.allow_cbc_encryption = n.boolean("allow_cbc_encryption", false);
    node.allow_oaep_sha1 = n.boolean("allow_oaep_sha1", false);
    node.country = n.string("country", "");
    if (!node.country.empty() &&
        (node.country.size() != 2 || !std::all_of(node.country.begin(), node.country.end(),
                                                  [](char ch) { return ch >= 'A' && ch <= 'Z'; })))
      n.fail("country", "must be an upper-case ISO 3166-1 alpha-2 code such as ES");
    n.finish();
  }
  c.clock_skew = r.duration("clock_skew", c.clock_skew);
  if (c.clock_skew.count() < 0 || c.clock_skew > std::chrono::minutes(5))
    r.fail("clock_skew", "must be between 0 and 5m");
  c.max_authn_age = r.duration("max_authn_age", c.max_authn_age, std::chrono::seconds(1));
  c.request_ttl = r.duration("request_ttl", c.request_ttl, std::chrono::seconds(1));
  c.schemas_dir = r.string("schemas_dir", c.schemas_dir);
  if (!std::filesystem::is_regular_file(c.schemas_dir + "/saml/saml-schema-protocol-2.0.xsd"))
    r.fail("schemas_dir", "no saml/saml-schema-protocol-2.0.xsd under " + c.schemas_dir);
  {
    auto o = r.child("oidc");
    auto& oidc = c.oidc;
    oidc.issuer = o.string("issuer", "");
    if (!oidc.issuer.empty() && !is_http_url(oidc.issuer))
      o.fail("issuer", "must be an http(s) URL without query or fragment");
    while (!oidc.issuer.empty() && oidc.issuer.back() == '/') oidc.issuer.pop_back();
    oidc.signing_key = o.string("signing_key", oidc.signing_key);
    need_file(o, "signing_key", oidc.signing_key);
    oidc.pairwise_secret = o.secret("pairwise_secret", "");
    if (oidc.pairwise_secret.size() < 16)
      o.fail("pairwise_secret",
             "must be set to a secret of at least 16 characters (it keys the pseudonyms)");
    oidc.code_ttl = o.duration("code_ttl", oidc.code_ttl, std::chrono::seconds(1));
    if (oidc.code_ttl > std::chrono::minutes(10)) o.fail("code_ttl", "must be at most 10m");
    oidc.token_ttl = o.duration("token_ttl", oidc.token_ttl, std::chrono::seconds(1));
    auto list = o.list("clients");
    std::set<std::string> ids;
    for (auto& cl : list) {
      oidc_client k;
      k.id = cl.string("id", "");
      if (k.id.empty()) cl.fail("id", "must be set");
      if (!ids.insert(k.id).second) cl.fail("id", "duplicate client id '" + k.id + "'");
      k.is_public = cl.boolean("public", false);
      k.secret = cl.secret("secret", "");
      if (!k.is_public && k.secret.size() < 16)
        cl.fail("secret", "confidential clients need a secret of at least 16 characters");
      if (k.is_public && !k.secret.empty())
        cl.fail("secret", "a public client has no secret (it uses PKCE)");
      k.redirect_uris = cl.strings("redirect_uris", {});
      if (k.redirect_uris.empty()) cl.fail("redirect_uris", "must list at least one URI");
      for (auto const& u : k.redirect_uris)
        if (!is_http_url(u, true)) cl.fail("redirect_uris", "'" + u + "' is not an http(s) URL");
      k.scopes = cl.strings("scopes", k.scopes);
      if (std::find(k.scopes.begin(), k.scopes.end(), "openid") == k.scopes.end())
        cl.fail("scopes", "must include openid");
      for (auto const& sc : k.scopes)
        if (!known_scopes().contains(sc))
          cl.fail("scopes", "'" + sc +
                                "' is not one of openid, profile, address, eidas, "
                                "legal_person");
      k.claims = cl.strings("claims", k.claims);
      for (auto const& cn : k.claims)
        if (!find_claim(cn)) cl.fail("claims", "'" + cn + "' is not a claim mapped from eIDAS");
      k.sector = cl.string("sector", k.id);
      cl.finish();
      oidc.clients.push_back(std::move(k));
    }
    o.finish();
  }
  {
    auto e = r.child("events");
    c.event_claims = e.strings("release", {});
    for (auto const& cn : c.event_claims)
      if (!find_claim(cn)) e.fail("release", "'" + cn + "' is not a claim mapped from eIDAS");
    e.finish();
  }
  return c;
}

void apply_base_url(eid_config& c, std::string base) {
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (c.sp.entity_id.empty()) c.sp.entity_id = base + "/eid/metadata";
  if (c.sp.acs_url.empty()) c.sp.acs_url = base + "/eid/acs";
  if (c.oidc.issuer.empty()) c.oidc.issuer = base;
}

}  // namespace bbgw::eid

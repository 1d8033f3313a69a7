#include "eid/saml_sp.hpp"

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "eid/acs_rules.hpp"
#include "eid/authn_request.hpp"
#include "eid/codec.hpp"
#include "eid/eid_errc.hpp"
#include "eid/node_metadata.hpp"
#include "eid/saml_ns.hpp"
#include "eid/sp_metadata.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::eid {

namespace {

std::string read_text(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

xmlsec::key load_pair(std::string const& key, std::string const& cert, std::string const& what) {
  auto k = xmlsec::key::from_pem_pair(key, cert);
  if (!k)
    throw std::runtime_error("eid: cannot load the " + what + " key/certificate (" + key + ", " +
                             cert + "): " + k.error().message());
  return *k;
}

response page(unsigned status, std::string_view title, std::string_view text) {
  auto r = response::text(status,
                          "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" +
                              xml_escape(title) + "</title></head><body><h1>" + xml_escape(title) +
                              "</h1><p>" + xml_escape(text) + "</p></body></html>",
                          "text/html; charset=utf-8");
  r.headers.set("Cache-Control", "no-store");
  return r;
}

// A friendly sentence for the node's status codes (the user sees it).
std::string status_text(std::string_view reason) {
  if (reason == "RequestDenied") return "The login was cancelled or refused.";
  if (reason == "AuthnFailed") return "The authentication with your national eID failed.";
  if (reason == "NoAuthnContext")
    return "Your eID does not reach the level of assurance this application needs.";
  return "The eIDAS node could not log you in (" + std::string(reason) + ").";
}

}  // namespace

struct saml_sp::impl {
  eid_config const& cfg;
  connector_context& ctx;
  complete_fn ok;
  fail_fn failed;
  xmlsec::key signing, encryption;
  std::optional<xmlsec::key> anchor;
  xmlsec::algorithm_policy policy;
  std::optional<xmlsec::schema_set> schemas;
  std::mutex mutex;  // node_, metadata_
  // Shared, not copied per request: an in-flight ACS keeps the keys it started with across a
  // refresh, and the lock is held only to copy a pointer.
  std::shared_ptr<node_metadata const> node;
  std::string sp_metadata;  // signed, cached
  sys_time sp_metadata_until{};
  counter* acs_ok;
  counter* signatures_direct;  // of accepted Responses, by verification path
  counter* signatures_xmlsec;

  impl(eid_config const& c, connector_context& x)
      : cfg(c),
        ctx(x),
        signing(load_pair(c.sp.signing_key, c.sp.signing_cert, "SP signing")),
        encryption(load_pair(c.sp.encryption_key, c.sp.encryption_cert, "SP encryption")),
        policy(xmlsec::algorithm_policy::eidas(true)) {
    // The old toolkits' SHA-1 / RSA-1024 only when explicitly configured (test corpora).
    if (c.node.legacy_algorithms) policy = xmlsec::algorithm_policy::legacy(policy);
    // Per-node allowances for nodes that cannot do AES-GCM / a SHA-2 OAEP digest (Lasso).
    // Only the content cipher and the OAEP digest widen: never rsa-1_5, never SHA-1 elsewhere.
    if (c.node.allow_cbc_encryption)
      for (auto u : cbc_uris) policy.data_encryption.emplace_back(u);
    if (c.node.allow_oaep_sha1) policy.key_transport.emplace_back(xmlsec::uri::sha1);
    std::filesystem::path dir = c.schemas_dir;
    std::vector<std::filesystem::path> files{
        dir / "saml/saml-schema-protocol-2.0.xsd", dir / "saml/saml-schema-assertion-2.0.xsd",
        dir / "saml/xmldsig-core-schema.xsd",      dir / "saml/xenc-schema.xsd",
        dir / "saml/xenc-schema-11.xsd",  // xenc11:MGF etc. inside EncryptionMethod
        dir / "eidas/saml_eidas_extension.xsd"};
    std::string why;
    auto s = xmlsec::schema_set::load(files, &why);
    if (!s) throw std::runtime_error("eid: cannot load the SAML schemas: " + why);
    schemas.emplace(std::move(*s));
    if (!c.node.trust_anchor.empty()) {
      auto a = xmlsec::key::from_pem_file(c.node.trust_anchor);
      if (!a) throw std::runtime_error("eid: node.trust_anchor is not a usable certificate");
      anchor = *a;
    }
    acs_ok = &x.stats.make_counter("bbgw_eid_acs_accepted_total", "SAML Responses accepted");
    char const* const by_path =
        "Signatures of accepted SAML Responses, by verification path (direct: the library's "
        "c14n and EVP; xmlsec: its generic path)";
    signatures_direct =
        &x.stats.make_counter("bbgw_eid_signatures_verified_total", by_path, {{"path", "direct"}});
    signatures_xmlsec =
        &x.stats.make_counter("bbgw_eid_signatures_verified_total", by_path, {{"path", "xmlsec"}});
    if (!c.node.metadata_file.empty() || !c.node.metadata_url.empty()) {
      std::string detail;
      if (!refresh(&detail)) throw std::runtime_error("eid: node metadata: " + detail);
    }
  }

  // Loads the node metadata again; keeps the old one when the new one is refused.
  bool refresh(std::string* detail) {
    std::string xml;
    if (!cfg.node.metadata_file.empty()) {
      try {
        xml = read_text(cfg.node.metadata_file);
      } catch (std::exception const& e) {
        *detail = e.what();
        return false;
      }
    } else {
      client_request rq;
      rq.url = cfg.node.metadata_url;
      rq.max_response_body = 4 * 1024 * 1024;
      auto resp = ctx.http.send(rq);
      if (!resp || resp->status != 200) {
        *detail = "cannot fetch " + cfg.node.metadata_url;
        return false;
      }
      xml = std::move(resp->body);
    }
    auto m = parse_node_metadata(xml, *anchor, policy, ctx.time.now(), detail);
    if (!m) return false;
    std::lock_guard lock(mutex);
    node = std::make_shared<node_metadata const>(std::move(*m));
    return true;
  }

  // The current node metadata, refreshed when due; nothing when none is valid.
  std::shared_ptr<node_metadata const> current() {
    {
      std::lock_guard lock(mutex);
      if (node && ctx.time.now() < node->loaded + cfg.node.refresh_interval &&
          (!node->valid_until || ctx.time.now() < *node->valid_until))
        return node;
    }
    if (cfg.node.metadata_file.empty() && cfg.node.metadata_url.empty()) return nullptr;
    std::string detail;
    if (!refresh(&detail)) ctx.log.warn("eid: node metadata refresh refused", {{"reason", detail}});
    std::lock_guard lock(mutex);
    if (node && node->valid_until && ctx.time.now() >= *node->valid_until) return nullptr;
    return node;
  }
};

saml_sp::saml_sp(eid_config const& cfg, connector_context& ctx)
    : impl_(std::make_unique<impl>(cfg, ctx)) {}
saml_sp::~saml_sp() = default;

void saml_sp::on_result(complete_fn ok, fail_fn failed) {
  impl_->ok = std::move(ok);
  impl_->failed = std::move(failed);
}

response saml_sp::start_login(pending_login const& pl) {
  auto& m = *impl_;
  auto node = m.current();
  bool post = m.cfg.sp.binding == "post";
  if (!node || (post ? node->sso_post : node->sso_redirect).empty())
    return page(503, "eID login unavailable",
                "The national eID service is not available at the moment. Please try later.");
  authn_request_spec s;
  s.id = pl.request_id;
  s.destination = post ? node->sso_post : node->sso_redirect;
  s.issuer = m.cfg.sp.entity_id;
  s.acs_url = m.cfg.sp.acs_url;
  s.sp_type = m.cfg.sp.sp_type;
  s.name_id_format = m.cfg.sp.name_id_format;
  s.loa = pl.loa;
  s.attributes = pl.attributes;
  s.issue_instant = m.ctx.time.now();
  auto xml = build_authn_request(s);
  if (post) {
    auto signed_xml = sign_saml(xml, m.signing, m.cfg.sp.signature_method, m.cfg.sp.digest_method);
    if (!signed_xml) {
      m.ctx.log.error("eid: cannot sign the AuthnRequest",
                      {{"error", signed_xml.error().message()}});
      return page(500, "eID login unavailable", "The login request could not be signed.");
    }
    auto r = response::text(
        200, post_form(s.destination, "SAMLRequest", base64_encode(*signed_xml), pl.request_id),
        "text/html; charset=utf-8");
    r.headers.set("Cache-Control", "no-store");
    return r;
  }
  // HTTP-Redirect: the signature covers the exact query string (bindings §3.4.4.1).
  auto query = redirect_query_to_sign(xml, pl.request_id, m.cfg.sp.signature_method);
  auto sig = xmlsec::sign_bytes(query, m.signing, m.cfg.sp.signature_method);
  if (!sig) {
    m.ctx.log.error("eid: cannot sign the AuthnRequest", {{"error", sig.error().message()}});
    return page(500, "eID login unavailable", "The login request could not be signed.");
  }
  response r;
  r.status = 302;
  r.headers.set("Location", s.destination +
                                (s.destination.find('?') == std::string::npos ? "?" : "&") + query +
                                "&Signature=" + form_encode(base64_encode(*sig)));
  r.headers.set("Cache-Control", "no-store");
  return r;
}

response saml_sp::metadata(request const&) {
  auto& m = *impl_;
  auto now = m.ctx.time.now();
  std::lock_guard lock(m.mutex);
  // Re-signed daily, valid a week: a cached copy never outlives its validUntil.
  if (m.sp_metadata.empty() || now >= m.sp_metadata_until - std::chrono::hours(24 * 6)) {
    // The id appended, not "_" + token: g++ 12 warns -Wrestrict (wrongly) on that operator+.
    std::string id = "_";
    id += random_token(16);
    auto xml =
        build_sp_metadata(m.cfg, m.signing, m.encryption, now + std::chrono::hours(24 * 7), id);
    auto s = sign_saml(xml, m.signing, m.cfg.sp.signature_method, m.cfg.sp.digest_method);
    if (!s) {
      m.ctx.log.error("eid: cannot sign the SP metadata", {{"error", s.error().message()}});
      return response::problem(500, "the SP metadata could not be signed");
    }
    m.sp_metadata = std::move(*s);
    m.sp_metadata_until = now + std::chrono::hours(24 * 7);
  }
  return response::text(200, m.sp_metadata, "application/samlmetadata+xml");
}

response saml_sp::acs(request const& r) {
  auto& m = *impl_;
  auto reject = [&](std::string_view rule, std::string const& request_id,
                    std::string const& detail) {
    m.ctx.stats
        .make_counter("bbgw_eid_acs_rejections_total", "SAML Responses refused, by rule",
                      {{"rule", std::string(rule)}})
        .inc();
    m.ctx.log.warn("eid: SAML Response refused", {{"rule", std::string(rule)},
                                                  {"detail", detail},
                                                  {"in_response_to", request_id},
                                                  {"request_id", r.request_id}});
    // A refused Response changes nothing: no event, no code, and the pending login it names
    // stays (anyone can post to the ACS; a forged Response must not end someone's login).
    return page(403, "Login failed",
                "The answer of the national eID service could not be accepted. Please start "
                "the login again.");
  };
  // Only SAMLResponse is decoded out of the body (no copy of every field first).
  std::string b64;
  switch (find_form_field(r.body, "SAMLResponse", b64)) {
    case form_field::found:
      break;
    case form_field::repeated:
      return reject("parse", "", "SAMLResponse repeated");
    case form_field::absent:
    case form_field::malformed:
      return reject("parse", "", "no SAMLResponse");
  }
  auto xml = base64_decode(b64);
  if (!xml) return reject("parse", "", "SAMLResponse is not base64");
  auto node = m.current();
  if (!node) return reject("node_metadata", "", "no valid node metadata");

  acs_context c;
  c.xml = std::move(*xml);
  c.cfg = &m.cfg;
  c.node = &*node;
  c.schemas = m.schemas ? &*m.schemas : nullptr;
  c.policy = &m.policy;
  c.decryption_key = &m.encryption;
  c.now = m.ctx.time.now();
  c.find_request = [&](std::string const& id) -> std::optional<pending_login> {
    auto rec = m.ctx.db.get(requests_ns, id);
    if (!rec || !*rec) return std::nullopt;
    return pending_login::from_json(**rec);
  };
  c.remember_assertion = [&](std::string const& id, sys_time until) -> result<bool> {
    bool fresh = false;
    auto t = m.ctx.db.transact([&](unit_of_work& u) -> result<void> {
      auto ins = u.insert(assertions_ns, id, "1", until);
      if (!ins) return ins.error();
      fresh = *ins;
      return {};
    });
    if (!t) return result<bool>(boost::system::in_place_error, t.error());
    return fresh;
  };
  auto out = run_acs_rules(c);
  if (!out.failed_rule.empty()) {
    if (out.error == make_error_code(errc::login_failed)) {
      m.ctx.stats
          .make_counter("bbgw_eid_acs_rejections_total", "SAML Responses refused, by rule",
                        {{"rule", "status"}})
          .inc();
      m.ctx.log.info("eid: the node refused the login",
                     {{"status", c.status_reason}, {"request_id", r.request_id}});
      return m.failed(c.in_response_to, c.status_reason, status_text(c.status_reason),
                      r.request_id);
    }
    return reject(out.failed_rule, c.in_response_to, c.detail);
  }
  m.acs_ok->inc();
  if (c.signatures_direct) m.signatures_direct->inc(c.signatures_direct);
  if (c.signatures_xmlsec) m.signatures_xmlsec->inc(c.signatures_xmlsec);
  return m.ok(c.in_response_to, c.who, r.request_id);
}

}  // namespace bbgw::eid

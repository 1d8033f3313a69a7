#pragma once
// The typed config of connectors.eid, read and validated once at start-up. Every key has a
// default; a wrong value throws config_error naming the key.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/config_reader.hpp"

namespace bbgw::eid {

struct requested_attribute {
  std::string name;  // eIDAS Name URI
  bool required = false;
};

struct sp_config {
  std::string entity_id;  // default <public_base_url>/eid/metadata
  std::string acs_url;    // default <public_base_url>/eid/acs
  std::string signing_key = "var/certs/saml-sp-signing.key";
  std::string signing_cert = "var/certs/saml-sp-signing.crt";
  std::string encryption_key = "var/certs/saml-sp-encryption.key";
  std::string encryption_cert = "var/certs/saml-sp-encryption.crt";
  std::string sp_type = "public";  // public | private
  std::string binding = "post";    // post | redirect
  std::string name_id_format = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent";
  std::string loa = "http://eidas.europa.eu/LoA/substantial";
  std::vector<requested_attribute> requested_attributes;  // always asked for
  std::string signature_method = "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1";
  std::string digest_method = "http://www.w3.org/2001/04/xmlenc#sha256";
};

struct node_config {
  std::string metadata_file;
  std::string metadata_url;
  std::vector<std::string> metadata_url_allow;  // URL prefixes metadata_url must start with
  std::string trust_anchor;                     // PEM certificate verifying the metadata
  std::chrono::milliseconds refresh_interval{3600 * 1000};
  bool legacy_algorithms = false;  // rsa-sha1 / RSA-1024: test corpora only
  // Nodes that cannot encrypt the eIDAS way (Lasso: AES-CBC content, RSA-OAEP-MGF1P with the
  // default SHA-1 OAEP digest). Each allowance is off by default; rsa-1_5 is never accepted.
  bool allow_cbc_encryption = false;  // aes128/192/256-cbc for the EncryptedAssertion
  bool allow_oaep_sha1 = false;       // SHA-1 as the OAEP digest (not as MGF1 of xmlenc11)
  std::string country;                // reported in events; default from metadata or "XX"
};

struct oidc_client {
  std::string id;
  std::string secret;  // empty for public clients
  bool is_public = false;
  std::vector<std::string> redirect_uris;  // exact match
  std::vector<std::string> scopes{"openid", "profile"};
  std::vector<std::string> claims{"given_name", "family_name", "birthdate"};  // released
  std::string sector;  // pairwise sector; default the client id
};

struct oidc_config {
  std::string issuer;  // default public_base_url
  std::string signing_key = "var/certs/oidc-signing.key";
  std::string pairwise_secret;
  std::chrono::milliseconds code_ttl{60 * 1000};
  std::chrono::milliseconds token_ttl{300 * 1000};
  std::vector<oidc_client> clients;

  oidc_client const* client(std::string_view id) const;
};

struct eid_config {
  sp_config sp;
  node_config node;
  std::chrono::milliseconds clock_skew{60 * 1000};
  std::chrono::milliseconds max_authn_age{300 * 1000};
  std::chrono::milliseconds request_ttl{600 * 1000};
  oidc_config oidc;
  std::string schemas_dir = "schemas/xsd";  // holds saml/ and eidas/ XSDs
  std::vector<std::string> event_claims;    // claims the eid topic's events may carry
};

// Reads connectors.eid; nothing when disabled. Throws config_error naming the bad key.
std::optional<eid_config> read_config(config_reader& r);
// Fills the defaults that depend on the gateway's public base URL (entity id, ACS URL, issuer).
void apply_base_url(eid_config& c, std::string base_url);

}  // namespace bbgw::eid

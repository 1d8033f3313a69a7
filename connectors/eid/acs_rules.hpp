#pragma once
// The ACS as ordered validation rules over a per-response context (as OpenSAML's security
// policy): each rule is small and stateless, reads what earlier rules established, and either
// passes or names why it refused. README.md lists them in this order.
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "eid/config.hpp"
#include "eid/login.hpp"
#include "eid/node_metadata.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/schema_set.hpp"

namespace bbgw::eid {

struct acs_context {
  // Inputs.
  std::string xml;  // the decoded SAMLResponse
  eid_config const* cfg = nullptr;
  node_metadata const* node = nullptr;
  xmlsec::schema_set const* schemas = nullptr;  // nullptr: schema rule refuses
  xmlsec::algorithm_policy const* policy = nullptr;
  xmlsec::key const* decryption_key = nullptr;
  sys_time now{};
  // Looks up the pending login an InResponseTo names (nothing when unknown/used/expired).
  std::function<std::optional<pending_login>(std::string const&)> find_request;
  // Records an assertion id until `expires`; false when it was seen before.
  std::function<result<bool>(std::string const&, sys_time)> remember_assertion;

  // Established by the rules.
  std::optional<xmlsec::document> doc;
  xmlNodePtr response = nullptr;
  xmlNodePtr assertion = nullptr;
  bool response_signed = false;
  bool assertion_signed = false;
  int signatures_direct = 0;  // verified by connectors/xmlsec's direct path
  int signatures_xmlsec = 0;  // verified by xmlsec's generic path
  bool assertion_was_encrypted = false;
  std::string in_response_to;
  std::optional<pending_login> pending;
  std::string status_reason;   // non-success: the status code's last segment
  sys_time not_on_or_after{};  // from Conditions, for the replay cache
  identity who;

  // Set by the refusing rule: a log-safe reason (never values from the assertion).
  std::string detail;
};

// Why a rule refused: saml_rejected (the rule's name says which), or login_failed for a
// non-success status from the node.
struct acs_rule {
  std::string_view name;
  result<void> (*check)(acs_context&);
};

// The rules in the order they run.
std::span<acs_rule const> acs_rules();

struct acs_outcome {
  std::string_view failed_rule;  // empty when every rule passed
  error_code error;
};
// Runs every rule in order; stops at the first refusal.
acs_outcome run_acs_rules(acs_context& ctx);

// The rules, public for their tests.
namespace rules {
// A libxml2 message with the quoted values blanked (element names kept): safe to log.
std::string without_values(std::string const& libxml_message);
result<void> parse(acs_context& c);
result<void> schema(acs_context& c);
result<void> destination(acs_context& c);
result<void> issuer(acs_context& c);
result<void> status(acs_context& c);
result<void> in_response_to(acs_context& c);
result<void> response_signature(acs_context& c);
result<void> decrypt(acs_context& c);
result<void> one_assertion(acs_context& c);
result<void> assertion_signature(acs_context& c);
result<void> assertion_issuer(acs_context& c);
result<void> subject_confirmation(acs_context& c);
result<void> conditions(acs_context& c);
result<void> audience(acs_context& c);
result<void> authn_statement(acs_context& c);
result<void> level_of_assurance(acs_context& c);
result<void> attributes(acs_context& c);
result<void> replay(acs_context& c);
}  // namespace rules

}  // namespace bbgw::eid

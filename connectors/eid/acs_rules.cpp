#include "eid/acs_rules.hpp"

#include "eid/eid_errc.hpp"

namespace bbgw::eid {

std::span<acs_rule const> acs_rules() {
  static acs_rule const all[] = {
      {"parse", &rules::parse},
      {"schema", &rules::schema},
      {"destination", &rules::destination},
      {"issuer", &rules::issuer},
      {"in_response_to", &rules::in_response_to},
      {"response_signature", &rules::response_signature},
      {"status", &rules::status},
      {"decrypt", &rules::decrypt},
      {"one_assertion", &rules::one_assertion},
      {"assertion_signature", &rules::assertion_signature},
      {"assertion_issuer", &rules::assertion_issuer},
      {"subject_confirmation", &rules::subject_confirmation},
      {"conditions", &rules::conditions},
      {"audience", &rules::audience},
      {"authn_statement", &rules::authn_statement},
      {"level_of_assurance", &rules::level_of_assurance},
      {"attributes", &rules::attributes},
      {"replay", &rules::replay},
  };
  return all;
}

acs_outcome run_acs_rules(acs_context& ctx) {
  for (auto const& r : acs_rules()) {
    auto ok = r.check(ctx);
    if (!ok) return {r.name, ok.error()};
  }
  return {};
}

}  // namespace bbgw::eid

#include "edelivery/pmode_match.hpp"

#include <algorithm>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

bool has_party(party const& p, pmode_party const& want) {
  return std::any_of(p.ids.begin(), p.ids.end(), [&](party_id const& id) {
    return id.value == want.party_id && id.type == want.party_type;
  });
}

// Number of criteria that match, and the first that does not.
std::pair<int, std::string> score(user_message const& um, pmode const& p) {
  int ok = 0;
  std::string why;
  auto check = [&](bool good, std::string reason) {
    if (good)
      ++ok;
    else if (why.empty())
      why = std::move(reason);
  };
  check(um.agreement_ref == p.agreement,
        "AgreementRef '" + um.agreement_ref + "' is not '" + p.agreement + "'");
  check(um.service == p.service && um.service_type == p.service_type,
        "Service '" + um.service + "' (type '" + um.service_type + "') is not '" + p.service +
            "' (type '" + p.service_type + "')");
  check(um.action == p.action, "Action '" + um.action + "' is not '" + p.action + "'");
  check(has_party(um.from, p.initiator), "From PartyId is not '" + p.initiator.party_id + "'");
  check(um.from.role == p.initiator.role,
        "From Role '" + um.from.role + "' is not '" + p.initiator.role + "'");
  check(has_party(um.to, p.responder), "To PartyId is not '" + p.responder.party_id + "'");
  check(um.to.role == p.responder.role,
        "To Role '" + um.to.role + "' is not '" + p.responder.role + "'");
  return {ok, why};
}

}  // namespace

result<pmode const*> match_pmode(user_message const& um, std::span<pmode const> pmodes,
                                 std::string* detail) {
  int best = -1;
  std::string reason = "no PMode is configured";
  for (auto const& p : pmodes) {
    auto [ok, why] = score(um, p);
    if (why.empty()) return &p;
    if (ok > best) {
      best = ok;
      reason = "closest PMode '" + p.id + "': " + why;
    }
  }
  if (detail) *detail = reason;
  return errc::pmode_mismatch;
}

}  // namespace bbgw::edelivery

#include "eid/login.hpp"

#include <boost/json.hpp>

namespace bbgw::eid {

namespace json = boost::json;

std::string pending_login::to_json() const {
  json::array sc, at;
  for (auto const& s : scopes) sc.emplace_back(s);
  for (auto const& a : attributes)
    at.push_back(json::object{{"name", a.name}, {"required", a.required}});
  json::object o{
      {"request_id", request_id},
      {"client_id", client_id},
      {"redirect_uri", redirect_uri},
      {"state", state},
      {"nonce", nonce},
      {"code_challenge", code_challenge},
      {"scopes", sc},
      {"loa", loa},
      {"attributes", at},
      {"issued_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(issued.time_since_epoch()).count()}};
  return json::serialize(o);
}

std::optional<pending_login> pending_login::from_json(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto const& o = v.as_object();
  pending_login p;
  auto str = [&](char const* k) -> std::string {
    auto const* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  p.request_id = str("request_id");
  p.client_id = str("client_id");
  p.redirect_uri = str("redirect_uri");
  p.state = str("state");
  p.nonce = str("nonce");
  p.code_challenge = str("code_challenge");
  p.loa = str("loa");
  if (auto const* sc = o.if_contains("scopes"); sc && sc->is_array())
    for (auto const& s : sc->as_array())
      if (s.is_string()) p.scopes.emplace_back(s.as_string());
  if (auto const* at = o.if_contains("attributes"); at && at->is_array())
    for (auto const& a : at->as_array()) {
      if (!a.is_object()) continue;
      auto const* n = a.as_object().if_contains("name");
      auto const* r = a.as_object().if_contains("required");
      if (n && n->is_string())
        p.attributes.push_back({std::string(n->as_string()), r && r->is_bool() && r->as_bool()});
    }
  if (auto const* ms = o.if_contains("issued_ms"); ms && ms->is_int64())
    p.issued = sys_time{std::chrono::milliseconds(ms->as_int64())};
  return p;
}

}  // namespace bbgw::eid

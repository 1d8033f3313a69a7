#include "context/subscription_sync.hpp"

#include <algorithm>
#include <map>

#include <boost/json.hpp>

#include "context/sha256.hpp"

namespace bbgw::context {

namespace json = boost::json;

namespace {

std::string pct_encode_segment(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

json::array to_array(std::vector<std::string> const& v) {
  json::array a;
  for (auto const& s : v) a.emplace_back(s);
  return a;
}

std::string describe_failure(client_response const& r) {
  return "HTTP " + std::to_string(r.status);
}

}  // namespace

subscription_sync::subscription_sync(broker_config const& broker, std::string public_base_url,
                                     std::string notify_path_prefix,
                                     std::chrono::milliseconds timeout, http_client& http,
                                     metrics& stats, logger& log)
    : broker_(broker),
      public_base_url_(std::move(public_base_url)),
      prefix_(std::move(notify_path_prefix)),
      timeout_(timeout),
      http_(http),
      log_(log),
      created_(stats.make_counter("bbgw_context_subscriptions_created_total",
                                  "Subscriptions the gateway created on a broker",
                                  {{"broker", broker.name}})),
      deleted_(
          stats.make_counter("bbgw_context_subscriptions_deleted_total",
                             "Duplicate, drifted or orphaned subscriptions the gateway deleted",
                             {{"broker", broker.name}})),
      errors_(stats.make_counter("bbgw_context_subscription_sync_errors_total",
                                 "Sync passes that failed (broker unreachable or refusing)",
                                 {{"broker", broker.name}})),
      drift_missing_(stats.make_counter("bbgw_context_subscriptions_drift_total",
                                        "Differences found between config and broker",
                                        {{"broker", broker.name}, {"kind", "missing"}})),
      drift_mismatch_(stats.make_counter("bbgw_context_subscriptions_drift_total",
                                         "Differences found between config and broker",
                                         {{"broker", broker.name}, {"kind", "mismatch"}})),
      drift_duplicate_(stats.make_counter("bbgw_context_subscriptions_drift_total",
                                          "Differences found between config and broker",
                                          {{"broker", broker.name}, {"kind", "duplicate"}})),
      drift_orphan_(stats.make_counter("bbgw_context_subscriptions_drift_total",
                                       "Differences found between config and broker",
                                       {{"broker", broker.name}, {"kind", "orphan"}})),
      in_sync_(stats.make_gauge("bbgw_context_subscriptions_in_sync",
                                "Configured subscriptions present and matching on the broker",
                                {{"broker", broker.name}})) {
  while (!public_base_url_.empty() && public_base_url_.back() == '/') public_base_url_.pop_back();
}

std::string subscription_sync::notify_url(subscription_config const& sub) const {
  return public_base_url_ + prefix_ + "/" + broker_.name + "/" + sub.name + "?token=" + sub.secret;
}

json::object subscription_sync::desired_body(subscription_config const& sub) const {
  json::object body;
  if (broker_.flavour == flavour::ngsi_v2) {
    json::array entities;
    std::string pattern = sub.id_pattern.empty() ? ".*" : sub.id_pattern;
    if (sub.entity_types.empty()) entities.emplace_back(json::object{{"idPattern", pattern}});
    for (auto const& t : sub.entity_types)
      entities.emplace_back(json::object{{"idPattern", pattern}, {"type", t}});
    json::object subject{{"entities", std::move(entities)}};
    if (!sub.watched_attributes.empty())
      subject["condition"] = json::object{{"attrs", to_array(sub.watched_attributes)}};
    json::object notification{{"http", json::object{{"url", notify_url(sub)}}}};
    if (!sub.notified_attributes.empty()) notification["attrs"] = to_array(sub.notified_attributes);
    notification["attrsFormat"] = sub.format;
    body["subject"] = std::move(subject);
    body["notification"] = std::move(notification);
  } else {
    body["type"] = "Subscription";
    json::array entities;
    for (auto const& t : sub.entity_types) {
      json::object e{{"type", t}};
      if (!sub.id_pattern.empty()) e["idPattern"] = sub.id_pattern;
      entities.emplace_back(std::move(e));
    }
    body["entities"] = std::move(entities);
    if (!sub.watched_attributes.empty())
      body["watchedAttributes"] = to_array(sub.watched_attributes);
    json::object notification;
    if (!sub.notified_attributes.empty())
      notification["attributes"] = to_array(sub.notified_attributes);
    notification["format"] = sub.format;
    notification["endpoint"] =
        json::object{{"uri", notify_url(sub)}, {"accept", "application/json"}};
    body["notification"] = std::move(notification);
  }
  if (sub.throttling > 0) body["throttling"] = sub.throttling;
  // The fingerprint covers everything but the description, so any config change is drift.
  std::string fp = to_hex(sha256_of(json::serialize(body))).substr(0, 16);
  std::string mark = "bbgw:" + broker_.name + "/" + sub.name + "#" + fp;
  body["description"] = sub.description.empty() ? mark : sub.description + " " + mark;
  return body;
}

std::string subscription_sync::marker(subscription_config const& sub) const {
  std::string d(desired_body(sub).at("description").as_string());
  return d.substr(d.rfind("bbgw:"));
}

client_request subscription_sync::base_request(std::string method, std::string url) const {
  client_request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.timeout = timeout_;
  r.headers.add("Accept", "application/json");
  if (broker_.flavour == flavour::ngsi_v2) {
    if (!broker_.tenant.empty()) r.headers.add("Fiware-Service", broker_.tenant);
    if (!broker_.service_path.empty()) r.headers.add("Fiware-ServicePath", broker_.service_path);
  } else {
    if (!broker_.tenant.empty()) r.headers.add("NGSILD-Tenant", broker_.tenant);
    r.headers.add("Link", "<" + broker_.ld_context +
                              ">; rel=\"http://www.w3.org/ns/json-ld#context\"; "
                              "type=\"application/ld+json\"");
  }
  if (broker_.auth_header) r.headers.add(broker_.auth_header->first, broker_.auth_header->second);
  if (!broker_.ca_file.empty()) r.tls = client_tls{broker_.ca_file, {}, {}};
  return r;
}

std::string subscription_sync::collection_url() const {
  return broker_.base_url +
         (broker_.flavour == flavour::ngsi_v2 ? "/v2/subscriptions" : "/ngsi-ld/v1/subscriptions");
}

bool subscription_sync::list(std::vector<json::object>& out, std::string& error) {
  bool const v2 = broker_.flavour == flavour::ngsi_v2;
  for (int page = 0, offset = 0; page < 1000; ++page) {
    auto req = base_request("GET", collection_url() + "?limit=" + std::to_string(page_size) +
                                       "&offset=" + std::to_string(offset) +
                                       (v2 ? "&options=count" : "&count=true"));
    auto resp = http_.send(req);
    if (!resp) {
      error = "list: " + resp.error().message();
      return false;
    }
    if (resp->status != 200) {
      error = "list: " + describe_failure(*resp);
      return false;
    }
    json::error_code ec;
    auto v = json::parse(resp->body, ec);
    if (ec || !v.is_array()) {
      error = "list: the broker's answer is not a JSON array";
      return false;
    }
    auto& arr = v.as_array();
    for (auto& s : arr)
      if (s.is_object()) out.push_back(std::move(s.as_object()));
    offset += static_cast<int>(arr.size());
    std::optional<long> total;
    if (auto t = resp->headers.get(v2 ? "Fiware-Total-Count" : "NGSILD-Results-Count")) {
      try {
        total = std::stol(std::string(*t));
      } catch (...) {
      }
    }
    if (arr.size() < static_cast<std::size_t>(page_size) || (total && offset >= *total))
      return true;
  }
  error = "list: too many pages";
  return false;
}

bool subscription_sync::create(subscription_config const& sub, std::string& id,
                               std::string& error) {
  auto req = base_request("POST", collection_url());
  req.headers.add("Content-Type", "application/json");
  req.body = json::serialize(desired_body(sub));
  auto resp = http_.send(req);
  if (!resp) {
    error = "create: " + resp.error().message();
    return false;
  }
  if (resp->status != 201) {
    error = "create: " + describe_failure(*resp);
    return false;
  }
  if (auto loc = resp->headers.get("Location")) {
    auto pos = loc->rfind('/');
    id = std::string(pos == std::string_view::npos ? *loc : loc->substr(pos + 1));
  }
  return true;
}

bool subscription_sync::remove(std::string const& id, std::string& error) {
  auto resp = http_.send(base_request("DELETE", collection_url() + "/" + pct_encode_segment(id)));
  if (!resp) {
    error = "delete: " + resp.error().message();
    return false;
  }
  // 404: someone else removed it meanwhile, which is what we wanted.
  if (resp->status != 204 && resp->status != 200 && resp->status != 404) {
    error = "delete: " + describe_failure(*resp);
    return false;
  }
  return true;
}

sync_report subscription_sync::run_once() {
  sync_report rep;
  std::vector<json::object> existing;
  if (!list(existing, rep.error)) {
    errors_.inc();
    in_sync_.set(0);
    log_.warn("context subscription sync failed", {{"broker", broker_.name}, {"error", rep.error}});
    return rep;
  }

  // Ours, by subscription name: (broker id, fingerprint marker, active).
  struct found {
    std::string id;
    std::string marker;
    bool active;
  };
  std::map<std::string, std::vector<found>> ours;
  std::string const prefix = "bbgw:" + broker_.name + "/";
  for (auto const& s : existing) {
    auto const* d = s.if_contains("description");
    auto const* id = s.if_contains("id");
    if (!d || !d->is_string() || !id || !id->is_string()) continue;
    std::string_view desc = d->as_string();
    auto at = desc.rfind(prefix);
    if (at == std::string_view::npos || (at > 0 && desc[at - 1] != ' ')) continue;
    std::string_view mark = desc.substr(at);
    auto hash = mark.find('#');
    if (hash == std::string_view::npos) continue;
    std::string name(mark.substr(prefix.size(), hash - prefix.size()));
    bool active = true;
    if (auto const* st = s.if_contains("status"); st && st->is_string())
      active = st->as_string() != "inactive" && st->as_string() != "expired" &&
               st->as_string() != "paused";
    if (auto const* ia = s.if_contains("isActive"); ia && ia->is_bool())
      active = active && ia->as_bool();
    ours[name].push_back({std::string(id->as_string()), std::string(mark), active});
  }

  std::vector<std::string> to_delete;
  bool ok = true;
  for (auto const& sub : broker_.subscriptions) {
    std::string want = marker(sub);
    auto& have = ours[sub.name];
    auto keep = std::find_if(have.begin(), have.end(),
                             [&](found const& f) { return f.active && f.marker == want; });
    if (keep == have.end()) {
      if (have.empty()) {
        drift_missing_.inc();
        log_.info("context subscription missing on broker",
                  {{"broker", broker_.name}, {"subscription", sub.name}});
      } else {
        drift_mismatch_.inc();
        log_.info("context subscription drifted from config",
                  {{"broker", broker_.name}, {"subscription", sub.name}});
      }
      ++rep.drift;
      std::string id, error;
      if (create(sub, id, error)) {
        created_.inc();
        ++rep.created;
        ++rep.in_sync;
        log_.info("context subscription created",
                  {{"broker", broker_.name}, {"subscription", sub.name}, {"id", id}});
        for (auto const& f : have) to_delete.push_back(f.id);
      } else {
        ok = false;
        rep.error = error;
        log_.warn("context subscription create failed",
                  {{"broker", broker_.name}, {"subscription", sub.name}, {"error", error}});
      }
    } else {
      ++rep.in_sync;
      for (auto f = have.begin(); f != have.end(); ++f) {
        if (f == keep) continue;
        if (f->active && f->marker == want) {
          drift_duplicate_.inc();
        } else {
          drift_mismatch_.inc();
        }
        ++rep.drift;
        to_delete.push_back(f->id);
      }
    }
  }
  // Subscriptions of ours whose name is no longer configured.
  for (auto const& [name, list] : ours) {
    bool configured = std::any_of(broker_.subscriptions.begin(), broker_.subscriptions.end(),
                                  [&](subscription_config const& s) { return s.name == name; });
    if (configured) continue;
    for (auto const& f : list) {
      drift_orphan_.inc();
      ++rep.drift;
      to_delete.push_back(f.id);
    }
  }
  for (auto const& id : to_delete) {
    std::string error;
    if (remove(id, error)) {
      deleted_.inc();
      ++rep.deleted;
      log_.info("context subscription deleted", {{"broker", broker_.name}, {"id", id}});
    } else {
      ok = false;
      rep.error = error;
      log_.warn("context subscription delete failed",
                {{"broker", broker_.name}, {"id", id}, {"error", error}});
    }
  }
  if (!ok) errors_.inc();
  in_sync_.set(rep.in_sync);
  rep.ok = ok;
  return rep;
}

}  // namespace bbgw::context

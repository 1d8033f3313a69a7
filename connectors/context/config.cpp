#include "context/config.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <boost/url/parse.hpp>

#include "context/sha256.hpp"

namespace bbgw::context {

std::string_view flavour_name(flavour f) {
  return f == flavour::ngsi_v2 ? "ngsi-v2" : "ngsi-ld";
}

namespace {

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool is_topic_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Reads a map section; a scalar or list where a map belongs is an error, not a silent default.
std::optional<config_reader> section(config_reader& r, std::string_view key) {
  if (!r.has(key)) {
    (void)r.raw(key);  // absent or null: nothing to read
    return std::nullopt;
  }
  YAML::Node n = r.raw(key);
  if (!n.IsMap()) r.fail(key, "must be a map");
  return r.child(key);
}

// Orion's forbidden characters in text fields, plus control characters: the description is sent
// to the broker and must survive its validation.
bool is_safe_description(std::string_view s) {
  return s.size() <= 512 && std::none_of(s.begin(), s.end(), [](char c) {
           return c == '<' || c == '>' || c == '"' || c == '\'' || c == '=' || c == ';' ||
                  c == '(' || c == ')' || static_cast<unsigned char>(c) < 0x20;
         });
}

subscription_config read_subscription(config_reader& s, flavour fl, std::string const& broker,
                                      std::string const& secret_key, std::set<std::string>& names) {
  subscription_config sub;
  sub.name = s.string("name", "");
  if (!is_name(sub.name)) s.fail("name", "must be 1..64 characters of [A-Za-z0-9_-]");
  if (!names.insert(sub.name).second)
    s.fail("name", "duplicate subscription name '" + sub.name + "'");
  sub.description = s.string("description", "");
  if (!is_safe_description(sub.description))
    s.fail("description", "must be at most 512 characters without < > \" ' = ; ( ) or controls");
  sub.entity_types = s.strings("entity_types", {});
  for (auto const& t : sub.entity_types)
    if (t.empty() || !is_safe_description(t))
      s.fail("entity_types", "invalid entity type '" + t + "'");
  sub.id_pattern = s.string("id_pattern", "");
  if (sub.entity_types.empty() && sub.id_pattern.empty())
    s.fail("entity_types", "a subscription needs entity_types or id_pattern");
  if (fl == flavour::ngsi_ld && sub.entity_types.empty())
    s.fail("entity_types", "NGSI-LD subscriptions need at least one entity type");
  sub.watched_attributes = s.strings("watched_attributes", {});
  sub.notified_attributes = s.strings("notified_attributes", {});
  if (fl == flavour::ngsi_v2)
    sub.format =
        s.choice("format", "normalized",
                 {"normalized", "keyValues", "simplifiedNormalized", "simplifiedKeyValues"});
  else
    sub.format = s.choice("format", "normalized", {"normalized", "concise", "keyValues"});
  sub.throttling = s.integer("throttling", 0, 0, 86400);
  sub.secret = s.secret("secret", "");
  if (!sub.secret.empty()) {
    if (sub.secret.size() < 16) s.fail("secret", "must be at least 16 characters");
    bool url_safe = std::all_of(sub.secret.begin(), sub.secret.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_' || c == '.' || c == '~';
    });
    if (!url_safe) s.fail("secret", "must use only URL-safe characters [A-Za-z0-9-_.~]");
  } else if (secret_key.empty()) {
    s.fail("secret", "no secret and no connectors.context.secret_key to derive one from");
  } else {
    sub.secret = derive_secret(secret_key, broker, sub.name);
  }
  s.finish();
  return sub;
}

broker_config read_broker(config_reader& b, std::string const& secret_key,
                          std::set<std::string>& names) {
  broker_config br;
  br.name = b.string("name", "");
  if (!is_name(br.name)) b.fail("name", "must be 1..64 characters of [A-Za-z0-9_-]");
  if (!names.insert(br.name).second) b.fail("name", "duplicate broker name '" + br.name + "'");
  br.flavour = b.choice("flavour", "ngsi-v2", {"ngsi-v2", "ngsi-ld"}) == "ngsi-v2"
                   ? flavour::ngsi_v2
                   : flavour::ngsi_ld;
  br.base_url = b.string("base_url", "");
  {
    auto u = boost::urls::parse_absolute_uri(br.base_url);
    if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host().empty() ||
        u->has_query() || u->has_fragment() || u->has_userinfo())
      b.fail("base_url", "must be an http:// or https:// URL without query, fragment or userinfo");
    while (!br.base_url.empty() && br.base_url.back() == '/') br.base_url.pop_back();
  }
  br.tenant = b.string("tenant", "");
  bool tenant_ok =
      br.tenant.size() <= 50 && std::all_of(br.tenant.begin(), br.tenant.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || (br.flavour == flavour::ngsi_ld && (c == '-' || c == '.'));
      });
  if (!tenant_ok)
    b.fail("tenant", br.flavour == flavour::ngsi_v2
                         ? "must be at most 50 characters of [A-Za-z0-9_] (Fiware-Service)"
                         : "must be at most 50 characters of [A-Za-z0-9_.-] (NGSILD-Tenant)");
  br.service_path = b.string("service_path", "");
  if (!br.service_path.empty()) {
    if (br.flavour != flavour::ngsi_v2)
      b.fail("service_path", "only NGSI-v2 brokers have service paths");
    if (br.service_path.front() != '/' || br.service_path.size() > 1024 ||
        !is_safe_description(br.service_path) || br.service_path.find(',') != std::string::npos)
      b.fail("service_path", "must be one absolute path such as /madrid");
  }
  if (auto a = section(b, "auth_header")) {
    std::string name = a->string("name", "");
    std::string value = a->secret("value", "");
    bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_';
    });
    if (!token) a->fail("name", "must be an HTTP header name");
    if (value.empty() || value.find_first_of("\r\n") != std::string::npos)
      a->fail("value", "must be a non-empty single-line value");
    a->finish();
    br.auth_header.emplace(std::move(name), std::move(value));
  }
  if (auto t = section(b, "tls")) {
    br.ca_file = t->string("ca_file", "");
    if (!br.ca_file.empty() && !std::filesystem::is_regular_file(br.ca_file))
      t->fail("ca_file", "no such file: " + br.ca_file);
    t->finish();
  }
  if (br.flavour == flavour::ngsi_ld) {
    br.ld_context = b.string("ld_context", br.ld_context);
    if (!boost::urls::parse_absolute_uri(br.ld_context))
      b.fail("ld_context", "must be an absolute URL");
  } else if (b.has("ld_context")) {
    b.fail("ld_context", "only NGSI-LD brokers have an @context");
  }
  br.manage_subscriptions = b.boolean("manage_subscriptions", true);
  std::set<std::string> sub_names;
  for (auto& s : b.list("subscriptions"))
    br.subscriptions.push_back(read_subscription(s, br.flavour, br.name, secret_key, sub_names));
  if (br.subscriptions.empty()) b.fail("subscriptions", "a broker needs at least one subscription");
  b.finish();
  return br;
}

}  // namespace

std::string derive_secret(std::string const& secret_key, std::string const& broker,
                          std::string const& subscription) {
  return to_hex(hmac_sha256(secret_key, "bbgw-context-notify:" + broker + "/" + subscription));
}

std::string expand_family(std::string const& tmpl, std::string_view broker,
                          std::string_view subscription, std::string_view tenant,
                          std::string_view type) {
  auto put = [](std::string& out, std::string_view v) {
    for (char c : v) out += is_topic_char(c) ? c : '_';
  };
  std::string out;
  out.reserve(tmpl.size() + tenant.size() + type.size());
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == '{') {
      auto end = tmpl.find('}', i);
      std::string_view key(tmpl.data() + i + 1, end - i - 1);
      if (key == "tenant")
        put(out, tenant.empty() ? "default" : tenant);
      else if (key == "type")
        put(out, type);
      else if (key == "broker")
        put(out, broker);
      else if (key == "subscription")
        put(out, subscription);
      i = end + 1;
    } else {
      out += tmpl[i++];
    }
  }
  return out;
}

std::optional<context_config> read_config(config_reader& r) {
  context_config cfg;
  if (!r.boolean("enabled", false)) {
    // Disabled: the rest of the section is not validated, only accepted.
    for (auto k : {"notify_path_prefix", "resync_interval", "request_timeout",
                   "max_entities_per_notification", "body_limit", "family_template",
                   "dedupe_window", "secret_key", "brokers"})
      (void)r.raw(k);
    return std::nullopt;
  }
  cfg.notify_path_prefix = r.path_prefix("notify_path_prefix", cfg.notify_path_prefix);
  cfg.resync_interval =
      r.duration("resync_interval", cfg.resync_interval, std::chrono::milliseconds(100));
  cfg.request_timeout =
      r.duration("request_timeout", cfg.request_timeout, std::chrono::milliseconds(100));
  cfg.max_entities_per_notification =
      r.integer("max_entities_per_notification", cfg.max_entities_per_notification, 1, 100000);
  cfg.body_limit = r.size("body_limit", cfg.body_limit);
  if (cfg.body_limit < 1024 || cfg.body_limit > 256ull * 1024 * 1024)
    r.fail("body_limit", "must be between 1KiB and 256MiB");
  cfg.family_template = r.string("family_template", cfg.family_template);
  {
    auto const& t = cfg.family_template;
    for (std::size_t i = 0; i < t.size();) {
      if (t[i] == '{') {
        auto end = t.find('}', i);
        if (end == std::string::npos) r.fail("family_template", "unclosed '{'");
        std::string key = t.substr(i + 1, end - i - 1);
        if (key != "tenant" && key != "type" && key != "broker" && key != "subscription")
          r.fail("family_template",
                 "unknown placeholder {" + key + "}; use {tenant} {type} {broker} {subscription}");
        i = end + 1;
      } else {
        if (!is_topic_char(t[i]))
          r.fail("family_template",
                 std::string("character '") + t[i] + "' is not allowed in a Kafka topic");
        ++i;
      }
    }
    if (t.empty()) r.fail("family_template", "must not be empty");
  }
  cfg.dedupe_window = r.duration("dedupe_window", cfg.dedupe_window, std::chrono::seconds(1));
  std::string secret_key = r.secret("secret_key", "");
  if (!secret_key.empty() && secret_key.size() < 16)
    r.fail("secret_key", "must be at least 16 characters");
  std::set<std::string> names;
  for (auto& b : r.list("brokers")) cfg.brokers.push_back(read_broker(b, secret_key, names));
  if (cfg.brokers.empty())
    r.fail("brokers", "the enabled context connector needs at least one broker");
  return cfg;
}

}  // namespace bbgw::context

#include "config/gateway_config.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

namespace bbgw::config {

namespace {

http::tls_settings read_tls(config_reader r) {
  http::tls_settings t;
  t.certificate_file = r.string("certificate", "");
  t.private_key_file = r.string("private_key", "");
  t.client_ca_file = r.string("client_ca", "");
  auto mode = r.choice("client_auth", t.client_ca_file.empty() ? "none" : "required",
                       {"none", "optional", "required"});
  t.client_verify = mode == "required"   ? http::client_auth::required
                    : mode == "optional" ? http::client_auth::optional
                                         : http::client_auth::none;
  if (t.certificate_file.empty()) r.fail("certificate", "is required when tls is set");
  if (t.private_key_file.empty()) r.fail("private_key", "is required when tls is set");
  if (t.client_verify != http::client_auth::none && t.client_ca_file.empty())
    r.fail("client_ca", "is required when client_auth is " + mode);
  r.finish();
  return t;
}

http::listener_settings read_listener(config_reader r) {
  http::listener_settings l;
  l.name = r.string("name", "");
  if (l.name.empty()) r.fail("name", "is required");
  l.address = r.string("address", "127.0.0.1");
  l.port = static_cast<std::uint16_t>(r.integer("port", 8080, 0, 65535));
  if (r.has("tls")) l.tls = read_tls(r.child("tls"));
  r.finish();
  return l;
}

void read_server(config_reader r, gateway_config& cfg) {
  auto& s = cfg.server;
  // Where certs/make-dev-pki.sh wrote the development PKI; the default HTTPS listener uses it.
  std::string const dev_certs_dir = r.string("dev_certs_dir", "var/certs");
  auto listeners = r.list("listeners");
  if (listeners.empty()) {
    // Embedded defaults: plain HTTP on 8080, HTTPS with the development certificate on 8443.
    s.listeners.push_back({"http", "127.0.0.1", 8080, std::nullopt});
    http::tls_settings t;
    t.certificate_file = dev_certs_dir + "/tls-server-chain.crt";
    t.private_key_file = dev_certs_dir + "/tls-server.key";
    s.listeners.push_back({"https", "127.0.0.1", 8443, t});
    if (auto* eff = cfg.effective.get()) {
      eff->record("server.listeners[0].name", "http", false);
      eff->record("server.listeners[0].address", "127.0.0.1", false);
      eff->record("server.listeners[0].port", "8080", false);
      eff->record("server.listeners[1].name", "https", false);
      eff->record("server.listeners[1].address", "127.0.0.1", false);
      eff->record("server.listeners[1].port", "8443", false);
      eff->record("server.listeners[1].tls.certificate", t.certificate_file, false);
      eff->record("server.listeners[1].tls.private_key", t.private_key_file, false);
    }
  } else {
    for (auto& l : listeners) s.listeners.push_back(read_listener(std::move(l)));
  }
  for (std::size_t i = 0; i < s.listeners.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (s.listeners[i].name == s.listeners[j].name)
        r.fail("listeners[" + std::to_string(i) + "].name",
               "duplicate listener name '" + s.listeners[i].name + "'");

  auto lim = r.child("limits");
  s.lim.header_limit = lim.size("header_limit", s.lim.header_limit);
  s.lim.body_limit = lim.size("body_limit", s.lim.body_limit);
  s.lim.read_timeout = lim.duration("read_timeout", s.lim.read_timeout);
  s.lim.idle_timeout = lim.duration("idle_timeout", s.lim.idle_timeout);
  s.lim.write_timeout = lim.duration("write_timeout", s.lim.write_timeout);
  s.lim.handshake_timeout = lim.duration("handshake_timeout", s.lim.handshake_timeout);
  s.lim.max_connections =
      static_cast<std::size_t>(lim.integer("max_connections", 10000, 1, 1000000));
  s.lim.shutdown_grace = lim.duration("shutdown_grace", s.lim.shutdown_grace);
  if (s.lim.header_limit < 1024) lim.fail("header_limit", "must be at least 1KiB");
  if (s.lim.read_timeout.count() == 0) lim.fail("read_timeout", "must be above zero");
  lim.finish();

  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // 0 = derived from the number of cores.
  auto io = static_cast<unsigned>(r.integer("io_threads", 0, 0, 256));
  auto workers = static_cast<unsigned>(r.integer("worker_threads", 0, 0, 1024));
  s.io_threads = io ? io : cores;
  s.worker_threads = workers ? workers : 2 * cores;
  s.server_name = r.string("server_name", "bbgw");
  s.spool_dir = r.string("spool_dir", s.spool_dir);
  // Streams hold workers: at least one worker always stays free for other requests.
  s.max_streamed_bodies = static_cast<unsigned>(
      r.integer("max_streamed_bodies", 0, 0, std::max(1u, s.worker_threads) - 1));
  cfg.public_base_url = r.string("public_base_url", "");
  if (cfg.public_base_url.empty()) {
    auto const& first = s.listeners.front();
    auto const& tls_first = std::find_if(s.listeners.begin(), s.listeners.end(),
                                         [](auto const& l) { return l.tls.has_value(); });
    auto const& l = tls_first != s.listeners.end() ? *tls_first : first;
    std::string host = l.address == "0.0.0.0" || l.address == "::" ? "localhost" : l.address;
    cfg.public_base_url =
        std::string(l.tls ? "https://" : "http://") + host + ":" + std::to_string(l.port);
  }
  r.finish();
}

void read_store(config_reader r, gateway_config& cfg) {
  r.choice("backend", "sqlite", {"sqlite"});
  auto sq = r.child("sqlite");
  cfg.sqlite.path = sq.string("path", cfg.sqlite.path);
  cfg.sqlite.synchronous = sq.choice("synchronous", cfg.sqlite.synchronous, {"normal", "full"});
  cfg.sqlite.busy_timeout = sq.duration("busy_timeout", cfg.sqlite.busy_timeout);
  cfg.sqlite.max_batch = static_cast<std::size_t>(
      sq.integer("max_batch", static_cast<std::int64_t>(cfg.sqlite.max_batch), 1, 100000));
  cfg.sqlite.cache_mib = static_cast<std::size_t>(
      sq.integer("cache_mib", static_cast<std::int64_t>(cfg.sqlite.cache_mib), 1, 65536));
  sq.finish();
  r.finish();
}

void read_kafka(config_reader r, gateway_config& cfg) {
  auto& k = cfg.kafka;
  k.bootstrap_servers = r.string("bootstrap_servers", "");
  k.topics.prefix = r.string("topic_prefix", k.topics.prefix);
  k.topics.overrides = r.string_map("topics");
  k.producer_properties = r.string_map("producer");
  k.compression = r.choice("compression", k.compression, {"none", "gzip", "snappy", "lz4", "zstd"});
  k.fetch_batch = static_cast<std::size_t>(
      r.integer("fetch_batch", static_cast<std::int64_t>(k.fetch_batch), 1, 1000000));
  k.max_in_flight_events = static_cast<std::size_t>(r.integer(
      "max_in_flight_events", static_cast<std::int64_t>(k.max_in_flight_events), 1, 10000000));
  k.poll_interval = r.duration("poll_interval", k.poll_interval);
  k.backoff_min = r.duration("backoff_min", k.backoff_min);
  k.backoff_max = r.duration("backoff_max", k.backoff_max);
  k.message_timeout = r.duration("message_timeout", k.message_timeout);
  if (k.backoff_max < k.backoff_min) r.fail("backoff_max", "must not be below backoff_min");
  auto emb = r.child("embedded");
  cfg.embedded_kafka.brokers = static_cast<int>(emb.integer("brokers", 1, 1, 9));
  cfg.embedded_kafka.partitions = static_cast<int>(emb.integer("partitions", 3, 1, 64));
  emb.finish();
  r.finish();
}

void read_readiness(config_reader r, gateway_config& cfg) {
  cfg.readiness.max_outbox_depth = static_cast<std::uint64_t>(
      r.integer("max_outbox_depth", static_cast<std::int64_t>(cfg.readiness.max_outbox_depth), 1,
                std::numeric_limits<std::int64_t>::max()));
  cfg.readiness.probe_interval =
      r.duration("probe_interval", cfg.readiness.probe_interval, std::chrono::milliseconds(100));
  r.finish();
}

void read_log(config_reader r, gateway_config& cfg) {
  cfg.log.level = r.choice("level", cfg.log.level, {"debug", "info", "warn", "error"});
  cfg.log.format = r.choice("format", cfg.log.format, {"json", "text"});
  cfg.log.file = r.string("file", "");
  r.finish();
}

}  // namespace

gateway_config read_gateway_config(YAML::Node root) {
  gateway_config cfg;
  cfg.effective = std::make_shared<effective_config>();
  config_reader r(root, "", cfg.effective);
  read_server(r.child("server"), cfg);
  read_store(r.child("store"), cfg);
  read_kafka(r.child("kafka"), cfg);
  read_readiness(r.child("readiness"), cfg);
  read_log(r.child("log"), cfg);
  cfg.connectors = r.raw("connectors");
  if (cfg.connectors && !cfg.connectors.IsMap())
    throw config_error("connectors", "must be a map of connector name to its section");
  r.finish();
  return cfg;
}

YAML::Node load_yaml_file(std::string const& path) {
  std::ifstream in(path);
  if (!in) throw config_error("", "cannot read config file " + path);
  try {
    return YAML::Load(in);
  } catch (YAML::Exception const& e) {
    throw config_error("", path + ": YAML syntax error at line " + std::to_string(e.mark.line + 1) +
                               ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

void apply_env_overrides(YAML::Node& root, char const* const* envp) {
  if (!envp) return;
  if (!root || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (; *envp; ++envp) {
    std::string_view entry(*envp);
    if (!entry.starts_with("BBGW_")) continue;
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    std::string name(entry.substr(5, eq - 5));
    std::string value(entry.substr(eq + 1));
    std::string path;
    std::size_t i = 0;
    while (i <= name.size()) {
      std::size_t j = name.find("__", i);
      if (j == std::string::npos) j = name.size();
      std::string seg = name.substr(i, j - i);
      std::transform(seg.begin(), seg.end(), seg.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (seg.empty()) throw config_error(std::string(entry.substr(0, eq)), "empty key segment");
      bool numeric =
          std::all_of(seg.begin(), seg.end(), [](unsigned char c) { return std::isdigit(c); });
      if (numeric)
        path += "[" + seg + "]";
      else
        path += (path.empty() ? "" : ".") + seg;
      i = j + 2;
    }
    try {
      config_set(root, path, value);
    } catch (config_error const&) {
      throw config_error(path, "environment variable " + std::string(entry.substr(0, eq)) +
                                   " does not fit the config's structure");
    } catch (YAML::Exception const&) {
      throw config_error(path, "environment variable " + std::string(entry.substr(0, eq)) +
                                   " does not fit the config's structure");
    }
  }
}

std::string render_effective(gateway_config const& cfg) {
  YAML::Emitter out;
  out << cfg.effective->tree();
  std::string text = out.c_str();
  if (cfg.connectors && cfg.connectors.IsMap() && cfg.connectors.size() > 0) {
    // Connector sections are reported by their connectors when they start.
    text += "\n# connectors: ";
    for (auto const& kv : cfg.connectors) text += kv.first.Scalar() + " ";
    text += "\n";
  }
  return text;
}

}  // namespace bbgw::config

#include "bbgw/config_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace bbgw {

namespace {

std::string describe(YAML::Node const& n);

}  // namespace

// Walks "a.b[2].c" through YAML map/sequence steps, creating them under `root`.
void config_set(YAML::Node root, std::string const& path, std::string const& value) {
  YAML::Node cur = root;
  std::size_t i = 0;
  std::vector<YAML::Node> keep;  // yaml-cpp nodes are handles; keep the chain alive
  while (i < path.size()) {
    std::size_t j = path.find_first_of(".[", i);
    std::string seg = path.substr(i, j == std::string::npos ? std::string::npos : j - i);
    bool last = j == std::string::npos;
    if (!seg.empty()) {
      if (last) {
        cur[seg] = value;
        return;
      }
      YAML::Node next = cur[seg];
      keep.push_back(next);
      cur.reset(next);
    }
    if (last) return;
    if (path[j] == '[') {
      std::size_t close = path.find(']', j);
      std::size_t idx = std::stoul(path.substr(j + 1, close - j - 1));
      // yaml-cpp turns an integer key on a null node into a map key: make the list explicit.
      if (!cur.IsDefined() || cur.IsNull()) cur = YAML::Node(YAML::NodeType::Sequence);
      if (!cur.IsSequence() || idx > cur.size())
        throw config_error(path, "list index " + std::to_string(idx) + " does not fit");
      if (close + 1 >= path.size()) {
        cur[idx] = value;
        return;
      }
      YAML::Node next = cur[idx];
      keep.push_back(next);
      cur.reset(next);
      i = close + 1;
      if (i < path.size() && path[i] == '.') ++i;
    } else {
      i = j + 1;
    }
  }
}

namespace {

std::string describe(YAML::Node const& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a map";
  return "null";
}

}  // namespace

void effective_config::record(std::string const& path, std::string const& value, bool secret) {
  config_set(tree_, path,
             secret ? (value.empty() ? std::string{} : std::string{"********"}) : value);
}

config_reader::config_reader(YAML::Node node, std::string path,
                             std::shared_ptr<effective_config> eff)
    : node_(std::move(node)), path_(std::move(path)), eff_(std::move(eff)) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap())
    throw config_error(path_, "must be a map, got " + describe(node_));
}
config_reader::~config_reader() = default;
config_reader::config_reader(config_reader&&) noexcept = default;
config_reader& config_reader::operator=(config_reader&&) noexcept = default;

std::string config_reader::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool config_reader::has(std::string_view key) const {
  if (!node_.IsDefined() || !node_.IsMap()) return false;
  YAML::Node n = node_[std::string(key)];
  return n.IsDefined() && !n.IsNull();
}

YAML::Node config_reader::lookup(std::string_view key) {
  used_.emplace_back(key);
  // Absent keys are an undefined node (false in a boolean test); const lookups never insert.
  if (!node_.IsDefined() || !node_.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  YAML::Node const& cnode = node_;
  YAML::Node n = cnode[std::string(key)];
  if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  return n;
}

void config_reader::record(std::string_view key, std::string const& value, bool secret) {
  if (eff_) eff_->record(key_path(key), value, secret);
}

void config_reader::fail(std::string_view key, std::string const& message) const {
  throw config_error(key_path(key), message);
}

std::string config_reader::string(std::string_view key, std::string def) {
  YAML::Node n = lookup(key);
  if (n) {
    if (!n.IsScalar()) fail(key, "must be a string, got " + describe(n));
    def = n.Scalar();
  }
  record(key, def, false);
  return def;
}

std::string config_reader::secret(std::string_view key, std::string def) {
  YAML::Node n = lookup(key);
  if (n) {
    if (!n.IsScalar()) fail(key, "must be a string, got " + describe(n));
    def = n.Scalar();
  }
  record(key, def, true);
  return def;
}

bool config_reader::boolean(std::string_view key, bool def) {
  YAML::Node n = lookup(key);
  if (n) {
    std::string s = n.IsScalar() ? n.Scalar() : std::string{};
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "true" || s == "yes" || s == "on" || s == "1")
      def = true;
    else if (s == "false" || s == "no" || s == "off" || s == "0")
      def = false;
    else
      fail(key, "must be true or false, got " + describe(n));
  }
  record(key, def ? "true" : "false", false);
  return def;
}

std::int64_t config_reader::integer(std::string_view key, std::int64_t def, std::int64_t min,
                                    std::int64_t max) {
  YAML::Node n = lookup(key);
  if (n) {
    std::string s = n.IsScalar() ? n.Scalar() : std::string{};
    std::int64_t v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty())
      fail(key, "must be an integer, got " + describe(n));
    def = v;
  }
  if (def < min || def > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(def));
  record(key, std::to_string(def), false);
  return def;
}

double config_reader::number(std::string_view key, double def, double min, double max) {
  YAML::Node n = lookup(key);
  if (n) {
    std::string s = n.IsScalar() ? n.Scalar() : std::string{};
    char* end = nullptr;
    double v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
      fail(key, "must be a number, got " + describe(n));
    def = v;
  }
  if (def < min || def > max)
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  record(key, std::to_string(def), false);
  return def;
}

std::uint64_t config_reader::size(std::string_view key, std::uint64_t def) {
  YAML::Node n = lookup(key);
  if (n) {
    std::string s = n.IsScalar() ? n.Scalar() : std::string{};
    std::uint64_t v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    std::string unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
    unit.erase(0, unit.find_first_not_of(' '));
    std::uint64_t mult = 0;
    static constexpr std::pair<std::string_view, std::uint64_t> units[] = {{"", 1},
                                                                           {"B", 1},
                                                                           {"KiB", 1ULL << 10},
                                                                           {"MiB", 1ULL << 20},
                                                                           {"GiB", 1ULL << 30},
                                                                           {"KB", 1000},
                                                                           {"MB", 1000000},
                                                                           {"GB", 1000000000}};
    for (auto const& [u, m] : units)
      if (unit == u) mult = m;
    if (ec != std::errc{} || s.empty() || mult == 0 ||
        v > std::numeric_limits<std::uint64_t>::max() / mult)
      fail(key, "must be a size such as 65536, 64KiB or 10MiB, got " + describe(n));
    def = v * mult;
  }
  record(key, std::to_string(def), false);
  return def;
}

std::chrono::milliseconds config_reader::duration(std::string_view key,
                                                  std::chrono::milliseconds def) {
  YAML::Node n = lookup(key);
  if (n) {
    std::string s = n.IsScalar() ? n.Scalar() : std::string{};
    double v{};
    char* end = nullptr;
    v = s.empty() ? NAN : std::strtod(s.c_str(), &end);
    std::string unit = end ? std::string(end) : std::string{};
    double mult = 0;
    if (unit.empty() || unit == "s")
      mult = 1000;
    else if (unit == "ms")
      mult = 1;
    else if (unit == "m")
      mult = 60000;
    else if (unit == "h")
      mult = 3600000;
    else if (unit == "d")
      mult = 86400000;
    bool const no_number = end == s.c_str();  // "s", "d": a unit alone is not a duration
    if (s.empty() || no_number || !std::isfinite(v) || v < 0 || mult == 0 || v * mult > 1e15)
      fail(key, "must be a duration such as 250ms, 30s, 5m, 2h or 30d, got " + describe(n));
    def = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(v * mult)));
  }
  record(key, std::to_string(def.count()) + "ms", false);
  return def;
}

std::chrono::milliseconds config_reader::duration(std::string_view key,
                                                  std::chrono::milliseconds def,
                                                  std::chrono::milliseconds min) {
  auto v = duration(key, def);
  if (v < min) {
    auto ms = min.count();
    fail(key, "must be at least " +
                  (ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms"));
  }
  return v;
}

std::string config_reader::path_prefix(std::string_view key, std::string def) {
  std::string example = def;
  std::string p = string(key, std::move(def));
  bool ok = p.size() >= 2 && p.front() == '/' && p.back() != '/' &&
            p.find("//") == std::string::npos && std::all_of(p.begin(), p.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '/' || c == '-' || c == '_' || c == '.';
            });
  if (!ok)
    fail(key, "must be an absolute path like " + example +
                  " (letters, digits, / . _ -; no trailing or double slash)");
  return p;
}

std::string config_reader::choice(std::string_view key, std::string def,
                                  std::vector<std::string> allowed) {
  YAML::Node n = lookup(key);
  if (n) {
    if (!n.IsScalar()) fail(key, "must be one of the listed values, got " + describe(n));
    def = n.Scalar();
  }
  if (std::find(allowed.begin(), allowed.end(), def) == allowed.end()) {
    std::string list;
    for (auto const& a : allowed) list += (list.empty() ? "" : ", ") + a;
    fail(key, "must be one of " + list + ", got '" + def + "'");
  }
  record(key, def, false);
  return def;
}

std::vector<std::string> config_reader::strings(std::string_view key,
                                                std::vector<std::string> def) {
  YAML::Node n = lookup(key);
  if (n) {
    def.clear();
    if (n.IsScalar()) {  // a comma-separated scalar (handy from environment variables)
      std::string s = n.Scalar();
      std::size_t i = 0;
      while (i <= s.size()) {
        std::size_t j = s.find(',', i);
        if (j == std::string::npos) j = s.size();
        std::string item = s.substr(i, j - i);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) def.push_back(item);
        i = j + 1;
      }
    } else if (n.IsSequence()) {
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (!n[i].IsScalar())
          fail(std::string(key) + "[" + std::to_string(i) + "]", "must be a string");
        def.push_back(n[i].Scalar());
      }
    } else {
      fail(key, "must be a list of strings, got " + describe(n));
    }
  }
  for (std::size_t i = 0; i < def.size(); ++i)
    record(std::string(key) + "[" + std::to_string(i) + "]", def[i], false);
  return def;
}

std::vector<std::pair<std::string, std::string>> config_reader::string_map(std::string_view key) {
  YAML::Node n = lookup(key);
  std::vector<std::pair<std::string, std::string>> out;
  if (!n) return out;
  if (!n.IsMap()) fail(key, "must be a map of strings, got " + describe(n));
  for (auto const& kv : n) {
    std::string k = kv.first.Scalar();
    if (!kv.second.IsScalar()) fail(std::string(key) + "." + k, "must be a string");
    out.emplace_back(k, kv.second.Scalar());
    // Values of free-form maps may be credentials (e.g. sasl.password): mask those.
    bool secret = k.find("password") != std::string::npos || k.find("secret") != std::string::npos;
    record(std::string(key) + "." + k, kv.second.Scalar(), secret);
  }
  return out;
}

config_reader config_reader::child(std::string_view key) {
  YAML::Node n = lookup(key);
  return config_reader(n, key_path(key), eff_);
}

std::vector<config_reader> config_reader::list(std::string_view key) {
  YAML::Node n = lookup(key);
  std::vector<config_reader> out;
  if (!n) return out;
  if (!n.IsSequence()) fail(key, "must be a list, got " + describe(n));
  for (std::size_t i = 0; i < n.size(); ++i)
    out.emplace_back(n[i], key_path(key) + "[" + std::to_string(i) + "]", eff_);
  return out;
}

std::vector<std::pair<std::string, config_reader>> config_reader::entries(std::string_view key) {
  YAML::Node n = lookup(key);
  std::vector<std::pair<std::string, config_reader>> out;
  if (!n) return out;
  if (!n.IsMap()) fail(key, "must be a map, got " + describe(n));
  for (auto const& kv : n) {
    std::string name = kv.first.Scalar();
    out.emplace_back(name, config_reader(kv.second, key_path(key) + "." + name, eff_));
  }
  return out;
}

YAML::Node config_reader::raw(std::string_view key) {
  return lookup(key);
}

void config_reader::finish() {
  if (!node_.IsDefined() || !node_.IsMap()) return;
  for (auto const& kv : node_) {
    std::string k = kv.first.Scalar();
    if (std::find(used_.begin(), used_.end(), k) == used_.end())
      throw config_error(key_path(k), "unknown key");
  }
}

}  // namespace bbgw

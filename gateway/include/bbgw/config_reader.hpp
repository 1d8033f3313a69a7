#pragma once
// Reads one section of the YAML config into a typed struct. Every key is read with its
// default; keys that nobody read are reported by finish() as unknown. Errors throw
// config_error naming the full key (startup only: exceptions never cross the data path).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace bbgw {

class config_error : public std::runtime_error {
 public:
  config_error(std::string key, std::string message)
      : std::runtime_error(key.empty() ? message : key + ": " + message),
        key_(std::move(key)),
        message_(std::move(message)) {}
  // The dotted key ("server.listeners[0].port"); empty for file-level errors.
  std::string const& key() const noexcept { return key_; }
  std::string const& message() const noexcept { return message_; }

 private:
  std::string key_;
  std::string message_;
};

// The effective configuration as it was read, with secrets masked (for `check-config`).
class effective_config {
 public:
  void record(std::string const& path, std::string const& value, bool secret);
  YAML::Node const& tree() const { return tree_; }

 private:
  YAML::Node tree_{YAML::NodeType::Map};
};

// Sets the value at a dotted path ("server.listeners[0].port"), creating maps and lists on the
// way. Used for environment overrides and the effective config.
void config_set(YAML::Node root, std::string const& path, std::string const& value);

class config_reader {
 public:
  // `node` may be null or undefined (every key takes its default). `path` is the dotted
  // prefix used in messages ("kafka", "server.listeners[0]").
  config_reader(YAML::Node node, std::string path, std::shared_ptr<effective_config> eff);
  ~config_reader();
  config_reader(config_reader&&) noexcept;
  config_reader& operator=(config_reader&&) noexcept;

  std::string const& path() const { return path_; }
  bool has(std::string_view key) const;

  std::string string(std::string_view key, std::string def);
  // Like string() but masked in the effective config.
  std::string secret(std::string_view key, std::string def);
  bool boolean(std::string_view key, bool def);
  std::int64_t integer(std::string_view key, std::int64_t def, std::int64_t min, std::int64_t max);
  double number(std::string_view key, double def, double min, double max);
  // Sizes accept a plain integer or a suffix: 64KiB, 10MiB, 1GiB (also KB/MB/GB as powers of 10).
  std::uint64_t size(std::string_view key, std::uint64_t def);
  // Durations accept "250ms", "30s", "5m", "2h", "30d", or a plain number of seconds.
  std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds def);
  // The same, refusing values below `min`.
  std::chrono::milliseconds duration(std::string_view key, std::chrono::milliseconds def,
                                     std::chrono::milliseconds min);
  // An absolute URL path prefix for routes: "/a/b" (letters, digits, / . _ -), no trailing or
  // double slash.
  std::string path_prefix(std::string_view key, std::string def);
  // One of `allowed`.
  std::string choice(std::string_view key, std::string def, std::vector<std::string> allowed);
  std::vector<std::string> strings(std::string_view key, std::vector<std::string> def);
  // A map of string to string (e.g. librdkafka properties).
  std::vector<std::pair<std::string, std::string>> string_map(std::string_view key);

  config_reader child(std::string_view key);
  std::vector<config_reader> list(std::string_view key);
  // Map sections whose keys are names (e.g. connectors.eid): pairs of name and reader.
  std::vector<std::pair<std::string, config_reader>> entries(std::string_view key);
  // The raw node (for sections read later by their owner); marks the key as used.
  YAML::Node raw(std::string_view key);

  // Throws config_error for the first key present in the node but never read.
  void finish();
  [[noreturn]] void fail(std::string_view key, std::string const& message) const;

 private:
  std::string key_path(std::string_view key) const;
  YAML::Node lookup(std::string_view key);
  void record(std::string_view key, std::string const& value, bool secret);

  YAML::Node node_;
  std::string path_;
  std::shared_ptr<effective_config> eff_;
  std::vector<std::string> used_;
};

}  // namespace bbgw

#pragma once
// Integration-test harness: run bbgw-testbed as a real process, talk to it with curl (an
// independent HTTP client), and read Kafka with an independent librdkafka consumer and kcat.
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/value.hpp>

namespace bbgw::it {

using namespace std::chrono_literals;

// A fresh directory under the system's temp dir, removed when the test process ends with every
// test passed (kept after a failure, and named on stderr).
std::filesystem::path make_temp_dir(std::string const& prefix);
void write_file(std::filesystem::path const& p, std::string const& text);
std::string read_file(std::filesystem::path const& p);
// The development PKI made by certs/make-dev-pki.sh into the build tree (made once, reused).
std::filesystem::path dev_pki();

// A child process with stdout+stderr captured line by line.
class process {
 public:
  process(std::vector<std::string> argv, std::vector<std::string> extra_env = {},
          bool pipe_stdin = false);
  ~process();
  process(process const&) = delete;
  process& operator=(process const&) = delete;

  // Waits for a line satisfying `pred`; returns it, or nothing after `timeout`.
  std::optional<std::string> wait_line(std::function<bool(std::string const&)> pred,
                                       std::chrono::milliseconds timeout = 20s);
  std::vector<std::string> lines() const;
  void send_line(std::string const& line);  // to stdin (pipe_stdin)
  void signal(int sig);
  // Waits for exit; returns the exit code, or 128+signal; nothing after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout = 20s);
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  int in_fd_ = -1;
  std::optional<int> status_;
  std::thread reader_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// A gateway under test, with its listeners and broker read from its JSON log.
class gateway {
 public:
  // `config_yaml` is written to a file in `dir`; the store lives in `dir` unless the config says.
  gateway(std::filesystem::path dir, std::string const& config_yaml,
          std::vector<std::string> extra_env = {});
  std::string url(std::string const& listener = "http") const;
  std::uint16_t port(std::string const& listener) const { return ports_.at(listener); }
  std::string const& bootstrap() const { return bootstrap_; }
  process& proc() { return *proc_; }
  void restart();

 private:
  void start();
  std::filesystem::path dir_;
  std::vector<std::string> env_;
  std::unique_ptr<process> proc_;
  std::map<std::string, std::uint16_t> ports_;
  std::string bootstrap_;
};

// The embedded broker as a separate process (bbgw-mock-broker), so it survives a gateway kill.
class broker_process {
 public:
  explicit broker_process(std::vector<std::string> topics);
  std::string const& bootstrap() const { return bootstrap_; }
  void down() { proc_->send_line("down"); }
  void up() { proc_->send_line("up"); }

 private:
  std::unique_ptr<process> proc_;
  std::string bootstrap_;
};

struct http_result {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// curl with `args` added (e.g. {"-X", "POST", "--data-binary", "@file"}).
http_result curl(std::string const& url, std::vector<std::string> args = {});
http_result post_json(std::string const& url, std::string const& json);

struct kafka_record {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
  int partition = -1;
  std::int64_t offset = -1;
};

// Reads `topic` from the beginning with a librdkafka consumer until `count` records arrived or
// `timeout` passed.
std::vector<kafka_record> consume(std::string const& bootstrap, std::string const& topic,
                                  std::size_t count, std::chrono::milliseconds timeout = 30s);
// The same through kcat (-J output).
std::vector<kafka_record> consume_kcat(std::string const& bootstrap, std::string const& topic,
                                       std::size_t count);

// Runs a command through /bin/sh; returns its exit status and output.
std::pair<int, std::string> run_command(std::string const& cmd);

// Polls `pred` until it holds or `timeout` passes (the gateway works on its own threads).
template <class F>
bool eventually(F pred, std::chrono::milliseconds timeout = 10s) {
  auto const end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

}  // namespace bbgw::it

#include "harness.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <boost/json.hpp>

extern char** environ;

namespace bbgw::it {

namespace fs = std::filesystem;

namespace {

// The directories this test process made (databases, payloads, certificates of gateways run
// as processes): removed once its tests have ended, unless one failed — then kept and named on
// stderr for the post-mortem.
class temp_dirs final : public ::testing::Environment {
 public:
  void add(fs::path dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(std::move(dir));
  }
  void TearDown() override {
    std::lock_guard lock(mutex_);
    bool const keep = ::testing::UnitTest::GetInstance()->Failed();
    for (auto const& d : dirs_) {
      if (keep) {
        std::cerr << "[ kept     ] " << d.string() << "\n";
        continue;
      }
      std::error_code ec;
      fs::remove_all(d, ec);
    }
    dirs_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<fs::path> dirs_;
};

temp_dirs& made_dirs() {
  // Owned by GoogleTest, which tears it down after the last test.
  static auto* env = static_cast<temp_dirs*>(::testing::AddGlobalTestEnvironment(new temp_dirs));
  return *env;
}

}  // namespace

fs::path make_temp_dir(std::string const& prefix) {
  std::string tmpl = (fs::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  made_dirs().add(tmpl);
  return tmpl;
}

void write_file(fs::path const& p, std::string const& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string read_file(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::pair<int, std::string> run_command(std::string const& cmd) {
  std::string out;
  FILE* f = popen((cmd + " 2>&1").c_str(), "r");
  if (!f) return {-1, ""};
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), f)) > 0) out.append(buf.data(), n);
  int st = pclose(f);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), out};
}

fs::path dev_pki() {
  fs::path dir = fs::path(BBGW_BINARY_DIR) / "test-pki";
  // Idempotent and safe to run concurrently from several test processes: the script writes
  // each file atomically; running it again only fills in what is missing.
  auto [rc, out] =
      run_command("flock " + (fs::path(BBGW_BINARY_DIR) / ".test-pki.lock").string() + " bash " +
                  std::string(BBGW_SOURCE_DIR) + "/certs/make-dev-pki.sh " + dir.string());
  if (rc != 0) throw std::runtime_error("make-dev-pki.sh failed: " + out);
  return dir;
}

process::process(std::vector<std::string> argv, std::vector<std::string> extra_env,
                 bool pipe_stdin) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int in[2] = {-1, -1};
  if (pipe_stdin && pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, out[1], 2);
  if (pipe_stdin)
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string_view kv(*e);
    if (kv.starts_with("BBGW_")) continue;  // tests set their own overrides explicitly
    env.emplace_back(kv);
  }
  for (auto& e : extra_env) env.push_back(e);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  int rc = posix_spawn(&pid_, cargv[0], &fa, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  if (pipe_stdin) {
    close(in[0]);
    in_fd_ = in[1];
  }
  if (rc != 0) {
    close(out[0]);
    throw std::runtime_error("cannot start " + argv[0]);
  }
  out_fd_ = out[0];
  reader_ = std::thread([this] {
    std::string partial;
    char buf[4096];
    for (;;) {
      ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      partial.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      std::lock_guard lock(mutex_);
      while ((nl = partial.find('\n')) != std::string::npos) {
        lines_.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
      cv_.notify_all();
    }
    std::lock_guard lock(mutex_);
    if (!partial.empty()) lines_.push_back(partial);
    eof_ = true;
    cv_.notify_all();
  });
}

process::~process() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    wait_exit(10s);
  }
  if (in_fd_ >= 0) close(in_fd_);
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) close(out_fd_);
}

std::optional<std::string> process::wait_line(std::function<bool(std::string const&)> pred,
                                              std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  std::size_t checked = 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; checked < lines_.size(); ++checked)
      if (pred(lines_[checked])) return lines_[checked];
    if (eof_) return std::nullopt;
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; checked < lines_.size(); ++checked)
        if (pred(lines_[checked])) return lines_[checked];
      return std::nullopt;
    }
  }
}

std::vector<std::string> process::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

void process::send_line(std::string const& line) {
  std::string l = line + "\n";
  if (in_fd_ < 0 || write(in_fd_, l.data(), l.size()) != static_cast<ssize_t>(l.size()))
    throw std::runtime_error("cannot write to child's stdin");
}

void process::signal(int sig) {
  ::kill(pid_, sig);
}

std::optional<int> process::wait_exit(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

namespace {

std::optional<boost::json::object> json_line(std::string const& line) {
  boost::system::error_code ec;
  auto v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return v.as_object();
}

std::string field(boost::json::object const& o, std::string_view k) {
  auto const* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string{};
}

std::string shell_quote(std::string const& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

}  // namespace

gateway::gateway(fs::path dir, std::string const& config_yaml, std::vector<std::string> extra_env)
    : dir_(std::move(dir)), env_(std::move(extra_env)) {
  write_file(dir_ / "gateway.yaml", config_yaml);
  start();
}

void gateway::start() {
  ports_.clear();
  std::string bin = std::string(BBGW_BINARY_DIR) + "/tests/integration/bbgw-testbed";
  std::string cfg = (dir_ / "gateway.yaml").string();
  std::vector<std::string> env = env_;
  proc_ = std::make_unique<process>(
      std::vector<std::string>{"/bin/sh", "-c",
                               "cd " + shell_quote(dir_.string()) + " && exec " + shell_quote(bin) +
                                   " serve --config " + shell_quote(cfg)},
      env);
  auto ready = proc_->wait_line(
      [](std::string const& l) {
        auto o = json_line(l);
        return o && (field(*o, "msg") == "ready" || field(*o, "level") == "error");
      },
      60s);
  if (!ready || field(*json_line(*ready), "msg") != "ready") {
    std::string all;
    for (auto const& l : proc_->lines()) all += l + "\n";
    throw std::runtime_error("gateway did not become ready:\n" + all);
  }
  bootstrap_ = field(*json_line(*ready), "kafka_bootstrap_servers");
  for (auto const& l : proc_->lines()) {
    auto o = json_line(l);
    if (!o || field(*o, "msg") != "listening") continue;
    std::string port = field(*o, "port");
    if (port.empty()) {  // "address": "127.0.0.1:8080"
      std::string addr = field(*o, "address");
      port = addr.substr(addr.rfind(':') + 1);
    }
    std::string name = field(*o, "listener");
    if (name.empty()) name = field(*o, "name");
    ports_[name] = static_cast<std::uint16_t>(std::stoi(port));
  }
}

void gateway::restart() {
  start();
}

std::string gateway::url(std::string const& listener) const {
  bool tls =
      listener.find("https") != std::string::npos || listener.find("tls") != std::string::npos;
  return std::string(tls ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(ports_.at(listener));
}

broker_process::broker_process(std::vector<std::string> topics) {
  std::vector<std::string> argv{std::string(BBGW_BINARY_DIR) + "/tests/tools/bbgw-mock-broker"};
  for (auto& t : topics) argv.push_back(t);
  proc_ = std::make_unique<process>(argv, std::vector<std::string>{}, true);
  auto line = proc_->wait_line([](std::string const& l) { return l.starts_with("BOOTSTRAP "); });
  if (!line) throw std::runtime_error("mock broker did not start");
  bootstrap_ = line->substr(10);
}

http_result curl(std::string const& url, std::vector<std::string> args) {
  auto dir = make_temp_dir("bbgw-curl");
  std::string cmd = "curl -sS --max-time 30 -o " + shell_quote((dir / "body").string()) + " -D " +
                    shell_quote((dir / "headers").string()) + " -w '%{http_code}'";
  for (auto const& a : args) cmd += " " + shell_quote(a);
  cmd += " " + shell_quote(url);
  auto [rc, out] = run_command(cmd);
  http_result r;
  r.status = rc == 0 ? std::atoi(out.c_str()) : 0;
  r.body = read_file(dir / "body");
  std::istringstream hs(read_file(dir / "headers"));
  std::string line;
  while (std::getline(hs, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    r.headers[name] = value;
  }
  fs::remove_all(dir);
  return r;
}

http_result post_json(std::string const& url, std::string const& json) {
  auto dir = make_temp_dir("bbgw-post");
  write_file(dir / "body.json", json);
  auto r = curl(url, {"-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                      "@" + (dir / "body.json").string()});
  fs::remove_all(dir);
  return r;
}

std::vector<kafka_record> consume(std::string const& bootstrap, std::string const& topic,
                                  std::size_t count, std::chrono::milliseconds timeout) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "bbgw-it", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) throw std::runtime_error(std::string("consumer: ") + err);
  std::vector<kafka_record> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Assign every partition from the beginning (no group coordination needed).
  int partitions = 0;
  while (partitions == 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    if (rd_kafka_metadata(rk, 0, t, &md, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
      partitions = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(t);
    if (partitions == 0) std::this_thread::sleep_for(200ms);
  }
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      kafka_record r;
      if (m->key) r.key.assign(static_cast<char const*>(m->key), m->key_len);
      if (m->payload) r.value.assign(static_cast<char const*>(m->payload), m->len);
      r.partition = m->partition;
      r.offset = m->offset;
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* val;
        size_t size;
        for (size_t i = 0;
             rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i)
          r.headers[name] = std::string(static_cast<char const*>(val), size);
      }
      out.push_back(std::move(r));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return out;
}

std::vector<kafka_record> consume_kcat(std::string const& bootstrap, std::string const& topic,
                                       std::size_t count) {
  auto [rc, out] =
      run_command("timeout 60 kcat -q -b " + shell_quote(bootstrap) + " -C -t " +
                  shell_quote(topic) + " -o beginning -c " + std::to_string(count) + " -J");
  std::vector<kafka_record> recs;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto o = json_line(line);
    if (!o) continue;
    kafka_record r;
    r.key = field(*o, "key");
    r.value = field(*o, "payload");
    if (auto const* p = o->if_contains("partition")) r.partition = static_cast<int>(p->as_int64());
    if (auto const* p = o->if_contains("offset")) r.offset = p->as_int64();
    if (auto const* h = o->if_contains("headers"); h && h->is_array()) {
      auto const& a = h->as_array();
      for (std::size_t i = 0; i + 1 < a.size(); i += 2)
        r.headers[std::string(a[i].as_string())] = std::string(a[i + 1].as_string());
    }
    recs.push_back(std::move(r));
  }
  return recs;
}

}  // namespace bbgw::it

// bbgw-mock-broker: an embedded (librdkafka mock) Kafka cluster in its own process, so that fault
// tests can kill -9 the gateway while the broker and its messages survive.
//
//   bbgw-mock-broker [--brokers N] [--partitions N] TOPIC...
//   prints "BOOTSTRAP <addr>" on stdout, then reads commands from stdin, one per line:
//   "down" / "up" (all brokers refuse / accept connections), "quit". Exits on EOF.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include "events/embedded_broker.hpp"

namespace {

// Logs to stderr, so stdout carries only the protocol lines.
class stderr_logger final : public bbgw::logger {
 public:
  void log(bbgw::log_level level, std::string_view message,
           std::initializer_list<bbgw::log_field> fields) override {
    static constexpr char const* names[] = {"debug", "info", "warn", "error"};
    std::string line =
        std::string("[") + names[static_cast<int>(level)] + "] " + std::string(message);
    for (auto const& f : fields) line += " " + std::string(f.key) + "=" + f.value;
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  bool enabled(bbgw::log_level level) const override { return level >= bbgw::log_level::info; }
};

}  // namespace

int main(int argc, char** argv) {
  bbgw::events::embedded_broker::settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "--brokers" || a == "--partitions") && i + 1 < argc) {
      int v = std::atoi(argv[++i]);
      (a == "--brokers" ? settings.brokers : settings.partitions) = v;
    } else if (a == "--help" || a == "-h") {
      std::puts("usage: bbgw-mock-broker [--brokers N] [--partitions N] TOPIC...");
      return 0;
    } else {
      settings.topics.emplace_back(a);
    }
  }
  stderr_logger logger;
  auto broker = bbgw::events::embedded_broker::start(settings, logger);
  if (!broker) {
    std::fprintf(stderr, "bbgw-mock-broker: %s\n", broker.error().message().c_str());
    return 1;
  }
  std::cout << "BOOTSTRAP " << (*broker)->bootstrap_servers() << std::endl;  // flushed
  std::string line;
  while (std::getline(std::cin, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line == "down") {
      (*broker)->set_down(true);
      std::cout << "OK down" << std::endl;
    } else if (line == "up") {
      (*broker)->set_down(false);
      std::cout << "OK up" << std::endl;
    } else if (line == "quit") {
      break;
    } else if (!line.empty()) {
      std::cout << "ERR unknown command" << std::endl;
    }
  }
  return 0;
}

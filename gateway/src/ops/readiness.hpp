#pragma once
// Readiness: component probes (which may block: a store write, a broker round trip) run on a
// monitor thread; /readyz serves the latest snapshot without blocking the I/O threads.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include "bbgw/logger.hpp"

namespace bbgw::ops {

struct component_state {
  bool ok = false;
  boost::json::object detail;  // e.g. {"status":"up","mode":"embedded",...}
};

struct probe {
  std::string name;
  std::function<component_state()> check;
};

class readiness_monitor {
 public:
  readiness_monitor(std::vector<probe> probes, std::chrono::milliseconds interval,
                    bbgw::logger& log);
  ~readiness_monitor();
  void start();
  void stop();
  // Runs every probe now on the calling thread and publishes the result.
  void refresh();
  struct snapshot {
    bool ready = false;
    std::string body;  // JSON
  };
  snapshot current() const;

 private:
  void loop();

  std::vector<probe> probes_;
  std::chrono::milliseconds interval_;
  bbgw::logger& log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  snapshot current_;
  bool stopping_ = false;
  std::vector<bool> last_ok_;
  std::thread thread_;
};

}  // namespace bbgw::ops

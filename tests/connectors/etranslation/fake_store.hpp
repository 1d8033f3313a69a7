#pragma once
// The connector's test doubles: the shared in-memory store (tests/support/memory_store.hpp) and
// a scripted http_client.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/store.hpp"
#include "support/memory_store.hpp"

namespace bbgw::etranslation::testing {

using fake_store = bbgw::testing::memory_store;

// An http_client that records every request and answers from a script (a function of the
// request and its index).
class fake_http final : public bbgw::http_client {
 public:
  using script = std::function<result<client_response>(client_request const&, std::size_t)>;
  explicit fake_http(script s = {}) : script_(std::move(s)) {}
  void set(script s) {
    std::lock_guard lock(mutex_);
    script_ = std::move(s);
  }
  result<client_response> send(client_request const& req) override {
    std::lock_guard lock(mutex_);
    requests_.push_back(req);
    return script_(req, requests_.size() - 1);
  }
  std::vector<client_request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  mutable std::mutex mutex_;
  script script_;
  std::vector<client_request> requests_;
};

inline client_response answer(unsigned status, std::string body,
                              std::string www_authenticate = {}) {
  client_response r;
  r.status = status;
  r.body = std::move(body);
  if (!www_authenticate.empty()) r.headers.add("WWW-Authenticate", std::move(www_authenticate));
  return r;
}

}  // namespace bbgw::etranslation::testing

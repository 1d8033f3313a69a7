#pragma once
// An in-memory bbgw::store for the connector's unit tests: real all-or-nothing transactions,
// expiry by an injected clock, the committed outbox as a vector.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/clock.hpp"
#include "bbgw/store.hpp"

namespace bbgw::etranslation::testing {

class fake_store final : public bbgw::store {
 public:
  explicit fake_store(clock const& time) : time_(time) {}

  struct record {
    std::string value;
    std::optional<sys_time> expires;
  };
  using table = std::map<std::pair<std::string, std::string>, record>;

  result<void> transact(std::function<result<void>(unit_of_work&)> work) override {
    std::lock_guard lock(mutex_);
    uow u(*this, records_);
    auto r = work(u);
    if (!r) return r;
    records_ = std::move(u.records_);
    for (auto& e : u.events_) outbox_.push_back(std::move(e));
    ++commits_;
    return {};
  }
  result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override {
    std::lock_guard lock(mutex_);
    return lookup(records_, ns, key);
  }
  std::vector<cloud_event> outbox() const {
    std::lock_guard lock(mutex_);
    return outbox_;
  }
  int commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  std::size_t records() const {
    std::lock_guard lock(mutex_);
    return records_.size();
  }

 private:
  std::optional<std::string> lookup(table const& t, std::string_view ns,
                                    std::string_view key) const {
    auto it = t.find({std::string(ns), std::string(key)});
    if (it == t.end()) return std::nullopt;
    if (it->second.expires && *it->second.expires <= time_.now()) return std::nullopt;
    return it->second.value;
  }
  class uow final : public unit_of_work {
   public:
    uow(fake_store& s, table const& base) : s_(s), records_(base) {}
    result<void> put(std::string_view ns, std::string_view key, std::string_view value,
                     std::optional<sys_time> expires) override {
      records_[{std::string(ns), std::string(key)}] = {std::string(value), expires};
      return {};
    }
    result<bool> insert(std::string_view ns, std::string_view key, std::string_view value,
                        std::optional<sys_time> expires) override {
      if (s_.lookup(records_, ns, key)) return false;
      records_[{std::string(ns), std::string(key)}] = {std::string(value), expires};
      return true;
    }
    result<std::optional<std::string>> get(std::string_view ns, std::string_view key) override {
      return s_.lookup(records_, ns, key);
    }
    result<bool> erase(std::string_view ns, std::string_view key) override {
      return records_.erase({std::string(ns), std::string(key)}) > 0;
    }
    result<void> emit(cloud_event const& ev) override {
      events_.push_back(ev);
      return {};
    }
    fake_store& s_;
    table records_;
    std::vector<cloud_event> events_;
  };

  clock const& time_;
  mutable std::mutex mutex_;
  table records_;
  std::vector<cloud_event> outbox_;
  int commits_ = 0;
};

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

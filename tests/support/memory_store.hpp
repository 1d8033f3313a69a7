#pragma once
// An in-memory bbgw::store for connectors' unit tests: real all-or-nothing transactions, expiry
// by an injected clock, the committed outbox as a vector; can be told to fail an emit.
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/system/errc.hpp>

#include "bbgw/clock.hpp"
#include "bbgw/store.hpp"

namespace bbgw::testing {

class memory_store final : public bbgw::store {
 public:
  explicit memory_store(clock const& time) : time_(time) {}

  struct record {
    std::string value;
    std::optional<sys_time> expires;
  };
  using table = std::map<std::pair<std::string, std::string>, record>;

  result<void> transact(std::function<result<void>(unit_of_work&)> work) override {
    std::lock_guard lock(mutex_);
    ++transactions_;
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
  result<bool> may_hold(std::string_view ns) override {
    std::lock_guard lock(mutex_);
    for (auto const& [k, rec] : records_)
      if (k.first == ns && (!rec.expires || *rec.expires > time_.now())) return true;
    return false;
  }

  std::vector<cloud_event> outbox() const {
    std::lock_guard lock(mutex_);
    return outbox_;
  }
  int transactions() const {
    std::lock_guard lock(mutex_);
    return transactions_;
  }
  int commits() const {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  // Committed records, expired ones included.
  std::size_t records() const {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  // The n-th emit (0-based, counted over all transactions from now) fails.
  void fail_emit_at(int n) { fail_emit_at_ = emits_ + n; }

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
    uow(memory_store& s, table const& base) : s_(s), records_(base) {}
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
      if (s_.emits_++ == s_.fail_emit_at_)
        return boost::system::errc::make_error_code(boost::system::errc::io_error);
      events_.push_back(ev);
      return {};
    }

    memory_store& s_;
    table records_;
    std::vector<cloud_event> events_;
  };

  clock const& time_;
  mutable std::mutex mutex_;
  table records_;
  std::vector<cloud_event> outbox_;
  int transactions_ = 0;
  int commits_ = 0;
  int emits_ = 0;
  int fail_emit_at_ = -1;
};

}  // namespace bbgw::testing

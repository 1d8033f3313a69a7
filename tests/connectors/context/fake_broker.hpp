#pragma once
// An in-process NGSI-v2 / NGSI-LD subscription registry behind bbgw::http_client, for the sync
// unit tests: paged list, create (201 + Location), get, delete; restart() loses everything, and
// every request is recorded so tests can assert what the gateway sent.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "bbgw/http_client.hpp"

namespace bbgw::context::testing {

class fake_broker final : public bbgw::http_client {
 public:
  explicit fake_broker(bool ld) : ld_(ld) {}

  result<client_response> send(client_request const& req) override {
    std::lock_guard lock(mutex_);
    requests.push_back(req);
    if (down) return boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    auto u = boost::urls::parse_absolute_uri(req.url);
    std::string path(u->path());
    std::string coll = ld_ ? "/ngsi-ld/v1/subscriptions" : "/v2/subscriptions";
    client_response r;
    if (path == coll && req.method == "GET") {
      std::size_t limit = 20, offset = 0;
      for (auto const& p : u->params()) {
        if (p.key == "limit") limit = std::stoul(p.value);
        if (p.key == "offset") offset = std::stoul(p.value);
      }
      boost::json::array page;
      for (std::size_t i = offset; i < subs.size() && page.size() < limit; ++i)
        page.push_back(subs[i].second);
      r.status = 200;
      r.headers.add(ld_ ? "NGSILD-Results-Count" : "Fiware-Total-Count",
                    std::to_string(subs.size()));
      r.body = boost::json::serialize(page);
      return r;
    }
    if (path == coll && req.method == "POST") {
      if (fail_create) {
        r.status = 500;
        return r;
      }
      auto body = boost::json::parse(req.body).as_object();
      std::string id = ld_ ? "urn:ngsi-ld:Subscription:" + std::to_string(++next_)
                           : "sub" + std::to_string(++next_);
      body["id"] = id;
      body[ld_ ? "isActive" : "status"] =
          ld_ ? boost::json::value(true) : boost::json::value("active");
      subs.emplace_back(id, body);
      r.status = 201;
      r.headers.add("Location", coll + "/" + id);
      return r;
    }
    if (path.rfind(coll + "/", 0) == 0) {
      std::string id = path.substr(coll.size() + 1);
      for (std::size_t i = 0; i < subs.size(); ++i) {
        if (subs[i].first != id) continue;
        if (req.method == "DELETE") {
          subs.erase(subs.begin() + static_cast<long>(i));
          r.status = 204;
        } else {
          r.status = 200;
          r.body = boost::json::serialize(subs[i].second);
        }
        return r;
      }
      r.status = 404;
      return r;
    }
    r.status = 400;
    return r;
  }

  void restart() {
    std::lock_guard lock(mutex_);
    subs.clear();
  }
  // A subscription made by someone else (or by an older gateway config).
  void add(std::string id, boost::json::object body) {
    body["id"] = id;
    subs.emplace_back(std::move(id), std::move(body));
  }
  std::vector<client_request> take_requests() {
    std::lock_guard lock(mutex_);
    return std::exchange(requests, {});
  }

  std::vector<std::pair<std::string, boost::json::object>> subs;
  std::vector<client_request> requests;
  bool down = false;
  bool fail_create = false;

 private:
  bool ld_;
  int next_ = 0;
  std::mutex mutex_;
};

}  // namespace bbgw::context::testing

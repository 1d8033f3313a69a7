// Faults: Kafka unreachable, the gateway killed with events pending, a slow client, SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <future>
#include <set>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;

std::vector<std::string> post_events(gateway& gw, int count, std::string const& key) {
  auto r = post_json(gw.url() + "/test/events",
                     R"({"count":)" + std::to_string(count) + R"(,"key":")" + key + R"("})");
  EXPECT_EQ(r.status, 201) << r.body;
  std::vector<std::string> ids;
  if (r.status != 201) return ids;
  auto const parsed = json::parse(r.body);
  for (auto const& v : parsed.at("ids").as_array()) ids.emplace_back(v.as_string());
  return ids;
}

std::set<std::string> ids_in(std::vector<kafka_record> const& recs) {
  std::set<std::string> s;
  for (auto const& r : recs) s.insert(std::string(json::parse(r.value).at("id").as_string()));
  return s;
}

json::object wait_readyz(gateway& gw, std::function<bool(int, json::object const&)> pred) {
  json::object last;
  for (int i = 0; i < 150; ++i) {
    auto r = curl(gw.url() + "/readyz");
    if (r.status != 0) {
      last = json::parse(r.body).as_object();
      if (pred(r.status, last)) return last;
    }
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "readyz never matched; last: " << json::serialize(last);
  return last;
}

TEST(Faults, KafkaUnreachableKeepsEventsInTheOutboxThenDeliversThem) {
  broker_process broker({"bbgw.test"});
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml(broker.bootstrap()));
  wait_readyz(gw, [](int status, auto const&) { return status == 200; });

  broker.down();
  auto ids = post_events(gw, 40, "k1");  // accepted: durable in the outbox
  ASSERT_EQ(ids.size(), 40u);
  auto r = wait_readyz(gw, [](int status, json::object const& o) {
    auto const& c = o.at("components").as_object();
    return status == 503 && c.at("kafka").at("status") == "down" &&
           c.at("outbox").at("depth").as_int64() >= 40;
  });
  EXPECT_EQ(r.at("status"), "not_ready");

  broker.up();
  auto recs = consume(broker.bootstrap(), "bbgw.test", 40, 60s);
  auto got = ids_in(recs);
  for (auto const& id : ids) EXPECT_TRUE(got.count(id)) << "lost event " << id;
  wait_readyz(gw, [](int status, json::object const& o) {
    return status == 200 && o.at("components").at("outbox").at("depth").as_int64() == 0;
  });
}

TEST(Faults, KillMinus9WithEventsPendingLosesNothing) {
  broker_process broker({"bbgw.test"});
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml(broker.bootstrap()));

  broker.down();
  auto ids = post_events(gw, 300, "k9");
  ASSERT_EQ(ids.size(), 300u);
  gw.proc().signal(SIGKILL);
  ASSERT_EQ(gw.proc().wait_exit(), 128 + SIGKILL);

  broker.up();
  gw.restart();  // same directory, same store
  auto recs = consume(broker.bootstrap(), "bbgw.test", 300, 60s);
  auto got = ids_in(recs);
  std::size_t missing = 0;
  for (auto const& id : ids) missing += got.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0u);
  // Per-key order holds across the restart: data.seq rises with the offset.
  std::int64_t last = -1;
  for (auto const& rec : recs) {
    auto seq = json::parse(rec.value).at("data").at("seq").as_int64();
    EXPECT_GT(seq, last);
    last = seq;
  }
}

TEST(Faults, KillMinus9WhileDeliveringLosesNoAcknowledgedEvent) {
  broker_process broker({"bbgw.test"});
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml(broker.bootstrap()));
  std::vector<std::string> acked;
  for (int i = 0; i < 10; ++i) {
    auto ids = post_events(gw, 100, "k" + std::to_string(i % 3));
    acked.insert(acked.end(), ids.begin(), ids.end());
  }
  gw.proc().signal(SIGKILL);
  gw.proc().wait_exit();
  gw.restart();
  // At-least-once: duplicates may appear after a crash, but every acknowledged id arrives.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  std::set<std::string> got;
  while (std::chrono::steady_clock::now() < deadline) {
    got = ids_in(consume(broker.bootstrap(), "bbgw.test", acked.size() * 2, 3s));
    bool all = std::all_of(acked.begin(), acked.end(), [&](auto const& id) { return got.count(id); });
    if (all) break;
  }
  for (auto const& id : acked) EXPECT_TRUE(got.count(id)) << "lost acknowledged event " << id;
}

TEST(Faults, SlowClientIsCutByTheReadTimeoutWhileOthersAreServed) {
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml("", "", "read_timeout: 2s"));
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(gw.port("http"));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  bool closed = false;
  int others_ok = 0;
  for (std::size_t i = 0; i < req.size() && !closed; ++i) {
    if (::send(fd, &req[i], 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    // One byte a second; meanwhile another client is served normally.
    for (int w = 0; w < 4 && !closed; ++w) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) closed = true;
      if (n > 0) closed = true;  // an error response, then close
    }
    if (curl(gw.url() + "/healthz").status == 200) ++others_ok;
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_TRUE(closed) << "a one-byte-per-second client was never cut";
  EXPECT_LT(elapsed, 8s);
  EXPECT_GE(elapsed, 1500ms);
  EXPECT_GE(others_ok, 1);
}

TEST(Faults, SigtermFinishesInFlightRequestsAndExitsZero) {
  auto dir = make_temp_dir("bbgw-it");
  gateway gw(dir, gateway_yaml());
  auto slow = std::async(std::launch::async, [&] { return curl(gw.url() + "/test/sleep/1500"); });
  std::this_thread::sleep_for(400ms);
  gw.proc().signal(SIGTERM);
  auto r = slow.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slept");
  EXPECT_EQ(gw.proc().wait_exit(), 0);
  EXPECT_TRUE(gw.proc().wait_line([](auto const& l) {
    return l.find("\"msg\":\"stopped\"") != std::string::npos;
  }, 1s));
}

}  // namespace
}  // namespace bbgw::it

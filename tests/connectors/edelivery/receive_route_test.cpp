// The receive route end to end in process, with the body spooled to a file as the HTTP server
// hands it over (request::body_file): a large signed + encrypted message made by an independent
// generator (make_large_as4.py: Python 'cryptography' + lxml) is received with the heap never
// holding the payload; its file, size and SHA-256 match what the generator sent; refusals
// (tampered ciphertext, gzip bombs, an extra MIME part, a missing cid: part, malformed MIME, a
// stale wsu:Timestamp, a connection without the PMode's TLS client certificate) answer the right
// EBMS error and leave no record, no event and no file behind.
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "as4_fakes.hpp"
#include "as4_fixtures.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/message_event.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"

#if defined(__SANITIZE_ADDRESS__)
// From compiler-rt's <sanitizer/allocator_interface.h> (g++ does not install the header).
extern "C" {
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                  std::size_t),
                                              void (*free_hook)(const volatile void*));
std::size_t __sanitizer_get_allocated_size(const volatile void* p);
}
#define BBGW_HEAP_HOOKS 1
#endif

namespace bbgw::edelivery {
namespace {

using test::null_sink;

namespace fs = std::filesystem;
namespace json = boost::json;

// Live heap bytes, their peak, and the largest single allocation, seen through ASan's
// allocation hooks (every malloc/new/free of the process). Without ASan, peak RSS stands in.
#if BBGW_HEAP_HOOKS
std::atomic<long long> heap_now{0}, heap_peak{0}, heap_largest{0};
void on_malloc(const volatile void*, std::size_t size) {
  auto now = heap_now.fetch_add(static_cast<long long>(size)) + static_cast<long long>(size);
  for (auto p = heap_peak.load(); now > p && !heap_peak.compare_exchange_weak(p, now);) {
  }
  auto s = static_cast<long long>(size);
  for (auto l = heap_largest.load(); s > l && !heap_largest.compare_exchange_weak(l, s);) {
  }
}
void on_free(const volatile void* p) {
  heap_now.fetch_sub(static_cast<long long>(__sanitizer_get_allocated_size(p)));
}
#endif

struct heap_meter {
  heap_meter() {
#if BBGW_HEAP_HOOKS
    static bool installed = [] {
      __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
      return true;
    }();
    (void)installed;
    base_ = heap_now.load();
    heap_peak = base_;
    heap_largest = 0;
#else
    std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
    base_ = status_kib("VmRSS:") * 1024;
#endif
  }
  // Peak growth over the start, in bytes.
  long long peak_growth() const {
#if BBGW_HEAP_HOOKS
    return heap_peak.load() - base_;
#else
    return status_kib("VmHWM:") * 1024 - base_;
#endif
  }
  long long largest_allocation() const {
#if BBGW_HEAP_HOOKS
    return heap_largest.load();
#else
    return 0;
#endif
  }
  static long long status_kib(std::string const& key) {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size()));
    return 0;
  }
  long long base_ = 0;
};

class null_http final : public http_client {
 public:
  result<client_response> send(client_request const&) override {
    return boost::system::errc::make_error_code(boost::system::errc::not_supported);
  }
};

std::string const as4net = BBGW_SHARED_DIR "/fixtures/as4/as4net/";

struct generated {
  std::string file;
  std::string content_type;
  std::string message_id;
  std::uint64_t payload_size = 0;
  std::string payload_sha256;
};

std::string sha256_file(std::string const& path) {
  sha256_stream sha;
  std::ifstream in(path, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.update(std::span<char const>(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  return sha.hex_digest();
}

// A file as the HTTP server streams a request body to a handler (route::stream_body): in
// pieces, pulled by the handler.
class file_body final : public bbgw::body_reader {
 public:
  explicit file_body(std::string const& path) : in_(path, std::ios::binary) {}
  result<std::size_t> read(std::span<char> into) override {
    if (into.empty()) return make_error_code(boost::system::errc::invalid_argument);
    in_.read(into.data(), static_cast<std::streamsize>(std::min<std::size_t>(into.size(), 65521)));
    auto n = static_cast<std::size_t>(in_.gcount());
    consumed += n;
    return n;
  }
  std::uint64_t consumed = 0;

 private:
  std::ifstream in_;
};

// Every case both ways: the body spooled to a file first (request::body_file, as when the
// server's stream slots are all taken), and read while it arrives (request::body_stream).
class receive_route : public ::testing::TestWithParam<bool> {
 protected:
  receive_route() {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '-');
    dir_ =
        fs::temp_directory_path() / ("bbgw-as4-route-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    config_ = test::holodeck_receiver_config(dir_);
    config_.body_limit = 512 * 1024 * 1024;
    config_.mime.max_total_bytes = config_.body_limit;
    time_.set(std::chrono::system_clock::now());
  }
  ~receive_route() override { fs::remove_all(dir_); }

  void start() { connector_ = std::make_unique<edelivery_connector>(config_, ctx_); }

  generated generate(std::uint64_t size, std::vector<std::string> extra = {}) {
    generated g;
    g.file = (dir_ / "in" / ("message-" + std::to_string(++seq_))).string();
    g.message_id = "large-" + std::to_string(seq_) + "@route.test";
    std::string cmd =
        "/usr/bin/python3 " BBGW_SOURCE_DIR "/tests/connectors/edelivery/make_large_as4.py " +
        g.file + " " + std::to_string(size) + " " + as4net + "AccessPointA.pfx Pz4cZK4SULUwmraZa " +
        as4net + "AccessPointB.pfx Pz4cZK4SULUwmraZb " + g.message_id;
    for (auto const& e : extra) cmd += " " + e;
    auto out = dir_ / "in" / "gen.json";
    EXPECT_EQ(std::system((cmd + " > " + out.string()).c_str()), 0) << cmd;
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    auto v = json::parse(line).as_object();
    g.content_type = std::string(v.at("content_type").as_string());
    g.payload_size = v.at("payload_size").to_number<std::uint64_t>();
    g.payload_sha256 = std::string(v.at("payload_sha256").as_string());
    return g;
  }

  // The request as the server hands it over: spooled, or streamed (then read to its end,
  // accepted or refused, so that the sender gets the answer).
  response post_file(std::string const& file, std::string const& content_type,
                     std::optional<std::string> client_cert = std::nullopt) {
    request req;
    req.method = "POST";
    req.path = "/edelivery/as4";
    req.headers.set("Content-Type", content_type);
    std::optional<file_body> body;
    if (GetParam()) {
      body.emplace(file);
      req.body_stream = &*body;
    } else {
      req.body_file = file;
    }
    req.request_id = "req-route";
    req.client_certificate_der = std::move(client_cert);
    if (req.client_certificate_der) req.tls = true;
    auto res = connector_->receive_as4(req);
    if (body) {
      EXPECT_EQ(body->consumed, fs::file_size(file)) << "the body is read to its end";
    }
    return res;
  }

  static std::string code(response const& r) {
    std::smatch m;
    static std::regex const re("errorCode=\"(EBMS:[0-9]+)\"");
    return std::regex_search(r.body, m, re) ? m[1].str() : "none: " + r.body.substr(0, 300);
  }

  // Nothing of a refused message: no record, no event, no file or directory under payload_dir.
  void expect_nothing_kept(std::string const& message_id) {
    auto rec = db_.get(message_namespace, message_id);
    ASSERT_TRUE(rec);
    EXPECT_FALSE(*rec) << "no record";
    EXPECT_TRUE(db_.outbox().empty()) << "no event";
    std::vector<std::string> left;
    if (fs::exists(config_.payload_dir))
      for (auto const& e : fs::recursive_directory_iterator(config_.payload_dir))
        left.push_back(e.path().string());
    EXPECT_TRUE(left.empty()) << "left behind: " << (left.empty() ? "" : left.front());
  }

  static void flip_byte(std::string const& file, std::uint64_t offset) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x01));
  }

  static std::string read(std::string const& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static void write(std::string const& file, std::string const& data) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << data;
  }

  fs::path dir_;
  int seq_ = 0;
  edelivery_config config_;
  testing::manual_clock time_;
  testing::memory_store db_{time_};
  null_sink sink_;
  testing::fake_metrics metrics_;
  testing::fake_logger log_;
  null_http http_;
  connector_context ctx_{db_, sink_, time_, metrics_, log_, http_, "https://gw.test"};
  std::unique_ptr<edelivery_connector> connector_;
};

TEST_P(receive_route, large_payload_is_streamed_to_its_file_without_being_held_in_memory) {
  std::uint64_t const size = 64ull << 20;
  auto g = generate(size);
  start();
  {  // The meter itself sees memory that is held (so a low figure below means something).
    heap_meter control;
    std::string held(32 << 20, 'x');
    EXPECT_GE(control.peak_growth(), 32ll << 20);
    EXPECT_EQ(held[12345], 'x');
  }
  heap_meter heap;
  auto res = post_file(g.file, g.content_type);
  auto growth = heap.peak_growth();
  auto largest = heap.largest_allocation();
  ASSERT_EQ(res.status, 200u) << res.body.substr(0, 2000);
  EXPECT_NE(res.body.find("NonRepudiationInformation"), std::string::npos);
  // The heap never came near the payload: a bounded working set, no payload-sized buffer.
  EXPECT_LT(growth, 24ll << 20) << "peak heap growth while receiving " << size << " bytes";
  EXPECT_LT(largest, 4ll << 20) << "largest single allocation";
  std::cout << "[ heap     ] peak growth " << growth << " B, largest allocation " << largest
            << " B for a " << size << " B payload\n";

  // The stored record, the event and the file agree with what the generator sent.
  auto rec = db_.get(message_namespace, g.message_id);
  ASSERT_TRUE(rec && *rec);
  auto o = json::parse(**rec).as_object();
  auto const& files = o.at("files").as_array();
  ASSERT_EQ(files.size(), 1u);
  auto file = std::string(files[0].as_string());
  EXPECT_EQ(fs::path(file).parent_path().parent_path(), fs::path(config_.payload_dir));
  EXPECT_EQ(fs::file_size(file), size);
  EXPECT_EQ(sha256_file(file), g.payload_sha256);
  auto const& p = o.at("payloads").as_array()[0].as_object();
  EXPECT_EQ(p.at("size").to_number<std::uint64_t>(), size);
  EXPECT_EQ(p.at("sha256"), json::string(g.payload_sha256));
  EXPECT_NE(o.at("envelope").as_string().find("wsse:Security"), std::string::npos)
      << "the raw signed header is kept";
  auto out = db_.outbox();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data.at("payloads").as_array()[0].at("sha256"), json::string(g.payload_sha256));
  // Only the payload file remains: scratch files (the decrypted part) are gone.
  std::size_t entries = 0;
  for (auto const& e : fs::recursive_directory_iterator(config_.payload_dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 2u) << "one directory, one payload file";

  // The payload API streams the file.
  request get;
  get.method = "GET";
  get.params = {{"id", g.message_id}, {"n", "0"}};
  auto got = connector_->get_payload(get);
  ASSERT_EQ(got.status, 200u);
  EXPECT_TRUE(got.body.empty());
  EXPECT_EQ(got.body_file, file);
  EXPECT_EQ(got.headers.get("Content-Type").value_or(""), "application/octet-stream");
}

TEST_P(receive_route, compressed_payload_is_gunzipped_streaming) {
  auto g = generate(3 << 20, {"--gzip"});
  start();
  auto res = post_file(g.file, g.content_type);
  ASSERT_EQ(res.status, 200u) << res.body.substr(0, 2000);
  auto rec = json::parse(**db_.get(message_namespace, g.message_id)).as_object();
  auto file = std::string(rec.at("files").as_array()[0].as_string());
  EXPECT_EQ(fs::file_size(file), g.payload_size);
  EXPECT_EQ(sha256_file(file), g.payload_sha256);
}

TEST_P(receive_route, tampered_ciphertext_leaves_nothing_behind) {
  auto g = generate(2 << 20);
  flip_byte(g.file, fs::file_size(g.file) - 1000);  // inside the encrypted attachment
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0102");
  expect_nothing_kept(g.message_id);
  EXPECT_EQ(metrics_.value("bbgw_edelivery_messages_rejected_total",
                           {{"reason", "decryption_failed"}, {"code", "EBMS:0102"}}),
            1);
}

TEST_P(receive_route, gzip_bomb_by_ratio_is_decompression_failure) {
  // 16 MiB of zeros gzip to ~16 KiB: far above the 200:1 ratio once past the 1 MiB floor.
  auto g = generate(16 << 20, {"--gzip", "--zeros"});
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0303");
  EXPECT_NE(res.body.find("ratio"), std::string::npos);
  expect_nothing_kept(g.message_id);
}

TEST_P(receive_route, gzip_bomb_by_size_is_decompression_failure) {
  config_.gunzip.max_output_bytes = 1 << 20;
  auto g = generate(3 << 20, {"--gzip"});  // random bytes: ratio ~1, size 3 MiB > 1 MiB
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0303");
  EXPECT_NE(res.body.find("size above the limit"), std::string::npos);
  expect_nothing_kept(g.message_id);
}

TEST_P(receive_route, extra_mime_part_no_partinfo_names_is_value_inconsistent) {
  auto g = generate(64 << 10);
  auto body = read(g.file);
  auto close = body.rfind("\r\n--MIMEBoundary_large_as4_test_0123456789--");
  ASSERT_NE(close, std::string::npos);
  body.insert(close,
              "\r\n--MIMEBoundary_large_as4_test_0123456789\r\nContent-Type: text/plain\r\n"
              "Content-ID: <extra@evil.test>\r\n\r\nsmuggled");
  write(g.file, body);
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0003");
  EXPECT_NE(res.body.find("a MIME part no PartInfo names"), std::string::npos);
  expect_nothing_kept(g.message_id);
}

TEST_P(receive_route, missing_cid_part_is_external_payload_error) {
  auto g = generate(64 << 10);
  auto body = read(g.file);
  std::string const delim = "\r\n--MIMEBoundary_large_as4_test_0123456789";
  auto second = body.find(delim);  // the first delimiter opens the body without a CRLF
  auto close = body.rfind(delim + "--");
  ASSERT_NE(second, std::string::npos);
  ASSERT_LT(second, close);
  body.erase(second, close - second);  // the attachment is gone, its PartInfo stays
  write(g.file, body);
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0011");
  expect_nothing_kept(g.message_id);
}

TEST_P(receive_route, malformed_mime_is_mime_inconsistency) {
  auto g = generate(64 << 10);
  auto body = read(g.file);
  body.resize(body.rfind("\r\n--MIMEBoundary_large_as4_test_0123456789--"));  // no close
  write(g.file, body);
  auto h = dir_ / "in" / "bad-header";
  auto bad = read(g.file) + "\r\n--MIMEBoundary_large_as4_test_0123456789--\r\n";
  bad.replace(bad.find("Content-ID: <payload"), 11, "Content-ID ");  // no colon
  write(h.string(), bad);
  start();
  auto res = post_file(g.file, g.content_type);
  EXPECT_EQ(code(res), "EBMS:0007");
  EXPECT_EQ(res.status, 500u) << "Unpackaging errors are SOAP faults";
  auto res2 = post_file(h.string(), g.content_type);
  EXPECT_EQ(code(res2), "EBMS:0007");
  expect_nothing_kept(g.message_id);
}

TEST_P(receive_route, stale_or_future_timestamp_is_policy_noncompliance) {
  using namespace std::chrono;
  auto iso = [](sys_time t) {
    auto s = floor<seconds>(t);
    auto day = floor<days>(s);
    year_month_day ymd{day};
    hh_mm_ss hms{s - day};
    char b[32];
    std::snprintf(b, sizeof b, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return std::string(b);
  };
  config_.timestamp_skew = seconds(30);
  start();
  auto now = time_.now();
  auto expired = generate(1024, {"--timestamp-created", iso(now - minutes(10)),
                                 "--timestamp-expires", iso(now - minutes(5))});
  auto res = post_file(expired.file, expired.content_type);
  EXPECT_EQ(code(res), "EBMS:0103");
  EXPECT_NE(res.body.find("wsu:Timestamp has expired"), std::string::npos);
  auto future = generate(1024, {"--timestamp-created", iso(now + minutes(2)), "--timestamp-expires",
                                iso(now + minutes(7))});
  res = post_file(future.file, future.content_type);
  EXPECT_EQ(code(res), "EBMS:0103");
  EXPECT_NE(res.body.find("Created is in the future"), std::string::npos);
  expect_nothing_kept(future.message_id);
  // Within the configured skew: accepted.
  auto fresh = generate(1024, {"--timestamp-created", iso(now + seconds(20)), "--timestamp-expires",
                               iso(now + minutes(5))});
  res = post_file(fresh.file, fresh.content_type);
  EXPECT_EQ(res.status, 200u);
  EXPECT_NE(res.body.find("NonRepudiationInformation"), std::string::npos) << code(res);
}

TEST_P(receive_route, pmode_bound_to_a_tls_client_certificate_refuses_other_connections) {
  auto partner_tls = test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").certificate_der();
  auto other_tls = test::pfx("as4net/AccessPointB.pfx", "Pz4cZK4SULUwmraZb").certificate_der();
  config_.pmodes[0].tls_client_certificates = {partner_tls};
  start();
  auto g = generate(1024);
  auto none = post_file(g.file, g.content_type);
  EXPECT_EQ(code(none), "EBMS:0101");
  EXPECT_NE(none.body.find("requires the partner's TLS client certificate"), std::string::npos);
  auto wrong = post_file(g.file, g.content_type, other_tls);
  EXPECT_EQ(code(wrong), "EBMS:0101");
  EXPECT_NE(wrong.body.find("not the PMode partner's"), std::string::npos);
  expect_nothing_kept(g.message_id);
  EXPECT_EQ(metrics_.value("bbgw_edelivery_messages_rejected_total",
                           {{"reason", "tls_client_mismatch"}, {"code", "EBMS:0101"}}),
            2);
  auto ok = post_file(g.file, g.content_type, partner_tls);
  EXPECT_EQ(ok.status, 200u);
  EXPECT_NE(ok.body.find("NonRepudiationInformation"), std::string::npos) << code(ok);
}

// Refused before the body is looked at (here: no Content-Type): a streamed body is still read
// to its end (post_file checks it), so the sender gets the eb:Error.
TEST_P(receive_route, refused_before_reading_still_reads_the_body_to_its_end) {
  start();
  auto file = (dir_ / "in" / "junk").string();
  write(file, std::string(3 << 20, 'j'));
  auto res = post_file(file, "");
  EXPECT_EQ(code(res), "EBMS:0008");
  expect_nothing_kept("none");
}

TEST_P(receive_route, in_memory_body_still_works_and_uses_the_same_files) {
  auto g = generate(4096);
  start();
  request req;
  req.method = "POST";
  req.headers.set("Content-Type", g.content_type);
  req.body = read(g.file);
  auto res = connector_->receive_as4(req);
  ASSERT_EQ(res.status, 200u) << res.body.substr(0, 1000);
  auto rec = json::parse(**db_.get(message_namespace, g.message_id)).as_object();
  EXPECT_EQ(sha256_file(std::string(rec.at("files").as_array()[0].as_string())), g.payload_sha256);
}

// The receive-side config keys: timestamp_skew and a PMode's tls_client_certificates (PEM files
// read as DER), refused naming the key when a file is not a certificate.
INSTANTIATE_TEST_SUITE_P(body, receive_route, ::testing::Values(false, true),
                         [](auto const& info) { return info.param ? "streamed" : "spooled"; });

TEST(receive_config, timestamp_skew_and_tls_client_certificates) {
  auto dir = fs::temp_directory_path() / ("bbgw-as4-rcfg-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto a = test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa");
  auto cert = (dir / "a.pem").string();
  std::ofstream(cert) << a.certificate_pem();
  auto yaml = [&](std::string const& tls_certs) {
    return "enabled: true\nkey: {pkcs12: " + as4net +
           "AccessPointB.pfx, password: Pz4cZK4SULUwmraZb}\n"
           "timestamp_skew: 90s\n"
           "pmodes:\n"
           "  - id: p1\n    service: Test\n    action: Store\n"
           "    initiator: {party_id: a, role: Sender}\n"
           "    responder: {party_id: b, role: Receiver}\n"
           "    tls_client_certificates: [" +
           tls_certs + "]\n    security: {partner_certificates: [" + cert + "]}\n";
  };
  {
    config_reader r(YAML::Load(yaml(cert)), "connectors.edelivery", nullptr);
    auto c = read_config(r);
    r.finish();
    ASSERT_TRUE(c);
    EXPECT_EQ(c->timestamp_skew, std::chrono::seconds(90));
    ASSERT_EQ(c->pmodes[0].tls_client_certificates.size(), 1u);
    EXPECT_EQ(c->pmodes[0].tls_client_certificates[0], a.certificate_der());
  }
  auto bad = (dir / "bad.pem").string();
  std::ofstream(bad) << "not a certificate";
  try {
    config_reader r(YAML::Load(yaml(bad)), "connectors.edelivery", nullptr);
    (void)read_config(r);
    ADD_FAILURE() << "accepted a file that is not a certificate";
  } catch (std::exception const& e) {
    EXPECT_NE(std::string(e.what()).find("tls_client_certificates"), std::string::npos) << e.what();
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace bbgw::edelivery

// connectors.edelivery: a full section is read into PModes with loaded certificates; wrong keys
// are refused naming the key.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "as4_fixtures.hpp"
#include "edelivery/config.hpp"
#include "edelivery/pmode_match.hpp"

namespace bbgw::edelivery {
namespace {

namespace fs = std::filesystem;

std::string const as4 = BBGW_SHARED_DIR "/fixtures/as4/as4net/";

class config : public ::testing::Test {
 protected:
  config() {
    dir_ = fs::temp_directory_path() / ("bbgw-as4-cfg-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    cert_ = (dir_ / "a.pem").string();
    std::ofstream(cert_)
        << test::pfx("as4net/AccessPointA.pfx", "Pz4cZK4SULUwmraZa").certificate_pem();
  }
  ~config() override { fs::remove_all(dir_); }

  std::string yaml(std::string const& pmode_extra = "") {
    return "enabled: true\n"
           "key: {pkcs12: " +
           as4 +
           "AccessPointB.pfx, password: Pz4cZK4SULUwmraZb}\n"
           "body_limit: 8MiB\n"
           "pmodes:\n"
           "  - id: p1\n"
           "    agreement: agr\n"
           "    service: Test\n"
           "    service_type: 'org:test'\n"
           "    action: Store\n"
           "    initiator: {party_id: a, role: Sender}\n"
           "    responder: {party_id: b, party_type: 'urn:t', role: Receiver}\n"
           "    security: {encrypt: true, partner_certificates: [" +
           cert_ +
           "]}\n"
           "    reliability: {duplicate_window: 2h}\n" +
           pmode_extra;
  }

  std::optional<edelivery_config> read(std::string const& text) {
    config_reader r(YAML::Load(text), "connectors.edelivery", nullptr);
    auto c = read_config(r);
    r.finish();
    return c;
  }

  fs::path dir_;
  std::string cert_;
};

TEST_F(config, reads_key_limits_and_pmodes) {
  auto c = read(yaml());
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->own_key.has_private());
  EXPECT_EQ(c->body_limit, 8u * 1024 * 1024);
  EXPECT_EQ(c->mime.max_total_bytes, c->body_limit);
  ASSERT_EQ(c->pmodes.size(), 1u);
  auto const& p = c->pmodes[0];
  EXPECT_TRUE(p.encrypt);
  EXPECT_TRUE(p.sign);
  EXPECT_EQ(p.duplicate_window, std::chrono::hours(2));
  ASSERT_EQ(p.partner_certificates.size(), 1u);
  EXPECT_EQ(p.partner_certificates[0].subject_name(), "CN=AccessPointA");
  EXPECT_EQ(p.responder.party_type, "urn:t");
}

TEST_F(config, sending_pmode_endpoint_and_retries) {
  auto c = read(yaml("    endpoint: https://gw-b.example/edelivery/as4\n"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pmodes[0].endpoint, "https://gw-b.example/edelivery/as4");
  EXPECT_EQ(c->pmodes[0].max_attempts, 5);
  EXPECT_FALSE(c->pmodes[0].tls);
  auto t = read(yaml("    tls: {ca_file: " + cert_ + "}\n"));
  ASSERT_TRUE(t && t->pmodes[0].tls);
  EXPECT_EQ(t->pmodes[0].tls->ca_file, cert_);
  try {
    read(yaml("    tls: {certificate: " + cert_ + "}\n"));
    FAIL() << "accepted";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "connectors.edelivery.pmodes[0].tls.certificate");
  }
  try {
    read(yaml("    endpoint: ftp://gw-b.example/\n"));
    FAIL() << "accepted";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "connectors.edelivery.pmodes[0].endpoint");
  }
}

TEST_F(config, disabled_section_is_nothing) {
  EXPECT_FALSE(read("enabled: false\npmodes: []\n"));
  EXPECT_FALSE(read("enabled: false\nmax_submit_size: 1GiB\nretention: {payloads: 7d}\n"));
}

TEST_F(config, retention_of_payloads_defaults_to_30_days_and_reads_days) {
  auto d = read(yaml());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->retention.payloads, std::chrono::hours(24 * 30));
  EXPECT_EQ(d->retention.sweep_interval, std::chrono::hours(1));
  EXPECT_EQ(d->retention.leftover_grace, std::chrono::minutes(15));
  auto c = read("retention: {payloads: 90d, sweep_interval: 10m, leftover_grace: 0}\n" + yaml());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->retention.payloads, std::chrono::hours(24 * 90));
  EXPECT_EQ(c->retention.sweep_interval, std::chrono::minutes(10));
  EXPECT_EQ(c->retention.leftover_grace, std::chrono::milliseconds(0));
  auto h = read("retention: {payloads: 36h}\n" + yaml());
  ASSERT_TRUE(h);
  EXPECT_EQ(h->retention.payloads, std::chrono::hours(36));
  auto z = read("retention: {payloads: 0}\n" + yaml());
  ASSERT_TRUE(z);
  EXPECT_EQ(z->retention.payloads.count(), 0) << "0 = keep forever";
  for (auto const* bad : {"payloads: 30 days", "payloads: -1d", "payloads: d", "sweep_interval: 0",
                          "payloads: [30d]", "unknown: 1"}) {
    try {
      read("retention: {" + std::string(bad) + "}\n" + yaml());
      ADD_FAILURE() << "accepted " << bad;
    } catch (config_error const& e) {
      auto key = std::string(bad).substr(0, std::string(bad).find(':'));
      EXPECT_EQ(e.key(), "connectors.edelivery.retention." + key) << bad;
    }
  }
}

TEST_F(config, sending_threads_default_to_4_within_1_to_64) {
  auto d = read(yaml());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->sending_threads, 4u);
  auto c = read("sending_threads: 16\n" + yaml());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->sending_threads, 16u);
  for (auto const* bad :
       {"sending_threads: 0\n", "sending_threads: 65\n", "sending_threads: many\n"}) {
    try {
      read(bad + yaml());
      ADD_FAILURE() << "accepted " << bad;
    } catch (config_error const& e) {
      EXPECT_EQ(e.key(), "connectors.edelivery.sending_threads") << bad;
    }
  }
}

TEST_F(config, pmode_compression_defaults_to_auto_at_level_1) {
  auto d = read(yaml());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->pmodes[0].compression, "auto");
  EXPECT_EQ(d->pmodes[0].compression_level, 1);
  auto c = read(yaml("    compression: gzip\n    compression_level: 6\n"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->pmodes[0].compression, "gzip");
  EXPECT_EQ(c->pmodes[0].compression_level, 6);
  for (auto const* bad : {"compression: brotli\n", "compression_level: 10\n"}) {
    try {
      read(yaml(std::string("    ") + bad));
      ADD_FAILURE() << "accepted " << bad;
    } catch (config_error const& e) {
      auto key = std::string(bad).substr(0, std::string(bad).find(':'));
      EXPECT_EQ(e.key(), "connectors.edelivery.pmodes[0]." + key) << bad;
    }
  }
}

TEST_F(config, errors_name_the_key) {
  try {
    read("enabled: true\nkey: {pkcs12: /nonexistent.p12, password: x}\n");
    FAIL() << "accepted";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "connectors.edelivery.key.pkcs12");
  }
  try {
    read(yaml("    unknown_key: 1\n"));
    FAIL() << "accepted";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "connectors.edelivery.pmodes[0].unknown_key");
  }
  try {
    auto t = yaml();
    t.replace(t.find(cert_), cert_.size(), "/nonexistent.pem");
    read(t);
    FAIL() << "accepted";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "connectors.edelivery.pmodes[0].security.partner_certificates");
  }
}

TEST_F(config, pmode_matching_names_the_first_difference) {
  auto c = read(yaml());
  ASSERT_TRUE(c);
  user_message um;
  um.agreement_ref = "agr";
  um.service = "Test";
  um.service_type = "org:test";
  um.action = "Store";
  um.from = {{{"", "a"}}, "Sender"};
  um.to = {{{"urn:t", "b"}}, "Receiver"};
  auto ok = match_pmode(um, c->pmodes);
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->id, "p1");
  um.to.ids[0].type = "";
  std::string why;
  auto bad = match_pmode(um, c->pmodes, &why);
  ASSERT_FALSE(bad);
  EXPECT_EQ(why, "closest PMode 'p1': To PartyId is not 'b'");
  um.to.ids[0].type = "urn:t";
  um.action = "Other";
  EXPECT_FALSE(match_pmode(um, c->pmodes, &why));
  EXPECT_EQ(why, "closest PMode 'p1': Action 'Other' is not 'Store'");
}

}  // namespace
}  // namespace bbgw::edelivery

// The offline Apertium backend with the real Debian packages (apertium, apertium-en-es): a child
// process per translation with a timeout, pairs by config, a clear error for missing pairs.
#include "etranslation/apertium.hpp"

#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "etranslation/config.hpp"
#include "etranslation/etranslation_connector.hpp"
#include "fake_store.hpp"
#include "support/fakes.hpp"

namespace bbgw::etranslation {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

TEST(ChildProcess, OutputExitCodeAndTimeoutKillsThePipeline) {
  auto r = run_child({"/bin/sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"}, "hello", 5s);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.out, "HELLO");
  EXPECT_EQ(r.err, "oops\n");
  EXPECT_EQ(r.exit_code, 3);
  auto t0 = std::chrono::steady_clock::now();
  auto slow = run_child({"/bin/sh", "-c", "sleep 20 | cat"}, "", 300ms);
  EXPECT_TRUE(slow.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // A child that exits without reading a large input: no SIGPIPE for us.
  auto early = run_child({"/bin/true"}, std::string(4 << 20, 'x'), 5s);
  EXPECT_EQ(early.exit_code, 0);
  EXPECT_FALSE(run_child({"/no/such/binary"}, "", 1s).exit_code == 0);
}

TEST(Apertium, TranslatesEnglishToSpanishWithTheInstalledPair) {
  apertium_backend ap({});
  ASSERT_FALSE(ap.installed().empty())
      << "Apertium is not installed: scripts/install-deps.sh installs apertium apertium-en-es";
  auto mode = ap.mode_for("EN", "ES");
  ASSERT_TRUE(mode);
  EXPECT_EQ(*mode, "eng-spa");
  EXPECT_FALSE(ap.mode_for("EN", "AR"));
  auto o = ap.translate(*mode, "The children go to school. Where is the hospital?");
  ASSERT_TRUE(o.ok) << o.error;
  EXPECT_NE(o.text.find("niños"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("escuela"), std::string::npos) << o.text;
  EXPECT_NE(o.text.find("hospital"), std::string::npos) << o.text;
  EXPECT_EQ(o.text.find('*'), std::string::npos);  // unknown words not marked
  EXPECT_EQ(iso639_3("EL"), "ell");
}

TEST(Apertium, MissingCommandMeansNoPairs) {
  apertium_backend ap({"/no/such/apertium", "", 1s});
  EXPECT_TRUE(ap.installed().empty());
  EXPECT_NE(ap.installed_text().find("apertium-en-es"), std::string::npos);
}

struct null_sink final : event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

struct ApertiumConnector : ::testing::Test {
  bbgw::testing::manual_clock time;
  testing::fake_store db{time};
  testing::fake_http http{
      [](client_request const&, std::size_t) { return testing::answer(200, "99"); }};
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  null_sink sink;
  connector_context ctx{db, sink, time, stats, log, http, "http://gw.test"};

  std::unique_ptr<etranslation_connector> make(std::string const& y) {
    config_reader r(YAML::Load(y), "connectors.etranslation", nullptr);
    auto c = read_config(r);
    r.finish();
    return std::make_unique<etranslation_connector>(*c, ctx);
  }
  static response post(etranslation_connector& c, std::string const& body) {
    request r;
    r.method = "POST";
    r.headers.add("Content-Type", "application/json");
    r.body = body;
    return c.create(r);
  }
  static json::object status(etranslation_connector& c, std::string const& id) {
    request r;
    r.params = {{"id", id}};
    return json::parse(c.status(r).body).as_object();
  }
};

TEST_F(ApertiumConnector, WithoutEtranslationTheEmbeddedDefaultTranslatesOffline) {
  auto c = make("enabled: true\n");  // no eTranslation account at all
  auto r = post(*c, R"({"source_language":"en","target_languages":["es"],)"
                    R"("text":"The children go to school."})");
  ASSERT_EQ(r.status, 202u) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  EXPECT_EQ(c->tick(), 1u);
  auto st = status(*c, id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  std::string text(st.at("translations").at("es").at("text").as_string());
  EXPECT_NE(text.find("niños"), std::string::npos) << text;
  EXPECT_TRUE(http.requests().empty());
  auto events = db.outbox();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "eu.bbgateway.translation.completed.v1");
  EXPECT_EQ(events[0].data.at("backend"), "apertium");
  EXPECT_EQ(events[0].data.at("cached"), false);

  // Apertium results fill the cache too: the same text again is done at once.
  auto again = post(*c, R"({"source_language":"en","target_languages":["es"],)"
                        R"("text":"The  children go to school.\n"})");
  EXPECT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(json::parse(again.body).at("cached"), true);
  EXPECT_EQ(c->tick(), 0u);

  // A pair Apertium does not have: a clear 400 naming the installed pairs; nothing stored.
  auto commits = db.commits();
  auto bad = post(*c, R"({"source_language":"en","target_languages":["fr"],"text":"Hello"})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("en-fr"), std::string::npos) << bad.body;
  EXPECT_NE(bad.body.find("eng-spa"), std::string::npos) << bad.body;
  // A document in a format Apertium does not translate (txt and html it does: fallback_test).
  auto doc = post(*c, R"({"source_language":"en","target_languages":["es"],"document":)"
                      R"({"content_base64":"YQ==","format":"docx","filename":"a.docx"}})");
  EXPECT_EQ(doc.status, 400u);
  EXPECT_NE(doc.body.find("txt, html, htm"), std::string::npos) << doc.body;
  EXPECT_EQ(db.commits(), commits);
}

TEST_F(ApertiumConnector, AutoUsesApertiumForInstalledPairsAndEtranslationForTheRest) {
  auto c = make(
      "enabled: true\nbase_url: https://et.test/etranslation/si\napplication: app\n"
      "password: pw\nbackend: auto\n");
  auto r = post(*c, R"({"source_language":"en","target_languages":["es","fr"],)"
                    R"("text":"The children go to school."})");
  ASSERT_EQ(r.status, 202u) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  c->tick();
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(json::parse(reqs[0].body).at("targetLanguages"), (json::array{"FR"}));
  auto st = status(*c, id);
  EXPECT_EQ(st.at("translations").at("es").at("status"), "done");
  EXPECT_EQ(st.at("translations").at("fr").at("status"), "pending");
  EXPECT_EQ(st.at("translations").at("fr").at("backend"), "etranslation");
  EXPECT_EQ(st.at("upstream").at("state"), "submitted");

  // pair_backends pins one pair to eTranslation even though Apertium has it.
  auto pinned = make(
      "enabled: true\nbase_url: https://et.test/etranslation/si\napplication: app\n"
      "password: pw\nbackend: apertium\npair_backends: {en-es: etranslation}\n");
  auto p = post(*pinned, R"({"source_language":"en","target_languages":["es"],"text":"x"})");
  std::string pid(json::parse(p.body).at("id").as_string());
  pinned->tick();
  EXPECT_EQ(status(*pinned, pid).at("translations").at("es").at("backend"), "etranslation");
  EXPECT_EQ(http.requests().size(), 2u);
}

}  // namespace
}  // namespace bbgw::etranslation

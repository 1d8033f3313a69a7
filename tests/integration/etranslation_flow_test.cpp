// The eTranslation connector through the real gateway (bbgw-testbed) against a simulator of the
// eTranslation service over real HTTP (tests/connectors/etranslation/etranslation_sim.py): the
// platform request, the exact JSON and Digest header the simulator received, its asynchronous
// callbacks (duplicated, out of order, document, error, never), the job status, and the events
// read back from Kafka by an independent librdkafka consumer and validated against their schemas.
#include <gtest/gtest.h>

#include <set>

#include <boost/json.hpp>

#include "harness.hpp"
#include "it_config.hpp"

namespace bbgw::it {
namespace {

namespace json = boost::json;

struct etranslation_sim {
  etranslation_sim()
      : proc({"/usr/bin/python3",
              std::string(BBGW_SOURCE_DIR) + "/tests/connectors/etranslation/etranslation_sim.py",
              "--application", "app-it", "--password", "it-password-1"}) {
    auto line =
        proc.wait_line([](std::string const& l) { return l.starts_with("LISTENING "); }, 10s);
    if (!line) throw std::runtime_error("eTranslation simulator did not start");
    url = "http://127.0.0.1:" + line->substr(10);
  }
  void configure(json::object const& cfg) {
    auto r = curl(url + "/_sim/config", {"-X", "POST", "-H", "Content-Type: application/json",
                                         "--data-binary", json::serialize(cfg)});
    if (r.status != 204) throw std::runtime_error("simulator config refused");
  }
  json::array requests() { return json::parse(curl(url + "/_sim/requests").body).as_array(); }
  json::array callbacks() { return json::parse(curl(url + "/_sim/callbacks").body).as_array(); }
  process proc;
  std::string url;
};

std::string section(std::string const& sim_url) {
  return "  etranslation:\n"
         "    enabled: true\n"
         "    base_url: " +
         sim_url +
         "/etranslation/si\n"
         "    application: app-it\n"
         "    password: it-password-1\n"
         "    username: it-platform\n"
         "    callback_base_url: http://gateway.sim\n"
         "    callback_timeout: 1500ms\n"
         "    retry_backoff_min: 100ms\n"
         "    retry_backoff_max: 400ms\n"
         "    request_timeout: 5s\n";
}

std::string auth_param(std::string const& header, std::string const& name) {
  auto p = header.find(" " + name + "=");
  if (p == std::string::npos) return {};
  p += name.size() + 2;
  if (header[p] == '"') return header.substr(p + 1, header.find('"', p + 1) - p - 1);
  return header.substr(p, header.find(',', p) - p);
}

struct EtranslationFlow : ::testing::Test {
  std::filesystem::path dir = make_temp_dir("bbgw-it-etranslation");
  etranslation_sim sim;
  gateway gw{dir, gateway_yaml("", section(sim.url))};

  void SetUp() override { sim.configure({{"gateway", gw.url()}}); }

  std::string create(std::string const& body) {
    auto r = post_json(gw.url() + "/api/v1/translations", body);
    EXPECT_EQ(r.status, 202) << r.body;
    auto id = std::string(json::parse(r.body).at("id").as_string());
    EXPECT_EQ(r.headers["location"], "/api/v1/translations/" + id);
    return id;
  }
  json::object status(std::string const& id) {
    auto r = curl(gw.url() + "/api/v1/translations/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).as_object();
  }
  // Waits until the job is no longer pending; returns its last status.
  json::object settled(std::string const& id) {
    json::object st;
    eventually([&] {
      st = status(id);
      return st.at("status") != "pending";
    });
    return st;
  }
  void validate(std::vector<kafka_record> const& recs, std::string const& schema) {
    static int n = 0;
    std::string files;
    for (auto const& r : recs) {
      auto f = dir / ("tr-event" + std::to_string(n++) + ".json");
      write_file(f, r.value);
      files += " " + f.string();
    }
    auto [rc, out] = run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                                 "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                                 "/schemas/events/" + schema + files);
    EXPECT_EQ(rc, 0) << out;
  }
};

TEST_F(EtranslationFlow, TextRequestToUpstreamToCallbacksToStatusToKafka) {
  // Every callback twice and the languages in reverse order: duplicates and out-of-order.
  sim.configure({{"duplicate", true}, {"reverse", true}});
  auto id = create(R"({"source_language":"en","target_languages":["es","EL"],)"
                   R"("text":"Where is the clinic?","reference":"case-17"})");
  auto st = settled(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("text"), "[ES] Where is the clinic?");
  EXPECT_EQ(st.at("translations").at("el").at("text"), "[EL] Where is the clinic?");
  EXPECT_EQ(st.at("reference"), "case-17");

  // Upstream: one challenge, then one authorised request with exactly this JSON.
  auto reqs = sim.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].at("status"), 401);
  EXPECT_EQ(reqs[1].at("authorised"), true);
  auto const& body = reqs[1].at("body").as_string();
  auto up = json::parse(body).as_object();
  std::string cb_base = std::string(up.at("requesterCallback").as_string());
  cb_base.resize(cb_base.size() - std::string("success").size());
  EXPECT_TRUE(cb_base.starts_with("http://gateway.sim/etranslation/callback/" + id + "/"));
  EXPECT_EQ(cb_base.size(), std::string("http://gateway.sim/etranslation/callback/").size() +
                                id.size() + 1 + 64 + 1);  // a 256-bit token per job
  EXPECT_EQ(body, R"({"priority":0,"sourceLanguage":"EN","targetLanguages":["ES","EL"],)"
                  R"("callerInformation":{"application":"app-it","username":"it-platform"},)"
                  R"("textToTranslate":"Where is the clinic?","requesterCallback":")" +
                      cb_base + R"(success","errorCallback":")" + cb_base +
                      R"(error","externalReference":")" + id + R"(","domain":"GEN"})");
  auto const& hdrs = reqs[1].at("headers").as_object();
  EXPECT_EQ(hdrs.at("Content-Type"), "application/json");
  std::string auth(hdrs.at("Authorization").as_string());
  EXPECT_TRUE(auth.starts_with("Digest "));
  EXPECT_EQ(auth_param(auth, "username"), "app-it");
  EXPECT_EQ(auth_param(auth, "realm"), "eTranslation");
  EXPECT_EQ(auth_param(auth, "uri"), "/etranslation/si/translate");
  EXPECT_EQ(auth_param(auth, "algorithm"), "SHA-256");
  EXPECT_EQ(auth_param(auth, "qop"), "auth");
  EXPECT_EQ(auth_param(auth, "nc"), "00000001");
  EXPECT_EQ(auth_param(auth, "opaque"), "sim-opaque");
  EXPECT_EQ(auth_param(auth, "cnonce").size(), 32u);
  EXPECT_EQ(auth_param(auth, "response").size(), 64u);  // SHA-256 hex
  EXPECT_TRUE(auth.find("it-password-1") == std::string::npos);

  // Four callbacks (two languages, each twice), all accepted.
  ASSERT_TRUE(eventually([&] { return sim.callbacks().size() == 4; }));
  for (auto const& c : sim.callbacks()) EXPECT_EQ(c.at("status"), 200);

  // Exactly one event per language, keyed by the job id, despite the duplicates.
  auto recs = consume(gw.bootstrap(), "bbgw.translation", 3, 2s);
  ASSERT_EQ(recs.size(), 2u);
  std::set<std::string> langs;
  for (auto const& r : recs) {
    EXPECT_EQ(r.key, id);
    auto ev = json::parse(r.value).as_object();
    EXPECT_EQ(ev.at("type"), "eu.bbgateway.translation.completed.v1");
    EXPECT_EQ(ev.at("source"), "/bbgw/etranslation");
    EXPECT_EQ(ev.at("subject"), json::string(id));
    EXPECT_EQ(ev.at("data").at("jobId"), json::string(id));
    EXPECT_EQ(ev.at("data").at("upstreamRequestId"), st.at("upstream").at("request_id"));
    EXPECT_EQ(ev.at("data").at("reference"), "case-17");
    langs.insert(std::string(ev.at("data").at("targetLanguage").as_string()));
  }
  EXPECT_EQ(langs, (std::set<std::string>{"es", "el"}));
  validate(recs, "translation.completed.json");
}

TEST_F(EtranslationFlow, DocumentQuotaRetryStaleNonceErrorAndTimeout) {
  // The first answer is -20028 (quota): retried after backoff, then accepted.
  sim.configure({{"answers", json::array{-20028}}, {"charset", "iso-8859-1"}});
  auto doc = create(R"({"source_language":"en","target_languages":["es"],"document":)"
                    R"({"content_base64":"aGVsbG8gZG9j","format":"txt","filename":"a.txt"}})");
  auto st = settled(doc);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("upstream").at("attempts"), 2);
  auto d = curl(gw.url() + "/api/v1/translations/" + doc + "/documents/es");
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.body, "[ES] hello doc");
  auto up = json::parse(sim.requests().back().at("body").as_string()).as_object();
  EXPECT_EQ(up.at("documentToTranslateBase64").at("content"), "aGVsbG8gZG9j");
  EXPECT_EQ(up.at("destinations").at("httpDestinations").as_array().size(), 1u);

  // A Latin-1 form callback (the simulator encodes text callbacks in ISO-8859-1 now), after a
  // stale nonce that the gateway answers with the new one.
  sim.configure({{"stale_next", true}});
  auto latin =
      create("{\"source_language\":\"en\",\"target_languages\":[\"fr\"],\"text\":\"caf\xc3\xa9\"}");
  st = settled(latin);
  EXPECT_EQ(st.at("translations").at("fr").at("text"), "[FR] caf\xc3\xa9");
  auto reqs = sim.requests();
  auto n = reqs.size();
  EXPECT_EQ(reqs[n - 2].at("status"), 401);  // stale
  EXPECT_EQ(reqs[n - 1].at("authorised"), true);

  // An error callback, then a job whose callbacks never come (timeout 1.5 s).
  sim.configure({{"mode", "error"}, {"charset", "utf-8"}});
  auto err = create(R"({"source_language":"en","target_languages":["de"],"text":"x"})");
  st = settled(err);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("de").at("error_code"), -20013);
  sim.configure({{"mode", "never"}});
  auto lost = create(R"({"source_language":"en","target_languages":["it"],"text":"y"})");
  st = settled(lost);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("it").at("reason"),
            "timeout: no callback from eTranslation within 1500ms");

  auto recs = consume(gw.bootstrap(), "bbgw.translation", 4, 10s);
  ASSERT_EQ(recs.size(), 4u);
  std::vector<kafka_record> completed, failed;
  for (auto const& r : recs) {
    auto ev = json::parse(r.value).as_object();
    (ev.at("type") == "eu.bbgateway.translation.completed.v1" ? completed : failed).push_back(r);
  }
  ASSERT_EQ(completed.size(), 2u);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ((std::set<std::string>{failed[0].key, failed[1].key}),
            (std::set<std::string>{err, lost}));
  validate(completed, "translation.completed.json");
  validate(failed, "translation.failed.json");
}

TEST_F(EtranslationFlow, BadInputAndWrongTokenLeaveNothingBehind) {
  for (auto body : {R"({"source_language":"xx","target_languages":["es"],"text":"a"})",
                    R"({"source_language":"en","target_languages":["es"],"text":""})",
                    R"({"source_language":"en","target_languages":["es"]})",
                    R"({"source_language":"en","target_languages":["es"],"document":)"
                    R"({"content_base64":"%%%","format":"txt","filename":"a.txt"}})"}) {
    auto r = post_json(gw.url() + "/api/v1/translations", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  }
  EXPECT_TRUE(sim.requests().empty());  // nothing went upstream
  EXPECT_TRUE(consume(gw.bootstrap(), "bbgw.translation", 1, 1s).empty());

  // A forged callback for a real job: 403, and the job does not take the forged text.
  sim.configure({{"mode", "never"}});
  auto id = create(R"({"source_language":"en","target_languages":["es"],"text":"a"})");
  ASSERT_TRUE(eventually([&] { return sim.requests().size() == 2; }));
  auto r = curl(gw.url() + "/etranslation/callback/" + id + "/" + std::string(64, '0') + "/success",
                {"-X", "POST", "--data", "target-language=ES&translated-text=forged"});
  EXPECT_EQ(r.status, 403);
  // Pending, or failed by the 1.5 s timeout on a slow machine: never done with the forged text.
  auto st = status(id);
  EXPECT_NE(st.at("translations").at("es").at("status"), "done");
  EXPECT_FALSE(st.at("translations").at("es").as_object().contains("text"));
  EXPECT_EQ(curl(gw.url() + "/api/v1/translations/nope").status, 404);
}

}  // namespace
}  // namespace bbgw::it

namespace bbgw::it {
namespace {

// With no eTranslation account the connector translates through Apertium (the embedded
// default): a real English -> Spanish translation reaches the status and Kafka.
TEST(EtranslationOffline, ApertiumTranslatesWithoutAnAccount) {
  auto dir = make_temp_dir("bbgw-it-apertium");
  gateway gw(dir, gateway_yaml("", "  etranslation: {enabled: true}\n"));
  auto r = post_json(gw.url() + "/api/v1/translations",
                     R"({"source_language":"en","target_languages":["es"],)"
                     R"("text":"The children go to school."})");
  ASSERT_EQ(r.status, 202) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  json::object st;
  ASSERT_TRUE(eventually([&] {
    st = json::parse(curl(gw.url() + "/api/v1/translations/" + id).body).as_object();
    return st.at("status") != "pending";
  }));
  ASSERT_EQ(st.at("status"), "done") << json::serialize(st);
  std::string text(st.at("translations").at("es").at("text").as_string());
  EXPECT_NE(text.find("niños"), std::string::npos) << text;
  EXPECT_NE(text.find("escuela"), std::string::npos) << text;
  auto bad = post_json(gw.url() + "/api/v1/translations",
                       R"({"source_language":"en","target_languages":["fi"],"text":"Hello"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("eng-spa"), std::string::npos) << bad.body;
  auto recs = consume(gw.bootstrap(), "bbgw.translation", 1, 10s);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].key, id);
  EXPECT_EQ(json::parse(recs[0].value).at("data").at("backend"), "apertium");
}

}  // namespace
}  // namespace bbgw::it

namespace bbgw::it {
namespace {

// "backend: fallback": eTranslation (the simulator) fails, by an error callback or by never
// calling back, and Apertium translates instead; the status and the event (validated against
// its extended schema) say so and keep eTranslation's reason.
TEST(EtranslationFallback, ErrorCallbackAndTimeoutFallBackToApertium) {
  auto dir = make_temp_dir("bbgw-it-et-fallback");
  etranslation_sim sim;
  gateway gw(dir, gateway_yaml("", section(sim.url) + "    backend: fallback\n"));
  sim.configure({{"gateway", gw.url()}, {"mode", "error"}});
  auto status = [&](std::string const& id) {
    json::object st;
    eventually([&] {
      st = json::parse(curl(gw.url() + "/api/v1/translations/" + id).body).as_object();
      return st.at("status") != "pending";
    });
    return st;
  };
  auto r = post_json(gw.url() + "/api/v1/translations",
                     R"({"source_language":"en","target_languages":["es","fi"],)"
                     R"("text":"The children go to school."})");
  ASSERT_EQ(r.status, 202) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "partially_failed") << json::serialize(st);
  auto const& es = st.at("translations").at("es").as_object();
  EXPECT_EQ(es.at("backend"), "apertium");
  EXPECT_NE(std::string(es.at("text").as_string()).find("niños"), std::string::npos);
  EXPECT_EQ(es.at("fallback").at("error_code"), -20013);
  std::string fi(st.at("translations").at("fi").at("reason").as_string());
  EXPECT_NE(fi.find("-20013"), std::string::npos) << fi;
  EXPECT_NE(fi.find("no Apertium fallback: the pair en-fi is not installed"), std::string::npos)
      << fi;

  sim.configure({{"mode", "never"}});
  auto lost = post_json(gw.url() + "/api/v1/translations",
                        R"({"source_language":"en","target_languages":["es"],)"
                        R"("text":"Where is the hospital?"})");
  std::string lost_id(json::parse(lost.body).at("id").as_string());
  st = status(lost_id);
  EXPECT_EQ(st.at("status"), "done") << json::serialize(st);
  EXPECT_EQ(st.at("translations").at("es").at("fallback").at("reason"),
            "timeout: no callback from eTranslation within 1500ms");

  auto recs = consume(gw.bootstrap(), "bbgw.translation", 3, 10s);
  ASSERT_EQ(recs.size(), 3u);
  std::string files;
  int n = 0, fallbacks = 0;
  for (auto const& rec : recs) {
    auto ev = json::parse(rec.value).as_object();
    if (ev.at("type") != "eu.bbgateway.translation.completed.v1") continue;
    EXPECT_EQ(ev.at("data").at("backend"), "apertium");
    EXPECT_EQ(ev.at("data").at("fallback"), true);
    EXPECT_EQ(ev.at("data").at("fallbackFrom"), "etranslation");
    ++fallbacks;
    auto f = dir / ("fallback-event" + std::to_string(n++) + ".json");
    write_file(f, rec.value);
    files += " " + f.string();
  }
  EXPECT_EQ(fallbacks, 2);
  auto [rc, out] = run_command("/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                               "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR +
                               "/schemas/events/translation.completed.json" + files);
  EXPECT_EQ(rc, 0) << out;
}

// Retention with the real SQLite store (expiry enforced on read): a finished job, its text and
// its translated HTML document (Apertium) are gone once `retention` has passed.
TEST(EtranslationRetention, FinishedJobsAndDocumentsExpireFromSqlite) {
  auto dir = make_temp_dir("bbgw-it-et-retention");
  gateway gw(dir, gateway_yaml("", "  etranslation: {enabled: true, retention: 2s}\n"));
  // base64 of <html><body><h1>The school</h1><p>The children go to <b>school</b>.</p></body></html>
  auto r = post_json(
      gw.url() + "/api/v1/translations",
      R"({"source_language":"en","target_languages":["es"],"document":)"
      R"({"content_base64":")"
      "PGh0bWw+PGJvZHk+PGgxPlRoZSBzY2hvb2w8L2gxPjxwPlRoZSBjaGlsZHJlbiBnbyB0byA8Yj5zY2hvb2w8L2I+"
      "LjwvcD48L2JvZHk+PC9odG1sPg=="
      R"(","format":"html","filename":"school.html"}})");
  ASSERT_EQ(r.status, 202) << r.body;
  std::string id(json::parse(r.body).at("id").as_string());
  auto url = gw.url() + "/api/v1/translations/" + id;
  http_result d;
  ASSERT_TRUE(eventually([&] {
    d = curl(url + "/documents/es");
    return d.status == 200;
  })) << d.status
      << " " << d.body;
  EXPECT_NE(d.body.find("niños"), std::string::npos) << d.body;
  EXPECT_NE(d.body.find("<b>escuela</b>"), std::string::npos) << d.body;
  EXPECT_EQ(curl(url).status, 200);
  // Gone after the retention (2 s after it finished).
  ASSERT_TRUE(eventually([&] { return curl(url).status == 404; }, 10s));
  auto gone = curl(url);
  EXPECT_EQ(gone.headers["content-type"], "application/problem+json");
  EXPECT_NE(gone.body.find("retention"), std::string::npos) << gone.body;
  EXPECT_EQ(curl(url + "/documents/es").status, 404);
}

}  // namespace
}  // namespace bbgw::it

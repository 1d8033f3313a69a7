// Apertium as eTranslation's fallback (error callback, negative code, quota given up, upstream
// unreachable, callback timeout), Apertium for txt/html documents, and the retention of finished
// jobs, with the real Apertium (apertium-en-es), an in-memory store and a manual clock.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "bbgw/base64.hpp"
#include "etranslation/config.hpp"
#include "etranslation/etranslation_connector.hpp"
#include "fake_store.hpp"
#include "support/fakes.hpp"

namespace bbgw::etranslation {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

struct null_sink final : event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

constexpr char const* with_etranslation =
    "enabled: true\nbase_url: https://et.test/etranslation/si\napplication: app\npassword: pw\n"
    "callback_timeout: 60s\nretry_backoff_min: 1s\nretry_backoff_max: 4s\nmax_attempts: 3\n";

// Validates events against schemas/events/<schema> with python3-jsonschema.
void expect_valid(std::vector<cloud_event> const& events, std::string const& schema) {
  auto dir = std::filesystem::temp_directory_path() /
             ("bbgw-et-events-" + std::to_string(::getpid()) + "-" + schema);
  std::filesystem::create_directories(dir);
  std::string cmd = "/usr/bin/python3 " + std::string(BBGW_SOURCE_DIR) +
                    "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR + "/schemas/events/" +
                    schema;
  int n = 0;
  for (auto const& ev : events) {
    auto f = dir / ("ev" + std::to_string(n++) + ".json");
    std::ofstream(f) << to_structured_json(ev);
    cmd += " " + f.string();
  }
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::filesystem::remove_all(dir);
}

struct Fallback : ::testing::Test {
  bbgw::testing::manual_clock time;
  testing::fake_store db{time};
  // The scripted eTranslation: answers `answer_code` (default: request id 4242).
  std::string answer_body = "4242";
  bool unreachable = false;
  testing::fake_http http{[this](client_request const&, std::size_t) -> result<client_response> {
    if (unreachable)
      return boost::system::errc::make_error_code(boost::system::errc::connection_refused);
    return testing::answer(200, answer_body);
  }};
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  null_sink sink;
  connector_context ctx{db, sink, time, stats, log, http, "http://gw.test"};
  std::unique_ptr<etranslation_connector> c;

  void make(std::string const& y) {
    c.reset();
    config_reader r(YAML::Load(y), "connectors.etranslation", nullptr);
    auto cfg = read_config(r);
    r.finish();
    c = std::make_unique<etranslation_connector>(*cfg, ctx);
  }
  response post(std::string const& body) {
    request r;
    r.method = "POST";
    r.headers.add("Content-Type", "application/json");
    r.body = body;
    return c->create(r);
  }
  std::string create_ok(std::string const& body) {
    auto r = post(body);
    EXPECT_EQ(r.status, 202u) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  response get(std::string const& id) {
    request r;
    r.params = {{"id", id}};
    return c->status(r);
  }
  json::object status(std::string const& id) {
    auto r = get(id);
    EXPECT_EQ(r.status, 200u) << r.body;
    return json::parse(r.body).as_object();
  }
  response document(std::string const& id, std::string const& lang) {
    request r;
    r.params = {{"id", id}, {"lang", lang}};
    return c->document(r);
  }
  response cb(std::string const& id, std::string const& kind, std::string const& body) {
    auto rec = db.get(job_namespace, id);
    std::string token(json::parse(**rec).at("token").as_string());
    request r;
    r.method = "POST";
    r.params = {{"id", id}, {"token", token}};
    r.body = body;
    r.headers.add("Content-Type", "application/x-www-form-urlencoded");
    return c->callback(r, kind);
  }
  std::vector<cloud_event> events(std::string_view type) {
    std::vector<cloud_event> out;
    for (auto const& e : db.outbox())
      if (e.type == type) out.push_back(e);
    return out;
  }
};

constexpr char const* school =
    R"({"source_language":"en","target_languages":["es","fr"],"text":"The children go to school."})";

TEST_F(Fallback, ErrorCallbackHandsTheTargetToApertiumAndKeepsEtranslationsReason) {
  make(std::string(with_etranslation) + "backend: fallback\n");
  auto id = create_ok(school);
  EXPECT_EQ(c->tick(), 1u);
  ASSERT_EQ(http.requests().size(), 1u);  // eTranslation first, for both targets
  EXPECT_EQ(json::parse(http.requests()[0].body).at("targetLanguages"), (json::array{"ES", "FR"}));

  auto r = cb(id, "error",
              "error-code=-20013&error-message=language+pair+not+supported&target-languages=ES,FR");
  EXPECT_EQ(r.status, 200u) << r.body;
  auto st = status(id);
  // es: Apertium has en-es and takes over; fr: Apertium lacks it, failed with both reasons.
  auto const& es = st.at("translations").at("es").as_object();
  EXPECT_EQ(es.at("status"), "pending");
  EXPECT_EQ(es.at("backend"), "apertium");
  EXPECT_EQ(es.at("fallback").at("from"), "etranslation");
  auto const& fr = st.at("translations").at("fr").as_object();
  EXPECT_EQ(fr.at("status"), "failed");
  EXPECT_EQ(fr.at("error_code"), -20013);
  std::string fr_reason(fr.at("reason").as_string());
  EXPECT_NE(fr_reason.find("eTranslation error -20013: language pair not supported"),
            std::string::npos)
      << fr_reason;
  EXPECT_NE(fr_reason.find("no Apertium fallback: the pair en-fr is not installed"),
            std::string::npos)
      << fr_reason;
  EXPECT_NE(fr_reason.find("eng-spa"), std::string::npos) << fr_reason;
  ASSERT_EQ(events(failed_type).size(), 1u);
  EXPECT_TRUE(events(completed_type).empty());  // es is not done yet
  // Handed to Apertium, es no longer listens to eTranslation: a late success is a duplicate.
  auto late = cb(id, "success", "target-language=ES&translated-text=tarde");
  EXPECT_EQ(late.headers.get("X-Bbgw-Translation-Duplicate"), "true");
  EXPECT_EQ(status(id).at("translations").at("es").at("status"), "pending");

  c->tick();  // the submit thread runs the fallback
  st = status(id);
  EXPECT_EQ(st.at("status"), "partially_failed");
  auto const& es2 = st.at("translations").at("es").as_object();
  EXPECT_EQ(es2.at("status"), "done");
  EXPECT_EQ(es2.at("backend"), "apertium");
  std::string text(es2.at("text").as_string());
  EXPECT_NE(text.find("niños"), std::string::npos) << text;
  EXPECT_NE(text.find("escuela"), std::string::npos) << text;
  EXPECT_EQ(es2.at("fallback").at("error_code"), -20013);
  EXPECT_NE(std::string(es2.at("fallback").at("reason").as_string()).find("-20013"),
            std::string::npos);
  EXPECT_EQ(st.at("upstream").at("state"), "finished");

  auto done = events(completed_type);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.at("backend"), "apertium");
  EXPECT_EQ(done[0].data.at("fallback"), true);
  EXPECT_EQ(done[0].data.at("fallbackFrom"), "etranslation");
  EXPECT_EQ(done[0].data.at("fallbackErrorCode"), -20013);
  expect_valid(done, "translation.completed.json");
  expect_valid(events(failed_type), "translation.failed.json");

  // A duplicate error from eTranslation changes nothing now.
  auto dup = cb(id, "error", "error-code=-20013&target-languages=ES");
  EXPECT_EQ(dup.headers.get("X-Bbgw-Translation-Duplicate"), "true");
  EXPECT_EQ(status(id).at("translations").at("es").at("text"), json::string(text));
  EXPECT_EQ(db.outbox().size(), 2u);
}

TEST_F(Fallback, NegativeCodeFallsBackInTheSamePassAndFailsWithoutTheSetting) {
  answer_body = "-20007";
  make(std::string(with_etranslation) + "backend: fallback\n");
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  c->tick();
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  EXPECT_EQ(st.at("translations").at("es").at("fallback").at("error_code"), -20007);
  EXPECT_EQ(c->in_flight(), 0u);

  // Without "fallback" the same failure fails the target, as before.
  make(with_etranslation);
  auto plain = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  c->tick();
  st = status(plain);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "etranslation");
  EXPECT_FALSE(st.at("translations").at("es").as_object().contains("fallback"));
  EXPECT_EQ(st.at("translations").at("es").at("error_code"), -20007);
}

TEST_F(Fallback, QuotaIsRetriedFirstAndFallsBackOnlyOnceGivenUp) {
  answer_body = "-20028";
  make(std::string(with_etranslation) + "pair_backends: {en-es: fallback}\n");
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  c->tick();
  auto st = status(id);
  EXPECT_EQ(st.at("translations").at("es").at("status"), "pending");  // retried, no fallback
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "etranslation");
  for (int i = 0; i < 2; ++i) {
    time.advance(5s);
    c->tick();
  }
  EXPECT_EQ(http.requests().size(), 3u);  // max_attempts
  st = status(id);
  EXPECT_EQ(st.at("translations").at("es").at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  std::string why(st.at("translations").at("es").at("fallback").at("reason").as_string());
  EXPECT_NE(why.find("gave up after 3 attempts"), std::string::npos) << why;
}

TEST_F(Fallback, UnreachableUpstreamAfterTheRetriesFallsBack) {
  unreachable = true;
  make(std::string(with_etranslation) + "backend: fallback\n");
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  for (int i = 0; i < 3; ++i) {
    c->tick();
    time.advance(5s);
  }
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  EXPECT_FALSE(st.at("translations").at("es").at("fallback").as_object().contains("error_code"));
}

TEST_F(Fallback, CallbackTimeoutFallsBackAndSurvivesARestartBeforeApertiumRan) {
  make(std::string(with_etranslation) + "backend: fallback\n");
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  c->tick();
  // An error callback hands es to Apertium; the gateway restarts before Apertium ran.
  ASSERT_EQ(cb(id, "error", "error-code=-20003").status, 200u);
  make(std::string(with_etranslation) + "backend: fallback\n");
  c->recover();
  c->tick();
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("fallback").at("error_code"), -20003);

  // The callback never comes: the timeout hands the target to Apertium.
  auto lost = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Goodbye"})");
  c->tick();
  EXPECT_EQ(c->in_flight(), 1u);
  time.advance(61s);
  c->tick();
  st = status(lost);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  EXPECT_EQ(st.at("translations").at("es").at("fallback").at("reason"),
            "timeout: no callback from eTranslation within 60000ms");
  EXPECT_EQ(c->in_flight(), 0u);
}

TEST_F(Fallback, ApertiumFailingAfterEtranslationKeepsBothReasons) {
  // An "Apertium" that lists en-es but fails every translation.
  auto fake =
      std::filesystem::temp_directory_path() / ("bbgw-fake-apertium-" + std::to_string(::getpid()));
  std::ofstream(fake) << "#!/bin/sh\n[ \"$1\" = -l ] && { echo eng-spa; exit 0; }\n"
                         "echo 'dictionary broken' >&2; exit 2\n";
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  answer_body = "-20013";
  make(std::string(with_etranslation) + "backend: fallback\napertium: {command: " + fake.string() +
       "}\n");
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  c->tick();
  std::filesystem::remove(fake);
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "failed");
  std::string reason(st.at("translations").at("es").at("reason").as_string());
  EXPECT_NE(reason.find("eTranslation error -20013"), std::string::npos) << reason;
  EXPECT_NE(reason.find("Apertium fallback failed: Apertium failed (exit 2): dictionary broken"),
            std::string::npos)
      << reason;
  EXPECT_EQ(st.at("translations").at("es").at("error_code"), -20013);
  ASSERT_EQ(events(failed_type).size(), 1u);
  EXPECT_EQ(events(failed_type)[0].data.at("backend"), "apertium");
  expect_valid(events(failed_type), "translation.failed.json");
}

// ---- documents through Apertium --------------------------------------------------------------

constexpr char const* html_doc =
    "<!DOCTYPE html>\n<html><head><title>Help</title></head><body>\n"
    "<h1>The school</h1>\n<p class=\"intro\">The children go to <b>school</b>.</p>\n"
    "<a href=\"/clinic\">Where is the hospital?</a>\n</body></html>\n";

std::string doc_body(std::string const& bytes, std::string const& format,
                     std::string const& targets = R"(["es"])") {
  return R"({"source_language":"en","target_languages":)" + targets +
         R"(,"document":{"content_base64":")" + base64_encode(bytes) + R"(","format":")" + format +
         R"(","filename":"help.)" + format + R"("}})";
}

TEST_F(Fallback, ApertiumTranslatesAnHtmlDocumentAndKeepsTheMarkup) {
  make("enabled: true\n");  // Apertium, no account
  auto id = create_ok(doc_body(html_doc, "html"));
  EXPECT_EQ(c->tick(), 1u);
  auto st = status(id);
  ASSERT_EQ(st.at("status"), "done") << json::serialize(st);
  EXPECT_EQ(st.at("translations").at("es").at("document_url"),
            json::string("/api/v1/translations/" + id + "/documents/es"));
  auto d = document(id, "es");
  ASSERT_EQ(d.status, 200u) << d.body;
  EXPECT_EQ(d.headers.get("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(d.headers.get("Content-Disposition"), "attachment; filename=\"help_es.html\"");
  for (auto word : {"niños", "escuela", "Ayuda", "hospital"})
    EXPECT_NE(d.body.find(word), std::string::npos) << word << " in " << d.body;
  for (auto markup : {"<!DOCTYPE html>", "<title>", "<h1>", "<p class=\"intro\">", "<b>", "</b>",
                      "<a href=\"/clinic\">", "</body></html>"})
    EXPECT_NE(d.body.find(markup), std::string::npos) << markup << " in " << d.body;
  EXPECT_EQ(d.body.find("children"), std::string::npos) << d.body;
  EXPECT_TRUE(http.requests().empty());
  EXPECT_FALSE(*db.get(input_namespace, id));  // the input is erased once finished
  auto done = events(completed_type);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].data.at("kind"), "document");
  expect_valid(done, "translation.completed.json");

  // txt too.
  auto txt = create_ok(doc_body("The children go to school.\n", "txt"));
  c->tick();
  auto t = document(txt, "es");
  ASSERT_EQ(t.status, 200u) << t.body;
  EXPECT_NE(t.body.find("niños"), std::string::npos) << t.body;
}

TEST_F(Fallback, OtherDocumentFormatsOnAnApertiumPairAreRefusedListingApertiumsFormats) {
  make("enabled: true\n");
  auto commits = db.commits();
  for (auto format : {"docx", "xml", "pdf"}) {
    auto r = post(doc_body("PK\x03\x04 not really", format));
    EXPECT_EQ(r.status, 400u) << format;
    EXPECT_NE(r.body.find("txt, html, htm"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(format), std::string::npos) << r.body;
  }
  EXPECT_EQ(db.commits(), commits);
}

TEST_F(Fallback, DocumentsFallBackToApertiumWhenItCanTranslateTheFormat) {
  answer_body = "-20029";
  make(std::string(with_etranslation) + "backend: fallback\n");
  auto id = create_ok(doc_body(html_doc, "html"));
  c->tick();
  ASSERT_EQ(http.requests().size(), 1u);
  auto st = status(id);
  EXPECT_EQ(st.at("status"), "done") << json::serialize(st);
  EXPECT_EQ(st.at("translations").at("es").at("backend"), "apertium");
  auto d = document(id, "es");
  ASSERT_EQ(d.status, 200u);
  EXPECT_NE(d.body.find("niños"), std::string::npos) << d.body;
  EXPECT_NE(d.body.find("<b>"), std::string::npos) << d.body;

  // A docx cannot fall back: failed with both reasons.
  auto docx = create_ok(doc_body("PK\x03\x04 docx", "docx"));
  c->tick();
  st = status(docx);
  EXPECT_EQ(st.at("status"), "failed");
  std::string reason(st.at("translations").at("es").at("reason").as_string());
  EXPECT_NE(reason.find("eTranslation error -20029"), std::string::npos) << reason;
  EXPECT_NE(reason.find("no Apertium fallback: Apertium translates documents in the formats txt, "
                        "html, htm only, not docx"),
            std::string::npos)
      << reason;
}

// ---- retention -------------------------------------------------------------------------------

TEST_F(Fallback, FinishedJobsOutputsAndCacheExpireAfterTheRetention) {
  make("enabled: true\nretention: 1h\n");
  auto text_job = create_ok(R"({"source_language":"en","target_languages":["es"],)"
                            R"("text":"The children go to school."})");
  auto doc_job = create_ok(doc_body(html_doc, "html"));
  c->tick();
  ASSERT_EQ(status(text_job).at("status"), "done");
  ASSERT_EQ(document(doc_job, "es").status, 200u);
  time.advance(59min);
  EXPECT_EQ(get(text_job).status, 200u);
  EXPECT_EQ(document(doc_job, "es").status, 200u);
  time.advance(2min);
  auto gone = get(text_job);
  EXPECT_EQ(gone.status, 404u);
  EXPECT_EQ(gone.headers.get("Content-Type"), "application/problem+json");
  EXPECT_NE(gone.body.find("retention"), std::string::npos) << gone.body;
  EXPECT_EQ(document(doc_job, "es").status, 404u);
  EXPECT_FALSE(*db.get(job_namespace, doc_job));
  EXPECT_FALSE(*db.get(output_namespace, doc_job + "/ES"));  // the document itself, too
  // The cache (24h by default) never outlives the retention: the same text is translated anew.
  auto again = post(R"({"source_language":"en","target_languages":["es"],)"
                    R"("text":"The children go to school."})");
  EXPECT_EQ(again.status, 202u) << again.body;
}

TEST_F(Fallback, OpenJobsDoNotExpireAndZeroKeepsForever) {
  make(std::string(with_etranslation) + "retention: 1m\ncallback_timeout: 10m\n");
  auto open = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hi"})");
  c->tick();
  time.advance(5min);  // beyond the retention, but the job is not finished
  EXPECT_EQ(status(open).at("status"), "pending");
  // A document written by a callback before the job finishes expires with the job, not before.
  auto doc = create_ok(doc_body("hello", "txt", R"(["es","fr"])"));
  c->tick();
  ASSERT_EQ(cb(doc, "document", base64_encode("hola")).status, 400u);  // no target-language
  request r;
  r.method = "POST";
  r.params = {
      {"id", doc},
      {"token", std::string(json::parse(**db.get(job_namespace, doc)).at("token").as_string())}};
  r.query = "target-language=ES";
  r.body = base64_encode("hola");
  ASSERT_EQ(c->callback(r, "document").status, 200u);
  time.advance(5min);
  r.query = "target-language=FR";
  r.body = base64_encode("salut");
  ASSERT_EQ(c->callback(r, "document").status, 200u);  // finishes the job now
  time.advance(50s);
  EXPECT_EQ(document(doc, "es").status, 200u);  // 5m50s after it was written
  time.advance(20s);
  EXPECT_EQ(document(doc, "es").status, 404u);
  EXPECT_EQ(document(doc, "fr").status, 404u);
  // The documents themselves expired with the job (written without expiry while it was open).
  EXPECT_FALSE(*db.get(output_namespace, doc + "/ES"));
  EXPECT_FALSE(*db.get(output_namespace, doc + "/FR"));

  make(std::string(with_etranslation) + "retention: 0\n");
  answer_body = "-20013";
  auto kept = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hi"})");
  c->tick();
  time.advance(std::chrono::hours(24 * 400));
  EXPECT_EQ(status(kept).at("status"), "failed");
}

TEST(FallbackConfig, BackendFallbackNeedsEtranslationAndRetentionIsADuration) {
  auto fail_key = [](std::string const& y) -> std::string {
    try {
      config_reader r(YAML::Load(y), "connectors.etranslation", nullptr);
      (void)read_config(r);
      r.finish();
    } catch (config_error const& e) {
      return e.key();
    }
    return "";
  };
  EXPECT_EQ(fail_key("enabled: true\nbackend: fallback\n"), "connectors.etranslation.base_url");
  EXPECT_EQ(fail_key("enabled: true\npair_backends: {en-es: fallback}\n"),
            "connectors.etranslation.base_url");
  EXPECT_EQ(fail_key(std::string(with_etranslation) + "pair_backends: {en-es: fallbak}\n"),
            "connectors.etranslation.pair_backends");
  EXPECT_EQ(fail_key("enabled: true\nretention: forever\n"), "connectors.etranslation.retention");
  EXPECT_EQ(fail_key("enabled: true\nretention: 0\n"), "");
  config_reader r(YAML::Load("enabled: true\n"), "connectors.etranslation", nullptr);
  EXPECT_EQ(read_config(r)->retention, std::chrono::hours(24 * 30));
}

}  // namespace
}  // namespace bbgw::etranslation

// The eTranslation connector through its handlers and its submit pass (tick), with an in-memory
// store and a scripted upstream: the platform API, the exact upstream request with Digest auth,
// callbacks (text, document, error; duplicates, wrong token, Latin-1), -20028 backoff, error
// codes, callback timeouts and the in-flight quota.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include "bbgw/base64.hpp"
#include "etranslation/config.hpp"
#include "etranslation/digest_auth.hpp"
#include "etranslation/etranslation_connector.hpp"
#include "fake_store.hpp"
#include "support/fakes.hpp"

namespace bbgw::etranslation {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::answer;
using testing::fake_http;
using testing::fake_store;

struct null_sink final : event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};

std::string auth_param(std::string const& header, std::string const& name) {
  auto p = header.find(" " + name + "=");
  if (p == std::string::npos) return {};
  p += name.size() + 2;
  if (header[p] == '"') return header.substr(p + 1, header.find('"', p + 1) - p - 1);
  return header.substr(p, header.find(',', p) - p);
}

// A Digest-protected /translate like eTranslation's: challenges requests without (valid)
// credentials, marks a nonce stale on demand, verifies the response, then runs `then`.
struct digest_upstream {
  std::string nonce = "nonce-1";
  bool stale_next = false;
  std::function<client_response(client_request const&)> then = [](client_request const&) {
    return answer(200, "4242");
  };
  std::vector<std::string> seen_nc;

  result<client_response> operator()(client_request const& req, std::size_t) {
    auto challenge = [&](bool stale) {
      return answer(401, "",
                    "Digest realm=\"eTranslation\", qop=\"auth\", algorithm=SHA-256, nonce=\"" +
                        nonce + "\", opaque=\"op\"" + (stale ? ", stale=true" : ""));
    };
    auto a = req.headers.get("Authorization");
    if (!a) return challenge(false);
    std::string h(*a);
    if (stale_next) {
      stale_next = false;
      nonce = "nonce-2";
      return challenge(true);
    }
    auto ha1 = hash_hex(digest_algorithm::sha256, "app-bbgw:eTranslation:pw-123");
    auto ha2 = hash_hex(digest_algorithm::sha256, "POST:/etranslation/si/translate");
    auto expect =
        hash_hex(digest_algorithm::sha256, ha1 + ":" + nonce + ":" + auth_param(h, "nc") + ":" +
                                               auth_param(h, "cnonce") + ":auth:" + ha2);
    if (auth_param(h, "nonce") != nonce || auth_param(h, "response") != expect ||
        auth_param(h, "username") != "app-bbgw" || auth_param(h, "opaque") != "op")
      return challenge(false);
    seen_nc.push_back(auth_param(h, "nc"));
    return then(req);
  }
};

std::string yaml(std::string const& extra = "") {
  return "enabled: true\n"
         "base_url: https://etranslation.test/etranslation/si/\n"
         "application: app-bbgw\n"
         "password: pw-123\n"
         "username: platform\n"
         "callback_timeout: 60s\n"
         "retry_backoff_min: 2s\n"
         "retry_backoff_max: 10s\n"
         "max_attempts: 3\n" +
         extra;
}

etranslation_config load(std::string const& y) {
  config_reader r(YAML::Load(y), "connectors.etranslation", nullptr);
  auto c = read_config(r);
  r.finish();
  return *c;
}

struct Etranslation : ::testing::Test {
  bbgw::testing::manual_clock time;
  fake_store db{time};
  digest_upstream upstream;
  fake_http http{[this](client_request const& r, std::size_t i) { return upstream(r, i); }};
  bbgw::testing::fake_metrics stats;
  bbgw::testing::fake_logger log;
  null_sink sink;
  connector_context ctx{db, sink, time, stats, log, http, "http://gw.test:8080"};
  std::unique_ptr<etranslation_connector> conn;

  void SetUp() override { make(yaml()); }
  void make(std::string const& y) {
    conn.reset();
    conn = std::make_unique<etranslation_connector>(load(y), ctx);
  }

  response post(std::string const& body) {
    request r;
    r.method = "POST";
    r.path = r.target = "/api/v1/translations";
    r.headers.add("Content-Type", "application/json");
    r.body = body;
    r.request_id = "req-1";
    return conn->create(r);
  }
  std::string create_ok(std::string const& body) {
    auto resp = post(body);
    EXPECT_EQ(resp.status, 202u) << resp.body;
    return std::string(json::parse(resp.body).at("id").as_string());
  }
  json::object status_of(std::string const& id) {
    request r;
    r.method = "GET";
    r.params = {{"id", id}};
    auto resp = conn->status(r);
    EXPECT_EQ(resp.status, 200u) << resp.body;
    return json::parse(resp.body).as_object();
  }
  std::string token_of(std::string const& id) {
    auto rec = db.get(job_namespace, id);
    return std::string(json::parse(**rec).at("token").as_string());
  }
  response cb(std::string const& id, std::string const& token, std::string const& kind,
              std::string const& body, std::string const& query = "",
              std::string const& content_type = "application/x-www-form-urlencoded") {
    request r;
    r.method = "POST";
    r.params = {{"id", id}, {"token", token}};
    r.query = query;
    r.body = body;
    if (!content_type.empty()) r.headers.add("Content-Type", content_type);
    return conn->callback(r, kind);
  }
  json::object last_upstream_json() {
    auto reqs = http.requests();
    return json::parse(reqs.back().body).as_object();
  }
};

constexpr char const* text_job =
    R"({"source_language":"en","target_languages":["AR","el"],"text":"Where is the clinic?",)"
    R"("reference":"case-17"})";

TEST_F(Etranslation, TextJobEndToEndThroughDigestAndCallbacks) {
  auto resp = post(text_job);
  ASSERT_EQ(resp.status, 202u);
  auto body = json::parse(resp.body).as_object();
  std::string id(body.at("id").as_string());
  EXPECT_EQ(body.at("status"), "queued");
  EXPECT_EQ(resp.headers.get("Location"), "/api/v1/translations/" + id);
  EXPECT_TRUE(http.requests().empty());  // nothing upstream from the handler thread

  EXPECT_EQ(conn->tick(), 1u);
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 2u);  // challenge, then the authorised request
  EXPECT_FALSE(reqs[0].headers.contains("Authorization"));
  EXPECT_EQ(reqs[1].url, "https://etranslation.test/etranslation/si/translate");
  EXPECT_EQ(reqs[1].headers.get("Content-Type"), "application/json");
  EXPECT_EQ(upstream.seen_nc, (std::vector<std::string>{"00000001"}));
  auto token = token_of(id);
  std::string cbase = "http://gw.test:8080/etranslation/callback/" + id + "/" + token + "/";
  // The exact body, member order included.
  EXPECT_EQ(reqs[1].body, R"({"priority":0,"sourceLanguage":"EN","targetLanguages":["AR","EL"],)"
                          R"("callerInformation":{"application":"app-bbgw","username":"platform"},)"
                          R"("textToTranslate":"Where is the clinic?","requesterCallback":")" +
                              cbase + R"(success","errorCallback":")" + cbase +
                              R"(error","externalReference":")" + id + R"(","domain":"GEN"})");
  EXPECT_EQ(token.size(), 64u);

  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "pending");
  EXPECT_EQ(st.at("upstream").at("request_id"), 4242);
  EXPECT_EQ(st.at("translations").at("ar").at("status"), "pending");
  EXPECT_FALSE(st.contains("token"));

  // Arabic, form-encoded in the body; request-id in the query string.
  auto r1 =
      cb(id, token, "success",
         "target-language=AR&translated-text=%D8%A3%D9%8A%D9%86+%D8%A7%D9%84%D8%B9%D9%8A%D8%A7"
         "%D8%AF%D8%A9%D8%9F&external-reference=" +
             id,
         "request-id=4242");
  EXPECT_EQ(r1.status, 200u) << r1.body;
  auto events = db.outbox();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "eu.bbgateway.translation.completed.v1");
  EXPECT_EQ(events[0].partitionkey, id);
  EXPECT_EQ(events[0].family, "translation");
  EXPECT_EQ(events[0].data.at("targetLanguage"), "ar");
  EXPECT_EQ(events[0].data.at("upstreamRequestId"), 4242);
  EXPECT_EQ(events[0].data.at("reference"), "case-17");

  st = status_of(id);
  EXPECT_EQ(st.at("status"), "pending");
  EXPECT_EQ(
      st.at("translations").at("ar").at("text"),
      "\xd8\xa3\xd9\x8a\xd9\x86 \xd8\xa7\xd9\x84\xd8\xb9\xd9\x8a\xd8\xa7\xd8\xaf\xd8\xa9\xd8\x9f");

  // A duplicate: 200, nothing new.
  auto dup = cb(id, token, "success", "target-language=AR&translated-text=other", "");
  EXPECT_EQ(dup.status, 200u);
  EXPECT_EQ(dup.headers.get("X-Bbgw-Translation-Duplicate"), "true");
  EXPECT_EQ(db.outbox().size(), 1u);
  EXPECT_EQ(status_of(id).at("translations").at("ar").at("text").as_string().size(), 23u);

  // Greek, all parameters in the query string, no body.
  auto r2 = cb(id, token, "success", "",
               "request-id=4242&target-language=el&translated-text=%CE%A0%CE%BF%CF%8D+"
               "%CE%B5%CE%AF%CE%BD%CE%B1%CE%B9",
               "");
  EXPECT_EQ(r2.status, 200u) << r2.body;
  st = status_of(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("el").at("text"),
            "\xce\xa0\xce\xbf\xcf\x8d \xce\xb5\xce\xaf\xce\xbd\xce\xb1\xce\xb9");
  EXPECT_EQ(db.outbox().size(), 2u);
  EXPECT_EQ(conn->in_flight(), 0u);
  EXPECT_FALSE(*db.get(input_namespace, id));
  EXPECT_FALSE(*db.get(open_namespace, open_shard_key(open_shard(id))));  // last id: erased
}

TEST_F(Etranslation, WrongTokenIsRefusedAndChangesNothing) {
  auto id = create_ok(text_job);
  conn->tick();
  auto before = *db.get(job_namespace, id);
  auto commits = db.commits();
  auto r = cb(id, std::string(64, 'a'), "success", "target-language=AR&translated-text=x");
  EXPECT_EQ(r.status, 403u);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  auto r2 = cb("no-such-job", token_of(id), "error", "error-code=-1");
  EXPECT_EQ(r2.status, 403u);
  EXPECT_EQ(*db.get(job_namespace, id), before);
  EXPECT_EQ(db.commits(), commits);
  EXPECT_TRUE(db.outbox().empty());
  EXPECT_FALSE(log.mentions(token_of(id)));
}

TEST_F(Etranslation, MalformedCallbacksAreRefusedWithoutChange) {
  auto id = create_ok(text_job);
  conn->tick();
  auto t = token_of(id);
  auto commits = db.commits();
  EXPECT_EQ(cb(id, t, "success", "translated-text=x").status, 400u);  // no target-language
  EXPECT_EQ(cb(id, t, "success", "target-language=FR&translated-text=x").status, 400u);
  EXPECT_EQ(cb(id, t, "success", "target-language=AR").status, 400u);  // no text
  EXPECT_EQ(cb(id, t, "success", "target-language=AR&translated-text=%E9").status, 400u);
  EXPECT_EQ(cb(id, t, "success", "target-language=AR&translated-text=x&request-id=99").status,
            400u);
  EXPECT_EQ(cb(id, t, "success", "{}", "", "application/json").status, 415u);
  EXPECT_EQ(cb(id, t, "error", "error-code=abc").status, 400u);
  EXPECT_EQ(cb(id, t, "document", "###", "target-language=AR").status, 400u);
  EXPECT_EQ(db.commits(), commits);
  EXPECT_TRUE(db.outbox().empty());
  EXPECT_EQ(stats.value("bbgw_etranslation_rejected_total", {{"reason", "malformed_callback"}}), 7);
}

TEST_F(Etranslation, Latin1CallbackBodyIsDecoded) {
  auto id =
      create_ok(R"({"source_language":"EN","target_languages":["fr"],"text":"coffee cream"})");
  conn->tick();
  auto r = cb(id, token_of(id), "success", "target-language=FR&translated-text=caf%E9+cr%E8me", "",
              "application/x-www-form-urlencoded; charset=ISO-8859-1");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(status_of(id).at("translations").at("fr").at("text"), "caf\xc3\xa9 cr\xc3\xa8me");
}

TEST_F(Etranslation, ErrorCallbackFailsTheNamedLanguagesWithEvents) {
  auto id =
      create_ok(R"({"source_language":"en","target_languages":["es","fr","de"],"text":"Hello"})");
  conn->tick();
  auto r = cb(id, token_of(id), "error",
              "error_code=-20013&error-message=pair+not+supported&target-languages=ES,FR"
              "&request-id=4242&external-reference=" +
                  id);
  EXPECT_EQ(r.status, 200u) << r.body;
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "pending");
  EXPECT_EQ(st.at("translations").at("es").at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("es").at("error_code"), -20013);
  EXPECT_EQ(st.at("translations").at("es").at("reason"),
            "eTranslation error -20013: pair not supported");
  EXPECT_EQ(st.at("translations").at("de").at("status"), "pending");
  auto events = db.outbox();
  ASSERT_EQ(events.size(), 2u);
  for (auto const& e : events) {
    EXPECT_EQ(e.type, "eu.bbgateway.translation.failed.v1");
    EXPECT_EQ(e.data.at("errorCode"), -20013);
  }
  // Out of order: the success for DE after the error for the others.
  EXPECT_EQ(cb(id, token_of(id), "success", "target-language=de&translated-text=Hallo").status,
            200u);
  EXPECT_EQ(status_of(id).at("status"), "partially_failed");
}

// Regression (found while writing the callback fuzz target): the error message is cut to 500
// bytes; cutting inside a UTF-8 sequence made the stored job unparsable (GET answered 500).
TEST_F(Etranslation, LongMultiByteErrorMessageIsCutOnACodePointBoundary) {
  auto id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"Hello"})");
  conn->tick();
  std::string euros;
  for (int i = 0; i < 200; ++i) euros += "%E2%82%AC";  // 600 bytes; byte 500 is mid-sequence
  auto r = cb(id, token_of(id), "error", "error-code=-20013&error-message=" + euros);
  EXPECT_EQ(r.status, 200u) << r.body;
  auto st = status_of(id);
  auto reason = std::string(st.at("translations").at("es").at("reason").as_string());
  std::string kept;
  for (int i = 0; i < 166; ++i) kept += "\xE2\x82\xAC";  // 498 bytes: whole code points only
  EXPECT_EQ(reason, "eTranslation error -20013: " + kept);
}

TEST_F(Etranslation, BadInputIsRefusedAndNothingIsStoredOrSent) {
  struct bad {
    std::string body;
    unsigned status;
  };
  std::vector<bad> cases{
      {R"({"source_language":"xx","target_languages":["es"],"text":"a"})", 400},
      {R"({"source_language":"en","target_languages":["zz"],"text":"a"})", 400},
      {R"({"source_language":"en","target_languages":["en"],"text":"a"})", 400},
      {R"({"source_language":"en","target_languages":[],"text":"a"})", 400},
      {R"({"source_language":"en","target_languages":["es"],"text":"  \n "})", 400},
      {R"({"source_language":"en","target_languages":["es"]})", 400},
      {R"({"source_language":"en","target_languages":["es"],"text":"a","document":)"
       R"({"content_base64":"YQ==","format":"txt","filename":"a.txt"}})",
       400},
      {R"({"source_language":"en","target_languages":["es"],"document":)"
       R"({"content_base64":"not base64!","format":"txt","filename":"a.txt"}})",
       400},
      {R"({"source_language":"en","target_languages":["es"],"document":)"
       R"({"content_base64":"YQ==","format":"exe","filename":"a.exe"}})",
       400},
      {R"({"source_language":"en","target_languages":["es"],"document":)"
       R"({"content_base64":"YQ==","format":"txt","filename":"../a.txt"}})",
       400},
      {R"({"source_language":"en","target_languages":["es"],"text":")" + std::string(5001, 'a') +
           R"("})",
       413},
      {"not json", 400},
  };
  for (auto const& c : cases) {
    auto r = post(c.body);
    EXPECT_EQ(r.status, c.status) << c.body.substr(0, 200) << " -> " << r.body;
    EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  }
  EXPECT_EQ(db.commits(), 0);
  EXPECT_EQ(db.records(), 0u);
  EXPECT_EQ(conn->tick(), 0u);
  EXPECT_TRUE(http.requests().empty());
  EXPECT_TRUE(db.outbox().empty());
}

TEST_F(Etranslation, DocumentOverTwentyMegabytesIs413BeforeAnythingElse) {
  auto r =
      post(R"({"source_language":"en","target_languages":["es"],"document":{"content_base64":")" +
           base64_encode(std::string(20 * 1024 * 1024 + 1, 'x')) +
           R"(","format":"txt","filename":"big.txt"}})");
  EXPECT_EQ(r.status, 413u) << r.body;
  EXPECT_EQ(r.headers.get("Content-Type"), "application/problem+json");
  EXPECT_EQ(db.commits(), 0);
  EXPECT_EQ(conn->tick(), 0u);
  EXPECT_TRUE(http.requests().empty());
}

TEST_F(Etranslation, DocumentSizeLimitIsExact) {
  make(yaml("max_document_size: 64KiB\n"));
  auto body = [](std::size_t n) {
    return R"({"source_language":"en","target_languages":["es"],"document":{"content_base64":")" +
           base64_encode(std::string(n, 'x')) + R"(","format":"txt","filename":"big.txt"}})";
  };
  EXPECT_EQ(post(body(64 * 1024 + 1)).status, 413u);
  EXPECT_EQ(db.commits(), 0);
  EXPECT_EQ(post(body(64 * 1024)).status, 202u);
}

TEST_F(Etranslation, DocumentJobSendsBase64WithDestinationAndServesTheResult) {
  auto id =
      create_ok(R"({"source_language":"en","target_languages":["es"],"document":{"content_base64":)"
                R"("SGVsbG8gd29ybGQ=","format":"TXT","filename":"note.txt"},"domain":"spd"})");
  conn->tick();
  auto up = last_upstream_json();
  EXPECT_EQ(
      up.at("documentToTranslateBase64"),
      (json::object{{"content", "SGVsbG8gd29ybGQ="}, {"format", "txt"}, {"filename", "note.txt"}}));
  auto t = token_of(id);
  EXPECT_EQ(up.at("destinations").at("httpDestinations"),
            (json::array{json::string("http://gw.test:8080/etranslation/callback/" + id + "/" + t +
                                      "/document")}));
  EXPECT_EQ(up.at("domain"), "SPD");
  EXPECT_FALSE(up.contains("textToTranslate"));

  // The notification on the requester callback carries no document: accepted, nothing changes.
  EXPECT_EQ(cb(id, t, "success", "target-language=ES&request-id=4242").status, 200u);
  EXPECT_TRUE(db.outbox().empty());
  auto r =
      cb(id, t, "document", base64_encode("Hola mundo"),
         "request-id=4242&target-language=ES&external-reference=" + id, "application/octet-stream");
  EXPECT_EQ(r.status, 200u) << r.body;
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("translations").at("es").at("document_url"),
            json::string("/api/v1/translations/" + id + "/documents/es"));
  request g;
  g.params = {{"id", id}, {"lang", "ES"}};
  auto d = conn->document(g);
  EXPECT_EQ(d.status, 200u);
  EXPECT_EQ(d.body, "Hola mundo");
  EXPECT_EQ(d.headers.get("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(d.headers.get("Content-Disposition"), "attachment; filename=\"note_es.txt\"");
  ASSERT_EQ(db.outbox().size(), 1u);
  EXPECT_EQ(db.outbox()[0].data.at("documentUrl"),
            json::string("/api/v1/translations/" + id + "/documents/es"));
}

TEST_F(Etranslation, QuotaExceededIsRetriedWithBackoff) {
  int calls = 0;
  upstream.then = [&](client_request const&) {
    return answer(200, ++calls == 1 ? "-20028" : "777");
  };
  auto id = create_ok(text_job);
  EXPECT_EQ(conn->tick(), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(conn->queued(), 1u);
  EXPECT_EQ(conn->tick(), 0u);  // backoff (2 s) not over
  time.advance(1900ms);
  EXPECT_EQ(conn->tick(), 0u);
  time.advance(200ms);
  EXPECT_EQ(conn->tick(), 1u);
  EXPECT_EQ(calls, 2);
  auto st = status_of(id);
  EXPECT_EQ(st.at("upstream").at("request_id"), 777);
  EXPECT_EQ(st.at("upstream").at("attempts"), 2);
  EXPECT_TRUE(db.outbox().empty());
}

TEST_F(Etranslation, QuotaExceededTooOftenFailsTheJob) {
  upstream.then = [](client_request const&) { return answer(200, "-20028"); };
  auto id = create_ok(text_job);
  for (int i = 0; i < 3; ++i) {
    conn->tick();
    time.advance(20s);
  }
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("ar").at("error_code"), -20028);
  EXPECT_EQ(db.outbox().size(), 2u);
}

TEST_F(Etranslation, NegativeCodesFailEveryTargetWithAClearReason) {
  upstream.then = [](client_request const&) { return answer(200, "-20007"); };
  auto id = create_ok(text_job);
  conn->tick();
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("el").at("reason"),
            "eTranslation error -20007: application not authorised to access the service");
  auto events = db.outbox();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, "eu.bbgateway.translation.failed.v1");
  EXPECT_EQ(events[0].data.at("errorCode"), -20007);
  EXPECT_EQ(conn->in_flight(), 0u);
}

TEST_F(Etranslation, WrongCredentialsStopAfterOneChallenge) {
  make(yaml().replace(yaml().find("pw-123"), 6, "wrong!"));
  auto id = create_ok(text_job);
  conn->tick();
  EXPECT_EQ(http.requests().size(), 2u);  // no endless challenge loop
  EXPECT_EQ(status_of(id).at("translations").at("ar").at("reason"),
            "eTranslation refused the Digest credentials of application 'app-bbgw'");
}

TEST_F(Etranslation, StaleNonceIsAnsweredWithTheNewOne) {
  create_ok(text_job);
  conn->tick();
  upstream.stale_next = true;
  create_ok(text_job);
  conn->tick();
  auto reqs = http.requests();
  ASSERT_EQ(reqs.size(), 4u);  // challenge, ok, stale, ok
  auto a3 = std::string(*reqs[2].headers.get("Authorization"));
  auto a4 = std::string(*reqs[3].headers.get("Authorization"));
  EXPECT_EQ(auth_param(a3, "nonce"), "nonce-1");
  EXPECT_EQ(auth_param(a3, "nc"), "00000002");  // the known nonce reused pre-emptively
  EXPECT_EQ(auth_param(a4, "nonce"), "nonce-2");
  EXPECT_EQ(auth_param(a4, "nc"), "00000001");
  EXPECT_EQ(upstream.seen_nc, (std::vector<std::string>{"00000001", "00000001"}));
}

TEST_F(Etranslation, NoCallbackInTimeFailsWithTimeoutAndLateCallbacksChangeNothing) {
  auto id = create_ok(text_job);
  conn->tick();
  EXPECT_EQ(conn->in_flight(), 1u);
  time.advance(59s);
  conn->tick();
  EXPECT_EQ(status_of(id).at("status"), "pending");
  time.advance(2s);
  conn->tick();
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "failed");
  EXPECT_EQ(st.at("translations").at("ar").at("reason"),
            "timeout: no callback from eTranslation within 60000ms");
  EXPECT_EQ(db.outbox().size(), 2u);
  EXPECT_EQ(conn->in_flight(), 0u);
  auto late = cb(id, token_of(id), "success", "target-language=AR&translated-text=late");
  EXPECT_EQ(late.status, 200u);
  EXPECT_EQ(late.headers.get("X-Bbgw-Translation-Duplicate"), "true");
  EXPECT_EQ(db.outbox().size(), 2u);
  EXPECT_EQ(stats.value("bbgw_etranslation_timeouts_total"), 1);
}

TEST_F(Etranslation, InFlightQuotaQueuesTheRest) {
  make(yaml("max_in_flight: 1\n"));
  auto a = create_ok(text_job);
  auto b = create_ok(text_job);
  EXPECT_EQ(conn->tick(), 1u);
  EXPECT_EQ(conn->in_flight(), 1u);
  EXPECT_EQ(conn->queued(), 1u);
  EXPECT_EQ(conn->tick(), 0u);
  EXPECT_EQ(status_of(b).at("upstream").at("state"), "queued");
  cb(a, token_of(a), "error", "error-code=-20013");  // finishes every language of a
  EXPECT_EQ(conn->in_flight(), 0u);
  EXPECT_EQ(conn->tick(), 1u);
  EXPECT_EQ(status_of(b).at("upstream").at("state"), "submitted");
}

TEST_F(Etranslation, CallbackBeforeTheSynchronousAnswerIsApplied) {
  std::string id;
  upstream.then = [&](client_request const&) {
    // eTranslation calls back before its answer reaches the gateway.
    auto r = cb(id, token_of(id), "error", "error-code=-20013");
    EXPECT_EQ(r.status, 200u);
    return answer(200, "55");
  };
  id = create_ok(R"({"source_language":"en","target_languages":["es"],"text":"x"})");
  conn->tick();
  EXPECT_EQ(status_of(id).at("status"), "failed");
  EXPECT_EQ(status_of(id).at("upstream").at("request_id"), 55);
  EXPECT_EQ(conn->in_flight(), 0u);  // no timer for a finished job
}

TEST_F(Etranslation, RecoverRebuildsQueueAndTimersFromTheStore) {
  auto a = create_ok(text_job);
  conn->tick();
  auto b = create_ok(text_job);
  make(yaml());  // a restart: same store
  conn->recover();
  EXPECT_EQ(conn->in_flight(), 1u);
  EXPECT_EQ(conn->queued(), 1u);
  conn->tick();
  EXPECT_EQ(status_of(b).at("upstream").at("state"), "submitted");
  time.advance(61s);
  conn->tick();
  EXPECT_EQ(status_of(a).at("status"), "failed");
}

// The open-job index is sharded; a restart must still find every open job, whichever shard it
// is in, and never a finished one.
TEST_F(Etranslation, RecoverFindsEveryOpenJobAcrossShardsAndNoFinishedOne) {
  make(yaml("max_in_flight: 100\n"));
  constexpr char const* one = R"({"source_language":"en","target_languages":["es"],"text":"x"})";
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(create_ok(one));
  EXPECT_EQ(conn->tick(), 100u);  // the first 100 submitted, 200 queued
  std::set<std::string> finished;
  for (std::size_t i = 0; i < ids.size(); i += 3) {
    // Finish some submitted jobs (i < 100) and some still queued.
    auto r = cb(ids[i], token_of(ids[i]), "error", "error-code=-20013");
    EXPECT_EQ(r.status, 200u) << r.body;
    finished.insert(ids[i]);
  }
  ASSERT_EQ(finished.size(), 100u);

  std::set<std::string> indexed;
  std::size_t used_shards = 0, biggest = 0;
  for (std::size_t n = 0; n < open_shards; ++n) {
    auto shard = parse_index(*db.get(open_namespace, open_shard_key(n)));
    used_shards += !shard.empty();
    biggest = std::max(biggest, shard.size());
    for (auto const& id : shard) {
      EXPECT_EQ(open_shard(id), n) << id;
      EXPECT_TRUE(indexed.insert(id).second) << "listed twice: " << id;
    }
  }
  EXPECT_EQ(indexed.size(), 200u);
  EXPECT_GT(used_shards, open_shards / 2);  // spread, not one big record
  EXPECT_LT(biggest, 20u);

  make(yaml("max_in_flight: 300\n"));  // a restart: same store
  conn->recover();
  std::size_t submitted_open = 0;
  for (std::size_t i = 0; i < 100; ++i) submitted_open += !finished.count(ids[i]);
  EXPECT_EQ(conn->in_flight(), submitted_open);
  EXPECT_EQ(conn->queued(), 200u - submitted_open);
  EXPECT_EQ(conn->tick(), 200u - submitted_open);  // every queued open job, none finished
  EXPECT_EQ(conn->in_flight(), 200u);
  for (auto const& id : ids) {
    auto state = status_of(id).at("upstream").at("state");
    EXPECT_EQ(state, finished.count(id) ? "finished" : "submitted") << id;
  }
  // The timers came back too: every open job times out, the finished ones are not failed again.
  auto const events_before = db.outbox().size();
  time.advance(61s);
  conn->tick();
  EXPECT_EQ(conn->in_flight(), 0u);
  EXPECT_EQ(db.outbox().size(), events_before + 200u);
  for (std::size_t n = 0; n < open_shards; ++n)
    EXPECT_FALSE(*db.get(open_namespace, open_shard_key(n))) << n;
}

TEST_F(Etranslation, IdenticalTextIsAnsweredFromTheCacheWithinTheTtl) {
  auto first = create_ok(text_job);
  conn->tick();
  auto t = token_of(first);
  cb(first, t, "success", "target-language=AR&translated-text=ar-text");
  cb(first, t, "success", "target-language=EL&translated-text=el-text");
  auto sent = http.requests().size();
  ASSERT_EQ(db.outbox().size(), 2u);

  // The same request, whitespace aside and languages in another case and order: done at once.
  auto r = post(R"({"source_language":"EN","target_languages":["el","ar"],)"
                R"("text":"  Where is\n the   clinic? ","reference":"again"})");
  ASSERT_EQ(r.status, 200u) << r.body;
  auto body = json::parse(r.body).as_object();
  EXPECT_EQ(body.at("status"), "done");
  EXPECT_EQ(body.at("cached"), true);
  std::string id(body.at("id").as_string());
  auto st = status_of(id);
  EXPECT_EQ(st.at("status"), "done");
  EXPECT_EQ(st.at("cached"), true);
  EXPECT_EQ(st.at("translations").at("ar").at("text"), "ar-text");
  EXPECT_EQ(st.at("translations").at("el").at("cached"), true);
  EXPECT_EQ(conn->tick(), 0u);
  EXPECT_EQ(http.requests().size(), sent);  // no upstream call
  auto events = db.outbox();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[3].type, "eu.bbgateway.translation.completed.v1");
  EXPECT_EQ(events[3].partitionkey, id);
  EXPECT_EQ(events[3].data.at("cached"), true);
  EXPECT_EQ(events[0].data.at("cached"), false);

  // Partly cached: only the missing language goes upstream.
  auto p = post(R"({"source_language":"en","target_languages":["ar","fr"],)"
                R"("text":"Where is the clinic?"})");
  ASSERT_EQ(p.status, 202u);
  EXPECT_EQ(json::parse(p.body).at("cached_languages"), (json::array{"ar"}));
  conn->tick();
  EXPECT_EQ(last_upstream_json().at("targetLanguages"), (json::array{"FR"}));

  // Another domain is another request; after the TTL the cache is gone.
  EXPECT_EQ(post(R"({"source_language":"en","target_languages":["ar"],"domain":"SPD",)"
                 R"("text":"Where is the clinic?"})")
                .status,
            202u);
  time.advance(24h + 1s);
  EXPECT_EQ(post(R"({"source_language":"en","target_languages":["ar"],)"
                 R"("text":"Where is the clinic?"})")
                .status,
            202u);
}

TEST_F(Etranslation, NoCacheWhenTheTtlIsZero) {
  make(yaml("cache_ttl: 0\n"));
  auto first = create_ok(text_job);
  conn->tick();
  cb(first, token_of(first), "error", "error-code=-20013");
  auto a = create_ok(R"({"source_language":"en","target_languages":["ar"],"text":"x"})");
  conn->tick();
  cb(a, token_of(a), "success", "target-language=AR&translated-text=y");
  EXPECT_EQ(post(R"({"source_language":"en","target_languages":["ar"],"text":"x"})").status, 202u);
}

TEST(EtranslationConfig, ErrorsNameTheKey) {
  auto fail_key = [](std::string const& y) -> std::string {
    config_reader r(YAML::Load(y), "connectors.etranslation", nullptr);
    try {
      read_config(r);
      r.finish();
    } catch (config_error const& e) {
      return e.key();
    }
    return "";
  };
  EXPECT_EQ(fail_key("enabled: true\nbackend: etranslation\n"), "connectors.etranslation.base_url");
  EXPECT_EQ(fail_key("enabled: true\npair_backends: {en-fr: etranslation}\n"),
            "connectors.etranslation.base_url");
  EXPECT_EQ(fail_key("enabled: true\npair_backends: {english-fr: apertium}\n"),
            "connectors.etranslation.pair_backends");
  EXPECT_EQ(fail_key("enabled: true\napertium: {command: apertium}\n"),
            "connectors.etranslation.apertium.command");
  EXPECT_EQ(fail_key("enabled: true\n"), "");  // Apertium alone: no account needed
  EXPECT_EQ(fail_key("enabled: true\nbase_url: https://x.test\npassword: p\n"),
            "connectors.etranslation.application");
  EXPECT_EQ(fail_key(yaml("max_in_flight: 0\n")), "connectors.etranslation.max_in_flight");
  EXPECT_EQ(fail_key(yaml("languages: [english]\n")), "connectors.etranslation.languages");
  EXPECT_EQ(fail_key(yaml("max_document_size: 30MiB\n")),
            "connectors.etranslation.max_document_size");
  EXPECT_EQ(fail_key(yaml("bogus: 1\n")), "connectors.etranslation.bogus");
  EXPECT_EQ(fail_key("enabled: false\nbase_url: 3\n"), "");
}

}  // namespace
}  // namespace bbgw::etranslation

// CloudEvents structured JSON: what we write, what we accept, and that what we write
// validates against schemas/events/*.json with an independent validator (python3-jsonschema).
#include "bbgw/cloud_event.hpp"
#include "bbgw/json_checks.hpp"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <unistd.h>
#include <boost/json.hpp>

#include "bbgw/cloud_event_errc.hpp"

namespace {

namespace json = boost::json;
using namespace std::chrono;
using bbgw::cloud_event;
namespace ce = bbgw::cloudevents;

bbgw::sys_time at(int y, unsigned m, unsigned d, int h, int mi, int s, int us) {
  return time_point_cast<bbgw::sys_time::duration>(sys_days{year{y} / month{m} / day{d}} +
                                                   hours{h} + minutes{mi} + seconds{s} +
                                                   microseconds{us});
}

cloud_event full_event() {
  cloud_event ev;
  ev.id = "5b2d0a4e-2f7c-4a57-9a51-9d8b3b6f0c11";
  ev.source = "/bbgw/test";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.subject = "subject-1";
  ev.time = at(2026, 11, 24, 10, 0, 0, 123456);
  ev.dataschema = "https://bbgateway.eu/schemas/events/gateway.test.emitted.json";
  ev.partitionkey = "key-7";
  ev.requestid = "req-42";
  ev.data = json::object{{"seq", 7}, {"note", "hello"}};
  ev.family = "test";
  return ev;
}

json::object parse_object(std::string const& s) {
  return json::parse(s).as_object();
}

TEST(CloudEvent, SerialisesEveryAttributeAndOmitsFamily) {
  auto o = parse_object(bbgw::to_structured_json(full_event()));
  EXPECT_EQ(o.at("specversion"), "1.0");
  EXPECT_EQ(o.at("id"), "5b2d0a4e-2f7c-4a57-9a51-9d8b3b6f0c11");
  EXPECT_EQ(o.at("source"), "/bbgw/test");
  EXPECT_EQ(o.at("type"), "eu.bbgateway.test.emitted.v1");
  EXPECT_EQ(o.at("subject"), "subject-1");
  EXPECT_EQ(o.at("time"), "2026-11-24T10:00:00.123456Z");
  EXPECT_EQ(o.at("datacontenttype"), "application/json");
  EXPECT_EQ(o.at("dataschema"), "https://bbgateway.eu/schemas/events/gateway.test.emitted.json");
  EXPECT_EQ(o.at("partitionkey"), "key-7");
  EXPECT_EQ(o.at("requestid"), "req-42");
  ASSERT_TRUE(o.at("data").is_object()) << "JSON data is inline, not a string";
  EXPECT_EQ(o.at("data").at("seq"), 7);
  EXPECT_FALSE(o.contains("family"));
  EXPECT_EQ(o.size(), 11u);
}

TEST(CloudEvent, OmitsAbsentOptionals) {
  cloud_event ev;
  ev.id = "1";
  ev.source = "/s";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.family = "test";
  auto o = parse_object(bbgw::to_structured_json(ev));
  for (auto k : {"subject", "dataschema", "partitionkey", "requestid", "data", "family"})
    EXPECT_FALSE(o.contains(k)) << k;
  EXPECT_EQ(o.at("time"), "1970-01-01T00:00:00.000000Z");
}

TEST(CloudEvent, NonJsonDataIsAString) {
  cloud_event ev = full_event();
  ev.datacontenttype = "text/plain";
  ev.data = "plain text";
  EXPECT_EQ(parse_object(bbgw::to_structured_json(ev)).at("data"), "plain text");
  ev.data = json::object{{"a", 1}};  // not text: serialised into the string
  EXPECT_EQ(parse_object(bbgw::to_structured_json(ev)).at("data"), R"({"a":1})");
  ev.datacontenttype = "application/vnd.x+json; charset=utf-8";  // +json is JSON
  EXPECT_TRUE(parse_object(bbgw::to_structured_json(ev)).at("data").is_object());
}

// Several events into one buffer (as the NGSI connector collects them): the bytes that
// to_structured_json gives, after what the buffer held; data longer than one serializer chunk.
TEST(CloudEvent, AppendsTheSameBytesAfterWhatIsThere) {
  auto ev = full_event();
  ev.data = json::object{{"long", std::string(3000, 'x') + "\"\\\n\u00e9"}, {"n", 1}};
  std::string out = "prefix|";
  bbgw::append_structured_json(out, ev);
  auto const alone = bbgw::to_structured_json(ev);
  EXPECT_EQ(out, "prefix|" + alone);
  auto o = parse_object(alone);
  EXPECT_EQ(o.at("data").at("long").as_string(), std::string(3000, 'x') + "\"\\\n\u00e9");
  bbgw::append_structured_json(out, full_event());
  EXPECT_EQ(out, "prefix|" + alone + bbgw::to_structured_json(full_event()));
}

// Views of an event serialise to the event's own bytes: every attribute, the optional ones
// absent, and non-JSON data (carried as a string).
TEST(CloudEvent, ViewsSerialiseToTheSameBytes) {
  auto const full = full_event();
  json::value const data = full.data;
  bbgw::cloud_event_view const v{
      .id = "5b2d0a4e-2f7c-4a57-9a51-9d8b3b6f0c11",
      .source = "/bbgw/test",
      .type = "eu.bbgateway.test.emitted.v1",
      .subject = "subject-1",
      .time = full.time,
      .datacontenttype = "application/json",
      .dataschema = "https://bbgateway.eu/schemas/events/gateway.test.emitted.json",
      .partitionkey = "key-7",
      .requestid = "req-42",
      .data = &data};
  std::string out = "x";
  bbgw::append_structured_json(out, v);
  EXPECT_EQ(out, "x" + bbgw::to_structured_json(full));

  // The data given as JSON text instead: the same bytes, the text taken as it is.
  auto with_text = v;
  with_text.data = nullptr;
  std::string const data_text = json::serialize(data);
  with_text.data_json = data_text;
  out.clear();
  bbgw::append_structured_json(out, with_text);
  EXPECT_EQ(out, bbgw::to_structured_json(full));

  cloud_event minimal;
  minimal.id = "m";
  minimal.source = "/s";
  minimal.type = "t";
  minimal.datacontenttype.clear();
  out.clear();
  bbgw::append_structured_json(out, bbgw::cloud_event_view{.id = "m", .source = "/s", .type = "t"});
  EXPECT_EQ(out, bbgw::to_structured_json(minimal));
  EXPECT_EQ(parse_object(out).size(), 5u) << "specversion, id, source, type, time";

  auto text = full_event();
  text.datacontenttype = "text/plain";
  text.data = json::object{{"not", "a string"}};
  json::value const text_data = text.data;
  auto tv = v;
  tv.datacontenttype = "text/plain";
  tv.data = &text_data;
  out.clear();
  bbgw::append_structured_json(out, tv);
  EXPECT_EQ(out, bbgw::to_structured_json(text));
  EXPECT_TRUE(parse_object(out).at("data").is_string());
}

TEST(CloudEvent, RoundTrips) {
  cloud_event in = full_event();
  auto out = bbgw::from_structured_json(bbgw::to_structured_json(in));
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_EQ(out->id, in.id);
  EXPECT_EQ(out->source, in.source);
  EXPECT_EQ(out->type, in.type);
  EXPECT_EQ(out->subject, in.subject);
  EXPECT_EQ(out->time, in.time);
  EXPECT_EQ(out->datacontenttype, in.datacontenttype);
  EXPECT_EQ(out->dataschema, in.dataschema);
  EXPECT_EQ(out->partitionkey, in.partitionkey);
  EXPECT_EQ(out->requestid, in.requestid);
  EXPECT_EQ(out->data, in.data);
  EXPECT_EQ(bbgw::to_structured_json(*out), bbgw::to_structured_json(in));
}

TEST(CloudEvent, FormatsTimeAsUtcMicroseconds) {
  EXPECT_EQ(bbgw::format_rfc3339(at(2026, 1, 2, 3, 4, 5, 6)), "2026-01-02T03:04:05.000006Z");
  // Nanoseconds are truncated, not rounded up into the next second.
  auto t = at(2026, 12, 31, 23, 59, 59, 999999) + nanoseconds{999};
  EXPECT_EQ(bbgw::format_rfc3339(time_point_cast<bbgw::sys_time::duration>(t)),
            "2026-12-31T23:59:59.999999Z");
}

TEST(CloudEvent, ParsesTimeWithOffsetsAndFractions) {
  auto parse_time = [](std::string const& t) {
    auto ev = bbgw::from_structured_json(
        R"({"specversion":"1.0","id":"1","source":"/s","type":"t","time":")" + t + "\"}");
    EXPECT_TRUE(ev) << t;
    return ev ? ev->time : bbgw::sys_time{};
  };
  EXPECT_EQ(parse_time("2026-11-24T12:00:00+02:00"), at(2026, 11, 24, 10, 0, 0, 0));
  EXPECT_EQ(parse_time("2026-11-24T10:00:00.5Z"), at(2026, 11, 24, 10, 0, 0, 500000));
  EXPECT_EQ(parse_time("2026-11-24T10:00:00.123456Z"), at(2026, 11, 24, 10, 0, 0, 123456));
}

struct rejection {
  char const* json;
  ce::errc expected;
};

TEST(CloudEvent, RejectsMissingOrMistypedRequiredAttributes) {
  rejection cases[] = {
      {R"(not json)", ce::errc::malformed_json},
      {R"([1,2])", ce::errc::not_an_object},
      {R"({"id":"1","source":"/s","type":"t"})", ce::errc::missing_attribute},
      {R"({"specversion":"0.3","id":"1","source":"/s","type":"t"})",
       ce::errc::unsupported_specversion},
      {R"({"specversion":1.0,"id":"1","source":"/s","type":"t"})", ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","source":"/s","type":"t"})", ce::errc::missing_attribute},
      {R"({"specversion":"1.0","id":"1","type":"t"})", ce::errc::missing_attribute},
      {R"({"specversion":"1.0","id":"1","source":"/s"})", ce::errc::missing_attribute},
      {R"({"specversion":"1.0","id":42,"source":"/s","type":"t"})", ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","id":"","source":"/s","type":"t"})", ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","id":"1","source":["/s"],"type":"t"})",
       ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","id":"1","source":"/s","type":true})", ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","id":"1","source":"/s","type":"t","subject":5})",
       ce::errc::mistyped_attribute},
      {R"({"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"})",
       ce::errc::invalid_time},
      {R"({"specversion":"1.0","id":"1","source":"/s","type":"t","time":"2026-02-30T00:00:00Z"})",
       ce::errc::invalid_time},
      {R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data_base64":"AA=="})",
       ce::errc::unsupported_data},
  };
  for (auto const& c : cases) {
    auto r = bbgw::from_structured_json(c.json);
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error(), bbgw::error_code(c.expected)) << c.json << " -> " << r.error().message();
    EXPECT_STREQ(r.error().category().name(), "bbgw.cloudevents");
  }
}

TEST(CloudEvent, NewIdsAreDistinctTimeOrderedUuidV7) {
  std::regex uuid7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  auto before = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  std::string first = bbgw::new_event_id();
  for (int i = 0; i < 2000; ++i) {
    auto id = bbgw::new_event_id();
    ASSERT_TRUE(std::regex_match(id, uuid7)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
  // The first 48 bits are the Unix time in milliseconds.
  auto hex = first.substr(0, 8) + first.substr(9, 4);
  auto ms = static_cast<long long>(std::stoull(hex, nullptr, 16));
  EXPECT_GE(ms, before);
  EXPECT_LE(ms, before + 60'000);
  std::this_thread::sleep_for(2ms);  // a later millisecond sorts later
  EXPECT_LT(first, bbgw::new_event_id());
}

// --- schema validation with python3-jsonschema ---------------------------------------------

class CloudEventSchema : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("/usr/bin/python3 -c 'import jsonschema' >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "/usr/bin/python3 has no jsonschema module";
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("bbgw-ce-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string write(std::string const& name, std::string const& text) {
    auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  // Exit status of tests/tools/validate_json.py SCHEMA FILES...
  int validate(std::string const& schema, std::vector<std::string> const& files) {
    std::string cmd = std::string("/usr/bin/python3 ") + BBGW_SOURCE_DIR +
                      "/tests/tools/validate_json.py " + BBGW_SOURCE_DIR + "/schemas/events/" +
                      schema;
    for (auto const& f : files) cmd += " " + f;
    cmd += " >" + (dir_ / "out.txt").string() + " 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream in(dir_ / "out.txt");
    output_.assign(std::istreambuf_iterator<char>(in), {});
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::filesystem::path dir_;
  std::string output_;
};

TEST_F(CloudEventSchema, SerialisedTestEventsValidate) {
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) {
    cloud_event ev = full_event();
    ev.id = bbgw::new_event_id();
    ev.time = time_point_cast<bbgw::sys_time::duration>(system_clock::now());
    ev.data = json::object{{"seq", i}, {"note", "n" + std::to_string(i)}};
    if (i % 2) {  // optionals absent
      ev.subject.reset();
      ev.requestid.reset();
      ev.dataschema.reset();
    }
    files.push_back(write("ev" + std::to_string(i) + ".json", bbgw::to_structured_json(ev)));
  }
  EXPECT_EQ(validate("gateway.test.emitted.json", files), 0) << output_;
  EXPECT_EQ(validate("cloudevent.json", files), 0) << output_;
}

TEST_F(CloudEventSchema, NonJsonDataValidatesAgainstTheEnvelope) {
  cloud_event ev = full_event();
  ev.type = "eu.bbgateway.test.text.v1";
  ev.datacontenttype = "text/plain";
  ev.data = "hello";
  EXPECT_EQ(validate("cloudevent.json", {write("t.json", bbgw::to_structured_json(ev))}), 0)
      << output_;
}

TEST_F(CloudEventSchema, ValidatorRejectsWrongEvents) {
  // The check must be able to fail: wrong data, missing id, a bad time, a leaked `family`.
  cloud_event ev = full_event();
  ev.data = json::object{{"seq", -1}, {"note", "x"}};
  EXPECT_EQ(validate("gateway.test.emitted.json", {write("a.json", bbgw::to_structured_json(ev))}),
            1);
  EXPECT_NE(output_.find("seq"), std::string::npos) << output_;

  auto o = parse_object(bbgw::to_structured_json(full_event()));
  o.erase("id");
  EXPECT_EQ(validate("cloudevent.json", {write("b.json", json::serialize(o))}), 1) << output_;

  o = parse_object(bbgw::to_structured_json(full_event()));
  o["time"] = "2026-11-24T10:00:00Z";  // not the microsecond UTC form we write
  EXPECT_EQ(validate("cloudevent.json", {write("c.json", json::serialize(o))}), 1) << output_;

  o = parse_object(bbgw::to_structured_json(full_event()));
  o["family"] = "test";
  EXPECT_EQ(validate("cloudevent.json", {write("d.json", json::serialize(o))}), 1) << output_;

  o = parse_object(bbgw::to_structured_json(full_event()));
  o["source"] = "has spaces";
  EXPECT_EQ(validate("cloudevent.json", {write("e.json", json::serialize(o))}), 1) << output_;
}

}  // namespace

namespace {

TEST(JsonChecks, NonFiniteNumbersAnywhereAreFound) {
  EXPECT_TRUE(
      bbgw::all_numbers_finite(boost::json::parse(R"({"a":[1,2.5,{"b":-3e300}],"c":null})")));
  EXPECT_FALSE(bbgw::all_numbers_finite(boost::json::parse(R"({"a":[1,{"b":1e400}]})")));
  EXPECT_FALSE(bbgw::all_numbers_finite(boost::json::parse(R"([-1e999])")));
  EXPECT_FALSE(bbgw::all_numbers_finite(boost::json::parse("1e400")));
}

}  // namespace

namespace {

TEST(CloudEvent, EscapesAndNonAsciiSurviveTheRoundTrip) {
  bbgw::cloud_event ev;
  ev.id = "id-\"quoted\"";
  ev.source = "/bbgw/test";
  ev.type = "eu.bbgateway.test.emitted.v1";
  ev.subject = "line\nbreak \\ tab\t \u00e9 \u0639\u0631\u0628\u064a \u0395\u03bb";
  ev.time = std::chrono::system_clock::time_point{} + std::chrono::seconds(1790000000);
  ev.data = boost::json::object{{"note", "\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \"x\""},
                                {"list", boost::json::array{1, 2.5, "\u0001"}}};
  std::string text = bbgw::to_structured_json(ev);
  EXPECT_NO_THROW((void)boost::json::parse(text)) << text;
  auto back = bbgw::from_structured_json(text);
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(back->id, ev.id);
  EXPECT_EQ(back->subject, ev.subject);
  EXPECT_EQ(back->data, ev.data);
  EXPECT_EQ(bbgw::to_structured_json(*back), text) << "serialising is deterministic";
}

}  // namespace

// Specification of config_reader: typed values, defaults, units, and errors naming the key.
#include "bbgw/config_reader.hpp"

#include <gtest/gtest.h>

namespace bbgw {
namespace {

config_reader reader_of(std::string const& yaml, std::shared_ptr<effective_config> eff = nullptr) {
  return config_reader(YAML::Load(yaml), "section", std::move(eff));
}

TEST(ConfigReader, AbsentKeysTakeTheirDefaults) {
  auto r = reader_of("{}");
  EXPECT_EQ(r.string("name", "dflt"), "dflt");
  EXPECT_EQ(r.integer("port", 8080, 0, 65535), 8080);
  EXPECT_TRUE(r.boolean("on", true));
  EXPECT_EQ(r.duration("t", std::chrono::milliseconds(1500)).count(), 1500);
  r.finish();
}

TEST(ConfigReader, ReadsTypedValuesWithUnits) {
  auto r = reader_of(
      "{a: x, port: 9000, on: no, t1: 250ms, t2: 30s, t3: 5m, t4: 2h, t5: 1.5, t6: 30d, s1: 64KiB, "
      "s2: 10MiB, s3: 2048, s4: 1GB}");
  EXPECT_EQ(r.string("a", ""), "x");
  EXPECT_EQ(r.integer("port", 1, 0, 65535), 9000);
  EXPECT_FALSE(r.boolean("on", true));
  EXPECT_EQ(r.duration("t1", {}).count(), 250);
  EXPECT_EQ(r.duration("t2", {}).count(), 30000);
  EXPECT_EQ(r.duration("t3", {}).count(), 300000);
  EXPECT_EQ(r.duration("t4", {}).count(), 7200000);
  EXPECT_EQ(r.duration("t5", {}).count(), 1500);
  EXPECT_EQ(r.duration("t6", {}), std::chrono::hours(24 * 30));
  EXPECT_EQ(r.size("s1", 0), 65536u);
  EXPECT_EQ(r.size("s2", 0), 10u * 1024 * 1024);
  EXPECT_EQ(r.size("s3", 0), 2048u);
  EXPECT_EQ(r.size("s4", 0), 1000000000u);
  r.finish();
}

TEST(ConfigReader, UnknownKeyIsNamedWithItsFullPath) {
  auto r = reader_of("{port: 1, prot: 2}");
  r.integer("port", 0, 0, 10);
  try {
    r.finish();
    FAIL() << "finish accepted an unknown key";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "section.prot");
    EXPECT_EQ(e.message(), "unknown key");
  }
}

TEST(ConfigReader, WrongValuesAreNamed) {
  auto expect_error = [](std::string const& yaml, auto read, std::string const& key) {
    auto r = reader_of(yaml);
    try {
      read(r);
      ADD_FAILURE() << "accepted " << yaml;
    } catch (config_error const& e) {
      EXPECT_EQ(e.key(), key) << e.what();
    }
  };
  expect_error(
      "{port: eighty}", [](auto& r) { r.integer("port", 0, 0, 65535); }, "section.port");
  expect_error(
      "{port: 70000}", [](auto& r) { r.integer("port", 0, 0, 65535); }, "section.port");
  expect_error(
      "{on: maybe}", [](auto& r) { r.boolean("on", false); }, "section.on");
  expect_error(
      "{t: 5 parsecs}", [](auto& r) { r.duration("t", {}); }, "section.t");
  expect_error(
      "{t: d}", [](auto& r) { r.duration("t", {}); }, "section.t");
  expect_error(
      "{t: ms}", [](auto& r) { r.duration("t", {}); }, "section.t");
  expect_error(
      "{t: -1s}", [](auto& r) { r.duration("t", {}); }, "section.t");
  expect_error(
      "{s: 10XB}", [](auto& r) { r.size("s", 0); }, "section.s");
  expect_error(
      "{c: purple}",
      [](auto& r) {
        r.choice("c", "red", {"red", "green"});
      },
      "section.c");
  expect_error(
      "{l: {a: 1}}", [](auto& r) { r.list("l"); }, "section.l");
  expect_error(
      "{m: [1]}", [](auto& r) { r.child("m"); }, "section.m");
  expect_error(
      "{n: [a, {b: c}]}", [](auto& r) { r.strings("n", {}); }, "section.n[1]");
}

TEST(ConfigReader, ListsAndChildrenCarryTheirPathIntoErrors) {
  auto r = reader_of("{items: [{port: 1}, {port: bad}]}");
  auto items = r.list("items");
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].integer("port", 0, 0, 10), 1);
  try {
    items[1].integer("port", 0, 0, 10);
    FAIL();
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "section.items[1].port");
  }
}

TEST(ConfigReader, StringsAcceptAListOrACommaSeparatedScalar) {
  auto r = reader_of("{a: [x, y], b: 'x, y ,z'}");
  EXPECT_EQ(r.strings("a", {}), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.strings("b", {}), (std::vector<std::string>{"x", "y", "z"}));
}

TEST(ConfigReader, EffectiveConfigRecordsValuesAndMasksSecrets) {
  auto eff = std::make_shared<effective_config>();
  auto r = reader_of("{user: app, password: hunter2, props: {sasl.password: p, acks: all}}", eff);
  r.string("user", "");
  r.secret("password", "");
  r.string_map("props");
  r.integer("threads", 4, 1, 8);
  YAML::Emitter out;
  out << eff->tree();
  std::string text = out.c_str();
  EXPECT_NE(text.find("user: app"), std::string::npos) << text;
  EXPECT_NE(text.find("threads: 4"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("sasl.password: p"), std::string::npos) << text;
  EXPECT_NE(text.find("acks: all"), std::string::npos) << text;
}

TEST(ConfigSet, CreatesNestedMapsAndLists) {
  YAML::Node root(YAML::NodeType::Map);
  config_set(root, "server.listeners[0].port", "9000");
  config_set(root, "kafka.bootstrap_servers", "h:9092");
  EXPECT_EQ(root["server"]["listeners"][0]["port"].as<int>(), 9000);
  EXPECT_EQ(root["kafka"]["bootstrap_servers"].as<std::string>(), "h:9092");
}

}  // namespace
}  // namespace bbgw

namespace bbgw {
namespace {

TEST(ConfigSet, NumericSegmentsMakeListsNotMaps) {
  YAML::Node root(YAML::NodeType::Map);
  config_set(root, "a.items[0].x", "1");
  config_set(root, "a.items[1].x", "2");
  ASSERT_TRUE(root["a"]["items"].IsSequence());
  EXPECT_EQ(root["a"]["items"].size(), 2u);
  EXPECT_THROW(config_set(root, "a.items[5].x", "3"), config_error) << "gaps are refused";
}

}  // namespace
}  // namespace bbgw

namespace bbgw {
namespace {

TEST(ConfigReader, DurationWithAMinimumRefusesShorterValues) {
  auto r = reader_of("{ok: 2s, short: 50ms}");
  EXPECT_EQ(r.duration("ok", {}, std::chrono::milliseconds(100)).count(), 2000);
  try {
    r.duration("short", {}, std::chrono::seconds(1));
    FAIL() << "accepted 50ms with a 1s minimum";
  } catch (config_error const& e) {
    EXPECT_EQ(e.key(), "section.short");
    EXPECT_EQ(e.message(), "must be at least 1s");
  }
}

TEST(ConfigReader, PathPrefixMustBeAnAbsoluteCleanPath) {
  auto r = reader_of("{a: /x/notify, b: x/notify, c: /x/, d: '/x//y', e: '/x y', f: /}");
  EXPECT_EQ(r.path_prefix("a", "/d"), "/x/notify");
  EXPECT_EQ(r.path_prefix("absent", "/default/path"), "/default/path");
  for (char const* k : {"b", "c", "d", "e", "f"}) {
    try {
      r.path_prefix(k, "/default");
      ADD_FAILURE() << "accepted " << k;
    } catch (config_error const& e) {
      EXPECT_EQ(e.key(), std::string("section.") + k);
    }
  }
}

}  // namespace
}  // namespace bbgw

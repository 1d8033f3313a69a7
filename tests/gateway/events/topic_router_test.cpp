// Which Kafka topic an event family goes to.
#include "events/topic_router.hpp"

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "events/events_errc.hpp"

namespace {

using bbgw::events::topic_router;
using bbgw::events::topic_settings;

TEST(TopicRouter, PrefixDotFamilyByDefault) {
  topic_router r(topic_settings{});
  EXPECT_EQ(r.topic_for("eid"), "bbgw.eid");
  topic_router custom(topic_settings{"prod-eu", {}});
  EXPECT_EQ(custom.topic_for("edelivery"), "prod-eu.edelivery");
}

TEST(TopicRouter, OverridesWin) {
  topic_router r(topic_settings{"bbgw", {{"eid", "identity-events"}}});
  EXPECT_EQ(r.topic_for("eid"), "identity-events");
  EXPECT_EQ(r.topic_for("context"), "bbgw.context");
}

TEST(TopicRouter, IllegalNamesAreRefusedAtStartup) {
  EXPECT_THROW(topic_router(topic_settings{"bad prefix", {}}), std::invalid_argument);
  EXPECT_THROW(topic_router(topic_settings{"bbgw", {{"eid", "no/slash"}}}), std::invalid_argument);
  EXPECT_THROW(topic_router(topic_settings{"bbgw", {{"eid", std::string(250, 'a')}}}),
               std::invalid_argument);
  EXPECT_THROW(topic_router(topic_settings{"bbgw", {{"eid", ".."}}}), std::invalid_argument);
  EXPECT_EQ(topic_router::validate(topic_settings{"bbgw", {{"eid", "a b"}}}).error(),
            bbgw::error_code(bbgw::events::errc::invalid_topic));
  EXPECT_TRUE(topic_router::validate(topic_settings{"bbgw", {{"eid", "Ok_1.x-y"}}}));
}

TEST(TopicRouter, ValidNames) {
  EXPECT_TRUE(topic_router::is_valid_topic("a"));
  EXPECT_TRUE(topic_router::is_valid_topic(std::string(249, 'a')));
  EXPECT_FALSE(topic_router::is_valid_topic(std::string(250, 'a')));
  EXPECT_FALSE(topic_router::is_valid_topic(""));
  EXPECT_FALSE(topic_router::is_valid_topic("."));
  EXPECT_FALSE(topic_router::is_valid_topic("ümlaut"));
}

TEST(TopicRouter, FamiliesWithIllegalCharactersStillGetALegalTopic) {
  topic_router r(topic_settings{});
  EXPECT_EQ(r.topic_for("a b/c"), "bbgw.a_b_c");
  auto long_topic = r.topic_for(std::string(300, 'x'));
  EXPECT_EQ(long_topic.size(), 249u);
  EXPECT_TRUE(topic_router::is_valid_topic(long_topic));
}

}  // namespace

// Callback form decoding (any script, Latin-1), the upstream's integer
// answer and its error codes.
#include <gtest/gtest.h>

#include "bbgw/base64.hpp"
#include "etranslation/form.hpp"
#include "etranslation/upstream_codes.hpp"

namespace bbgw::etranslation {
namespace {

TEST(Form, DecodesUtf8InAnyScript) {
  form_params p;
  // Arabic, Greek, Cyrillic, percent-encoded UTF-8, '+' as space.
  ASSERT_TRUE(
      parse_form("a=%D9%85%D8%B1%D8%AD%D8%A8%D8%A7&g=%CE%93%CE%B5%CE%B9%CE%AC+"
                 "%CF%83%CE%BF%CF%85&c=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82&e=&x",
                 false, p));
  EXPECT_EQ(p.first("a"), "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7");
  EXPECT_EQ(p.first("g"), "\xce\x93\xce\xb5\xce\xb9\xce\xac \xcf\x83\xce\xbf\xcf\x85");
  EXPECT_EQ(p.first("c"), "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
  EXPECT_EQ(p.first("e"), "");
  EXPECT_EQ(p.first("x"), "");
  EXPECT_FALSE(p.first("missing"));
}

TEST(Form, Latin1BodiesAreConvertedAndBadInputRefused) {
  form_params p;
  ASSERT_TRUE(parse_form("t=caf%E9+cr%E8me", true, p));
  EXPECT_EQ(p.first("t"), "caf\xc3\xa9 cr\xc3\xa8me");
  form_params q;
  EXPECT_FALSE(parse_form("t=caf%E9", false, q));  // not UTF-8 and not declared Latin-1
  EXPECT_FALSE(parse_form("t=%Z1", false, q));
  EXPECT_FALSE(parse_form("t=%4", false, q));
  EXPECT_FALSE(parse_form("t=%C0%80", false, q));  // overlong
  EXPECT_TRUE(is_latin1_charset("application/x-www-form-urlencoded; charset=ISO-8859-1"));
  EXPECT_FALSE(is_latin1_charset("application/x-www-form-urlencoded; charset=UTF-8"));
  EXPECT_TRUE(is_form("Application/X-WWW-Form-Urlencoded;charset=utf-8"));
  EXPECT_FALSE(is_form("application/json"));
}

TEST(Form, RepeatedParametersAreAllKept) {
  form_params p;
  ASSERT_TRUE(parse_form("target-languages=ES&target-languages=FR", false, p));
  EXPECT_EQ(p.all("target-languages"), (std::vector<std::string>{"ES", "FR"}));
}

TEST(UpstreamAnswer, PositiveIdsNegativeCodesAndGarbage) {
  EXPECT_EQ(parse_answer("12345")->value, 12345);
  EXPECT_EQ(parse_answer(" -20028\n")->value, -20028);
  EXPECT_EQ(parse_answer("\"42\"")->value, 42);
  EXPECT_FALSE(parse_answer("0"));
  EXPECT_FALSE(parse_answer("12a"));
  EXPECT_FALSE(parse_answer(""));
  EXPECT_FALSE(parse_answer("<html>"));
  EXPECT_EQ(describe_code(-20013), "-20013: language pair not supported by the domain");
  EXPECT_EQ(describe_code(-20007), "-20007: application not authorised to access the service");
  EXPECT_EQ(describe_code(-29999), "-29999: unknown eTranslation error");
  EXPECT_TRUE(is_retryable_code(-20028));
  EXPECT_FALSE(is_retryable_code(-20001));
}

}  // namespace
}  // namespace bbgw::etranslation

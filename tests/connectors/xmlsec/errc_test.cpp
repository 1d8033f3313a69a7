// The error category names each failure clearly.
#include "xmlsec/errc.hpp"

#include <gtest/gtest.h>

namespace bbgw::xmlsec {
namespace {

TEST(errc, messages_and_category) {
  boost::system::error_code ec = errc::doctype_forbidden;
  EXPECT_STREQ(ec.category().name(), "bbgw.xmlsec");
  EXPECT_NE(ec.message().find("DOCTYPE"), std::string::npos);
  for (int e = static_cast<int>(errc::malformed_xml); e <= static_cast<int>(errc::internal); ++e)
    EXPECT_EQ(category().message(e).find("unknown"), std::string::npos) << e;
  EXPECT_NE(category().message(999).find("unknown"), std::string::npos);
}

}  // namespace
}  // namespace bbgw::xmlsec

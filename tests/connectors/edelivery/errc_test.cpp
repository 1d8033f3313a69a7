// The errc → EBMS error table.
#include <gtest/gtest.h>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {
namespace {

TEST(ebms_errors, every_errc_maps_to_a_specific_ebms_error) {
  EXPECT_EQ(ebms_error_for(errc::mime_malformed).code, "EBMS:0007");
  EXPECT_EQ(ebms_error_for(errc::mime_malformed).short_description, "MimeInconsistency");
  EXPECT_EQ(ebms_error_for(errc::messaging_invalid).code, "EBMS:0009");
  EXPECT_EQ(ebms_error_for(errc::pmode_mismatch).code, "EBMS:0010");
  EXPECT_EQ(ebms_error_for(errc::payload_missing).code, "EBMS:0011");
  EXPECT_EQ(ebms_error_for(errc::signature_invalid).code, "EBMS:0101");
  EXPECT_EQ(ebms_error_for(errc::signature_invalid).origin, "security");
  EXPECT_EQ(ebms_error_for(errc::decryption_failed).code, "EBMS:0102");
  EXPECT_EQ(ebms_error_for(errc::algorithm_not_allowed).code, "EBMS:0103");
  EXPECT_EQ(ebms_error_for(errc::decompression_failed).code, "EBMS:0303");
  EXPECT_EQ(ebms_error_for(errc::decompression_failed).short_description, "DecompressionFailure");
  EXPECT_EQ(ebms_error_for(errc::receipt_invalid).code, "EBMS:0302");
  EXPECT_EQ(ebms_error_for(errc::receipt_missing).code, "EBMS:0301");
  EXPECT_EQ(ebms_error_for(errc::delivery_failed).code, "EBMS:0202");
  for (int e = 1; e < static_cast<int>(errc::internal); ++e) {
    auto const& r = ebms_error_for(static_cast<errc>(e));
    EXPECT_TRUE(r.severity == "failure" || r.severity == "warning");
    EXPECT_NE(r.code, "EBMS:0004") << e;  // only `internal` is "Other"
    EXPECT_NE(metric_reason(static_cast<errc>(e)), "internal") << e;
  }
  EXPECT_NE(make_error_code(errc::pmode_mismatch).message().find("EBMS:0010"), std::string::npos);
}

}  // namespace
}  // namespace bbgw::edelivery

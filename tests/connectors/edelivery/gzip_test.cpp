// Bounded gunzip: round trip, corrupt input, and gzip bombs (absolute and ratio limits).
#include <gtest/gtest.h>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/gzip.hpp"

namespace bbgw::edelivery {
namespace {

TEST(gzip, round_trip) {
  std::string text(100'000, 'a');
  for (std::size_t i = 0; i < text.size(); i += 7) text[i] = static_cast<char>('a' + i % 26);
  auto z = gzip(text);
  ASSERT_TRUE(z);
  auto back = gunzip(*z, {});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, text);
}

TEST(gzip, corrupt_or_truncated_or_trailing_data_is_refused) {
  auto z = gzip(std::string(5000, 'x') + "tail");
  ASSERT_TRUE(z);
  std::string detail;
  EXPECT_EQ(gunzip("plain text, not gzip at all", {}, &detail).error(), errc::decompression_failed);
  EXPECT_EQ(gunzip(z->substr(0, z->size() - 6), {}, &detail).error(), errc::decompression_failed);
  EXPECT_EQ(gunzip(*z + "junk", {}, &detail).error(), errc::decompression_failed);
  EXPECT_EQ(detail, "data after the gzip member");
  auto flipped = *z;
  flipped[flipped.size() - 5] ^= 0x01;  // CRC/length trailer
  EXPECT_EQ(gunzip(flipped, {}).error(), errc::decompression_failed);
}

TEST(gzip, bomb_is_stopped_by_ratio_and_size) {
  auto z = gzip(std::string(16 * 1024 * 1024, '\0'));  // ~16 KB → 16 MiB
  ASSERT_TRUE(z);
  std::string detail;
  EXPECT_EQ(gunzip(*z, {}, &detail).error(), errc::decompression_failed);
  EXPECT_EQ(detail, "compression ratio above the limit");
  gunzip_limits size_only{.max_output_bytes = 1024 * 1024, .max_ratio = 1'000'000};
  EXPECT_EQ(gunzip(*z, size_only, &detail).error(), errc::decompression_failed);
  EXPECT_EQ(detail, "decompressed size above the limit");
  gunzip_limits generous{.max_output_bytes = 32 * 1024 * 1024, .max_ratio = 1'000'000};
  EXPECT_TRUE(gunzip(*z, generous));
}

}  // namespace
}  // namespace bbgw::edelivery

// Bounded gunzip: round trip, corrupt input, and gzip bombs (absolute and ratio limits);
// streamed gzip for the sending side.
#include <algorithm>
#include <cstdint>
#include <span>

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

// Streamed: input read in chunks, output handed on as it is inflated, never more than the limit.
TEST(gzip, streams_in_chunks_and_stops_at_the_limit) {
  std::string plain(2 * 1024 * 1024 + 3, '\0');
  for (std::size_t i = 0; i < plain.size(); ++i)
    plain[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto z = gzip(plain);
  ASSERT_TRUE(z);
  std::string out;
  std::size_t calls = 0;
  auto collect = [&](std::span<char const> b) -> result<void> {
    ++calls;
    out.append(b.data(), b.size());
    return {};
  };
  auto n = gunzip_stream({memory_source(*z), 0, z->size()}, collect, {});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, plain.size());
  EXPECT_EQ(out, plain);
  EXPECT_GT(calls, 4u) << "handed on in pieces";
  // A range inside a larger source (as a MIME part is).
  auto framed = "head" + *z + "tail";
  out.clear();
  EXPECT_TRUE(gunzip_stream({memory_source(framed), 4, z->size()}, collect, {}));
  EXPECT_EQ(out, plain);
  // The size limit: output stops at it.
  out.clear();
  std::string detail;
  gunzip_limits small{.max_output_bytes = 1024 * 1024};
  auto r = gunzip_stream({memory_source(*z), 0, z->size()}, collect, small, &detail);
  ASSERT_FALSE(r);
  EXPECT_EQ(detail, "decompressed size above the limit");
  EXPECT_LE(out.size(), 1024u * 1024u);
  // Truncated and trailing data.
  EXPECT_FALSE(gunzip_stream({memory_source(*z), 0, z->size() - 1}, collect, {}, &detail));
  EXPECT_EQ(detail, "truncated gzip data");
  EXPECT_FALSE(gunzip_stream({memory_source(framed), 4, z->size() + 4}, collect, {}, &detail));
  EXPECT_EQ(detail, "data after the gzip member");
}

TEST(gzip, stream_compresses_input_given_in_small_pieces_and_stops_on_a_write_failure) {
  // Incompressible-ish bytes over several 64 KiB deflate buffers, fed 1000 bytes at a time.
  std::string plain(300'000, '\0');
  std::uint32_t x = 12345;
  for (auto& c : plain) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  std::size_t at = 0;
  auto reader = [&](std::span<char> buf) -> result<std::size_t> {
    std::size_t const k = std::min({buf.size(), std::size_t{1000}, plain.size() - at});
    std::copy_n(plain.data() + at, k, buf.data());
    at += k;
    return k;
  };
  std::string z;
  std::size_t writes = 0;
  auto n = gzip_stream(reader, [&](std::span<char const> b) -> result<void> {
    ++writes;
    z.append(b.data(), b.size());
    return {};
  });
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, z.size());
  EXPECT_GT(writes, 1u);
  auto back = gunzip(z, {});
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, plain);

  at = 0;
  auto failed =
      gzip_stream(reader, [](std::span<char const>) -> result<void> { return errc::internal; });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), make_error_code(errc::internal));
}

}  // namespace
}  // namespace bbgw::edelivery

// located_parts: a decrypted part's SHA-256 (computed while it was written) is offered to the
// signature check as raw bytes; other parts have none, and are read.
#include "edelivery/ws_security.hpp"

#include <gtest/gtest.h>

namespace bbgw::edelivery {
namespace {

TEST(located_parts, known_sha256_of_decrypted_parts_only) {
  mime_layout mime;
  mime.parts.resize(3);
  mime.root = 0;
  mime.parts[1].content_id = "decrypted@a";
  // SHA-256("abc")
  mime.parts[1].content_sha256_hex =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  mime.parts[2].content_id = "plain@a";
  located_parts parts(&mime);
  auto known = parts.known_sha256("decrypted@a");
  ASSERT_TRUE(known);
  ASSERT_EQ(known->size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>((*known)[0]), 0xbau);
  EXPECT_EQ(static_cast<unsigned char>((*known)[31]), 0xadu);
  EXPECT_FALSE(parts.known_sha256("plain@a"));
  EXPECT_FALSE(parts.known_sha256("absent@a"));
  mime.parts[1].content_sha256_hex[5] = 'x';  // never half a digest
  EXPECT_FALSE(parts.known_sha256("decrypted@a"));
}

}  // namespace
}  // namespace bbgw::edelivery

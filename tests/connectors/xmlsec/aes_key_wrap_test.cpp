// RFC 3394 key wrap (xmlenc kw-aes128/192/256) against the RFC's own vectors (§4.1–4.3, §4.6;
// the same values python3-cryptography's keywrap gives), both ways, and its integrity check.
#include <string>

#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include "xmlsec/errc.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec::xenc_detail {
namespace {

std::string hex(std::string_view h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(
        static_cast<char>(OPENSSL_hexchar2int(h[i]) * 16 + OPENSSL_hexchar2int(h[i + 1])));
  return out;
}

struct vec {
  char const* kek;
  char const* key;
  char const* wrapped;
};

class AesKeyWrap : public ::testing::TestWithParam<vec> {};

TEST_P(AesKeyWrap, Rfc3394VectorsBothWays) {
  auto const& v = GetParam();
  auto wrapped = aes_key_wrap(hex(v.kek), hex(v.key));
  ASSERT_TRUE(wrapped);
  EXPECT_EQ(*wrapped, hex(v.wrapped));
  auto key = aes_key_unwrap(hex(v.kek), hex(v.wrapped));
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, hex(v.key));
  // Any flipped bit fails the integrity check value; so does another KEK.
  for (std::size_t i = 0; i < wrapped->size(); ++i) {
    std::string bad = *wrapped;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = aes_key_unwrap(hex(v.kek), bad);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error(), errc::decryption_failed);
  }
  std::string other = hex(v.kek);
  other[0] = static_cast<char>(other[0] ^ 0x80);
  EXPECT_FALSE(aes_key_unwrap(other, hex(v.wrapped)));
}

INSTANTIATE_TEST_SUITE_P(
    Rfc3394, AesKeyWrap,
    ::testing::Values(
        vec{"000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF",
            "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
        vec{"000102030405060708090A0B0C0D0E0F1011121314151617", "00112233445566778899AABBCCDDEEFF",
            "96778B25AE6CA435F92B5B97C050AED2468AB8A17AD84E5D"},
        vec{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
        vec{"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F",
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"}));

TEST(AesKeyWrapLimits, SizesOutsideTheRfcAreRefused) {
  std::string const kek(16, 'k');
  EXPECT_EQ(aes_key_wrap(std::string(20, 'k'), std::string(16, 'x')).error(), errc::key_unusable);
  EXPECT_EQ(aes_key_wrap(kek, std::string(8, 'x')).error(), errc::encryption_failed);  // < 2 blocks
  EXPECT_EQ(aes_key_wrap(kek, std::string(17, 'x')).error(),
            errc::encryption_failed);  // not 64-bit
  EXPECT_EQ(aes_key_unwrap(kek, std::string(16, 'x')).error(),
            errc::decryption_failed);  // < 3 blocks
  EXPECT_EQ(aes_key_unwrap(kek, std::string(4104, 'x')).error(), errc::decryption_failed);
}

}  // namespace
}  // namespace bbgw::xmlsec::xenc_detail

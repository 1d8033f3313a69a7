// The one base64 of the gateway (bbgw/base64.hpp), used for XML-DSig/XML-Enc values, SAML
// bindings, JWTs, AS4 payloads and translated documents: RFC 4648 §10 vectors, whitespace, the
// malformed inputs it must refuse, the URL alphabet, and agreement with OpenSSL's decoder.
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bbgw/base64.hpp"

namespace bbgw {
namespace {

TEST(base64, rfc4648_vectors_both_ways) {
  std::pair<char const*, char const*> const v[] = {{"", ""},
                                                   {"f", "Zg=="},
                                                   {"fo", "Zm8="},
                                                   {"foo", "Zm9v"},
                                                   {"foob", "Zm9vYg=="},
                                                   {"fooba", "Zm9vYmE="},
                                                   {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : v) {
    EXPECT_EQ(base64_encode(plain), encoded);
    auto d = base64_decode(encoded);
    ASSERT_TRUE(d) << encoded;
    EXPECT_EQ(*d, plain);
  }
}

TEST(base64, xml_whitespace_anywhere_is_skipped) {
  for (char const* t : {"Zm9v\nYmFy", " Zm9vYmFy ", "Zm9v\r\nYmFy\r\n", "\tZ m 9 v Y m F y",
                        "Zm9vYg=\n=", "Zm9vYg==\n"}) {
    auto d = base64_decode(t);
    ASSERT_TRUE(d) << t;
    EXPECT_EQ(d->substr(0, 4), "foob") << t;
  }
}

TEST(base64, malformed_input_is_refused) {
  for (char const* t : {"Z", "Zg", "Zg=", "Zm9", "Zg===", "Z===", "=", "==", "Zm9v=", "Zm9=v",
                        "Zg==Zg==", "Zm9v$mFy", "Zm9v-mFy", "Zm9v_mFy", "Zm9v\vYmFy"}) {
    EXPECT_FALSE(base64_decode(t)) << t;
  }
  EXPECT_FALSE(base64_decode(std::string_view("Zm9v\0YmFy", 9)));  // NUL inside
  EXPECT_FALSE(base64_decode("Zm9vYmF\xc3\xa9"));                  // non-ASCII
}

TEST(base64, random_bytes_round_trip_and_agree_with_openssl) {
  for (std::size_t n = 0; n < 200; ++n) {
    std::string raw(n, '\0');
    ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n)), 1);
    auto text = base64_encode(raw);
    ASSERT_EQ(text.size(), (n + 2) / 3 * 4);
    auto back = base64_decode(text);
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, raw) << n;
    // OpenSSL's block decoder (which counts padding as zero bytes) on the same text.
    std::string ossl(text.size() / 4 * 3, '\0');
    int m = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(ossl.data()),
                            reinterpret_cast<unsigned char const*>(text.data()),
                            static_cast<int>(text.size()));
    ASSERT_GE(m, 0);
    EXPECT_EQ(ossl.substr(0, n), raw) << n;
    // Line-wrapped at 64 as xmlsec and many signers write it.
    std::string wrapped;
    for (std::size_t i = 0; i < text.size(); i += 64) wrapped += text.substr(i, 64) + "\n";
    auto w = base64_decode(wrapped);
    ASSERT_TRUE(w) << n;
    EXPECT_EQ(*w, raw);
  }
}

// The decoder takes whole quanta four characters at a time between whitespace: whitespace at
// any offset (mid-quantum too), and a bad character or an early '=' in any of the four lanes,
// behave as character by character.
TEST(base64, quantum_runs_with_whitespace_and_bad_characters_anywhere) {
  std::string raw(300, '\0');
  ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), 300), 1);
  std::string const text = base64_encode(raw);
  for (std::size_t at = 0; at <= text.size(); ++at) {
    for (char const* ws : {" ", "\r\n", "\t \n"}) {
      std::string spaced = text;
      spaced.insert(at, ws);
      auto d = base64_decode(spaced);
      ASSERT_TRUE(d) << at;
      EXPECT_EQ(*d, raw) << at;
    }
    if (at == text.size()) break;
    for (char bad : {'$', '-', '\0', '\x80'}) {
      std::string broken = text;
      broken[at] = bad;
      EXPECT_FALSE(base64_decode(broken)) << at << " " << int(bad);
    }
    if (at + 4 < text.size()) {  // padding before the end of the data
      std::string early = text;
      early[at] = '=';
      EXPECT_FALSE(base64_decode(early)) << at;
    }
  }
}

TEST(base64, non_canonical_trailing_bits_are_refused) {
  // "Zh==" and "Zm9=" decode to the same bytes as "Zg==" and "Zm8=" in lenient decoders: one
  // value, one encoding (a signature over the text must not have twins).
  EXPECT_TRUE(base64_decode("Zg=="));
  EXPECT_FALSE(base64_decode("Zh=="));
  EXPECT_TRUE(base64_decode("Zm8="));
  EXPECT_FALSE(base64_decode("Zm9="));
}

TEST(base64, decoded_size_without_decoding) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decoded_size(base64_encode(s)), s.size()) << s;
  }
  EXPECT_EQ(base64_decoded_size("Zm9v\r\nYmE=\n"), 5u);
}

TEST(base64url, unpadded_url_alphabet_both_ways) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), std::optional<std::string>("\xfb\xff"));
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_decode("Zg"), std::optional<std::string>("f"));
  for (char const* t : {"-_8=", "Zg==", "+/8", "Zm9v YmFy", "Zm9v\nYmFy", "-_9", "Z", "Zh"}) {
    EXPECT_FALSE(base64url_decode(t)) << t;
  }
}

TEST(base64url, random_bytes_round_trip_and_match_the_standard_alphabet) {
  for (std::size_t n = 0; n < 100; ++n) {
    std::string raw(n, '\0');
    ASSERT_EQ(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n)), 1);
    auto url = base64url_encode(raw);
    auto std_text = base64_encode(raw);
    std::string mapped = std_text.substr(0, std_text.find('='));
    for (auto& c : mapped) c = c == '+' ? '-' : c == '/' ? '_' : c;
    EXPECT_EQ(url, mapped);
    EXPECT_EQ(base64url_decode(url), std::optional<std::string>(raw));
  }
}

}  // namespace
}  // namespace bbgw

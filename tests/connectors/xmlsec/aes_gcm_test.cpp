// AES-GCM as XML Encryption 1.1 / the SwA ciphertext transform use it: IV 12 ‖ ct ‖ tag 16,
// one-shot and streamed. Cross-checked against python3-cryptography's AESGCM.
#include <string>

#include <gtest/gtest.h>

#include "xenc_test_support.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace testing;

std::string key_of(std::size_t n) {
  return *random_bytes(n);
}

// Feeds `in` to the decryptor in slices of varying sizes (1, 2, 3, … bytes, then larger).
result<std::string> stream_decrypt(std::string_view cek, std::string_view in) {
  gcm_decryptor dec(cek);
  std::string out;
  std::size_t at = 0;
  std::size_t step = 1;
  while (at < in.size()) {
    std::size_t n = std::min(step, in.size() - at);
    if (auto r = dec.update(in.substr(at, n), out); !r) return r.error();
    at += n;
    step = step < 40 ? step + 1 : step * 3;
  }
  if (auto r = dec.finish(out); !r) return r.error();
  return out;
}

TEST(aes_gcm, round_trip_for_every_key_size) {
  for (std::size_t size : {16u, 24u, 32u}) {
    auto cek = key_of(size);
    std::string plain = "attachment bytes \x00\x01\xff";
    auto sealed = aes_gcm_encrypt(cek, plain);
    ASSERT_TRUE(sealed);
    EXPECT_EQ(sealed->size(), 12 + plain.size() + 16);
    auto opened = aes_gcm_decrypt(cek, *sealed);
    ASSERT_TRUE(opened) << size;
    EXPECT_EQ(*opened, plain);
  }
}

TEST(aes_gcm, each_encryption_draws_a_fresh_iv) {
  auto cek = key_of(16);
  auto a = aes_gcm_encrypt(cek, "same");
  auto b = aes_gcm_encrypt(cek, "same");
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->substr(0, 12), b->substr(0, 12));
}

TEST(aes_gcm, decrypts_what_python_cryptography_encrypted) {
  for (auto name : {"oaep11-mgf1sha256-sha256", "oaep11-mgf1sha1-sha256", "oaep-mgf1p-sha256"}) {
    auto v = load_vector(name);  // 16-, 24- and 32-byte keys
    auto cv = data_cipher_value(v);
    auto data = base64(*text_of(cv));
    auto one_shot = aes_gcm_decrypt(v.cek, data);
    ASSERT_TRUE(one_shot) << name;
    EXPECT_EQ(*one_shot, v.plaintext);
    auto streamed = stream_decrypt(v.cek, data);
    ASSERT_TRUE(streamed) << name;
    EXPECT_EQ(*streamed, v.plaintext);
  }
}

TEST(aes_gcm, python_cryptography_decrypts_what_we_encrypt) {
  auto hex = [](std::string_view s) {
    static char const digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
    return out;
  };
  for (std::size_t size : {16u, 24u, 32u}) {
    auto cek = key_of(size);
    auto sealed = aes_gcm_encrypt(cek, "sent to a peer");
    ASSERT_TRUE(sealed);
    std::string py =
        "/usr/bin/python3 -c \"import sys;"
        "from cryptography.hazmat.primitives.ciphers.aead import AESGCM;"
        "k=bytes.fromhex(sys.argv[1]);d=bytes.fromhex(sys.argv[2]);"
        "print(AESGCM(k).decrypt(d[:12],d[12:],None).decode())\" " +
        hex(cek) + " " + hex(*sealed);
    EXPECT_EQ(run(py), "sent to a peer\n") << size;
  }
}

TEST(aes_gcm, streams_a_large_input_in_odd_slices_both_ways) {
  auto cek = key_of(16);
  std::string plain = *random_bytes(1 << 20);
  gcm_encryptor enc(cek);
  std::string sealed;
  for (std::size_t at = 0; at < plain.size(); at += 7777)
    ASSERT_TRUE(enc.update(std::string_view(plain).substr(at, 7777), sealed));
  ASSERT_TRUE(enc.finish(sealed));
  EXPECT_EQ(sealed.size(), plain.size() + 28);
  auto opened = stream_decrypt(cek, sealed);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(*opened == plain);
}

TEST(aes_gcm, an_empty_plaintext_still_has_iv_and_tag) {
  auto cek = key_of(32);
  gcm_encryptor enc(cek);
  std::string sealed;
  ASSERT_TRUE(enc.finish(sealed));
  EXPECT_EQ(sealed.size(), 28u);
  auto opened = aes_gcm_decrypt(cek, sealed);
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->empty());
}

TEST(aes_gcm, a_flipped_byte_anywhere_fails_authentication) {
  auto cek = key_of(16);
  auto sealed = *aes_gcm_encrypt(cek, "the payload of an AS4 message");
  for (std::size_t i : {std::size_t{0}, std::size_t{12}, sealed.size() / 2, sealed.size() - 1}) {
    auto bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = aes_gcm_decrypt(cek, bad);
    ASSERT_FALSE(r) << i;
    EXPECT_EQ(r.error(), errc::decryption_failed);
    EXPECT_FALSE(stream_decrypt(cek, bad)) << i;
  }
}

TEST(aes_gcm, truncated_input_and_wrong_key_fail) {
  auto cek = key_of(16);
  auto sealed = *aes_gcm_encrypt(cek, "payload");
  EXPECT_EQ(aes_gcm_decrypt(cek, sealed.substr(0, sealed.size() - 1)).error(),
            errc::decryption_failed);
  EXPECT_EQ(aes_gcm_decrypt(cek, sealed.substr(0, 27)).error(), errc::decryption_failed);
  EXPECT_EQ(aes_gcm_decrypt(cek, "").error(), errc::decryption_failed);
  EXPECT_EQ(aes_gcm_decrypt(key_of(16), sealed).error(), errc::decryption_failed);
}

TEST(aes_gcm, refuses_keys_that_are_not_aes_sizes) {
  EXPECT_EQ(aes_gcm_encrypt("short", "x").error(), errc::key_unusable);
  EXPECT_EQ(aes_gcm_decrypt(std::string(20, 'k'), std::string(40, 'x')).error(),
            errc::key_unusable);
}

TEST(aes_gcm, a_finished_stream_refuses_more_input) {
  auto cek = key_of(16);
  gcm_decryptor dec(cek);
  std::string out;
  auto sealed = *aes_gcm_encrypt(cek, "x");
  ASSERT_TRUE(dec.update(sealed, out));
  ASSERT_TRUE(dec.finish(out));
  EXPECT_FALSE(dec.update(sealed, out));
  EXPECT_FALSE(dec.finish(out));
}

TEST(random_bytes, returns_the_requested_number_of_distinct_bytes) {
  auto a = random_bytes(32);
  auto b = random_bytes(32);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(random_bytes(0)->empty());
}

}  // namespace
}  // namespace bbgw::xmlsec

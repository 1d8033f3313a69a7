// The connector's SHA-256 and HMAC (on OpenSSL) against published vectors (FIPS 180-4 examples,
// RFC 4231), since event ids and notify secrets depend on them being exact.
#include <gtest/gtest.h>

#include "context/config.hpp"
#include "context/sha256.hpp"

namespace bbgw::context {
namespace {

TEST(ContextSha256, KnownVectors) {
  EXPECT_EQ(to_hex(sha256_of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256_of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  sha256 h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.update(chunk);  // one million 'a', in pieces
  EXPECT_EQ(to_hex(h.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// restart() begins a new digest on the same context: nothing of the previous one (finished or
// not) is left in it.
TEST(ContextSha256, RestartBeginsAFreshDigest) {
  sha256 h;
  h.update("abc");
  EXPECT_EQ(to_hex(h.finish()), to_hex(sha256_of("abc")));
  EXPECT_EQ(to_hex(h.restart().update("abc").finish()), to_hex(sha256_of("abc")));
  h.restart().update("half of something");  // not finished
  EXPECT_EQ(to_hex(h.restart().finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ContextSha256, SplitUpdatesEqualOneUpdate) {
  std::string s(200, 'x');
  for (std::size_t cut = 0; cut < s.size(); cut += 7) {
    sha256 h;
    h.update(std::string_view(s).substr(0, cut)).update(std::string_view(s).substr(cut));
    EXPECT_EQ(h.finish(), sha256_of(s)) << cut;
  }
}

TEST(ContextHmacSha256, Rfc4231Vectors) {
  EXPECT_EQ(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(to_hex(hmac_sha256(std::string(131, '\xaa'),
                               "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(ContextDerivedSecret, IsStableAndPerSubscription) {
  auto a = derive_secret("k-0123456789abcdef", "orion", "cases");
  EXPECT_EQ(a, derive_secret("k-0123456789abcdef", "orion", "cases"));
  EXPECT_EQ(a, to_hex(hmac_sha256("k-0123456789abcdef", "bbgw-context-notify:orion/cases")));
  EXPECT_NE(a, derive_secret("k-0123456789abcdef", "orion", "cases2"));
  EXPECT_NE(a, derive_secret("k-0123456789abcdeF", "orion", "cases"));
  EXPECT_TRUE(constant_time_equals(a, a));
  EXPECT_FALSE(constant_time_equals(a, a.substr(1)));
}

}  // namespace
}  // namespace bbgw::context

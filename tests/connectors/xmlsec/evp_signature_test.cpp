// The ECDSA r‖s → DER conversion verify() uses, against OpenSSL's own encoder (i2d_ECDSA_SIG)
// for the curve sizes the library offers, with leading zero octets and top bits set.
#include "xmlsec/evp_signature.hpp"

#include <string>

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rand.h>

namespace bbgw::xmlsec::detail {
namespace {

std::string openssl_der(std::string_view r, std::string_view s) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* br = BN_bin2bn(reinterpret_cast<unsigned char const*>(r.data()),
                         static_cast<int>(r.size()), nullptr);
  BIGNUM* bs = BN_bin2bn(reinterpret_cast<unsigned char const*>(s.data()),
                         static_cast<int>(s.size()), nullptr);
  EXPECT_EQ(ECDSA_SIG_set0(sig, br, bs), 1);
  unsigned char* buf = nullptr;
  int len = i2d_ECDSA_SIG(sig, &buf);
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  OPENSSL_free(buf);
  ECDSA_SIG_free(sig);
  return out;
}

TEST(EcdsaRawToDer, SameBytesAsOpensslForEveryCurveSize) {
  for (std::size_t n : {32u, 48u, 66u}) {
    for (int round = 0; round < 200; ++round) {
      std::string r(n, '\0'), s(n, '\0');
      RAND_bytes(reinterpret_cast<unsigned char*>(r.data()), static_cast<int>(n));
      RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
      // Shapes the random ones rarely give: leading zero octets, top bit set, tiny, zero.
      switch (round % 5) {
        case 1:
          r[0] = 0;
          r[1] = 0;
          break;
        case 2:
          r[0] = static_cast<char>(0x80);
          s[0] = static_cast<char>(0xff);
          break;
        case 3:
          r.assign(n, '\0');
          r[n - 1] = 1;
          break;
        case 4:
          s.assign(n, '\0');
          break;
        default:
          break;
      }
      SCOPED_TRACE(std::to_string(n) + "/" + std::to_string(round));
      EXPECT_EQ(ecdsa_raw_to_der(r, s), openssl_der(r, s));
    }
  }
}

}  // namespace
}  // namespace bbgw::xmlsec::detail

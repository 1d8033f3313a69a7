#include "eid/jwt.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <boost/json/serialize.hpp>

#include "eid/codec.hpp"
#include "eid/eid_errc.hpp"

namespace bbgw::eid {

namespace {
std::string bn_param(EVP_PKEY* k, char const* name) {
  BIGNUM* bn = nullptr;
  if (!EVP_PKEY_get_bn_param(k, name, &bn)) throw std::runtime_error("EC key lacks coordinates");
  std::string raw(32, '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(raw.data()), 32);
  BN_free(bn);
  return raw;
}
}  // namespace

result<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t width) {
  auto const* p = reinterpret_cast<unsigned char const*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (!sig) return errc::crypto_failure;
  std::string out(2 * width, '\0');
  BIGNUM const *r = nullptr, *s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  bool ok =
      BN_num_bytes(r) <= static_cast<int>(width) && BN_num_bytes(s) <= static_cast<int>(width) &&
      BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width)) > 0 &&
      BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + width,
                   static_cast<int>(width)) > 0;
  ECDSA_SIG_free(sig);
  if (!ok) return errc::crypto_failure;
  return out;
}

std::string ec_thumbprint(std::string_view crv, std::string_view x, std::string_view y) {
  // RFC 7638 §3.2: required members only, lexicographic order, no whitespace.
  std::string canon = "{\"crv\":\"" + std::string(crv) + "\",\"kty\":\"EC\",\"x\":\"" +
                      std::string(x) + "\",\"y\":\"" + std::string(y) + "\"}";
  return base64url_encode(sha256(canon));
}

es256_signer es256_signer::from_pem_file(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return from_pem(ss.str());
}

es256_signer es256_signer::from_pem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!k) throw std::runtime_error("not a PEM private key");
  std::shared_ptr<EVP_PKEY> owned(k, EVP_PKEY_free);
  char curve[64] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
      !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve, &len) ||
      std::string_view(curve) != "prime256v1")
    throw std::runtime_error("the OIDC signing key must be an EC P-256 key (ES256)");
  return es256_signer(std::move(owned));
}

es256_signer::es256_signer(std::shared_ptr<EVP_PKEY> k) : key_(std::move(k)) {
  x_ = base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X));
  y_ = base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y));
  kid_ = ec_thumbprint("P-256", x_, y_);
}

result<std::string> es256_signer::sign(boost::json::object const& claims) const {
  boost::json::object header{{"alg", "ES256"}, {"typ", "JWT"}, {"kid", kid_}};
  std::string input = base64url_encode(boost::json::serialize(header)) + "." +
                      base64url_encode(boost::json::serialize(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string der(80, '\0');
  std::size_t len = der.size();
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
            EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(der.data()), &len,
                           reinterpret_cast<unsigned char const*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) return errc::crypto_failure;
  der.resize(len);
  auto raw = ecdsa_der_to_raw(der, 32);
  if (!raw) return raw.error();
  return input + "." + base64url_encode(*raw);
}

boost::json::object es256_signer::jwk() const {
  return {{"kty", "EC"},  {"crv", "P-256"}, {"x", x_},    {"y", y_},
          {"use", "sig"}, {"alg", "ES256"}, {"kid", kid_}};
}

}  // namespace bbgw::eid

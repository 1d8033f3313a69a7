// Signature algorithms by URI on OpenSSL EVP (see evp_signature.hpp).
#include "xmlsec/evp_signature.hpp"

#include <memory>

#include <openssl/ecdsa.h>
#include <openssl/rsa.h>

#include "xmlsec/algorithms.hpp"

namespace bbgw::xmlsec::detail {

namespace {

// SHA-2 fetched once per process and never changed (constants, not state): with EVP_sha256()
// and its siblings OpenSSL 3 looks the implementation up again at every initialisation, under
// a lock. SHA-1 stays the legacy object, which callers compare with EVP_sha1() to refuse it.
EVP_MD const* sha256() {
  static EVP_MD const* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md ? md : EVP_sha256();
}
EVP_MD const* sha384() {
  static EVP_MD const* const md = EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  return md ? md : EVP_sha384();
}
EVP_MD const* sha512() {
  static EVP_MD const* const md = EVP_MD_fetch(nullptr, "SHA2-512", nullptr);
  return md ? md : EVP_sha512();
}

}  // namespace

std::optional<signature_algorithm> signature_algorithm_by_uri(std::string_view u) {
  using k = signature_kind;
  if (u == uri::rsa_sha1) return signature_algorithm{k::rsa_pkcs1, EVP_sha1()};
  if (u == uri::rsa_sha256) return signature_algorithm{k::rsa_pkcs1, sha256()};
  if (u == uri::rsa_sha384) return signature_algorithm{k::rsa_pkcs1, sha384()};
  if (u == uri::rsa_sha512) return signature_algorithm{k::rsa_pkcs1, sha512()};
  if (u == uri::rsa_pss_sha256) return signature_algorithm{k::rsa_pss, sha256()};
  if (u == uri::rsa_pss_sha384) return signature_algorithm{k::rsa_pss, sha384()};
  if (u == uri::rsa_pss_sha512) return signature_algorithm{k::rsa_pss, sha512()};
  if (u == uri::ecdsa_sha256) return signature_algorithm{k::ecdsa, sha256()};
  if (u == uri::ecdsa_sha384) return signature_algorithm{k::ecdsa, sha384()};
  if (u == uri::ecdsa_sha512) return signature_algorithm{k::ecdsa, sha512()};
  if (u.find("hmac") != std::string_view::npos) return signature_algorithm{k::hmac, nullptr};
  return std::nullopt;
}

EVP_MD const* digest_md_by_uri(std::string_view u) {
  if (u == uri::sha1) return EVP_sha1();
  if (u == uri::sha256) return sha256();
  if (u == uri::sha384) return sha384();
  if (u == uri::sha512) return sha512();
  return nullptr;
}

std::string ecdsa_raw_to_der(std::string_view r, std::string_view s) {
  // INTEGER: minimal big-endian octets, a leading 00 when the top bit is set (non-negative).
  auto integer = [](std::string_view v, std::string& out) {
    std::size_t i = 0;
    while (i + 1 < v.size() && v[i] == '\0') ++i;
    v.remove_prefix(i);
    bool const pad = v.empty() || (static_cast<unsigned char>(v[0]) & 0x80) != 0;
    std::size_t const len = v.size() + (pad ? 1 : 0);
    out.push_back('\x02');
    if (len >= 0x80) out.push_back('\x81');  // ≤ 255 octets: P-521's 66-byte values at most
    out.push_back(static_cast<char>(len));
    if (pad) out.push_back('\0');
    out.append(v);
  };
  std::string body;
  body.reserve(r.size() + s.size() + 8);
  integer(r, body);
  integer(s, body);
  std::string out;
  out.reserve(body.size() + 3);
  out.push_back('\x30');
  if (body.size() >= 0x80) out.push_back('\x81');
  out.push_back(static_cast<char>(body.size()));
  out += body;
  return out;
}

evp_signer::~evp_signer() {
  EVP_MD_CTX_free(md_ctx_);
  EVP_PKEY_free(pkey_);
}

bool evp_signer::init(EVP_PKEY* pkey, signature_algorithm alg, bool sign) {
  if (pkey == nullptr || alg.md == nullptr || alg.kind == signature_kind::hmac) return false;
  int const base = EVP_PKEY_get_base_id(pkey);
  bool const rsa = base == EVP_PKEY_RSA || base == EVP_PKEY_RSA_PSS;
  if ((alg.kind == signature_kind::ecdsa) != (base == EVP_PKEY_EC)) return false;
  if (alg.kind != signature_kind::ecdsa && !rsa) return false;
  if (alg.kind == signature_kind::rsa_pkcs1 && base == EVP_PKEY_RSA_PSS) return false;
  md_ctx_ = EVP_MD_CTX_new();
  if (md_ctx_ == nullptr) return false;
  EVP_PKEY_up_ref(pkey);
  pkey_ = pkey;
  alg_ = alg;
  EVP_PKEY_CTX* pctx = nullptr;
  int ok = sign ? EVP_DigestSignInit(md_ctx_, &pctx, alg.md, nullptr, pkey)
                : EVP_DigestVerifyInit(md_ctx_, &pctx, alg.md, nullptr, pkey);
  if (ok != 1) return false;
  if (alg.kind == signature_kind::rsa_pss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1) return false;
    if (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) return false;
    if (EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, alg.md) != 1) return false;
  } else if (alg.kind == signature_kind::rsa_pkcs1) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return true;
}

bool evp_signer::update(void const* data, std::size_t size) {
  return md_ctx_ != nullptr && EVP_DigestUpdate(md_ctx_, data, size) == 1;
}

namespace {

// Octets of one ECDSA integer: the curve order's size.
std::size_t ec_field_bytes(EVP_PKEY* pkey) {
  return static_cast<std::size_t>((EVP_PKEY_get_bits(pkey) + 7) / 8);
}

}  // namespace

std::optional<std::string> evp_signer::sign_final() {
  if (md_ctx_ == nullptr) return std::nullopt;
  std::size_t len = 0;
  if (EVP_DigestSignFinal(md_ctx_, nullptr, &len) != 1) return std::nullopt;
  std::string sig(len, '\0');
  if (EVP_DigestSignFinal(md_ctx_, reinterpret_cast<unsigned char*>(sig.data()), &len) != 1)
    return std::nullopt;
  sig.resize(len);
  if (alg_.kind != signature_kind::ecdsa) return sig;
  // DER SEQUENCE{r,s} → r‖s, each left-padded to the field size (XML-DSig 1.1, RFC 4050).
  auto const* p = reinterpret_cast<unsigned char const*>(sig.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), ECDSA_SIG_free);
  if (!es) return std::nullopt;
  std::size_t const n = ec_field_bytes(pkey_);
  std::string raw(2 * n, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), out, static_cast<int>(n)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), out + n, static_cast<int>(n)) < 0)
    return std::nullopt;
  return raw;
}

bool evp_signer::verify_final(std::string_view signature) {
  if (md_ctx_ == nullptr) return false;
  std::string der;
  if (alg_.kind == signature_kind::ecdsa) {
    std::size_t const n = ec_field_bytes(pkey_);
    if (signature.size() != 2 * n) return false;
    der = ecdsa_raw_to_der(signature.substr(0, n), signature.substr(n));
    signature = der;
  }
  return EVP_DigestVerifyFinal(md_ctx_, reinterpret_cast<unsigned char const*>(signature.data()),
                               signature.size()) == 1;
}

}  // namespace bbgw::xmlsec::detail

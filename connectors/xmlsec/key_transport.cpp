// RSA key transport of XML Encryption: xmlenc#rsa-oaep-mgf1p and xmlenc11#rsa-oaep (any MGF1
// digest, optional OAEPparams label) on OpenSSL 3, which xmlsec1 1.2.37 only half supports.
//
// Policy: the method, the OAEP digest (default SHA-1 when DigestMethod is absent, as the spec
// says) and, for xmlenc11 rsa-oaep, the MGF (default mgf1sha1) must each be listed in
// `key_transport`. rsa-oaep-mgf1p fixes the mask generation function to MGF1-SHA1 by
// definition; that is not a SHA-1 signature or digest of content (MGF1 needs no collision
// resistance), and the AS4 profile and AS4.NET/WSS4J send exactly this with a SHA-256 OAEP
// digest, so the implied MGF1-SHA1 of mgf1p is accepted whenever mgf1p itself is allowed.
// All of this is checked before the private key is used.
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "xmlsec/document.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec {

using namespace xenc_detail;

namespace {

struct oaep_params {
  EVP_MD const* md = nullptr;
  EVP_MD const* mgf = nullptr;
  std::string label;
};

// Configures `ctx` (initialised for encrypt or decrypt) for OAEP or PKCS#1 v1.5.
bool set_padding(EVP_PKEY_CTX* ctx, oaep_params const* oaep) {
  if (!oaep) return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, oaep->md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, oaep->mgf) != 1)
    return false;
  if (!oaep->label.empty()) {
    void* copy = OPENSSL_memdup(oaep->label.data(), oaep->label.size());
    if (!copy) return false;
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, static_cast<int>(oaep->label.size())) != 1) {
      OPENSSL_free(copy);
      return false;
    }
  }
  return true;
}

bool is_rsa(EVP_PKEY* pkey) {
  return pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
}

}  // namespace

namespace xenc_detail {

result<std::string> rsa_decrypt_key(xmlNodePtr encryption_method, std::string_view method,
                                    std::string_view cipher_value, key const& recipient,
                                    algorithm_policy const& policy, std::string* detail) {
  bool const pkcs1 = method == uri::rsa_1_5;
  bool const oaep11 = method == uri::rsa_oaep;
  if (!pkcs1 && !oaep11 && method != uri::rsa_oaep_mgf1p)
    return fail(errc::algorithm_not_allowed, detail, "unknown key transport algorithm");
  if (!policy.allows(policy.key_transport, method))
    return fail(errc::algorithm_not_allowed, detail,
                "key transport " + std::string(method) + " is not allowed");

  oaep_params oaep;
  if (!pkcs1) {
    auto digest = only_child(encryption_method, ns_ds, "DigestMethod");
    if (!digest) return fail(errc::decryption_failed, detail, "several OAEP DigestMethod");
    std::string digest_uri(uri::sha1);  // the spec's default
    if (*digest) {
      auto a = attribute(*digest, "Algorithm");
      if (!a) return fail(errc::decryption_failed, detail, "DigestMethod without Algorithm");
      digest_uri = *a;
    }
    oaep.md = digest_by_uri(digest_uri);
    if (!oaep.md || !policy.allows(policy.key_transport, digest_uri))
      return fail(errc::algorithm_not_allowed, detail,
                  "OAEP digest " + digest_uri + " is not allowed");

    auto mgf = only_child(encryption_method, ns_xenc11, "MGF");
    if (!mgf) return fail(errc::decryption_failed, detail, "several MGF");
    std::string mgf_uri(uri::mgf1_sha1);  // default of xmlenc11 rsa-oaep; fixed for mgf1p
    if (*mgf) {
      auto a = attribute(*mgf, "Algorithm");
      if (!a) return fail(errc::decryption_failed, detail, "MGF without Algorithm");
      mgf_uri = *a;
    }
    oaep.mgf = mgf_digest_by_uri(mgf_uri);
    if (oaep11) {
      if (!oaep.mgf || !policy.allows(policy.key_transport, mgf_uri))
        return fail(errc::algorithm_not_allowed, detail, "MGF " + mgf_uri + " is not allowed");
    } else if (mgf_uri != uri::mgf1_sha1) {
      return fail(errc::algorithm_not_allowed, detail, "rsa-oaep-mgf1p implies MGF1-SHA1");
    }

    auto params = only_child(encryption_method, ns_xenc, "OAEPparams");
    if (!params) return fail(errc::decryption_failed, detail, "several OAEPparams");
    if (*params) {
      auto text = text_of(*params);
      auto label = text ? detail::base64_decode(*text) : std::nullopt;
      if (!label) return fail(errc::decryption_failed, detail, "OAEPparams is not base64");
      oaep.label = std::move(*label);
    }
  }

  EVP_PKEY* pkey = recipient.pkey();
  if (!is_rsa(pkey) || !recipient.has_private())
    return fail(errc::key_unusable, detail, "key transport needs an RSA private key");
  if (EVP_PKEY_get_bits(pkey) < policy.min_rsa_bits)
    return fail(errc::key_unusable, detail, "RSA key shorter than the policy allows");
  // Shorter is tolerated (some senders drop leading zero octets), longer never.
  if (cipher_value.empty() ||
      cipher_value.size() > static_cast<std::size_t>(EVP_PKEY_get_size(pkey)))
    return fail(errc::decryption_failed, detail, "CipherValue longer than the modulus");

  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  if (!ctx) return make_error_code(errc::internal);
  std::string out(cipher_value.size(), '\0');
  std::size_t out_len = out.size();
  bool ok = EVP_PKEY_decrypt_init(ctx) == 1 && set_padding(ctx, pkcs1 ? nullptr : &oaep) &&
            EVP_PKEY_decrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len,
                             reinterpret_cast<unsigned char const*>(cipher_value.data()),
                             cipher_value.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) {
    cleanse(out);
    return fail(errc::decryption_failed, detail, "key transport decryption failed");
  }
  out.resize(out_len);
  return out;
}

}  // namespace xenc_detail

result<std::string> encrypt_key(std::string_view cek, key const& recipient,
                                key_transport_spec const& spec) {
  oaep_params oaep;
  oaep.md = digest_by_uri(spec.digest_method);
  if (spec.method == uri::rsa_oaep_mgf1p)
    oaep.mgf = EVP_sha1();
  else if (spec.method == uri::rsa_oaep)
    oaep.mgf = mgf_digest_by_uri(spec.mgf);
  if (!oaep.md || !oaep.mgf) return make_error_code(errc::algorithm_not_allowed);
  EVP_PKEY* pkey = recipient.pkey();
  if (!is_rsa(pkey)) return make_error_code(errc::key_unusable);

  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  if (!ctx) return make_error_code(errc::internal);
  std::string out(static_cast<std::size_t>(EVP_PKEY_get_size(pkey)), '\0');
  std::size_t out_len = out.size();
  bool ok = EVP_PKEY_encrypt_init(ctx) == 1 && set_padding(ctx, &oaep) &&
            EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &out_len,
                             reinterpret_cast<unsigned char const*>(cek.data()), cek.size()) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    return make_error_code(errc::encryption_failed);  // e.g. CEK too long for the modulus
  }
  out.resize(out_len);
  return out;
}

}  // namespace bbgw::xmlsec

// Key agreement of XML Encryption 1.1: ECDH-ES (ephemeral-static) with ConcatKDF (NIST SP
// 800-56A, XML Enc 1.1 §5.4.1) and AES key wrap, on P-256/384/521 and brainpoolP256/384/512r1.
// xmlsec1 1.2.37 has none of it. The originator's ephemeral public key comes from
// xenc:OriginatorKeyInfo (dsig11:ECKeyValue: NamedCurve + uncompressed point); the recipient
// key is the caller's. Every algorithm and the curve are checked before the private key is used.
#include <array>
#include <cstring>
#include <memory>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "xmlsec/document.hpp"
#include "xmlsec/xenc_detail.hpp"

namespace bbgw::xmlsec::xenc_detail {

namespace {

struct curve_info {
  std::string_view urn;
  char const* group;  // OpenSSL group name
};

// All of cofactor 1, which the partial public-key validation in ecdh_es_unwrap relies on: a
// curve with a cofactor must not be added without the full validation.
constexpr std::array<curve_info, 6> curves{{
    {"urn:oid:1.2.840.10045.3.1.7", "prime256v1"},
    {"urn:oid:1.3.132.0.34", "secp384r1"},
    {"urn:oid:1.3.132.0.35", "secp521r1"},
    {"urn:oid:1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1"},
    {"urn:oid:1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1"},
    {"urn:oid:1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1"},
}};

struct pkey_free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;

// XML Enc 1.1 §5.4.1: hexBinary whose first octet is the number of padding bits. Only
// byte-aligned strings (first octet 00) are supported, as in xmlsec 1.3 and Santuario.
std::optional<std::string> bit_string(xmlNodePtr params, char const* name) {
  auto value = attribute(params, name);
  if (!value || value->empty()) return std::string{};
  if (value->size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(value->size() / 2);
  for (std::size_t i = 0; i < value->size(); i += 2) {
    int hi = OPENSSL_hexchar2int(static_cast<unsigned char>((*value)[i]));
    int lo = OPENSSL_hexchar2int(static_cast<unsigned char>((*value)[i + 1]));
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  if (out[0] != 0) return std::nullopt;
  return out.substr(1);
}

std::string group_of(EVP_PKEY* pkey) {
  char name[64] = {0};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
      1)
    return {};
  return std::string(name, len);
}

// The originator's key on the recipient key's curve (checked to be the NamedCurve): its
// parameters are copied from the recipient key rather than built again from the group name,
// which costs as much as the key agreement. The point is decoded (and refused when not on the
// curve) by OpenSSL.
pkey_ptr peer_key_like(EVP_PKEY* own, std::string_view point) {
  pkey_ptr peer(EVP_PKEY_new());
  if (!peer || EVP_PKEY_copy_parameters(peer.get(), own) != 1 ||
      EVP_PKEY_set1_encoded_public_key(
          peer.get(), reinterpret_cast<unsigned char const*>(point.data()), point.size()) != 1)
    return nullptr;
  return peer;
}

}  // namespace

result<std::string> concat_kdf(EVP_MD const* md, std::string_view shared_secret,
                               std::string_view other_info, std::size_t out_bytes) {
  std::size_t const hash_bytes = static_cast<std::size_t>(EVP_MD_get_size(md));
  if (out_bytes == 0 || out_bytes > 1024 || hash_bytes == 0) return make_error_code(errc::internal);
  std::string out;
  out.reserve(out_bytes + hash_bytes);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return make_error_code(errc::internal);
  bool ok = true;
  for (std::uint32_t counter = 1; ok && out.size() < out_bytes; ++counter) {
    unsigned char c[4] = {
        static_cast<unsigned char>(counter >> 24), static_cast<unsigned char>(counter >> 16),
        static_cast<unsigned char>(counter >> 8), static_cast<unsigned char>(counter)};
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ok = EVP_DigestInit_ex(ctx, md, nullptr) == 1 && EVP_DigestUpdate(ctx, c, 4) == 1 &&
         EVP_DigestUpdate(ctx, shared_secret.data(), shared_secret.size()) == 1 &&
         EVP_DigestUpdate(ctx, other_info.data(), other_info.size()) == 1 &&
         EVP_DigestFinal_ex(ctx, h, &len) == 1;
    if (ok) out.append(reinterpret_cast<char const*>(h), len);
    OPENSSL_cleanse(h, sizeof h);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) {
    ERR_clear_error();
    cleanse(out);
    return make_error_code(errc::internal);
  }
  out.resize(out_bytes);
  return out;
}

result<std::string> ecdh_es_unwrap(xmlNodePtr agreement_method, std::string_view wrap_method,
                                   std::string_view wrapped, key const& recipient,
                                   algorithm_policy const& policy, std::string* detail) {
  // 1. Algorithms, all before the private key is touched.
  std::size_t const kek_bytes = key_wrap_bytes(wrap_method);
  if (kek_bytes == 0 || !policy.allows(policy.key_agreement, wrap_method))
    return fail(errc::algorithm_not_allowed, detail,
                "key wrap " + std::string(wrap_method) + " is not allowed");
  auto agreement = attribute(agreement_method, "Algorithm");
  if (!agreement || *agreement != uri::ecdh_es || !policy.allows(policy.key_agreement, *agreement))
    return fail(errc::algorithm_not_allowed, detail,
                "key agreement " + agreement.value_or("(none)") + " is not allowed");

  auto kdm = only_child(agreement_method, ns_xenc11, "KeyDerivationMethod");
  if (!kdm || !*kdm) return fail(errc::decryption_failed, detail, "no KeyDerivationMethod");
  auto kdf = attribute(*kdm, "Algorithm");
  if (!kdf || *kdf != uri::concat_kdf || !policy.allows(policy.key_agreement, *kdf))
    return fail(errc::algorithm_not_allowed, detail,
                "key derivation " + kdf.value_or("(none)") + " is not allowed");
  auto params = only_child(*kdm, ns_xenc11, "ConcatKDFParams");
  if (!params || !*params) return fail(errc::decryption_failed, detail, "no ConcatKDFParams");
  auto digest = only_child(*params, ns_ds, "DigestMethod");
  if (!digest || !*digest) return fail(errc::decryption_failed, detail, "no ConcatKDF digest");
  auto digest_uri = attribute(*digest, "Algorithm").value_or("");
  EVP_MD const* md = digest_by_uri(digest_uri);
  // The KDF digest is listed with the key agreement algorithms or with the digests.
  if (!md || !(policy.allows(policy.key_agreement, digest_uri) ||
               policy.allows(policy.digest_methods, digest_uri)))
    return fail(errc::algorithm_not_allowed, detail,
                "ConcatKDF digest " + digest_uri + " is not allowed");

  std::string other_info;
  for (char const* name :
       {"AlgorithmID", "PartyUInfo", "PartyVInfo", "SuppPubInfo", "SuppPrivInfo"}) {
    auto part = bit_string(*params, name);
    if (!part)
      return fail(errc::decryption_failed, detail,
                  std::string("ConcatKDFParams ") + name + " is not a byte-aligned bit string");
    other_info += *part;
  }

  // 2. The originator's ephemeral public key and its curve.
  auto originator = only_child(agreement_method, ns_xenc, "OriginatorKeyInfo");
  if (!originator || !*originator)
    return fail(errc::decryption_failed, detail, "no OriginatorKeyInfo");
  auto key_value = only_child(*originator, ns_ds, "KeyValue");
  if (!key_value || !*key_value)
    return fail(errc::decryption_failed, detail, "OriginatorKeyInfo without KeyValue");
  auto ec = only_child(*key_value, ns_dsig11, "ECKeyValue");
  if (!ec || !*ec) return fail(errc::decryption_failed, detail, "KeyValue without ECKeyValue");
  auto named = only_child(*ec, ns_dsig11, "NamedCurve");
  if (!named || !*named)
    return fail(errc::algorithm_not_allowed, detail, "only named curves are supported");
  auto curve_uri = attribute(*named, "URI").value_or("");
  curve_info const* curve = nullptr;
  for (auto const& c : curves)
    if (c.urn == curve_uri) curve = &c;
  if (!curve)
    return fail(errc::algorithm_not_allowed, detail, "curve " + curve_uri + " is not supported");
  auto public_key = only_child(*ec, ns_dsig11, "PublicKey");
  if (!public_key || !*public_key)
    return fail(errc::decryption_failed, detail, "ECKeyValue without PublicKey");
  auto point_text = text_of(*public_key);
  auto point = point_text ? detail::base64_decode(*point_text) : std::nullopt;
  if (!point || point->empty() || (*point)[0] != 0x04)
    return fail(errc::decryption_failed, detail, "PublicKey is not an uncompressed point");

  // 3. The recipient key must be an EC private key on the same curve.
  EVP_PKEY* own = recipient.pkey();
  if (!own || EVP_PKEY_get_base_id(own) != EVP_PKEY_EC || !recipient.has_private())
    return fail(errc::key_unusable, detail, "ECDH-ES needs an EC private key");
  if (EVP_PKEY_get_bits(own) < policy.min_ec_bits)
    return fail(errc::key_unusable, detail, "EC key smaller than the policy allows");
  if (OBJ_txt2nid(group_of(own).c_str()) != OBJ_txt2nid(curve->group))
    return fail(errc::decryption_failed, detail, "originator and recipient curves differ");
  pkey_ptr peer = peer_key_like(own, *point);
  // ECC partial public-key validation (SP 800-56A rev. 3 §5.6.2.3.4): coordinates in range, on
  // the curve, not the point at infinity. With cofactor 1 (every curve above) this is the full
  // validation; set_peer_ex(..., 1) would add EVP_PKEY_public_check's multiplication by the
  // order, which costs as much as the agreement itself and proves nothing more here.
  pkey_ctx_ptr check(peer ? EVP_PKEY_CTX_new_from_pkey(nullptr, peer.get(), nullptr) : nullptr);
  if (!peer || !check || EVP_PKEY_public_check_quick(check.get()) != 1) {
    ERR_clear_error();
    return fail(errc::decryption_failed, detail, "originator public key is not on the curve");
  }

  // 4. Z = ECDH(recipient, originator); KEK = ConcatKDF(Z); CEK = unwrap(KEK, CipherValue).
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  std::string z;
  std::size_t z_len = 0;
  bool ok = ctx && EVP_PKEY_derive_init(ctx.get()) == 1 &&
            EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 0) == 1 &&  // validated above
            EVP_PKEY_derive(ctx.get(), nullptr, &z_len) == 1;
  if (ok) {
    z.resize(z_len);
    ok = EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(z.data()), &z_len) == 1;
    z.resize(z_len);
  }
  if (!ok) {
    ERR_clear_error();
    cleanse(z);
    return fail(errc::decryption_failed, detail, "ECDH key agreement failed");
  }
  auto kek = concat_kdf(md, z, other_info, kek_bytes);
  cleanse(z);
  if (!kek) return fail(errc::internal, detail, "ConcatKDF failed");
  auto cek = aes_key_unwrap(*kek, wrapped);
  cleanse(*kek);
  if (!cek) return fail(errc::decryption_failed, detail, "AES key unwrap failed (wrong key?)");
  return cek;
}

}  // namespace bbgw::xmlsec::xenc_detail

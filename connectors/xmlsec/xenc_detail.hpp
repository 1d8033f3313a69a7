#pragma once
// Internal to the XML Encryption files (encryption.cpp, key_transport.cpp, ecdh_es.cpp,
// aes_gcm.cpp, aes_key_wrap.cpp, aes_cbc.cpp, encrypted_key_builder.cpp): namespace URIs,
// OpenSSL look-ups by algorithm URI (base64 is detail::base64_* of internal.hpp). Not part of the
// library's interface.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <libxml/tree.h>
#include <openssl/evp.h>

#include "bbgw/result.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/errc.hpp"
#include "xmlsec/internal.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::xmlsec::xenc_detail {

inline constexpr std::string_view ns_xenc = "http://www.w3.org/2001/04/xmlenc#";
inline constexpr std::string_view ns_xenc11 = "http://www.w3.org/2009/xmlenc11#";
inline constexpr std::string_view ns_ds = "http://www.w3.org/2000/09/xmldsig#";
inline constexpr std::string_view ns_dsig11 = "http://www.w3.org/2009/xmldsig11#";

inline constexpr std::string_view type_element = "http://www.w3.org/2001/04/xmlenc#Element";
inline constexpr std::string_view type_encrypted_key =
    "http://www.w3.org/2001/04/xmlenc#EncryptedKey";
// URIs algorithms.hpp does not name (they are rarely used, but a peer may send them).
inline constexpr std::string_view sha224 = "http://www.w3.org/2001/04/xmldsig-more#sha224";
inline constexpr std::string_view mgf1_sha224 = "http://www.w3.org/2009/xmlenc11#mgf1sha224";
inline constexpr std::string_view aes192_cbc = "http://www.w3.org/2001/04/xmlenc#aes192-cbc";

inline constexpr std::size_t gcm_iv_bytes = 12;
inline constexpr std::size_t gcm_tag_bytes = 16;

// Sets the log-safe reason (never key bytes) and returns the error.
inline error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return make_error_code(e);
}

// A digest by its XML-DSig / XML-Enc URI (sha1, sha224, sha256, sha384, sha512), or nullptr.
EVP_MD const* digest_by_uri(std::string_view uri);
// The digest of an xenc11 MGF URI (mgf1sha1 … mgf1sha512), or nullptr.
EVP_MD const* mgf_digest_by_uri(std::string_view uri);
// Key bytes of kw-aes128/192/256, or 0.
std::size_t key_wrap_bytes(std::string_view uri);

struct content_cipher {
  bool gcm = false;
  std::size_t key_bytes = 0;
};
// aes128/192/256-gcm and aes128/192/256-cbc, or nullopt for anything else.
std::optional<content_cipher> content_cipher_by_uri(std::string_view uri);

// RSA key transport (key_transport.cpp): reads EncryptionMethod's parameters, checks them
// against the policy and the key's size, then decrypts.
result<std::string> rsa_decrypt_key(xmlNodePtr encryption_method, std::string_view method,
                                    std::string_view cipher_value, key const& recipient,
                                    algorithm_policy const& policy, std::string* detail);

// ECDH-ES + ConcatKDF + AES key wrap (ecdh_es.cpp): `agreement_method` is the
// xenc:AgreementMethod, `wrap_method` the EncryptedKey's kw-aes URI.
result<std::string> ecdh_es_unwrap(xmlNodePtr agreement_method, std::string_view wrap_method,
                                   std::string_view wrapped, key const& recipient,
                                   algorithm_policy const& policy, std::string* detail);

// RFC 3394 AES key wrap (aes_key_wrap.cpp). Unwrap failure (integrity check) → decryption_failed.
result<std::string> aes_key_unwrap(std::string_view kek, std::string_view wrapped);
result<std::string> aes_key_wrap(std::string_view kek, std::string_view plain_key);

// ConcatKDF of NIST SP 800-56A (ecdh_es.cpp), exposed for its unit test.
result<std::string> concat_kdf(EVP_MD const* md, std::string_view shared_secret,
                               std::string_view other_info, std::size_t out_bytes);

// XML Encryption CBC (aes_cbc.cpp): IV (16) ‖ ciphertext, XML-Enc padding (last octet = pad
// length 1..16; the other pad octets are arbitrary, as the spec allows).
result<std::string> aes_cbc_decrypt(std::string_view cek, std::string_view iv_ct,
                                    std::string* detail);

// Wipes a string holding key material.
void cleanse(std::string& s) noexcept;

}  // namespace bbgw::xmlsec::xenc_detail

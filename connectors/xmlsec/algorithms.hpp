#pragma once
// Algorithm identifiers and the allow-lists that decide which a message may use.
#include <string>
#include <string_view>
#include <vector>

namespace bbgw::xmlsec {

namespace uri {
// Canonicalisation and transforms
inline constexpr std::string_view exc_c14n = "http://www.w3.org/2001/10/xml-exc-c14n#";
inline constexpr std::string_view exc_c14n_comments =
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
inline constexpr std::string_view enveloped_signature =
    "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
inline constexpr std::string_view swa_content_signature =
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Signature-Transform";
inline constexpr std::string_view swa_complete_signature =
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Complete-Signature-Transform";
inline constexpr std::string_view swa_ciphertext =
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Ciphertext-Transform";
// Digests
inline constexpr std::string_view sha1 = "http://www.w3.org/2000/09/xmldsig#sha1";
inline constexpr std::string_view sha256 = "http://www.w3.org/2001/04/xmlenc#sha256";
inline constexpr std::string_view sha384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
inline constexpr std::string_view sha512 = "http://www.w3.org/2001/04/xmlenc#sha512";
// Signatures
inline constexpr std::string_view rsa_sha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
inline constexpr std::string_view rsa_sha256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
inline constexpr std::string_view rsa_sha384 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
inline constexpr std::string_view rsa_sha512 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
inline constexpr std::string_view rsa_pss_sha256 =
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1";
inline constexpr std::string_view rsa_pss_sha384 =
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1";
inline constexpr std::string_view rsa_pss_sha512 =
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1";
inline constexpr std::string_view ecdsa_sha256 =
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
inline constexpr std::string_view ecdsa_sha384 =
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
inline constexpr std::string_view ecdsa_sha512 =
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
inline constexpr std::string_view hmac_sha256 = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
// Content encryption
inline constexpr std::string_view aes128_gcm = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
inline constexpr std::string_view aes192_gcm = "http://www.w3.org/2009/xmlenc11#aes192-gcm";
inline constexpr std::string_view aes256_gcm = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
inline constexpr std::string_view aes128_cbc = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
inline constexpr std::string_view aes256_cbc = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
// Key transport, agreement, wrapping
inline constexpr std::string_view rsa_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";
inline constexpr std::string_view rsa_oaep_mgf1p = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
inline constexpr std::string_view rsa_oaep = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
inline constexpr std::string_view mgf1_sha1 = "http://www.w3.org/2009/xmlenc11#mgf1sha1";
inline constexpr std::string_view mgf1_sha256 = "http://www.w3.org/2009/xmlenc11#mgf1sha256";
inline constexpr std::string_view mgf1_sha384 = "http://www.w3.org/2009/xmlenc11#mgf1sha384";
inline constexpr std::string_view mgf1_sha512 = "http://www.w3.org/2009/xmlenc11#mgf1sha512";
inline constexpr std::string_view ecdh_es = "http://www.w3.org/2009/xmlenc11#ECDH-ES";
inline constexpr std::string_view concat_kdf = "http://www.w3.org/2009/xmlenc11#ConcatKDF";
inline constexpr std::string_view kw_aes128 = "http://www.w3.org/2001/04/xmlenc#kw-aes128";
inline constexpr std::string_view kw_aes192 = "http://www.w3.org/2001/04/xmlenc#kw-aes192";
inline constexpr std::string_view kw_aes256 = "http://www.w3.org/2001/04/xmlenc#kw-aes256";
}  // namespace uri

// What a message may use. Anything not listed is refused with errc::algorithm_not_allowed or
// errc::transform_not_allowed. HMAC signatures are never accepted, whatever the list says.
struct algorithm_policy {
  std::vector<std::string> signature_methods;
  std::vector<std::string> digest_methods;
  std::vector<std::string> c14n_methods;  // for SignedInfo
  std::vector<std::string> transforms;    // inside ds:Reference
  std::vector<std::string> data_encryption;
  std::vector<std::string> key_transport;  // incl. rsa-oaep MGF and digest URIs
  std::vector<std::string> key_agreement;  // ECDH-ES, ConcatKDF, kw-aes*
  int min_rsa_bits = 2048;
  int min_ec_bits = 256;

  bool allows(std::vector<std::string> const& list, std::string_view uri) const;

  // eIDAS crypto requirements: RSASSA-PSS and ECDSA with SHA-256/384/512 (and RSA PKCS#1 v1.5
  // SHA-256+ only when `allow_rsa_pkcs1`), digests SHA-256/384/512, SignedInfo and reference
  // c14n exc-c14n, transforms enveloped + exc-c14n, AES-GCM, rsa-oaep (xmlenc11, MGF1-SHA-256+)
  // and rsa-oaep-mgf1p with a SHA-256+ digest, ECDH-ES + ConcatKDF + kw-aes128/256.
  static algorithm_policy eidas(bool allow_rsa_pkcs1);
  // eDelivery AS4 profile 1.15, receiving: rsa-sha256/384/512, SHA-256+ digests, exc-c14n,
  // the SwA attachment transforms, AES-128-GCM (192/256 too), rsa-oaep (xmlenc11) with
  // MGF1-SHA-256 and rsa-oaep-mgf1p.
  static algorithm_policy as4_receive();
  // The old toolkits' test corpora: adds rsa-sha1, sha1, RSA-1024. Tests and explicitly
  // configured legacy profiles only.
  static algorithm_policy legacy(algorithm_policy base);
};

}  // namespace bbgw::xmlsec

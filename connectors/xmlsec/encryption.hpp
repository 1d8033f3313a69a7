#pragma once
// XML Encryption 1.1: the content-encryption key (CEK) is recovered with OpenSSL 3 (key
// transport rsa-oaep-mgf1p and xmlenc11 rsa-oaep with any MGF1 digest, key agreement ECDH-ES
// with ConcatKDF and AES key wrap) and the content is AES-GCM (IV ‖ ciphertext ‖ tag).
// Everything is checked against the policy's allow-lists first; CBC and rsa-1_5 are refused
// unless a (legacy) policy lists them.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <libxml/tree.h>

#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::xmlsec {

// xenc:EncryptedKey → the CEK, with the recipient's private key (RSA: key transport; EC: its
// ds:KeyInfo/xenc:AgreementMethod is ECDH-ES and the CipherValue is the wrapped key).
result<std::string> decrypt_key(xmlNodePtr encrypted_key, key const& recipient,
                                algorithm_policy const& policy, std::string* detail = nullptr);

// xenc:EncryptedData with an inline CipherValue → plaintext octets.
result<std::string> decrypt_data(xmlNodePtr encrypted_data, std::string_view cek,
                                 algorithm_policy const& policy, std::string* detail = nullptr);

// Replaces `wrapper` (e.g. saml:EncryptedAssertion holding xenc:EncryptedData, its
// xenc:EncryptedKey inside ds:KeyInfo or beside it) by the element it encrypts, parsed with
// the same hardening and limits, and returns that element. Its IDs are not registered yet.
result<xmlNodePtr> decrypt_element(document& doc, xmlNodePtr wrapper, key const& recipient,
                                   algorithm_policy const& policy, parse_limits const& limits,
                                   std::string* detail = nullptr);

// Streaming AES-GCM for large attachments: IV (12) ‖ ciphertext ‖ tag (16).
class gcm_decryptor {
 public:
  explicit gcm_decryptor(std::string_view cek);  // 16, 24 or 32 bytes
  ~gcm_decryptor();
  gcm_decryptor(gcm_decryptor const&) = delete;
  gcm_decryptor& operator=(gcm_decryptor const&) = delete;
  // Appends plaintext for the bytes given so far to `out` (the last 16 bytes are held back
  // as the possible tag).
  result<void> update(std::span<char const> in, std::string& out);
  // Checks the tag; on failure everything produced so far must be discarded.
  result<void> finish(std::string& out);

 private:
  struct impl;
  impl* impl_;
};

class gcm_encryptor {
 public:
  explicit gcm_encryptor(std::string_view cek);  // draws a fresh random IV
  ~gcm_encryptor();
  gcm_encryptor(gcm_encryptor const&) = delete;
  gcm_encryptor& operator=(gcm_encryptor const&) = delete;
  result<void> update(std::span<char const> in, std::string& out);  // first call emits the IV
  result<void> finish(std::string& out);                             // emits the tag

 private:
  struct impl;
  impl* impl_;
};

// One-shot helpers.
result<std::string> aes_gcm_encrypt(std::string_view cek, std::string_view plaintext);
result<std::string> aes_gcm_decrypt(std::string_view cek, std::string_view iv_ct_tag);
result<std::string> random_bytes(std::size_t n);

struct key_transport_spec {
  std::string method{uri::rsa_oaep};       // or rsa_oaep_mgf1p
  std::string digest_method{uri::sha256};  // OAEP digest
  std::string mgf{uri::mgf1_sha256};       // xmlenc11 rsa-oaep only
};

// RSA-OAEP encryption of a CEK for `recipient` (public key): the CipherValue octets.
result<std::string> encrypt_key(std::string_view cek, key const& recipient,
                                key_transport_spec const& spec);

// Builds an xenc:EncryptedKey element (EncryptionMethod with DigestMethod/MGF, CipherValue,
// optional ReferenceList of data ids) as a child of `parent`; KeyInfo is left to the caller.
result<xmlNodePtr> build_encrypted_key(xmlNodePtr parent, std::string_view cipher_value,
                                       key_transport_spec const& spec,
                                       std::span<std::string const> data_reference_ids = {});

}  // namespace bbgw::xmlsec

// Keys from PEM, DER certificates and PKCS#12, with the certificate views a KeyInfo needs.
#include "xmlsec/key.hpp"

#include <fstream>
#include <iterator>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "xmlsec/errc.hpp"

namespace bbgw::xmlsec {
namespace {

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

bio_ptr memory_bio(std::string_view bytes) {
  return bio_ptr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
}

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* k) {
  return {k, EVP_PKEY_free};
}
std::shared_ptr<X509> own(X509* c) {
  return {c, X509_free};
}

// Never prompts on a terminal: an encrypted key without a password simply fails to load.
int password_cb(char* buf, int size, int, void* u) {
  auto const* pw = static_cast<std::string_view const*>(u);
  if (pw == nullptr || pw->empty() || static_cast<int>(pw->size()) > size) return 0;
  pw->copy(buf, pw->size());
  return static_cast<int>(pw->size());
}

result<std::string> read_file(std::filesystem::path const& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error_code(errc::key_unusable);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string name_rfc2253(X509_NAME const* name) {
  if (name == nullptr) return {};
  bio_ptr bio(BIO_new(BIO_s_mem()), BIO_free);
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  return bio_string(bio.get());
}

}  // namespace

result<key> key::from_pem(std::string_view pem, std::string_view password) {
  {
    auto bio = memory_bio(pem);
    if (EVP_PKEY* k = PEM_read_bio_PrivateKey(bio.get(), nullptr, password_cb, &password)) {
      key out;
      out.pkey_ = own(k);
      out.private_ = true;
      return out;
    }
  }
  {
    auto bio = memory_bio(pem);
    if (X509* c = PEM_read_bio_X509(bio.get(), nullptr, password_cb, nullptr)) {
      key out;
      out.cert_ = own(c);
      EVP_PKEY* k = X509_get_pubkey(c);
      if (k == nullptr) return make_error_code(errc::key_unusable);
      out.pkey_ = own(k);
      return out;
    }
  }
  {
    auto bio = memory_bio(pem);
    if (EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, password_cb, nullptr)) {
      key out;
      out.pkey_ = own(k);
      return out;
    }
  }
  return make_error_code(errc::key_unusable);
}

result<key> key::from_pem_file(std::filesystem::path const& file, std::string_view password) {
  auto text = read_file(file);
  if (!text) return text.error();
  return from_pem(*text, password);
}

result<key> key::from_certificate_der(std::string_view der) {
  auto const* p = reinterpret_cast<unsigned char const*>(der.data());
  X509* c = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (c == nullptr) return make_error_code(errc::key_unusable);
  key out;
  out.cert_ = own(c);
  EVP_PKEY* k = X509_get_pubkey(c);
  if (k == nullptr) return make_error_code(errc::key_unusable);
  out.pkey_ = own(k);
  return out;
}

result<key> key::from_pkcs12_file(std::filesystem::path const& file, std::string_view password) {
  auto bytes = read_file(file);
  if (!bytes) return bytes.error();
  auto bio = memory_bio(*bytes);
  PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
  if (p12 == nullptr) return make_error_code(errc::key_unusable);
  std::string const pw(password);
  EVP_PKEY* k = nullptr;
  X509* c = nullptr;
  STACK_OF(X509)* ca = nullptr;
  int ok = PKCS12_parse(p12, pw.c_str(), &k, &c, &ca);
  PKCS12_free(p12);
  if (ca != nullptr) sk_X509_pop_free(ca, X509_free);
  if (ok != 1 || k == nullptr) {
    EVP_PKEY_free(k);
    X509_free(c);
    return make_error_code(errc::key_unusable);
  }
  key out;
  out.pkey_ = own(k);
  if (c != nullptr) out.cert_ = own(c);
  out.private_ = true;
  return out;
}

result<key> key::from_pem_pair(std::filesystem::path const& private_key,
                               std::filesystem::path const& certificate) {
  auto priv = from_pem_file(private_key);
  if (!priv) return priv.error();
  if (!priv->has_private()) return make_error_code(errc::key_unusable);
  auto cert = from_pem_file(certificate);
  if (!cert) return cert.error();
  if (cert->certificate() == nullptr) return make_error_code(errc::key_unusable);
  // The certificate must be the private key's own.
  if (EVP_PKEY_eq(priv->pkey(), cert->pkey()) != 1) return make_error_code(errc::key_unusable);
  priv->cert_ = cert->cert_;
  return priv;
}

key_family key::family() const noexcept {
  if (!pkey_) return key_family::other;
  switch (EVP_PKEY_get_base_id(pkey_.get())) {
    case EVP_PKEY_RSA:
      return key_family::rsa;
    case EVP_PKEY_RSA_PSS:
      return key_family::rsa_pss;
    case EVP_PKEY_EC:
      return key_family::ec;
    case EVP_PKEY_ED25519:
      return key_family::ed25519;
    case EVP_PKEY_X25519:
      return key_family::x25519;
    default:
      return key_family::other;
  }
}

int key::bits() const noexcept {
  return pkey_ ? EVP_PKEY_get_bits(pkey_.get()) : 0;
}

std::string key::curve() const {
  if (family() != key_family::ec) return {};
  char name[80] = {};
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey_.get(), name, sizeof name, &len) != 1) return {};
  return std::string(name, len);
}

std::string key::certificate_der() const {
  if (!cert_) return {};
  unsigned char* buf = nullptr;
  int n = i2d_X509(cert_.get(), &buf);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return out;
}

std::string key::certificate_pem() const {
  if (!cert_) return {};
  bio_ptr bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_X509(bio.get(), cert_.get());
  return bio_string(bio.get());
}

std::optional<std::string> key::subject_key_identifier() const {
  if (!cert_) return std::nullopt;
  ASN1_OCTET_STRING const* ski = X509_get0_subject_key_id(cert_.get());
  if (ski == nullptr) return std::nullopt;
  return std::string(reinterpret_cast<char const*>(ASN1_STRING_get0_data(ski)),
                     static_cast<std::size_t>(ASN1_STRING_length(ski)));
}

std::string key::issuer_name() const {
  return cert_ ? name_rfc2253(X509_get_issuer_name(cert_.get())) : std::string();
}

std::string key::subject_name() const {
  return cert_ ? name_rfc2253(X509_get_subject_name(cert_.get())) : std::string();
}

std::string key::serial_decimal() const {
  if (!cert_) return {};
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert_.get()), nullptr);
  if (bn == nullptr) return {};
  char* dec = BN_bn2dec(bn);
  std::string out = dec != nullptr ? dec : "";
  OPENSSL_free(dec);
  BN_free(bn);
  return out;
}

key key::public_only() const {
  key out;
  out.cert_ = cert_;
  if (!pkey_) return out;
  if (!private_) {
    out.pkey_ = pkey_;
    return out;
  }
  // Re-encode the public half so the private numbers are not reachable from the copy.
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(pkey_.get(), &der);
  if (n > 0) {
    unsigned char const* p = der;
    if (EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, n)) out.pkey_ = own(k);
    OPENSSL_free(der);
  }
  return out;
}

}  // namespace bbgw::xmlsec

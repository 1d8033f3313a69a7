#pragma once
// A public or private key (OpenSSL EVP_PKEY), with its X.509 certificate when it came with one.
// Cheap to copy (shared ownership). Keys come from configuration and metadata, never from a
// message's KeyInfo: a message may only *select* among keys the caller already trusts.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bbgw/result.hpp"

namespace bbgw::xmlsec {

enum class key_family { rsa, rsa_pss, ec, ed25519, x25519, other };

class key {
 public:
  // PEM: a private key (PKCS#8 or traditional), a public key, or a certificate.
  static result<key> from_pem(std::string_view pem, std::string_view password = {});
  static result<key> from_pem_file(std::filesystem::path const& file,
                                   std::string_view password = {});
  static result<key> from_certificate_der(std::string_view der);
  // PKCS#12 (.pfx/.p12): private key and certificate.
  static result<key> from_pkcs12_file(std::filesystem::path const& file,
                                      std::string_view password);
  // A private key file plus its certificate file (PEM both).
  static result<key> from_pem_pair(std::filesystem::path const& private_key,
                                   std::filesystem::path const& certificate);

  EVP_PKEY* pkey() const noexcept { return pkey_.get(); }
  X509* certificate() const noexcept { return cert_.get(); }
  bool has_private() const noexcept { return private_; }
  key_family family() const noexcept;
  int bits() const noexcept;
  // For EC keys the curve's short name ("prime256v1", "brainpoolP256r1", …); empty otherwise.
  std::string curve() const;

  // Certificate views (empty / nullopt without a certificate).
  std::string certificate_der() const;
  std::string certificate_pem() const;
  std::optional<std::string> subject_key_identifier() const;  // raw bytes of the extension
  std::string issuer_name() const;                            // RFC 2253
  std::string serial_decimal() const;
  std::string subject_name() const;  // RFC 2253
  // The public half only (what may be published, e.g. in metadata or a JWKS).
  key public_only() const;

 private:
  std::shared_ptr<EVP_PKEY> pkey_;
  std::shared_ptr<X509> cert_;
  bool private_ = false;
};

}  // namespace bbgw::xmlsec

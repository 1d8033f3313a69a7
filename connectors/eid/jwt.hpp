#pragma once
// ES256 JSON Web Tokens (RFC 7515/7519) signed with OpenSSL EVP: the ECDSA DER signature is
// converted to JOSE's raw r‖s (32 + 32 bytes). The public key is published as an EC P-256 JWK
// whose kid is its RFC 7638 thumbprint.
#include <memory>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <boost/json/object.hpp>

#include "bbgw/result.hpp"

namespace bbgw::eid {

class es256_signer {
 public:
  // Loads a P-256 private key (PEM); throws std::runtime_error (start-up only).
  static es256_signer from_pem_file(std::string const& path);
  static es256_signer from_pem(std::string_view pem);

  // header.payload.signature with {"alg":"ES256","typ":"JWT","kid":...}.
  result<std::string> sign(boost::json::object const& claims) const;
  // The public JWK: kty, crv, x, y, use=sig, alg=ES256, kid.
  boost::json::object jwk() const;
  std::string const& kid() const { return kid_; }

 private:
  explicit es256_signer(std::shared_ptr<EVP_PKEY> k);
  std::shared_ptr<EVP_PKEY> key_;
  std::string x_, y_, kid_;  // base64url coordinates and thumbprint
};

// DER ECDSA-Sig-Value → fixed-width r‖s (`width` bytes each); nothing when malformed.
result<std::string> ecdsa_der_to_raw(std::string_view der, std::size_t width);
// RFC 7638 thumbprint of an EC JWK (base64url SHA-256 of the canonical members).
std::string ec_thumbprint(std::string_view crv, std::string_view x, std::string_view y);

}  // namespace bbgw::eid

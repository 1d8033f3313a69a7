#pragma once
// The OpenSSL server context of a TLS listener: TLS 1.2 minimum (ECDHE + AEAD only), 1.3
// preferred, certificate chain and key from files, optional client-certificate verification.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "http/server.hpp"

typedef struct ssl_st SSL;

namespace bbgw::http {

// Throws std::runtime_error naming the listener and the file that failed (startup only).
// Messages carry OpenSSL's reason, never key material.
std::unique_ptr<boost::asio::ssl::context> make_tls_context(std::string_view listener,
                                                            tls_settings const& t);

// The verified client certificate of a finished handshake, if the peer sent one and it
// verified: subject in RFC 2253 form and DER bytes.
struct peer_certificate {
  std::string subject;
  std::string der;
};
std::optional<peer_certificate> verified_peer_certificate(SSL* ssl);

}  // namespace bbgw::http

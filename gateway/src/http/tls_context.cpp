#include "http/tls_context.hpp"

#include <fstream>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace bbgw::http {

namespace {

// OpenSSL's last error reason (library and reason strings only, no data).
std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

[[noreturn]] void fail(std::string_view listener, std::string_view what, std::string const& file,
                       std::string const& why) {
  throw std::runtime_error("listener \"" + std::string(listener) + "\": " + std::string(what) +
                           " \"" + file + "\": " + why);
}

void require_readable(std::string_view listener, std::string_view what, std::string const& file) {
  if (file.empty()) fail(listener, what, file, "not configured");
  std::ifstream in(file, std::ios::binary);
  if (!in) fail(listener, what, file, "cannot be opened");
}

// TLS 1.2 suites: forward secrecy (ECDHE) and AEAD only; TLS 1.3 suites are all AEAD.
constexpr char const* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

std::unique_ptr<boost::asio::ssl::context> make_tls_context(std::string_view listener,
                                                            tls_settings const& t) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  ERR_clear_error();

  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
                             SSL_OP_NO_RENEGOTIATION | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1)
    throw std::runtime_error("listener \"" + std::string(listener) +
                             "\": cipher list rejected: " + openssl_reason());
  SSL_CTX_set1_groups_list(c, "X25519:P-256:P-384");

  require_readable(listener, "certificate_file", t.certificate_file);
  if (SSL_CTX_use_certificate_chain_file(c, t.certificate_file.c_str()) != 1)
    fail(listener, "certificate_file", t.certificate_file, openssl_reason());
  require_readable(listener, "private_key_file", t.private_key_file);
  if (SSL_CTX_use_PrivateKey_file(c, t.private_key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    fail(listener, "private_key_file", t.private_key_file, openssl_reason());
  if (SSL_CTX_check_private_key(c) != 1)
    fail(listener, "private_key_file", t.private_key_file,
         "does not match the certificate: " + openssl_reason());

  // Session resumption with client verification needs a session id context.
  static constexpr unsigned char sid_ctx[] = "bbgw";
  SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);

  if (t.client_verify != client_auth::none) {
    require_readable(listener, "client_ca_file", t.client_ca_file);
    if (SSL_CTX_load_verify_locations(c, t.client_ca_file.c_str(), nullptr) != 1)
      fail(listener, "client_ca_file", t.client_ca_file, openssl_reason());
    // Tell clients which CAs we accept (certificate_authorities / CA names list).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(t.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(c, names);
    int mode = SSL_VERIFY_PEER;
    // `optional`: no certificate is fine, but a presented one must verify (OpenSSL fails the
    // handshake on a bad certificate whenever SSL_VERIFY_PEER is set on the server).
    if (t.client_verify == client_auth::required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(c, mode, nullptr);
    SSL_CTX_set_verify_depth(c, 4);
  }
  ERR_clear_error();
  return ctx;
}

std::optional<peer_certificate> verified_peer_certificate(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  peer_certificate out;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.subject.assign(data, static_cast<std::size_t>(n));
    BIO_free(bio);
  }
  int len = i2d_X509(cert, nullptr);
  if (len > 0) {
    out.der.resize(static_cast<std::size_t>(len));
    auto* p = reinterpret_cast<unsigned char*>(out.der.data());
    i2d_X509(cert, &p);
  }
  return out;
}

}  // namespace bbgw::http

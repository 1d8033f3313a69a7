#pragma once
// A throw-away PKI made at test run time with the OpenSSL 3 API (EC P-256 keys), written as
// PEM files into a temporary directory. Nothing here is committed as a key file.
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bbgw::testing {

// A directory under the system temp dir, removed with everything in it on destruction.
class temp_dir {
 public:
  temp_dir() {
    auto tmpl = (std::filesystem::temp_directory_path() / "bbgw-test-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(temp_dir const&) = delete;
  temp_dir& operator=(temp_dir const&) = delete;
  std::filesystem::path const& path() const { return path_; }
  std::string file(std::string const& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct pem_pair {
  std::string cert_file;
  std::string key_file;
};

class test_ca {
 public:
  // A self-signed CA "CN=<common_name>,O=BB Gateway Test".
  explicit test_ca(std::string const& common_name) : key_(new_key()), cert_(X509_new(), X509_free) {
    X509* c = cert_.get();
    init_cert(c, common_name, 3650);
    X509_set_issuer_name(c, X509_get_subject_name(c));
    X509_set_pubkey(c, key_.get());
    add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c, c, NID_subject_key_identifier, "hash");
    if (X509_sign(c, key_.get(), EVP_sha256()) <= 0) throw std::runtime_error("sign CA failed");
  }

  // Writes the CA certificate (and key) as <stem>.crt / <stem>.key.
  pem_pair write(std::filesystem::path const& dir, std::string const& stem) const {
    pem_pair out{(dir / (stem + ".crt")).string(), (dir / (stem + ".key")).string()};
    write_cert(out.cert_file, cert_.get());
    write_key(out.key_file, key_.get());
    return out;
  }

  // Issues a leaf "CN=<common_name>,O=BB Gateway Test" for TLS server use (SAN localhost and
  // 127.0.0.1) or client use, and writes <stem>.crt / <stem>.key.
  pem_pair issue(std::filesystem::path const& dir, std::string const& stem,
                 std::string const& common_name, bool server) const {
    auto key = new_key();
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    X509* c = cert.get();
    init_cert(c, common_name, 30);
    X509_set_issuer_name(c, X509_get_subject_name(cert_.get()));
    X509_set_pubkey(c, key.get());
    add_ext(cert_.get(), c, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert_.get(), c, NID_key_usage, "critical,digitalSignature");
    add_ext(cert_.get(), c, NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
    add_ext(cert_.get(), c, NID_authority_key_identifier, "keyid");
    if (server) add_ext(cert_.get(), c, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    if (X509_sign(c, key_.get(), EVP_sha256()) <= 0) throw std::runtime_error("sign leaf failed");
    pem_pair out{(dir / (stem + ".crt")).string(), (dir / (stem + ".key")).string()};
    write_cert(out.cert_file, c);
    write_key(out.key_file, key.get());
    return out;
  }

 private:
  using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

  static pkey_ptr new_key() {
    EVP_PKEY* k = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (!k) throw std::runtime_error("EC key generation failed");
    return pkey_ptr(k, EVP_PKEY_free);
  }

  static void init_cert(X509* c, std::string const& cn, long days) {
    X509_set_version(c, X509_VERSION_3);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;  // positive
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), days * 24 * 3600);
    X509_NAME* name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>("BB Gateway Test"), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<unsigned char const*>(cn.c_str()), -1, -1, 0);
  }

  static void add_ext(X509* issuer, X509* subject, int nid, char const* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, subject, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext) throw std::runtime_error(std::string("bad extension ") + value);
    X509_add_ext(subject, ext, -1);
    X509_EXTENSION_free(ext);
  }

  static void write_cert(std::string const& file, X509* c) {
    BIO* b = BIO_new_file(file.c_str(), "w");
    if (!b || PEM_write_bio_X509(b, c) != 1) {
      BIO_free(b);
      throw std::runtime_error("cannot write " + file);
    }
    BIO_free(b);
  }
  static void write_key(std::string const& file, EVP_PKEY* k) {
    BIO* b = BIO_new_file(file.c_str(), "w");
    if (!b || PEM_write_bio_PrivateKey(b, k, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      BIO_free(b);
      throw std::runtime_error("cannot write " + file);
    }
    BIO_free(b);
  }

  pkey_ptr key_;
  std::unique_ptr<X509, decltype(&X509_free)> cert_;
};

}  // namespace bbgw::testing

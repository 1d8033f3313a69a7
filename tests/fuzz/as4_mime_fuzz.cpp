// Fuzzes the whole receive of one AS4 HTTP body, as the eDelivery connector's receiving route
// meets it: MIME (multipart/related, boundary from the Content-Type or the first line), the
// hardened SOAP parse, eb:Messaging (model rules), WS-Security (decrypt with our key, signer
// selection, verify with cid: parts, coverage) and the payloads (PartInfo ↔ parts, gunzip).
//
// Input: the raw body. It is received three ways: as a raw MIME body (no Content-Type, the
// boundary from the first line), as multipart/related with the first line's boundary, and as
// application/soap+xml (SOAP-only); each from the body located in memory and read while it
// arrives (in pieces of a size the input's length chooses, as the receive route streams it).
//
// Invariants:
// - receive() never succeeds: the only trusted partner certificate is made here at start-up and
//   its private key never leaves this process, and a signature is required, so no input can be
//   an acceptable user message (nor a signal);
// - every refusal maps to an EBMS error of the table (EBMS:0001–0303 with a short description);
// - the in-memory MIME parser keeps its limits: part count, unique Content-IDs, a root part;
// - the MIME parser that reads while the body arrives (mime_stream) gives exactly the located
//   parser's outcome: the same error, or the same parts (headers and bytes), and reads the body
//   to its end.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/mime_stream.hpp"
#include "fuzz_check.hpp"
#include "support/piecewise_body.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/library.hpp"

namespace ed = bbgw::edelivery;
namespace xs = bbgw::xmlsec;

namespace {

struct fixture {
  xs::key own;      // our decryption key
  xs::key partner;  // the only trusted signer: a certificate whose key nobody else has
  ed::inbound_options options;
};

std::string der_of(X509* cert) {
  unsigned char* buf = nullptr;
  int n = i2d_X509(cert, &buf);
  FUZZ_CHECK(n > 0);
  std::string out(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return out;
}

std::string pem_of(EVP_PKEY* pk) {
  BIO* bio = BIO_new(BIO_s_mem());
  FUZZ_CHECK(PEM_write_bio_PrivateKey(bio, pk, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(n));
  BIO_free(bio);
  return out;
}

// A self-signed RSA-2048 certificate valid around the fixed receive time below.
std::string self_signed(EVP_PKEY* pk) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), -10L * 365 * 24 * 3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
  X509_set_pubkey(x, pk);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<unsigned char const*>("as4 fuzz partner"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  FUZZ_CHECK(X509_sign(x, pk, EVP_sha256()) > 0);
  auto der = der_of(x);
  X509_free(x);
  return der;
}

fixture const& the_fixture() {
  static fixture const f = [] {
    FUZZ_CHECK(xs::initialise());
    EVP_PKEY* own = EVP_RSA_gen(2048);
    EVP_PKEY* partner = EVP_RSA_gen(2048);
    FUZZ_CHECK(own && partner);
    auto own_key = xs::key::from_pem(pem_of(own));
    auto partner_cert = xs::key::from_certificate_der(self_signed(partner));
    EVP_PKEY_free(own);
    EVP_PKEY_free(partner);
    FUZZ_CHECK(own_key.has_value() && partner_cert.has_value());
    ed::inbound_options o;
    o.mime.max_total_bytes = 1 << 20;
    o.mime.max_parts = 8;
    o.xml.max_bytes = 256 * 1024;
    o.gunzip.max_output_bytes = 1 << 20;
    o.security.require_signature = true;
    return fixture{*own_key, *partner_cert, o};
  }();
  return f;
}

// The boundary a raw body announces on its first line ("--boundary"), if any.
std::string first_line_boundary(std::string_view body) {
  if (body.substr(0, 2) != "--") return {};
  auto eol = body.find_first_of("\r\n");
  auto b = body.substr(2, eol == std::string_view::npos ? std::string_view::npos : eol - 2);
  if (b.empty() || b.size() > 70 || b.find_first_of("\"\\") != std::string_view::npos) return {};
  return std::string(b);
}

void check_refusal(bbgw::error_code const& ec) {
  auto const& err = ed::ebms_error_for(ec);
  std::string_view code = err.code;
  FUZZ_CHECK(code.size() == 9 && code.substr(0, 5) == "EBMS:");
  FUZZ_CHECK(!std::string_view(err.short_description).empty());
}

// mime_stream over the body in pieces: the located parser's outcome exactly.
void same_as_streamed(std::string const& ct, std::string_view body, std::size_t piece,
                      ed::mime_limits const& limits,
                      bbgw::result<ed::mime_message> const& located) {
  bbgw::testing::piecewise_body in{std::string(body), piece};
  auto pull = [&](std::span<char> b) { return in.read(b); };
  // The smallest buffer the limits allow (the fuzzer's bodies are small): its end met often.
  auto stream = ed::mime_stream::open(ct, pull, limits, 1);
  std::vector<ed::mime_part> parts;
  bbgw::error_code error;
  if (!stream) error = stream.error();
  while (!error) {
    auto p = stream->next_part();
    if (!p) {
      error = p.error();
      break;
    }
    if (!*p) break;
    ed::mime_part part;
    part.content_id = (*p)->content_id;
    part.headers = (*p)->headers;
    auto n = stream->read_content([&](std::span<char const> b) -> bbgw::result<void> {
      part.content.append(b.data(), b.size());
      return {};
    });
    if (!n)
      error = n.error();
    else
      FUZZ_CHECK(*n == part.content.size());
    parts.push_back(std::move(part));
  }
  if (!error) {  // the root, as scan_multipart chooses it
    std::size_t root = 0;
    if (auto const& start = stream->start()) {
      root = parts.size();
      for (std::size_t i = 0; i < parts.size(); ++i)
        if (parts[i].content_id == *start) root = i;
    }
    ed::located_part r;
    if (root < parts.size())
      for (auto const& [k, v] : parts[root].headers)
        if (k == "content-type") r.content_type = v;
    if (root == parts.size() || !ed::is_soap_root(r)) error = ed::errc::mime_no_root;
  }
  if (!located) {
    FUZZ_CHECK(error == located.error());
    return;
  }
  FUZZ_CHECK(!error);
  FUZZ_CHECK(in.consumed() == body.size());
  FUZZ_CHECK(parts.size() == located->parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    FUZZ_CHECK(parts[i].content_id == located->parts[i].content_id);
    FUZZ_CHECK(parts[i].headers == located->parts[i].headers);
    FUZZ_CHECK(parts[i].content == located->parts[i].content);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const& fx = the_fixture();
  std::string_view const body(reinterpret_cast<char const*>(data), size);
  auto const now = std::chrono::system_clock::time_point(std::chrono::seconds(1795000000));
  std::span<xs::key const> partners(&fx.partner, 1);
  std::size_t const piece = 1 + size % 251;
  ed::security_selector select = [&](ed::messaging const&,
                                     std::string*) -> bbgw::result<ed::security_choice> {
    return ed::security_choice{partners, fx.options.security};
  };

  std::string content_types[3] = {"", "", "application/soap+xml; charset=UTF-8"};
  auto boundary = first_line_boundary(body);
  if (!boundary.empty())
    content_types[1] =
        "multipart/related; type=\"application/soap+xml\"; boundary=\"" + boundary + "\"";
  for (auto const& ct : content_types) {
    if (&ct == &content_types[1] && ct.empty()) continue;
    std::string detail;
    auto m = ed::receive(ct, body, fx.options, partners, &fx.own, now, &detail);
    FUZZ_CHECK(!m);
    check_refusal(m.error());
    bbgw::testing::piecewise_body streamed(std::string(body), piece);
    auto s = ed::receive(ct, streamed, fx.options, select, &fx.own, now, &detail);
    FUZZ_CHECK(!s);
    check_refusal(s.error());
  }

  if (!boundary.empty()) {
    auto parsed = ed::parse_multipart(content_types[1], body, fx.options.mime);
    if (parsed) {
      FUZZ_CHECK(!parsed->parts.empty());
      FUZZ_CHECK(parsed->parts.size() <= fx.options.mime.max_parts);
      FUZZ_CHECK(parsed->root < parsed->parts.size());
      std::set<std::string> ids;
      for (auto const& p : parsed->parts)
        if (!p.content_id.empty()) FUZZ_CHECK(ids.insert(p.content_id).second);
    }
    same_as_streamed(content_types[1], body, piece, fx.options.mime, parsed);
    // With a small header window too: a buffer of ~2.4 KiB, within the fuzzer's body sizes.
    ed::mime_limits small = fx.options.mime;
    small.max_header_bytes = 64;
    same_as_streamed(content_types[1], body, piece, small,
                     ed::parse_multipart(content_types[1], body, small));
  }
  return 0;
}

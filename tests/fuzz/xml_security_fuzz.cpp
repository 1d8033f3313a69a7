// Fuzzes connectors/xmlsec on hostile XML, as the eID and eDelivery connectors meet it: the
// hardened parser, ID registration, text reads, signature verification and decryption.
//
// Invariants:
// - parse never accepts a DOCTYPE, and an accepted document respects the depth limit;
// - IDs: after a successful registration every registered value resolves to its element;
// - verify() never succeeds: the trusted key is made here at start-up and its private half never
//   leaves this process, so no input can carry a valid signature by it;
// - decrypt_element() never succeeds either (no input can hold a key wrapped for our key pair
//   that the fuzzer could have produced), and a refused decryption leaves the document as it was.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "fuzz_check.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/document.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/library.hpp"
#include "xmlsec/signature.hpp"

namespace xs = bbgw::xmlsec;

namespace {

constexpr std::string_view ds_ns = "http://www.w3.org/2000/09/xmldsig#";
constexpr std::string_view wsu_ns =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
constexpr std::string_view saml_ns = "urn:oasis:names:tc:SAML:2.0:assertion";

struct fixture {
  xs::key key;
  xs::algorithm_policy eidas = xs::algorithm_policy::eidas(true);
  xs::algorithm_policy as4 = xs::algorithm_policy::as4_receive();
};

fixture const& the_fixture() {
  static fixture const f = [] {
    FUZZ_CHECK(xs::initialise());
    EVP_PKEY* pk = EVP_RSA_gen(2048);
    FUZZ_CHECK(pk != nullptr);
    BIO* bio = BIO_new(BIO_s_mem());
    FUZZ_CHECK(PEM_write_bio_PrivateKey(bio, pk, nullptr, nullptr, 0, nullptr, nullptr) == 1);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    auto k = xs::key::from_pem(std::string_view(data, static_cast<std::size_t>(n)));
    BIO_free(bio);
    EVP_PKEY_free(pk);
    FUZZ_CHECK(k.has_value());
    return fixture{*k};
  }();
  return f;
}

void walk(xmlNodePtr n, unsigned depth, unsigned& max_depth, std::vector<xmlNodePtr>& elements) {
  for (; n; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    if (depth > max_depth) max_depth = depth;
    elements.push_back(n);
    walk(n->children, depth + 1, max_depth, elements);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto const& fx = the_fixture();
  std::string_view const input(reinterpret_cast<char const*>(data), size);

  xs::parse_limits limits;
  limits.max_bytes = 64 * 1024;
  limits.max_depth = 24;
  limits.max_nodes = 4000;
  auto doc = xs::document::parse(input, limits);
  if (!doc) return 0;
  FUZZ_CHECK(doc->get()->intSubset == nullptr && doc->get()->extSubset == nullptr);

  std::vector<xmlNodePtr> elements;
  unsigned depth = 0;
  walk(doc->root(), 1, depth, elements);
  FUZZ_CHECK(depth <= limits.max_depth);

  xs::id_attribute const ids[] = {{"", "ID"}, {"", "Id"}, {wsu_ns, "Id"}};
  if (doc->register_ids(ids)) {
    for (auto* e : elements)
      for (auto const& id : ids) {
        auto v = id.ns.empty() ? xs::attribute(e, id.name) : xs::attribute_ns(e, id.ns, id.name);
        if (v) FUZZ_CHECK(doc->find_id(*v) == e);
      }
  }
  for (auto* e : elements) (void)xs::text_of(e);

  std::string detail;
  for (auto* e : elements) {
    if (xs::is(e, ds_ns, "Signature")) {
      for (auto const* policy : {&fx.eidas, &fx.as4}) {
        xs::verify_options opt;
        opt.policy = policy;
        opt.detail = &detail;
        auto v = xs::verify(*doc, e, {&fx.key, 1}, opt);
        FUZZ_CHECK(!v);
      }
    }
  }
  for (auto* e : elements) {
    if (xs::is(e, saml_ns, "EncryptedAssertion")) {
      std::string const before = doc->serialise();
      auto d = xs::decrypt_element(*doc, e, fx.key, fx.eidas, limits, &detail);
      FUZZ_CHECK(!d);
      FUZZ_CHECK(doc->serialise() == before);
      break;  // the element list is stale once a document could have changed
    }
  }
  return 0;
}

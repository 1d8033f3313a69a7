// initialise(): once and thread-safe; the process-wide hooks it installs refuse every external
// load; the cid: resolver answers each thread from its own message only.
#include "xmlsec/library.hpp"

#include <atomic>
#include <thread>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "xmlsec/errc.hpp"
#include "xmlsec/signature.hpp"
#include "xsig_test_support.hpp"

namespace bbgw::xmlsec {
namespace {

using namespace xsig_testing;

TEST(library, initialise_is_idempotent_across_threads) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      if (initialise()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_TRUE(initialise());
}

TEST(library, external_entity_loader_refuses_files_and_network) {
  ASSERT_TRUE(initialise());
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  ASSERT_NE(ctxt, nullptr);
  auto const existing = (vectors() / "saml-unsigned.xml").string();
  EXPECT_EQ(xmlLoadExternalEntity(existing.c_str(), nullptr, ctxt), nullptr);
  EXPECT_EQ(xmlLoadExternalEntity("http://127.0.0.1:9/x.dtd", nullptr, ctxt), nullptr);
  xmlFreeParserCtxt(ctxt);
  // Even a caller that asks libxml2 for DTD loading and entity substitution gets nothing.
  std::string const xml = "<!DOCTYPE a SYSTEM '" + existing + "'><a/>";
  xmlDocPtr doc =
      xmlReadMemory(xml.data(), static_cast<int>(xml.size()), nullptr, nullptr,
                    XML_PARSE_DTDLOAD | XML_PARSE_NOENT | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc != nullptr) {
    EXPECT_EQ(doc->extSubset, nullptr);
    xmlFreeDoc(doc);
  }
}

class one_part final : public part_source {
 public:
  one_part(std::string id, std::string bytes) : id_(std::move(id)), bytes_(std::move(bytes)) {}
  result<std::unique_ptr<part_reader>> open(std::string_view id) const override {
    if (id != id_) return make_error_code(errc::part_not_found);
    struct reader final : part_reader {
      std::string_view rest;
      result<std::size_t> read(std::span<char> b) override {
        std::size_t n = std::min(b.size(), rest.size());
        rest.copy(b.data(), n);
        rest.remove_prefix(n);
        return n;
      }
    };
    auto r = std::make_unique<reader>();
    r->rest = bytes_;
    return std::unique_ptr<part_reader>(std::move(r));
  }

 private:
  std::string id_, bytes_;
};

// Two threads verify the same signed message at once, each with its own part source: one
// genuine, one tampered. The process-wide xmlsec callback must give each thread its own parts.
TEST(library, cid_resolver_is_per_thread) {
  auto k = key::from_pem_pair(vectors() / "rsa2048.key", vectors() / "rsa2048.crt");
  ASSERT_TRUE(k);
  one_part const genuine("p@x", std::string(20000, 'g'));
  one_part const tampered("p@x", std::string(20000, 't'));
  auto d = document::parse("<r ID='_r'/>");
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->register_ids(saml_id));
  sign_spec spec;
  spec.references = {{"cid:p@x", {std::string(uri::swa_content_signature)}}};
  auto sig = sign(*d, d->root(), nullptr, *k, spec, &genuine);
  ASSERT_TRUE(sig);
  std::string const xml = d->serialise();
  auto const policy = algorithm_policy::as4_receive();
  std::vector<key> trusted{k->public_only()};

  std::atomic<int> genuine_ok{0}, tampered_ok{0};
  auto run = [&](one_part const* parts, std::atomic<int>& ok) {
    for (int i = 0; i < 20; ++i) {
      auto doc = document::parse(xml);
      if (!doc) return;
      xmlNodePtr s = find(doc->root(), ns_ds, "Signature");
      if (verify(*doc, s, trusted, {.policy = &policy, .parts = parts})) ++ok;
    }
  };
  std::thread a(run, &genuine, std::ref(genuine_ok));
  std::thread b(run, &tampered, std::ref(tampered_ok));
  a.join();
  b.join();
  EXPECT_EQ(genuine_ok.load(), 20);
  EXPECT_EQ(tampered_ok.load(), 0);
}

}  // namespace
}  // namespace bbgw::xmlsec

// eID ACS throughput: a signed Response with a signed, encrypted Assertion through
// saml_sp::acs — the handler of POST /eid/acs (form decoding, base64, all 18 ACS rules with the
// eidas() algorithm policy, the one-time request store and the replay cache) — in two key
// configurations:
//   rsa2048: rsa-sha256 signatures (Response + Assertion), rsa-oaep-mgf1p (SHA-256 digest),
//            AES-256-GCM;
//   p256:    ecdsa-sha256 signatures, ECDH-ES + ConcatKDF(SHA-256) + kw-aes256, AES-256-GCM.
// The Responses, keys and signed node metadata come from bench/acs_peers.py gen (python3-
// cryptography + libxmlsec1), in $BBGW_ACS_DIR or, when unset, a fresh temp dir.
//
// What is amortised over iterations (as in the running gateway): the saml_sp (its keys, the
// compiled XSDs, the node metadata, read once at start). Per iteration nothing is cached: the
// whole Response is decoded, parsed, validated, verified and decrypted again. The clock is
// injected (set to the generation time) so the same Response stays valid; the store is the
// in-memory one of tests/support (SQLite is not measured), and after each accepted Response the
// Assertion ID is erased from the replay cache so the next iteration is not a replay (that erase
// is inside the timed loop; it is a map erase).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bbgw/connector_context.hpp"
#include "bbgw/event_sink.hpp"
#include "bbgw/http_client.hpp"
#include "bench_support.hpp"
#include "eid/acs_rules.hpp"
#include "eid/codec.hpp"
#include "eid/config.hpp"
#include "eid/login.hpp"
#include "eid/node_metadata.hpp"
#include "eid/saml_sp.hpp"
#include "support/fakes.hpp"
#include "support/memory_store.hpp"
#include "xmlsec/algorithms.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/schema_set.hpp"

namespace {

namespace fs = std::filesystem;
using namespace bbgw;

std::string read_file(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The test data: $BBGW_ACS_DIR, or made once per process by acs_peers.py gen.
struct data_dir {
  fs::path dir;
  sys_time generated{};
  std::map<std::string, std::string> assertion_ids;  // file → Assertion ID

  data_dir() {
    if (auto const* d = std::getenv("BBGW_ACS_DIR"); d && *d) {
      dir = d;
    } else {
      dir = fs::temp_directory_path() / ("bbgw-acs-bench-" + std::to_string(::getpid()));
      auto cmd = "/usr/bin/python3 " BBGW_SOURCE_DIR "/bench/acs_peers.py gen " + dir.string();
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    }
    std::istringstream in(read_file(dir / "params.txt"));
    std::string word;
    while (in >> word) {
      if (word == "now_unix") {
        long long t = 0;
        in >> t;
        generated = sys_time{std::chrono::seconds{t}};
      } else if (word == "assertion") {
        std::string file, id;
        in >> file >> id;
        assertion_ids[file] = id;
      }
    }
  }
  static data_dir const& get() {
    static data_dir d;
    return d;
  }
};

// Keeps the last warning's fields (a refusal's rule and detail) for the error message; logs
// nothing else, so logging is not what is measured.
struct last_warning final : logger {
  std::string text;
  void log(log_level level, std::string_view m, std::initializer_list<log_field> fields) override {
    if (level < log_level::warn) return;
    text = std::string(m);
    for (auto const& f : fields) text += " " + std::string(f.key) + "=" + f.value;
  }
  bool enabled(log_level level) const override { return level >= log_level::warn; }
};

struct null_sink final : event_sink {
  result<void> publish(cloud_event const&) override { return {}; }
  result<void> publish(std::span<cloud_event const>) override { return {}; }
};
struct no_http final : http_client {
  result<client_response> send(client_request const&) override {
    return boost::system::errc::make_error_code(boost::system::errc::not_supported);
  }
};

// The same pending login as the route's fixture stores; the rules read it back per Response.
eid::pending_login bench_login(sys_time issued) {
  eid::pending_login pl;
  pl.request_id = "_bench-request-0001";
  pl.client_id = "web";
  pl.redirect_uri = "https://app.example/cb";
  pl.state = "s";
  pl.nonce = "n";
  pl.scopes = {"openid", "profile"};
  pl.loa = "http://eidas.europa.eu/LoA/substantial";
  pl.attributes = {{"http://eidas.europa.eu/attributes/naturalperson/PersonIdentifier", true},
                   {"http://eidas.europa.eu/attributes/naturalperson/CurrentFamilyName", true},
                   {"http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName", true},
                   {"http://eidas.europa.eu/attributes/naturalperson/DateOfBirth", true}};
  pl.issued = issued;
  return pl;
}

// One SP as the gateway builds it, for the node key type `kind` ("rsa" or "p256").
struct acs_fixture {
  data_dir const& data = data_dir::get();
  testing::manual_clock clock{data.generated};
  testing::memory_store db{clock};
  null_sink sink;
  bench::null_metrics stats;
  last_warning log;
  no_http http;
  connector_context ctx{db, sink, clock, stats, log, http, "https://gw.example"};
  eid::eid_config cfg;
  std::unique_ptr<eid::saml_sp> sp;
  request req;
  std::string assertion_id;
  std::string accepted_subject, refused_rule;

  acs_fixture(std::string const& kind, std::string const& file) {
    auto f = [&](std::string const& n) { return (data.dir / n).string(); };
    cfg.schemas_dir = BBGW_SOURCE_DIR "/schemas/xsd";
    cfg.sp.signing_key = f("sp-sign.key");
    cfg.sp.signing_cert = f("sp-sign.crt");
    cfg.sp.encryption_key = f("sp-enc-" + kind + ".key");
    cfg.sp.encryption_cert = f("sp-enc-" + kind + ".crt");
    cfg.node.metadata_file = f("node-" + kind + "-metadata.xml");
    cfg.node.trust_anchor = f("node-" + kind + ".crt");
    eid::apply_base_url(cfg, "https://gw.example");
    sp = std::make_unique<eid::saml_sp>(cfg, ctx);
    sp->on_result(
        [this](std::string_view, eid::identity const& who, std::string const&) {
          accepted_subject = who.person_identifier;
          return response::text(302, "", "text/plain");
        },
        [this](std::string_view, std::string_view rule, std::string_view, std::string const&) {
          refused_rule = rule;
          return response::text(403, "", "text/plain");
        });
    // The pending login the Response answers (InResponseTo), as /oidc/authorize stores it.
    auto pl = bench_login(data.generated);
    auto json = pl.to_json();
    auto put = db.transact([&](unit_of_work& u) {
      return u.put(eid::requests_ns, pl.request_id, json, data.generated + std::chrono::hours(1));
    });
    if (!put) throw std::runtime_error("store");
    // The browser's POST, form-encoded as the node's auto-submitting form sends it.
    req.method = "POST";
    req.target = req.path = "/eid/acs";
    req.headers.set("Content-Type", "application/x-www-form-urlencoded");
    req.body = "SAMLResponse=" + form_escape(eid::base64_encode(read_file(data.dir / file)));
    req.request_id = "bench";
    assertion_id = data.assertion_ids.at(file);
  }

  static std::string form_escape(std::string const& b64) {
    std::string out;
    for (char ch : b64) {
      if (ch == '+')
        out += "%2B";
      else if (ch == '/')
        out += "%2F";
      else if (ch == '=')
        out += "%3D";
      else
        out += ch;
    }
    return out;
  }

  // One POST /eid/acs; true when accepted. The replay record is erased for the next round.
  bool once() {
    accepted_subject.clear();
    auto r = sp->acs(req);
    benchmark::DoNotOptimize(r);
    auto erased = db.transact([&](unit_of_work& u) -> result<void> {
      auto e = u.erase(eid::assertions_ns, assertion_id);
      if (!e) return e.error();
      return {};
    });
    return erased && !accepted_subject.empty();
  }
  std::string why_refused() const { return log.text; }
};

// run_acs_rules, the core of saml_sp::acs, with what saml_sp builds at start (eidas(true)
// policy, node metadata through parse_node_metadata, SP decryption key, the same schema files),
// and the request store / replay cache lambdas as saml_sp::acs writes them, over the in-memory
// store. Not measured here: the form/base64 decoding and metrics of saml_sp::acs.
struct rules_fixture {
  data_dir const& data = data_dir::get();
  testing::manual_clock clock{data.generated};
  testing::memory_store db{clock};
  eid::eid_config cfg;
  xmlsec::algorithm_policy policy = xmlsec::algorithm_policy::eidas(true);
  std::optional<xmlsec::schema_set> schemas;
  std::optional<eid::node_metadata> node;
  std::optional<xmlsec::key> decryption_key;
  std::string xml, assertion_id, refused;

  rules_fixture(std::string const& kind, std::string const& file) {
    auto f = [&](std::string const& n) { return (data.dir / n).string(); };
    eid::apply_base_url(cfg, "https://gw.example");
    fs::path dir = BBGW_SOURCE_DIR "/schemas/xsd";
    std::vector<fs::path> files{
        dir / "saml/saml-schema-protocol-2.0.xsd", dir / "saml/saml-schema-assertion-2.0.xsd",
        dir / "saml/xmldsig-core-schema.xsd",      dir / "saml/xenc-schema.xsd",
        dir / "saml/xenc-schema-11.xsd",           dir / "eidas/saml_eidas_extension.xsd"};
    std::string why;
    auto s = xmlsec::schema_set::load(files, &why);
    if (!s) throw std::runtime_error("schemas: " + why);
    schemas.emplace(std::move(*s));
    auto anchor = xmlsec::key::from_pem_file(f("node-" + kind + ".crt"));
    if (!anchor) throw std::runtime_error("trust anchor");
    auto m = eid::parse_node_metadata(read_file(f("node-" + kind + "-metadata.xml")), *anchor,
                                      policy, data.generated, &why);
    if (!m) throw std::runtime_error("node metadata: " + why);
    node.emplace(std::move(*m));
    auto k = xmlsec::key::from_pem_pair(f("sp-enc-" + kind + ".key"), f("sp-enc-" + kind + ".crt"));
    if (!k) throw std::runtime_error("SP encryption key");
    decryption_key.emplace(std::move(*k));
    auto pl = bench_login(data.generated);
    auto json = pl.to_json();
    if (!db.transact([&](unit_of_work& u) {
          return u.put(eid::requests_ns, pl.request_id, json,
                       data.generated + std::chrono::hours(1));
        }))
      throw std::runtime_error("store");
    xml = read_file(data.dir / file);
    assertion_id = data.assertion_ids.at(file);
  }

  bool once() {
    eid::acs_context c;
    c.xml = xml;
    c.cfg = &cfg;
    c.node = &*node;
    c.schemas = &*schemas;
    c.policy = &policy;
    c.decryption_key = &*decryption_key;
    c.now = clock.now();
    c.find_request = [&](std::string const& id) -> std::optional<eid::pending_login> {
      auto rec = db.get(eid::requests_ns, id);
      if (!rec || !*rec) return std::nullopt;
      return eid::pending_login::from_json(**rec);
    };
    c.remember_assertion = [&](std::string const& id, sys_time until) -> result<bool> {
      bool fresh = false;
      auto t = db.transact([&](unit_of_work& u) -> result<void> {
        auto ins = u.insert(eid::assertions_ns, id, "1", until);
        if (!ins) return ins.error();
        fresh = *ins;
        return {};
      });
      if (!t) return result<bool>(boost::system::in_place_error, t.error());
      return fresh;
    };
    auto out = eid::run_acs_rules(c);
    benchmark::DoNotOptimize(c.who);
    if (!out.failed_rule.empty()) refused = std::string(out.failed_rule) + ": " + c.detail;
    auto erased = db.transact([&](unit_of_work& u) -> result<void> {
      auto e = u.erase(eid::assertions_ns, assertion_id);
      if (!e) return e.error();
      return {};
    });
    return erased && out.failed_rule.empty() && !c.who.person_identifier.empty();
  }
  std::string why_refused() const { return refused; }
};

template <class Fixture>
void run(benchmark::State& state, std::string const& kind, std::string const& file) {
  std::unique_ptr<Fixture> fx;
  try {
    fx = std::make_unique<Fixture>(kind, file);
  } catch (std::exception const& e) {
    state.SkipWithError(e.what());
    return;
  }
  if (!fx->once()) {  // must be accepted before it is measured
    state.SkipWithError(("refused: " + fx->why_refused()).c_str());
    return;
  }
  for (auto _ : state) {
    if (!fx->once()) {
      state.SkipWithError(("refused: " + fx->why_refused()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());  // items/s = Responses/s
}

}  // namespace

// Benchmarks (items/s = Responses/s):
//   BM_acs_route_{rsa2048,p256}: POST /eid/acs through saml_sp::acs;
//   BM_acs_rules_{rsa2048,p256}: run_acs_rules alone (no form decoding, base64, metrics).
// BBGW_ACS_ITERATIONS=N runs each exactly N times (for instruction counts with perf stat).
int main(int argc, char** argv) {
  struct spec {
    char const* name;
    void (*fn)(benchmark::State&);
  };
  spec const specs[] = {
      {"BM_acs_route_rsa2048", [](benchmark::State& s) { run<acs_fixture>(s, "rsa", "rsa.xml"); }},
      {"BM_acs_route_p256", [](benchmark::State& s) { run<acs_fixture>(s, "p256", "p256.xml"); }},
      {"BM_acs_rules_rsa2048",
       [](benchmark::State& s) { run<rules_fixture>(s, "rsa", "rsa.xml"); }},
      {"BM_acs_rules_p256", [](benchmark::State& s) { run<rules_fixture>(s, "p256", "p256.xml"); }},
  };
  char const* fixed = std::getenv("BBGW_ACS_ITERATIONS");
  for (auto const& sp : specs) {
    auto* b =
        benchmark::RegisterBenchmark(sp.name, sp.fn)->Unit(benchmark::kMicrosecond)->UseRealTime();
    if (fixed && *fixed) b->Iterations(std::atoll(fixed));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// eTranslation connector kernels on the callback and creation paths: decoding a callback's form
// body (UTF-8 Arabic/Greek, Latin-1), the Digest Authorization computation per upstream request
// (MD5 and SHA-256), and the cache key (normalise + SHA-256) computed per target on creation and
// on every successful text callback. The end-to-end figures (callbacks/s to durable event,
// cache-hit latency) come from bench/etranslation_e2e.sh: see bench/README.md, "eTranslation".
#include <string>

#include <benchmark/benchmark.h>

#include "etranslation/base64.hpp"
#include "etranslation/digest_auth.hpp"
#include "etranslation/form.hpp"
#include "etranslation/job.hpp"

namespace {

namespace et = bbgw::etranslation;

// What eTranslation POSTs to requesterCallback: ~60 words of Arabic, percent-encoded UTF-8.
std::string const arabic_callback =
    "request-id=8812345&target-language=AR&external-reference=3f6c0a52-d1e8-4b7f-9a2c-"
    "5e1d0b7a4c93&translated-text=" +
    [] {
      std::string word = "%D9%85%D9%83%D8%AA%D8%A8+%D8%A7%D9%84%D8%AA%D8%B3%D8%AC%D9%8A%D9%84+";
      std::string s;
      for (int i = 0; i < 30; ++i) s += word;
      return s;
    }();

std::string const greek_callback =
    "request-id=8812345&target-language=EL&external-reference=3f6c0a52-d1e8-4b7f-9a2c-"
    "5e1d0b7a4c93&translated-text=%CE%A0%CE%BF%CF%8D+%CE%B5%CE%AF%CE%BD%CE%B1%CE%B9+%CF%84%CE%BF+"
    "%CE%B3%CF%81%CE%B1%CF%86%CE%B5%CE%AF%CE%BF+%CE%B5%CE%B3%CE%B3%CF%81%CE%B1%CF%86%CE%AE%CF%82%"
    "3B";

std::string const latin1_callback =
    "request-id=8812347&target-language=FR&external-reference=3f6c0a52-d1e8-4b7f-9a2c-"
    "5e1d0b7a4c93&translated-text=O%F9+est+le+bureau+d%27%E9tat+civil+le+plus+proche+%3F";

void form(benchmark::State& state, std::string const& body, bool latin1) {
  for (auto _ : state) {
    et::form_params p;
    bool ok = et::parse_form(body, latin1, p);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(p);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
void BM_form_arabic(benchmark::State& s) {
  form(s, arabic_callback, false);
}
void BM_form_greek(benchmark::State& s) {
  form(s, greek_callback, false);
}
void BM_form_latin1(benchmark::State& s) {
  form(s, latin1_callback, true);
}
BENCHMARK(BM_form_arabic);
BENCHMARK(BM_form_greek);
BENCHMARK(BM_form_latin1);

// The document callback's body: base64 decoding of a 1 MiB document.
void BM_base64_decode_1MiB(benchmark::State& state) {
  std::string doc(1 << 20, '\0');
  for (std::size_t i = 0; i < doc.size(); ++i) doc[i] = static_cast<char>(i * 131 + 7);
  auto b64 = et::base64_encode(doc);
  for (auto _ : state) benchmark::DoNotOptimize(et::base64_decode(b64));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * b64.size()));
}
BENCHMARK(BM_base64_decode_1MiB);

// One Authorization header: H(A1), H(A2) and the response hash (three digests) plus formatting.
void digest(benchmark::State& state, et::digest_algorithm alg) {
  et::digest_challenge ch;
  ch.realm = "eTranslation";
  ch.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  ch.opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
  ch.algorithm = alg;
  ch.qop_auth = true;
  std::uint32_t nc = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(et::authorization(ch, "bb-gateway", "secret-password", "POST",
                                               "/etranslation/si/translate", ++nc,
                                               "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
void BM_digest_md5(benchmark::State& s) {
  digest(s, et::digest_algorithm::md5);
}
void BM_digest_sha256(benchmark::State& s) {
  digest(s, et::digest_algorithm::sha256);
}
BENCHMARK(BM_digest_md5);
BENCHMARK(BM_digest_sha256);

// The cache key of one target: whitespace normalisation + SHA-256, for a short sentence and for
// a text at the default max_text_chars (5000).
void cache(benchmark::State& state, std::string const& text) {
  for (auto _ : state)
    benchmark::DoNotOptimize(et::cache_key("etranslation", "EN", "ES", "GEN", text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
void BM_cache_key_sentence(benchmark::State& s) {
  cache(s, "  Where is the nearest   registration office?\n");
}
void BM_cache_key_5000(benchmark::State& s) {
  std::string t;
  while (t.size() < 5000) t += "Where is the nearest  registration office?\n ";
  t.resize(5000);
  cache(s, t);
}
BENCHMARK(BM_cache_key_sentence);
BENCHMARK(BM_cache_key_5000);

}  // namespace

BENCHMARK_MAIN();

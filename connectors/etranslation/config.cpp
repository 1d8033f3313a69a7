#include "etranslation/config.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include <boost/url/parse.hpp>

namespace bbgw::etranslation {

std::set<std::string> default_languages() {
  return {"BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "GA", "HR",
          "HU", "IT", "LT", "LV", "MT", "NL", "PL", "PT", "RO", "SK", "SL", "SV",
          "IS", "NB", "NN", "NO", "AR", "ZH", "JA", "RU", "UK", "TR", "KO", "HI",
          "FA", "SQ", "MK", "SR", "BS", "KA", "HY", "AZ", "SO", "TI", "PS", "UR"};
}

namespace {

bool is_url(std::string const& s) {
  auto u = boost::urls::parse_absolute_uri(s);
  return u && (u->scheme() == "http" || u->scheme() == "https") && !u->host().empty() &&
         !u->has_query() && !u->has_fragment() && !u->has_userinfo();
}

void strip_slash(std::string& s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
}

}  // namespace

std::string const& etranslation_config::backend_for(std::string const& source,
                                                    std::string const& target) const {
  auto it = pair_backends.find(source + "-" + target);
  return it == pair_backends.end() ? default_backend : it->second;
}

std::optional<etranslation_config> read_config(config_reader& r) {
  etranslation_config c;
  static constexpr char const* keys[] = {"base_url",
                                         "application",
                                         "password",
                                         "username",
                                         "tls",
                                         "callback_base_url",
                                         "callback_path_prefix",
                                         "request_timeout",
                                         "callback_timeout",
                                         "max_in_flight",
                                         "max_attempts",
                                         "retry_backoff_min",
                                         "retry_backoff_max",
                                         "max_text_chars",
                                         "max_document_size",
                                         "default_domain",
                                         "priority",
                                         "languages",
                                         "document_formats",
                                         "cache_ttl",
                                         "backend",
                                         "pair_backends",
                                         "apertium",
                                         "retention"};
  if (!r.boolean("enabled", false)) {
    for (auto k : keys) (void)r.raw(k);  // disabled: accepted, not validated
    return std::nullopt;
  }
  c.base_url = r.string("base_url", "");
  if (!c.base_url.empty() && !is_url(c.base_url))
    r.fail("base_url",
           "must be the http(s):// base URL of the eTranslation service "
           "(e.g. https://webgate.ec.europa.eu/etranslation/si)");
  strip_slash(c.base_url);
  static std::vector<std::string> const backends{"etranslation", "apertium", "auto", "fallback"};
  c.default_backend =
      r.choice("backend", c.base_url.empty() ? "apertium" : "etranslation", backends);
  bool needs_etranslation = c.default_backend == "etranslation" || c.default_backend == "fallback";
  for (auto const& [pair, backend] : r.string_map("pair_backends")) {
    auto up = pair;
    for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    bool shape = up.size() == 5 && up[2] == '-' &&
                 std::isalpha(static_cast<unsigned char>(up[0])) &&
                 std::isalpha(static_cast<unsigned char>(up[1])) &&
                 std::isalpha(static_cast<unsigned char>(up[3])) &&
                 std::isalpha(static_cast<unsigned char>(up[4]));
    if (!shape) r.fail("pair_backends", "'" + pair + "' is not a pair like en-es");
    if (std::find(backends.begin(), backends.end(), backend) == backends.end())
      r.fail("pair_backends", "'" + backend + "' (for " + pair +
                                  ") is not one of etranslation, apertium, auto, fallback");
    needs_etranslation = needs_etranslation || backend == "etranslation" || backend == "fallback";
    c.pair_backends[up] = backend;
  }
  if (needs_etranslation && c.base_url.empty())
    r.fail("base_url", "the eTranslation backend is selected but no base_url is set");
  c.application = r.string("application", "");
  c.password = r.secret("password", "");
  if (!c.base_url.empty()) {
    if (c.application.empty() || c.application.size() > 100 ||
        c.application.find_first_of(":\"\r\n") != std::string::npos)
      r.fail("application", "must be the eTranslation application name (the Digest user)");
    if (c.password.empty()) r.fail("password", "must be set (the Digest password)");
  }
  if (r.has("apertium")) {
    auto a = r.child("apertium");
    c.apertium.command = a.string("command", c.apertium.command);
    if (c.apertium.command.empty() || c.apertium.command.front() != '/')
      a.fail("command", "must be an absolute path (e.g. /usr/bin/apertium)");
    c.apertium.data_dir = a.string("data_dir", "");
    if (!c.apertium.data_dir.empty() && !std::filesystem::is_directory(c.apertium.data_dir))
      a.fail("data_dir", "no such directory: " + c.apertium.data_dir);
    c.apertium.timeout = a.duration("timeout", c.apertium.timeout, std::chrono::milliseconds(100));
    a.finish();
  } else {
    (void)r.raw("apertium");
  }
  c.username = r.string("username", "bbgw");
  if (c.username.empty() || c.username.size() > 100) r.fail("username", "must be 1..100 chars");
  if (r.has("tls")) {
    auto t = r.child("tls");
    c.ca_file = t.string("ca_file", "");
    if (!c.ca_file.empty() && !std::filesystem::is_regular_file(c.ca_file))
      t.fail("ca_file", "no such file: " + c.ca_file);
    t.finish();
  } else {
    (void)r.raw("tls");
  }
  c.callback_base_url = r.string("callback_base_url", "");
  if (!c.callback_base_url.empty() && !is_url(c.callback_base_url))
    r.fail("callback_base_url", "must be an http(s):// URL without query or fragment");
  strip_slash(c.callback_base_url);
  c.callback_path_prefix = r.path_prefix("callback_path_prefix", c.callback_path_prefix);
  c.request_timeout =
      r.duration("request_timeout", c.request_timeout, std::chrono::milliseconds(100));
  c.callback_timeout =
      r.duration("callback_timeout", c.callback_timeout, std::chrono::milliseconds(100));
  c.max_in_flight = r.integer("max_in_flight", c.max_in_flight, 1, 10000);
  c.max_attempts = r.integer("max_attempts", c.max_attempts, 1, 100);
  c.retry_backoff_min =
      r.duration("retry_backoff_min", c.retry_backoff_min, std::chrono::milliseconds(10));
  c.retry_backoff_max = r.duration("retry_backoff_max", c.retry_backoff_max);
  if (c.retry_backoff_max < c.retry_backoff_min)
    r.fail("retry_backoff_max", "must not be less than retry_backoff_min");
  c.max_text_chars = r.integer("max_text_chars", c.max_text_chars, 1, 10'000'000);
  c.max_document_bytes = r.size("max_document_size", c.max_document_bytes);
  if (c.max_document_bytes < 1 || c.max_document_bytes > 20ull * 1024 * 1024)
    r.fail("max_document_size", "must be between 1 byte and 20MiB (eTranslation's limit)");
  c.default_domain = r.string("default_domain", c.default_domain);
  if (c.default_domain.empty() || c.default_domain.size() > 32 ||
      !std::all_of(c.default_domain.begin(), c.default_domain.end(), [](char ch) {
        return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
      }))
    r.fail("default_domain", "must be an upper-case eTranslation domain such as GEN");
  c.priority = r.integer("priority", c.priority, 0, 10);
  auto langs = r.strings("languages", {});
  if (langs.empty()) {
    c.languages = default_languages();
  } else {
    for (auto l : langs) {
      if (l.size() != 2 || !std::isalpha(static_cast<unsigned char>(l[0])) ||
          !std::isalpha(static_cast<unsigned char>(l[1])))
        r.fail("languages", "'" + l + "' is not an ISO 639-1 code");
      for (auto& ch : l) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      c.languages.insert(l);
    }
  }
  auto formats = r.strings(
      "document_formats", {"txt", "html", "htm", "xml", "xhtml", "docx", "doc", "odt", "pdf", "xlf",
                           "xliff", "pptx", "xlsx", "odp", "ods", "rtf", "tmx"});
  for (auto f : formats) {
    for (auto& ch : f) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (f.empty() || f.size() > 10 || !std::all_of(f.begin(), f.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch));
        }))
      r.fail("document_formats", "'" + f + "' is not a file extension");
    c.document_formats.insert(f);
  }
  c.cache_ttl = r.duration("cache_ttl", c.cache_ttl);
  if (c.cache_ttl.count() < 0) r.fail("cache_ttl", "must not be negative");
  c.retention = r.duration("retention", c.retention);
  if (c.retention.count() < 0) r.fail("retention", "must not be negative (0 = keep forever)");
  return c;
}

}  // namespace bbgw::etranslation

#pragma once
// The typed config of connectors.etranslation, read and validated once at start-up.
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <map>

#include "bbgw/config_reader.hpp"
#include "etranslation/apertium.hpp"

namespace bbgw::etranslation {

struct etranslation_config {
  std::string base_url;     // e.g. https://webgate.ec.europa.eu/etranslation/si (no trailing /)
  std::string application;  // callerInformation.application and the Digest user name
  std::string password;     // the Digest password (secret)
  std::string username;     // callerInformation.username
  std::string ca_file;      // PEM bundle for https upstream; empty = system store
  // Base of the callback URLs given to eTranslation; empty = the gateway's public_base_url.
  std::string callback_base_url;
  std::string callback_path_prefix = "/etranslation/callback";
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds callback_timeout{600000};  // no callback by then: failed (timeout)
  std::int64_t max_in_flight = 4;                      // jobs submitted and not finished
  std::int64_t max_attempts = 5;                       // per job, for -20028 and transport errors
  std::chrono::milliseconds retry_backoff_min{1000};
  std::chrono::milliseconds retry_backoff_max{60000};
  std::int64_t max_text_chars = 5000;                      // code points
  std::uint64_t max_document_bytes = 20ull * 1024 * 1024;  // decoded; larger: 413
  std::string default_domain = "GEN";
  std::int64_t priority = 0;
  std::set<std::string> languages;         // upper-case ISO 639-1 codes accepted
  std::set<std::string> document_formats;  // lower-case extensions accepted
  // Text translations are kept this long and answer an identical request (same normalised
  // text, source, target, domain) without an upstream call; 0 = no cache.
  std::chrono::milliseconds cache_ttl{24 * 3600 * 1000};
  // Finished jobs, their translated texts and documents are erased this long after the job
  // finished (store expiry): texts written by or for migrants do not stay forever. 0 = keep.
  std::chrono::milliseconds retention{30ll * 24 * 3600 * 1000};
  // Which backend translates a pair: "etranslation", "apertium", "auto" (Apertium when it
  // has the pair installed, eTranslation otherwise) or "fallback" (eTranslation; Apertium
  // when eTranslation fails for a target and Apertium has the pair). Default: etranslation when
  // base_url is set, apertium otherwise (the embedded, account-free default).
  std::string default_backend = "apertium";
  std::map<std::string, std::string> pair_backends;  // "EN-ES" -> backend
  apertium_config apertium;

  bool etranslation_configured() const { return !base_url.empty(); }
  // The configured backend of a pair (upper-case codes), before "auto" is resolved.
  std::string const& backend_for(std::string const& source, std::string const& target) const;
};

// The languages accepted by default: the EU's 24 plus those eTranslation also offers.
std::set<std::string> default_languages();

// Reads connectors.etranslation; nothing when disabled. Throws config_error naming the bad key.
std::optional<etranslation_config> read_config(config_reader& r);

}  // namespace bbgw::etranslation

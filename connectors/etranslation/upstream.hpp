#pragma once
// The call to eTranslation's POST {base}/translate: the JSON body of the contract, Digest
// authentication (one more try after a first or stale challenge), and the integer answer mapped
// to accepted / retry later / failed.
#include <cstdint>
#include <optional>
#include <string>

#include "bbgw/http_client.hpp"
#include "etranslation/config.hpp"
#include "etranslation/digest_auth.hpp"
#include "etranslation/job.hpp"

namespace bbgw::etranslation {

struct callback_urls {
  std::string success;   // requesterCallback
  std::string error;     // errorCallback
  std::string document;  // destinations.httpDestinations[0] (document jobs)
};

// The JSON body for `j` (document jobs carry `document_base64`).
std::string build_request_body(etranslation_config const& cfg, job const& j,
                               callback_urls const& urls, std::string const& document_base64);

struct submit_outcome {
  enum kind_t { accepted, retry, failed } kind = failed;
  std::int64_t request_id = 0;             // accepted
  std::string reason;                      // retry / failed
  std::optional<std::int64_t> error_code;  // the upstream's negative code, if any
};

// Owned by the connector's submit thread (not thread-safe: one Digest session).
class upstream_client {
 public:
  upstream_client(etranslation_config const& cfg, http_client& http);
  submit_outcome submit(std::string const& body);

 private:
  etranslation_config const& cfg_;
  http_client& http_;
  std::string url_;
  std::string uri_;  // the request-target used in the Digest computation
  digest_session digest_;
};

}  // namespace bbgw::etranslation

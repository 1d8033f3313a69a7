#pragma once
// connectors.edelivery: our key, limits, storage, and the PModes (parties and their
// certificates, agreement, service/action, MEP, security, reliability, reporting).
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bbgw/config_reader.hpp"
#include "bbgw/http_client.hpp"
#include "edelivery/gzip.hpp"
#include "edelivery/mime.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::edelivery {

struct pmode_party {
  std::string party_id;
  std::string party_type;  // empty: the PartyId carries no type
  std::string role;
};

struct pmode {
  std::string id;
  std::string agreement;  // empty: the message must carry no AgreementRef
  std::string service;
  std::string service_type;
  std::string action;
  pmode_party initiator;  // eb:From
  pmode_party responder;  // eb:To (us)
  std::string mep = "one-way";
  std::string binding = "push";
  // security
  bool sign = true;
  bool encrypt = false;
  bool legacy_algorithms = false;  // rsa-sha1/sha1/RSA-1024: old test corpora only
  std::vector<xmlsec::key> partner_certificates;
  // sending: set on PModes where we are the initiator; the partner's certificate
  // (partner_certificates[0]) encrypts and verifies its receipts
  std::string endpoint;           // the partner's AS4 URL; empty = a receiving PMode
  std::optional<client_tls> tls;  // https endpoint: trust and optional client certificate
  // receiving: when set, a message for this PMode must arrive over a TLS connection whose
  // verified client certificate is one of these (DER; from PEM files), else EBMS:0101.
  std::vector<std::string> tls_client_certificates;
  // reliability
  std::chrono::milliseconds duplicate_window{std::chrono::hours(24 * 7)};
  int max_attempts = 5;
  std::chrono::milliseconds retry_interval{std::chrono::seconds(1)};  // doubled each time
  std::chrono::milliseconds retry_max{std::chrono::minutes(1)};
  // reporting
  bool receipt = true;
  bool report_errors = true;
  // sending: gzip of payloads (the profile makes it optional; a receiver accepts both).
  // auto: gzip unless the MIME type is already compressed (images, archives, audio/video, PDF)
  // or the first MiB does not shrink by compress_min_saving; gzip: always; none: never.
  std::string compression = "auto";
  int compression_level = 1;  // zlib 1 (fastest) … 9
};

// Retention of payload files (personal data) and the housekeeping sweep.
struct retention_config {
  // After a message reached a final state (received; delivered; failed; sent without a
  // receipt by agreement), its payload files are purged; 0 = kept forever.
  std::chrono::milliseconds payloads{std::chrono::hours(24 * 30)};
  std::chrono::milliseconds sweep_interval{std::chrono::hours(1)};
  // Temporary names (crash leftovers) younger than this are left alone: another instance
  // sharing payload_dir may still be writing them.
  std::chrono::milliseconds leftover_grace{std::chrono::minutes(15)};
};

struct edelivery_config {
  std::string path = "/edelivery/as4";
  std::size_t body_limit = 64 * 1024 * 1024;
  xmlsec::key own_key;
  std::string party_domain = "bbgw.local";  // right side of our message ids
  std::string payload_dir = "var/edelivery/payloads";
  std::string xsd_dir;  // schemas/xsd/ebms; empty = skip XSD validation
  mime_limits mime;
  gunzip_limits gunzip;
  std::size_t max_xml_bytes = 4 * 1024 * 1024;
  std::chrono::seconds timestamp_skew{60};          // wsu:Timestamp Created/Expires tolerance
  std::size_t max_submit_bytes = 16 * 1024 * 1024;  // POST /api/v1/edelivery/messages body
  // Messages in flight at once: each sending thread takes the next queued message and waits
  // for its receipt (an exchange is mostly waiting: the partner's processing and fsyncs).
  unsigned sending_threads = 4;
  retention_config retention;
  std::vector<pmode> pmodes;
};

// Reads connectors.edelivery (throws config_error naming the key); nothing when disabled.
std::optional<edelivery_config> read_config(config_reader& r);

}  // namespace bbgw::edelivery

#pragma once
// Pushing one built user message to a partner's AS4 endpoint with reception awareness: retries
// with exponential backoff on transport failures and 5xx answers until a receipt arrives or the
// attempts are spent (EBMS:0301 MissingReceipt); a receipt is verified with the partner's
// certificate and checked against the references we signed (EBMS:0302 InvalidReceipt); an
// eb:Error answer ends the exchange (EBMS:0202 DeliveryFailure, with the partner's code).
// Without receipts (PMode reporting.receipt: false, ebMS3 PMode[1].Security.SendReceipt false)
// reception awareness does not apply: a 2xx answer with no signal ends it (`sent`), only
// transport failures and 5xx are retried, and an eb:Error answer still fails it.
// Blocking: call it from a worker or the connector's own thread.
#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "bbgw/clock.hpp"
#include "bbgw/http_client.hpp"
#include "bbgw/result.hpp"
#include "edelivery/outbound.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::edelivery {

struct send_policy {
  int max_attempts = 5;
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds timeout{30000};
  std::optional<client_tls> tls;
  // Checked before each attempt: true stops with errc::internal ("cancelled"), the message
  // stays pending (shutdown).
  std::function<bool()> cancelled;
  // The partner took the message (an HTTP answer below 500 arrived), before its signal is
  // checked: called once, with the attempt number (the `sent` event).
  std::function<void(int attempt)> on_sent;
  bool expect_receipt = true;  // false: PMode reporting.receipt: false
  // A message sent while it is built: the first attempt pulls its body from `first_body`
  // (sent chunked), then `first_done` runs before the answer is looked at — it waits for the
  // build to end; its error ends the send (it sets the detail). Later attempts send the
  // finished `body_file` (at once after a 411 Length Required, which is not `sent`).
  body_reader* first_body = nullptr;
  std::function<result<void>()> first_done;
};

// Waits between attempts (injected: tests do not sleep).
using sleeper = std::function<void(std::chrono::milliseconds)>;

struct send_outcome {
  int attempts = 0;
  std::string receipt;     // the partner's signed receipt as received (non-repudiation)
  std::string receipt_id;  // its eb:MessageId; both empty without receipts
};

result<send_outcome> send_message(http_client& http, std::string const& url,
                                  outbound_message const& message, std::string const& message_id,
                                  std::span<xmlsec::key const> partner, clock const& time,
                                  send_policy const& policy, sleeper const& wait,
                                  std::string* detail = nullptr);

}  // namespace bbgw::edelivery

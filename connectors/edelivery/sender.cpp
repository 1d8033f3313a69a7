#include "edelivery/sender.hpp"

#include <algorithm>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"

namespace bbgw::edelivery {

namespace {

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

}  // namespace

result<send_outcome> send_message(http_client& http, std::string const& url,
                                  outbound_message const& message, std::string const& message_id,
                                  std::span<xmlsec::key const> partner, clock const& time,
                                  send_policy const& policy, sleeper const& wait,
                                  std::string* detail) {
  client_request req;
  req.method = "POST";
  req.url = url;
  req.headers.set("Content-Type", message.content_type);
  req.body = message.body;
  req.body_file = message.body_file;  // streamed from the file when built into one
  req.timeout = policy.timeout;
  req.tls = policy.tls;
  auto backoff = policy.backoff_initial;
  std::string last = "no attempt made";
  bool sent = false;
  // A 411 to the streamed first attempt is not a failed attempt: the file goes at once, and the
  // retries the policy allows are all still there (the request count, `attempt`, includes it).
  int limit = policy.max_attempts;
  bool file_now = false;
  for (int attempt = 1; attempt <= limit; ++attempt) {
    if (attempt > 1 && !file_now) {
      wait(backoff);
      backoff = std::min(backoff * 2, policy.backoff_max);
    }
    file_now = false;
    if (policy.cancelled && policy.cancelled()) return fail(errc::internal, detail, "cancelled");
    bool const streamed = attempt == 1 && policy.first_body;
    if (streamed) {
      req.body_stream = policy.first_body;
      req.body_file.clear();
    }
    auto res = http.send(req);
    if (streamed) {  // the message is whole (or failed) before its answer counts
      req.body_stream = nullptr;
      req.body_file = message.body_file;
      if (policy.first_done)
        if (auto built = policy.first_done(); !built) return built.error();
      // A partner (or a proxy) that takes no chunked body: the file, with its length, next.
      if (res && res->status == 411) {
        last = "HTTP 411 for a chunked body";
        file_now = true;
        ++limit;
        continue;
      }
    }
    if (!res) {
      last = "transport: " + res.error().message();
      continue;
    }
    if (res->status < 500 && !sent) {
      sent = true;
      if (policy.on_sent) policy.on_sent(attempt);
    }
    auto ct = std::string(res->headers.get("Content-Type").value_or(""));
    if (!policy.expect_receipt && res->body.empty()) {
      if (res->status >= 200 && res->status < 300) return send_outcome{attempt, {}, {}};
      if (res->status >= 500) {
        last = "HTTP " + std::to_string(res->status);
        continue;
      }
      return fail(errc::delivery_failed, detail,
                  "the partner refused it: HTTP " + std::to_string(res->status));
    }
    inbound_options options;
    std::string why;
    auto signal = receive(ct, res->body, options, partner, nullptr, time.now(), &why);
    if (!signal) {
      if (res->status >= 500) {  // the partner could not answer properly: try again
        last = "HTTP " + std::to_string(res->status);
        continue;
      }
      if (res->status >= 400)  // refused without a signal (e.g. its PMode reports no errors)
        return fail(
            errc::delivery_failed, detail,
            "the partner refused it: HTTP " + std::to_string(res->status) + " without a signal");
      return fail(errc::receipt_invalid, detail, "the answer is not a valid signal: " + why);
    }
    if (signal->ebms.signals.size() == 1 && signal->ebms.signals[0].kind == signal_kind::error) {
      auto const& errors = signal->ebms.signals[0].errors;
      return fail(errc::delivery_failed, detail,
                  "the partner refused it: " +
                      (errors.empty() ? std::string("eb:Error")
                                      : errors[0].error_code + " " + errors[0].detail));
    }
    if (auto ok = check_receipt(*signal, message_id, message.references, &why); !ok)
      return fail(errc::receipt_invalid, detail, why);
    return send_outcome{attempt, res->body, signal->ebms.signals[0].info.message_id};
  }
  return fail(errc::receipt_missing, detail,
              "no receipt after " + std::to_string(limit) + " attempts (" + last + ")");
}

}  // namespace bbgw::edelivery

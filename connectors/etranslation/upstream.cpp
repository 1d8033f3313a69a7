#include "etranslation/upstream.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include "etranslation/upstream_codes.hpp"

namespace bbgw::etranslation {

namespace json = boost::json;

std::string build_request_body(etranslation_config const& cfg, job const& j,
                               callback_urls const& urls, std::string const& document_base64) {
  json::array targets;
  for (auto const& t : j.targets)
    if (t.status == lang_status::pending && t.backend == "etranslation")
      targets.push_back(json::string(t.lang));
  json::object o;
  o["priority"] = cfg.priority;
  o["sourceLanguage"] = j.source;
  o["targetLanguages"] = std::move(targets);
  o["callerInformation"] =
      json::object{{"application", cfg.application}, {"username", cfg.username}};
  if (j.document) {
    o["documentToTranslateBase64"] = json::object{
        {"content", document_base64}, {"format", j.doc_format}, {"filename", j.doc_filename}};
    o["destinations"] =
        json::object{{"httpDestinations", json::array{json::string(urls.document)}}};
  } else {
    o["textToTranslate"] = j.text;
  }
  o["requesterCallback"] = urls.success;
  o["errorCallback"] = urls.error;
  o["externalReference"] = j.id;
  o["domain"] = j.domain;
  return json::serialize(o);
}

upstream_client::upstream_client(etranslation_config const& cfg, http_client& http)
    : cfg_(cfg),
      http_(http),
      url_(cfg.base_url + "/translate"),
      digest_(cfg.application, cfg.password) {
  auto u = boost::urls::parse_absolute_uri(url_);
  uri_ = u ? std::string(u->encoded_target()) : "/translate";
  if (uri_.empty()) uri_ = "/translate";
}

submit_outcome upstream_client::submit(std::string const& body) {
  submit_outcome out;
  // At most three sends: a pre-authorised one, and after each 401 that deserves it one more
  // (first challenge; a stale nonce).
  for (int attempt = 0; attempt < 3; ++attempt) {
    client_request req;
    req.method = "POST";
    req.url = url_;
    req.headers.set("Content-Type", "application/json");
    req.headers.set("Accept", "text/plain, application/json");
    if (auto a = digest_.next("POST", uri_)) req.headers.set("Authorization", std::move(*a));
    req.body = body;
    req.timeout = cfg_.request_timeout;
    if (!cfg_.ca_file.empty()) req.tls = client_tls{cfg_.ca_file, {}, {}};
    req.max_response_body = 64 * 1024;
    auto resp = http_.send(req);
    if (!resp) {
      out.kind = submit_outcome::retry;
      out.reason = "eTranslation unreachable: " + resp.error().message();
      return out;
    }
    if (resp->status == 401) {
      auto challenge = resp->headers.get("WWW-Authenticate");
      if (challenge && digest_.on_challenge(*challenge)) continue;
      out.kind = submit_outcome::failed;
      out.reason = challenge && parse_challenge(*challenge)
                       ? "eTranslation refused the Digest credentials of application '" +
                             cfg_.application + "'"
                       : "eTranslation answered 401 without a usable Digest challenge";
      return out;
    }
    if (resp->status >= 500 || resp->status == 429) {
      out.kind = submit_outcome::retry;
      out.reason = "eTranslation answered HTTP " + std::to_string(resp->status);
      return out;
    }
    auto answer = parse_answer(resp->body);
    if (resp->status / 100 != 2 || !answer) {
      out.kind = submit_outcome::failed;
      out.reason = "unexpected eTranslation answer: HTTP " + std::to_string(resp->status) +
                   (answer ? "" : ", body not an integer");
      return out;
    }
    if (answer->ok()) {
      out.kind = submit_outcome::accepted;
      out.request_id = answer->value;
      return out;
    }
    out.kind = is_retryable_code(answer->value) ? submit_outcome::retry : submit_outcome::failed;
    out.error_code = answer->value;
    out.reason = "eTranslation error " + describe_code(answer->value);
    return out;
  }
  out.kind = submit_outcome::failed;
  out.reason = "eTranslation kept challenging the Digest credentials";
  return out;
}

}  // namespace bbgw::etranslation

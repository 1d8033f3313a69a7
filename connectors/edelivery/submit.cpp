// The sending side of edelivery_connector: POST /api/v1/edelivery/messages stores the message
// (payload files, record, pending index) and its `submitted` event in one transaction and
// queues it; the sending thread builds (compress → sign → encrypt), pushes with retries, checks
// the receipt, and records `delivered` or `failed` (with the EBMS code) with its event.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/evp.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "edelivery/edelivery_connector.hpp"
#include "edelivery/message_event.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/outbound.hpp"
#include "edelivery/sender.hpp"
#include "edelivery/signals.hpp"

namespace bbgw::edelivery {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(std::string_view(reinterpret_cast<char*>(md), len));
}

std::optional<std::string> read_bytes(std::string const& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json::object party_json(pmode_party const& p) {
  json::object id{{"id", p.party_id}};
  if (!p.party_type.empty()) id["type"] = p.party_type;
  return {{"partyIds", json::array{id}}, {"role", p.role}};
}

std::string str(json::object const& o, std::string_view k) {
  auto const* v = o.if_contains(k);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Event data: the record without files, receipt or internal fields.
json::object event_data(json::object rec) {
  rec.erase("files");
  rec.erase("receipt");
  return rec;
}

cloud_event outbound_event(std::string_view type, json::object const& rec, sys_time now,
                           std::string const& request_id) {
  cloud_event ev;
  ev.id = new_event_id();
  ev.source = std::string(event_source);
  ev.type = std::string(type);
  ev.subject = str(rec, "messageId");
  ev.time = now;
  ev.dataschema = std::string(outbound_schema);
  auto conv = str(rec, "conversationId");
  ev.partitionkey = conv.empty() ? *ev.subject : conv;
  if (!request_id.empty()) ev.requestid = request_id;
  ev.data = event_data(rec);
  ev.family = std::string(event_family);
  return ev;
}

result<void> update_pending(unit_of_work& u, std::string const& id, bool add) {
  auto cur = u.get(pending_namespace, "ids");
  if (!cur) return cur.error();
  json::array ids;
  if (*cur) {
    boost::system::error_code ec;
    auto v = json::parse(**cur, ec);
    if (!ec && v.is_array()) ids = v.as_array();
  }
  json::array out;
  for (auto const& v : ids)
    if (v.is_string() && v.as_string() != id) out.push_back(v);
  if (add) out.push_back(json::value(id));
  return u.put(pending_namespace, "ids", json::serialize(out));
}

}  // namespace

void edelivery_connector::start() {
  // Messages submitted before a restart and not finished yet.
  if (auto cur = ctx_.db.get(pending_namespace, "ids"); cur && *cur) {
    boost::system::error_code ec;
    auto v = json::parse(**cur, ec);
    if (!ec && v.is_array()) {
      std::lock_guard lock(mutex_);
      for (auto const& id : v.as_array())
        if (id.is_string()) queue_.emplace_back(id.as_string());
    }
  }
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
      }
      send_next();
    }
  });
}

void edelivery_connector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

response edelivery_connector::submit(request const& req) {
  auto ct = content_type::parse(req.header("Content-Type").value_or(""));
  if (!ct || ct->media_type != "application/json")
    return response::problem(415, "Content-Type must be application/json");
  boost::system::error_code ec;
  auto v = json::parse(req.body, ec);
  if (ec || !v.is_object()) return response::problem(400, "the body is not a JSON object");
  auto const& o = v.as_object();
  auto pmode_id = str(o, "pmode");
  pmode const* p = nullptr;
  for (auto const& c : config_.pmodes)
    if (c.id == pmode_id && !c.endpoint.empty()) p = &c;
  if (!p) return response::problem(400, "`pmode` names no sending PMode (one with an endpoint)");
  auto const* payloads = o.if_contains("payloads");
  if (!payloads || !payloads->is_array() || payloads->as_array().empty() ||
      payloads->as_array().size() + 1 > config_.mime.max_parts)
    return response::problem(400, "`payloads` must be a non-empty array within max_parts");
  json::object properties;
  if (auto const* mp = o.if_contains("properties")) {
    if (!mp->is_object()) return response::problem(400, "`properties` must be an object");
    for (auto const& [k, val] : mp->as_object())
      if (!val.is_string()) return response::problem(400, "`properties` values must be strings");
    properties = mp->as_object();
  }
  auto conversation = str(o, "conversationId");
  auto message_id = new_message_id(config_.party_domain);
  auto now = ctx_.time.now();

  // Decode and write the payload files first (outside the transaction).
  auto dir = fs::path(config_.payload_dir) / "out" / sha256_hex(message_id);
  std::error_code fec;
  fs::create_directories(dir, fec);
  if (fec) return response::problem(503, "cannot write payloads");
  json::array descriptors, files;
  std::size_t n = 0;
  for (auto const& item : payloads->as_array()) {
    auto fail = [&](std::string_view why) {
      fs::remove_all(dir, fec);
      return response::problem(400, why);
    };
    if (!item.is_object()) return fail("every payload must be an object");
    auto const& po = item.as_object();
    auto mime_type = str(po, "mimeType");
    if (!content_type::parse(mime_type)) return fail("a payload has no valid `mimeType`");
    auto bytes = base64_decode(str(po, "contentBase64"));
    if (!bytes) return fail("a payload's `contentBase64` is not base64");
    auto part_id = str(po, "partId");
    if (part_id.empty()) part_id = "part" + std::to_string(n) + "@" + config_.party_domain;
    if (part_id.find_first_of("<>\" \r\n") != std::string::npos)
      return fail("a `partId` has characters a Content-ID cannot carry");
    auto file = dir / std::to_string(n);
    std::ofstream(file, std::ios::binary) << *bytes;
    descriptors.push_back(json::object{{"partId", part_id},
                                       {"mimeType", mime_type},
                                       {"size", bytes->size()},
                                       {"sha256", sha256_hex(*bytes)},
                                       {"href", std::string(api_base) + "/messages/" + message_id +
                                                    "/payloads/" + std::to_string(n)}});
    files.push_back(json::value(file.string()));
    ++n;
  }
  json::object rec{{"messageId", message_id},
                   {"direction", "outbound"},
                   {"status", "submitted"},
                   {"pmode", p->id},
                   {"conversationId", conversation},
                   {"from", party_json(p->initiator)},
                   {"to", party_json(p->responder)},
                   {"service", p->service},
                   {"action", p->action},
                   {"submittedAt", format_rfc3339(now)},
                   {"properties", properties},
                   {"payloads", descriptors},
                   {"files", files},
                   {"attempts", 0}};
  auto ev = outbound_event(submitted_type, rec, now, req.request_id);
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    if (auto r = u.put(message_namespace, message_id, json::serialize(rec)); !r) return r;
    if (auto r = update_pending(u, message_id, true); !r) return r;
    return u.emit(ev);
  });
  if (!tx) {
    fs::remove_all(dir, fec);
    return response::problem(503, "the store refused the message");
  }
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(message_id);
  }
  cv_.notify_all();
  auto res = response::json(
      202, json::object{{"messageId", message_id},
                        {"status", "submitted"},
                        {"status_url", std::string(api_base) + "/messages/" + message_id}});
  res.headers.set("Location", std::string(api_base) + "/messages/" + message_id);
  return res;
}

bool edelivery_connector::send_next() {
  std::string id;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return false;
    id = queue_.front();
    queue_.pop_front();
  }
  auto stored = ctx_.db.get(message_namespace, id);
  if (!stored || !*stored) return true;
  boost::system::error_code ec;
  auto v = json::parse(**stored, ec);
  if (ec || !v.is_object()) return true;
  auto rec = v.as_object();
  pmode const* p = nullptr;
  for (auto const& c : config_.pmodes)
    if (c.id == str(rec, "pmode") && !c.endpoint.empty()) p = &c;

  std::string detail;
  result<send_outcome> outcome = errc::pmode_mismatch;
  if (!p || p->partner_certificates.empty()) {
    detail = "the sending PMode is no longer configured";
  } else {
    outbound_spec spec;
    spec.header.info.timestamp = str(rec, "submittedAt");
    spec.header.info.message_id = id;
    spec.header.from = {{{p->initiator.party_type, p->initiator.party_id}}, p->initiator.role};
    spec.header.to = {{{p->responder.party_type, p->responder.party_id}}, p->responder.role};
    spec.header.agreement_ref = p->agreement;
    spec.header.service = p->service;
    spec.header.service_type = p->service_type;
    spec.header.action = p->action;
    spec.header.conversation_id = str(rec, "conversationId");
    if (auto const* props = rec.if_contains("properties"); props && props->is_object())
      for (auto const& [k, val] : props->as_object())
        spec.header.message_properties.push_back(
            {std::string(k), "", std::string(val.as_string())});
    auto const& files = rec.at("files").as_array();
    auto const& descs = rec.at("payloads").as_array();
    bool readable = true;
    for (std::size_t i = 0; i < files.size() && readable; ++i) {
      auto bytes = read_bytes(std::string(files[i].as_string()));
      if (!bytes) readable = false;
      auto const& d = descs[i].as_object();
      spec.payloads.push_back({str(d, "partId"), str(d, "mimeType"), bytes.value_or(""), true});
    }
    spec.signing_key = &config_.own_key;
    spec.recipient = &p->partner_certificates.front();
    auto built =
        readable ? build_user_message(spec, &detail) : result<outbound_message>(errc::internal);
    if (!readable) detail = "a payload file is missing";
    if (!built) {
      outcome = built.error();
    } else {
      send_policy policy;
      policy.max_attempts = p->max_attempts;
      policy.backoff_initial = p->retry_interval;
      policy.backoff_max = p->retry_max;
      policy.tls = p->tls;
      policy.cancelled = [this] {
        std::lock_guard lock(mutex_);
        return stopping_;
      };
      sleeper wait = [this](std::chrono::milliseconds d) {
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, d, [this] { return stopping_; });
      };
      outcome = send_message(ctx_.http, p->endpoint, *built, id,
                             std::span<xmlsec::key const>(&p->partner_certificates.front(), 1),
                             ctx_.time, policy, wait, &detail);
    }
  }
  if (!outcome && detail == "cancelled") return true;  // shutdown: stays pending

  auto now = ctx_.time.now();
  std::string_view type;
  if (outcome) {
    rec["status"] = "delivered";
    rec["attempts"] = outcome->attempts;
    rec["deliveredAt"] = format_rfc3339(now);
    rec["receipt"] = outcome->receipt;
    type = delivered_type;
  } else {
    auto const& err = ebms_error_for(outcome.error());
    rec["status"] = "failed";
    rec["ebmsCode"] = std::string(err.code);
    rec["reason"] = detail;
    type = failed_type;
  }
  auto ev = outbound_event(type, rec, now, "");
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    if (auto r = u.put(message_namespace, id, json::serialize(rec)); !r) return r;
    if (auto r = update_pending(u, id, false); !r) return r;
    return u.emit(ev);
  });
  if (!tx)
    ctx_.log.error("edelivery: cannot record a send outcome; it stays pending",
                   {{"status", str(rec, "status")}});
  return true;
}

}  // namespace bbgw::edelivery

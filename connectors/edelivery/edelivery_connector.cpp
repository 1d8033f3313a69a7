#include "edelivery/edelivery_connector.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <openssl/rand.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "edelivery/housekeeping.hpp"
#include "edelivery/inbound.hpp"
#include "edelivery/message_event.hpp"
#include "edelivery/pmode_match.hpp"
#include "edelivery/signals.hpp"

namespace bbgw::edelivery {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Reads what is left of a streamed body (bounded by the route's limit); an error ends it. Runs
// in a destructor, possibly while an exception unwinds: nothing may throw out of it.
void drain(bbgw::body_reader& body) noexcept {
  try {
    std::array<char, 64 * 1024> chunk;  // on the stack: no allocation to fail
    for (;;) {
      auto n = body.read(chunk);
      if (!n || *n == 0) return;
    }
  } catch (...) {  // the reader failed: the connection is closed without the rest
  }
}

response soap(unsigned status, std::string body) {
  response r;
  r.status = status;
  r.headers.set("Content-Type", "application/soap+xml; charset=UTF-8");
  r.body = std::move(body);
  return r;
}

// A fresh directory name for one received message's payloads (32 hex characters).
std::string random_dir_name() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return {};
  return hex(std::string_view(reinterpret_cast<char*>(b), sizeof b));
}

// PMode reporting (ebMS3 PMode[1].Security.SendReceipt, PMode[1].ErrorHandling.Report.AsResponse):
// a signal the matched PMode does not want on the back channel becomes an empty answer. The
// receipt is still built and kept (duplicates, non-repudiation).
response report_receipt(pmode const* p, response r) {
  if (!p || p->receipt) return r;
  response empty;
  empty.status = 202;
  return empty;
}
response report_error(pmode const* p, response r) {
  if (!p || p->report_errors) return r;
  response empty;
  empty.status = r.status == 200 ? 400 : r.status;
  return empty;
}

}  // namespace

edelivery_connector::edelivery_connector(edelivery_config config, connector_context& ctx)
    : config_(std::move(config)), ctx_(ctx), sync_dir_(sync_directory) {
  if (!config_.xsd_dir.empty()) {
    std::string detail;
    auto s = load_ebms_schemas(config_.xsd_dir, &detail);
    if (!s)
      throw std::runtime_error("connectors.edelivery.xsd_dir: cannot load the ebMS XSDs: " +
                               detail);
    schemas_.emplace(std::move(*s));
  }
  received_ = &ctx_.stats.make_counter("bbgw_edelivery_messages_received_total",
                                       "AS4 user messages received, stored and receipted");
  duplicates_ = &ctx_.stats.make_counter("bbgw_edelivery_messages_duplicate_total",
                                         "AS4 duplicates answered with the original receipt");
  char const* const by_path =
      "Signatures of received AS4 messages, by verification path (direct: the library's c14n "
      "and EVP; xmlsec: its generic path)";
  signatures_direct_ = &ctx_.stats.make_counter("bbgw_edelivery_signatures_verified_total", by_path,
                                                {{"path", "direct"}});
  signatures_xmlsec_ = &ctx_.stats.make_counter("bbgw_edelivery_signatures_verified_total", by_path,
                                                {{"path", "xmlsec"}});
  for (int e = 1; e <= static_cast<int>(errc::internal); ++e)
    rejected_[e] = &ctx_.stats.make_counter(
        "bbgw_edelivery_messages_rejected_total", "AS4 messages refused with an EBMS error",
        {{"reason", std::string(metric_reason(static_cast<errc>(e)))},
         {"code", std::string(ebms_error_for(static_cast<errc>(e)).code)}});
  leftovers_removed_ = &ctx_.stats.make_counter(
      "bbgw_edelivery_leftovers_removed_total",
      "temporary payload files/directories of interrupted writes removed by the sweep");
  orphans_ = &ctx_.stats.make_gauge(
      "bbgw_edelivery_payload_orphans",
      "entries in payload_dir no stored message refers to (kept), at the last sweep");
  purged_ = &ctx_.stats.make_counter(
      "bbgw_edelivery_payloads_purged_total",
      "messages whose payload files were deleted after the retention period");
}

edelivery_connector::~edelivery_connector() {
  stop();
}

std::vector<route> edelivery_connector::routes() {
  std::vector<route> rs;
  // Room for the MIME framing around a body of body_limit, so the handler answers EBMS:0007.
  std::size_t const as4_limit = config_.body_limit + 64 * 1024;
  // Read while it arrives: the envelope first, then each attachment decrypted and digested into
  // its file as it comes (spooled to a file first, and read by offsets, when the server's
  // stream slots are all in use).
  rs.push_back({{"POST"},
                config_.path,
                [this](request const& r) { return receive_as4(r); },
                as4_limit,
                execution::worker,
                true});
  rs.back().stream_body = true;
  // Read while it arrives (multipart payloads go straight into their files; spooled to a file
  // first when the server's stream slots are all in use); room for base64 (4/3) and the
  // framing around max_submit_size of payload bytes.
  rs.push_back({{"POST"},
                std::string(api_base) + "/messages",
                [this](request const& r) { return submit(r); },
                config_.max_submit_bytes / 3 * 4 + 1024 * 1024,
                execution::worker});
  rs.back().spool_body = true;
  rs.back().stream_body = true;
  rs.push_back({{"GET"},
                std::string(api_base) + "/messages/{id}",
                [this](request const& r) { return get_message(r); },
                0,
                execution::worker});
  rs.push_back({{"GET"},
                std::string(api_base) + "/messages/{id}/payloads/{n}",
                [this](request const& r) { return get_payload(r); },
                0,
                execution::worker});
  return rs;
}

response edelivery_connector::reject(error_code ec, std::string const& detail,
                                     std::string const& ref_to) {
  errc e = ec.category() == category() ? static_cast<errc>(ec.value()) : from_xmlsec(ec);
  if (auto it = rejected_.find(static_cast<int>(e)); it != rejected_.end()) it->second->inc();
  auto const& err = ebms_error_for(e);
  ctx_.log.warn("edelivery: message refused", {{"code", std::string(err.code)},
                                               {"reason", std::string(metric_reason(e))},
                                               {"detail", detail}});
  error_signal sig{&err, detail, ref_to, err.category == "Unpackaging"};
  signal_identity id{new_message_id(config_.party_domain), ctx_.time.now()};
  auto body = build_error(sig, &config_.own_key, id);
  if (!body) body = build_error(sig, nullptr, id);
  if (!body) return response::problem(500, "cannot build the eb:Error signal");
  return soap(sig.soap_fault ? 500 : 200, std::move(*body));
}

response edelivery_connector::receive_as4(request const& req) {
  // A streamed body is read to its end (within the route's limit) whatever the answer, so that
  // the sender — which writes all of its request before it reads — gets the eb:Error of an
  // early refusal rather than a reset (an accepted message has been read already).
  struct drain_guard {
    bbgw::body_reader* body;
    ~drain_guard() {
      if (body) drain(*body);
    }
  } drain_rest{req.body_stream};
  auto now = ctx_.time.now();
  auto content_type = std::string(req.header("Content-Type").value_or(""));
  if (content_type.empty()) return reject(errc::unsupported_media_type, "no Content-Type", "");

  inbound_options options;
  options.mime = config_.mime;
  options.xml.max_bytes = config_.max_xml_bytes;
  options.gunzip = config_.gunzip;
  options.schemas = schemas_ ? &*schemas_ : nullptr;
  pmode const* matched = nullptr;
  std::string ref_to;
  security_selector select = [&](messaging const& m,
                                 std::string* detail) -> result<security_choice> {
    if (m.user_messages.size() != 1 || !m.signals.empty()) {
      if (detail) *detail = "only a single UserMessage is accepted on this endpoint";
      return errc::feature_not_supported;
    }
    auto const& um = m.user_messages.front();
    ref_to = um.info.message_id;
    auto p = match_pmode(um, config_.pmodes, detail);
    if (!p) return p.error();
    matched = *p;
    if (!matched->tls_client_certificates.empty()) {
      auto const& allowed = matched->tls_client_certificates;
      if (!req.client_certificate_der ||
          std::find(allowed.begin(), allowed.end(), *req.client_certificate_der) == allowed.end()) {
        if (detail)
          *detail = req.client_certificate_der
                        ? "the TLS client certificate is not the PMode partner's"
                        : "the PMode requires the partner's TLS client certificate";
        return errc::tls_client_mismatch;
      }
    }
    security_choice c{matched->partner_certificates, {}};
    c.policy.timestamp_skew = config_.timestamp_skew;
    c.policy.require_signature = matched->sign;
    c.policy.require_encryption = matched->encrypt;
    if (matched->legacy_algorithms)
      c.policy.algorithms = xmlsec::algorithm_policy::legacy(c.policy.algorithms);
    return c;
  };
  std::string detail;
  // The body: read while it arrives, or the route's spool file (or memory when called
  // directly). Payloads are streamed into <payload_dir>/<random>.partial, renamed to
  // <payload_dir>/<random> once verified; any refusal removes the directory, so nothing is
  // left behind.
  source_ptr body = memory_view_source(req.body);
  if (req.body_file && !req.body_stream) {
    auto f = open_file_source(*req.body_file);
    if (!f) return reject(errc::delivery_failed, "cannot read the spooled body", "");
    body = std::move(*f);
  }
  auto name = random_dir_name();
  if (name.empty())  // no randomness: nothing is created
    return reject(errc::delivery_failed, "cannot create the payload directory", "");
  fs::path const work = fs::path(config_.payload_dir) / (name + ".partial");
  fs::path const final_dir = fs::path(config_.payload_dir) / name;
  std::error_code fs_ec;
  fs::create_directories(work, fs_ec);
  if (fs_ec) return reject(errc::delivery_failed, "cannot create the payload directory", "");
  struct dir_guard {
    fs::path dir;
    ~dir_guard() {
      std::error_code ec;
      if (!dir.empty()) fs::remove_all(dir, ec);
    }
  } cleanup{work};
  options.payload_dir = work.string();
  auto m =
      req.body_stream
          ? receive(content_type, *req.body_stream, options, select, &config_.own_key, now, &detail)
          : receive(content_type, body, options, select, &config_.own_key, now, &detail);
  if (!m) return report_error(matched, reject(m.error(), detail, ref_to));
  auto const& um = m->ebms.user_messages.front();
  auto const& message_id = um.info.message_id;

  // A duplicate within the window gets the receipt it got the first time; no second event.
  if (auto prior = ctx_.db.get(duplicate_namespace, message_id); prior && *prior) {
    duplicates_->inc();
    return report_receipt(matched, soap(200, **prior));
  }
  signal_identity id{new_message_id(config_.party_domain), now};
  auto receipt = build_receipt(message_id, m->security.signature, config_.own_key, id);
  if (!receipt) return reject(errc::internal, "cannot build the receipt", message_id);

  fs::rename(work, final_dir, fs_ec);
  if (fs_ec) return reject(errc::delivery_failed, "cannot keep the payloads", message_id);
  cleanup.dir = final_dir;  // removed again unless the transaction commits
  // The files' names (in the message directory) and the directory's own (the rename) must be
  // durable before the record that points at them commits: one fsync of each, per message.
  if (!sync_dir_(final_dir.string()) || !sync_dir_(config_.payload_dir))
    return reject(errc::delivery_failed, "cannot sync the payload directory", message_id);
  std::vector<stored_payload> stored;
  for (std::size_t n = 0; n < m->payloads.size(); ++n) {
    auto const& p = m->payloads[n];
    stored.push_back({p.content_id, p.mime_type, p.character_set, p.size, p.sha256_hex,
                      (final_dir / std::to_string(n)).string()});
  }
  received_record rec;
  rec.message_id = message_id;
  rec.conversation_id = um.conversation_id;
  rec.pmode = matched->id;
  rec.um = &um;
  rec.received_at = format_rfc3339(now);
  rec.signer = m->security.is_signed
                   ? matched->partner_certificates[m->security.signer_index].subject_name()
                   : "";
  rec.payloads = std::move(stored);
  rec.envelope = m->envelope_bytes;
  rec.receipt = *receipt;
  auto ev = received_event(rec, api_base, now, req.request_id);
  auto record = record_json(rec, api_base);

  std::optional<std::string> earlier;
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto fresh =
        u.insert(duplicate_namespace, message_id, *receipt, now + matched->duplicate_window);
    if (!fresh) return fresh.error();
    if (!*fresh) {  // a concurrent copy won
      auto g = u.get(duplicate_namespace, message_id);
      if (!g) return g.error();
      earlier = g->value_or(std::string());
      return {};
    }
    if (auto r = u.put(message_namespace, message_id, record); !r) return r;
    if (auto r = u.put(directory_namespace, name, message_id); !r) return r;
    return u.emit(ev);
  });
  if (!tx || earlier) {
    // Nothing of this copy is kept (the guard removes its files).
    if (!tx) return reject(errc::delivery_failed, "the store refused the message", message_id);
    duplicates_->inc();
    return report_receipt(matched, soap(200, earlier->empty() ? *receipt : *earlier));
  }
  cleanup.dir.clear();  // committed: the files belong to the record now
  received_->inc();
  if (m->security.is_signed)
    (m->security.signature.direct ? signatures_direct_ : signatures_xmlsec_)->inc();
  ctx_.log.info("edelivery: message received",
                {{"pmode", matched->id}, {"payloads", std::to_string(rec.payloads.size())}});
  return report_receipt(matched, soap(200, std::move(*receipt)));
}

response edelivery_connector::get_message(request const& req) {
  auto id = std::string(req.param("id").value_or(""));
  auto rec = ctx_.db.get(message_namespace, id);
  if (!rec) return response::problem(503, "store unavailable");
  if (!*rec) return response::problem(404, "no such message");
  boost::system::error_code ec;
  auto v = json::parse(**rec, ec);
  if (ec || !v.is_object()) return response::problem(500, "corrupt record");
  auto& o = v.as_object();
  o.erase("files");
  o.erase("envelope");
  o.erase("receipt");
  return response::json(200, v);
}

response edelivery_connector::get_payload(request const& req) {
  auto id = std::string(req.param("id").value_or(""));
  auto n_text = std::string(req.param("n").value_or(""));
  if (n_text.empty() || n_text.size() > 4 ||
      n_text.find_first_not_of("0123456789") != std::string::npos)
    return response::problem(404, "no such payload");
  auto n = std::stoul(n_text);
  auto rec = ctx_.db.get(message_namespace, id);
  if (!rec) return response::problem(503, "store unavailable");
  if (!*rec) return response::problem(404, "no such message");
  boost::system::error_code ec;
  auto v = json::parse(**rec, ec);
  if (ec || !v.is_object()) return response::problem(500, "corrupt record");
  auto const& o = v.as_object();
  auto const* files = o.if_contains("files");
  auto const* payloads = o.if_contains("payloads");
  if (o.contains("payloadsPurgedAt")) {
    if (payloads && n < payloads->as_array().size())
      return response::problem(410, "the payload was deleted after the retention period");
    return response::problem(404, "no such payload");
  }
  if (!files || !payloads || n >= files->as_array().size())
    return response::problem(404, "no such payload");
  response r;
  r.status = 200;
  r.headers.set("Content-Type",
                std::string(payloads->as_array()[n].as_object().at("mimeType").as_string()));
  r.body_file = std::string(files->as_array()[n].as_string());
  return r;
}

edelivery_connector::housekeeping_report edelivery_connector::housekeep() {
  housekeeping_report rep;
  auto const now = ctx_.time.now();
  auto const& dir = config_.payload_dir;
  rep.leftovers_removed = remove_leftovers(dir, now, config_.retention.leftover_grace);
  if (rep.leftovers_removed > 0) {
    leftovers_removed_->inc(static_cast<double>(rep.leftovers_removed));
    // Count and directory only: names could identify a message.
    ctx_.log.warn("edelivery: removed leftovers of interrupted writes",
                  {{"count", std::to_string(rep.leftovers_removed)}, {"dir", dir}});
  }
  auto listing = list_payload_dir(dir);
  rep.orphans = listing.loose_files;
  for (auto const& rel : listing.message_dirs) {
    auto owner = ctx_.db.get(directory_namespace, rel);
    if (!owner) continue;  // store unavailable: try again next time
    bool known = false;
    if (*owner) {
      auto rec = ctx_.db.get(message_namespace, **owner);
      if (!rec) continue;
      known = rec->has_value();
    }
    if (!known) {
      ++rep.orphans;
      continue;
    }
    if (purge_if_expired(rel, **owner, now)) ++rep.purged;
  }
  orphans_->set(static_cast<double>(rep.orphans));
  if (rep.orphans > 0)
    ctx_.log.warn(
        "edelivery: files in the payload directory that no stored message refers to "
        "(kept; see the connector README)",
        {{"count", std::to_string(rep.orphans)}, {"dir", dir}});
  if (rep.purged > 0) {
    purged_->inc(static_cast<double>(rep.purged));
    ctx_.log.info("edelivery: payloads deleted after the retention period",
                  {{"count", std::to_string(rep.purged)}});
  }
  return rep;
}

bool edelivery_connector::purge_if_expired(std::string const& rel_dir,
                                           std::string const& message_id, sys_time now) {
  auto const path = fs::path(config_.payload_dir) / rel_dir;
  bool purged = false, already = false;
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto cur = u.get(message_namespace, message_id);
    if (!cur) return cur.error();
    if (!*cur) return {};
    boost::system::error_code ec;
    auto v = json::parse(**cur, ec);
    if (ec || !v.is_object()) return {};
    auto& rec = v.as_object();
    if (rec.contains("payloadsPurgedAt")) {  // an earlier purge stopped before the files went
      already = true;
      return {};
    }
    if (config_.retention.payloads.count() == 0) return {};
    auto final_time = final_at(rec);
    if (!final_time || *final_time + config_.retention.payloads > now) return {};
    rec.erase("files");
    rec["payloadsPurgedAt"] = format_rfc3339(now);
    purged = true;
    return u.put(message_namespace, message_id, json::serialize(rec));
  });
  if (!tx || (!purged && !already)) return false;
  // The record says purged (committed): now the files go. A crash in between leaves the
  // directory with its entry; the next sweep sees the mark and finishes the job.
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return purged;
  (void)sync_dir_(path.parent_path().string());
  (void)ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    auto r = u.erase(directory_namespace, rel_dir);
    if (!r) return r.error();
    return {};
  });
  return purged;
}

std::optional<builder> configure(config_reader& r) {
  auto c = read_config(r);
  if (!c) return std::nullopt;
  return builder([cfg = std::move(*c)](connector_context& ctx) {
    return std::unique_ptr<bbgw::connector>(new edelivery_connector(cfg, ctx));
  });
}

}  // namespace bbgw::edelivery

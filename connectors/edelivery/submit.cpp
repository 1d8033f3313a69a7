// The sending side of edelivery_connector: POST /api/v1/edelivery/messages (JSON with base64
// payloads, or multipart/form-data: a `metadata` JSON part + one part per payload, streamed from
// the spooled body into the payload files) stores the message (payload files, record, pending
// index) and its `submitted` event in one transaction and queues it; the sending thread builds
// it into a file (compress → sign → encrypt, streamed), pushes that file with retries, records
// `sent` when the partner takes it, checks the receipt, and records `delivered` or `failed`
// (with the EBMS code) with its event.
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "edelivery/body_streambuf.hpp"
#include "edelivery/byte_pipe.hpp"
#include "edelivery/edelivery_connector.hpp"
#include "edelivery/form_data.hpp"
#include "edelivery/housekeeping.hpp"
#include "edelivery/message_event.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/outbound.hpp"
#include "edelivery/sender.hpp"
#include "edelivery/signals.hpp"

namespace bbgw::edelivery {

namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

// Messages whose payloads total at least this much are sent while they are built.
constexpr std::uint64_t stream_from_bytes = 1024 * 1024;

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return hex(std::string_view(reinterpret_cast<char*>(md), len));
}

// A descriptor's hex SHA-256 as 32 raw bytes; empty when it is not one.
std::string raw_from_hex(std::string_view hex_digest) {
  if (hex_digest.size() != 64) return {};
  unsigned char raw[32];
  std::size_t n = 0;
  std::string const text(hex_digest);
  if (OPENSSL_hexstr2buf_ex(raw, sizeof raw, &n, text.c_str(), '\0') != 1 || n != 32) return {};
  return std::string(reinterpret_cast<char const*>(raw), n);
}

constexpr std::size_t max_metadata_bytes = 64 * 1024;

// SHA-256 over a stream of chunks.
class sha256_stream {
 public:
  sha256_stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~sha256_stream() { EVP_MD_CTX_free(ctx_); }
  sha256_stream(sha256_stream const&) = delete;
  sha256_stream& operator=(sha256_stream const&) = delete;
  void update(std::string_view b) { EVP_DigestUpdate(ctx_, b.data(), b.size()); }
  std::string hex_digest() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx_, md, &len);
    return hex(std::string_view(reinterpret_cast<char*>(md), len));
  }

 private:
  EVP_MD_CTX* ctx_;
};

// One submitted payload, already in its file.
struct staged_payload {
  std::string part_id;  // empty: one is made up
  std::string mime_type;
  std::string filename;
  std::uint64_t size = 0;
  std::string sha256;
  std::string file;
};

// A refusal of a submission: the problem's status and detail.
struct refusal {
  unsigned status;
  std::string detail;
};

// multipart/form-data → the metadata part in memory, every other part into <dir>/<n>.
class submission_form final : public form_handler {
 public:
  submission_form(fs::path dir, std::uint64_t max_total) : dir_(std::move(dir)), max_(max_total) {}

  result<void> begin(form_part_head const& head) override {
    in_metadata_ = head.name == "metadata";
    if (in_metadata_) {
      if (seen_metadata_) return fail(400, "more than one `metadata` part");
      seen_metadata_ = true;
      return {};
    }
    staged_payload p;
    p.mime_type = head.content_type.empty() ? "application/octet-stream" : head.content_type;
    p.filename = head.filename;
    p.file = (dir_ / std::to_string(payloads.size())).string();
    out_.open(p.file, std::ios::binary | std::ios::trunc);
    if (!out_) return fail(503, "cannot write payloads");
    payloads.push_back(std::move(p));
    sha_.emplace();
    return {};
  }
  result<void> data(std::string_view bytes) override {
    if (in_metadata_) {
      if (metadata.size() + bytes.size() > max_metadata_bytes)
        return fail(413, "the `metadata` part is too large");
      metadata.append(bytes);
      return {};
    }
    total_ += bytes.size();
    if (total_ > max_) return fail(413, "the payloads are larger than max_submit_size");
    out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out_) return fail(503, "cannot write payloads");
    sha_->update(bytes);
    payloads.back().size += bytes.size();
    return {};
  }
  result<void> end() override {
    if (in_metadata_) return {};
    out_.close();
    if (!out_) return fail(503, "cannot write payloads");
    payloads.back().sha256 = sha_->hex_digest();
    return {};
  }

  std::string metadata;
  bool seen_metadata_ = false;
  std::vector<staged_payload> payloads;
  std::optional<refusal> refused;

 private:
  error_code fail(unsigned status, std::string detail) {
    refused = refusal{status, std::move(detail)};
    return errc::internal;
  }
  fs::path dir_;
  std::uint64_t max_;
  std::uint64_t total_ = 0;
  bool in_metadata_ = false;
  std::ofstream out_;
  std::optional<sha256_stream> sha_;
};

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
  ev.dataschema = std::string(type == sent_type ? sent_schema : outbound_schema);
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
        if (id.is_string()) enqueue(std::string(id.as_string()));
    }
  }
  // Crash leftovers, orphans and expired payloads: once now, then every sweep_interval on the
  // first sending thread, between two of its messages. The sweep only touches messages that
  // are final (never one a sending thread holds) and names older than leftover_grace.
  housekeep();
  for (unsigned t = 0; t < std::max(1u, config_.sending_threads); ++t)
    threads_.emplace_back([this, sweeper = t == 0] {
      using steady = std::chrono::steady_clock;
      auto next_sweep = steady::now() + config_.retention.sweep_interval;
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          if (sweeper)
            cv_.wait_until(lock, next_sweep, [this] { return stopping_ || !queue_.empty(); });
          else
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
          if (stopping_) return;
        }
        if (sweeper && steady::now() >= next_sweep) {
          housekeep();
          next_sweep = steady::now() + config_.retention.sweep_interval;
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
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

response edelivery_connector::submit(request const& req) {
  auto ct = content_type::parse(req.header("Content-Type").value_or(""));
  bool const form = ct && ct->media_type == "multipart/form-data";
  if (!ct || (!form && ct->media_type != "application/json"))
    return response::problem(415, "Content-Type must be application/json or multipart/form-data");
  auto message_id = new_message_id(config_.party_domain);
  auto now = ctx_.time.now();
  // Payloads are staged in out/<sha256(id)>.partial (a crash leaves only a temporary name,
  // swept at start) and renamed to out/<sha256(id)> before the record commits.
  auto const rel_dir = "out/" + sha256_hex(message_id);
  auto const final_dir = fs::path(config_.payload_dir) / rel_dir;
  auto dir = fs::path(final_dir.string() + std::string(partial_suffix));
  std::error_code fec;
  fs::create_directories(dir, fec);
  if (fec) return response::problem(503, "cannot write payloads");
  auto refuse = [&](unsigned status, std::string_view why) {
    fs::remove_all(dir, fec);
    return response::problem(status, why);
  };
  // A streamed body that did not arrive whole (see bbgw::body_reader).
  auto refuse_cut_off = [&](error_code why) {
    if (why == make_error_code(boost::system::errc::message_size))
      return refuse(413, "the request body is larger than max_submit_size allows");
    return refuse(400, "the request body did not arrive whole (the client stopped sending)");
  };

  // 1. The body → metadata object + payload files (400 malformed, 413 too large).
  json::object meta;
  std::vector<staged_payload> staged;
  json::array const* json_payloads = nullptr;
  json::value parsed;
  if (form) {
    std::ifstream file_in;
    std::istringstream mem_in;
    std::optional<body_streambuf> body_buf;
    std::istream stream_in(nullptr);
    std::istream* in = &mem_in;
    if (req.body_stream) {  // parsed while it arrives: payloads go straight to their files
      body_buf.emplace(*req.body_stream);
      stream_in.rdbuf(&*body_buf);
      in = &stream_in;
    } else if (req.body_file) {
      file_in.open(*req.body_file, std::ios::binary);
      if (!file_in) return refuse(503, "cannot read the spooled body");
      in = &file_in;
    } else {
      mem_in.str(req.body);
    }
    submission_form h(dir, config_.max_submit_bytes);
    form_limits limits;
    limits.max_parts = config_.mime.max_parts + 1;  // the metadata part too
    std::string why;
    auto r = parse_form_data(*in, ct->param("boundary").value_or(""), h, limits, &why);
    if (h.refused) return refuse(h.refused->status, h.refused->detail);
    if (body_buf) {
      // A whole form ends at its close delimiter, the request with its body: read the rest (an
      // epilogue, bounded by the route's limit) so a body cut off or too large after the close
      // delimiter is refused too, before anything is stored. (A malformed form is refused at
      // once: nothing after it matters.)
      std::vector<char> rest(64 * 1024);
      while (r && (in->read(rest.data(), static_cast<std::streamsize>(rest.size())) ||
                   in->gcount() > 0)) {
      }
      if (body_buf->error()) return refuse_cut_off(body_buf->error());
    }
    if (!r && r.error() == make_error_code(errc::mime_too_many_parts))
      return refuse(422, "more payload parts than max_parts allows");
    if (!r) return refuse(400, "malformed multipart/form-data: " + why);
    if (!h.seen_metadata_) return refuse(400, "no `metadata` part");
    boost::system::error_code ec;
    parsed = json::parse(h.metadata, ec);
    if (ec || !parsed.is_object()) return refuse(400, "the `metadata` part is not a JSON object");
    meta = parsed.as_object();
    staged = std::move(h.payloads);
    // Optional per-payload settings in the metadata, in part order: [{"partId": …}].
    if (auto const* mp = meta.if_contains("payloads")) {
      if (!mp->is_array() || mp->as_array().size() > staged.size())
        return refuse(422, "metadata `payloads` must be an array, at most one entry per part");
      for (std::size_t i = 0; i < mp->as_array().size(); ++i) {
        auto const& e = mp->as_array()[i];
        if (!e.is_object()) return refuse(422, "metadata `payloads` entries must be objects");
        staged[i].part_id = str(e.as_object(), "partId");
        if (auto m = str(e.as_object(), "mimeType"); !m.empty()) staged[i].mime_type = m;
      }
    }
  } else {
    std::string text;
    std::string const* body = &req.body;
    if (req.body_stream) {
      std::vector<char> chunk(64 * 1024);
      for (;;) {
        auto n = req.body_stream->read(chunk);
        if (!n) return refuse_cut_off(n.error());
        if (*n == 0) break;
        text.append(chunk.data(), *n);
      }
      body = &text;
    } else if (req.body_file) {
      std::ifstream in(*req.body_file, std::ios::binary);
      if (!in) return refuse(503, "cannot read the spooled body");
      text.assign(std::istreambuf_iterator<char>(in), {});
      body = &text;
    }
    boost::system::error_code ec;
    parsed = json::parse(*body, ec);
    if (ec || !parsed.is_object()) return refuse(400, "the body is not a JSON object");
    meta = parsed.as_object();
    auto const* payloads = meta.if_contains("payloads");
    if (!payloads || !payloads->is_array())
      return refuse(422, "`payloads` must be a non-empty array within max_parts");
    json_payloads = &payloads->as_array();
    std::uint64_t total = 0;
    for (auto const& item : *json_payloads) {
      if (!item.is_object()) return refuse(422, "every payload must be an object");
      auto const& po = item.as_object();
      auto bytes = base64_decode(str(po, "contentBase64"));
      if (!bytes) return refuse(400, "a payload's `contentBase64` is not base64");
      total += bytes->size();
      if (total > config_.max_submit_bytes)
        return refuse(413, "the payloads are larger than max_submit_size");
      staged_payload p;
      p.part_id = str(po, "partId");
      p.mime_type = str(po, "mimeType");
      p.size = bytes->size();
      p.sha256 = sha256_hex(*bytes);
      p.file = (dir / std::to_string(staged.size())).string();
      std::ofstream f(p.file, std::ios::binary | std::ios::trunc);
      f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
      f.close();
      if (!f) return refuse(503, "cannot write payloads");
      staged.push_back(std::move(p));
    }
  }

  // 2. The same rules for both forms (422: well-formed but not acceptable).
  auto pmode_id = str(meta, "pmode");
  pmode const* p = nullptr;
  for (auto const& c : config_.pmodes)
    if (c.id == pmode_id && !c.endpoint.empty()) p = &c;
  if (!p) return refuse(422, "`pmode` names no sending PMode (one with an endpoint)");
  if (staged.empty() || staged.size() + 1 > config_.mime.max_parts)
    return refuse(422, "`payloads` must be a non-empty array within max_parts");
  json::object properties;
  if (auto const* mp = meta.if_contains("properties")) {
    if (!mp->is_object()) return refuse(422, "`properties` must be an object");
    for (auto const& [k, val] : mp->as_object())
      if (!val.is_string()) return refuse(422, "`properties` values must be strings");
    properties = mp->as_object();
  }
  if (auto const* c = meta.if_contains("conversationId"); c && !c->is_string())
    return refuse(422, "`conversationId` must be a string");
  auto conversation = str(meta, "conversationId");
  json::array descriptors, files;
  for (std::size_t n = 0; n < staged.size(); ++n) {
    auto& sp = staged[n];
    if (!content_type::parse(sp.mime_type)) return refuse(422, "a payload has no valid `mimeType`");
    if (sp.part_id.empty()) sp.part_id = "part" + std::to_string(n) + "@" + config_.party_domain;
    if (sp.part_id.find_first_of("<>\" \r\n") != std::string::npos)
      return refuse(422, "a `partId` has characters a Content-ID cannot carry");
    for (std::size_t k = 0; k < n; ++k)
      if (staged[k].part_id == sp.part_id) return refuse(422, "two payloads with one `partId`");
    json::object d{{"partId", sp.part_id},
                   {"mimeType", sp.mime_type},
                   {"size", sp.size},
                   {"sha256", sp.sha256},
                   {"href", std::string(api_base) + "/messages/" + message_id + "/payloads/" +
                                std::to_string(n)}};
    if (!sp.filename.empty()) d["filename"] = sp.filename;
    descriptors.push_back(std::move(d));
    files.push_back(json::value((final_dir / std::to_string(n)).string()));
  }
  // Durable before the record that points at them: each file's data, then the names (one
  // fsync of the message directory and one of out/ for the rename).
  for (auto const& sp : staged)
    if (!sync_file(sp.file)) return refuse(503, "cannot write payloads");
  fs::rename(dir, final_dir, fec);
  if (fec) return refuse(503, "cannot write payloads");
  dir = final_dir;  // what refuse() removes from now on
  if (!sync_dir_(final_dir.string()) || !sync_dir_(final_dir.parent_path().string()))
    return refuse(503, "cannot write payloads");

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
                   {"attempts", 0},
                   {"receiptExpected", p->receipt}};
  auto ev = outbound_event(submitted_type, rec, now, req.request_id);
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    if (auto r = u.put(message_namespace, message_id, json::serialize(rec)); !r) return r;
    if (auto r = u.put(directory_namespace, rel_dir, message_id); !r) return r;
    if (auto r = update_pending(u, message_id, true); !r) return r;
    return u.emit(ev);
  });
  if (!tx) return refuse(503, "the store refused the message");
  {
    std::lock_guard lock(mutex_);
    enqueue(message_id);
  }
  cv_.notify_all();
  auto res = response::json(
      202, json::object{{"messageId", message_id},
                        {"status", "submitted"},
                        {"status_url", std::string(api_base) + "/messages/" + message_id}});
  res.headers.set("Location", std::string(api_base) + "/messages/" + message_id);
  return res;
}

void edelivery_connector::enqueue(std::string id) {
  if (queued_.insert(id).second) queue_.push_back(std::move(id));
}

bool edelivery_connector::send_next() {
  std::string id;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) return false;
    id = queue_.front();
    queue_.pop_front();
  }
  // The id stays in queued_ while this thread holds it: no other thread takes it meanwhile.
  struct release {
    edelivery_connector& c;
    std::string const& id;
    ~release() {
      std::lock_guard lock(c.mutex_);
      c.queued_.erase(id);
    }
  } done{*this, id};
  // Only a pending message is sent: one already final (delivered, failed, sent without a
  // receipt) is never sent again.
  if (auto pending = ctx_.db.get(pending_namespace, "ids");
      !pending || !*pending || (*pending)->find("\"" + id + "\"") == std::string::npos)
    return true;
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
  std::string message_file;  // the message as built and sent
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
    bool readable = !files.empty();
    for (std::size_t i = 0; i < files.size() && readable; ++i) {
      auto file = std::string(files[i].as_string());
      std::error_code fec;
      if (!fs::is_regular_file(file, fec)) readable = false;
      auto const& d = descs[i].as_object();
      outbound_payload op{str(d, "partId"), str(d, "mimeType"), {}, p->compression != "none"};
      op.file = std::move(file);  // streamed: compressed, digested, encrypted chunk by chunk
      op.compression_level = p->compression_level;
      op.only_if_it_pays = p->compression == "auto";
      op.sha256 = raw_from_hex(str(d, "sha256"));
      spec.payloads.push_back(std::move(op));
    }
    spec.signing_key = &config_.own_key;
    spec.recipient = p->encrypt ? &p->partner_certificates.front() : nullptr;
    // The message as sent stays beside its payloads (non-repudiation of origin).
    message_file = (fs::path(std::string(files.empty() ? "" : files[0].as_string())).parent_path() /
                    "as4-message")
                       .string();
    // A large message is sent while it is built (stream_from_bytes): a builder thread writes
    // the message file and, through a bounded pipe, the first attempt's request body, which
    // starts with the first encrypted bytes instead of after the whole file. Retries send the
    // file. Smaller ones are built first, then sent.
    std::uint64_t payload_bytes = 0;
    for (auto const& d : descs)
      if (auto const* sz = d.as_object().if_contains("size"); sz && sz->is_number())
        payload_bytes += sz->to_number<std::uint64_t>();
    bool stream_it = readable && payload_bytes >= stream_from_bytes;
    // Everything the builder thread touches is declared before the guard that joins it.
    result<outbound_message> built = errc::internal;
    std::optional<outbound_message> to_send;
    std::string build_detail;
    byte_pipe pipe;
    std::mutex build_mutex;  // the builder's results, handed over
    std::condition_variable build_cv;
    bool build_ended = false;
    std::thread builder;
    struct builder_guard {  // on every way out: the builder unblocked and joined
      byte_pipe& pipe;
      std::thread& thread;
      ~builder_guard() {
        pipe.close_reader();
        if (thread.joinable()) thread.join();
      }
    } join_builder{pipe, builder};
    if (!readable) {
      detail = "a payload file is missing";
    } else if (stream_it) {
      auto build = [&] {
        result<outbound_message> r = errc::internal;
        bool stopped = false;  // the gateway is stopping: the build ends where it is
        // Nothing may escape a thread (std::terminate): an exception (memory) is a failed build,
        // which still ends the pipe and wakes the sender below.
        try {
          message_tee tee{[&](outbound_message const& head) {
                            std::lock_guard lock(build_mutex);
                            to_send = head;
                            build_cv.notify_all();
                          },
                          [&](std::string_view bytes) { return pipe.write(bytes); },
                          [&] {
                            std::lock_guard lock(mutex_);
                            return stopped = stopping_;
                          }};
          r = build_user_message_file(spec, message_file, &build_detail, &tee);
          if (!r && stopped) build_detail = "cancelled";  // stays pending, rebuilt at next start
        } catch (std::exception const& e) {
          r = errc::internal;
          build_detail = std::string("building the message failed: ") + e.what();
        } catch (...) {
          r = errc::internal;
          build_detail = "building the message failed";
        }
        if (r)
          pipe.finish();
        else
          pipe.fail(r.error());
        std::lock_guard lock(build_mutex);
        built = std::move(r);
        build_ended = true;
        build_cv.notify_all();
      };
      try {
        builder = std::thread(build);
      } catch (std::system_error const&) {  // no thread to spare: built first, then sent
        stream_it = false;
        pipe.close_reader();  // nobody reads it: the build writes the file only
        build();
        if (!built) to_send.reset();
      }
      std::unique_lock lock(build_mutex);
      build_cv.wait(lock, [&] { return to_send.has_value() || build_ended; });
      if (to_send) to_send->body_file = message_file;
      lock.unlock();
      if (!to_send) {  // failed before its first byte (or, built here, at all)
        if (builder.joinable()) builder.join();
        detail = build_detail;
      }
    } else {
      built = build_user_message_file(spec, message_file, &detail);
      if (built) to_send = *built;
    }
    if (!to_send) {
      outcome = built.error();
    } else {
      send_policy policy;
      policy.max_attempts = p->max_attempts;
      policy.backoff_initial = p->retry_interval;
      policy.backoff_max = p->retry_max;
      policy.tls = p->tls;
      policy.expect_receipt = p->receipt;
      policy.cancelled = [this] {
        std::lock_guard lock(mutex_);
        return stopping_;
      };
      policy.on_sent = [&](int attempt) {
        auto at = ctx_.time.now();
        rec["status"] = "sent";
        rec["attempts"] = attempt;
        rec["sentAt"] = format_rfc3339(at);
        auto sent = outbound_event(sent_type, rec, at, "");
        auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
          if (auto r = u.put(message_namespace, id, json::serialize(rec)); !r) return r;
          return u.emit(sent);
        });
        if (!tx) ctx_.log.error("edelivery: cannot record a `sent` message", {});
      };
      sleeper wait = [this](std::chrono::milliseconds d) {
        ctx_.log.info("edelivery: no receipt yet, retrying",
                      {{"delay_ms", std::to_string(d.count())}});
        std::unique_lock lock(mutex_);
        cv_.wait_for(lock, d, [this] { return stopping_; });
      };
      if (stream_it) {
        policy.first_body = &pipe;
        policy.first_done = [&]() -> result<void> {
          pipe.close_reader();
          builder.join();
          if (!built) {
            detail = build_detail;
            return built.error();
          }
          return {};
        };
      }
      outcome = send_message(ctx_.http, p->endpoint, *to_send, id,
                             std::span<xmlsec::key const>(&p->partner_certificates.front(), 1),
                             ctx_.time, policy, wait, &detail);
    }
  }
  if (!outcome && detail == "cancelled") return true;  // shutdown: stays pending

  auto now = ctx_.time.now();
  std::string_view type;
  if (outcome && p && !p->receipt) {
    // No receipt by agreement: `sent` (already recorded with its event) is the last status.
    rec["status"] = "sent";
    rec["attempts"] = outcome->attempts;
  } else if (outcome) {
    rec["status"] = "delivered";
    rec["attempts"] = outcome->attempts;
    rec["deliveredAt"] = format_rfc3339(now);
    rec["receipt"] = outcome->receipt;
    if (!outcome->receipt_id.empty()) rec["receiptId"] = outcome->receipt_id;
    type = delivered_type;
  } else {
    auto const& err = ebms_error_for(outcome.error());
    rec["status"] = "failed";
    rec["failedAt"] = format_rfc3339(now);
    rec["ebmsCode"] = std::string(err.code);
    rec["reason"] = detail;
    type = failed_type;
  }
  // The message as sent (non-repudiation) is durable before its outcome is recorded: its data
  // was written back while it was sent, so this fsync is cheap; then its name.
  if (!message_file.empty() && fs::exists(message_file)) {
    if (!sync_file(message_file) || !sync_dir_(fs::path(message_file).parent_path().string()))
      ctx_.log.error("edelivery: cannot sync the message as sent", {});
  }
  std::optional<cloud_event> ev;
  if (!type.empty()) ev = outbound_event(type, rec, now, "");
  auto tx = ctx_.db.transact([&](unit_of_work& u) -> result<void> {
    if (auto r = u.put(message_namespace, id, json::serialize(rec)); !r) return r;
    if (auto r = update_pending(u, id, false); !r) return r;
    return ev ? u.emit(*ev) : result<void>();
  });
  if (!tx)
    ctx_.log.error("edelivery: cannot record a send outcome; it stays pending",
                   {{"status", str(rec, "status")}});
  return true;
}

}  // namespace bbgw::edelivery

// receive() over a body read while it arrives (see inbound.hpp): the same steps as over a
// located body, with the envelope first and each attachment decrypted as it comes.
#include <algorithm>
#include <cstring>

#include <boost/system/errc.hpp>

#include "edelivery/edelivery_errc.hpp"
#include "edelivery/inbound.hpp"
#include "edelivery/mime_stream.hpp"

namespace bbgw::edelivery {

namespace {

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

// The body's bytes (after any put back). Remembers the body's own error, which decides how a
// failed read is reported.
class body_pull {
 public:
  explicit body_pull(bbgw::body_reader& body) : body_(body) {}

  // Bytes read ahead, served again before the body's next ones.
  void put_back(std::string bytes) {
    prefix_ = std::move(bytes);
    pos_ = 0;
  }

  result<std::size_t> operator()(std::span<char> into) {
    if (pos_ < prefix_.size()) {
      auto n = std::min(into.size(), prefix_.size() - pos_);
      std::memcpy(into.data(), prefix_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    auto n = body_.read(into);
    if (!n) failed_ = n.error();
    return n;
  }

  bool failed() const { return static_cast<bool>(failed_); }

  // An error of the pipeline as the receiver reports it.
  error_code report(error_code ec, std::string* detail) const {
    if (failed_ && ec == failed_) {
      if (ec == boost::system::errc::message_size)
        return fail(errc::mime_too_large, detail, "message above the size limit");
      return fail(errc::delivery_failed, detail, "the message was cut off");
    }
    if (ec.category() == category() && ec != errc::internal) {
      if (detail && detail->empty()) *detail = "MIME structure: " + ec.message();
      return ec;
    }
    return fail(errc::delivery_failed, detail, "cannot read the message");
  }

 private:
  bbgw::body_reader& body_;
  std::string prefix_;
  std::size_t pos_ = 0;
  error_code failed_;
};

// The rest of the body into a scratch file after what was already read: for the rare message
// whose root is not its first part.
result<source_ptr> spool_rest(std::string_view already, body_pull& pull, sink_factory& sinks) {
  auto sink = sinks.scratch();
  if (!sink) return sink.error();
  if (auto r = (*sink)->write(already); !r) return r.error();
  std::vector<char> chunk(256 * 1024);
  for (;;) {
    auto n = pull(chunk);
    if (!n) return n.error();
    if (*n == 0) break;
    if (auto r = (*sink)->write(std::span<char const>(chunk.data(), *n)); !r) return r.error();
  }
  return (*sink)->finish();
}

}  // namespace

result<inbound_message> receive(std::string_view content_type_header, bbgw::body_reader& body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now, std::string* detail) {
  if (detail) detail->clear();
  bool multipart = false;
  body_pull pull(body);
  if (!content_type_header.empty()) {
    auto ct = content_type::parse(content_type_header);
    if (!ct) return fail(errc::unsupported_media_type, detail, "unreadable Content-Type");
    if (ct->media_type == "multipart/related") {
      multipart = true;
    } else if (!(ct->media_type == "application/soap+xml" ||
                 (options.allow_soap11 && ct->media_type == "text/xml"))) {
      return fail(errc::unsupported_media_type, detail,
                  "Content-Type is neither multipart/related nor application/soap+xml");
    }
  } else {  // a raw body: multipart when it starts with "--"
    char head[2];
    std::size_t got = 0;
    while (got < 2) {
      auto n = pull(std::span<char>(head + got, 2 - got));
      if (!n) return pull.report(n.error(), detail);
      if (*n == 0) break;
      got += *n;
    }
    multipart = got == 2 && head[0] == '-' && head[1] == '-';
    pull.put_back(std::string(head, got));
  }
  auto pull_fn = [&](std::span<char> into) { return pull(into); };

  if (!multipart) {  // SOAP-only: held in memory up to the XML limit, as over a located body
    std::string soap;
    std::uint64_t total = 0;
    std::vector<char> chunk(64 * 1024);
    for (;;) {
      auto n = pull(chunk);
      if (!n) return pull.report(n.error(), detail);
      if (*n == 0) break;
      total += *n;
      if (total > options.mime.max_total_bytes)
        return fail(errc::mime_too_large, detail, "SOAP message above the size limit");
      if (soap.size() <= options.xml.max_bytes)
        soap.append(chunk.data(),
                    std::min<std::size_t>(*n, options.xml.max_bytes + 1 - soap.size()));
    }
    if (soap.size() > options.xml.max_bytes)
      return fail(errc::soap_malformed, detail, "SOAP part above the XML size limit");
    auto m =
        receive(content_type_header, std::string_view(soap), options, select, own_key, now, detail);
    if (!m) return m.error();
    return m;  // refers to nothing in `soap`: no parts, the envelope copied
  }

  auto sinks = options.payload_dir.empty() ? memory_sinks() : directory_sinks(options.payload_dir);
  auto stream = mime_stream::open(content_type_header, pull_fn, options.mime);
  if (!stream) return pull.report(stream.error(), detail);
  auto first = stream->next_part();
  if (!first) return pull.report(first.error(), detail);
  if (!*first) return fail(errc::mime_malformed, detail, "MIME structure: no part");
  if (stream->start() && *stream->start() != (*first)->content_id) {
    // The root is not the first part: spooled, then received from the file.
    auto already = stream->read_from_first_delimiter();
    if (!already) return fail(errc::internal, detail, "the first part is no longer buffered");
    auto spooled = spool_rest(*already, pull, *sinks);
    if (!spooled) {
      if (pull.failed()) return pull.report(spooled.error(), detail);
      return fail(errc::delivery_failed, detail, "cannot spool the message");
    }
    return receive(content_type_header, *spooled, options, select, own_key, now, detail);
  }
  mime_layout mime;
  mime.root = 0;
  mime.parts.push_back(std::move(**first));
  if (!is_soap_root(mime.parts.front()))
    return fail(errc::mime_no_root, detail, "MIME structure: the first part is not SOAP");

  // Only the SOAP part is held in memory, and only up to the XML size limit.
  std::string envelope;
  bool too_big = false;
  auto root = stream->read_content([&](std::span<char const> bytes) -> result<void> {
    if (envelope.size() + bytes.size() > options.xml.max_bytes) {
      too_big = true;
      return errc::soap_malformed;
    }
    envelope.append(bytes.data(), bytes.size());
    return {};
  });
  if (too_big) return fail(errc::soap_malformed, detail, "SOAP part above the XML size limit");
  if (!root) return pull.report(root.error(), detail);
  mime.parts.front().content = byte_range{memory_source(envelope), 0, envelope.size()};

  auto opened = open_envelope(envelope, options, select, detail);
  if (!opened) return opened.error();
  auto& [doc, env, ebms, choice] = *opened;
  auto plan = prepare_security(doc, env, true, own_key, choice.policy, now, detail);
  if (!plan) return plan.error();
  user_message const* um = ebms.user_messages.empty() ? nullptr : &ebms.user_messages.front();

  // The attachments, each into a scratch file (decrypted when the header says so) with its
  // SHA-256, as it arrives.
  for (;;) {
    auto next = stream->next_part();
    if (!next) return pull.report(next.error(), detail);
    if (!*next) break;
    located_part part = std::move(**next);
    if (!um) return fail(errc::unexpected_part, detail, "a signal message with attachments");
    if (part.content_id.empty())
      return fail(errc::unexpected_part, detail, "a MIME part without Content-ID");
    if (std::none_of(um->parts.begin(), um->parts.end(),
                     [&](part_info const& pi) { return pi.content_id == part.content_id; }))
      return fail(errc::unexpected_part, detail, "a MIME part no PartInfo names");
    auto key =
        std::find_if(plan->attachments.begin(), plan->attachments.end(),
                     [&](attachment_key const& k) { return k.content_id == part.content_id; });
    bool own_error = false;  // the error is the receiver's (reported as is), not the stream's
    if (key != plan->attachments.end()) {
      auto dec = attachment_decryptor::start(*key, *sinks, detail);
      if (!dec) return dec.error();
      auto n = stream->read_content([&](std::span<char const> bytes) -> result<void> {
        auto r = (*dec)->update(bytes, detail);
        own_error = !r;
        return r;
      });
      if (own_error) return n.error();
      if (!n) return pull.report(n.error(), detail);
      if (auto r = (*dec)->finish(part, detail); !r) return r.error();
    } else {
      auto sink = sinks->scratch();
      if (!sink) return fail(errc::delivery_failed, detail, "cannot create a scratch file");
      sha256_stream sha;
      auto n = stream->read_content([&](std::span<char const> bytes) -> result<void> {
        sha.update(bytes);
        auto r = (*sink)->write(bytes);
        own_error = !r;
        return r;
      });
      if (own_error) return fail(errc::delivery_failed, detail, "cannot write an attachment");
      if (!n) return pull.report(n.error(), detail);
      auto src = (*sink)->finish();
      if (!src) return fail(errc::delivery_failed, detail, "cannot write an attachment");
      part.content = byte_range{std::move(*src), 0, *n};
      part.content_sha256_hex = sha.hex_digest();
    }
    mime.parts.push_back(std::move(part));
  }

  if (um)
    if (auto r = check_parts(*um, mime, detail); !r) return r.error();
  for (auto const& key : plan->attachments)
    if (!mime.attachment(key.content_id))
      return fail(errc::payload_missing, detail, "CipherReference names no MIME part");
  auto sec = verify_security(doc, env, &mime, *plan, choice.partners, choice.policy, now, detail);
  if (!sec) return sec.error();
  std::vector<payload> payloads;
  if (um) {
    auto p = extract_payloads(*um, mime, options.gunzip, *sinks, detail);
    if (!p) return p.error();
    payloads = std::move(*p);
  }
  return inbound_message{std::move(doc),     env,
                         std::move(ebms),    std::move(mime),
                         std::move(*sec),    std::move(payloads),
                         std::move(envelope)};
}

}  // namespace bbgw::edelivery

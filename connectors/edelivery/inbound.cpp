#include "edelivery/inbound.hpp"

#include <algorithm>

#include "edelivery/edelivery_errc.hpp"

namespace bbgw::edelivery {

namespace {

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

}  // namespace

result<opened_envelope> open_envelope(std::string_view soap_part, inbound_options const& options,
                                      security_selector const& select, std::string* detail) {
  auto doc = xmlsec::document::parse(soap_part, options.xml);
  if (!doc) return fail(errc::soap_malformed, detail, "SOAP part: " + doc.error().message());
  auto env = locate(*doc, options.allow_soap11, detail);
  if (!env) return env.error();
  auto ebms = parse_messaging(env->messaging, options.schemas, detail);
  if (!ebms) return ebms.error();
  auto choice = select(*ebms, detail);
  if (!choice) return choice.error();
  return opened_envelope{std::move(*doc), *env, std::move(*ebms), std::move(*choice)};
}

result<void> check_parts(user_message const& um, mime_layout const& mime, std::string* detail) {
  for (auto const& pi : um.parts)
    if (!pi.content_id.empty() && !mime.attachment(pi.content_id))
      return fail(errc::payload_missing, detail, "PartInfo " + pi.href + " names no MIME part");
  for (std::size_t i = 0; i < mime.parts.size(); ++i) {
    if (i == mime.root) continue;
    // An attachment is named by its Content-ID: one without cannot be (nor signed).
    if (mime.parts[i].content_id.empty())
      return fail(errc::unexpected_part, detail, "a MIME part without Content-ID");
    bool named = std::any_of(um.parts.begin(), um.parts.end(), [&](part_info const& pi) {
      return pi.content_id == mime.parts[i].content_id;
    });
    if (!named) return fail(errc::unexpected_part, detail, "a MIME part no PartInfo names");
  }
  return {};
}

result<std::vector<payload>> extract_payloads(user_message const& um, mime_layout const& mime,
                                              gunzip_limits const& limits, sink_factory& sinks,
                                              std::string* detail) {
  if (auto r = check_parts(um, mime, detail); !r) return r.error();
  std::vector<payload> out;
  for (auto const& pi : um.parts) {
    if (pi.content_id.empty()) continue;  // payload in the SOAP Body
    auto const* part = mime.attachment(pi.content_id);
    payload p;
    p.content_id = pi.content_id;
    p.character_set = pi.character_set().value_or("");
    auto const name = std::to_string(out.size());
    if (!pi.compression_type() && !part->content_sha256_hex.empty()) {
      // A decrypted, uncompressed part is already a file of exactly the payload's bytes with
      // its SHA-256: keep it as the payload file instead of copying it.
      if (auto path = sinks.adopt(part->content.source, name)) {
        p.mime_type = pi.mime_type().value_or(part->content_type);
        p.size = part->content.length;
        p.sha256_hex = part->content_sha256_hex;
        p.file = std::move(*path);
        out.push_back(std::move(p));
        continue;
      }
    }
    auto sink = sinks.payload(name);
    if (!sink) return fail(errc::delivery_failed, detail, "cannot create a payload file");
    sha256_stream sha;
    bool write_failed = false;
    auto write = [&](std::span<char const> bytes) -> result<void> {
      sha.update(bytes);
      if (auto r = (*sink)->write(bytes); !r) {
        write_failed = true;
        return r;
      }
      return {};
    };
    if (pi.compression_type()) {
      p.compressed = true;
      p.mime_type = *pi.mime_type();
      std::string why;
      auto n = gunzip_stream(part->content, write, limits, &why);
      if (write_failed) return fail(errc::delivery_failed, detail, "cannot write a payload file");
      if (!n) return fail(errc::decompression_failed, detail, pi.href + ": " + why);
    } else {
      p.mime_type = pi.mime_type().value_or(part->content_type);
      if (!for_each_chunk(part->content, write))
        return fail(errc::delivery_failed, detail, "cannot write a payload file");
    }
    auto src = (*sink)->finish();
    if (!src) return fail(errc::delivery_failed, detail, "cannot write a payload file");
    p.size = (*src)->size();
    p.sha256_hex = sha.hex_digest();
    p.file = (*sink)->path();
    if (p.file.empty()) {  // memory mode
      auto data =
          read_all(byte_range{*src, 0, p.size}, static_cast<std::size_t>(p.size), errc::internal);
      if (!data) return data.error();
      p.data = std::move(*data);
    }
    out.push_back(std::move(p));
  }
  return out;
}

result<inbound_message> receive(std::string_view content_type_header, std::string_view body,
                                inbound_options const& options,
                                std::span<xmlsec::key const> partners, xmlsec::key const* own_key,
                                sys_time now, std::string* detail) {
  security_selector fixed = [&](messaging const&, std::string*) -> result<security_choice> {
    return security_choice{partners, options.security};
  };
  return receive(content_type_header, body, options, fixed, own_key, now, detail);
}

result<inbound_message> receive(std::string_view content_type_header, std::string_view body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now, std::string* detail) {
  return receive(content_type_header, memory_view_source(body), options, select, own_key, now,
                 detail);
}

result<inbound_message> receive(std::string_view content_type_header, source_ptr body,
                                inbound_options const& options, security_selector const& select,
                                xmlsec::key const* own_key, sys_time now, std::string* detail) {
  auto sinks = options.payload_dir.empty() ? memory_sinks() : directory_sinks(options.payload_dir);
  mime_layout mime;
  bool multipart = false;
  if (!content_type_header.empty()) {
    auto ct = content_type::parse(content_type_header);
    if (!ct) return fail(errc::unsupported_media_type, detail, "unreadable Content-Type");
    if (ct->media_type == "multipart/related") {
      multipart = true;
    } else if (ct->media_type == "application/soap+xml" ||
               (options.allow_soap11 && ct->media_type == "text/xml")) {
      multipart = false;
    } else {
      return fail(errc::unsupported_media_type, detail,
                  "Content-Type is neither multipart/related nor application/soap+xml");
    }
  } else {
    char head[2] = {};
    auto n = body->read_at(0, head);
    if (!n) return n.error();
    multipart = *n == 2 && head[0] == '-' && head[1] == '-';
  }
  byte_range envelope_range;
  if (multipart) {
    auto m = scan_multipart(content_type_header, body, options.mime, *sinks);
    if (!m) {
      if (m.error().category() != category() || m.error() == errc::internal)
        return fail(errc::delivery_failed, detail, "cannot read the message");
      return fail(static_cast<errc>(m.error().value()), detail,
                  "MIME structure: " + m.error().message());
    }
    mime = std::move(*m);
    envelope_range = mime.parts[mime.root].content;
  } else {
    if (body->size() > options.mime.max_total_bytes)
      return fail(errc::mime_too_large, detail, "SOAP message above the size limit");
    envelope_range = byte_range{body, 0, body->size()};
  }
  // Only the SOAP part is held in memory, and only up to the XML size limit.
  auto envelope = read_all(envelope_range, options.xml.max_bytes, errc::soap_malformed);
  if (!envelope) {
    if (envelope.error() == errc::soap_malformed)
      return fail(errc::soap_malformed, detail, "SOAP part above the XML size limit");
    return fail(errc::delivery_failed, detail, "cannot read the message");
  }

  auto opened = open_envelope(*envelope, options, select, detail);
  if (!opened) return opened.error();
  auto& [doc, env, ebms, choice] = *opened;
  // The parts must be exactly the PartInfos' before any cryptography (EBMS:0011 / 0003).
  if (!ebms.user_messages.empty())
    if (auto r = check_parts(ebms.user_messages.front(), mime, detail); !r) return r.error();
  auto sec = process_security(doc, env, multipart ? &mime : nullptr, *sinks, choice.partners,
                              own_key, choice.policy, now, detail);
  if (!sec) return sec.error();
  std::vector<payload> payloads;
  if (!ebms.user_messages.empty()) {
    auto p = extract_payloads(ebms.user_messages.front(), mime, options.gunzip, *sinks, detail);
    if (!p) return p.error();
    payloads = std::move(*p);
  } else if (multipart && mime.parts.size() > 1) {
    return fail(errc::unexpected_part, detail, "a signal message with attachments");
  }
  return inbound_message{std::move(doc),      env,
                         std::move(ebms),     std::move(mime),
                         std::move(*sec),     std::move(payloads),
                         std::move(*envelope)};
}

}  // namespace bbgw::edelivery

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

result<std::vector<payload>> extract_payloads(user_message const& um, mime_message const& mime,
                                              gunzip_limits const& limits, std::string* detail) {
  std::vector<payload> out;
  for (auto const& pi : um.parts) {
    if (pi.content_id.empty()) continue;  // payload in the SOAP Body
    mime_part const* part = nullptr;
    for (std::size_t i = 0; i < mime.parts.size(); ++i)
      if (i != mime.root && mime.parts[i].content_id == pi.content_id) part = &mime.parts[i];
    if (!part)
      return fail(errc::payload_missing, detail, "PartInfo " + pi.href + " names no MIME part");
    payload p;
    p.content_id = pi.content_id;
    p.character_set = pi.character_set().value_or("");
    if (pi.compression_type()) {
      p.compressed = true;
      std::string why;
      auto plain = gunzip(part->content, limits, &why);
      if (!plain) return fail(errc::decompression_failed, detail, pi.href + ": " + why);
      p.data = std::move(*plain);
      p.mime_type = *pi.mime_type();
    } else {
      p.data = part->content;
      p.mime_type = pi.mime_type().value_or(part->content_type);
    }
    out.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < mime.parts.size(); ++i) {
    if (i == mime.root) continue;
    bool named = std::any_of(um.parts.begin(), um.parts.end(), [&](part_info const& pi) {
      return pi.content_id == mime.parts[i].content_id;
    });
    if (!named) return fail(errc::unexpected_part, detail, "a MIME part no PartInfo names");
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
  mime_message mime;
  std::string_view envelope_bytes;
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
    multipart = body.substr(0, 2) == "--";
  }
  if (multipart) {
    auto m = parse_multipart(content_type_header, body, options.mime);
    if (!m)
      return fail(static_cast<errc>(m.error().value()), detail,
                  "MIME structure: " + m.error().message());
    mime = std::move(*m);
  } else {
    if (body.size() > options.mime.max_total_bytes)
      return fail(errc::mime_too_large, detail, "SOAP message above the size limit");
    envelope_bytes = body;
  }
  std::string const* root = multipart ? &mime.parts[mime.root].content : nullptr;
  if (root) envelope_bytes = *root;

  auto doc = xmlsec::document::parse(envelope_bytes, options.xml);
  if (!doc) return fail(errc::soap_malformed, detail, "SOAP part: " + doc.error().message());
  auto env = locate(*doc, options.allow_soap11, detail);
  if (!env) return env.error();
  auto ebms = parse_messaging(env->messaging, options.schemas, detail);
  if (!ebms) return ebms.error();
  auto choice = select(*ebms, detail);
  if (!choice) return choice.error();
  auto sec = process_security(*doc, *env, multipart ? &mime : nullptr, choice->partners, own_key,
                              choice->policy, now, detail);
  if (!sec) return sec.error();
  std::vector<payload> payloads;
  if (!ebms->user_messages.empty()) {
    auto p = extract_payloads(ebms->user_messages.front(), mime, options.gunzip, detail);
    if (!p) return p.error();
    payloads = std::move(*p);
  } else if (multipart && mime.parts.size() > 1) {
    return fail(errc::unexpected_part, detail, "a signal message with attachments");
  }
  std::string env_copy(envelope_bytes);
  return inbound_message{std::move(*doc),    *env,
                         std::move(*ebms),   std::move(mime),
                         std::move(*sec),    std::move(payloads),
                         std::move(env_copy)};
}

}  // namespace bbgw::edelivery

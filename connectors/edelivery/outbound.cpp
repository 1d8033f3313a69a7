#include "edelivery/outbound.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>

#include <fcntl.h>
#include <libxml/tree.h>
#include <unistd.h>

#include "bbgw/cloud_event.hpp"
#include "edelivery/ebms.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "edelivery/gzip.hpp"
#include "edelivery/housekeeping.hpp"
#include "edelivery/mime.hpp"
#include "edelivery/signals.hpp"
#include "edelivery/ws_security.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"
#include "xmlsec/signature.hpp"

namespace bbgw::edelivery {

namespace x = bbgw::xmlsec;

namespace {

constexpr std::string_view attachment_content_only =
    "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only";

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

std::string party_xml(std::string_view element, party const& p) {
  std::string s = "<eb:" + std::string(element) + ">";
  for (auto const& id : p.ids) {
    s += "<eb:PartyId";
    if (!id.type.empty()) s += " type=\"" + xml_escape(id.type) + "\"";
    s += ">" + xml_escape(id.value) + "</eb:PartyId>";
  }
  return s + "<eb:Role>" + xml_escape(p.role) + "</eb:Role></eb:" + std::string(element) + ">";
}

std::string property_xml(property const& p) {
  std::string s = "<eb:Property name=\"" + xml_escape(p.name) + "\"";
  if (!p.type.empty()) s += " type=\"" + xml_escape(p.type) + "\"";
  return s + ">" + xml_escape(p.value) + "</eb:Property>";
}

xmlNodePtr first_child(xmlNodePtr parent, std::string_view ns_uri, std::string_view local) {
  auto c = x::children(parent, ns_uri, local);
  return c.empty() ? nullptr : c.front();
}

// Large blocks: each pass over a payload file is one read() per MiB, not per 64 KiB.
constexpr std::size_t chunk_bytes = 1024 * 1024;

// A payload as it is signed and sent (compressed when asked): in memory, or in a file.
struct staged_part {
  std::string content_id;
  std::string bytes;
  std::string file;  // when set, the bytes are here
  bool temporary = false;
  bool compressed = false;
  std::string sha256;  // of the bytes as sent, when known beforehand (raw)
};

// A file read through read(2), buffered for callers that ask for little at a time (xmlsec's
// cid: resolver asks for 1 KiB); large requests bypass the buffer.
class fd_reader {
 public:
  explicit fd_reader(std::string const& file) : fd_(::open(file.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~fd_reader() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_reader(fd_reader const&) = delete;
  fd_reader& operator=(fd_reader const&) = delete;
  bool ok() const { return fd_ >= 0; }
  // Fills `out` (fewer bytes only at the end).
  result<std::size_t> read(std::span<char> out) {
    std::size_t given = 0;
    while (given < out.size()) {
      if (pos_ == end_) {
        auto want = out.size() - given;
        if (want >= chunk_bytes) {  // straight into the caller's buffer
          auto n = raw(out.data() + given, want);
          if (!n) return n.error();
          if (*n == 0) break;
          given += *n;
          continue;
        }
        buffer_.resize(chunk_bytes);
        auto n = raw(buffer_.data(), buffer_.size());
        if (!n) return n.error();
        if (*n == 0) break;
        pos_ = 0;
        end_ = *n;
      }
      auto k = std::min(out.size() - given, end_ - pos_);
      std::copy_n(buffer_.data() + pos_, k, out.data() + given);
      pos_ += k;
      given += k;
    }
    return given;
  }

 private:
  result<std::size_t> raw(char* p, std::size_t n) {
    for (;;) {
      auto r = ::read(fd_, p, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return errc::internal;
      return static_cast<std::size_t>(r);
    }
  }
  int fd_;
  std::vector<char> buffer_;
  std::size_t pos_ = 0, end_ = 0;
};

// A file written through write(2) in blocks of chunk_bytes; synced and closed by finish().
class fd_writer {
 public:
  explicit fd_writer(std::string const& file)
      : fd_(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) {
    buffer_.reserve(chunk_bytes);
  }
  ~fd_writer() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_writer(fd_writer const&) = delete;
  fd_writer& operator=(fd_writer const&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool write(std::string_view b) {
    if (buffer_.size() + b.size() > chunk_bytes) {
      if (!flush()) return false;
      if (b.size() >= chunk_bytes) return raw(b.data(), b.size());
    }
    buffer_.insert(buffer_.end(), b.begin(), b.end());
    return true;
  }
  bool finish(bool sync) {
    bool ok = flush() && (!sync || ::fsync(fd_) == 0);
    ok = ::close(fd_) == 0 && ok;
    fd_ = -1;
    return ok;
  }

 private:
  bool flush() {
    bool ok = raw(buffer_.data(), buffer_.size());
    buffer_.clear();
    return ok;
  }
  bool raw(char const* p, std::size_t n) {
    while (n > 0) {
      auto w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
    return true;
  }
  int fd_;
  std::vector<char> buffer_;
};

class string_reader final : public x::part_reader {
 public:
  explicit string_reader(std::string_view s) : s_(s) {}
  result<std::size_t> read(std::span<char> buffer) override {
    auto n = std::min(buffer.size(), s_.size() - pos_);
    std::copy_n(s_.data() + pos_, n, buffer.data());
    pos_ += n;
    return n;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

class file_reader final : public x::part_reader {
 public:
  explicit file_reader(std::string const& file) : in_(file) {}
  bool ok() const { return in_.ok(); }
  result<std::size_t> read(std::span<char> buffer) override { return in_.read(buffer); }

 private:
  fd_reader in_;
};

result<std::unique_ptr<x::part_reader>> open_staged(staged_part const& p) {
  if (p.file.empty()) return std::unique_ptr<x::part_reader>(new string_reader(p.bytes));
  auto r = std::make_unique<file_reader>(p.file);
  if (!r->ok()) return errc::internal;
  return std::unique_ptr<x::part_reader>(std::move(r));
}

// cid: references of the signature resolve to the staged parts only (digests streamed).
class staged_parts final : public x::part_source {
 public:
  explicit staged_parts(std::vector<staged_part> const& parts) : parts_(parts) {}
  result<std::unique_ptr<x::part_reader>> open(std::string_view content_id) const override {
    for (auto const& p : parts_)
      if (p.content_id == content_id) return open_staged(p);
    return x::make_error_code(x::errc::part_not_found);
  }
  std::optional<std::string> known_sha256(std::string_view content_id) const override {
    for (auto const& p : parts_)
      if (p.content_id == content_id && p.sha256.size() == 32) return p.sha256;
    return std::nullopt;
  }

 private:
  std::vector<staged_part> const& parts_;
};

// gzip, file to file, chunk by chunk.
bool gzip_file(std::string const& in_file, std::string const& out_file, int level) {
  fd_reader in(in_file);
  fd_writer out(out_file);
  if (!in.ok() || !out.ok()) return false;
  auto n = gzip_stream([&in](std::span<char> buf) { return in.read(buf); },
                       [&out](std::span<char const> bytes) -> result<void> {
                         if (!out.write({bytes.data(), bytes.size()})) return errc::internal;
                         return {};
                       },
                       level);
  return out.finish(false) && n;
}

// The first MiB of a payload file (to judge whether gzip pays).
std::optional<std::string> head_of(std::string const& file) {
  fd_reader in(file);
  if (!in.ok()) return std::nullopt;
  std::string s(chunk_bytes, '\0');
  auto n = in.read(s);
  if (!n) return std::nullopt;
  s.resize(*n);
  return s;
}

// Whether a payload is sent compressed (see outbound_payload::only_if_it_pays).
result<bool> decide_compression(outbound_payload const& p) {
  if (!p.compress) return false;
  if (!p.only_if_it_pays) return true;
  if (compressed_media_type(p.mime_type)) return false;
  if (p.file.empty())
    return compresses_well(std::string_view(p.data).substr(0, chunk_bytes), p.compression_level);
  auto head = head_of(p.file);
  if (!head) return errc::internal;
  return compresses_well(*head, p.compression_level);
}

std::optional<std::string> slurp(std::string const& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

using sink = std::function<bool(std::string_view)>;

// Writes one part's bytes (read through `reader`, opened by the caller), encrypted
// (IV ‖ ciphertext ‖ tag) when `cek` is set.
result<void> write_part(staged_part const& p, x::part_reader& reader, std::string const* cek,
                        sink const& out) {
  if (!cek && p.file.empty()) return out(p.bytes) ? result<void>() : result<void>(errc::internal);
  std::optional<x::gcm_encryptor> enc;
  if (cek) enc.emplace(*cek);
  std::vector<char> buf(chunk_bytes);
  std::string ct;
  ct.reserve(chunk_bytes + 64);
  for (;;) {
    auto n = reader.read(buf);
    if (!n) return n.error();
    if (*n == 0) break;
    std::string_view plain(buf.data(), *n);
    if (enc) {
      ct.clear();
      if (auto r = enc->update(std::span<char const>(plain.data(), plain.size()), ct); !r)
        return r.error();
      if (!out(ct)) return errc::internal;
    } else if (!out(plain)) {
      return errc::internal;
    }
  }
  if (enc) {
    ct.clear();
    if (auto r = enc->finish(ct); !r) return r.error();  // (the IV too, for an empty part)
    if (!out(ct)) return errc::internal;
  }
  return {};
}

// compress → sign → encrypt, writing the MIME body through `out`. `temp_prefix` non-empty:
// compressed file payloads are staged in files named after it (removed before returning).
result<outbound_message> build(outbound_spec const& spec, sink const& write,
                               std::string const& temp_prefix, std::string* detail,
                               std::function<void(outbound_message const&)> const& head = {}) {
  if (!spec.signing_key || !spec.signing_key->has_private() || !spec.signing_key->certificate())
    return fail(errc::internal, detail, "no signing key with a certificate");
  auto const& h = spec.header;
  // 1. compress
  std::vector<staged_part> parts;
  struct cleanup {
    std::vector<staged_part>& parts;
    ~cleanup() {
      std::error_code ec;
      for (auto const& p : parts)
        if (p.temporary) std::filesystem::remove(p.file, ec);
    }
  } remove_temporaries{parts};
  for (std::size_t i = 0; i < spec.payloads.size(); ++i) {
    auto const& p = spec.payloads[i];
    staged_part part;
    part.content_id = p.content_id;
    auto compress = decide_compression(p);
    if (!compress) return fail(errc::internal, detail, "cannot read a payload file");
    part.compressed = *compress;
    if (!p.file.empty() && part.compressed && !temp_prefix.empty()) {
      part.file = temp_prefix + ".z" + std::to_string(i) + std::string(partial_suffix);
      part.temporary = true;
      parts.push_back(part);
      if (!gzip_file(p.file, part.file, p.compression_level))
        return fail(errc::internal, detail, "cannot compress a payload file");
      continue;
    }
    if (!p.file.empty() && !part.compressed) {
      part.file = p.file;
      part.sha256 = p.sha256;
    } else {
      std::optional<std::string> loaded;
      if (!p.file.empty() && !(loaded = slurp(p.file)))
        return fail(errc::internal, detail, "cannot read a payload file");
      std::string_view plain = loaded ? std::string_view(*loaded) : std::string_view(p.data);
      if (part.compressed) {
        auto z = gzip(plain, p.compression_level);
        if (!z) return fail(errc::internal, detail, "compression failed");
        part.bytes = std::move(*z);
      } else {
        part.bytes = std::string(plain);
      }
    }
    parts.push_back(std::move(part));
  }
  // 2. the envelope
  auto uid = new_event_id();
  std::string bst_id = "X509-" + uid, messaging_id = "messaging-" + uid, body_id = "body-" + uid;
  std::string s = "<S12:Envelope xmlns:S12=\"" + std::string(ns::soap12) + "\" xmlns:eb=\"" +
                  std::string(ns::eb) + "\" xmlns:wsu=\"" + std::string(ns::wsu) +
                  "\" xmlns:wsse=\"" + std::string(ns::wsse) + "\" xmlns:ds=\"" +
                  std::string(ns::ds) + "\" xmlns:xenc=\"" + std::string(ns::xenc) +
                  "\"><S12:Header><wsse:Security S12:mustUnderstand=\"true\">"
                  "<wsse:BinarySecurityToken EncodingType=\"" +
                  std::string(wss::encoding_base64) + "\" ValueType=\"" +
                  std::string(wss::value_type_x509) + "\" wsu:Id=\"" + bst_id + "\">" +
                  base64_encode(spec.signing_key->certificate_der()) +
                  "</wsse:BinarySecurityToken>";
  std::vector<std::string> data_ids;
  if (spec.recipient) {
    for (std::size_t i = 0; i < spec.payloads.size(); ++i) {
      data_ids.push_back("ED-" + uid + "-" + std::to_string(i));
      s += "<xenc:EncryptedData Id=\"" + data_ids.back() + "\" MimeType=\"" +
           (parts[i].compressed ? std::string("application/gzip")
                                : xml_escape(spec.payloads[i].mime_type)) +
           "\" Type=\"" + std::string(attachment_content_only) +
           "\"><xenc:EncryptionMethod Algorithm=\"" + std::string(x::uri::aes128_gcm) +
           "\"/><xenc:CipherData><xenc:CipherReference URI=\"cid:" +
           xml_escape(spec.payloads[i].content_id) +
           "\"><xenc:Transforms><ds:Transform Algorithm=\"" + std::string(x::uri::swa_ciphertext) +
           "\"/></xenc:Transforms></xenc:CipherReference></xenc:CipherData></xenc:EncryptedData>";
    }
  }
  s += "</wsse:Security><eb:Messaging S12:mustUnderstand=\"true\" wsu:Id=\"" + messaging_id +
       "\"><eb:UserMessage><eb:MessageInfo><eb:Timestamp>" + xml_escape(h.info.timestamp) +
       "</eb:Timestamp><eb:MessageId>" + xml_escape(h.info.message_id) +
       "</eb:MessageId></eb:MessageInfo><eb:PartyInfo>" + party_xml("From", h.from) +
       party_xml("To", h.to) + "</eb:PartyInfo><eb:CollaborationInfo>";
  if (!h.agreement_ref.empty())
    s += "<eb:AgreementRef>" + xml_escape(h.agreement_ref) + "</eb:AgreementRef>";
  s += "<eb:Service";
  if (!h.service_type.empty()) s += " type=\"" + xml_escape(h.service_type) + "\"";
  s += ">" + xml_escape(h.service) + "</eb:Service><eb:Action>" + xml_escape(h.action) +
       "</eb:Action><eb:ConversationId>" + xml_escape(h.conversation_id) +
       "</eb:ConversationId></eb:CollaborationInfo>";
  if (!h.message_properties.empty()) {
    s += "<eb:MessageProperties>";
    for (auto const& p : h.message_properties) s += property_xml(p);
    s += "</eb:MessageProperties>";
  }
  if (!spec.payloads.empty()) {
    s += "<eb:PayloadInfo>";
    for (std::size_t i = 0; i < spec.payloads.size(); ++i) {
      auto const& p = spec.payloads[i];
      s += "<eb:PartInfo href=\"cid:" + xml_escape(p.content_id) + "\"><eb:PartProperties>" +
           property_xml({"MimeType", "", p.mime_type});
      if (parts[i].compressed) s += property_xml({"CompressionType", "", "application/gzip"});
      s += "</eb:PartProperties></eb:PartInfo>";
    }
    s += "</eb:PayloadInfo>";
  }
  s += "</eb:UserMessage></eb:Messaging></S12:Header><S12:Body wsu:Id=\"" + body_id +
       "\"/></S12:Envelope>";
  auto doc = x::document::parse(s);
  if (!doc) return fail(errc::internal, detail, "cannot parse the built envelope");
  std::array<x::id_attribute, 1> ids{x::id_attribute{ns::wsu, "Id"}};
  if (auto r = doc->register_ids(ids); !r) return r.error();
  auto* header = first_child(doc->root(), ns::soap12, "Header");
  auto* security = first_child(header, ns::wsse, "Security");

  // 3. sign over eb:Messaging, the Body and every (compressed) attachment
  x::sign_spec sign;
  sign.include_certificate = false;
  sign.references = {{"#" + messaging_id, {std::string(x::uri::exc_c14n)}},
                     {"#" + body_id, {std::string(x::uri::exc_c14n)}}};
  for (auto const& p : spec.payloads)
    sign.references.push_back(
        {"cid:" + p.content_id, {std::string(x::uri::swa_content_signature)}});
  staged_parts source(parts);
  auto sig = x::sign(*doc, security, nullptr, *spec.signing_key, sign, &source);
  if (!sig) return fail(errc::internal, detail, "signing failed: " + sig.error().message());
  {
    xmlNsPtr ds_ns = xmlSearchNsByHref(doc->get(), *sig, BAD_CAST ns::ds.data());
    xmlNsPtr wsse_ns = xmlSearchNsByHref(doc->get(), *sig, BAD_CAST ns::wsse.data());
    auto* key_info = xmlNewChild(*sig, ds_ns, BAD_CAST "KeyInfo", nullptr);
    auto* str = xmlNewChild(key_info, wsse_ns, BAD_CAST "SecurityTokenReference", nullptr);
    auto* ref = xmlNewChild(str, wsse_ns, BAD_CAST "Reference", nullptr);
    xmlNewProp(ref, BAD_CAST "URI", BAD_CAST("#" + bst_id).c_str());
    xmlNewProp(ref, BAD_CAST "ValueType", BAD_CAST wss::value_type_x509.data());
  }
  outbound_message out;
  for (auto const& part : parts) out.compressed.push_back(part.compressed);
  auto* signed_info = first_child(*sig, ns::ds, "SignedInfo");
  for (auto* r : x::children(signed_info, ns::ds, "Reference")) {
    sent_reference sr;
    sr.uri = x::attribute(r, "URI").value_or("");
    if (auto* dm = first_child(r, ns::ds, "DigestMethod"))
      sr.digest_method = x::attribute(dm, "Algorithm").value_or("");
    auto* dv = first_child(r, ns::ds, "DigestValue");
    auto text = dv ? x::text_of(dv) : result<std::string>(errc::internal);
    auto raw = text ? base64_decode(*text) : std::nullopt;
    if (!raw) return fail(errc::internal, detail, "unreadable DigestValue");
    sr.digest_value = std::move(*raw);
    out.references.push_back(std::move(sr));
  }

  // 4. encrypt every attachment with one AES-128-GCM key, wrapped for the recipient (the
  //    attachments themselves are encrypted as they are written, below)
  result<std::string> cek = std::string();
  if (spec.recipient) {
    cek = x::random_bytes(16);
    if (!cek) return cek.error();
    x::key_transport_spec kt;  // xmlenc11 rsa-oaep + MGF1-SHA-256 + SHA-256
    auto wrapped = x::encrypt_key(*cek, *spec.recipient, kt);
    if (!wrapped) return fail(errc::internal, detail, "key transport failed");
    auto ek = x::build_encrypted_key(security, *wrapped, kt, data_ids);
    if (!ek) return fail(errc::internal, detail, "cannot build EncryptedKey");
    // KeyInfo: the recipient's certificate by IssuerSerial.
    xmlNsPtr ds_ns = xmlSearchNsByHref(doc->get(), security, BAD_CAST ns::ds.data());
    xmlNsPtr wsse_ns = xmlSearchNsByHref(doc->get(), security, BAD_CAST ns::wsse.data());
    auto* key_info = xmlNewNode(ds_ns, BAD_CAST "KeyInfo");
    auto* str = xmlNewChild(key_info, wsse_ns, BAD_CAST "SecurityTokenReference", nullptr);
    auto* x509 = xmlNewChild(str, ds_ns, BAD_CAST "X509Data", nullptr);
    auto* is = xmlNewChild(x509, ds_ns, BAD_CAST "X509IssuerSerial", nullptr);
    xmlNewTextChild(is, ds_ns, BAD_CAST "X509IssuerName",
                    BAD_CAST spec.recipient->issuer_name().c_str());
    xmlNewTextChild(is, ds_ns, BAD_CAST "X509SerialNumber",
                    BAD_CAST spec.recipient->serial_decimal().c_str());
    auto* method = (*ek)->children;
    while (method && method->type != XML_ELEMENT_NODE) method = method->next;
    if (method)
      xmlAddNextSibling(method, key_info);
    else
      xmlAddChild(*ek, key_info);
    // Header order is processing order for WSS4J-based peers: EncryptedKey and EncryptedData
    // before the Signature, so they decrypt before they verify.
    auto* first_ed = first_child(security, ns::xenc, "EncryptedData");
    if (first_ed) {
      xmlUnlinkNode(*ek);
      xmlAddPrevSibling(first_ed, *ek);
    }
  }

  // 5. MIME
  std::string boundary = "MIMEBoundary_" + uid;
  std::string root_id = "root-" + uid + "@bbgw";
  out.content_type = "multipart/related; type=\"application/soap+xml\"; boundary=\"" + boundary +
                     "\"; start=\"<" + root_id + ">\"";
  // Every part opened before the first byte: a message sent while it is built may take long
  // on a slow link, and a staged file removed meanwhile (the leftover sweep) stays readable.
  std::vector<std::unique_ptr<x::part_reader>> readers;
  for (auto const& part : parts) {
    auto r = open_staged(part);
    if (!r) return fail(errc::internal, detail, "cannot read a staged part");
    readers.push_back(std::move(*r));
  }
  if (head) head(out);  // all but the bytes: a send may start now
  auto emit = [&](std::string_view bytes) {
    out.size += bytes.size();
    return write(bytes);
  };
  if (!emit("--" + boundary +
            "\r\nContent-Type: application/soap+xml; charset=UTF-8\r\nContent-Transfer-Encoding: "
            "binary\r\nContent-ID: <" +
            root_id + ">\r\n\r\n" + doc->serialise() + "\r\n"))
    return fail(errc::internal, detail, "cannot write the message");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto const& part = parts[i];
    if (!emit("--" + boundary +
              "\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
              "Content-ID: <" +
              part.content_id + ">\r\n\r\n"))
      return fail(errc::internal, detail, "cannot write the message");
    if (auto r = write_part(part, *readers[i], spec.recipient ? &*cek : nullptr, emit); !r)
      return fail(errc::internal, detail, "cannot write (encrypt) an attachment");
    if (!emit("\r\n")) return fail(errc::internal, detail, "cannot write the message");
  }
  if (!emit("--" + boundary + "--\r\n"))
    return fail(errc::internal, detail, "cannot write the message");
  return out;
}

}  // namespace

result<outbound_message> build_user_message(outbound_spec const& spec, std::string* detail) {
  std::string body;
  auto m = build(
      spec,
      [&](std::string_view b) {
        body += b;
        return true;
      },
      "", detail);
  if (!m) return m.error();
  m->body = std::move(body);
  return m;
}

result<outbound_message> build_user_message_file(outbound_spec const& spec,
                                                 std::string const& body_file, std::string* detail,
                                                 message_tee* tee) {
  auto const partial = body_file + std::string(partial_suffix);
  fd_writer f(partial);
  if (!f.ok()) return fail(errc::internal, detail, "cannot create the message file");
  bool teeing = tee && tee->write;
  auto m = build(
      spec,
      [&](std::string_view b) {
        if (tee && tee->cancelled && tee->cancelled()) return false;
        if (teeing) teeing = tee->write(b);
        return f.write(b);
      },
      body_file, detail, tee ? tee->head : std::function<void(outbound_message const&)>());
  std::error_code ec;
  if (!f.finish(false) && m) m = fail(errc::internal, detail, "cannot write the message file");
  if (m) {
    std::filesystem::rename(partial, body_file, ec);
    if (ec) m = fail(errc::internal, detail, "cannot keep the message file");
  }
  if (!m) {
    std::filesystem::remove(partial, ec);
    std::filesystem::remove(body_file, ec);
    return m.error();
  }
  m->body_file = body_file;
  return m;
}

result<void> check_receipt(inbound_message const& receipt, std::string const& message_id,
                           std::vector<sent_reference> const& sent, std::string* detail) {
  if (receipt.ebms.signals.size() != 1 || receipt.ebms.signals[0].kind != signal_kind::receipt)
    return fail(errc::receipt_invalid, detail, "not a receipt signal");
  auto const& sig = receipt.ebms.signals[0];
  if (sig.info.ref_to_message_id != message_id)
    return fail(errc::receipt_invalid, detail, "RefToMessageId names another message");
  auto nri = x::children(sig.receipt, ns::ebbp, "NonRepudiationInformation");
  if (nri.size() != 1) return fail(errc::receipt_invalid, detail, "no NonRepudiationInformation");
  std::vector<sent_reference> got;
  for (auto* part : x::children(nri.front(), ns::ebbp, "MessagePartNRInformation"))
    for (auto* r : x::children(part, ns::ds, "Reference")) {
      sent_reference sr;
      sr.uri = x::attribute(r, "URI").value_or("");
      auto* dv = first_child(r, ns::ds, "DigestValue");
      auto text = dv ? x::text_of(dv) : result<std::string>(errc::internal);
      auto raw = text ? base64_decode(*text) : std::nullopt;
      if (!raw) return fail(errc::receipt_invalid, detail, "unreadable DigestValue in the receipt");
      sr.digest_value = std::move(*raw);
      got.push_back(std::move(sr));
    }
  for (auto const& s : sent) {
    bool found = false;
    for (auto const& g : got)
      if (g.uri == s.uri && g.digest_value == s.digest_value) found = true;
    if (!found)
      return fail(errc::receipt_invalid, detail, "the receipt does not acknowledge " + s.uri);
  }
  return {};
}

}  // namespace bbgw::edelivery

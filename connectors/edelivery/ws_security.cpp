#include "edelivery/ws_security.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <optional>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "bbgw/date_time.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "xmlsec/encryption.hpp"
#include "xmlsec/errc.hpp"

namespace bbgw::edelivery {

namespace x = bbgw::xmlsec;

namespace {

error_code fail(errc e, std::string* detail, std::string_view why) {
  if (detail) *detail = std::string(why);
  return e;
}

// An xmlsec error keeps the library's specific reason, but becomes our errc.
error_code from_lib(error_code ec, std::string* detail, std::string const& why,
                    std::string_view what) {
  if (detail) *detail = std::string(what) + (why.empty() ? "" : ": " + why);
  return from_xmlsec(ec);
}

class memory_reader final : public x::part_reader {
 public:
  explicit memory_reader(std::string_view data) : data_(data) {}
  result<std::size_t> read(std::span<char> buffer) override {
    auto n = std::min(buffer.size(), data_.size());
    std::memcpy(buffer.data(), data_.data(), n);
    data_.remove_prefix(n);
    return n;
  }

 private:
  std::string_view data_;
};

// "#id" → the child of Security (any depth) whose Id / wsu:Id equals id. Security-header
// tokens are looked up here, not through the registered IDs, because their Id attribute is
// often unqualified.
xmlNodePtr find_in_security(xmlNodePtr security, std::string_view uri) {
  if (uri.empty() || uri.front() != '#') return nullptr;
  auto id = uri.substr(1);
  std::vector<xmlNodePtr> stack{security};
  while (!stack.empty()) {
    auto* n = stack.back();
    stack.pop_back();
    for (auto* c = n->children; c; c = c->next) {
      if (c->type != XML_ELEMENT_NODE) continue;
      auto a = x::attribute(c, "Id");
      auto b = x::attribute_ns(c, ns::wsu, "Id");
      if ((a && *a == id) || (b && *b == id)) return c;
      stack.push_back(c);
    }
  }
  return nullptr;
}

bool within(xmlNodePtr node, xmlNodePtr ancestor) {
  for (auto* n = node; n; n = n->parent)
    if (n == ancestor) return true;
  return false;
}

// RFC 2253 names as peers write them: compare without spaces after separators, case-insensitive.
std::string normalise_dn(std::string_view dn) {
  std::string out;
  bool after_sep = true;
  for (char c : dn) {
    if (after_sep && c == ' ') continue;
    after_sep = c == ',' || c == '+' || c == '=';
    if (c == ' ' && !out.empty() && (out.back() == ',' || out.back() == '=')) continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  // "a = b" → "a=b"
  std::string compact;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ' && i + 1 < out.size() && (out[i + 1] == '=' || out[i + 1] == ',')) continue;
    compact += out[i];
  }
  return compact;
}

std::optional<std::string> b64_text(xmlNodePtr element) {
  auto t = x::text_of(element);
  if (!t) return std::nullopt;
  return base64_decode(*t);
}

// Step 4: which configured certificate does the KeyInfo name?
result<std::size_t> select_signer(xmlNodePtr signature, xmlNodePtr security,
                                  std::span<x::key const> partners, std::string* detail) {
  auto key_info = x::only_child(signature, ns::ds, "KeyInfo");
  if (!key_info || !*key_info)
    return fail(errc::signer_not_trusted, detail, "the signature has no KeyInfo");
  auto match = [&](auto pred, std::string_view how) -> result<std::size_t> {
    for (std::size_t i = 0; i < partners.size(); ++i)
      if (partners[i].certificate() && pred(partners[i])) return i;
    return fail(errc::signer_not_trusted, detail,
                std::string(how) + " names no configured partner certificate");
  };
  auto issuer_serial = [&](xmlNodePtr x509_data) -> result<std::size_t> {
    auto is = x::only_child(x509_data, ns::ds, "X509IssuerSerial");
    if (!is || !*is) return errc::signer_not_trusted;
    auto name_el = x::only_child(*is, ns::ds, "X509IssuerName");
    auto serial_el = x::only_child(*is, ns::ds, "X509SerialNumber");
    if (!name_el || !*name_el || !serial_el || !*serial_el)
      return fail(errc::signer_not_trusted, detail, "incomplete X509IssuerSerial");
    auto name = x::text_of(*name_el);
    auto serial = x::text_of(*serial_el);
    if (!name || !serial)
      return fail(errc::signer_not_trusted, detail, "unreadable X509IssuerSerial");
    auto want_name = normalise_dn(*name);
    return match(
        [&](x::key const& k) {
          return k.serial_decimal() == *serial && normalise_dn(k.issuer_name()) == want_name;
        },
        "X509IssuerSerial");
  };
  auto certificate_der = [&](std::string const& der, std::string_view how) {
    return match([&](x::key const& k) { return k.certificate_der() == der; }, how);
  };

  if (auto str = x::only_child(*key_info, ns::wsse, "SecurityTokenReference"); str && *str) {
    if (auto ref = x::only_child(*str, ns::wsse, "Reference"); ref && *ref) {
      auto uri = x::attribute(*ref, "URI").value_or("");
      auto* bst = find_in_security(security, uri);
      if (!bst || !x::is(bst, ns::wsse, "BinarySecurityToken"))
        return fail(errc::signer_not_trusted, detail,
                    "the SecurityTokenReference names no BinarySecurityToken");
      auto vt = x::attribute(bst, "ValueType").value_or("");
      if (vt != wss::value_type_x509)
        return fail(errc::signer_not_trusted, detail, "BinarySecurityToken is not X509v3");
      auto der = b64_text(bst);
      if (!der) return fail(errc::signer_not_trusted, detail, "BinarySecurityToken is not base64");
      // A BST is only a pointer: it must be byte-identical to a configured certificate.
      return certificate_der(*der, "the BinarySecurityToken");
    }
    if (auto ki = x::only_child(*str, ns::wsse, "KeyIdentifier"); ki && *ki) {
      if (x::attribute(*ki, "ValueType").value_or("") != wss::value_type_ski)
        return fail(errc::signer_not_trusted, detail, "unsupported KeyIdentifier ValueType");
      auto ski = b64_text(*ki);
      if (!ski) return fail(errc::signer_not_trusted, detail, "KeyIdentifier is not base64");
      return match(
          [&](x::key const& k) {
            auto s = k.subject_key_identifier();
            return s && *s == *ski;
          },
          "the SubjectKeyIdentifier");
    }
    if (auto xd = x::only_child(*str, ns::ds, "X509Data"); xd && *xd) return issuer_serial(*xd);
    return fail(errc::signer_not_trusted, detail, "unsupported SecurityTokenReference form");
  }
  if (auto xd = x::only_child(*key_info, ns::ds, "X509Data"); xd && *xd) {
    if (auto c = x::only_child(*xd, ns::ds, "X509Certificate"); c && *c) {
      auto der = b64_text(*c);
      if (!der) return fail(errc::signer_not_trusted, detail, "X509Certificate is not base64");
      return certificate_der(*der, "the X509Certificate");
    }
    return issuer_serial(*xd);
  }
  return fail(errc::signer_not_trusted, detail, "unsupported KeyInfo form");
}

// The SignedInfo's algorithms against the allow-lists, before any key is looked at: an unknown
// or weak algorithm is policy non-compliance (EBMS:0103) whoever signed.
result<void> check_algorithms(xmlNodePtr signature, x::algorithm_policy const& policy,
                              std::string* detail) {
  auto si = x::only_child(signature, ns::ds, "SignedInfo");
  if (!si || !*si) return fail(errc::signature_invalid, detail, "ds:Signature without SignedInfo");
  auto alg = [](xmlNodePtr parent, std::string_view local) -> std::string {
    auto c = x::only_child(parent, ns::ds, local);
    if (!c || !*c) return {};
    return x::attribute(*c, "Algorithm").value_or("");
  };
  auto sm = alg(*si, "SignatureMethod");
  if (!policy.allows(policy.signature_methods, sm))
    return fail(errc::algorithm_not_allowed, detail, "SignatureMethod " + sm + " not allowed");
  auto cm = alg(*si, "CanonicalizationMethod");
  if (!policy.allows(policy.c14n_methods, cm))
    return fail(errc::algorithm_not_allowed, detail,
                "CanonicalizationMethod " + cm + " not allowed");
  for (auto* ref : x::children(*si, ns::ds, "Reference")) {
    auto dm = alg(ref, "DigestMethod");
    if (!policy.allows(policy.digest_methods, dm))
      return fail(errc::algorithm_not_allowed, detail, "DigestMethod " + dm + " not allowed");
    if (auto ts = x::only_child(ref, ns::ds, "Transforms"); ts && *ts)
      for (auto* t : x::children(*ts, ns::ds, "Transform")) {
        auto ta = x::attribute(t, "Algorithm").value_or("");
        if (!policy.allows(policy.transforms, ta))
          return fail(errc::algorithm_not_allowed, detail, "Transform " + ta + " not allowed");
      }
  }
  return {};
}

result<void> check_signer(x::key const& k, x::algorithm_policy const& policy, sys_time now,
                          std::string* detail) {
  if ((k.family() == x::key_family::rsa || k.family() == x::key_family::rsa_pss) &&
      k.bits() < policy.min_rsa_bits)
    return fail(errc::algorithm_not_allowed, detail,
                "signing key RSA-" + std::to_string(k.bits()) + " below the policy's minimum " +
                    std::to_string(policy.min_rsa_bits));
  if (k.family() == x::key_family::ec && k.bits() < policy.min_ec_bits)
    return fail(errc::algorithm_not_allowed, detail, "signing EC key below the policy's minimum");
  if (auto* cert = k.certificate()) {
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    if (X509_cmp_time(X509_get0_notBefore(cert), &t) > 0)
      return fail(errc::signer_not_trusted, detail, "signing certificate not yet valid");
    if (X509_cmp_time(X509_get0_notAfter(cert), &t) < 0)
      return fail(errc::signer_not_trusted, detail, "signing certificate expired");
  }
  return {};
}

// xsd:dateTime as WS-Security writes it: "2018-12-19T08:56:26.657Z", "…+01:00"; a value
// without a zone is taken as UTC (WSS says UTC; lenient here, strict on the syntax).
std::optional<sys_time> parse_date_time(std::string_view v) {
  return parse_rfc3339(v, {.utc_without_zone = true});
}

// Step 2b: freshness of a wsu:Timestamp (optional in the profile; checked when present).
result<void> check_timestamp(xmlNodePtr security, sys_time now, std::chrono::seconds skew,
                             std::string* detail) {
  auto stamps = x::children(security, ns::wsu, "Timestamp");
  if (stamps.empty()) return {};
  if (stamps.size() > 1)
    return fail(errc::timestamp_invalid, detail, "more than one wsu:Timestamp");
  auto read = [&](std::string_view local) -> result<std::optional<sys_time>> {
    auto el = x::only_child(stamps.front(), ns::wsu, local);
    if (!el) return fail(errc::timestamp_invalid, detail, "repeated wsu:" + std::string(local));
    if (!*el) return std::optional<sys_time>();
    auto text = x::text_of(*el);
    auto t = text ? parse_date_time(*text) : std::nullopt;
    if (!t) return fail(errc::timestamp_invalid, detail, "unreadable wsu:" + std::string(local));
    return std::optional<sys_time>(*t);
  };
  auto created = read("Created");
  if (!created) return created.error();
  auto expires = read("Expires");
  if (!expires) return expires.error();
  if (*created && **created > now + skew)
    return fail(errc::timestamp_invalid, detail, "wsu:Timestamp Created is in the future");
  if (*expires && **expires < now - skew)
    return fail(errc::timestamp_invalid, detail, "wsu:Timestamp has expired");
  if (*created && *expires && **expires < **created)
    return fail(errc::timestamp_invalid, detail, "wsu:Timestamp Expires before Created");
  return {};
}

// Step 3 for one xenc:EncryptedData that encrypts an attachment: its checks, and the key and
// attachment it names (decrypted later, by attachment_decryptor).
result<attachment_key> plan_attachment(xmlNodePtr encrypted_data, std::string_view cek,
                                       x::algorithm_policy const& policy,
                                       std::vector<attachment_key> const& planned,
                                       std::string* detail) {
  auto method = x::only_child(encrypted_data, ns::xenc, "EncryptionMethod");
  if (!method || !*method) return fail(errc::decryption_failed, detail, "no EncryptionMethod");
  auto alg = x::attribute(*method, "Algorithm").value_or("");
  if (!policy.allows(policy.data_encryption, alg) ||
      (alg != x::uri::aes128_gcm && alg != x::uri::aes192_gcm && alg != x::uri::aes256_gcm))
    return fail(errc::algorithm_not_allowed, detail, "content encryption " + alg + " not allowed");
  auto cipher_data = x::only_child(encrypted_data, ns::xenc, "CipherData");
  if (!cipher_data || !*cipher_data) return fail(errc::decryption_failed, detail, "no CipherData");
  auto cref = x::only_child(*cipher_data, ns::xenc, "CipherReference");
  if (!cref || !*cref)
    return fail(errc::feature_not_supported, detail,
                "EncryptedData in the header must reference an attachment");
  auto uri = x::attribute(*cref, "URI").value_or("");
  if (uri.rfind("cid:", 0) != 0)
    return fail(errc::value_inconsistent, detail, "CipherReference URI is not cid:");
  if (auto ts = x::only_child(*cref, ns::xenc, "Transforms"); ts && *ts) {
    for (auto* t : x::children(*ts, ns::ds, "Transform"))
      if (x::attribute(t, "Algorithm").value_or("") != x::uri::swa_ciphertext)
        return fail(errc::algorithm_not_allowed, detail, "CipherReference transform not allowed");
  }
  attachment_key key;
  key.content_id = std::string(bare_content_id(uri));
  if (std::any_of(planned.begin(), planned.end(),
                  [&](attachment_key const& k) { return k.content_id == key.content_id; }))
    return fail(errc::value_inconsistent, detail, "an attachment is encrypted twice");
  if (cek.size() != 16 && cek.size() != 24 && cek.size() != 32)
    return fail(errc::decryption_failed, detail, "content key has the wrong size");
  key.cek = std::string(cek);
  key.mime_type = x::attribute(encrypted_data, "MimeType").value_or("");
  return key;
}

result<std::vector<attachment_key>> plan_decryption(xmlNodePtr security, bool has_attachments,
                                                    x::key const* own_key,
                                                    x::algorithm_policy const& policy,
                                                    std::string* detail) {
  std::vector<attachment_key> planned;
  auto keys = x::children(security, ns::xenc, "EncryptedKey");
  auto datas = x::children(security, ns::xenc, "EncryptedData");
  if (keys.empty() && datas.empty()) return planned;
  if (!own_key || !own_key->has_private())
    return fail(errc::decryption_failed, detail, "encrypted message but no decryption key");
  if (!has_attachments)
    return fail(errc::decryption_failed, detail, "encrypted data but no attachments");
  std::vector<xmlNodePtr> handled;
  for (auto* ek : keys) {
    std::string why;
    auto cek = x::decrypt_key(ek, *own_key, policy, &why);
    if (!cek) return from_lib(cek.error(), detail, why, "EncryptedKey");
    std::vector<xmlNodePtr> targets;
    if (auto rl = x::only_child(ek, ns::xenc, "ReferenceList"); rl && *rl)
      for (auto* dr : x::children(*rl, ns::xenc, "DataReference")) {
        auto* ed = find_in_security(security, x::attribute(dr, "URI").value_or(""));
        if (!ed || !x::is(ed, ns::xenc, "EncryptedData"))
          return fail(errc::decryption_failed, detail, "DataReference names no EncryptedData");
        targets.push_back(ed);
      }
    for (auto* ed : targets) {
      if (std::find(handled.begin(), handled.end(), ed) != handled.end()) continue;
      auto k = plan_attachment(ed, *cek, policy, planned, detail);
      if (!k) return k.error();
      planned.push_back(std::move(*k));
      handled.push_back(ed);
    }
  }
  for (auto* ed : datas)
    if (std::find(handled.begin(), handled.end(), ed) == handled.end())
      return fail(errc::decryption_failed, detail, "EncryptedData that no EncryptedKey lists");
  return planned;
}

}  // namespace

result<std::unique_ptr<x::part_reader>> memory_parts::open(std::string_view content_id) const {
  if (mime_)
    for (std::size_t i = 0; i < mime_->parts.size(); ++i)
      if (i != mime_->root && mime_->parts[i].content_id == content_id)
        return std::unique_ptr<x::part_reader>(new memory_reader(mime_->parts[i].content));
  return x::make_error_code(x::errc::part_not_found);
}

result<std::unique_ptr<x::part_reader>> located_parts::open(std::string_view content_id) const {
  if (mime_)
    if (auto const* p = mime_->attachment(content_id)) return range_reader(p->content);
  return x::make_error_code(x::errc::part_not_found);
}

std::optional<std::string> located_parts::known_sha256(std::string_view content_id) const {
  auto const* p = mime_ ? mime_->attachment(content_id) : nullptr;
  if (p == nullptr || p->content_sha256_hex.size() != 64) return std::nullopt;
  std::string raw(32, '\0');
  for (std::size_t i = 0; i < 32; ++i) {
    int const hi = OPENSSL_hexchar2int(static_cast<unsigned char>(p->content_sha256_hex[2 * i]));
    int const lo =
        OPENSSL_hexchar2int(static_cast<unsigned char>(p->content_sha256_hex[2 * i + 1]));
    if (hi < 0 || lo < 0) return std::nullopt;
    raw[i] = static_cast<char>(hi * 16 + lo);
  }
  return raw;
}

attachment_decryptor::attachment_decryptor(attachment_key const& key,
                                           std::unique_ptr<byte_sink> sink)
    : mime_type_(key.mime_type), sink_(std::move(sink)), gcm_(key.cek) {}

result<void> attachment_decryptor::update(std::span<char const> ciphertext, std::string* detail) {
  plain_.clear();
  if (auto r = gcm_.update(ciphertext, plain_); !r)
    return fail(errc::decryption_failed, detail, "attachment decryption failed");
  sha_.update(plain_);
  if (auto r = sink_->write(plain_); !r)
    return fail(errc::delivery_failed, detail, "cannot write a decrypted attachment");
  return {};
}

result<void> attachment_decryptor::finish(located_part& part, std::string* detail) {
  plain_.clear();
  if (auto r = gcm_.finish(plain_); !r)
    return fail(errc::decryption_failed, detail, "attachment authentication tag does not match");
  sha_.update(plain_);
  if (auto r = sink_->write(plain_); !r)
    return fail(errc::delivery_failed, detail, "cannot write a decrypted attachment");
  auto src = sink_->finish();
  if (!src) return fail(errc::delivery_failed, detail, "cannot write a decrypted attachment");
  auto size = (*src)->size();
  part.content = byte_range{std::move(*src), 0, size};
  part.content_sha256_hex = sha_.hex_digest();
  if (!mime_type_.empty()) part.content_type = mime_type_;
  return {};
}

result<std::unique_ptr<attachment_decryptor>> attachment_decryptor::start(attachment_key const& key,
                                                                          sink_factory& scratch,
                                                                          std::string* detail) {
  auto sink = scratch.scratch();
  if (!sink) return fail(errc::delivery_failed, detail, "cannot create a scratch file");
  return std::unique_ptr<attachment_decryptor>(new attachment_decryptor(key, std::move(*sink)));
}

result<security_plan> prepare_security(x::document& doc, soap_envelope const& env,
                                       bool has_attachments, x::key const* own_key,
                                       security_policy const& policy, sys_time now,
                                       std::string* detail) {
  security_plan plan;
  // 1.
  if (!env.security) {
    if (policy.require_signature)
      return fail(errc::security_missing, detail, "no wsse:Security header");
    return plan;
  }
  plan.has_header = true;
  // 2.
  std::array<x::id_attribute, 1> ids{x::id_attribute{ns::wsu, "Id"}};
  if (auto r = doc.register_ids(ids); !r)
    return from_lib(r.error(), detail, "", "duplicate wsu:Id");
  if (auto r = check_timestamp(env.security, now, policy.timestamp_skew, detail); !r)
    return r.error();
  // 3. (the keys; the attachments follow)
  auto keys = plan_decryption(env.security, has_attachments, own_key, policy.algorithms, detail);
  if (!keys) return keys.error();
  plan.attachments = std::move(*keys);
  return plan;
}

result<security_outcome> process_security(x::document& doc, soap_envelope const& env,
                                          mime_layout* mime, sink_factory& scratch,
                                          std::span<x::key const> partners, x::key const* own_key,
                                          security_policy const& policy, sys_time now,
                                          std::string* detail) {
  auto plan = prepare_security(doc, env, mime != nullptr, own_key, policy, now, detail);
  if (!plan) return plan.error();
  // 3. Each attachment streamed from where it is located into a scratch sink that then stands
  // for the part; its plaintext is unauthenticated until finish() has checked the tag.
  for (auto const& key : plan->attachments) {
    located_part* part = mime->attachment(key.content_id);
    if (!part) return fail(errc::payload_missing, detail, "CipherReference names no MIME part");
    auto dec = attachment_decryptor::start(key, scratch, detail);
    if (!dec) return dec.error();
    bool crypto_failed = false;
    auto streamed = for_each_chunk(part->content, [&](std::span<char const> in) -> result<void> {
      auto r = (*dec)->update(in, detail);
      crypto_failed = !r;
      return r;
    });
    if (crypto_failed) return streamed.error();
    if (!streamed) return fail(errc::delivery_failed, detail, "cannot read an attachment");
    if (auto r = (*dec)->finish(*part, detail); !r) return r.error();
  }
  return verify_security(doc, env, mime, *plan, partners, policy, now, detail);
}

result<security_outcome> verify_security(x::document& doc, soap_envelope const& env,
                                         mime_layout const* mime, security_plan const& plan,
                                         std::span<x::key const> partners,
                                         security_policy const& policy, sys_time now,
                                         std::string* detail) {
  security_outcome out;
  for (auto const& key : plan.attachments) out.decrypted_content_ids.push_back(key.content_id);
  // With or without a security header (a PMode may encrypt without signing).
  if (policy.require_encryption && mime)
    for (std::size_t i = 0; i < mime->parts.size(); ++i)
      if (i != mime->root &&
          std::find(out.decrypted_content_ids.begin(), out.decrypted_content_ids.end(),
                    mime->parts[i].content_id) == out.decrypted_content_ids.end())
        return fail(errc::encryption_missing, detail, "an attachment is not encrypted");
  if (!plan.has_header) return out;
  // 4.
  auto sigs = x::children(env.security, ns::ds, "Signature");
  if (sigs.empty()) {
    if (policy.require_signature)
      return fail(errc::security_missing, detail, "no ds:Signature in wsse:Security");
    return out;
  }
  if (sigs.size() > 1) return fail(errc::signature_invalid, detail, "more than one ds:Signature");
  if (auto r = check_algorithms(sigs.front(), policy.algorithms, detail); !r) return r.error();
  auto signer = select_signer(sigs.front(), env.security, partners, detail);
  if (!signer) return signer.error();
  if (auto r = check_signer(partners[*signer], policy.algorithms, now, detail); !r)
    return r.error();
  // 5.
  located_parts parts(mime);
  std::string why;
  x::verify_options opts{&policy.algorithms, &parts, &why};
  auto verified = x::verify(doc, sigs.front(), partners.subspan(*signer, 1), opts);
  if (!verified) return from_lib(verified.error(), detail, why, "signature");
  // 6.
  bool messaging = false, body = false;
  std::vector<std::string> cids;
  for (auto const& ref : verified->references) {
    if (ref.uri.rfind("cid:", 0) == 0) {
      auto id = std::string(bare_content_id(ref.uri));
      if (std::find(cids.begin(), cids.end(), id) != cids.end())
        return fail(errc::references_incomplete, detail, "an attachment is signed twice");
      cids.push_back(id);
      if (std::find(ref.transforms.begin(), ref.transforms.end(), x::uri::swa_content_signature) ==
              ref.transforms.end() &&
          std::find(ref.transforms.begin(), ref.transforms.end(), x::uri::swa_complete_signature) ==
              ref.transforms.end())
        return fail(errc::references_incomplete, detail,
                    "an attachment reference without the SwA signature transform");
    } else if (ref.element == env.messaging) {
      if (messaging) return fail(errc::references_incomplete, detail, "eb:Messaging signed twice");
      messaging = true;
    } else if (ref.element == env.body) {
      if (body) return fail(errc::references_incomplete, detail, "Body signed twice");
      body = true;
    } else if (!ref.element || !within(ref.element, env.security)) {
      return fail(errc::references_incomplete, detail,
                  "a reference to an element other than eb:Messaging, Body or a header token");
    }
  }
  if (!messaging) return fail(errc::references_incomplete, detail, "eb:Messaging is not signed");
  if (!body) return fail(errc::references_incomplete, detail, "the SOAP Body is not signed");
  if (mime)
    for (std::size_t i = 0; i < mime->parts.size(); ++i)
      if (i != mime->root &&
          std::find(cids.begin(), cids.end(), mime->parts[i].content_id) == cids.end())
        return fail(errc::references_incomplete, detail, "an attachment is not signed");
  out.is_signed = true;
  out.signer_index = *signer;
  out.signature = std::move(*verified);
  return out;
}

}  // namespace bbgw::edelivery

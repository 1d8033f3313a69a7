// XML-DSig verify() and sign() on xmlsec1's xmlSecDSigCtx, with the library's policy in front:
// the structure and every algorithm, transform and URI are checked against the allow-lists
// before xmlsec runs (for a specific reason), and xmlsec is then restricted to the same lists
// (enabled transforms and URI types) so that nothing outside them can execute.
#include "xmlsec/signature.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include <openssl/crypto.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/templates.h>
#include <xmlsec/transforms.h>
#include <xmlsec/xmldsig.h>

#include "xmlsec/errc.hpp"
#include "xmlsec/evp_signature.hpp"
#include "xmlsec/exc_c14n.hpp"
#include "xmlsec/internal.hpp"
#include "xmlsec/library.hpp"

namespace bbgw::xmlsec {
namespace {

using detail::fail;
constexpr std::string_view ns_ds = "http://www.w3.org/2000/09/xmldsig#";
constexpr std::string_view ns_exc_c14n = "http://www.w3.org/2001/10/xml-exc-c14n#";

struct dsig_ctx_deleter {
  void operator()(xmlSecDSigCtx* c) const { xmlSecDSigCtxDestroy(c); }
};
using dsig_ctx_ptr = std::unique_ptr<xmlSecDSigCtx, dsig_ctx_deleter>;

// xmlSecTransformIdListFindByHref compares the href with every registered klass in turn, and
// verify() enables about twenty transforms per call: the list is indexed by href once per thread
// (again if it ever grows), with the same answer: the first klass in list order with that href
// and the usage.
xmlSecTransformId transform_by_href(std::string_view href, xmlSecTransformUsage usage) {
  struct entry {
    std::string_view href;
    xmlSecTransformId id;
  };
  thread_local std::vector<entry> index;
  thread_local xmlSecSize indexed = 0;
  xmlSecPtrListPtr list = xmlSecTransformIdsGet();
  xmlSecSize const n = xmlSecPtrListGetSize(list);
  if (n != indexed || index.empty()) {
    index.clear();
    for (xmlSecSize i = 0; i < n; ++i) {
      auto id = static_cast<xmlSecTransformId>(xmlSecPtrListGetItem(list, i));
      if (id != xmlSecTransformIdUnknown && id->href != nullptr)
        index.push_back({reinterpret_cast<char const*>(id->href), id});
    }
    std::stable_sort(index.begin(), index.end(),
                     [](entry const& a, entry const& b) { return a.href < b.href; });
    indexed = n;
  }
  auto it = std::lower_bound(index.begin(), index.end(), href,
                             [](entry const& e, std::string_view h) { return e.href < h; });
  for (; it != index.end() && it->href == href; ++it)
    if ((it->id->usage & usage) != 0) return it->id;
  return xmlSecTransformIdUnknown;
}

// An xmlsec key holding (a reference to) the caller's EVP_PKEY; xmlsec owns the result.
xmlSecKeyPtr to_xmlsec_key(key const& k) {
  EVP_PKEY* p = k.pkey();
  if (p == nullptr) return nullptr;
  EVP_PKEY_up_ref(p);
  xmlSecKeyDataPtr data = xmlSecOpenSSLEvpKeyAdopt(p);
  if (data == nullptr) {
    EVP_PKEY_free(p);
    return nullptr;
  }
  xmlSecKeyPtr out = xmlSecKeyCreate();
  if (out == nullptr || xmlSecKeySetValue(out, data) < 0) {
    xmlSecKeyDataDestroy(data);
    if (out != nullptr) xmlSecKeyDestroy(out);
    return nullptr;
  }
  return out;
}

std::string algorithm_of(xmlNodePtr node) {
  return attribute(node, "Algorithm").value_or("");
}

// The next element sibling (skipping text and comments).
xmlNodePtr next_element(xmlNodePtr n) {
  for (; n != nullptr; n = n->next)
    if (n->type == XML_ELEMENT_NODE) return n;
  return nullptr;
}

struct reference_view {
  xmlNodePtr node = nullptr;
  std::string uri;
  std::vector<std::string> transforms;
  std::string digest_method;
  std::string digest_value;
};

struct signature_view {
  std::string c14n_method;
  std::string signature_method;
  std::vector<reference_view> references;
};

// ds:Signature = SignedInfo, SignatureValue, KeyInfo?, Object*;
// SignedInfo = CanonicalizationMethod, SignatureMethod, Reference+;
// Reference = Transforms?, DigestMethod, DigestValue.
result<signature_view> read_signature(xmlNodePtr signature, std::string* detail) {
  auto malformed = [&](std::string_view why) {
    return fail(errc::signature_malformed, detail, why);
  };
  if (!is(signature, ns_ds, "Signature")) return malformed("not a ds:Signature element");
  xmlNodePtr signed_info = next_element(signature->children);
  if (!is(signed_info, ns_ds, "SignedInfo")) return malformed("first child is not SignedInfo");
  xmlNodePtr value = next_element(signed_info->next);
  if (!is(value, ns_ds, "SignatureValue")) return malformed("SignatureValue missing");
  signature_view v;
  xmlNodePtr c14n = next_element(signed_info->children);
  if (!is(c14n, ns_ds, "CanonicalizationMethod"))
    return malformed("CanonicalizationMethod missing");
  v.c14n_method = algorithm_of(c14n);
  xmlNodePtr method = next_element(c14n->next);
  if (!is(method, ns_ds, "SignatureMethod")) return malformed("SignatureMethod missing");
  v.signature_method = algorithm_of(method);
  for (xmlNodePtr r = next_element(method->next); r != nullptr; r = next_element(r->next)) {
    if (!is(r, ns_ds, "Reference")) return malformed("unexpected element in SignedInfo");
    reference_view ref;
    ref.node = r;
    auto uri_attr = attribute(r, "URI");
    if (!uri_attr)
      return fail(errc::reference_not_allowed, detail,
                  "Reference " + std::to_string(v.references.size()) + " has no URI");
    ref.uri = *uri_attr;
    xmlNodePtr c = next_element(r->children);
    if (is(c, ns_ds, "Transforms")) {
      for (xmlNodePtr t = next_element(c->children); t != nullptr; t = next_element(t->next)) {
        if (!is(t, ns_ds, "Transform")) return malformed("unexpected element in Transforms");
        ref.transforms.push_back(algorithm_of(t));
      }
      c = next_element(c->next);
    }
    if (!is(c, ns_ds, "DigestMethod")) return malformed("DigestMethod missing");
    ref.digest_method = algorithm_of(c);
    c = next_element(c->next);
    if (!is(c, ns_ds, "DigestValue")) return malformed("DigestValue missing");
    auto text = text_of(c);
    auto digest = text ? detail::base64_decode(*text) : std::nullopt;
    if (!digest) return malformed("DigestValue is not base64");
    ref.digest_value = std::move(*digest);
    if (next_element(c->next) != nullptr) return malformed("unexpected element in Reference");
    v.references.push_back(std::move(ref));
  }
  if (v.references.empty()) return malformed("SignedInfo has no Reference");
  return v;
}

std::string nth(std::size_t i, std::string_view uri) {
  return "Reference " + std::to_string(i) + " (" + std::string(uri) + ")";
}

// Every algorithm, transform and URI against the policy, with the first offender named.
result<void> check_policy(signature_view const& v, document const& doc, verify_options const& o) {
  algorithm_policy const& p = *o.policy;
  if (!p.allows(p.c14n_methods, v.c14n_method))
    return fail(errc::algorithm_not_allowed, o.detail,
                "CanonicalizationMethod not allowed: " + v.c14n_method);
  auto alg = detail::signature_algorithm_by_uri(v.signature_method);
  if (alg && alg->kind == detail::signature_kind::hmac)
    return fail(errc::algorithm_not_allowed, o.detail,
                "HMAC signatures are never accepted: " + v.signature_method);
  if (!p.allows(p.signature_methods, v.signature_method) || !alg)
    return fail(errc::algorithm_not_allowed, o.detail,
                "SignatureMethod not allowed: " + v.signature_method);
  for (std::size_t i = 0; i < v.references.size(); ++i) {
    auto const& r = v.references[i];
    if (r.uri.size() > 1 && r.uri[0] == '#') {
      // A bare name only: xmlsec turns "#id" into xpointer(id('id')), so no XPointer and no
      // characters that could leave that expression.
      if (r.uri.find_first_of("()'\" \t\r\n") != std::string::npos)
        return fail(errc::reference_not_allowed, o.detail, nth(i, r.uri) + ": not a bare ID");
      if (doc.find_id(std::string_view(r.uri).substr(1)) == nullptr)
        return fail(errc::id_not_found, o.detail, nth(i, r.uri) + ": no registered ID");
    } else if (r.uri.rfind("cid:", 0) == 0 && r.uri.size() > 4) {
      if (o.parts == nullptr)
        return fail(errc::reference_not_allowed, o.detail, nth(i, r.uri) + ": no parts given");
    } else {
      return fail(errc::reference_not_allowed, o.detail,
                  nth(i, r.uri) + ": only same-document and cid: references");
    }
    for (auto const& t : r.transforms)
      if (!p.allows(p.transforms, t))
        return fail(errc::transform_not_allowed, o.detail,
                    nth(i, r.uri) + ": transform not allowed: " + t);
    if (!p.allows(p.digest_methods, r.digest_method))
      return fail(errc::algorithm_not_allowed, o.detail,
                  nth(i, r.uri) + ": DigestMethod not allowed: " + r.digest_method);
  }
  return {};
}

// Whether the key fits the signature method and the policy's minimum sizes; why not otherwise.
std::optional<std::string> unusable(key const& k, detail::signature_algorithm alg,
                                    algorithm_policy const& p) {
  auto const f = k.family();
  if (alg.kind == detail::signature_kind::ecdsa) {
    if (f != key_family::ec) return "not an EC key";
    if (k.bits() < p.min_ec_bits) return "EC key below " + std::to_string(p.min_ec_bits) + " bits";
    return std::nullopt;
  }
  if (f != key_family::rsa) return "not an RSA key";
  if (k.bits() < p.min_rsa_bits)
    return "RSA key of " + std::to_string(k.bits()) + " bits below " +
           std::to_string(p.min_rsa_bits);
  return std::nullopt;
}

void enable(xmlSecDSigCtx* ctx, std::vector<std::string> const& list, bool reference) {
  for (auto const& href : list) {
    xmlSecTransformId id = transform_by_href(href, xmlSecTransformUsageAny);
    if (id == xmlSecTransformIdUnknown) continue;  // not implemented: cannot run anyway
    if (reference)
      xmlSecDSigCtxEnableReferenceTransform(ctx, id);
    else
      xmlSecDSigCtxEnableSignatureTransform(ctx, id);
  }
}

dsig_ctx_ptr make_ctx(key const& k, bool remote_uris) {
  dsig_ctx_ptr ctx(xmlSecDSigCtxCreate(nullptr));  // no keys manager: no key lookups
  if (!ctx) return ctx;
  ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
  ctx->keyInfoReadCtx.maxRetrievalMethodLevel = 0;
  ctx->enabledReferenceUris = static_cast<xmlSecTransformUriType>(
      xmlSecTransformUriTypeSameDocument | (remote_uris ? xmlSecTransformUriTypeRemote : 0));
  ctx->signKey = to_xmlsec_key(k);
  if (ctx->signKey == nullptr) ctx.reset();
  return ctx;
}

// The reason xmlsec gave, or `fallback`.
error_code xmlsec_failure(std::string* detail, std::string_view fallback) {
  if (auto const& missing = detail::part_source_scope::last_missing(); !missing.empty())
    return fail(errc::part_not_found, detail, "no part with Content-ID " + missing);
  auto const& why = detail::last_xmlsec_error();
  return fail(errc::signature_malformed, detail, why.empty() ? fallback : std::string_view(why));
}

// The PrefixList of an exc-c14n Transform or CanonicalizationMethod: its only content may be
// one ec:InclusiveNamespaces (and whitespace or comments); nullopt for anything else.
std::optional<std::vector<std::string>> exc_c14n_prefixes(xmlNodePtr method) {
  std::vector<std::string> out;
  bool seen = false;
  for (xmlNodePtr c = method->children; c != nullptr; c = c->next) {
    if (c->type == XML_COMMENT_NODE) continue;
    if (c->type == XML_TEXT_NODE) {
      std::string_view t = c->content ? reinterpret_cast<char const*>(c->content) : "";
      if (t.find_first_not_of(" \t\r\n") != std::string_view::npos) return std::nullopt;
      continue;
    }
    if (seen || !is(c, ns_exc_c14n, "InclusiveNamespaces") || c->children != nullptr)
      return std::nullopt;
    seen = true;
    auto list = attribute(c, "PrefixList");
    if (!list) return std::nullopt;
    std::size_t at = 0;
    while ((at = list->find_first_not_of(" \t\r\n", at)) != std::string::npos) {
      std::size_t end = list->find_first_of(" \t\r\n", at);
      if (end == std::string::npos) end = list->size();
      out.push_back(list->substr(at, end - at));
      at = end;
    }
  }
  return out;
}

struct direct_reference {
  xmlNodePtr apex = nullptr;  // "#id": the element
  bool enveloped = false;
  std::vector<std::string> prefixes;
  std::string content_id;  // "cid:": the part, digested as its octets
};

// The Reference in the shapes the direct path handles: "#id" with [enveloped-signature,]
// exc-c14n, no transform parameters but a PrefixList; with parts, "cid:" with the SwA
// Attachment-Content-Signature-Transform alone (the part's octets unchanged), for a
// Content-ID without percent-escapes (xmlsec unescapes them; nothing to unescape here).
// The URIs and transform lists of the direct path: "cid:<id>" (no percent-escape) with the SwA
// content transform alone; "#id" with [enveloped-signature,] exc-c14n.
bool direct_form(std::string_view uri_text, std::vector<std::string> const& t) {
  if (uri_text.rfind("cid:", 0) == 0)
    return uri_text.size() > 4 && uri_text.find('%') == std::string_view::npos && t.size() == 1 &&
           t[0] == uri::swa_content_signature;
  return uri_text.size() > 1 && uri_text[0] == '#' && (t.size() == 1 || t.size() == 2) &&
         t.back() == uri::exc_c14n && (t.size() == 1 || t[0] == uri::enveloped_signature);
}

std::optional<direct_reference> direct_shape(reference_view const& r, document const& doc,
                                             part_source const* parts) {
  if (!direct_form(r.uri, r.transforms)) return std::nullopt;
  if (r.uri.rfind("cid:", 0) == 0) {
    if (parts == nullptr) return std::nullopt;
    auto none = exc_c14n_prefixes(next_element(next_element(r.node->children)->children));
    if (!none || !none->empty()) return std::nullopt;  // the transform takes no content
    direct_reference d;
    d.content_id = r.uri.substr(4);
    return d;
  }
  std::size_t const n = r.transforms.size();
  xmlNodePtr t = next_element(next_element(r.node->children)->children);  // Transforms/Transform
  direct_reference d;
  d.apex = doc.find_id(std::string_view(r.uri).substr(1));
  if (d.apex == nullptr) return std::nullopt;
  if (n == 2) {
    auto none = exc_c14n_prefixes(t);
    if (!none || !none->empty()) return std::nullopt;  // enveloped-signature takes no content
    d.enveloped = true;
    t = next_element(t->next);
  }
  auto prefixes = exc_c14n_prefixes(t);
  if (!prefixes) return std::nullopt;
  d.prefixes = std::move(*prefixes);
  return d;
}

// Tries each trusted key that fits the method and the policy's sizes, in turn: `attempt(k)`
// returns the outcome with key k, or nullopt when the SignatureValue does not verify with it.
// Both paths report "none fits" and "none verifies" alike.
template <class Attempt>
result<verified_signature> with_trusted_keys(std::span<key const> trusted,
                                             detail::signature_algorithm alg,
                                             verify_options const& o, Attempt attempt) {
  std::string why_unusable;
  bool any_usable = false;
  for (std::size_t k = 0; k < trusted.size(); ++k) {
    if (auto why = unusable(trusted[k], alg, *o.policy)) {
      why_unusable = "trusted key " + std::to_string(k) + ": " + *why;
      continue;
    }
    any_usable = true;
    if (std::optional<result<verified_signature>> r = attempt(k)) return std::move(*r);
  }
  if (!any_usable) return fail(errc::key_unusable, o.detail, why_unusable);
  return fail(errc::signature_invalid, o.detail,
              "SignatureValue does not verify with any of the " + std::to_string(trusted.size()) +
                  " trusted key(s)");
}

// What verify() returns: the view's references (moved out) with the elements they resolved to.
verified_signature verified_from(signature_view& view, std::size_t key_index, bool direct,
                                 std::vector<xmlNodePtr> const& elements) {
  verified_signature out;
  out.signature_method = view.signature_method;
  out.c14n_method = view.c14n_method;
  out.key_index = key_index;
  out.direct = direct;
  for (std::size_t i = 0; i < view.references.size(); ++i) {
    auto& r = view.references[i];
    signed_reference sr;
    sr.uri = r.uri;
    sr.element = elements[i];  // null for cid:
    sr.transforms = std::move(r.transforms);
    sr.digest_method = std::move(r.digest_method);
    sr.digest_value = std::move(r.digest_value);
    sr.reference_node = r.node;
    out.references.push_back(std::move(sr));
  }
  return out;
}

// The digest of a part's octets: the SHA-256 the source already has, or read in 256 KiB
// blocks (xmlsec's IO reads 1 KiB at a time).
bool digest_part(part_source const& parts, std::string const& content_id, EVP_MD const* md,
                 unsigned char* out, unsigned int& len) {
  if (EVP_MD_is_a(md, "SHA2-256"))
    if (auto known = parts.known_sha256(content_id); known && known->size() == 32) {
      std::memcpy(out, known->data(), 32);
      len = 32;
      return true;
    }
  auto reader = parts.open(content_id);
  if (!reader || !*reader) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return false;
  thread_local std::vector<char> block(256 * 1024);
  for (;;) {
    auto n = (*reader)->read(std::span<char>(block));
    if (!n) return false;
    if (*n == 0) break;
    if (EVP_DigestUpdate(ctx.get(), block.data(), *n) != 1) return false;
  }
  return EVP_DigestFinal_ex(ctx.get(), out, &len) == 1;
}

// The digest of a Reference in a direct shape: the part's octets, or the exclusive c14n of the
// referenced element (without `signature` when enveloped). false: left to xmlsec (a part that
// cannot be read, content the c14n does not take).
bool digest_reference(direct_reference const& d, xmlNodePtr signature, part_source const* parts,
                      EVP_MD const* md, unsigned char* out, unsigned int& len) {
  if (!d.content_id.empty())
    return parts != nullptr && digest_part(*parts, d.content_id, md, out, len);
  thread_local std::string canonical;
  canonical.clear();
  return detail::exc_c14n(d.apex, d.enveloped ? signature : nullptr, d.prefixes, canonical) &&
         EVP_Digest(canonical.data(), canonical.size(), out, &len, md, nullptr) == 1;
}

// verify() for signatures whose References and SignedInfo are all in the shapes above, with
// the library's exclusive c14n (checked against libxml2's, exc_c14n_test.cpp) and EVP, without
// xmlsec's node-set machinery. It only ever accepts: nullopt when the signature is not in that
// shape, holds content it leaves to xmlsec (an entity reference, an unreadable SignatureValue,
// an unreadable part) or does not verify (a digest mismatch, no trusted key verifies the
// SignatureValue): xmlsec's generic path then has the last word, with its own reasons, so an
// unforeseen difference in canonicalisation can cost time but never refuse a valid message.
std::optional<result<verified_signature>> verify_direct(document const& doc, xmlNodePtr signature,
                                                        signature_view& view,
                                                        std::span<key const> trusted,
                                                        verify_options const& o) {
  if (view.c14n_method != uri::exc_c14n) return std::nullopt;
  xmlNodePtr const signed_info = next_element(signature->children);
  auto si_prefixes = exc_c14n_prefixes(next_element(signed_info->children));
  if (!si_prefixes) return std::nullopt;
  std::vector<direct_reference> refs;
  for (auto const& r : view.references) {
    auto d = direct_shape(r, doc, o.parts);
    if (!d) return std::nullopt;
    refs.push_back(std::move(*d));
  }
  auto value_text = text_of(next_element(signed_info->next));
  if (!value_text) return std::nullopt;
  auto value = detail::base64_decode(*value_text);
  if (!value) return std::nullopt;

  thread_local std::string canonical;
  for (std::size_t i = 0; i < refs.size(); ++i) {
    EVP_MD const* md = detail::digest_md_by_uri(view.references[i].digest_method);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    // A part that cannot be opened or read: xmlsec's path names it (part_not_found).
    if (md == nullptr || !digest_reference(refs[i], signature, o.parts, md, digest, len))
      return std::nullopt;
    // A mismatch is left to xmlsec, which has the last word on a refusal (and names it).
    auto const& expected = view.references[i].digest_value;
    if (expected.size() != len || CRYPTO_memcmp(expected.data(), digest, len) != 0)
      return std::nullopt;
  }
  canonical.clear();
  if (!detail::exc_c14n(signed_info, nullptr, *si_prefixes, canonical)) return std::nullopt;

  auto const alg = *detail::signature_algorithm_by_uri(view.signature_method);
  std::vector<xmlNodePtr> elements;
  for (auto const& r : refs) elements.push_back(r.apex);
  auto r = with_trusted_keys(
      trusted, alg, o, [&](std::size_t k) -> std::optional<result<verified_signature>> {
        detail::evp_signer s;
        if (!s.init(trusted[k].pkey(), alg, false))
          return result<verified_signature>(fail(errc::key_unusable, o.detail, "key not usable"));
        if (!s.update(canonical.data(), canonical.size()))
          return result<verified_signature>(fail(errc::internal, o.detail, "digest failed"));
        if (!s.verify_final(*value)) return std::nullopt;  // not this key: try the next one
        return result<verified_signature>(verified_from(view, k, true, elements));
      });
  if (!r && r.error() == errc::signature_invalid) return std::nullopt;  // xmlsec decides
  return r;
}

}  // namespace

result<verified_signature> verify(document const& doc, xmlNodePtr signature,
                                  std::span<key const> trusted, verify_options const& o) {
  if (auto r = initialise(); !r) return r.error();
  if (o.policy == nullptr) return fail(errc::internal, o.detail, "no algorithm policy given");
  if (signature == nullptr) return fail(errc::signature_missing, o.detail, "no ds:Signature");
  if (signature->doc != doc.get())
    return fail(errc::internal, o.detail, "signature is not in this document");
  auto view = read_signature(signature, o.detail);
  if (!view) return view.error();
  if (auto r = check_policy(*view, doc, o); !r) return r.error();
  if (trusted.empty()) return fail(errc::key_not_trusted, o.detail, "no trusted key given");
  if (!o.generic_only)
    if (auto direct = verify_direct(doc, signature, *view, trusted, o)) return std::move(*direct);

  auto const alg = *detail::signature_algorithm_by_uri(view->signature_method);
  detail::part_source_scope parts_scope(o.parts);
  std::vector<xmlNodePtr> elements;
  for (auto const& r : view->references)
    elements.push_back(r.uri[0] == '#' ? doc.find_id(std::string_view(r.uri).substr(1)) : nullptr);
  return with_trusted_keys(
      trusted, alg, o, [&](std::size_t k) -> std::optional<result<verified_signature>> {
        using out = result<verified_signature>;
        auto ctx = make_ctx(trusted[k], o.parts != nullptr);
        if (!ctx) return out(fail(errc::key_unusable, o.detail, "key not usable by xmlsec"));
        enable(ctx.get(), o.policy->transforms, true);
        enable(ctx.get(), o.policy->digest_methods, true);
        enable(ctx.get(), o.policy->c14n_methods, false);
        enable(ctx.get(), o.policy->signature_methods, false);

        detail::clear_xmlsec_error();
        if (xmlSecDSigCtxVerify(ctx.get(), signature) < 0)
          return out(xmlsec_failure(o.detail, "xmlsec could not process the signature"));
        if (ctx->status != xmlSecDSigStatusSucceeded) {
          // A failed Reference stops xmlsec before the SignatureValue: it is key-independent.
          xmlSecSize const n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);
          for (xmlSecSize r = 0; r < n; ++r) {
            auto* ref = static_cast<xmlSecDSigReferenceCtxPtr>(
                xmlSecPtrListGetItem(&ctx->signedInfoReferences, r));
            if (ref != nullptr && ref->status != xmlSecDSigStatusSucceeded)
              return out(
                  fail(errc::digest_mismatch, o.detail,
                       nth(r, ref->uri != nullptr ? reinterpret_cast<char const*>(ref->uri) : "") +
                           ": digest does not match"));
          }
          return std::nullopt;  // SignatureValue did not verify with this key: try the next one
        }
        if (xmlSecPtrListGetSize(&ctx->signedInfoReferences) != view->references.size())
          return out(fail(errc::internal, o.detail, "reference count differs from xmlsec's"));
        return out(verified_from(*view, k, false, elements));
      });
}

namespace {

// What sign() will produce: exclusive c14n, the enveloped and SwA transforms, SHA-2.
bool signable_transform(std::string_view t) {
  return t == uri::exc_c14n || t == uri::enveloped_signature || t == uri::swa_content_signature;
}

bool is_within(xmlNodePtr node, xmlNodePtr ancestor) {
  for (; node != nullptr; node = node->parent)
    if (node == ancestor) return true;
  return false;
}

// The element child of `parent` named `name` (in the ds namespace: the template's own).
xmlNodePtr ds_child(xmlNodePtr parent, char const* name) {
  for (xmlNodePtr n = next_element(parent->children); n != nullptr; n = next_element(n->next))
    if (xmlStrEqual(n->name, reinterpret_cast<xmlChar const*>(name))) return n;
  return nullptr;
}

// What sign_direct() can sign itself: "cid:" with the SwA content transform alone (a Content-ID
// without percent-escapes), or "#id" with [enveloped-signature,] exc-c14n whose element does not
// hold the signature unless it is enveloped (xmlsec digests the template then; the direct path
// would have to as well) and is not inside it.
std::optional<direct_reference> direct_shape(reference_spec const& r, document const& doc,
                                             xmlNodePtr sig, part_source const* parts) {
  if (!direct_form(r.uri, r.transforms)) return std::nullopt;
  direct_reference d;
  if (r.uri.rfind("cid:", 0) == 0) {
    if (parts == nullptr) return std::nullopt;
    d.content_id = r.uri.substr(4);
    return d;
  }
  d.enveloped = r.transforms.size() == 2;
  d.apex = doc.find_id(std::string_view(r.uri).substr(1));
  if (d.apex == nullptr || is_within(d.apex, sig) || (!d.enveloped && is_within(sig, d.apex)))
    return std::nullopt;
  return d;
}

// sign() in the shapes verify_direct() reads, with the same exclusive c14n and EVP instead of
// xmlsec's transform chain: every Reference "#id" with [enveloped-signature,] exc-c14n (the
// referenced element not holding the signature unless the signature is enveloped) or "cid:"
// with the SwA content transform (the part digested in 256 KiB blocks, or its known SHA-256);
// SignedInfo in exc-c14n. Fills the template's DigestValues, then its SignatureValue. nullopt:
// another shape, or content the c14n leaves to libxml2 (an entity reference), or a part that
// cannot be read: xmlsec signs, as before, and names any failure.
std::optional<result<void>> sign_direct(document const& doc, xmlNodePtr sig, key const& k,
                                        sign_spec const& spec, part_source const* parts) {
  EVP_MD const* md = detail::digest_md_by_uri(spec.digest_method);
  if (md == nullptr || spec.c14n_method != uri::exc_c14n) return std::nullopt;
  xmlNodePtr const signed_info = next_element(sig->children);
  std::vector<xmlNodePtr> refs;
  for (xmlNodePtr n = next_element(signed_info->children); n != nullptr; n = next_element(n->next))
    if (xmlStrEqual(n->name, reinterpret_cast<xmlChar const*>("Reference"))) refs.push_back(n);
  if (refs.size() != spec.references.size()) return std::nullopt;

  for (std::size_t i = 0; i < refs.size(); ++i) {
    auto const shape = direct_shape(spec.references[i], doc, sig, parts);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!shape || !digest_reference(*shape, sig, parts, md, digest, len)) return std::nullopt;
    xmlNodePtr value = ds_child(refs[i], "DigestValue");
    if (value == nullptr) return std::nullopt;
    std::string const b64 =
        detail::base64_encode(std::string_view(reinterpret_cast<char const*>(digest), len));
    xmlNodeSetContent(value, reinterpret_cast<xmlChar const*>(b64.c_str()));
  }
  std::string canonical;
  if (!detail::exc_c14n(signed_info, nullptr, {}, canonical)) return std::nullopt;
  auto value = sign_bytes(canonical, k, spec.signature_method);
  if (!value) return result<void>(value.error());
  xmlNodePtr value_node = ds_child(sig, "SignatureValue");
  if (value_node == nullptr) return std::nullopt;
  std::string const b64 = detail::base64_encode(*value);
  xmlNodeSetContent(value_node, reinterpret_cast<xmlChar const*>(b64.c_str()));
  return result<void>();
}

}  // namespace

result<xmlNodePtr> sign(document& doc, xmlNodePtr parent, xmlNodePtr before, key const& signing_key,
                        sign_spec const& spec, part_source const* parts) {
  if (auto r = initialise(); !r) return r.error();
  if (parent == nullptr || parent->doc != doc.get()) return make_error_code(errc::internal);
  if (before != nullptr && before->parent != parent) return make_error_code(errc::internal);
  auto alg = detail::signature_algorithm_by_uri(spec.signature_method);
  if (!alg || alg->kind == detail::signature_kind::hmac || alg->md == EVP_sha1())
    return make_error_code(errc::algorithm_not_allowed);
  if (spec.digest_method == uri::sha1) return make_error_code(errc::algorithm_not_allowed);
  if (!signing_key.has_private()) return make_error_code(errc::key_unusable);
  algorithm_policy any_size;
  any_size.min_rsa_bits = 2048;
  any_size.min_ec_bits = 256;
  if (unusable(signing_key, *alg, any_size)) return make_error_code(errc::key_unusable);

  auto const c14n_id = transform_by_href(spec.c14n_method, xmlSecTransformUsageC14NMethod);
  auto const sign_id =
      transform_by_href(spec.signature_method, xmlSecTransformUsageSignatureMethod);
  auto const digest_id = transform_by_href(spec.digest_method, xmlSecTransformUsageDigestMethod);
  if (c14n_id == xmlSecTransformIdUnknown || spec.c14n_method != uri::exc_c14n)
    return make_error_code(errc::algorithm_not_allowed);
  if (sign_id == xmlSecTransformIdUnknown || digest_id == xmlSecTransformIdUnknown)
    return make_error_code(errc::algorithm_not_allowed);
  if (spec.references.empty()) return make_error_code(errc::reference_not_allowed);

  xmlNodePtr sig = xmlSecTmplSignatureCreateNsPref(doc.get(), c14n_id, sign_id, nullptr,
                                                   reinterpret_cast<xmlChar const*>("ds"));
  if (sig == nullptr) return make_error_code(errc::internal);
  auto discard = [&](errc e) {
    xmlUnlinkNode(sig);
    xmlFreeNode(sig);
    return make_error_code(e);
  };
  for (auto const& ref : spec.references) {
    if (ref.uri.size() > 1 && ref.uri[0] == '#') {
      if (doc.find_id(std::string_view(ref.uri).substr(1)) == nullptr)
        return discard(errc::id_not_found);
    } else if (ref.uri.rfind("cid:", 0) != 0 || parts == nullptr) {
      return discard(errc::reference_not_allowed);
    }
    xmlNodePtr r = xmlSecTmplSignatureAddReference(
        sig, digest_id, nullptr, reinterpret_cast<xmlChar const*>(ref.uri.c_str()), nullptr);
    if (r == nullptr) return discard(errc::internal);
    for (auto const& t : ref.transforms) {
      auto id = signable_transform(t) ? transform_by_href(t, xmlSecTransformUsageDSigTransform)
                                      : xmlSecTransformIdUnknown;
      if (id == xmlSecTransformIdUnknown) return discard(errc::transform_not_allowed);
      if (xmlSecTmplReferenceAddTransform(r, id) == nullptr) return discard(errc::internal);
    }
  }
  // In the tree before signing: the enveloped transform and c14n need its real position.
  if (before != nullptr ? xmlAddPrevSibling(before, sig) == nullptr
                        : xmlAddChild(parent, sig) == nullptr)
    return discard(errc::internal);

  std::optional<result<void>> direct;
  if (!spec.generic_only) direct = sign_direct(doc, sig, signing_key, spec, parts);
  if (direct && !*direct) {
    xmlUnlinkNode(sig);
    xmlFreeNode(sig);
    return direct->error();
  }
  if (!direct) {
    auto ctx = make_ctx(signing_key, parts != nullptr);
    if (!ctx) return discard(errc::key_unusable);
    detail::part_source_scope parts_scope(parts);
    detail::clear_xmlsec_error();
    if (xmlSecDSigCtxSign(ctx.get(), sig) < 0) {
      bool const missing = !detail::part_source_scope::last_missing().empty();
      return discard(missing ? errc::part_not_found : errc::internal);
    }
  }
  if (spec.include_certificate && signing_key.certificate() != nullptr) {
    auto const* ds = reinterpret_cast<xmlChar const*>("http://www.w3.org/2000/09/xmldsig#");
    xmlNsPtr ns = xmlSearchNsByHref(doc.get(), sig, ds);
    xmlNodePtr key_info =
        xmlNewChild(sig, ns, reinterpret_cast<xmlChar const*>("KeyInfo"), nullptr);
    xmlNodePtr data =
        xmlNewChild(key_info, ns, reinterpret_cast<xmlChar const*>("X509Data"), nullptr);
    std::string const b64 = detail::base64_encode(signing_key.certificate_der());
    xmlNodePtr cert =
        xmlNewChild(data, ns, reinterpret_cast<xmlChar const*>("X509Certificate"), nullptr);
    if (cert == nullptr) return discard(errc::internal);
    xmlNodeAddContent(cert, reinterpret_cast<xmlChar const*>(b64.c_str()));
  }
  return sig;
}

result<std::string> sign_bytes(std::string_view data, key const& signing_key,
                               std::string_view signature_method) {
  auto alg = detail::signature_algorithm_by_uri(signature_method);
  if (!alg || alg->kind == detail::signature_kind::hmac || alg->md == EVP_sha1())
    return make_error_code(errc::algorithm_not_allowed);
  if (!signing_key.has_private()) return make_error_code(errc::key_unusable);
  detail::evp_signer s;
  if (!s.init(signing_key.pkey(), *alg, true)) return make_error_code(errc::key_unusable);
  if (!s.update(data.data(), data.size())) return make_error_code(errc::internal);
  auto sig = s.sign_final();
  if (!sig) return make_error_code(errc::internal);
  return std::move(*sig);
}

result<void> verify_bytes(std::string_view data, std::string_view signature, key const& k,
                          std::string_view signature_method, algorithm_policy const& policy) {
  auto alg = detail::signature_algorithm_by_uri(signature_method);
  if (!alg || alg->kind == detail::signature_kind::hmac ||
      !policy.allows(policy.signature_methods, signature_method))
    return make_error_code(errc::algorithm_not_allowed);
  if (unusable(k, *alg, policy)) return make_error_code(errc::key_unusable);
  detail::evp_signer s;
  if (!s.init(k.pkey(), *alg, false)) return make_error_code(errc::key_unusable);
  if (!s.update(data.data(), data.size())) return make_error_code(errc::internal);
  if (!s.verify_final(signature)) return make_error_code(errc::signature_invalid);
  return {};
}

result<std::string> digest(std::string_view data, std::string_view digest_method) {
  EVP_MD const* md = detail::digest_md_by_uri(digest_method);
  if (md == nullptr || md == EVP_sha1()) return make_error_code(errc::algorithm_not_allowed);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1)
    return make_error_code(errc::internal);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace bbgw::xmlsec

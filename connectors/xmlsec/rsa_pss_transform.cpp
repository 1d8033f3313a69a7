// RSASSA-PSS signature methods (RFC 6931 sha256/384/512-rsa-MGF1: salt = digest length, MGF1
// with the same digest) as xmlsec transform klasses: xmlsec1 1.2.37 has none. The klass feeds
// the canonical SignedInfo octets to OpenSSL EVP_DigestSign/Verify.
#include <new>

#include <xmlsec/xmlsec.h>  // before errors.h, which needs its types

#include <xmlsec/errors.h>
#include <xmlsec/keys.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/transforms.h>

#include "xmlsec/algorithms.hpp"
#include "xmlsec/evp_signature.hpp"
#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {
namespace {

struct pss_state {
  evp_signer signer;
  EVP_PKEY* pkey = nullptr;
  bool started = false;
  bool failed = false;
};

// xmlsec allocates objSize bytes and keeps our state right after the xmlSecTransform header.
pss_state* state(xmlSecTransformPtr t) {
  return reinterpret_cast<pss_state*>(reinterpret_cast<unsigned char*>(t) +
                                      sizeof(xmlSecTransform));
}

EVP_MD const* md_of(xmlSecTransformPtr t);

int pss_initialize(xmlSecTransformPtr t) {
  new (state(t)) pss_state();
  return 0;
}

void pss_finalize(xmlSecTransformPtr t) {
  pss_state* s = state(t);
  EVP_PKEY_free(s->pkey);
  s->~pss_state();
}

int pss_set_key_req(xmlSecTransformPtr t, xmlSecKeyReqPtr req) {
  req->keyId = xmlSecOpenSSLKeyDataRsaId;
  if (t->operation == xmlSecTransformOperationSign) {
    req->keyType = xmlSecKeyDataTypePrivate;
    req->keyUsage = xmlSecKeyUsageSign;
  } else {
    req->keyType = xmlSecKeyDataTypePublic;
    req->keyUsage = xmlSecKeyUsageVerify;
  }
  return 0;
}

int pss_set_key(xmlSecTransformPtr t, xmlSecKeyPtr key) {
  EVP_PKEY* pkey = xmlSecOpenSSLEvpKeyDataGetEvp(xmlSecKeyGetValue(key));
  if (pkey == nullptr) return -1;
  EVP_PKEY_up_ref(pkey);
  EVP_PKEY_free(state(t)->pkey);
  state(t)->pkey = pkey;
  return 0;
}

int pss_verify(xmlSecTransformPtr t, xmlSecByte const* data, xmlSecSize size,
               xmlSecTransformCtxPtr) {
  if (t->status != xmlSecTransformStatusFinished) return -1;
  pss_state* s = state(t);
  bool const ok =
      !s->failed && s->signer.verify_final(std::string_view(reinterpret_cast<char const*>(data),
                                                            static_cast<std::size_t>(size)));
  t->status = ok ? xmlSecTransformStatusOk : xmlSecTransformStatusFail;
  return 0;
}

int pss_execute(xmlSecTransformPtr t, int last, xmlSecTransformCtxPtr) {
  pss_state* s = state(t);
  xmlSecBufferPtr in = &t->inBuf;
  xmlSecBufferPtr out = &t->outBuf;
  if (t->status == xmlSecTransformStatusNone) {
    bool const sign = t->operation == xmlSecTransformOperationSign;
    if (!s->signer.init(s->pkey, {signature_kind::rsa_pss, md_of(t)}, sign)) return -1;
    t->status = xmlSecTransformStatusWorking;
  }
  if (t->status == xmlSecTransformStatusWorking) {
    xmlSecSize const n = xmlSecBufferGetSize(in);
    if (n > 0) {
      if (!s->signer.update(xmlSecBufferGetData(in), n)) return -1;
      if (xmlSecBufferRemoveHead(in, n) < 0) return -1;
    }
    if (last != 0) {
      if (t->operation == xmlSecTransformOperationSign) {
        auto sig = s->signer.sign_final();
        if (!sig) return -1;
        if (xmlSecBufferSetData(out, reinterpret_cast<xmlSecByte const*>(sig->data()),
                                static_cast<xmlSecSize>(sig->size())) < 0)
          return -1;
      }
      t->status = xmlSecTransformStatusFinished;
    }
    return 0;
  }
  return t->status == xmlSecTransformStatusFinished && xmlSecBufferGetSize(in) == 0 ? 0 : -1;
}

constexpr xmlSecSize obj_size = sizeof(xmlSecTransform) + sizeof(pss_state);

xmlSecTransformKlass make_klass(char const* name, std::string_view href) {
  return xmlSecTransformKlass{
      sizeof(xmlSecTransformKlass),
      obj_size,
      reinterpret_cast<xmlChar const*>(name),
      reinterpret_cast<xmlChar const*>(href.data()),  // the uri:: constants are NUL-terminated
      xmlSecTransformUsageSignatureMethod,
      pss_initialize,
      pss_finalize,
      nullptr,
      nullptr,
      pss_set_key_req,
      pss_set_key,
      pss_verify,
      xmlSecTransformDefaultGetDataType,
      xmlSecTransformDefaultPushBin,
      xmlSecTransformDefaultPopBin,
      nullptr,
      nullptr,
      pss_execute,
      nullptr,
      nullptr,
  };
}

xmlSecTransformKlass const pss_sha256 = make_klass("rsa-pss-sha256", uri::rsa_pss_sha256);
xmlSecTransformKlass const pss_sha384 = make_klass("rsa-pss-sha384", uri::rsa_pss_sha384);
xmlSecTransformKlass const pss_sha512 = make_klass("rsa-pss-sha512", uri::rsa_pss_sha512);

EVP_MD const* md_of(xmlSecTransformPtr t) {
  if (t->id == &pss_sha384) return EVP_sha384();
  if (t->id == &pss_sha512) return EVP_sha512();
  return EVP_sha256();
}

}  // namespace

xmlSecTransformId rsa_pss_sha256_klass() {
  return &pss_sha256;
}
xmlSecTransformId rsa_pss_sha384_klass() {
  return &pss_sha384;
}
xmlSecTransformId rsa_pss_sha512_klass() {
  return &pss_sha512;
}

}  // namespace bbgw::xmlsec::detail

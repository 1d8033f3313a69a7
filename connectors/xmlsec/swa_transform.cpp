// The SwA profile's Attachment-Content-Signature-Transform as an xmlsec transform klass
// (xmlsec1 1.2.37 does not know it): the part's content octets, as read through the cid:
// resolver, pass through unchanged to the digest. (Attachment-Complete-Signature-Transform
// would also need the MIME headers, which a part_source does not give: not offered.)
#include <xmlsec/transforms.h>

#include "xmlsec/algorithms.hpp"
#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {
namespace {

int swa_execute(xmlSecTransformPtr t, int last, xmlSecTransformCtxPtr) {
  xmlSecBufferPtr in = &t->inBuf;
  xmlSecBufferPtr out = &t->outBuf;
  if (t->status == xmlSecTransformStatusNone) t->status = xmlSecTransformStatusWorking;
  if (t->status == xmlSecTransformStatusWorking) {
    xmlSecSize const n = xmlSecBufferGetSize(in);
    if (n > 0) {
      if (xmlSecBufferAppend(out, xmlSecBufferGetData(in), n) < 0) return -1;
      if (xmlSecBufferRemoveHead(in, n) < 0) return -1;
    }
    if (last != 0) t->status = xmlSecTransformStatusFinished;
    return 0;
  }
  return t->status == xmlSecTransformStatusFinished && xmlSecBufferGetSize(in) == 0 ? 0 : -1;
}

xmlSecTransformKlass const swa_content = {
    sizeof(xmlSecTransformKlass),
    sizeof(xmlSecTransform),
    reinterpret_cast<xmlChar const*>("swa-attachment-content-signature"),
    reinterpret_cast<xmlChar const*>(uri::swa_content_signature.data()),
    xmlSecTransformUsageDSigTransform,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    xmlSecTransformDefaultGetDataType,
    xmlSecTransformDefaultPushBin,
    xmlSecTransformDefaultPopBin,
    nullptr,
    nullptr,
    swa_execute,
    nullptr,
    nullptr,
};

}  // namespace

xmlSecTransformId swa_content_klass() {
  return &swa_content;
}

}  // namespace bbgw::xmlsec::detail

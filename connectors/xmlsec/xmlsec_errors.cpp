// Captures xmlsec's error reports per thread (see internal.hpp) instead of printing them.
#include <xmlsec/xmlsec.h>  // before errors.h, which needs its types

#include <xmlsec/errors.h>

#include "xmlsec/internal.hpp"

namespace bbgw::xmlsec::detail {
namespace {

thread_local std::string last_error;

void capture(char const*, int, char const* func, char const* object, char const* subject,
             int reason, char const* msg) {
  // The first error of an operation is the cause; later ones are its consequences.
  if (!last_error.empty()) return;
  last_error = "xmlsec: ";
  if (func != nullptr) last_error += func;
  if (subject != nullptr) (last_error += " ") += subject;
  if (object != nullptr) ((last_error += " [") += object) += "]";
  for (xmlSecSize pos = 0; xmlSecErrorsGetMsg(pos) != nullptr; ++pos) {
    if (xmlSecErrorsGetCode(pos) == reason) {
      (last_error += ": ") += xmlSecErrorsGetMsg(pos);
      break;
    }
  }
  if (msg != nullptr && *msg != '\0') (last_error += ": ") += msg;
}

}  // namespace

void install_error_capture() {
  xmlSecErrorsSetCallback(capture);
}
void clear_xmlsec_error() {
  last_error.clear();
}
std::string const& last_xmlsec_error() {
  return last_error;
}

}  // namespace bbgw::xmlsec::detail

#pragma once
// The signal messages we send: a signed eb:Receipt whose ebbp:NonRepudiationInformation copies
// every ds:Reference of the user message's signature (cid: ones included), and a (signed when
// we can) eb:Error with the EBMS code, short description, category, severity and a specific
// ErrorDetail. Both are SOAP 1.2 with a wsse:Security header holding our certificate as a
// BinarySecurityToken, signed rsa-sha256 / exc-c14n / sha256 over eb:Messaging and the Body.
#include <optional>
#include <string>
#include <string_view>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "edelivery/edelivery_errc.hpp"
#include "xmlsec/key.hpp"
#include "xmlsec/signature.hpp"

#include "xmlsec/document.hpp"

namespace bbgw::edelivery {

struct signal_identity {
  std::string message_id;  // of the signal we send
  sys_time timestamp{};
};

// `signature` is the verified signature of the user message we acknowledge.
result<std::string> build_receipt(std::string_view ref_to_message_id,
                                  xmlsec::verified_signature const& signature,
                                  xmlsec::key const& own, signal_identity const& id);

struct error_signal {
  ebms_error const* error = nullptr;
  std::string detail;             // ErrorDetail (log-safe)
  std::string ref_to_message_id;  // empty when the message could not be read
  bool soap_fault = false;        // also put a SOAP 1.2 Fault in the Body
};

// Signed with `own` when given (else unsigned: e.g. our key is unusable).
result<std::string> build_error(error_signal const& e, xmlsec::key const* own,
                                signal_identity const& id);

// A message id "<uuid>@<domain>".
std::string new_message_id(std::string_view domain);

using xmlsec::xml_escape;

}  // namespace bbgw::edelivery

#pragma once
// The SP's metadata (GET /eid/metadata): EntityDescriptor with SPSSODescriptor
// (AuthnRequestsSigned, WantAssertionsSigned), signing and encryption KeyDescriptors, the ACS
// (HTTP-POST), eidas:SPType, the algorithms supported (alg:DigestMethod / alg:SigningMethod,
// EncryptionMethod), NameIDFormat; signed (enveloped) with the SP signing key.
#include <string>

#include "bbgw/clock.hpp"
#include "bbgw/result.hpp"
#include "eid/config.hpp"
#include "xmlsec/key.hpp"

namespace bbgw::eid {

std::string build_sp_metadata(eid_config const& cfg, xmlsec::key const& signing,
                              xmlsec::key const& encryption, sys_time valid_until,
                              std::string const& id);

// Signs a SAML document (AuthnRequest, metadata) whose root carries `ID`: an enveloped
// signature over "#ID" with exc-c14n, placed after the root's first saml:Issuer child (or
// first), as SAML core §5.4 and the metadata schema require. Returns the serialised document.
result<std::string> sign_saml(std::string const& xml, xmlsec::key const& signing,
                              std::string const& signature_method,
                              std::string const& digest_method);

}  // namespace bbgw::eid

#pragma once
// Internal: Exclusive XML Canonicalization 1.0 without comments (W3C REC-xml-exc-c14n) of one
// element's subtree, the form XML-DSig gives a same-document "#id" reference whose transforms
// are [enveloped-signature,] exc-c14n, and a SignedInfo canonicalised with exc-c14n.
//
// libxml2's xmlC14NExecute does the same for any node-set, asking a visibility callback about
// every node, attribute and namespace node, with namespace stacks rebuilt per element; for a
// whole subtree minus one subtree the answer is structural, and this walks the tree once.
// tests/connectors/xmlsec/exc_c14n_test.cpp checks it byte for byte against xmlC14NExecute
// over the SAML and AS4 corpora. Not part of the library's interface.
#include <span>
#include <string>

#include <libxml/tree.h>

namespace bbgw::xmlsec::detail {

// Appends the canonical form of the subtree at `apex`, without the subtree at `excluded` (the
// enveloping ds:Signature; null for none). `inclusive_prefixes` is the InclusiveNamespaces
// PrefixList ("#default" names the default namespace). Returns false, `out` then unspecified,
// for content it does not canonicalise (entity references, XInclude nodes, a tree deeper than
// 256 elements): the caller then takes libxml2's generic path.
bool exc_c14n(xmlNodePtr apex, xmlNodePtr excluded, std::span<std::string const> inclusive_prefixes,
              std::string& out);

}  // namespace bbgw::xmlsec::detail

#!/usr/bin/python3
"""Lasso (Debian python3-lasso, Entr'ouvert's liblasso3) as the eIDAS node, for the eid tests.

Same command line as pysaml2_node.py, so the tests can drive either node:

  lasso_node.py setup DIR NODE_URL
      makes an RSA-2048 key and certificate with openssl in DIR, the node's metadata for Lasso
      (DIR/lasso-idp.xml) and DIR/idp-metadata.xml: the same, signed by the xmlsec1 command line
      with that key (the test's trust anchor).
  lasso_node.py respond DIR SP_METADATA AUTHN_REQUEST_B64 [options]
      Lasso reads our SP metadata, takes our AuthnRequest (HTTP-POST, signature verified by Lasso
      with the key of our metadata: a bad signature → exit 1, nothing printed), builds the
      Assertion and prints the base64 SAMLResponse of Lasso's HTTP-POST binding.
      options: --sign both|assertion (Lasso signs RSA-SHA256 / SHA-256; it always signs the
                                      Assertion, `assertion` leaves the Response unsigned)
               --loa URI  --omit ATTRIBUTE_URI
               --encrypt cbc (Lasso's EncryptedAssertion: AES-256-CBC, the only content cipher
                              Lasso has; the key by RSA-OAEP-MGF1P with no DigestMethod, i.e.
                              the SHA-1 OAEP digest)
               --key-transport oaep|pkcs1 (pkcs1 = rsa-1_5, for the downgrade tests)
"""
import argparse
import base64
import datetime
import os
import subprocess
import sys

import lasso

NP = "http://eidas.europa.eu/attributes/naturalperson/"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"


def cert_b64(path):
    pem = open(path).read()
    return "".join(l for l in pem.splitlines() if "-----" not in l)


def setup(a):
    d = a.dir
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=Lasso eIDAS node", "-keyout", os.path.join(d, "idp.key"),
                    "-out", os.path.join(d, "idp.crt")], check=True, capture_output=True)
    with open(os.path.join(d, "node_url"), "w") as f:
        f.write(a.node_url)
    u = a.node_url
    kd = ('<md:KeyDescriptor use="%s"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>%s'
          '</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>')
    body = (
        '<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
        kd % ("signing", cert_b64(os.path.join(d, "idp.crt"))) +
        '<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        'Location="%s/sso/post"/>'
        '<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="%s/sso/redirect"/>'
        '</md:IDPSSODescriptor>') % (u, u)
    head = ('<md:EntityDescriptor xmlns:md="%s" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
            'ID="_lasso-node-metadata" entityID="%s/metadata">' % (MD, u))
    with open(os.path.join(d, "lasso-idp.xml"), "w") as f:
        f.write(head + body + "</md:EntityDescriptor>")
    # The signed copy: an enveloped-signature template signed by the xmlsec1 command line.
    sig = ('<ds:Signature><ds:SignedInfo>'
           '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
           '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
           '<ds:Reference URI="#_lasso-node-metadata"><ds:Transforms>'
           '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
           '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
           '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
           '<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>'
           '</ds:Signature>')
    tmpl = os.path.join(d, "idp-metadata.tmpl.xml")
    with open(tmpl, "w") as f:
        f.write(head + sig + body + "</md:EntityDescriptor>")
    subprocess.run(["xmlsec1", "--sign", "--privkey-pem", os.path.join(d, "idp.key"),
                    "--id-attr:ID", MD + ":EntityDescriptor",
                    "--output", os.path.join(d, "idp-metadata.xml"), tmpl],
                   check=True, capture_output=True)


def text_value(text):
    v = lasso.Saml2AttributeValue()
    t = lasso.MiscTextNode.newWithString(text)
    t.textChild = True
    v.any = [t]
    return v


def attribute(name, value):
    at = lasso.Saml2Attribute()
    at.name = name
    at.nameFormat = lasso.SAML2_ATTRIBUTE_NAME_FORMAT_URI
    at.attributeValue = [text_value(value)]
    return at


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def respond(a):
    d = a.dir
    server = lasso.Server(os.path.join(d, "lasso-idp.xml"), os.path.join(d, "idp.key"), None,
                          os.path.join(d, "idp.crt"))
    server.signatureMethod = lasso.SIGNATURE_METHOD_RSA_SHA256
    server.addProvider(lasso.PROVIDER_ROLE_SP, a.sp_metadata)
    login = lasso.Login(server)
    # Our AuthnRequest must carry a signature Lasso verifies with our metadata's key.
    login.setSignatureVerifyHint(lasso.PROFILE_SIGNATURE_VERIFY_HINT_FORCE)
    try:
        login.processAuthnRequestMsg(a.request)
    except lasso.Error as e:
        sys.exit("Lasso refused the AuthnRequest: %s" % e)
    sp = server.getProvider(login.remoteProviderId)
    if a.encrypt == "cbc":
        sp.setEncryptionMode(lasso.ENCRYPTION_MODE_ASSERTION)
        sp.setEncryptionSymKeyType(lasso.ENCRYPTION_SYM_KEY_TYPE_AES_256)
        sp.setKeyEncryptionMethod(lasso.KEY_ENCRYPTION_METHOD_PKCS1 if a.key_transport == "pkcs1"
                                  else lasso.KEY_ENCRYPTION_METHOD_OAEP)
    login.validateRequestMsg(True, True)
    now = datetime.datetime.now(datetime.timezone.utc)
    login.buildAssertion(a.loa, iso(now), None, iso(now - datetime.timedelta(seconds=30)),
                         iso(now + datetime.timedelta(minutes=5)))
    ava = [(NP + "PersonIdentifier", "ES/DE/99999999R"), (NP + "CurrentFamilyName", "Garcia"),
           (NP + "CurrentGivenName", "Javier"), (NP + "DateOfBirth", "1965-01-01")]
    st = lasso.Saml2AttributeStatement()
    st.attribute = [attribute(n, v) for n, v in ava if n not in (a.omit or [])]
    assertion = login.assertion
    assertion.attributeStatement = [st]
    if a.sign == "assertion":
        login.setSignatureHint(lasso.PROFILE_SIGNATURE_HINT_FORBID)
    login.buildAuthnResponseMsg()
    print(login.msgBody)


def main():
    p = argparse.ArgumentParser()
    s = p.add_subparsers(dest="cmd", required=True)
    s1 = s.add_parser("setup")
    s1.add_argument("dir")
    s1.add_argument("node_url")
    s2 = s.add_parser("respond")
    s2.add_argument("dir")
    s2.add_argument("sp_metadata")
    s2.add_argument("request")
    s2.add_argument("--sign", default="both", choices=["assertion", "both"])
    s2.add_argument("--loa", default="http://eidas.europa.eu/LoA/substantial")
    s2.add_argument("--omit", action="append")
    s2.add_argument("--encrypt", choices=["cbc"])
    s2.add_argument("--key-transport", default="oaep", choices=["oaep", "pkcs1"])
    a = p.parse_args()
    setup(a) if a.cmd == "setup" else respond(a)


if __name__ == "__main__":
    sys.exit(main())

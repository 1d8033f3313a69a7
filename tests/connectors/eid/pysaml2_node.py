#!/usr/bin/python3
"""pysaml2 (Debian python3-pysaml2) as the eIDAS node, for the eid connector's tests.

  pysaml2_node.py setup DIR NODE_URL
      makes an RSA-2048 key and certificate with openssl in DIR, and DIR/idp-metadata.xml:
      the node's metadata, signed by pysaml2 (xmlsec1) with that key (the test's trust anchor).
  pysaml2_node.py respond DIR SP_METADATA AUTHN_REQUEST_B64 [options]
      parses our AuthnRequest with pysaml2 (checking its signature against our SP metadata)
      and prints the base64 SAMLResponse pysaml2 makes for it.
      options: --sign response|assertion|both  --status Success|RequestDenied
               --loa URI  --omit ATTRIBUTE_URI  --replace OLD NEW (re-signs the assertion)
               --encrypt gcm|gcm-xenc11|cbc (EncryptedAssertion for our encryption certificate;
                 gcm-xenc11: key transport xmlenc11#rsa-oaep + xenc11:MGF mgf1sha256)
"""
import argparse
import base64
import os
import re
import subprocess
import sys

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import security_context
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

NP = "http://eidas.europa.eu/attributes/naturalperson/"


def config(d, node_url, sp_metadata=None):
    c = {
        "entityid": node_url + "/metadata",
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [
                (node_url + "/sso/post", BINDING_HTTP_POST),
                (node_url + "/sso/redirect", BINDING_HTTP_REDIRECT)]},
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "want_authn_requests_signed": True,
            "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None,
                                   "name_form": "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"}},
        }},
        "key_file": os.path.join(d, "idp.key"),
        "cert_file": os.path.join(d, "idp.crt"),
        "encryption_keypairs": [{"key_file": os.path.join(d, "idp.key"),
                                 "cert_file": os.path.join(d, "idp.crt")}],
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [sp_metadata]} if sp_metadata else {},
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
    }
    cfg = IdPConfig()
    cfg.load(c)
    return cfg


def setup(a):
    d = a.dir
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=test eIDAS node", "-keyout", os.path.join(d, "idp.key"),
                    "-out", os.path.join(d, "idp.crt")], check=True, capture_output=True)
    with open(os.path.join(d, "node_url"), "w") as f:
        f.write(a.node_url)
    cfg = config(d, a.node_url)
    ed = entity_descriptor(cfg)
    secc = security_context(cfg)
    ed.id = "_node-metadata"
    _, signed = sign_entity_descriptor(ed, "_node-metadata", secc, SIG_RSA_SHA256, DIGEST_SHA256)
    with open(os.path.join(d, "idp-metadata.xml"), "w") as f:
        f.write(str(signed))


def encrypt_gcm(resp, sp_metadata, xenc11=False):
    """The eIDAS profile, made with python3-cryptography (xmlsec1 1.2 has no xmlenc11 rsa-oaep):
    the signed Assertion → AES-256-GCM, the key → RSA-OAEP-MGF1P with SHA-256 for
    the encryption certificate of our SP metadata, inside saml:EncryptedAssertion."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    md = open(sp_metadata).read()
    enc_kd = md.split('use="encryption"', 1)[1]
    cert_b64 = re.search(r"X509Certificate>([^<]+)<", enc_kd).group(1)
    cert = x509.load_der_x509_certificate(base64.b64decode(cert_b64))
    m = re.search(r"<(\w+):Assertion[ >]", resp)
    prefix = m.group(1)
    end = resp.index("</%s:Assertion>" % prefix) + len("</%s:Assertion>" % prefix)
    assertion = resp[m.start():end]
    # The assertion must stand alone: carry the namespace declarations of the Response.
    decls = " ".join(sorted(set(re.findall(r'xmlns:\w+="[^"]*"', resp[:m.start()]))))
    assertion = assertion.replace("<%s:Assertion " % prefix, "<%s:Assertion %s " % (prefix, decls), 1)
    cek = os.urandom(32)
    iv = os.urandom(12)
    ct = iv + AESGCM(cek).encrypt(iv, assertion.encode(), None)
    # rsa-oaep-mgf1p (MGF1 with SHA-1 by definition) with a SHA-256 OAEP digest, or (xenc11)
    # xmlenc11#rsa-oaep with an explicit xenc11:MGF mgf1sha256 and a SHA-256 digest.
    mgf = hashes.SHA256() if xenc11 else hashes.SHA1()
    ek = cert.public_key().encrypt(cek, padding.OAEP(mgf=padding.MGF1(mgf),
                                                     algorithm=hashes.SHA256(), label=None))
    X = "http://www.w3.org/2001/04/xmlenc#"
    if xenc11:
        kt = ('<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep">'
              '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
              '<xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" '
              'Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/>'
              '</xenc:EncryptionMethod>')
    else:
        kt = ('<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">'
              '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
              '</xenc:EncryptionMethod>')
    enc = ('<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
           '<xenc:EncryptedData xmlns:xenc="%s" Type="%sElement">'
           '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>'
           '<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey>%s'
           '<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>'
           '</xenc:EncryptedKey></ds:KeyInfo>'
           '<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue></xenc:CipherData>'
           '</xenc:EncryptedData></saml:EncryptedAssertion>') % (
        X, X, kt, base64.b64encode(ek).decode(), base64.b64encode(ct).decode())
    return resp[:m.start()] + enc + resp[end:]


def respond(a):
    d = a.dir
    node_url = open(os.path.join(d, "node_url")).read()
    idp = Server(config=config(d, node_url, a.sp_metadata))
    xml = base64.b64decode(a.request)
    req = idp.parse_authn_request(base64.b64encode(xml).decode(), BINDING_HTTP_POST)
    msg = req.message
    sp = msg.issuer.text
    acs = msg.assertion_consumer_service_url
    if a.status != "Success":
        # pysaml2 maps an exception it has no code for to Responder / AuthnFailed.
        resp = idp.create_error_response(msg.id, acs, Exception("authentication failed"),
                                         sign=True, sign_alg=SIG_RSA_SHA256,
                                         digest_alg=DIGEST_SHA256)
        print(base64.b64encode(str(resp).encode()).decode())
        return
    ava = {NP + "PersonIdentifier": ["ES/DE/99999999R"], NP + "CurrentFamilyName": ["Garcia"],
           NP + "CurrentGivenName": ["Javier"], NP + "DateOfBirth": ["1965-01-01"]}
    for o in a.omit or []:
        ava.pop(o, None)
    resign = a.replace and a.sign == "assertion"
    enc = {}
    if a.encrypt == "cbc":
        import functools
        import saml2.entity
        import saml2.sigver
        # pysaml2 encrypts with xmlsec1: 3DES-CBC by default, here AES-256-CBC (refused by eIDAS).
        saml2.entity.pre_encryption_part = functools.partial(
            saml2.sigver.pre_encryption_part, msg_enc="http://www.w3.org/2001/04/xmlenc#aes256-cbc")
        orig = saml2.sigver.SecurityContext.encrypt_assertion

        def with_aes_session_key(self, statement, enc_key, template, key_type=None,
                                 node_xpath=None):
            return orig(self, statement, enc_key, template, "aes-256", node_xpath)

        saml2.sigver.SecurityContext.encrypt_assertion = with_aes_session_key
        enc = {"encrypt_assertion": True, "encrypt_assertion_self_contained": True}
    resp = idp.create_authn_response(
        ava, msg.id, acs, sp,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="ES/DE/99999999R"),
        authn={"class_ref": a.loa, "authn_auth": node_url},
        sign_response=a.sign in ("response", "both"),
        sign_assertion=a.sign in ("assertion", "both"),
        sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, **enc)
    resp = str(resp)
    if a.encrypt in ("gcm", "gcm-xenc11"):
        resp = encrypt_gcm(resp, a.sp_metadata, xenc11=a.encrypt == "gcm-xenc11")
        rid = resp.split("Response ", 1)[1].split('ID="', 1)[1].split('"', 1)[0]
        resp = idp.sec.sign_statement(resp, "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                                      node_id=rid)
    for old, new in a.replace or []:
        if old not in resp:
            sys.exit("replace: %r not found" % old)
        head, _, tail = resp.rpartition(old)  # the last occurrence: inside the assertion
        resp = head + new + tail
    if resign:
        # The node signs the changed assertion again: semantically wrong, cryptographically valid.
        aid = resp.split("Assertion ", 1)[1].split('ID="', 1)[1].split('"', 1)[0]
        resp = idp.sec.sign_statement(resp, "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                                      node_id=aid)
    print(base64.b64encode(resp.encode()).decode())


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
    s2.add_argument("--sign", default="both")
    s2.add_argument("--status", default="Success")
    s2.add_argument("--loa", default="http://eidas.europa.eu/LoA/substantial")
    s2.add_argument("--omit", action="append")
    s2.add_argument("--encrypt", choices=["gcm", "gcm-xenc11", "cbc"])
    s2.add_argument("--replace", nargs=2, action="append",
                    help="replace text, then re-sign the assertion (with --sign assertion)")
    a = p.parse_args()
    setup(a) if a.cmd == "setup" else respond(a)


if __name__ == "__main__":
    sys.exit(main())

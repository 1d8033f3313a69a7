#!/usr/bin/python3
"""An independent XML-DSig signer/verifier for bbgw_xmlsec's tests: python3-lxml (exclusive
c14n) + python3-cryptography. Same-document "#id" references with the enveloped-signature and
exc-c14n transforms; RSA PKCS#1 v1.5, RSASSA-PSS (RFC 6931: salt = digest length, MGF1 with the
same digest) and ECDSA (XML-DSig r||s).

  xsig_python.py sign <pss-sha256|...|ecdsa-sha256|rsa-sha256> <key.pem> <in.xml> <out.xml>
  xsig_python.py verify <cert.pem> <in.xml> [id-attribute]   (exit 0 = valid)
"""
import base64
import copy
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENV = DS + "enveloped-signature"
METHODS = {
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "pkcs1", hashes.SHA256),
    "pss-sha256": ("http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1", "pss", hashes.SHA256),
    "pss-sha384": ("http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1", "pss", hashes.SHA384),
    "pss-sha512": ("http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1", "pss", hashes.SHA512),
    "ecdsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", "ecdsa", hashes.SHA256),
    "ecdsa-sha384": ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", "ecdsa", hashes.SHA384),
    "ecdsa-sha512": ("http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", "ecdsa", hashes.SHA512),
}
BY_URI = {v[0]: v for v in METHODS.values()}
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}


def c14n(el):
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def referenced(doc, uri, id_attr):
    assert uri.startswith("#")
    copy_root = copy.deepcopy(doc.getroot())
    for sig in copy_root.iter("{%s}Signature" % DS):  # enveloped-signature
        sig.getparent().remove(sig)
    for el in copy_root.iter():
        if el.get(id_attr) == uri[1:]:
            return el
    raise SystemExit("no element with id " + uri)


def sign(name, key_file, in_file, out_file):
    method, kind, hash_cls = METHODS[name]
    key = serialization.load_pem_private_key(open(key_file, "rb").read(), None)
    doc = etree.parse(in_file)
    root = doc.getroot()
    E = lambda tag, **kw: etree.Element("{%s}%s" % (DS, tag), nsmap={"ds": DS}, **kw)
    sig = E("Signature")
    si = etree.SubElement(sig, "{%s}SignedInfo" % DS)
    etree.SubElement(si, "{%s}CanonicalizationMethod" % DS, Algorithm=EXC)
    etree.SubElement(si, "{%s}SignatureMethod" % DS, Algorithm=method)
    ref = etree.SubElement(si, "{%s}Reference" % DS, URI="#" + root.get("ID"))
    tr = etree.SubElement(ref, "{%s}Transforms" % DS)
    etree.SubElement(tr, "{%s}Transform" % DS, Algorithm=ENV)
    etree.SubElement(tr, "{%s}Transform" % DS, Algorithm=EXC)
    etree.SubElement(ref, "{%s}DigestMethod" % DS, Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
    dv = etree.SubElement(ref, "{%s}DigestValue" % DS)
    sv = etree.SubElement(sig, "{%s}SignatureValue" % DS)
    root.insert(1, sig)  # after the Issuer
    dv.text = base64.b64encode(hashlib.sha256(c14n(referenced(doc, ref.get("URI"), "ID"))).digest())
    data = c14n(si)
    h = hash_cls()
    if kind == "pss":
        value = key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    elif kind == "pkcs1":
        value = key.sign(data, padding.PKCS1v15(), h)
    else:
        r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(h)))
        n = (key.curve.key_size + 7) // 8
        value = r.to_bytes(n, "big") + s.to_bytes(n, "big")
    sv.text = base64.b64encode(value)
    open(out_file, "wb").write(etree.tostring(doc))


def verify(cert_file, in_file, id_attr="ID"):
    pub = x509.load_pem_x509_certificate(open(cert_file, "rb").read()).public_key()
    doc = etree.parse(in_file)
    sig = next(doc.getroot().iter("{%s}Signature" % DS))
    si = sig.find("{%s}SignedInfo" % DS)
    for ref in si.findall("{%s}Reference" % DS):
        algs = [t.get("Algorithm") for t in ref.iterfind("{%s}Transforms/{%s}Transform" % (DS, DS))]
        if algs != [ENV, EXC]:
            raise SystemExit("unsupported transforms %r" % algs)
        md = DIGESTS[ref.find("{%s}DigestMethod" % DS).get("Algorithm")]
        want = base64.b64decode(ref.find("{%s}DigestValue" % DS).text)
        if md(c14n(referenced(doc, ref.get("URI"), id_attr))).digest() != want:
            print("digest mismatch", ref.get("URI"))
            return 1
    _, kind, hash_cls = BY_URI[si.find("{%s}SignatureMethod" % DS).get("Algorithm")]
    value = base64.b64decode(sig.find("{%s}SignatureValue" % DS).text)
    data = c14n(si)
    h = hash_cls()
    try:
        if kind == "pss":
            pub.verify(value, data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif kind == "pkcs1":
            pub.verify(value, data, padding.PKCS1v15(), h)
        else:
            n = len(value) // 2
            der = utils.encode_dss_signature(int.from_bytes(value[:n], "big"),
                                             int.from_bytes(value[n:], "big"))
            pub.verify(der, data, ec.ECDSA(h))
    except Exception as e:  # InvalidSignature
        print("signature invalid", type(e).__name__)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        sign(*sys.argv[2:6])
    else:
        sys.exit(verify(*sys.argv[2:]))

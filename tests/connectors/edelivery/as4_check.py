#!/usr/bin/python3
"""An independent checker of an AS4 message the gateway built (lxml exclusive c14n + Python
'cryptography', nothing shared with the C++ code): decrypts the attachments with the recipient's
PKCS#12 key (rsa-oaep / rsa-oaep-mgf1p, AES-GCM), checks every ds:Reference digest (cid: ones over
the decrypted bytes) and the rsa-sha256 SignatureValue with the BinarySecurityToken's certificate,
and that the BST is the expected sender certificate.

Usage: as4_check.py MESSAGE CONTENT_TYPE RECIPIENT.pfx PASSWORD SENDER.pfx SENDER_PASSWORD
Exit 0 and "VALID" when everything verifies; 1 with the reason otherwise.
"""
import base64
import email
import email.policy
import hashlib
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

NS = {
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xenc": "http://www.w3.org/2001/04/xmlenc#",
    "xenc11": "http://www.w3.org/2009/xmlenc11#",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": hashlib.sha256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashlib.sha384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashlib.sha512,
}
MGF = {
    "http://www.w3.org/2009/xmlenc11#mgf1sha1": hashes.SHA1(),
    "http://www.w3.org/2009/xmlenc11#mgf1sha256": hashes.SHA256(),
}


def fail(why):
    print("INVALID:", why)
    sys.exit(1)


def main():
    msg_file, content_type, rcpt_pfx, rcpt_pw, sender_pfx, sender_pw = sys.argv[1:7]
    raw = open(msg_file, "rb").read()
    mime = email.message_from_bytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw,
                                    policy=email.policy.HTTP)
    parts = list(mime.iter_parts())
    soap = parts[0].get_payload(decode=True)
    attachments = {p["Content-ID"].strip("<>"): p.get_payload(decode=True) for p in parts[1:]}
    doc = etree.fromstring(soap)
    rkey, _, _ = pkcs12.load_key_and_certificates(open(rcpt_pfx, "rb").read(), rcpt_pw.encode())
    _, scert, _ = pkcs12.load_key_and_certificates(open(sender_pfx, "rb").read(),
                                                   sender_pw.encode())
    security = doc.find(".//wsse:Security", NS)
    # Decrypt.
    for ek in security.findall("xenc:EncryptedKey", NS):
        method = ek.find("xenc:EncryptionMethod", NS)
        dm = method.find("ds:DigestMethod", NS)
        algo = {"http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256()}.get(
            dm.get("Algorithm") if dm is not None else "", hashes.SHA1())
        mgf_el = method.find("xenc11:MGF", NS)
        mgf = MGF[mgf_el.get("Algorithm")] if mgf_el is not None else hashes.SHA1()
        cv = base64.b64decode(ek.find("xenc:CipherData/xenc:CipherValue", NS).text)
        cek = rkey.decrypt(cv, padding.OAEP(mgf=padding.MGF1(mgf), algorithm=algo, label=None))
        for dr in ek.findall("xenc:ReferenceList/xenc:DataReference", NS):
            ed = security.find("xenc:EncryptedData[@Id='%s']" % dr.get("URI")[1:], NS)
            cid = ed.find("xenc:CipherData/xenc:CipherReference", NS).get("URI")[4:]
            data = attachments[cid]
            attachments[cid] = AESGCM(cek).decrypt(data[:12], data[12:], None)
    # Verify.
    sig = security.find("ds:Signature", NS)
    si = sig.find("ds:SignedInfo", NS)
    ids = {el.get("{%s}Id" % NS["wsu"]): el for el in doc.iter() if el.get("{%s}Id" % NS["wsu"])}
    for ref in si.findall("ds:Reference", NS):
        uri = ref.get("URI")
        h = DIGESTS[ref.find("ds:DigestMethod", NS).get("Algorithm")]
        if uri.startswith("cid:"):
            octets = attachments[uri[4:]]
        else:
            octets = etree.tostring(ids[uri[1:]], method="c14n", exclusive=True)
        if h(octets).digest() != base64.b64decode(ref.find("ds:DigestValue", NS).text):
            fail("digest of " + uri)
    bst = security.find("wsse:BinarySecurityToken", NS)
    cert = x509.load_der_x509_certificate(base64.b64decode(bst.text))
    if cert != scert:
        fail("BinarySecurityToken is not the sender certificate")
    alg = si.find("ds:SignatureMethod", NS).get("Algorithm")
    if alg != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256":
        fail("signature method " + alg)
    value = base64.b64decode(sig.find("ds:SignatureValue", NS).text)
    try:
        cert.public_key().verify(value, etree.tostring(si, method="c14n", exclusive=True),
                                 padding.PKCS1v15(), hashes.SHA256())
    except Exception as e:  # noqa: BLE001
        fail("SignatureValue: %r" % e)
    print("VALID", len(attachments), "attachments")


main()

#!/usr/bin/python3
"""Writes a signed and encrypted AS4 user message with one large attachment straight to a file,
streaming (constant memory whatever the size), with Python 'cryptography' and lxml only —
nothing shared with the C++ code. Used by the large-payload receive test and bench/as4_large.sh.

The attachment: SIZE bytes of pseudo-random data (a 1 MiB random block, each MiB then changed
by its index so no two MiB are equal), optionally gzip-compressed (PartProperties
CompressionType), then AES-128-GCM (IV ‖ ciphertext ‖ tag, Attachment-Ciphertext-Transform) under
a key sent with xmlenc11 rsa-oaep + MGF1-SHA-256 + SHA-256 to the recipient. The signature
(rsa-sha256, exc-c14n, sha256) covers eb:Messaging, the Body and the attachment (SwA
Attachment-Content-Signature-Transform over the bytes as sent, i.e. after compression); the
signer's certificate travels as a BinarySecurityToken. The PMode values are the AS4.NET/Holodeck
ones the tests configure (holodeck-test).

Usage: make_large_as4.py OUT SIZE SENDER.pfx PASSWORD RECIPIENT.pfx PASSWORD MESSAGE_ID [--gzip]
       [--zeros] [--timestamp-created ISO --timestamp-expires ISO]
Prints one JSON line: content_type, message_id, payload_size, payload_sha256, body_size.
"""
import argparse
import base64
import datetime
import hashlib
import json
import os
import zlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

S12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
SWA = "http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#"
X509V3 = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0"
          "#X509v3")
B64BIN = ("http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0"
          "#Base64Binary")
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
CHUNK = 1 << 20
BOUNDARY = "MIMEBoundary_large_as4_test_0123456789"
CID = "payload-1@large.test"


def payload_chunks(size, zeros):
    if zeros:
        block = bytes(CHUNK)
        done = 0
        while done < size:
            n = min(CHUNK, size - done)
            yield block[:n]
            done += n
        return
    block = bytearray(os.urandom(CHUNK))
    done, index = 0, 0
    while done < size:
        n = min(CHUNK, size - done)
        block[0:8] = index.to_bytes(8, "little")
        yield bytes(block[:n])
        done += n
        index += 1


def sent_chunks(size, compress, zeros, stats):
    """The attachment's bytes as sent (before encryption): the payload, gzipped or not."""
    payload_hash = hashlib.sha256()
    z = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if compress else None
    for chunk in payload_chunks(size, zeros):
        payload_hash.update(chunk)
        if z:
            out = z.compress(chunk)
            if out:
                yield out
        else:
            yield chunk
    if z:
        yield z.flush()
    stats["payload_sha256"] = payload_hash.hexdigest()


def c14n(el):
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def main():
    ap = argparse.ArgumentParser()
    for a in ("out", "size", "sender", "sender_password", "recipient", "recipient_password",
              "message_id"):
        ap.add_argument(a)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--zeros", action="store_true", help="a payload of zeros (a gzip bomb)")
    ap.add_argument("--timestamp-created")
    ap.add_argument("--timestamp-expires")
    args = ap.parse_args()
    size = int(args.size)

    skey, scert, _ = pkcs12.load_key_and_certificates(open(args.sender, "rb").read(),
                                                      args.sender_password.encode())
    _, rcert, _ = pkcs12.load_key_and_certificates(open(args.recipient, "rb").read(),
                                                   args.recipient_password.encode())
    cek = os.urandom(16)
    iv = os.urandom(12)
    wrapped = rcert.public_key().encrypt(
        cek, padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None))

    # 1. The attachment: encrypted while streaming to a scratch file next to OUT; its digest (for
    #    the signature) is over the bytes as sent, before encryption.
    stats = {}
    digest = hashlib.sha256()
    enc = Cipher(algorithms.AES(cek), modes.GCM(iv)).encryptor()
    scratch = args.out + ".attachment"
    with open(scratch, "wb") as f:
        f.write(iv)
        for chunk in sent_chunks(size, args.gzip, args.zeros, stats):
            digest.update(chunk)
            f.write(enc.update(chunk))
        f.write(enc.finalize())
        f.write(enc.tag)

    # 2. The envelope.
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    compression = ('<eb:Property name="CompressionType">application/gzip</eb:Property>'
                   if args.gzip else "")
    timestamp = ""
    if args.timestamp_created or args.timestamp_expires:
        timestamp = '<wsu:Timestamp wsu:Id="ts">'
        if args.timestamp_created:
            timestamp += "<wsu:Created>%s</wsu:Created>" % args.timestamp_created
        if args.timestamp_expires:
            timestamp += "<wsu:Expires>%s</wsu:Expires>" % args.timestamp_expires
        timestamp += "</wsu:Timestamp>"
    bst = base64.b64encode(scert.public_bytes(serialization.Encoding.DER)).decode()
    xml = f"""<S12:Envelope xmlns:S12="{S12}" xmlns:eb="{EB}" xmlns:wsse="{WSSE}" xmlns:wsu="{WSU}" xmlns:ds="{DS}" xmlns:xenc="{XENC}"><S12:Header><eb:Messaging S12:mustUnderstand="true" wsu:Id="messaging"><eb:UserMessage><eb:MessageInfo><eb:Timestamp>{now}</eb:Timestamp><eb:MessageId>{args.message_id}</eb:MessageId></eb:MessageInfo><eb:PartyInfo><eb:From><eb:PartyId>org:holodeckb2b:example:company:A</eb:PartyId><eb:Role>Sender</eb:Role></eb:From><eb:To><eb:PartyId>org:eu:europa:as4:example</eb:PartyId><eb:Role>Receiver</eb:Role></eb:To></eb:PartyInfo><eb:CollaborationInfo><eb:AgreementRef>http://agreements.holodeckb2b.org/examples/agreement0</eb:AgreementRef><eb:Service type="org:holodeckb2b:services">Test</eb:Service><eb:Action>StoreMessage</eb:Action><eb:ConversationId>large-conversation</eb:ConversationId></eb:CollaborationInfo><eb:PayloadInfo><eb:PartInfo href="cid:{CID}"><eb:PartProperties><eb:Property name="MimeType">application/octet-stream</eb:Property>{compression}</eb:PartProperties></eb:PartInfo></eb:PayloadInfo></eb:UserMessage></eb:Messaging><wsse:Security S12:mustUnderstand="true">{timestamp}<wsse:BinarySecurityToken EncodingType="{B64BIN}" ValueType="{X509V3}" wsu:Id="bst">{bst}</wsse:BinarySecurityToken><xenc:EncryptedKey Id="ek"><xenc:EncryptionMethod Algorithm="{XENC11}rsa-oaep"><ds:DigestMethod Algorithm="{SHA256}"/><xenc11:MGF xmlns:xenc11="{XENC11}" Algorithm="{XENC11}mgf1sha256"/></xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue>{base64.b64encode(wrapped).decode()}</xenc:CipherValue></xenc:CipherData><xenc:ReferenceList><xenc:DataReference URI="#ed-1"/></xenc:ReferenceList></xenc:EncryptedKey><xenc:EncryptedData Id="ed-1" MimeType="{'application/gzip' if args.gzip else 'application/octet-stream'}" Type="{SWA}Attachment-Content-Only"><xenc:EncryptionMethod Algorithm="{XENC11}aes128-gcm"/><xenc:CipherData><xenc:CipherReference URI="cid:{CID}"><xenc:Transforms><ds:Transform Algorithm="{SWA}Attachment-Ciphertext-Transform"/></xenc:Transforms></xenc:CipherReference></xenc:CipherData></xenc:EncryptedData></wsse:Security></S12:Header><S12:Body wsu:Id="body"/></S12:Envelope>"""
    doc = etree.fromstring(xml.encode())
    ns = {"eb": EB, "S12": S12, "wsse": WSSE}
    messaging = doc.find(".//eb:Messaging", ns)
    body = doc.find("S12:Body", ns)
    security = doc.find(".//wsse:Security", ns)

    def ds(tag, parent=None, **attrs):
        el = etree.SubElement(parent, "{%s}%s" % (DS, tag)) if parent is not None else \
            etree.Element("{%s}%s" % (DS, tag))
        for k, v in attrs.items():
            el.set(k, v)
        return el

    sig = ds("Signature", security, Id="sig")
    si = ds("SignedInfo", sig)
    ds("CanonicalizationMethod", si, Algorithm=EXC_C14N)
    ds("SignatureMethod", si, Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    refs = [("#messaging", EXC_C14N, hashlib.sha256(c14n(messaging)).digest()),
            ("#body", EXC_C14N, hashlib.sha256(c14n(body)).digest()),
            ("cid:" + CID, SWA + "Attachment-Content-Signature-Transform", digest.digest())]
    for uri, transform, value in refs:
        ref = ds("Reference", si, URI=uri)
        ds("Transform", ds("Transforms", ref), Algorithm=transform)
        ds("DigestMethod", ref, Algorithm=SHA256)
        ds("DigestValue", ref).text = base64.b64encode(value).decode()
    value = skey.sign(c14n(si), padding.PKCS1v15(), hashes.SHA256())
    ds("SignatureValue", sig).text = base64.b64encode(value).decode()
    str_el = etree.SubElement(ds("KeyInfo", sig), "{%s}SecurityTokenReference" % WSSE)
    r = etree.SubElement(str_el, "{%s}Reference" % WSSE)
    r.set("URI", "#bst")
    r.set("ValueType", X509V3)
    envelope = etree.tostring(doc, xml_declaration=True, encoding="UTF-8")

    # 3. The MIME body: envelope, then the attachment copied from the scratch file.
    with open(args.out, "wb") as out, open(scratch, "rb") as att:
        out.write(("--%s\r\nContent-Type: application/soap+xml; charset=UTF-8\r\n"
                   "Content-Transfer-Encoding: binary\r\nContent-ID: <root@large.test>\r\n\r\n"
                   % BOUNDARY).encode())
        out.write(envelope)
        out.write(("\r\n--%s\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Transfer-Encoding: binary\r\nContent-ID: <%s>\r\n\r\n"
                   % (BOUNDARY, CID)).encode())
        while True:
            b = att.read(CHUNK)
            if not b:
                break
            out.write(b)
        out.write(("\r\n--%s--\r\n" % BOUNDARY).encode())
    os.remove(scratch)
    print(json.dumps({
        "content_type": 'multipart/related; type="application/soap+xml"; boundary="%s"; '
                        'start="<root@large.test>"' % BOUNDARY,
        "message_id": args.message_id,
        "payload_size": size,
        "payload_sha256": stats["payload_sha256"],
        "body_size": os.path.getsize(args.out),
    }))


if __name__ == "__main__":
    main()

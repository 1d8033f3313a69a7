#!/usr/bin/python3
"""XML Encryption test vectors made with python3-cryptography (an implementation independent of
the gateway's OpenSSL code) and, for one vector, with the xmlsec1 command line.

Usage: /usr/bin/python3 make_xenc_vectors.py OUTDIR   (the output is committed next to this
script under xenc/; re-running makes new keys and vectors, the tests read whatever is there).

Each vector is one XML file: a samlp:Response-like root holding t:Expect (the CEK and the
plaintext, hex/base64) and a saml:EncryptedAssertion wrapper with xenc:EncryptedData and its
xenc:EncryptedKey (inside ds:KeyInfo unless the vector tests another form)."""
import base64
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives import hashes, serialization, keywrap
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"

DIGEST = {"sha1": ("http://www.w3.org/2000/09/xmldsig#sha1", hashes.SHA1()),
          "sha256": ("http://www.w3.org/2001/04/xmlenc#sha256", hashes.SHA256()),
          "sha384": ("http://www.w3.org/2001/04/xmldsig-more#sha384", hashes.SHA384()),
          "sha512": ("http://www.w3.org/2001/04/xmlenc#sha512", hashes.SHA512())}
GCM = {16: XENC11 + "aes128-gcm", 24: XENC11 + "aes192-gcm", 32: XENC11 + "aes256-gcm"}
KW = {16: XENC + "kw-aes128", 24: XENC + "kw-aes192", 32: XENC + "kw-aes256"}
CURVES = {"p256": (ec.SECP256R1(), "urn:oid:1.2.840.10045.3.1.7"),
          "p384": (ec.SECP384R1(), "urn:oid:1.3.132.0.34"),
          "p521": (ec.SECP521R1(), "urn:oid:1.3.132.0.35"),
          "bp256": (ec.BrainpoolP256R1(), "urn:oid:1.3.36.3.3.2.8.1.1.7"),
          "bp384": (ec.BrainpoolP384R1(), "urn:oid:1.3.36.3.3.2.8.1.1.11"),
          "bp512": (ec.BrainpoolP512R1(), "urn:oid:1.3.36.3.3.2.8.1.1.13"),
          "k256": (ec.SECP256K1(), "urn:oid:1.3.132.0.10")}  # not supported: must be refused

b64 = lambda b: base64.b64encode(b).decode()


def write_key(name, key):
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    with open(os.path.join(OUT, name + ".key.pem"), "wb") as f:
        f.write(pem)


rsa_key = rsa.generate_private_key(65537, 2048)
rsa_other = rsa.generate_private_key(65537, 2048)
write_key("rsa", rsa_key)
write_key("rsa-other", rsa_other)
ec_keys = {}
for name, (curve, _) in CURVES.items():
    ec_keys[name] = ec.generate_private_key(curve)
    write_key("ec-" + name, ec_keys[name])

ASSERTION = ('<saml:Assertion ID="_a1" Version="2.0" IssueInstant="2026-01-01T00:00:00Z">'
             '<saml:Issuer>https://idp.example</saml:Issuer>'
             '<saml:AttributeStatement><saml:Attribute Name="x" xsi:type="saml:AttributeType"/>'
             '</saml:AttributeStatement></saml:Assertion>')
# Standalone form: its own declarations (what xmlsec/pysaml2/Lasso serialise).
ASSERTION_OWN_NS = ASSERTION.replace(
    '<saml:Assertion ', '<saml:Assertion xmlns:saml="%s" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ' % SAML, 1)


def oaep_method(method, digest, mgf, label):
    inner = ""
    if digest:
        inner += '<ds:DigestMethod xmlns:ds="%s" Algorithm="%s"/>' % (DS, DIGEST[digest][0])
    if mgf:
        inner += '<xenc11:MGF xmlns:xenc11="%s" Algorithm="%smgf1%s"/>' % (XENC11, XENC11, mgf)
    if label is not None:
        inner += "<xenc:OAEPparams>%s</xenc:OAEPparams>" % b64(label)
    return '<xenc:EncryptionMethod Algorithm="%s">%s</xenc:EncryptionMethod>' % (method, inner)


def rsa_encrypted_key(cek, method="rsa-oaep-mgf1p", digest=None, mgf=None, label=None,
                      pub=None, ek_id=None, carried=None, refs=()):
    pub = pub or rsa_key.public_key()
    if method == "rsa-1_5":
        uri = XENC + "rsa-1_5"
        ct = pub.encrypt(cek, padding.PKCS1v15())
        em = '<xenc:EncryptionMethod Algorithm="%s"/>' % uri
    else:
        uri = (XENC + "rsa-oaep-mgf1p") if method == "rsa-oaep-mgf1p" else (XENC11 + "rsa-oaep")
        h = DIGEST[digest or "sha1"][1]
        m = hashes.SHA1() if method == "rsa-oaep-mgf1p" else DIGEST[mgf or "sha1"][1]
        ct = pub.encrypt(cek, padding.OAEP(mgf=padding.MGF1(m), algorithm=h, label=label))
        em = oaep_method(uri, digest, mgf if method != "rsa-oaep-mgf1p" else None, label)
    attrs = ' Id="%s"' % ek_id if ek_id else ""
    tail = ""
    if refs:
        tail += "<xenc:ReferenceList>%s</xenc:ReferenceList>" % "".join(
            '<xenc:DataReference URI="#%s"/>' % r for r in refs)
    if carried:
        tail += "<xenc:CarriedKeyName>%s</xenc:CarriedKeyName>" % carried
    return ('<xenc:EncryptedKey xmlns:xenc="%s"%s>%s<xenc:CipherData><xenc:CipherValue>%s'
            '</xenc:CipherValue></xenc:CipherData>%s</xenc:EncryptedKey>' %
            (XENC, attrs, em, b64(ct), tail))


def ecdh_encrypted_key(cek, curve, kek_bytes, digest="sha256", recipient=None):
    recipient = recipient or ec_keys[curve]
    eph = ec.generate_private_key(CURVES[curve][0])
    z = eph.exchange(ec.ECDH(), recipient.public_key())
    alg_id = b"\x00" + KW[kek_bytes].encode()
    party_u = b"\x00" + b"gateway-test-originator"
    party_v = b"\x00" + b"gateway-test-recipient"
    kek = ConcatKDFHash(algorithm=DIGEST[digest][1], length=kek_bytes,
                        otherinfo=alg_id[1:] + party_u[1:] + party_v[1:]).derive(z)
    wrapped = keywrap.aes_key_wrap(kek, cek)
    point = eph.public_key().public_bytes(serialization.Encoding.X962,
                                          serialization.PublicFormat.UncompressedPoint)
    return ('<xenc:EncryptedKey xmlns:xenc="{xenc}"><xenc:EncryptionMethod Algorithm="{kw}"/>'
            '<ds:KeyInfo xmlns:ds="{ds}"><xenc:AgreementMethod Algorithm="{xenc11}ECDH-ES">'
            '<xenc11:KeyDerivationMethod xmlns:xenc11="{xenc11}" Algorithm="{xenc11}ConcatKDF">'
            '<xenc11:ConcatKDFParams AlgorithmID="{a}" PartyUInfo="{u}" PartyVInfo="{v}">'
            '<ds:DigestMethod Algorithm="{dm}"/></xenc11:ConcatKDFParams>'
            '</xenc11:KeyDerivationMethod><xenc:OriginatorKeyInfo><ds:KeyValue>'
            '<dsig11:ECKeyValue xmlns:dsig11="{dsig11}"><dsig11:NamedCurve URI="{curve}"/>'
            '<dsig11:PublicKey>{pk}</dsig11:PublicKey></dsig11:ECKeyValue></ds:KeyValue>'
            '</xenc:OriginatorKeyInfo></xenc:AgreementMethod></ds:KeyInfo><xenc:CipherData>'
            '<xenc:CipherValue>{cv}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>'
            ).format(xenc=XENC, xenc11=XENC11, ds=DS, dsig11=DSIG11, kw=KW[kek_bytes],
                     a=alg_id.hex(), u=party_u.hex(), v=party_v.hex(), dm=DIGEST[digest][0],
                     curve=CURVES[curve][1], pk=b64(point), cv=b64(wrapped))


def gcm(cek, plaintext):
    iv = os.urandom(12)
    return iv + AESGCM(cek).encrypt(iv, plaintext, None)


def cbc(cek, plaintext):
    iv = os.urandom(16)
    n = 16 - len(plaintext) % 16
    padded = plaintext + os.urandom(n - 1) + bytes([n])  # XML Enc padding: last octet = n
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize()


def vector(name, cek, plaintext, key_xml, method_uri, data, key_inside=True, siblings="",
           ed_id=None, key_info_extra="", ns_on_root=False):
    key_info = ""
    if key_inside or key_info_extra:
        key_info = '<ds:KeyInfo xmlns:ds="%s">%s%s</ds:KeyInfo>' % (
            DS, key_xml if key_inside else "", key_info_extra)
    attrs = ' Id="%s"' % ed_id if ed_id else ""
    ed = ('<xenc:EncryptedData xmlns:xenc="%s"%s Type="%sElement"><xenc:EncryptionMethod '
          'Algorithm="%s"/>%s<xenc:CipherData><xenc:CipherValue>%s</xenc:CipherValue>'
          '</xenc:CipherData></xenc:EncryptedData>' % (XENC, attrs, XENC, method_uri, key_info,
                                                        b64(data)))
    root_ns = ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' if ns_on_root else ""
    doc = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           'xmlns:t="urn:bbgw:test"%s><t:Expect cek="%s" plaintext="%s"/>'
           '<saml:EncryptedAssertion xmlns:saml="%s">%s%s</saml:EncryptedAssertion>'
           '</samlp:Response>\n' % (root_ns, cek.hex(), b64(plaintext), SAML, ed, siblings))
    with open(os.path.join(OUT, name + ".xml"), "w") as f:
        f.write(doc)


pt = ASSERTION_OWN_NS.encode()
for name, kwargs, size in [
        ("oaep-mgf1p-sha1", dict(method="rsa-oaep-mgf1p", digest="sha1"), 16),
        ("oaep-mgf1p-default", dict(method="rsa-oaep-mgf1p"), 16),
        ("oaep-mgf1p-sha256", dict(method="rsa-oaep-mgf1p", digest="sha256"), 32),
        ("oaep11-mgf1sha256-sha256", dict(method="rsa-oaep", digest="sha256", mgf="sha256"), 16),
        ("oaep11-mgf1sha1-sha256", dict(method="rsa-oaep", digest="sha256", mgf="sha1"), 24),
        ("oaep11-mgf1sha512-sha512", dict(method="rsa-oaep", digest="sha512", mgf="sha512"), 32),
        ("oaep11-label", dict(method="rsa-oaep", digest="sha256", mgf="sha256",
                              label=b"bbgw-label"), 16),
        ("rsa15", dict(method="rsa-1_5"), 16)]:
    cek = os.urandom(size)
    vector(name, cek, pt, rsa_encrypted_key(cek, **kwargs), GCM[size], gcm(cek, pt))

for curve in ["p256", "p384", "p521", "bp256", "bp384", "bp512", "k256"]:
    for kek in (16, 32):
        digest = {"p384": "sha384", "p521": "sha512", "bp512": "sha512"}.get(curve, "sha256")
        cek = os.urandom(16)
        vector("ecdh-%s-kw%d" % (curve, kek * 8), cek, pt, ecdh_encrypted_key(cek, curve, kek, digest),
               GCM[16], gcm(cek, pt))

# Legacy CBC content (with an allowed key transport, so only the content cipher is refused).
cek = os.urandom(16)
vector("cbc-aes128", cek, pt, rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256"),
       XENC + "aes128-cbc", cbc(cek, pt))

# Sibling EncryptedKey forms (Lasso / Shibboleth / SAML 2.0 §6.2 style).
cek = os.urandom(16)
ek = rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256", ek_id="_ek1", refs=["_ed1"])
vector("sibling-retrieval", cek, pt, "", GCM[16], gcm(cek, pt), key_inside=False, siblings=ek,
       ed_id="_ed1", key_info_extra='<ds:RetrievalMethod URI="#_ek1" Type="%sEncryptedKey"/>' % XENC)
cek = os.urandom(16)
ek = rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256", carried="k1")
vector("sibling-keyname", cek, pt, "", GCM[16], gcm(cek, pt), key_inside=False, siblings=ek,
       key_info_extra="<ds:KeyName>k1</ds:KeyName>")
cek = os.urandom(16)
# Two recipients: the first is for another key; the DataReference names this EncryptedData.
ek = (rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256", pub=rsa_other.public_key(),
                        refs=["_ed2"]) +
      rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256", refs=["_ed2"]))
vector("sibling-reflist", cek, pt, "", GCM[16], gcm(cek, pt), key_inside=False, siblings=ek,
       ed_id="_ed2")
cek = os.urandom(16)
ek = rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256", ek_id="_ek9")
vector("retrieval-outside", cek, pt, "", GCM[16], gcm(cek, pt), key_inside=False, siblings="",
       key_info_extra='<ds:RetrievalMethod URI="#_ek9" Type="%sEncryptedKey"/>' % XENC)

# Plaintexts the parser must refuse, or resolve in the wrapper's namespace context.
for name, text in [
        ("doctype", '<!DOCTYPE x [<!ENTITY e "boom">]>' + ASSERTION_OWN_NS),
        ("entity", ASSERTION_OWN_NS.replace("https://idp.example", "&e;")),
        ("two-elements", ASSERTION_OWN_NS + ASSERTION_OWN_NS)]:
    cek = os.urandom(16)
    data = text.encode()
    vector("bad-" + name, cek, data, rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256"),
           GCM[16], gcm(cek, data))
cek = os.urandom(16)
data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + ASSERTION_OWN_NS).encode()
vector("xml-declaration", cek, data, rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256"),
       GCM[16], gcm(cek, data))
cek = os.urandom(16)
data = ASSERTION.encode()  # saml: from the wrapper, xsi: from the root
vector("context-ns", cek, data, rsa_encrypted_key(cek, "rsa-oaep", "sha256", "sha256"),
       GCM[16], gcm(cek, data), ns_on_root=True)

# xmlsec1 (command line) as a second, independent encryptor: rsa-oaep-mgf1p + aes128-gcm.
with tempfile.TemporaryDirectory() as tmp:
    rsa_pub = os.path.join(tmp, "rsa.pub.pem")
    with open(rsa_pub, "wb") as f:
        f.write(rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    tmpl = os.path.join(tmp, "tmpl.xml")
    with open(tmpl, "w") as f:
        f.write('<xenc:EncryptedData xmlns:xenc="%s" Type="%sElement"><xenc:EncryptionMethod '
                'Algorithm="%s"/><ds:KeyInfo xmlns:ds="%s"><xenc:EncryptedKey><xenc:Encryption'
                'Method Algorithm="%srsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue/>'
                '</xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData>'
                '<xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>'
                % (XENC, XENC, GCM[16], DS, XENC))
    data = os.path.join(tmp, "data.xml")
    with open(data, "w") as f:
        f.write(ASSERTION_OWN_NS)
    out = subprocess.run(["xmlsec1", "--encrypt", "--pubkey-pem", rsa_pub, "--session-key",
                          "aes-128", "--xml-data", data, tmpl], check=True,
                         capture_output=True).stdout.decode()
    out = out.split("?>", 1)[1] if out.startswith("<?xml") else out
    doc = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
           'xmlns:t="urn:bbgw:test"><t:Expect cek="" plaintext="%s"/><saml:EncryptedAssertion '
           'xmlns:saml="%s">%s</saml:EncryptedAssertion></samlp:Response>\n'
           % (b64(ASSERTION_OWN_NS.encode()), SAML, out.strip()))
    with open(os.path.join(OUT, "xmlsec1-oaep-mgf1p-gcm.xml"), "w") as f:
        f.write(doc)

# pysaml2 (python3-pysaml2, through its xmlsec1 back end) encrypting an assertion inside a
# Response exactly as an IdP built on it does: EncryptedKey (with KeyName) inside KeyInfo.
import datetime  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from saml2.sigver import CryptoBackendXmlSec1, get_xmlsec_binary, pre_encryption_part  # noqa

with tempfile.TemporaryDirectory() as tmp:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bbgw test sp")])
    start = datetime.datetime(2026, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(rsa_key.public_key()).serial_number(1).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650)).sign(rsa_key, hashes.SHA256()))
    cert_file = os.path.join(tmp, "cert.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    tmpl = str(pre_encryption_part(msg_enc=GCM[16], key_enc=XENC + "rsa-oaep-mgf1p"))
    response = ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                'xmlns:saml="%s" xmlns:t="urn:bbgw:test" ID="_r1" Version="2.0" '
                'IssueInstant="2026-01-01T00:00:00Z"><saml:Issuer>https://idp.example'
                '</saml:Issuer><t:Expect cek="" plaintext=""/><saml:EncryptedAssertion>%s'
                '</saml:EncryptedAssertion></samlp:Response>' % (SAML, ASSERTION.replace(
                    "<saml:Assertion ", '<saml:Assertion xmlns:xsi="http://www.w3.org/2001/'
                    'XMLSchema-instance" ', 1)))
    out = CryptoBackendXmlSec1(get_xmlsec_binary()).encrypt_assertion(
        response, cert_file, tmpl, key_type="aes-128", node_xpath=None)
    with open(os.path.join(OUT, "pysaml2-response.xml"), "w") as f:
        f.write(out if out.endswith("\n") else out + "\n")

print("vectors written to", OUT)

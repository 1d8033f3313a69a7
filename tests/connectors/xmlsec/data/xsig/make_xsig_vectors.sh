#!/usr/bin/env bash
# Regenerates the XML-DSig test vectors of bbgw_xmlsec_tests with implementations independent of
# the library: keys and certificates by the `openssl` command line, RSA-SHA256 / ECDSA-SHA256
# enveloped signatures by the `xmlsec1` command line, RSASSA-PSS and ECDSA (P-256, P-384,
# brainpoolP256r1) signatures by python3-lxml (exclusive c14n) + python3-cryptography
# (xsig_python.py). Test keys only: committed under tests/ on purpose.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
cert() {  # key → self-signed certificate
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days $days -subj "/CN=bbgw xmlsec test $1" \
    -addext subjectKeyIdentifier=hash 2>/dev/null
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa2048b.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 -out bp256.key 2>/dev/null
for k in rsa2048 rsa2048b rsa1024 p256 p384 bp256; do cert $k; done
# An encrypted PKCS#8 copy of the RSA key (password "secret").
openssl pkcs8 -topk8 -in rsa2048.key -out rsa2048-enc.key -v2 aes-256-cbc -passout pass:secret

# xmlsec1 command line: enveloped signatures over a SAML-like Response.
for alg in rsa-sha256:rsa2048 ecdsa-sha256:p256; do
  method=${alg%%:*}
  key=${alg##*:}
  sed "s|@METHOD@|http://www.w3.org/2001/04/xmldsig-more#${method}|" saml-template.xml > /tmp/xsig-tmpl.$$.xml
  xmlsec1 --sign --privkey-pem "$key.key" --id-attr:ID urn:oasis:names:tc:SAML:2.0:protocol:Response \
    --output "xmlsec1-${method}.xml" /tmp/xsig-tmpl.$$.xml
  rm -f /tmp/xsig-tmpl.$$.xml
done

# python3-lxml + python3-cryptography.
for v in pss-sha256:rsa2048 pss-sha384:rsa2048 pss-sha512:rsa2048 ecdsa-sha256:p256 \
         ecdsa-sha384:p384 ecdsa-sha256:bp256; do
  /usr/bin/python3 xsig_python.py sign "${v%%:*}" "${v##*:}.key" saml-unsigned.xml \
    "python-${v%%:*}-${v##*:}.xml"
done

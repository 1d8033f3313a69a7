#!/usr/bin/env bash
# Makes the development PKI of BB Gateway with the OpenSSL CLI only.
#
#   certs/make-dev-pki.sh [--force] [OUTDIR]      (OUTDIR defaults to var/certs)
#
# Idempotent: existing keys are kept and only what is missing (or no longer valid: a
# certificate that does not chain to the current CA, does not match its key, or expires
# within 30 days) is made. --force regenerates every key and certificate.
# Prints one line per file set it writes and nothing else; errors go to stderr.
# See certs/README.md for what each file is for. NOT for production.
set -euo pipefail

usage() {
  echo "usage: $0 [--force] [OUTDIR]   (default OUTDIR: var/certs)" >&2
  exit 2
}

force=0
out=""
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    -h | --help) usage ;;
    -*) echo "make-dev-pki: unknown option $arg" >&2; usage ;;
    *) [ -z "$out" ] || usage; out="$arg" ;;
  esac
done
out="${out:-var/certs}"

command -v openssl >/dev/null || { echo "make-dev-pki: openssl not found" >&2; exit 1; }

umask 077
mkdir -p "$out"
chmod 700 "$out"
out="$(cd "$out" && pwd)"

# Scratch space inside OUTDIR so that finished files are moved in atomically (same filesystem).
tmp="$(mktemp -d "$out/.tmp.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

readonly ca_days=3650 tls_days=825 leaf_days=1095 renew_before=$((30 * 24 * 3600))

# Runs an openssl command quietly; shows its diagnostics only if it fails.
ossl() {
  if ! openssl "$@" >"$tmp/log" 2>&1; then
    echo "make-dev-pki: openssl $1 failed:" >&2
    cat "$tmp/log" >&2
    exit 1
  fi
}

cat >"$tmp/openssl.cnf" <<'EOF'
# Config used only to build CSRs and to hold the extension profiles below.
[req]
distinguished_name = dn
prompt             = no
utf8               = yes
[dn]

[v3_ca]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[v3_tls_server]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[v3_tls_client]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# XML signature (SAML metadata/messages, WS-Security on AS4 user messages).
[v3_signing]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# XML encryption: the content key is wrapped with RSA-OAEP (key transport).
[v3_encryption]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, keyEncipherment, dataEncipherment
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

# new_key TYPE DEST: writes an unencrypted PKCS#8 PEM key (rsa = RSA-3072, ec = P-256).
new_key() {
  case "$1" in
    rsa) ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$tmp/new.key" ;;
    ec) ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
      -pkeyopt ec_param_enc:named_curve -out "$tmp/new.key" ;;
    *) echo "make-dev-pki: bad key type $1" >&2; exit 1 ;;
  esac
  chmod 600 "$tmp/new.key"
  mv -f "$tmp/new.key" "$2"
}

# A random positive 128-bit serial (RFC 5280 allows up to 20 octets); no serial file to keep.
new_serial() { echo "0x$(openssl rand -hex 16)"; }

pubkey_of_key() { openssl pkey -in "$1" -pubout 2>/dev/null; }
pubkey_of_cert() { openssl x509 -in "$1" -noout -pubkey 2>/dev/null; }

# cert_ok CERT KEY: CERT exists, belongs to KEY, chains to ca.crt and is not about to expire.
cert_ok() {
  [ -s "$1" ] && [ -s "$2" ] || return 1
  [ "$(pubkey_of_cert "$1")" = "$(pubkey_of_key "$2")" ] || return 1
  openssl x509 -in "$1" -noout -checkend "$renew_before" >/dev/null 2>&1 || return 1
  openssl verify -CAfile "$out/ca.crt" "$1" >/dev/null 2>&1
}

install_cert() { # SRC DEST
  chmod 644 "$1"
  mv -f "$1" "$2"
}

created=()
report() {
  [ ${#created[@]} -eq 0 ] || echo "make-dev-pki: created ${created[*]} in $out"
  created=()
}

# --- the CA ---------------------------------------------------------------------------
make_ca() {
  local key="$out/ca.key" crt="$out/ca.crt"
  if [ "$force" = 1 ] || [ ! -s "$key" ]; then
    new_key rsa "$key"
    created+=(ca.key)
  fi
  if [ "$force" = 1 ] || ! cert_ok "$crt" "$key"; then
    ossl req -new -x509 -config "$tmp/openssl.cnf" -key "$key" -sha256 \
      -subj "/O=BB Gateway development/CN=BB Gateway Development CA" \
      -set_serial "$(new_serial)" -days "$ca_days" -extensions v3_ca -out "$tmp/new.crt"
    install_cert "$tmp/new.crt" "$crt"
    created+=(ca.crt)
  fi
  report
}

# --- leaf certificates issued by the CA ------------------------------------------------
# leaf NAME KEYTYPE DAYS PROFILE SUBJECT
leaf() {
  local name="$1" type="$2" days="$3" profile="$4" subject="$5"
  local key="$out/$name.key" crt="$out/$name.crt"
  if [ "$force" = 1 ] || [ ! -s "$key" ]; then
    new_key "$type" "$key"
    created+=("$name.key")
  fi
  if [ "$force" = 1 ] || ! cert_ok "$crt" "$key"; then
    ossl req -new -config "$tmp/openssl.cnf" -key "$key" -subj "$subject" -out "$tmp/new.csr"
    ossl x509 -req -in "$tmp/new.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -sha256 \
      -set_serial "$(new_serial)" -days "$days" \
      -extfile "$tmp/openssl.cnf" -extensions "$profile" -out "$tmp/new.crt"
    install_cert "$tmp/new.crt" "$crt"
    created+=("$name.crt")
  fi
}

# The server certificate followed by the CA, as TLS servers send it.
make_chain() {
  local chain="$out/tls-server-chain.crt"
  cat "$out/tls-server.crt" "$out/ca.crt" >"$tmp/chain.crt"
  if [ "$force" = 1 ] || ! cmp -s "$tmp/chain.crt" "$chain"; then
    install_cert "$tmp/chain.crt" "$chain"
    created+=(tls-server-chain.crt)
  fi
}

# EC P-256 key the platform-token issuer signs with (ES256), and its public key (SPKI PEM).
make_oidc() {
  local key="$out/oidc-signing.key" pub="$out/oidc-signing.pub.pem"
  if [ "$force" = 1 ] || [ ! -s "$key" ]; then
    new_key ec "$key"
    created+=(oidc-signing.key)
  fi
  ossl pkey -in "$key" -pubout -out "$tmp/new.pub"
  if [ "$force" = 1 ] || ! cmp -s "$tmp/new.pub" "$pub"; then
    install_cert "$tmp/new.pub" "$pub"
    created+=(oidc-signing.pub.pem)
  fi
  report
}

make_readme() {
  local readme="$out/README.txt"
  [ "$force" = 1 ] || [ ! -s "$readme" ] || return 0
  cat >"$tmp/README.txt" <<'EOF'
DEVELOPMENT PKI of BB Gateway -- NOT FOR PRODUCTION.

Every key in this folder was generated by certs/make-dev-pki.sh, is stored unencrypted,
and is trusted by nothing but the development CA next to it (ca.crt). Use these files
only for local runs and tests. Never copy them to a server, never commit them.

Re-run certs/make-dev-pki.sh to make anything missing; add --force to regenerate all.
certs/README.md in the repository describes each file and how to use real ones.
EOF
  install_cert "$tmp/README.txt" "$readme"
  created+=(README.txt)
  report
}

make_ca

dn="/O=BB Gateway development"
leaf tls-server ec "$tls_days" v3_tls_server "$dn/OU=TLS/CN=localhost"
make_chain
report
leaf tls-client ec "$tls_days" v3_tls_client "$dn/OU=TLS client/CN=bbgw-dev-client"
report
leaf saml-sp-signing rsa "$leaf_days" v3_signing "$dn/OU=SAML SP signing/CN=bbgw-dev-sp"
report
leaf saml-sp-encryption rsa "$leaf_days" v3_encryption "$dn/OU=SAML SP encryption/CN=bbgw-dev-sp"
report
for party in party-a party-b; do
  leaf "as4-$party-signing" rsa "$leaf_days" v3_signing "$dn/OU=AS4 signing/CN=$party"
  report
  leaf "as4-$party-encryption" rsa "$leaf_days" v3_encryption "$dn/OU=AS4 encryption/CN=$party"
  report
done
make_oidc
make_readme

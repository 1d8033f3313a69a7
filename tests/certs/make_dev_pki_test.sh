#!/usr/bin/env bash
# shellcheck disable=SC2016  # the bash -c snippets expand their own positional arguments
# Specification of certs/make-dev-pki.sh: what it makes, that every certificate chains to the
# development CA with the right extensions, and that re-running it changes nothing.
#   tests/certs/make_dev_pki_test.sh [REPO_ROOT]
# Prints one line per check and a final "N passed, M failed"; exits non-zero on any failure.
set -uo pipefail

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
script="$root/certs/make-dev-pki.sh"
work="$(mktemp -d "${TMPDIR:-/tmp}/bbgw-pki-test.XXXXXX")"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
# check NAME COMMAND...: runs COMMAND (its output hidden) and records the result.
check() {
  local name="$1"
  shift
  if "$@" >"$work/check.log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   - $name"
  else
    failed=$((failed + 1))
    echo "FAIL - $name"
    sed 's/^/       /' "$work/check.log" | head -20
  fi
}

sums() { (cd "$1" && sha256sum -- *) ; }
sum_of() { sha256sum <"$1"; }

certs=(tls-server tls-client saml-sp-signing saml-sp-encryption
  as4-party-a-signing as4-party-a-encryption as4-party-b-signing as4-party-b-encryption)
rsa_certs=(saml-sp-signing saml-sp-encryption
  as4-party-a-signing as4-party-a-encryption as4-party-b-signing as4-party-b-encryption)
expected_files=(README.txt ca.crt ca.key tls-server-chain.crt oidc-signing.key oidc-signing.pub.pem)
for c in "${certs[@]}"; do expected_files+=("$c.crt" "$c.key"); done

d="$work/a/pki"

# --- first run ---------------------------------------------------------------------------
check "first run succeeds" bash -c '"$1" "$2" >"$3"' _ "$script" "$d" "$work/run1.out"
check "first run prints one 'created' line per file set (11) and nothing else" bash -c '
  [ "$(wc -l <"$1")" -eq 11 ] && ! grep -v "^make-dev-pki: created " "$1"' _ "$work/run1.out"

missing_files() {
  local f rc=0
  for f in "${expected_files[@]}"; do [ -s "$1/$f" ] || { echo "missing $f"; rc=1; }; done
  return $rc
}
check "every expected file exists" missing_files "$d"
check "no unexpected file is left behind (temp dirs, serial files)" bash -c '
  [ "$(find "$1" -mindepth 1 | wc -l)" -eq "$2" ]' _ "$d" "${#expected_files[@]}"

modes_ok() {
  local f rc=0
  [ "$(stat -c %a "$1")" = 700 ] || { echo "dir mode $(stat -c %a "$1")"; rc=1; }
  for f in "$1"/*.key; do
    [ "$(stat -c %a "$f")" = 600 ] || { echo "$f mode $(stat -c %a "$f")"; rc=1; }
  done
  return $rc
}
check "directory is 0700 and every key 0600" modes_ok "$d"

verify_all() {
  local c rc=0
  openssl verify -CAfile "$1/ca.crt" "$1/ca.crt" || rc=1
  for c in "${certs[@]}"; do openssl verify -CAfile "$1/ca.crt" "$1/$c.crt" || rc=1; done
  return $rc
}
check "every certificate verifies with openssl verify -CAfile ca.crt" verify_all "$d"

keys_match() {
  local c rc=0
  for c in "${certs[@]}" ca; do
    [ "$(openssl x509 -in "$1/$c.crt" -noout -pubkey)" = "$(openssl pkey -in "$1/$c.key" -pubout)" ] ||
      { echo "$c.crt does not match $c.key"; rc=1; }
  done
  [ "$(openssl pkey -in "$1/oidc-signing.key" -pubout)" = "$(cat "$1/oidc-signing.pub.pem")" ] ||
    { echo "oidc-signing.pub.pem does not match its key"; rc=1; }
  return $rc
}
check "every certificate (and oidc-signing.pub.pem) belongs to its key" keys_match "$d"

key_types_ok() {
  local c rc=0
  for c in ca "${rsa_certs[@]}"; do
    openssl pkey -in "$1/$c.key" -noout -text | head -1 | grep -q '(3072 bit' ||
      { echo "$c.key is not RSA-3072"; rc=1; }
  done
  for c in tls-server tls-client oidc-signing; do
    openssl pkey -in "$1/$c.key" -noout -text | grep -q 'ASN1 OID: prime256v1' ||
      { echo "$c.key is not EC P-256"; rc=1; }
  done
  return $rc
}
check "CA, SAML and AS4 keys are RSA-3072; TLS and token keys EC P-256" key_types_ok "$d"

check "server cert SAN covers localhost, 127.0.0.1 and ::1" \
  openssl verify -CAfile "$d/ca.crt" -verify_hostname localhost -verify_ip 127.0.0.1 "$d/tls-server.crt"
check "server cert SAN covers ::1" openssl verify -CAfile "$d/ca.crt" -verify_ip ::1 "$d/tls-server.crt"
check "server cert is refused for another host name" bash -c '
  ! openssl verify -CAfile "$1/ca.crt" -verify_hostname example.org "$1/tls-server.crt"' _ "$d"
check "server cert is fit for TLS server auth" \
  openssl verify -CAfile "$d/ca.crt" -purpose sslserver "$d/tls-server.crt"
check "client cert is fit for TLS client auth" \
  openssl verify -CAfile "$d/ca.crt" -purpose sslclient "$d/tls-client.crt"
check "server cert is not accepted as a client cert" bash -c '
  ! openssl verify -CAfile "$1/ca.crt" -purpose sslclient "$1/tls-server.crt"' _ "$d"

ext() { openssl x509 -in "$1" -noout -ext "$2" 2>/dev/null | tail -n +2 | tr -d ' '; }
extensions_ok() {
  local c rc=0 ca_ski
  ca_ski="$(ext "$1/ca.crt" subjectKeyIdentifier)"
  [ -n "$ca_ski" ] || { echo "CA has no SKI"; rc=1; }
  ext "$1/ca.crt" basicConstraints | grep -q 'CA:TRUE' || { echo "CA is not CA:TRUE"; rc=1; }
  ext "$1/ca.crt" keyUsage | grep -q 'CertificateSign' || { echo "CA cannot sign certs"; rc=1; }
  for c in "${certs[@]}"; do
    ext "$1/$c.crt" basicConstraints | grep -q 'CA:FALSE' || { echo "$c: not CA:FALSE"; rc=1; }
    [ -n "$(ext "$1/$c.crt" keyUsage)" ] || { echo "$c: no keyUsage"; rc=1; }
    [ -n "$(ext "$1/$c.crt" subjectKeyIdentifier)" ] || { echo "$c: no SKI"; rc=1; }
    ext "$1/$c.crt" authorityKeyIdentifier | grep -qF "$ca_ski" || { echo "$c: AKI != CA SKI"; rc=1; }
  done
  ext "$1/tls-server.crt" extendedKeyUsage | grep -qx 'TLSWebServerAuthentication' || rc=1
  ext "$1/tls-client.crt" extendedKeyUsage | grep -qx 'TLSWebClientAuthentication' || rc=1
  for c in saml-sp-signing as4-party-a-signing as4-party-b-signing; do
    ext "$1/$c.crt" keyUsage | grep -q 'DigitalSignature' || { echo "$c: no digitalSignature"; rc=1; }
  done
  for c in saml-sp-encryption as4-party-a-encryption as4-party-b-encryption; do
    ext "$1/$c.crt" keyUsage | grep -q 'KeyEncipherment' || { echo "$c: no keyEncipherment"; rc=1; }
  done
  return $rc
}
check "extensions: basicConstraints, keyUsage, EKU, SKI, AKI = CA's SKI" extensions_ok "$d"

check "CA is valid for about 10 years" bash -c '
  openssl x509 -in "$1/ca.crt" -noout -checkend $((9 * 365 * 86400)) &&
  ! openssl x509 -in "$1/ca.crt" -noout -checkend $((11 * 365 * 86400))' _ "$d"
check "AS4 parties have distinct keys" bash -c '
  ! cmp -s "$1/as4-party-a-signing.key" "$1/as4-party-b-signing.key"' _ "$d"
check "tls-server-chain.crt is the server cert followed by the CA" bash -c '
  cat "$1/tls-server.crt" "$1/ca.crt" | cmp -s - "$1/tls-server-chain.crt" &&
  openssl verify -CAfile "$1/ca.crt" -untrusted "$1/tls-server-chain.crt" "$1/tls-server.crt"' _ "$d"
check "README.txt says it is a development PKI" grep -q 'DEVELOPMENT PKI' "$d/README.txt"

# --- idempotence -------------------------------------------------------------------------
sums "$d" >"$work/sums1"
check "second run succeeds and prints nothing" bash -c '
  "$1" "$2" >"$3" && [ ! -s "$3" ]' _ "$script" "$d" "$work/run2.out"
check "second run changes no file (checksums equal)" bash -c 'diff <(cd "$1" && sha256sum -- *) "$2"' _ "$d" "$work/sums1"

check "default OUTDIR is var/certs (an existing one is left alone)" bash -c '
  mkdir -p "$1/c/var" && cp -a "$2" "$1/c/var/certs" && cd "$1/c" && "$3" >"$1/run3.out" &&
  [ ! -s "$1/run3.out" ] && [ "$(ls "$1/c")" = var ] && [ "$(ls "$1/c/var")" = certs ]' \
  _ "$work" "$d" "$script"

# --- only what is missing is made ---------------------------------------------------------
key_before="$(sum_of "$d/saml-sp-signing.key")"
rm -f "$d/saml-sp-signing.crt"
check "a missing certificate is re-issued for its kept key, nothing else changes" bash -c '
  out="$("$1" "$2")" && [ "$(printf "%s\n" "$out" | wc -l)" -eq 1 ] &&
  [ "$(sha256sum <"$2/saml-sp-signing.key")" = "$3" ] &&
  openssl verify -CAfile "$2/ca.crt" "$2/saml-sp-signing.crt" &&
  diff <(cd "$2" && sha256sum -- * | grep -v " saml-sp-signing.crt$") <(grep -v " saml-sp-signing.crt$" "$4")' \
  _ "$script" "$d" "$key_before" "$work/sums1"

sums "$d" >"$work/sums2"
rm -f "$d/ca.key"
leaf_keys_sum() { (cd "$1" && sha256sum -- *.key | grep -v ' ca.key$'); }
leaf_keys_sum "$d" >"$work/leafkeys"
changed() { [ "$(grep " $2$" "$3" | cut -d' ' -f1)" != "$(sha256sum <"$1/$2" | cut -d' ' -f1)" ]; }
rekeyed_ca_ok() {
  local c rc=0
  "$script" "$d" >/dev/null || return 1
  changed "$d" ca.crt "$work/sums2" || { echo "ca.crt unchanged"; rc=1; }
  diff <(leaf_keys_sum "$d") "$work/leafkeys" || { echo "a leaf key changed"; rc=1; }
  for c in "${certs[@]}"; do
    changed "$d" "$c.crt" "$work/sums2" || { echo "$c.crt not re-issued"; rc=1; }
    openssl verify -CAfile "$d/ca.crt" "$d/$c.crt" || rc=1
  done
  changed "$d" tls-server-chain.crt "$work/sums2" || { echo "chain not rebuilt"; rc=1; }
  return $rc
}
check "a new CA key re-issues every certificate (and the chain) but keeps leaf keys" rekeyed_ca_ok

# --- --force ------------------------------------------------------------------------------
sums "$d" >"$work/sums3"
check "--force succeeds" bash -c '"$1" --force "$2" >/dev/null' _ "$script" "$d"
all_keys_new() {
  local f rc=0
  for f in "$1"/*.key; do
    grep -qF "$(cd "$1" && sha256sum "$(basename "$f")")" "$2" && { echo "$f unchanged"; rc=1; }
  done
  return $rc
}
check "--force regenerates every key" all_keys_new "$d" "$work/sums3"
check "after --force every certificate verifies" verify_all "$d"
check "unknown option is refused with exit code 2" bash -c '
  "$1" --bogus "$2/x" 2>/dev/null; [ $? -eq 2 ] && [ ! -e "$2/x" ]' _ "$script" "$work"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

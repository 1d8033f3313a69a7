#!/usr/bin/env bash
# AS4 messages per second between two gateway instances on this machine: A (AccessPointA) sends
# to B (AccessPointB) over HTTP; every message carries one 1 KiB payload, compressed, signed
# (rsa-sha256) and encrypted (AES-128-GCM, RSA-OAEP key transport), and B answers a signed
# receipt that A verifies. N messages are submitted through A's API
# (POST /api/v1/edelivery/messages, CONCURRENCY curl processes at a time); the clock runs from
# the first submission until A's embedded Kafka topic holds N `delivered` events (read with kcat,
# an independent consumer), and B's topic is checked for N `received` events.
# BIG_MB=M instead sends one message with an M MiB random payload, submitted as
# multipart/form-data (curl -F, streamed), and prints the time to `delivered` and each
# process's peak RSS (the payload is streamed on both sides: compress, digest, encrypt, decrypt).
# Usage: bench/as4_exchange.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   N=300 CONCURRENCY=8 bench/as4_exchange.sh build/h-as4send-rel/gateway/app/bbgw
#   BIG_MB=1024 bench/as4_exchange.sh build/h-as4send-rel/gateway/app/bbgw
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-build/release/gateway/app/bbgw}
n=${N:-300}
concurrency=${CONCURRENCY:-8}
big_mb=${BIG_MB:-0}
. bench/lib.sh
bench_workdir as4

fixtures=$root/../shared/fixtures/as4/as4net
cert() {  # the certificate of a PKCS#12 fixture, as PEM
  openssl pkcs12 -in "$fixtures/$1" -passin "pass:$2" -nokeys -clcerts 2>/dev/null |
    openssl x509 -out "$3"
}
cert AccessPointA.pfx Pz4cZK4SULUwmraZa "$work/a.pem"
cert AccessPointB.pfx Pz4cZK4SULUwmraZb "$work/b.pem"

port_a=$(free_port)
port_b=$(free_port)
# gateway NAME PORT PFX PASSWORD DOMAIN PMODE-YAML
gateway() {
  mkdir -p "$work/$1"
  cat > "$work/$1/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $2}]
store: {sqlite: {path: $work/$1/bbgw.db}}
log: {level: info}
connectors:
  edelivery:
    enabled: true
    key: {pkcs12: $fixtures/$3, password: $4}
    party_domain: $5
    payload_dir: $work/$1/payloads
    xsd_dir: $root/schemas/xsd/ebms
    body_limit: 4GiB
    max_submit_size: 4GiB
    max_decompressed_size: 4GiB
    pmodes:
$6
YAML
  "$bin" serve --config "$work/$1/bbgw.yaml" > "$work/$1/bbgw.log" 2>&1 &
  echo $! > "$work/$1/pid"
  wait_http "http://127.0.0.1:$2/healthz"
}
pmode() {  # ID ENDPOINT PARTNER-CERT
  cat <<YAML
      - id: $1
        endpoint: '$2'
        service: Permits
        service_type: 'urn:services'
        action: Submit
        initiator: {party_id: gw-a, party_type: 'urn:t', role: Sender}
        responder: {party_id: gw-b, party_type: 'urn:t', role: Receiver}
        security: {sign: true, encrypt: true, partner_certificates: [$3]}
        reliability: {max_attempts: 5, retry_interval: 200ms}
YAML
}
gateway b "$port_b" AccessPointB.pfx Pz4cZK4SULUwmraZb gw-b.test "$(pmode from-a '' "$work/a.pem")"
gateway a "$port_a" AccessPointA.pfx Pz4cZK4SULUwmraZa gw-a.test \
  "$(pmode to-b "http://127.0.0.1:$port_b/edelivery/as4" "$work/b.pem")"
bootstrap() { grep -o '"kafka_bootstrap_servers":"[^"]*"' "$work/$1/bbgw.log" | head -1 | cut -d'"' -f4; }
kafka_a=$(bootstrap a)
kafka_b=$(bootstrap b)
count() {  # BOOTSTRAP TYPE-SUFFIX: events of that type on bbgw.edelivery
  kcat -C -b "$1" -t bbgw.edelivery -o beginning -e -q 2>/dev/null | grep -c "message\.$2\.v1" || true
}

rss() { awk '/VmHWM/ {print $2}' "/proc/$(cat "$work/$1/pid")/status"; }
if [ "$big_mb" -gt 0 ]; then
  head -c "$((big_mb * 1024 * 1024))" /dev/urandom > "$work/big.bin"
  echo "before: peak RSS A $(rss a) KiB, B $(rss b) KiB"
  start=$(date +%s.%N)
  curl -fsS -o /dev/null -F 'metadata={"pmode":"to-b","conversationId":"big"};type=application/json' \
    -F "payload=@$work/big.bin;type=application/octet-stream" \
    "http://127.0.0.1:$port_a/api/v1/edelivery/messages"
  submitted=$(date +%s.%N)
  until [ "$(count "$kafka_a" delivered)" -ge 1 ]; do
    [ "$(count "$kafka_a" failed)" -gt 0 ] && { echo "failed (see $work/a/bbgw.log)" >&2; exit 1; }
    sleep 0.5
  done
  end=$(date +%s.%N)
  awk -v s="$start" -v m="$submitted" -v e="$end" -v n="$big_mb" 'BEGIN {
    printf "%d MiB payload: submitted in %.1f s, delivered after %.1f s (%.1f MiB/s end to end)\n",
           n, m - s, e - s, n / (e - s) }'
  echo "peak RSS: A (sender) $(rss a) KiB, B (receiver) $(rss b) KiB"
  exit 0
fi

# One JSON body with 1 KiB of random payload, the same for every submission.
head -c 1024 /dev/urandom | base64 -w0 > "$work/payload.b64"
printf '{"pmode":"to-b","conversationId":"bench","payloads":[{"mimeType":"application/octet-stream","contentBase64":"%s"}]}' \
  "$(cat "$work/payload.b64")" > "$work/body.json"

start=$(date +%s.%N)
seq "$n" | xargs -P "$concurrency" -I{} curl -fsS -o /dev/null -X POST \
  -H 'Content-Type: application/json' --data-binary "@$work/body.json" \
  "http://127.0.0.1:$port_a/api/v1/edelivery/messages"
submitted=$(date +%s.%N)
deadline=$((SECONDS + 600))
while :; do
  delivered=$(count "$kafka_a" delivered)
  [ "$delivered" -ge "$n" ] && break
  failed=$(count "$kafka_a" failed)
  [ "$failed" -gt 0 ] && { echo "$failed messages failed (see $work/a/bbgw.log)" >&2; exit 1; }
  [ $SECONDS -gt $deadline ] && { echo "only $delivered of $n delivered" >&2; exit 1; }
  sleep 0.2
done
end=$(date +%s.%N)
received=$(count "$kafka_b" received)
[ "$received" -eq "$n" ] || { echo "B emitted $received received events, not $n" >&2; exit 1; }

echo "messages: $n (1 KiB payload, gzip + rsa-sha256 + aes128-gcm + signed receipt), submit concurrency $concurrency"
awk -v s="$start" -v m="$submitted" -v e="$end" -v n="$n" 'BEGIN {
  printf "submitted in %.2f s (%.0f/s); all delivered after %.2f s: %.1f messages/s\n",
         m - s, n / (m - s), e - s, n / (e - s) }'
echo "peak RSS: A (sender) $(rss a) KiB, B (receiver) $(rss b) KiB"

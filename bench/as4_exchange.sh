#!/usr/bin/env bash
# AS4 messages per second between two gateway instances on this machine: A (AccessPointA) sends
# to B (AccessPointB) over HTTP; every message carries one 1 KiB payload, compressed, signed
# (rsa-sha256) and encrypted (AES-128-GCM, RSA-OAEP key transport), and B answers a signed
# receipt that A verifies. N messages are submitted through A's API
# (POST /api/v1/edelivery/messages, CONCURRENCY curl processes at a time); the clock runs from
# the first submission until A's embedded Kafka topic holds N `delivered` events (read with kcat,
# an independent consumer), and B's topic is checked for N `received` events.
# BIG_MB=M instead sends one message with an M MiB random payload, submitted as
# multipart/form-data (curl -F, streamed), and prints the time to `delivered`, the CPU time
# each process used (utime + stime from /proc/PID/stat), each process's peak RSS, and the
# OpenSSL bound for the same bytes (one SHA-256 + one AES-128-GCM pass, `openssl speed -evp`,
# 1 MiB blocks). VARIANTS="gzip:6 auto:1" runs the big exchange once per A-side PMode
# compression setting (compression:level; fresh gateways each time: an A/B in one run);
# KIND=text sends compressible XML-like text instead of random bytes; STORAGE=/dev/shm puts
# spool and payload directories on tmpfs; PERF=1 records a perf profile of A (the sender; of B
# with PERF_SIDE=b) during each big exchange (perf report -i
# /tmp/bbgw-as4-perf-a-<variant>.data; PERF_OPTS replaces perf record's "-g", e.g.
# "--call-graph dwarf"). The variant "old" runs OLD_BIN (an earlier build,
# without these PMode keys) for both gateways.
# WARM_MB=M writes and deletes M MiB on tmpfs before each big exchange (see warm_memory in lib.sh).
# SENDING_THREADS=K sets connectors.edelivery.sending_threads on both (default 4; not for "old").
# Usage: bench/as4_exchange.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   N=300 CONCURRENCY=8 bench/as4_exchange.sh build/h-as4-rel/gateway/app/bbgw
#   BIG_MB=1024 bench/as4_exchange.sh build/h-as4-rel/gateway/app/bbgw
#   BIG_MB=256 VARIANTS="gzip:6 auto:1" STORAGE=/dev/shm bench/as4_exchange.sh …
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-build/release/gateway/app/bbgw}
n=${N:-300}
concurrency=${CONCURRENCY:-8}
big_mb=${BIG_MB:-0}
variants=${VARIANTS:-auto:1}
. bench/lib.sh
bench_workdir as4
store=$work
if [ -n "${STORAGE:-}" ]; then
  store=$(mktemp -d "$STORAGE/bbgw-as4x.XXXXXX")
  trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" "$store"' EXIT
fi

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
  rm -rf "${work:?}/$1" "${store:?}/$1"
  mkdir -p "$work/$1" "$store/$1/spool"
  cat > "$work/$1/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $2}]
  limits: {read_timeout: 300s}
  spool_dir: $store/$1/spool
store: {sqlite: {path: $work/$1/bbgw.db}}
log: {level: info}
connectors:
  edelivery:
    enabled: true
    key: {pkcs12: $fixtures/$3, password: $4}
    party_domain: $5
    payload_dir: $store/$1/payloads
    xsd_dir: $root/schemas/xsd/ebms
    body_limit: 4GiB
    max_submit_size: 4GiB
    max_decompressed_size: 4GiB
    $([ "${gw_bin:-$bin}" = "$bin" ] && echo "sending_threads: ${SENDING_THREADS:-4}")
    pmodes:
$6
YAML
  "${gw_bin:-$bin}" serve --config "$work/$1/bbgw.yaml" > "$work/$1/bbgw.log" 2>&1 &
  echo $! > "$work/$1/pid"
  wait_http "http://127.0.0.1:$2/healthz" || { tail -5 "$work/$1/bbgw.log" >&2; return 1; }
}
pmode() {  # ID ENDPOINT PARTNER-CERT [COMPRESSION LEVEL]
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
  [ "${4:-}" = old ] || printf '        compression: %s\n        compression_level: %s\n' "${4:-auto}" "${5:-1}"
}
bootstrap() { grep -o '"kafka_bootstrap_servers":"[^"]*"' "$work/$1/bbgw.log" | head -1 | cut -d'"' -f4; }
start_pair() {  # [COMPRESSION LEVEL] (of A's sending PMode; "old": both run $OLD_BIN, no keys)
  gw_bin=$bin
  [ "${1:-}" = old ] && gw_bin=${OLD_BIN:?VARIANTS has old: set OLD_BIN to the earlier binary}
  gateway b "$port_b" AccessPointB.pfx Pz4cZK4SULUwmraZb gw-b.test "$(pmode from-a '' "$work/a.pem" "${1:-auto}" "${2:-1}")"
  gateway a "$port_a" AccessPointA.pfx Pz4cZK4SULUwmraZa gw-a.test \
    "$(pmode to-b "http://127.0.0.1:$port_b/edelivery/as4" "$work/b.pem" "${1:-auto}" "${2:-1}")"
  kafka_a=$(bootstrap a)
  kafka_b=$(bootstrap b)
}
stop_pair() {
  for g in a b; do kill "$(cat "$work/$g/pid")" 2>/dev/null || true; done
  for g in a b; do while kill -0 "$(cat "$work/$g/pid")" 2>/dev/null; do sleep 0.1; done; done
}
count() {  # BOOTSTRAP TYPE-SUFFIX: events of that type on bbgw.edelivery
  kcat -C -b "$1" -t bbgw.edelivery -o beginning -e -q 2>/dev/null | grep -c "message\.$2\.v1" || true
}

rss() { awk '/VmHWM/ {print $2}' "/proc/$(cat "$work/$1/pid")/status"; }
cpu() {  # seconds of CPU (user + system) the process used so far
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$(cat "$work/$1/pid")/stat"
}
if [ "$big_mb" -gt 0 ]; then
  if [ "${KIND:-random}" = text ]; then
    /usr/bin/python3 -c '
import sys
line = b"<permit id=\"%08d\" holder=\"case-%06d\">residence permit, valid until 2031-%02d-01</permit>\n"
out, n, i = sys.stdout.buffer, int(sys.argv[1]) << 20, 0
while n > 0:
    chunk = b"".join(line % (i + k, (i + k) * 7 % 999999, (i + k) % 12 + 1) for k in range(8192))[:n]
    out.write(chunk); n -= len(chunk); i += 8192
' "$big_mb" > "$store/big.bin"
  else
    head -c "$((big_mb * 1024 * 1024))" /dev/urandom > "$store/big.bin"
  fi
  bytes=$((big_mb * 1024 * 1024))
  # The OpenSSL bound: one SHA-256 pass + one AES-128-GCM pass over the bytes (user CPU).
  speed() { openssl speed -evp "$1" -bytes 1048576 -seconds 2 2>/dev/null | awk '/^'"$1"'|^AES-128-GCM/ {print $NF}' | tail -1 | tr -d k; }
  sha=$(speed sha256); gcm=$(speed aes-128-gcm)
  bound=$(awk -v b="$bytes" -v s="$sha" -v g="$gcm" 'BEGIN { printf "%.4f", b / (s * 1000) + b / (g * 1000) }')
  echo "payload: $big_mb MiB ${KIND:-random}; openssl speed sha256 $sha kB/s, aes-128-gcm $gcm kB/s -> bound $bound s; storage ${STORAGE:-/tmp}; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for v in $variants; do
    warm_memory
    start_pair "${v%%:*}" "${v##*:}"
    cpu_a0=$(cpu a); cpu_b0=$(cpu b)
    if [ "${PERF:-0}" = 1 ]; then
      perf record ${PERF_OPTS:--g} -o "/tmp/bbgw-as4-perf-${PERF_SIDE:-a}-${v%%:*}-${v##*:}.data" \
        -p "$(cat "$work/${PERF_SIDE:-a}/pid")" >/dev/null 2>&1 &
      perf_pid=$!
    fi
    start=$(date +%s.%N)
    id=$(curl -fsS -F 'metadata={"pmode":"to-b","conversationId":"big"};type=application/json' \
      -F "payload=@$store/big.bin;type=application/octet-stream" \
      "http://127.0.0.1:$port_a/api/v1/edelivery/messages" | sed 's/.*"messageId":"\([^"]*\)".*/\1/')
    submitted=$(date +%s.%N)
    cpu_a1=$(cpu a)
    # Polls A's status API (cheap) rather than Kafka; the events are checked once at the end.
    status_url="http://127.0.0.1:$port_a/api/v1/edelivery/messages/$(/usr/bin/python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$id")"
    until curl -fsS "$status_url" | grep -q '"status":"delivered"'; do
      curl -fsS "$status_url" | grep -q '"status":"failed"' && { echo "failed (see $work/a/bbgw.log)" >&2; exit 1; }
      sleep 0.05
    done
    end=$(date +%s.%N)
    for _ in $(seq 60); do  # the relays publish shortly after the commits
      [ "$(count "$kafka_a" delivered)" -ge 1 ] && [ "$(count "$kafka_b" received)" -ge 1 ] && break
      sleep 0.5
    done
    [ "$(count "$kafka_a" delivered)" -ge 1 ] && [ "$(count "$kafka_b" received)" -ge 1 ] ||
      { echo "events missing on Kafka" >&2; exit 1; }
    [ "${PERF:-0}" = 1 ] && { kill -INT "$perf_pid"; wait "$perf_pid" || true; }
    cpu_a2=$(cpu a); cpu_b2=$(cpu b)
    wire=$(du -b "$store"/a/payloads/out/*/as4-message 2>/dev/null | awk '{print $1}' | head -1)
    awk -v v="$v" -v s="$start" -v m="$submitted" -v e="$end" -v n="$big_mb" -v bound="$bound" \
        -v a0="$cpu_a0" -v a1="$cpu_a1" -v a2="$cpu_a2" -v b0="$cpu_b0" -v b2="$cpu_b2" -v wire="$wire" 'BEGIN {
      printf "%-7s submitted in %.1f s, delivered after %.1f s (%.1f MiB/s end to end, %.1fx the bound); ", v, m - s, e - s, n / (e - s), (e - s) / bound
      printf "CPU: A submit %.2f s + send %.2f s, B %.2f s (A send / bound %.1fx, A+B / bound %.1fx); message on the wire %.1f MiB\n", a1 - a0, a2 - a1, b2 - b0, (a2 - a1) / bound, (a2 - a0 + b2 - b0) / bound, wire / 1048576 }'
    echo "        peak RSS: A (sender) $(rss a) KiB, B (receiver) $(rss b) KiB"
    stop_pair
  done
  exit 0
fi

v=${variants%% *}  # 1 KiB runs: the first variant
start_pair "${v%%:*}" "${v##*:}"
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

#!/usr/bin/env bash
# AS4 large payload, receiving side, end to end: one signed + encrypted AS4 user message with a
# SIZE-byte attachment (default 1 GiB), made by an independent generator
# (tests/connectors/edelivery/make_large_as4.py: Python 'cryptography' + lxml, streamed to a
# file), is POSTed with curl to a bbgw process configured as AccessPointB. Reported: the wall
# time of the POST (spooling, MIME scan, AES-128-GCM decryption, the signature's SHA-256 digest
# of the attachment, the payload file with its SHA-256, fsync, store transaction, signed
# receipt), the peak RSS of the bbgw process (VmHWM from /proc/PID/status), and the ratio of that
# time to the OpenSSL bound for the same bytes (`openssl speed -evp sha256` + `-evp aes-128-gcm`
# on 1 MiB blocks: the time one SHA-256 pass and one AES-GCM pass over SIZE bytes take).
# Usage: bench/as4_large.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   SIZE=1073741824 GZIP=0 RUNS=1 PERF=0 STORAGE= bench/as4_large.sh
#   (PERF=1: perf profile of bbgw during the POST; STORAGE=/dev/shm: spool + payloads on tmpfs;
#   WARM_MB=M: M MiB written to tmpfs and deleted before the POSTs, see warm_memory in lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${1:-build/release/gateway/app/bbgw}
size=${SIZE:-1073741824}
gzip_flag=$([ "${GZIP:-0}" = 1 ] && echo --gzip || true)
runs=${RUNS:-1}
. bench/lib.sh
bench_workdir as4large
as4=$root/../shared/fixtures/as4/as4net

openssl pkcs12 -in "$as4/AccessPointA.pfx" -passin pass:Pz4cZK4SULUwmraZa -nokeys -clcerts \
  2>/dev/null | openssl x509 -out "$work/accesspoint-a.pem"

# STORAGE=/dev/shm: the spool and payload directories on tmpfs, to see the processing without
# the disk (the payload file is still fsynced, which tmpfs makes free).
store_dir=$work
if [ -n "${STORAGE:-}" ]; then
  store_dir=$(mktemp -d "$STORAGE/bbgw-as4large.XXXXXX")
  trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work" "$store_dir"' EXIT
fi
port=$(free_port)
mkdir -p "$store_dir/spool"
cat > "$work/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $port}]
  limits: {read_timeout: 300s}
  spool_dir: $store_dir/spool
store: {sqlite: {path: $work/bbgw.db}}
log: {level: warn}
connectors:
  edelivery:
    enabled: true
    body_limit: $((size + 64 * 1024 * 1024))
    max_decompressed_size: $((size + 1024 * 1024))
    key: {pkcs12: $as4/AccessPointB.pfx, password: Pz4cZK4SULUwmraZb}
    payload_dir: $store_dir/payloads
    xsd_dir: $root/schemas/xsd/ebms
    pmodes:
      - id: holodeck-test
        agreement: http://agreements.holodeckb2b.org/examples/agreement0
        service: Test
        service_type: 'org:holodeckb2b:services'
        action: StoreMessage
        initiator: {party_id: 'org:holodeckb2b:example:company:A', role: Sender}
        responder: {party_id: 'org:eu:europa:as4:example', role: Receiver}
        security: {sign: true, encrypt: true, partner_certificates: [$work/accesspoint-a.pem]}
YAML
start_bbgw "$bin" "$port"
pid=$(pgrep -n -f "$bin serve --config $work/bbgw.yaml")
echo "bbgw pid $pid, VmHWM after start: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"

# CPU time (user + system, clock ticks) bbgw has used so far: on a shared machine the wall time
# also counts the time bbgw waited for a core, which `openssl speed` (user CPU time) does not.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

for run in $(seq "$runs"); do
  t0=$(date +%s.%N)
  info=$(/usr/bin/python3 tests/connectors/edelivery/make_large_as4.py "$work/message.as4" "$size" \
    "$as4/AccessPointA.pfx" Pz4cZK4SULUwmraZa "$as4/AccessPointB.pfx" Pz4cZK4SULUwmraZb \
    "large-$run-$$@bench.test" $gzip_flag)
  t1=$(date +%s.%N)
  ct=$(echo "$info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["content_type"])')
  want=$(echo "$info" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["payload_sha256"])')
  body_size=$(stat -c %s "$work/message.as4")
  echo "== run $run: payload $size B ${gzip_flag:-(no gzip)}, AS4 body $body_size B (generated in $(echo "$t1 - $t0" | bc) s)"
  # The same bytes with a Content-Type the connector refuses at once (EBMS:0008): what the
  # upload and the server's spooling alone take.
  warm_memory
  scpu0=$(cpu_ticks)
  spool=$(curl -sS -o /dev/null -w '%{time_total}' -X POST -H "Content-Type: application/octet-stream" \
    -T "$work/message.as4" -H "Expect:" "http://127.0.0.1:$port/edelivery/as4")
  scpu=$(echo "scale=2; ($(cpu_ticks) - $scpu0) / $(getconf CLK_TCK)" | bc)
  echo "upload + spool only (refused at once): $spool s wall, bbgw CPU time $scpu s"
  if [ "${PERF:-0}" = 1 ]; then
    perf record -F ${PERF_FREQ:-999} -g -o "$work/perf.data" -p "$pid" 2>/dev/null &
    perf_pid=$!
  elif [ "${STRACE:-0}" = 1 ]; then
    strace -c -f -o "$work/strace.txt" -p "$pid" &
    perf_pid=$!
    sleep 1
  fi
  cpu0=$(cpu_ticks)
  out=$(curl -sS -o "$work/receipt.xml" -w '%{http_code} %{time_total}' -X POST \
    -H "Content-Type: $ct" -T "$work/message.as4" -H "Expect:" \
    "http://127.0.0.1:$port/edelivery/as4")
  if [ "${STRACE:-0}" = 1 ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    head -20 "$work/strace.txt"
  fi
  if [ "${PERF:-0}" = 1 ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    perf report -i "$work/perf.data" --stdio --no-children -g none --sort ${PERF_SORT:-dso,symbol} 2>/dev/null | cut -c1-150 |
      grep -E '^ +[0-9]' | head -25
  fi
  cpu1=$(cpu_ticks)
  cpu=$(echo "scale=2; ($cpu1 - $cpu0) / $(getconf CLK_TCK)" | bc)
  code=${out%% *}
  secs=${out##* }
  grep -q NonRepudiationInformation "$work/receipt.xml" || { echo "no receipt (HTTP $code):"; head -c 2000 "$work/receipt.xml"; exit 1; }
  got=$(sha256sum "$store_dir"/payloads/*/0 | awk '{print $1}' | tail -1)
  [ "$got" = "$want" ] || { echo "payload SHA-256 differs: $got vs $want"; exit 1; }
  echo "POST → signed receipt: HTTP $code in $secs s wall ($(echo "scale=1; $body_size / $secs / 1048576" | bc) MiB/s), bbgw CPU time $cpu s"
  echo "bbgw peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
  rm -rf "$store_dir"/payloads/* "$work/message.as4"
done

# The OpenSSL bound for the same bytes: one SHA-256 pass plus one AES-128-GCM pass.
speed() {  # bytes/s of `openssl speed -evp $1` on 1 MiB blocks
  openssl speed -mr -seconds 3 -bytes 1048576 -evp "$1" 2>/dev/null |
    awk -F: '/^\+F:/ {print $4}'
}
sha=$(speed sha256)
gcm=$(speed aes-128-gcm)
bound=$(echo "scale=3; $size / $sha + $size / $gcm" | bc)
echo "openssl speed (1 MiB blocks): sha256 $(echo "$sha / 1048576" | bc) MiB/s, aes-128-gcm $(echo "$gcm / 1048576" | bc) MiB/s"
echo "OpenSSL bound for $size B: $bound s; last POST: wall $secs s = $(echo "scale=2; $secs / $bound" | bc) x the bound, bbgw CPU $cpu s = $(echo "scale=2; $cpu / $bound" | bc) x the bound"
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# End to end: NGSI-v2 notifications over HTTP -> one durable outbox event per entity (the 204 is
# sent after the store transaction committed), with wrk against bbgw on this machine. Every
# request carries its own Fiware-Correlator, so none is deduped as a redelivery. Prints requests/s
# and entities/s for notifications of 1 and of 100 entities, cross-checked against the gateway's
# bbgw_context_entities_total, and the outbox depth the relay left behind.
# Usage: bench/context_e2e.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   DURATION=15s CONNECTIONS=16 THREADS=2 SIZES="1 100" WORKERS=0 IO_THREADS=0 CORRELATOR=uuid1 \
#     DEDUPE_WINDOW=1h CACHE_MIB=4 bench/context_e2e.sh
# The store sweeps expired dedupe records every 60 s: DEDUPE_WINDOW=1s DURATION=75s measures a
# run with a sweep in it (the expired-record count is printed after each run).
# CORRELATOR=uuid1 (default): time-based UUID correlators, as Orion generates them (the gateway
# then files the dedupe records in time order); CORRELATOR=plain: "bench-<n>-<thread>-<count>",
# as before 2026-11-24 23:00 UTC (dedupe records at random places of the store's B-tree).
# PREPARED=auto (default): each wrk thread prepares its requests (each with its own correlator)
# before the run, enough for ~45 000 requests/s over DURATION (then it builds them as it goes),
# so that the load generator, on the same two cores as the gateway, spends less of them per
# request; the cross-check then counts from the moment every thread is ready. PREPARED=0: built
# per request (before 2026-11-25 13:50 UTC); PREPARED=<n>: n per thread.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/gateway/app/bbgw}
duration=${DURATION:-15s}
conns=${CONNECTIONS:-16}
threads=${THREADS:-2}
sizes=${SIZES:-"1 100"}
workers=${WORKERS:-0}  # server.worker_threads (0 = two per core)
io_threads=${IO_THREADS:-0}  # server.io_threads (0 = one per core)
dedupe_window=${DEDUPE_WINDOW:-1h}  # connectors.context.dedupe_window (how long records live)
cache_mib=${CACHE_MIB:-4}  # store.sqlite.cache_mib
correlator=${CORRELATOR:-uuid1}
prepared=${PREPARED:-auto}
. bench/lib.sh
bench_workdir context

port=$(free_port)
token=bench-token-0123456789abcdef
cat > "$work/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $port}]
  worker_threads: $workers
  io_threads: $io_threads
store: {sqlite: {path: $work/bbgw.db, cache_mib: $cache_mib}}
log: {level: warn}
connectors:
  context:
    enabled: true
    max_entities_per_notification: 1000
    dedupe_window: $dedupe_window
    brokers:
      - name: orion
        flavour: ngsi-v2
        base_url: http://127.0.0.1:9
        tenant: migr
        manage_subscriptions: false
        subscriptions: [{name: cases, entity_types: [Case], secret: $token}]
YAML
start_bbgw "$bin" "$port"

metric() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v m="$1" 'index($0, m" ") == 1 {print $NF}'; }
entities_metric='bbgw_context_entities_total{broker="orion",subscription="cases"}'

seconds=${duration%s}
case "$seconds" in *m) seconds=$(( ${seconds%m} * 60 )) ;; esac
for n in $sizes; do
  if [ "$prepared" = auto ]; then
    per_thread=$(( seconds * 45000 / threads / n + 1 ))
  else
    per_thread=$prepared
  fi
  # A notification of n entities shaped like ../shared/fixtures/ngsi/v2-normalized.http.
  /usr/bin/python3 - "$n" > "$work/body$n.json" <<'PY'
import json, sys
n = int(sys.argv[1])
ent = lambda i: {"id": "urn:Case:%d" % i, "type": "Case",
                 "status": {"type": "Text", "value": "open", "metadata": {}},
                 "language": {"type": "Text", "value": "ar", "metadata": {"observedAt": {"type": "DateTime", "value": "2026-06-24T10:00:00.000Z"}}},
                 "waitingDays": {"type": "Number", "value": 4, "metadata": {}},
                 "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [-3.7038, 40.4168]}, "metadata": {}}}
print(json.dumps({"subscriptionId": "5f914177334436ea590f6edb", "data": [ent(i) for i in range(n)]}, separators=(",", ":")), end="")
PY
  cat > "$work/notify$n.lua" <<LUA
local f = io.open("$work/body$n.json", "rb"); local body = f:read("*a"); f:close()
local counter = 0
-- setup() runs in wrk's main Lua state and gives each thread its own global "tid", so no two
-- threads send the same correlator (a repeat would be deduped as a redelivery and emit nothing).
local threads_made = 0
function setup(thread) threads_made = threads_made + 1; thread:set("tid", threads_made) end
-- A time-based (version 1) UUID like Orion's: 60-bit timestamp (100 ns since 1582) from the
-- start time, plus one per request; the thread in the clock sequence keeps threads apart.
local t = (os.time() + 12219292800) * 1e7
local t_hi, t_mid = math.floor(t / 2^48) % 4096, math.floor(t / 2^32) % 65536
local t_low = math.floor(t % 2^32)
local function correlator()
  if "$correlator" == "plain" then return string.format("bench-%d-%d-%d", $n, tid or 0, counter) end
  local low = (t_low + counter) % 2^32
  return string.format("%04x%04x-%04x-1%03x-%04x-0800%08x", math.floor(low / 65536), low % 65536,
                       t_mid, t_hi, 32768 + (tid or 0), $n)
end
-- The request around its correlator, built once: wrk.format on every request (a headers table,
-- the whole request assembled in Lua) cost wrk ~1.7 us of the two cores' time per request.
local head = "POST /context/notify/orion/cases?token=$token HTTP/1.1\r\nHost: 127.0.0.1:$port\r\n" ..
  "Content-Type: application/json; charset=utf-8\r\nFiware-Service: migr\r\n" ..
  "Fiware-Servicepath: /madrid\r\nNgsiv2-AttrsFormat: normalized\r\nFiware-Correlator: "
local tail = "; cbnotif=1\r\nContent-Length: " .. #body .. "\r\n\r\n" .. body
-- Requests prepared in init (before wrk starts its clock), handed out once each.
local reqs = {}
function init(args)
  for i = 1, $per_thread do counter = i; reqs[i] = head .. correlator() .. tail end
  counter = 0
  local f = io.open("$work/ready-" .. tostring(tid), "w")
  f:close()
end
function request()
  counter = counter + 1
  local r = reqs[counter]
  if r then
    reqs[counter] = nil
    return r
  end
  return head .. correlator() .. tail
end
LUA
  rm -f "$work"/ready-*
  wrk -t"$threads" -c"$conns" -d"$duration" -s "$work/notify$n.lua" "http://127.0.0.1:$port/" \
    > "$work/wrk.out" &
  wrk_pid=$!
  # The cross-check counts from the moment every thread has prepared its requests.
  for _ in $(seq 1200); do
    [ "$(find "$work" -maxdepth 1 -name 'ready-*' | wc -l)" -ge "$threads" ] && break
    sleep 0.05
  done
  before=$(metric "$entities_metric"); before=${before:-0}
  t0=$(date +%s.%N)
  wait "$wrk_pid"
  out=$(cat "$work/wrk.out")
  t1=$(date +%s.%N)
  after=$(metric "$entities_metric")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  echo "== notifications of $n entities: wrk -t$threads -c$conns -d$duration, correlators: $correlator"
  echo "$out" | grep -E "Latency|Requests/sec|Non-2xx|Socket errors"
  awk -v r="$rps" -v n="$n" 'BEGIN { printf "entities/s (wrk req/s x %d): %.0f\n", n, r * n }'
  awk -v a="$after" -v b="$before" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "entities/s (bbgw_context_entities_total over wall time, from all threads ready): %.0f (%d entities)\n", (a - b) / (t1 - t0), a - b }'
  sleep 2
  echo "outbox depth 2 s after the run: $(metric bbgw_outbox_depth)"
  echo "expired records deleted so far: $(metric bbgw_store_expired_records_deleted_total)"
done

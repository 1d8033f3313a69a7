#!/usr/bin/env bash
# End to end, eTranslation connector, with wrk against bbgw on this machine:
#  1. Callback path: JOBS text jobs of 4 target languages are created against the eTranslation
#     simulator (tests/connectors/etranslation/etranslation_sim.py, mode "never": it answers
#     request ids and never calls back), the callback URLs (with their per-job tokens) are read
#     back from the simulator, then wrk POSTs one success callback per (job, language) -- each a
#     state change + one durable translation.completed event in one store transaction before the
#     200. Reports wrk's req/s and callbacks/s from bbgw_etranslation_callbacks_total{applied}.
#  2. Cache-hit latency: an identical POST /api/v1/translations of a finished job, repeated by
#     wrk (each answered 200 "cached": true from the store, no upstream call, its events emitted).
# Usage: bench/etranslation_e2e.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   JOBS=4000 DURATION=10s CONNECTIONS=16 THREADS=2 bench/etranslation_e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/gateway/app/bbgw}
jobs_n=${JOBS:-4000}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-16}
threads=${THREADS:-2}
. bench/lib.sh
bench_workdir etranslation

/usr/bin/python3 tests/connectors/etranslation/etranslation_sim.py --application bench-app \
  --password bench-pw > "$work/sim.out" 2>"$work/sim.log" &
for _ in $(seq 100); do grep -q LISTENING "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
sim_port=$(awk '/LISTENING/ {print $2}' "$work/sim.out")
sim="http://127.0.0.1:$sim_port"
curl -fs -X POST "$sim/_sim/config" -d '{"mode": "never"}'

port=$(free_port)
cat > "$work/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $port}]
store: {sqlite: {path: $work/bbgw.db}}
log: {level: warn}
connectors:
  etranslation:
    enabled: true
    base_url: $sim/etranslation/si
    application: bench-app
    password: bench-pw
    backend: etranslation
    callback_base_url: http://127.0.0.1:$port
    max_in_flight: 10000
    callback_timeout: 1h
    cache_ttl: 1h
YAML
start_bbgw "$bin" "$port"

metric() { curl -fs "http://127.0.0.1:$port/metrics" | awk -v m="$1" 'index($0, m" ") == 1 {print $NF}'; }

# Create the jobs (keep-alive, 4 client threads), wait until the simulator has every request,
# then write wrk's list of callbacks: path + form body, one per (job, language).
t0=$(date +%s.%N)
/usr/bin/python3 - "$port" "$sim" "$jobs_n" "$work" <<'PY'
import http.client, json, sys, threading, time, urllib.parse, urllib.request
port, sim, n, work = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
langs = ["es", "el", "ar", "fr"]
def create(lo, hi):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for i in range(lo, hi):
        body = json.dumps({"source_language": "en", "target_languages": langs,
                           "text": "Where is the nearest registration office? (%d)" % i})
        c.request("POST", "/api/v1/translations", body, {"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 202, r.status
ts = [threading.Thread(target=create, args=(k * n // 4, (k + 1) * n // 4)) for k in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
for _ in range(1200):
    reqs = [r for r in json.load(urllib.request.urlopen(sim + "/_sim/requests")) if r.get("status") == 200]
    if len(reqs) >= n: break
    time.sleep(0.5)
assert len(reqs) >= n, "the simulator saw %d of %d jobs" % (len(reqs), n)
out = []
for r in reqs:
    job = json.loads(r["body"])
    path = urllib.parse.urlsplit(job["requesterCallback"]).path
    for l in job["targetLanguages"]:
        form = urllib.parse.urlencode({"request-id": r["answer"], "target-language": l,
                                       "translated-text": "[%s] %s" % (l, job["textToTranslate"]),
                                       "external-reference": job["externalReference"]})
        out.append((path, form))
# The first job's callbacks go first (sent by curl below): its translations fill the cache.
with open(work + "/first.txt", "w") as f:
    for p, b in out[:4]: f.write(p + "\t" + b + "\n")
with open(work + "/callbacks.lua", "w") as f:
    f.write("cbs = {\n")
    for p, b in out[4:]: f.write("{%s, %s},\n" % (json.dumps(p), json.dumps(b)))
    f.write("}\n")
print("jobs created and submitted: %d; callbacks prepared: %d" % (n, len(out)))
PY
t1=$(date +%s.%N)
awk -v n="$jobs_n" -v a="$t0" -v b="$t1" 'BEGIN { printf "creation + upstream submission: %.1f s (%.0f jobs/s, simulator-bound)\n", b - a, n / (b - a) }'
while IFS=$'\t' read -r p b; do
  curl -fs -o /dev/null -X POST -H 'Content-Type: application/x-www-form-urlencoded' --data "$b" "http://127.0.0.1:$port$p"
done < "$work/first.txt"

cat > "$work/cb.lua" <<LUA
dofile("$work/callbacks.lua")
-- Each thread takes every nth callback of the list, so no callback is sent twice; a thread that
-- ran out stops (the rest would only be duplicates).
local threads_made = 0
function setup(thread) threads_made = threads_made + 1; thread:set("tid", threads_made - 1) end
local i = nil
function request()
  if i == nil then i = tid + 1 end
  local cb = cbs[i]
  if cb == nil then wrk.thread:stop(); cb = cbs[1] end
  i = i + $threads
  return wrk.format("POST", cb[1], {["Content-Type"] = "application/x-www-form-urlencoded"}, cb[2])
end
LUA
applied='bbgw_etranslation_callbacks_total{outcome="applied"}'
dups='bbgw_etranslation_callbacks_total{outcome="duplicate"}'
before=$(metric "$applied"); before=${before:-0}
ev_before=$(metric bbgw_outbox_depth); ev_before=${ev_before:-0}
t0=$(date +%s.%N)
out=$(wrk -t"$threads" -c"$conns" -d"$duration" -s "$work/cb.lua" "http://127.0.0.1:$port/")
t1=$(date +%s.%N)
after=$(metric "$applied")
echo "== success callbacks: wrk -t$threads -c$conns -d$duration ($((jobs_n * 4 - 4)) distinct callbacks available)"
echo "$out" | grep -E "Latency|requests in|Requests/sec|Non-2xx|Socket errors"
awk -v a="$after" -v b="$before" -v t0="$t0" -v t1="$t1" \
  'BEGIN { printf "callbacks applied/s (bbgw_etranslation_callbacks_total{applied} over wall time): %.0f (%d applied)\n", (a - b) / (t1 - t0), a - b }'
echo "duplicates answered: $(metric "$dups")"

# 2. Cache hits: the first job's request again (its 4 targets are cached).
body='{"source_language": "en", "target_languages": ["es", "el", "ar", "fr"], "text": "Where is the nearest registration office? (0)"}'
first=$(curl -fs -w ' %{http_code}' -X POST -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$port/api/v1/translations")
echo "cache check: $first"
case "$first" in *'"cached":true'*' 200') ;; *) echo "not a cache hit" >&2; exit 1 ;; esac
cat > "$work/hit.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$body'
LUA
out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency -s "$work/hit.lua" "http://127.0.0.1:$port/api/v1/translations")
echo "== cache hits: wrk -t$threads -c$conns -d$duration --latency (identical POST, answered 200 cached)"
echo "$out" | grep -E "Latency|50%|75%|90%|99%|requests in|Requests/sec|Non-2xx|Socket errors"
out=$(wrk -t1 -c1 -d"$duration" --latency -s "$work/hit.lua" "http://127.0.0.1:$port/api/v1/translations")
echo "== cache hits, one connection: wrk -t1 -c1 -d$duration --latency"
echo "$out" | grep -E "Latency|50%|75%|90%|99%|Requests/sec|Non-2xx"
echo "upstream requests seen by the simulator: $(curl -fs "$sim/_sim/requests" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
sleep 2
echo "outbox depth 2 s after the run: $(metric bbgw_outbox_depth)"

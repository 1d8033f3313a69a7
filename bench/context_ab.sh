#!/usr/bin/env bash
# A/B of bench/context_e2e.sh on a shared machine: runs it ROUNDS times for each binary given,
# alternating, and prints per run the entities/s and, from `perf stat` on the gateway process
# over 3 s of the run, context switches and CPU time per request (less sensitive to the load
# than the rates; this VM has no hardware counters, so no instruction counts). Compare medians
# of one invocation, not figures across invocations.
# Usage: bench/context_ab.sh ROUNDS ENTITIES BINARY_A [BINARY_B ...]
#   DURATION=6s CONNECTIONS=64 bench/context_ab.sh 3 1 /tmp/base/bbgw build/h-perf-rel/gateway/app/bbgw
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1 size=$2
shift 2
out=$(mktemp -d /tmp/bbgw-bench-ab.XXXXXX)
trap 'rm -rf "$out"' EXIT
for _ in $(seq "$rounds"); do
  for bin in "$@"; do
    DURATION=${DURATION:-6s} CONNECTIONS=${CONNECTIONS:-64} SIZES="$size" \
      bash bench/context_e2e.sh "$bin" > "$out/run" 2>&1 &
    drv=$!
    pid=""
    for _ in $(seq 200); do
      pid=$(pgrep -n -f "^$bin serve" || true)
      [ -n "$pid" ] && break
      sleep 0.05
    done
    sleep 1.5  # past start-up, inside wrk's run
    : > "$out/stat"
    if [ -n "$pid" ] && command -v perf > /dev/null && perf stat -e task-clock -- true > /dev/null 2>&1; then
      perf stat -x, -e context-switches,task-clock -p "$pid" -o "$out/stat" -- sleep 3 || true
    fi
    wait "$drv"
    eps=$(awk -F': ' '/entities\/s \(bbgw/ {split($2, a, " "); print a[1]}' "$out/run")
    rps=$(awk '/Requests\/sec/ {print $2}' "$out/run")
    cs=$(awk -F, '/context-switches/ {print $1}' "$out/stat")
    tc=$(awk -F, '/task-clock/ {print $1}' "$out/stat")
    awk -v b="$bin" -v e="${eps:-0}" -v r="${rps:-0}" -v cs="${cs:-0}" -v tc="${tc:-0}" \
      -v ld="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
        n = r * 3; if (n == 0) n = 1
        printf "%-40s entities/s %7d  req/s %8.0f  cs/req %.2f  cpu_us/req %6.1f  load %s\n",
               b, e, r, cs / n, tc * 1000 / n, ld }'
  done
done

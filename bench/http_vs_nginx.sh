#!/usr/bin/env bash
# /healthz requests/s with wrk against bbgw, side by side with nginx returning a static 200, in
# one run on this machine. Rounds alternate between the two servers; medians and their ratio are
# printed. Usage: bench/http_vs_nginx.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   ROUNDS=5 DURATION=10s CONNECTIONS=64 THREADS=1 IO_THREADS=0 bench/http_vs_nginx.sh
# (IO_THREADS: bbgw's server.io_threads, 0 = one per core)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/gateway/app/bbgw}
rounds=${ROUNDS:-5}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-64}
threads=${THREADS:-1}
. bench/lib.sh
bench_workdir http

bport=$(free_port)
nport=$(free_port)

# nginx: as many workers as bbgw has I/O threads (cores), no access log, keep-alive, static 200.
cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nport;
    location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
  }
}
NGINX
/usr/sbin/nginx -c "$work/nginx.conf" -p "$work" -g 'daemon off;' &
nginx_pid=$!

cat > "$work/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $bport}]
  io_threads: ${IO_THREADS:-0}
store: {sqlite: {path: $work/bbgw.db}}
log: {level: warn}
YAML
"$bin" serve --config "$work/bbgw.yaml" > "$work/bbgw.log" 2>&1 &
bbgw_pid=$!
wait_http "http://127.0.0.1:$bport/healthz" "http://127.0.0.1:$nport/healthz"
nginx_pids=$( (echo "$nginx_pid"; pgrep -P "$nginx_pid" || true) | paste -sd, -)

# One wrk round against URL; appends req/s to FILE.rps and, when perf is there, the server's CPU
# time and context switches per request (perf stat on the server's processes during the round)
# to FILE.cpu and FILE.cs: a measure of the server's own cost that other load on the machine
# disturbs much less than req/s.
round() {
  local url=$1 file=$2 pids=$3
  if command -v perf > /dev/null && perf stat -e task-clock -- true > /dev/null 2>&1; then
    perf stat -x, -e task-clock,context-switches -p "$pids" -o "$work/stat" -- \
      wrk -t"$threads" -c"$conns" -d"$duration" "$url" > "$work/wrk" 2> /dev/null || true
  else
    wrk -t"$threads" -c"$conns" -d"$duration" "$url" > "$work/wrk"
    : > "$work/stat"
  fi
  local r; r=$(awk '/Requests\/sec/ {print $2}' "$work/wrk")
  echo "$r" >> "$file.rps"
  local secs=${duration%s}
  awk -F, -v r="$r" -v s="$secs" '/task-clock/ {printf "%.2f\n", $1 * 1000 / (r * s)}' \
    "$work/stat" >> "$file.cpu"
  awk -F, -v r="$r" -v s="$secs" '/context-switches/ {printf "%.3f\n", $1 / (r * s)}' \
    "$work/stat" >> "$file.cs"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

for f in bbgw nginx; do : > "$work/$f.rps"; : > "$work/$f.cpu"; : > "$work/$f.cs"; done
for i in $(seq "$rounds"); do
  round "http://127.0.0.1:$bport/healthz" "$work/bbgw" "$bbgw_pid"
  round "http://127.0.0.1:$nport/healthz" "$work/nginx" "$nginx_pids"
done
b=$(median < "$work/bbgw.rps"); n=$(median < "$work/nginx.rps")
echo "wrk -t$threads -c$conns -d$duration, $rounds alternating rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bbgw  /healthz req/s: $(tr '\n' ' ' < "$work/bbgw.rps") median $b"
echo "nginx /healthz req/s: $(tr '\n' ' ' < "$work/nginx.rps") median $n"
awk -v b="$b" -v n="$n" 'BEGIN { printf "ratio bbgw/nginx: %.2f (target >= 0.8)\n", b / n }'
if [ -s "$work/bbgw.cpu" ] && [ -s "$work/nginx.cpu" ]; then
  bc=$(median < "$work/bbgw.cpu"); nc=$(median < "$work/nginx.cpu")
  echo "server CPU us/request: bbgw $(tr '\n' ' ' < "$work/bbgw.cpu") median $bc;" \
    "nginx $(tr '\n' ' ' < "$work/nginx.cpu") median $nc"
  echo "context switches/request: bbgw median $(median < "$work/bbgw.cs"), nginx median $(median < "$work/nginx.cs")"
  awk -v b="$bc" -v n="$nc" 'BEGIN { printf "CPU ratio nginx/bbgw (same work per request): %.2f\n", n / b }'
fi

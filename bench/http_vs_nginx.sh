#!/usr/bin/env bash
# /healthz requests/s with wrk against bbgw, side by side with nginx returning a static 200, in
# one run on this machine. Rounds alternate between the two servers; medians and their ratio are
# printed. Usage: bench/http_vs_nginx.sh [BBGW_BINARY] (default build/release/gateway/app/bbgw)
#   ROUNDS=5 DURATION=10s CONNECTIONS=64 THREADS=1 bench/http_vs_nginx.sh
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

cat > "$work/bbgw.yaml" <<YAML
server:
  listeners: [{name: http, address: 127.0.0.1, port: $bport}]
store: {sqlite: {path: $work/bbgw.db}}
log: {level: warn}
YAML
"$bin" serve --config "$work/bbgw.yaml" > "$work/bbgw.log" 2>&1 &
wait_http "http://127.0.0.1:$bport/healthz" "http://127.0.0.1:$nport/healthz"

rps() { wrk -t"$threads" -c"$conns" -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > "$work/bbgw.rps"; : > "$work/nginx.rps"
for i in $(seq "$rounds"); do
  rps "http://127.0.0.1:$bport/healthz" >> "$work/bbgw.rps"
  rps "http://127.0.0.1:$nport/healthz" >> "$work/nginx.rps"
done
b=$(median < "$work/bbgw.rps"); n=$(median < "$work/nginx.rps")
echo "wrk -t$threads -c$conns -d$duration, $rounds alternating rounds"
echo "bbgw  /healthz req/s: $(tr '\n' ' ' < "$work/bbgw.rps") median $b"
echo "nginx /healthz req/s: $(tr '\n' ' ' < "$work/nginx.rps") median $n"
awk -v b="$b" -v n="$n" 'BEGIN { printf "ratio bbgw/nginx: %.2f (target >= 0.8)\n", b / n }'

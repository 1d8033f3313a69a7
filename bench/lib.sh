# Shared set-up of the bench/*.sh scripts (sourced, not run).

# A temporary work directory in $work, removed (with every background job) on exit.
bench_workdir() {
  work=$(mktemp -d "/tmp/bbgw-bench-$1.XXXXXX")
  trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# A TCP port free on 127.0.0.1 now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (up to 10 s) until every URL answers 2xx.
wait_http() {
  for _ in $(seq 100); do
    local ok=1 u
    for u in "$@"; do curl -fs "$u" >/dev/null 2>&1 || ok=0; done
    [ "$ok" = 1 ] && return 0
    sleep 0.1
  done
  echo "not answering: $*" >&2
  return 1
}

# Starts BINARY serve with $work/bbgw.yaml (logging to $work/bbgw.log) and waits for its
# /healthz on PORT.
start_bbgw() {
  "$1" serve --config "$work/bbgw.yaml" > "$work/bbgw.log" 2>&1 &
  wait_http "http://127.0.0.1:$2/healthz"
}

# WARM_MB=N: writes N MiB to a tmpfs file and deletes it, once, before measuring. On this VM the
# first use of a guest memory page since boot costs a fault in the hypervisor: writing 1 GiB to
# /dev/shm took 0.5 s, the second GiB (the first still there) 1.8 s, the third 2.8 s; after
# 4 GiB had been written and deleted, three GiB took 0.4–0.7 s each. Without warming, large
# payload runs measure that first touch, not the gateway.
warm_memory() {
  local mb=${WARM_MB:-0}
  [ "$mb" -gt 0 ] || return 0
  local f
  f=$(mktemp /dev/shm/bbgw-warm.XXXXXX)
  dd if=/dev/zero of="$f" bs=1M count="$mb" status=none
  rm -f "$f"
}

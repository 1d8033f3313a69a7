#!/usr/bin/env bash
# eID ACS throughput side by side, in one run (bench/README.md, "eID ACS"):
#   the gateway (bench/acs_bench: POST /eid/acs through saml_sp::acs, and run_acs_rules alone),
#   pysaml2 and python3-saml (bench/acs_peers.py run) on the same RSA-2048 Responses,
#   and the OpenSSL bound from `openssl speed` for the same key operations.
# Rounds alternate the four so that load changes on the shared machine hit all of them; the
# summary gives medians over the rounds and ratios of those medians, for CPU time (the process
# and, for pysaml2, the xmlsec1 children it waits for) and for wall time.
#
# Usage: bench/acs_compare.sh [BUILD_DIR]        (default build/h-acsbench-rel)
#   ROUNDS=5 GW_SECONDS=2 PEER_SECONDS=5 SPEED_SECONDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
build=${1:-build/h-acsbench-rel}
bench_bin=$build/bench/acs_bench
[ -x "$bench_bin" ] || { echo "no $bench_bin (configure with -DBBGW_BENCH=ON)" >&2; exit 1; }
ROUNDS=${ROUNDS:-5}
GW_SECONDS=${GW_SECONDS:-2}
PEER_SECONDS=${PEER_SECONDS:-5}
SPEED_SECONDS=${SPEED_SECONDS:-2}
PY=/usr/bin/python3
bench_workdir acs
data=$work/data
$PY bench/acs_peers.py gen "$data"
echo "== data in $data; $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"

# The P-256 variant through the peers, once: they are expected to fail (reported as n/a).
for peer in pysaml2 onelogin; do
  $PY bench/acs_peers.py run "$data" $peer p256.xml --seconds 1 --reps 1 2>/dev/null \
    >> "$work/peers.jsonl" || true
done

for r in $(seq "$ROUNDS"); do
  echo "== round $r/$ROUNDS (load $(cut -d' ' -f1 /proc/loadavg))"
  BBGW_ACS_DIR=$data "$bench_bin" --benchmark_min_time="$GW_SECONDS" \
    --benchmark_format=json --benchmark_out="$work/gw.$r.json" >/dev/null 2>"$work/gw.$r.err"
  for peer in pysaml2 onelogin; do
    $PY bench/acs_peers.py run "$data" $peer rsa-peer.xml --seconds "$PEER_SECONDS" --reps 1 \
      2>/dev/null >> "$work/peers.jsonl"
  done
  # Default: user CPU time; -elapsed: wall time.
  openssl speed -seconds "$SPEED_SECONDS" rsa2048 ecdsap256 ecdhp256 2>/dev/null \
    > "$work/speed-cpu.$r.txt"
  openssl speed -elapsed -seconds "$SPEED_SECONDS" rsa2048 ecdsap256 ecdhp256 2>/dev/null \
    > "$work/speed-wall.$r.txt"
done

$PY - "$work" "$ROUNDS" <<'EOF'
import glob, json, re, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
med = statistics.median

def speed(path):
    t = open(path).read()
    rsa = re.search(r"^rsa 2048 bits\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", t, re.M)
    ec = re.search(r"^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([\d.]+)\s+([\d.]+)", t, re.M)
    dh = re.search(r"^\s*256 bits ecdh \(nistp256\)\s+\S+\s+([\d.]+)", t, re.M)
    rsa_sign, rsa_verify = float(rsa.group(1)), float(rsa.group(2))
    ec_verify, dh_op = float(ec.group(2)), float(dh.group(1))
    # One Response: 2 signature verifications (Response, Assertion) + 1 private-key operation
    # (RSA-OAEP decryption ~ one RSA private operation = a "sign" in openssl speed) or 1 ECDH.
    return {"rsa": 1 / (2 / rsa_verify + 1 / rsa_sign), "p256": 1 / (2 / ec_verify + 1 / dh_op),
            "rsa_sign": rsa_sign, "rsa_verify": rsa_verify, "ec_verify": ec_verify, "ecdh": dh_op}

gw = {}
for r in range(1, rounds + 1):
    for b in json.load(open("%s/gw.%d.json" % (work, r)))["benchmarks"]:
        if b.get("error_occurred"):
            gw.setdefault(b["name"].split("/")[0], {"error": b.get("error_message")})
            continue
        name = b["name"].split("/")[0]
        e = gw.setdefault(name, {"wall": [], "cpu": []})
        e["wall"].append(1e6 / b["real_time"])  # time unit us
        e["cpu"].append(1e6 / b["cpu_time"])
peers = {}
for line in open(work + "/peers.jsonl"):
    j = json.loads(line)
    k = (j["peer"], j["file"])
    if "error" in j:
        peers[k] = {"error": j["error"]}
    else:
        e = peers.setdefault(k, {"wall": [], "cpu": []})
        e["wall"].append(j["per_s"])
        e["cpu"].append(j["per_cpu_s"])
sp = {m: [speed(p) for p in sorted(glob.glob("%s/speed-%s.*.txt" % (work, m)))]
      for m in ("cpu", "wall")}
bound = {m: {k: med([s[k] for s in sp[m]]) for k in sp[m][0]} for m in sp}

print("\nmedians over %d rounds (Responses/s)" % rounds)
print("%-34s %12s %12s" % ("", "CPU time", "wall time"))
for name, e in sorted(gw.items()):
    if "error" in e:
        print("%-34s %s" % (name, e["error"]))
    else:
        print("%-34s %12.0f %12.0f" % (name, med(e["cpu"]), med(e["wall"])))
for (peer, f), e in sorted(peers.items()):
    label = "%s %s" % (peer, f)
    if "error" in e:
        print("%-34s n/a (%s)" % (label, e["error"][:90]))
    else:
        print("%-34s %12.2f %12.2f" % (label, med(e["cpu"]), med(e["wall"])))
for k in ("rsa", "p256"):
    print("%-34s %12.0f %12.0f" % ("OpenSSL bound " + k, bound["cpu"][k], bound["wall"][k]))
print("  (openssl speed medians, CPU: rsa2048 sign %.0f/s verify %.0f/s, ecdsap256 verify %.0f/s,"
      " ecdhp256 %.0f/s)" % tuple(bound["cpu"][k] for k in ("rsa_sign", "rsa_verify", "ec_verify",
                                                              "ecdh")))
print("\nratios (of medians)                    CPU time    wall time")
for kind, bm in (("rsa", "BM_acs_route_rsa2048"), ("p256", "BM_acs_route_p256"),
                 ("rsa", "BM_acs_rules_rsa2048"), ("p256", "BM_acs_rules_p256")):
    if bm not in gw or "error" in gw[bm]:
        continue
    print("%-34s %10.2fx %10.2fx" % ("bound / " + bm, bound["cpu"][kind] / med(gw[bm]["cpu"]),
                                     bound["wall"][kind] / med(gw[bm]["wall"])))
    if kind == "rsa":
        for peer in ("pysaml2", "onelogin"):
            e = peers.get((peer, "rsa-peer.xml"))
            if e and "error" not in e:
                print("%-34s %10.1fx %10.1fx" % (bm + " / " + peer, med(gw[bm]["cpu"]) / med(e["cpu"]),
                                                 med(gw[bm]["wall"]) / med(e["wall"])))
EOF

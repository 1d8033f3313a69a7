#!/usr/bin/env bash
# Runs every benchmark on the release build (make bench). Figures go in bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in build/release/bench/*_bench; do
  [ -x "$b" ] || continue
  echo "== $b"
  "$b" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
done
echo "== bench/http_vs_nginx.sh"
bash bench/http_vs_nginx.sh
echo "== bench/context_e2e.sh"
bash bench/context_e2e.sh

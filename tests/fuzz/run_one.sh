#!/usr/bin/env bash
# Runs one libFuzzer target briefly, as ctest does (tests/CMakeLists.txt):
#   run_one.sh BINARY SEEDS SECONDS
# First every seed once (regression inputs), then SECONDS of fuzzing with a fresh writable
# corpus in a temp dir and SEEDS read-only after it. Exit 77 (ctest: skipped) when the target is
# not built; 1 on a crash, with the reproducer's path and base64 printed (-error_exitcode=1:
# libFuzzer's default, 77, would read as "skipped" to ctest).
set -uo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 BINARY SEEDS SECONDS" >&2
  exit 2
fi
binary=$1 seeds=$2 seconds=$3

if [ ! -x "$binary" ]; then
  echo "fuzz target not built: run make fuzz"
  exit 77
fi
if [ ! -d "$seeds" ]; then
  echo "no seed corpus at $seeds" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bbgw-fuzz.XXXXXX")
# Keep the directory when something crashed: it holds the reproducer.
keep=0
trap '[ "$keep" = 1 ] || rm -rf "$work"' EXIT

report_crash() {
  keep=1
  local found=0
  for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
    [ -e "$f" ] || continue
    found=1
    echo "reproducer: $f"
    echo "base64: $(base64 -w0 "$f")"
    echo "replay: $binary $f"
  done
  [ "$found" = 1 ] || echo "no reproducer written; the log above says why (kept $work)"
}

# A small quarantine: inputs are small, and the default 256 MiB makes each run ~600 MiB on a
# shared 2-core machine (and slower) for no more findings.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=32}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# 1. The seeds themselves, each run once (no fuzzing); a failing seed is its own reproducer.
while IFS= read -r seed; do
  if ! "$binary" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 "$seed"; then
    echo "seed input fails: $seed"
    echo "base64: $(base64 -w0 "$seed")"
    echo "replay: $binary $seed"
    exit 1
  fi
done < <(find "$seeds" -maxdepth 1 -type f | sort)

# 2. Fuzz: new inputs go to the temp corpus, the committed seeds stay untouched.
mkdir -p "$work/corpus"
"$binary" "$work/corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" -error_exitcode=1
rc=$?
if [ $rc -ne 0 ]; then
  echo "fuzzing $binary failed (exit $rc)"
  report_crash
  exit 1
fi
exit 0

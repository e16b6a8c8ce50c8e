#!/usr/bin/env bash
# Runs every libFuzzer harness built in BUILD (tests/fuzz/fuzz_*.c) over its
# committed seed corpus (tests/fuzz/corpus/NAME/), then explores for SECONDS.
# New inputs go to a scratch copy, never into the repository. A crash fails
# the run and leaves the reproducer in tests/fuzz/crashes/.
#   usage: scripts/fuzz.sh BUILD SECONDS
set -euo pipefail
build=${1:?build dir}
secs=${2:-10}
cd "$(dirname "$0")/.."
shopt -s nullglob
ran=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds="tests/fuzz/corpus/$name"
  mkdir -p "$work/$name" tests/fuzz/crashes
  [ -d "$seeds" ] || { echo "fuzz: $name has no seed corpus in $seeds" >&2; exit 1; }
  echo "fuzz: $name (${secs}s)"
  if ! ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix=tests/fuzz/crashes/"$name"- -print_final_stats=0 \
       "$work/$name" "$seeds" > "$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log" >&2
    echo "fuzz: $name FAILED; reproducer in tests/fuzz/crashes/" >&2
    exit 1
  fi
  grep -E '^(#[0-9]+ +DONE|Done [0-9]+ runs)' "$work/$name.log" | tail -1 || true
  ran=$((ran + 1))
done
[ "$ran" -gt 0 ] || { echo "fuzz: no harness built in $build" >&2; exit 1; }
echo "fuzz: $ran harnesses passed"

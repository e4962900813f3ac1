#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each (make fuzz; docs/fuzzing.md).
#   Fuzz/run.sh BINARY SECONDS [TARGET ...]
# Each target fuzzes a scratch copy of Fuzz/Corpus/<target> under .build-fuzz/work, so the
# committed corpus only changes when asked: with FUZZ_MERGE=1 the new inputs that add
# coverage are merged into Fuzz/Corpus/<target> (libFuzzer -merge=1) afterwards.
# A crash, an invariant violation, a timeout (10 s per input) or running out of memory
# fails the run; the input is kept as .build-fuzz/artifacts/<target>-crash-<sha1>.
set -uo pipefail
BIN=${1:?binary}; SECONDS_EACH=${2:?seconds}; shift 2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/.build-fuzz/work; ARTIFACTS=$ROOT/.build-fuzz/artifacts
mkdir -p "$WORK" "$ARTIFACTS"
# libFuzzer prints the stack of a crash; Swift's own backtracer only adds noise under ASan.
export SWIFT_BACKTRACE=enable=no
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=($(ls "$ROOT/Fuzz/Corpus"))
fi
OPTIONS=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
# LeakSanitizer stays on except for toml: TOMLKit 0.6 never frees a parsed table (TOMLTable
# has no deinit) nor its parse errors, harmless once per configuration load but a "leak" on
# every fuzz input.
leaks() { if [ "$1" = toml ]; then echo 0; else echo 1; fi; }
failed=()
printf '%-16s %8s %10s %8s %9s %8s  %s\n' target seconds execs exec/s new_units corpus result > "$WORK/summary.txt"
for t in "${TARGETS[@]}"; do
  corpus=$ROOT/Fuzz/Corpus/$t
  [ -d "$corpus" ] || { echo "no corpus for $t" >&2; failed+=("$t"); continue; }
  rm -rf "$WORK/$t"; mkdir -p "$WORK/$t"
  cp "$corpus"/* "$WORK/$t/"
  log=$WORK/$t.log
  echo "== $t: ${SECONDS_EACH}s (log: ${log#$ROOT/})"
  start=$(date +%s)
  ASAN_OPTIONS=detect_leaks=$(leaks "$t") YIZHAN_FUZZ_TARGET=$t "$BIN" "${OPTIONS[@]}" -detect_leaks=$(leaks "$t") -artifact_prefix="$ARTIFACTS/$t-" "$WORK/$t" > "$log" 2>&1
  status=$?
  took=$(( $(date +%s) - start ))
  stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
  result=ok
  if [ $status -ne 0 ]; then
    result="FAILED (status $status)"; failed+=("$t")
    grep -E "^(==[0-9]+==ERROR|Fatal error|.*invariant violated|SUMMARY|artifact_prefix|Test unit written)" "$log" | head -8 >&2
  elif [ "${FUZZ_MERGE:-0}" = 1 ]; then
    ASAN_OPTIONS=detect_leaks=0 YIZHAN_FUZZ_TARGET=$t "$BIN" -merge=1 -use_counters=0 -detect_leaks=0 "$corpus" "$WORK/$t" >> "$log" 2>&1 || { result="merge failed"; failed+=("$t"); }
  fi
  printf '%-16s %8s %10s %8s %9s %8s  %s\n' "$t" "$took" "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" \
    "$(stat new_units_added)" "$(ls "$corpus" | wc -l)" "$result" | tee -a "$WORK/summary.txt"
done
echo; cat "$WORK/summary.txt"
if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing failed: ${failed[*]}; inputs in ${ARTIFACTS#$ROOT/}/ (reproduce: YIZHAN_FUZZ_TARGET=<target> $BIN <file>)" >&2
  exit 1
fi

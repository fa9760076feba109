#!/usr/bin/env bash
# Runs the libFuzzer targets of tests/fuzz (built with CC=clang cmake -DLGW_FUZZ=ON), one after
# the other, each from its committed seeds (tests/fuzz/seeds/<target>) plus its growing corpus
# (<build>/fuzz-corpus/<target>, outside the tree), under ASan+UBSan with leak detection.
#
#   tests/fuzz/run.sh [--build DIR] [--time S | --runs N] [--jobs J] [TARGET...]
#     --time S   each target runs S seconds (CI: deploy/test.sh --fuzz uses 30)
#     --runs N   each target runs N executions (the recorded long run: 10000000)
#     --jobs J   J libFuzzer processes per target on the same corpus (each reloads what the
#                others find), N/J executions each; the figures are their sum (default 1)
#     TARGET     smpp_pdu, event, ... (default: every fuzz_* executable in DIR/tests/fuzz)
#
# Input sizes: libFuzzer's default -max_len is the largest seed (at least 4096). Two targets get
# their own: ussd_dialogue 960, the largest input its harness reads (24 lines of an answer of
# USSD_INPUT_MAX bytes and a separator: anything longer is returned at once, a wasted run);
# menus 32768, the menu seeds (one or two languages of the shipped file: 14-24 KB since the
# transfer, suggestion and referral sections; tests/fuzz/seeds.sh) with room to grow. A seed
# longer than its target's -max_len would be cut and never parse (the menus target once ran at
# cov 8 that way): such a seed fails the run before the target starts.
# A crash, a leak, a timeout (an input running longer than 10 s) or an out-of-memory (2 GiB)
# stops that target and fails the run; the input is kept as <build>/fuzz-artifacts/<target>-*,
# to become a regression vector in the unit tests. One line per target goes to stdout and
# <build>/fuzz-results.tsv: target, executions, exec/s (executions / wall seconds, start-up
# included), cov, ft, seconds, outcome - the figures
# tests/bench/RESULTS.md records for the long run.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=build-fuzz
limit=(-max_total_time=30)
runs=
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --time)  limit=(-max_total_time="$2"); shift 2 ;;
    --runs)  runs="$2"; limit=(); shift 2 ;;
    --jobs)  jobs="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    -*) echo "usage: $0 [--build DIR] [--time S | --runs N] [--jobs J] [TARGET...]" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
bin="$build/tests/fuzz"
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$bin"/fuzz_*; do
    [ -x "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz_//')")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets in $bin (CC=clang cmake -S . -B $build -DLGW_FUZZ=ON)" >&2
  exit 2
fi
build=$(cd "$build" && pwd)
mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts" "$build/fuzz-logs"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for t in "${targets[@]}"; do
  exe="$build/tests/fuzz/fuzz_$t"
  seeds="tests/fuzz/seeds/$t"
  corpus="$build/fuzz-corpus/$t"
  log="$build/fuzz-logs/$t.log"
  if [ ! -x "$exe" ]; then
    echo "run.sh: no target $t ($exe)" >&2
    failed=1
    continue
  fi
  mkdir -p "$corpus"
  case "$t" in
    ussd_dialogue) maxlen=(-max_len=960) ;;
    menus) maxlen=(-max_len=32768) ;;
    *) maxlen=() ;;
  esac
  if [ ${#maxlen[@]} -gt 0 ] && [ -d "$seeds" ]; then
    big=$(find "$seeds" -type f -size +"${maxlen[0]#-max_len=}"c | head -1)
    if [ -n "$big" ]; then
      echo "run.sh: $t: seed $big is longer than ${maxlen[0]} (it would be cut): raise it" >&2
      failed=1
      continue
    fi
  fi
  start=$(date +%s)
  pids=()
  for j in $(seq 1 "$jobs"); do
    jlimit=("${limit[@]}")
    [ -n "$runs" ] && jlimit=(-runs=$(( (runs + jobs - j) / jobs )))
    jlog="$log"
    [ "$jobs" -gt 1 ] && jlog="$build/fuzz-logs/$t.$j.log"
    "$exe" "${jlimit[@]}" "${maxlen[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" "$corpus" "$seeds" \
      > "$jlog" 2>&1 &
    pids+=($!)
  done
  rc=0
  for pid in "${pids[@]}"; do
    # one finding is enough: the other jobs of this target stop too
    wait "$pid" || { rc=$?; kill "${pids[@]}" 2> /dev/null; }
  done
  secs=$(( $(date +%s) - start ))
  if [ "$jobs" -gt 1 ]; then
    cat "$build/fuzz-logs/$t".[0-9]*.log > "$log"
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s}')
  rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
  cov=$(grep -oE 'cov: [0-9]+' "$log" | cut -d' ' -f2 | sort -n | tail -1)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | cut -d' ' -f2 | sort -n | tail -1)
  if [ $rc -eq 0 ]; then
    outcome=ok
  elif grep -q 'ERROR: libFuzzer: timeout' "$log"; then
    outcome=timeout
  elif grep -q 'ERROR: LeakSanitizer' "$log"; then
    outcome=leak
  elif grep -qE 'out-of-memory|malloc\(.*exceeds' "$log"; then
    outcome=oom
  else
    outcome=crash
  fi
  [ "$outcome" = ok ] || failed=1
  line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$t" "${execs:-0}" "${rate:-0}" "${cov:-?}" \
    "${ft:-?}" "$secs" "$outcome")
  echo "$line" | tee -a "$build/fuzz-results.tsv"
  if [ "$outcome" != ok ]; then
    grep -E 'ERROR|SUMMARY|artifact|#[0-9]+ 0x' "$log" | head -20 >&2
  fi
done
exit $failed

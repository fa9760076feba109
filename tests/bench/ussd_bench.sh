#!/usr/bin/env bash
# USSD benchmark (issue 3): hop latency through the whole path - smsc-sim --ussd-load -> SMPP/TCP
# -> loyaltygw (session record, wallet and history read from Redis in one round trip, menu
# engine, compare-and-set of the session) -> submit_sm back - with Redis as deploy/redis.conf
# (AOF everysec). Prints figures; it does not pass or fail on speed.
#   tests/bench/ussd_bench.sh BUILD_DIR SRC_DIR     (run.sh calls it)
#
# 1. p50/p99 at 2,000 hops/s with 5,000 live sessions: 5,000 subscribers dial *555# at once
#    (--ussd-concurrency 5000) and each answers 10 times ('9' is not an option: the menu comes
#    back with an error line, a full step every time), then '1' (my points, the last screen):
#    55,000 hops paced at 2,000/s.
# 2. the highest rate whose p99 stays within 5 ms: the same load stepped up (BENCH_USSD_RATES)
#    until p99 passes 5 ms or the gateway no longer keeps up with the offered rate (< 95 %).
#
# A hop is measured by the simulator: deliver_sm written to its socket -> the next submit_sm for
# that subscriber and session read from its socket, so it includes both TCP hops and the
# simulator's own loop (all three processes share the machine): an upper bound of the gateway's
# deliver_sm received -> submit_sm sent.
#   BENCH_USSD_N (5000) subscribers, BENCH_USSD_ANSWERS (10) invalid answers before '1',
#   BENCH_USSD_RATES ("2500 3000 3500 4000 5000 6000 8000 10000"), USSD_RESPONDER=CMD: drive
#   another USSD application instead of loyaltygw (CMD PORT is run; used to validate the tool).
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_USSD_N:-5000}
K=${BENCH_USSD_ANSWERS:-10}
RATES=${BENCH_USSD_RATES:-"2500 3000 3500 4000 5000 6000 8000 10000"}
T=$(mktemp -d /tmp/lgw-ussd-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }

INPUTS=$(printf '9,%.0s' $(seq "$K"))1
HOPS=$(( N * (K + 2) ))

cp "$SRC"/deploy/*.json "$T/"
if [ -z "${USSD_RESPONDER:-}" ] &&
   [ -z "$("$B/gateway/loyaltygw" --print-config --config "$T/loyaltygw.json" 2>/dev/null |
           jq -r '.ussd.menus_file // empty' 2>/dev/null)" ]; then
  echo "ussd bench: this loyaltygw build has no USSD configuration; skipped"
  exit 0
fi

redis-server "$SRC/deploy/redis.conf" --aclfile '' --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "ussd: $N subscribers x $((K + 2)) hops (dial, $K invalid answers, '1'), all $N dialogues open at once"
printf '%-12s %10s %9s %9s %9s %10s %10s %s\n' "offered/s" "hops/s" "p50 ms" "p99 ms" "max ms" \
  "open avg" "gw live" "ok/failed/timeouts"

# run_one RATE: one load at RATE hops/s against a fresh gateway; prints a row and sets P99 and ACHIEVED
run_one() {
  local rate=$1 gpid spid live=0
  rm -f "$T/sim.port" "$T/gw-stats.json"
  "$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/sim.port" --ussd-load "$N" \
    --ussd-concurrency "$N" --ussd-inputs "$INPUTS" --ussd-rate "$rate" --ussd-code-addr 555 \
    --ussd-timeout-ms 10000 --ussd-window 500 --timeout-s 600 --log-level notice \
    --summary "$T/sim.json" >/dev/null 2>"$T/sim.log" &
  spid=$!; PIDS+=($spid)
  for _ in $(seq 50); do [ -s "$T/sim.port" ] && break; sleep 0.1; done
  if [ -n "${USSD_RESPONDER:-}" ]; then
    $USSD_RESPONDER "$(cat "$T/sim.port")" >/dev/null 2>"$T/gw.log" &
  else
    jq --argjson port "$(cat "$T/sim.port")" --arg sock "$T/redis.sock" --arg stats "$T/gw-stats.json" \
      '.smpp.port = $port | .smpp.tps = 0 | .smpp.window = 200 | .redis.unix_socket = $sock
       | .log.level = "notice" | .metrics.stats_file = $stats | .metrics.interval_s = 1' \
      "$T/loyaltygw.json" >"$T/gw.json"
    "$B/gateway/loyaltygw" --config "$T/gw.json" 2>"$T/gw.log" &
  fi
  gpid=$!; PIDS+=($gpid)
  while kill -0 $spid 2>/dev/null; do
    # sessions the gateway holds live, sampled from its metrics file
    if [ -s "$T/gw-stats.json" ]; then
      local l; l=$(jq -r '.ussd.live // 0' "$T/gw-stats.json" 2>/dev/null || echo 0)
      [ "${l:-0}" -gt "$live" ] 2>/dev/null && live=$l
    fi
    sleep 0.5
  done
  wait $spid || true
  kill -TERM $gpid 2>/dev/null || true; wait $gpid 2>/dev/null || true
  if [ -n "${USSD_RESPONDER:-}" ]; then live="n/a"; fi
  jq -r --arg r "$rate" --arg live "$live" '.ussd_load | "\($r) \(.hops_per_s | floor) \(.hop_latency_ms.p50) \(.hop_latency_ms.p99) \(.hop_latency_ms.max) \(.open_avg | floor) \($live) \(.ok)/\(.failed)/\(.timeouts)"' \
    "$T/sim.json" | awk '{printf "%-12s %10s %9s %9s %9s %10s %10s %s\n", $1, $2, $3, $4, $5, $6, $7, $8}'
  P99=$(jq -r '.ussd_load.hop_latency_ms.p99' "$T/sim.json")
  ACHIEVED=$(jq -r '.ussd_load.hops_per_s | floor' "$T/sim.json")
  local hops; hops=$(jq -r '.ussd_load.hops' "$T/sim.json")
  [ "$hops" -eq "$HOPS" ] || echo "  (only $hops of $HOPS hops completed: see failed/timeouts)"
  rcli flushall >/dev/null
}

ok_at() { # rate: p99 within 5 ms and the offered rate kept up (95 %)
  awk -v p="$P99" 'BEGIN { exit !(p <= 5) }' && [ "$ACHIEVED" -ge $(( $1 * 95 / 100 )) ]
}
echo "-- 1. at 2,000 hops/s with $N live sessions"
run_one 2000
BEST=""
if ok_at 2000; then BEST=2000; fi
echo "-- 2. stepping the rate until p99 > 5 ms or the gateway falls behind"
for r in $RATES; do
  run_one "$r"
  if ! ok_at "$r"; then echo "  p99 $P99 ms, $ACHIEVED hops/s done of $r offered: stop"; break; fi
  BEST=$r
done
echo "highest offered rate with p99 <= 5 ms and kept up: ${BEST:-below 2000} hops/s"

#!/usr/bin/env bash
# Benchmarks (not tests: they print figures, they do not pass or fail on speed).
#   tests/bench/run.sh BUILD_DIR SRC_DIR      (or: cmake --build build --target bench)
# 1. Ingest throughput and deliver_sm -> deliver_sm_resp latency through the whole path
#    (simulator -> SMPP/TCP -> gateway -> Lua commit in Redis -> response), Redis with AOF
#    everysec (deploy/redis.conf) and with appendfsync always, for several SMSC windows.
# 2. Redis memory per subscriber after the run.
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_EVENTS:-100000}
SUBS=${BENCH_SUBSCRIBERS:-20000}
T=$(mktemp -d /tmp/lgw-bench.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "events per run: $N over $SUBS subscribers"
printf '%-22s %-7s %10s %9s %9s %9s\n' "redis persistence" window "events/s" "p50 ms" "p99 ms" "max ms"

run_one() { # fsync window
  local fsync=$1 window=$2
  redis-server "$SRC/deploy/redis.conf" --aclfile '' --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
    --appendfsync "$fsync" --daemonize no --logfile "$T/redis.log" &
  local rpid=$!; PIDS+=($rpid)
  for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
  rm -f "$T/sim.port"
  "$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/sim.port" --generate "$N" \
    --subscribers "$SUBS" --seed 1 --ref-prefix B --at now --window "$window" \
    --exit-when-done --timeout-s 300 --summary "$T/sim.json" >/dev/null 2>"$T/sim.log" &
  local spid=$!; PIDS+=($spid)
  for _ in $(seq 50); do [ -s "$T/sim.port" ] && break; sleep 0.1; done
  jq -n --argjson port "$(cat "$T/sim.port")" --arg sock "$T/redis.sock" '{
     smpp: {port: $port, system_id: "loyalty", password: "secret"},
     redis: {unix_socket: $sock}, log: {level: "notice"}}' >"$T/gw.json"
  "$B/gateway/loyaltygw" --config "$T/gw.json" 2>"$T/gw.log" &
  local gpid=$!; PIDS+=($gpid)
  wait $spid || true
  jq -r --arg f "appendfsync $fsync" --arg w "$window" \
    '"\($f|.[0:22]) \($w) \(.events / (.delivery_ms / 1000) | floor) \(.latency_ms.p50) \(.latency_ms.p99) \(.latency_ms.max)"' \
    "$T/sim.json" | awk '{printf "%-22s %-7s %10s %9s %9s %9s\n", $1" "$2, $3, $4, $5, $6, $7}'
  if [ "$fsync" = everysec ] && [ "$window" = 100 ]; then
    local mem subs
    mem=$(rcli info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
    subs=$(rcli dbsize)
    MEMLINE="redis used_memory after the run: $mem bytes for $subs keys ($SUBS subscribers, $N events): $(( mem / SUBS )) bytes per subscriber (wallet + refs + history)"
  fi
  kill -TERM $gpid; wait $gpid 2>/dev/null || true
  kill $rpid; wait $rpid 2>/dev/null || true
  rm -rf "$T"/appendonly* "$T"/*.rdb
}

MEMLINE=""
for w in 10 100 500; do run_one everysec $w; done
for w in 100 500; do run_one always $w; done
echo "$MEMLINE"

# 3. Gift-day rush (tests/bench/bench_redeem.c): 100,000 redemption attempts by 50,000
#    subscribers, one hot item (stock 1,000) and ten ordinary items, Redis with AOF everysec;
#    exact grant counts, attempts/s, p50/p99 of the confirm step, for several requests in flight.
for inflight in 32 128; do
  redis-server "$SRC/deploy/redis.conf" --aclfile '' --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
    --appendfsync everysec --daemonize no --logfile "$T/redis.log" &
  rpid=$!; PIDS+=($rpid)
  for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "gift-day rush, $inflight redemptions in flight:"
  "$B/tests/bench_redeem" "$T/redis.sock" "$inflight" | sed 's/^/  /'
  kill $rpid; wait $rpid 2>/dev/null || true
  rm -f "$T"/appendonly* "$T"/*.rdb; rm -rf "$T/appendonlydir"
done

# 3b. The gift-day opening: first come first served vs staggered (issue 12), attempts per minute.
bash "$(dirname "$0")/opening_bench.sh" "$B" "$SRC"

# 4. USSD hop latency at 2,000 hops/s with 5,000 live sessions, and the highest rate with
#    p99 <= 5 ms (tests/bench/ussd_bench.sh, smsc-sim --ussd-load).
bash "$(dirname "$0")/ussd_bench.sh" "$B" "$SRC"

# 5. The ledger at scale (tests/bench/ledger_gw.sh, issue 9): BENCH_LEDGER_SUBS subscribers x 5
#    events (default 1,000,000) loaded through the gateway over SMPP with the shipped config;
#    bytes per subscriber, per key and per further ref, and the SMPP path's events/s against the
#    raw commit script (the gateway's keys and arguments, the same config) in the same run, like
#    for like: 2 pairs of sides (BENCH_PAIRS), each the same events on a Redis grown to the same
#    size, Redis and the clients on cores of their own; the memory figures are the last pair's
#    SMPP load (at 1,000,000: 4 x 5,000,000 events; BENCH_PART=memory for the memory alone).
#    (tests/bench/ledger.sh: the same through gw_ledger directly, with the busy-subscriber figure.)
echo "ledger at scale:"
bash "$(dirname "$0")/ledger_gw.sh" "$B" "$SRC" "${BENCH_LEDGER_SUBS:-1000000}" | sed 's/^/  /'

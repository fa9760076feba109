#!/usr/bin/env bash
# Benchmark of the observability endpoints: figures, not a test (nothing fails on speed).
# Owner: the operations engineer (issue 11).
#   tests/bench/metrics.sh BUILD_DIR SRC_DIR
# A gateway bound to smsc-sim with USSD, a Redis on a unix socket, metrics.listen on loopback.
# 1. The exposition's size (series, bytes) after 20,000 events.
# 2. The cost of one GET /metrics against GET /health on the same keep-alive connection:
#    farm-bench times curl fetching each URL 2,000 times (-K: one connection), /metrics vs
#    /health run in turn; (A - B) / 2,000 is the cost of writing the exposition.
# 3. Ingest throughput with and without metrics.listen + the write probe (20,000 events,
#    window 50, the simulator's events/s), to show the instrumentation costs nothing measurable.
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_SCRAPES:-2000}
EVENTS=${BENCH_EVENTS:-20000}
T=$(mktemp -d /tmp/lgw-bench-metrics.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save '' --appendonly no \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done

run_day() { # name listen: one gateway + a simulator sending $EVENTS events; prints events/s
  local name=$1 listen=$2
  rm -f "$T/$name.port"
  "$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/$name.port" --generate "$EVENTS" \
    --subscribers 5000 --ref-prefix "$name" --window 50 --exit-when-done --timeout-s 120 \
    --summary "$T/$name.json" >/dev/null 2>"$T/$name.sim.log" &
  local sim=$!
  for _ in $(seq 50); do [ -s "$T/$name.port" ] && break; sleep 0.1; done
  jq -n --arg sock "$T/redis.sock" --argjson port "$(cat "$T/$name.port")" --arg l "$listen" \
    --arg menus "$SRC/deploy/ussd-menus.json" '{
      smpp: {name: "SIM", host: "127.0.0.1", port: $port, window: 50},
      redis: {unix_socket: $sock}, log: {level: "notice"},
      events: {senders: ["LOYALTY"], country_prefixes: ["212"], currency: "MAD"},
      loyalty: {timezone: "Africa/Casablanca", rates: {TOPUP: {points: 1, per: 10}}},
      ussd: {menus_file: $menus}, metrics: {listen: $l}}' >"$T/$name.gw.json"
  "$B/gateway/loyaltygw" --config "$T/$name.gw.json" 2>"$T/$name.gw.log" &
  GW=$!
  PIDS+=($GW)
  wait $sim || true
  jq -r '"\(.final.ESME_ROK) acknowledged, \((.events * 1000 / .delivery_ms) | floor) events/s, latency p50 \(.latency_ms.p50) ms p99 \(.latency_ms.p99) ms"' "$T/$name.json"
}

ROUNDS=${BENCH_ROUNDS:-3}
for r in $(seq "$ROUNDS"); do # alternated, so a noisy neighbour hits both alike
  echo "== round $r: ingest of $EVENTS events, window 50, without metrics.listen"
  run_day "plain$r" ""
  kill $GW; wait $GW 2>/dev/null || true
  echo "== round $r: the same with metrics.listen and the write probe"
  run_day "observed$r" "127.0.0.1:0"
  [ "$r" = "$ROUNDS" ] || { kill $GW; wait $GW 2>/dev/null || true; }
done
PORT=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' "$T/observed$ROUNDS.gw.log")
curl -s "http://127.0.0.1:$PORT/metrics" >"$T/metrics.txt"
echo "exposition: $(grep -vc '^#' "$T/metrics.txt") series, $(wc -c <"$T/metrics.txt") bytes"
for u in metrics health; do
  for _ in $(seq "$N"); do echo "url = \"http://127.0.0.1:$PORT/$u\""; echo "output = /dev/null"; done >"$T/$u.curl"
done
echo "== $N scrapes of /metrics vs $N of /health, one keep-alive connection each run"
farm-bench -n 5 --vs "curl -s -K $T/health.curl" -- curl -s -K "$T/metrics.curl"

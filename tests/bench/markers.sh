#!/usr/bin/env bash
# Benchmark: the sweep of retired campaigns' markers (gateway/gw_campaign_marks.c) on one Redis.
# Figures, not a test. N wallets holding c:old (retired) and c:live, and N other keys; a gateway
# with campaigns.enabled sweeps them with SCAN COUNT <batch> a page every <interval> ms. Prints
# the pass's wall time, its pages (SCAN calls), wallets per second, and Redis's CPU for the pass
# (INFO cpu, user + sys) per 1,000 wallets - what a pass costs the server whatever its pace.
#   tests/bench/markers.sh BUILD_DIR SRC_DIR [N=200000] [BATCH=500] [INTERVAL_MS=10]
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
B=${1:-build}; SRC=${2:-.}; N=${3:-200000}; BATCH=${4:-500}; IV=${5:-10}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
T=$(mktemp -d /tmp/lgw-bench-markers.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }
cpu() { rcli info cpu | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {printf "%.3f", s}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save '' --appendonly no \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
  m = sprintf("2126%08d", i)
  printf "HSET lg:{%s}:w bal 5 since 1 c:old 1 c:live 1\r\nSET lg:{%s}:g x\r\n", m, m } }' |
  rcli --pipe >/dev/null
echo "keys: $(rcli dbsize) ($N wallets, $N others)"
TODAY=$(TZ=Africa/Casablanca date +%F)
DOC=$(jq -n -c --arg t "$TODAY" --arg s "$(date -d "$TODAY -1 day" +%F)" \
  --arg e "$(date -d "$TODAY +1 year" +%F)" '{version: "bench", campaigns: [
  {id: "live", rule: "welcome", start: $s, end: $e, budget: 10, points: 1}],
  retired: [{id: "old", day: $t}]}')
rcli hset 'cfg:{adm}:campaigns' doc "$DOC" version 1 >/dev/null

jq -n --arg sock "$T/redis.sock" --argjson b "$BATCH" --argjson iv "$IV" '{
  smpp: {host: "127.0.0.1", port: 1, reconnect_min_ms: 1000, reconnect_max_ms: 5000},
  redis: {unix_socket: $sock, request_timeout_ms: 5000}, log: {level: "notice"},
  events: {senders: ["LOYALTY"], country_prefixes: ["212"], currency: "MAD"},
  loyalty: {timezone: "Africa/Casablanca", tiers: [{name: "standard", min_points: 0,
    multiplier_pct: 100}]},
  campaigns: {enabled: true, marker_sweep_batch: $b, marker_sweep_interval_ms: $iv,
    marker_sweep_grace_s: 0}}' >"$T/gw.json"
rcli config resetstat >/dev/null
C0=$(cpu)
S0=$(date +%s%3N)
"$B/gateway/loyaltygw" --config "$T/gw.json" >"$T/gw.out" 2>"$T/gw.log" &
PIDS+=($!)
for _ in $(seq 36000); do
  grep -q 'marker sweep of old done' "$T/gw.log" && break
  sleep 0.1
done
S1=$(date +%s%3N)
C1=$(cpu)
grep 'marker sweep of old done' "$T/gw.log" | sed 's/^/# /' || { echo "the pass did not end"; exit 1; }
PAGES=$(rcli info commandstats | awk -F'[=,:]' '/^cmdstat_scan:/ {print $3}')
LEFT=$(rcli --scan --pattern 'lg:{*}:w' | awk 'NR <= 2000' | while read -r k; do rcli hexists "$k" c:old; done |
  awk '{s += $1} END {print s + 0}')
awk -v n="$N" -v ms=$((S1 - S0)) -v c0="$C0" -v c1="$C1" -v pages="$PAGES" -v b="$BATCH" \
  -v iv="$IV" -v left="$LEFT" 'BEGIN {
  printf "batch %d, interval %d ms: %d wallets in %.1f s (gateway start included), %d pages (SCAN), %.0f wallets/s\n", b, iv, n, ms / 1000, pages, n / (ms / 1000)
  printf "Redis CPU for the pass: %.2f s = %.2f ms per 1,000 wallets; c:old left in 2,000 wallets looked at: %d\n", c1 - c0, (c1 - c0) * 1e6 / n, left }'

#!/usr/bin/env bash
# Benchmark of the web console's server side (loyalty-admin --static): figures, not a test.
# Owner: the staff-console engineer.
#   tests/bench/console.sh BUILD_DIR SRC_DIR
# Data: the real redemption engine's integration driver (tests/it_redeem: ~1,200 subscribers,
# redemption keys and the fulfilment stream) in a private redis-server on a unix socket, plus
# BENCH_WALLETS (default 20,000) extra wallets with 20 history lines each (written with redis-cli
# --pipe, the format commit.lua writes). Measures, with curl:
#   1. GET /app.js (static file, 40 KB) x 500, sequential
#   2. GET /api/board?day=<it_redeem's gift day, the last Wednesday> x 100, sequential (catalogue of 3 items incl. RUSH/REF)
#   3. the full report: GET /api/reports/wallets pages of 2,000 until cursor 0, 3 times
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
W=${BENCH_WALLETS:-20000}
T=$(mktemp -d /tmp/lgw-bench-console.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }
now_ms() { date +%s%3N; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save '' --appendonly no \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
LGW_REDIS_SOCK="$T/redis.sock" "$B/tests/it_redeem" >/dev/null 2>&1 || echo "(it_redeem failed: no redemption data)"
now=$(date +%s)
GIFT_DATE=$(TZ=Africa/Casablanca date -d 'last wednesday' +%F) # it_redeem's gift day
LOT=$(TZ=Africa/Casablanca date -d yesterday +%Y%m%d)
awk -v w="$W" -v now="$now" -v lot="$LOT" 'BEGIN {
  for (i = 0; i < w; i++) {
    m = 212700000000 + i
    printf "HSET lg:{%.0f}:w bal %d life %d tier standard l:%s %d\n", m, i % 500, i % 500, lot, i % 500
    for (k = 0; k < 20; k++)
      printf "LPUSH lg:{%.0f}:h %d|TOPUP|OCS-%d-%d|+%d|%d|TOPUP 1pt/10MAD\n", m, now - k * 3600, i, k, k, k
  }}' | rcli --pipe >/dev/null
jq -n --arg sock "$T/redis.sock" '{redis: {unix_socket: $sock}, log: {level: "error"},
  loyalty: {timezone: "Africa/Casablanca"}}' >"$T/gw.json"
echo 'bench-password-1' | "$B/admin/loyalty-admin" --config "$T/gw.json" --add-user bench --role marketing >/dev/null
"$B/admin/loyalty-admin" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/port" \
  --static "$SRC/admin/web" 2>"$T/adm.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
U="http://127.0.0.1:$(cat "$T/port")"
sleep 0.5
TOK=$(curl -s -X POST -H 'Content-Type: application/json' -d '{"user":"bench","password":"bench-password-1"}' "$U/api/login" | jq -r .token)
ITEM=$(jq -c '.items[0]' "$SRC/deploy/catalog.json")
CAT=$(jq -c --argjson it "$ITEM" '{version: "b1", items: [$it, ($it | .id = "RUSH"), ($it | .id = "REF")]}' <<<'{}')
curl -s -o /dev/null -X PUT -H "Authorization: Bearer $TOK" -H 'Content-Type: application/json' \
  --data-binary "{\"version\":0,\"document\":$CAT}" "$U/api/catalog"
echo "wallets in Redis: $(rcli --scan --pattern 'lg:{*}:w' | grep -c .)"

stats() { sort -n | awk '{a[NR] = $1 * 1000} END {printf "n=%d p50=%.2f ms p99=%.2f ms max=%.2f ms\n", NR, a[int(NR*0.5)+1], a[int(NR*0.99)+1], a[NR]}'; }
for _ in $(seq 500); do curl -s -o /dev/null -w '%{time_total}\n' "$U/app.js"; done | stats | sed 's/^/static app.js: /'
for _ in $(seq 100); do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOK" "$U/api/board?day=$GIFT_DATE"; done | stats | sed 's/^/board: /'
for run in 1 2 3; do
  t0=$(now_ms); cursor=0; pages=0; wallets=0
  while :; do
    curl -s -H "Authorization: Bearer $TOK" "$U/api/reports/wallets?count=2000&cursor=$cursor" >"$T/p.json"
    pages=$((pages + 1)); wallets=$((wallets + $(jq .wallets "$T/p.json")))
    [ "$(jq -r .done "$T/p.json")" = true ] && break
    cursor=$(jq -r .cursor "$T/p.json")
  done
  t1=$(now_ms)
  echo "full report run $run: $wallets wallets in $pages pages, $((t1 - t0)) ms ($((wallets * 1000 / (t1 - t0 + 1))) wallets/s)"
done

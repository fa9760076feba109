#!/usr/bin/env bash
# Benchmark of the staff console's API (loyalty-admin): figures, not a test (nothing fails on
# speed). Owner: the staff-console engineer.
#   tests/bench/admin.sh BUILD_DIR SRC_DIR
# 1. Login cost: sequential logins (one yescrypt verification each, the admin's deliberate CPU
#    cost; the loop serves nothing else meanwhile).
# 2. GET /api/subscribers/{m} with 50 concurrent connections (curl --parallel): wallet + history
#    of 1,000 subscribers with 20 history entries each, Redis on a unix socket.
# 3. POST .../adjust (Lua on the subscriber's slot + the audit XADD), 50 in parallel.
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_REQUESTS:-5000}
LOGINS=${BENCH_LOGINS:-50}
T=$(mktemp -d /tmp/lgw-bench-adm.XXXXXX)
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
jq -n --arg sock "$T/redis.sock" '{redis: {unix_socket: $sock}, log: {level: "error"},
  loyalty: {timezone: "Africa/Casablanca"}}' >"$T/gw.json"

# 1,000 wallets with 20 history entries each, written directly (the shape commit.lua writes),
# enrolled and earning 10 days ago (dates from the real clock, never literals).
SINCE=$(($(date +%s) - 10 * 86400))
LOT=l:$(TZ=Africa/Casablanca date -d '-10 days' +%Y%m%d)
for i in $(seq 1000); do
  m=$((212600000000 + i))
  echo "HSET lg:{$m}:w bal 500 life 500 rem 0 tier standard since $SINCE $LOT 500"
  for h in $(seq 20); do
    echo "LPUSH lg:{$m}:h $SINCE|TOPUP|OCS-$m-$h|+25|$((h * 25))|TOPUP 1/10 MAD"
  done
done | rcli >/dev/null

echo 'bench-password-1' | "$B/admin/loyalty-admin" --config "$T/gw.json" --add-user care1 --role care >/dev/null
"$B/admin/loyalty-admin" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/port" \
  --login-per-min 1000 2>"$T/adm.log" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$(cat "$T/port")"
sleep 0.3

t0=$(now_ms)
for _ in $(seq "$LOGINS"); do
  TOK=$(curl -s -X POST -H 'Content-Type: application/json' \
    --data '{"user":"care1","password":"bench-password-1"}' "$URL/api/login" | jq -r .token)
done
t1=$(now_ms)
echo "login (yescrypt verify + session): $LOGINS sequential in $((t1 - t0)) ms = $(( (t1 - t0) * 1000 / LOGINS )) us each"

: >"$T/urls"
for i in $(seq "$N"); do
  printf 'url = "%s/api/subscribers/%s"\noutput = "/dev/null"\n' "$URL" $((212600000000 + (i % 1000) + 1)) >>"$T/urls"
done
t0=$(now_ms)
curl -s --no-progress-meter --parallel --parallel-max 50 -H "Authorization: Bearer $TOK" -K "$T/urls" \
  -w '%{http_code}\n' >"$T/codes"
t1=$(now_ms)
ok=$(grep -c '^200$' "$T/codes" || true)
echo "GET /api/subscribers/{m}: $N requests ($ok x 200), 50 in parallel, $((t1 - t0)) ms = $(( N * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) )) req/s"

: >"$T/adj"
# "next" separates transfers in a curl config: without it every body would go to every URL.
for i in $(seq "$N"); do
  [ "$i" = 1 ] || echo next >>"$T/adj"
  printf 'url = "%s/api/subscribers/%s/adjust"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
    "$URL" $((212600000000 + (i % 1000) + 1)) >>"$T/adj"
  printf 'header = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\n' "$TOK" >>"$T/adj"
  printf 'data = "{\\"points\\":1,\\"reason\\":\\"bench\\",\\"request_id\\":\\"b%s\\"}"\n' "$i" >>"$T/adj"
done
t0=$(now_ms)
curl -s --no-progress-meter --parallel --parallel-max 50 -K "$T/adj" >"$T/codes"
t1=$(now_ms)
ok=$(grep -c '^200$' "$T/codes" || true)
echo "POST .../adjust: $N requests ($ok x 200), 50 in parallel, $((t1 - t0)) ms = $(( N * 1000 / (t1 - t0 > 0 ? t1 - t0 : 1) )) req/s"
echo "audit records: $(rcli xlen 'adm:{adm}:audit')"

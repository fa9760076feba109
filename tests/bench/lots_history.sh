#!/usr/bin/env bash
# A commit's cost against the subscriber's history of lots (issue 9 section 4: every commit O(1)
# whatever the history). WALLETS wallets, each seeded with a field L of LOTS daily lots of 5
# points (the days before today; 0 = fresh wallets), then COMMITS TOPUPs through
# redis-benchmark (16 in flight): EVALSHA commit.lua with the arguments of a programme whose
# points never expire (no validity: the gateway's "U"), one wallet of the WALLETS at random per
# commit. Prints redis-benchmark's rate and Redis's own CPU (user + system) per call.
# LOTS_FOLDED=1: the same history as this release keeps it when points never expire (the undated
# lot and the 3 newest days: core/lua/wallet_lots.lua) instead of one record a day as the
# release before kept it (which this release folds on the first commit, once).
# SCRIPT (optional): another commit.lua, e.g. main's (git show main:gateway/lua/commit.lua >
# /tmp/main_commit.lua), called without "U" (a script that does not know it).
#   tests/bench/lots_history.sh BUILD_DIR SRC_DIR LOTS [COMMITS (20000)] [WALLETS (1000)] [SCRIPT]
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
LOTS=${3:-0}; N=${4:-20000}; WALLETS=${5:-1000}; SCRIPT=${6:-}
T=$(mktemp -d /tmp/lgw-bench-lots.XXXXXX)
source "$SRC/tests/bench/bench_redis.sh"
r() { redis-cli -s "$T/redis.sock" "$@"; }
NOW=$(date +%s) TODAY=$(date -u +%Y%m%d)
# the wallets redis-benchmark names: lg:{<12 digits, zero-padded>}:w for 0 .. WALLETS - 1
r eval "local function VARINT_OF(v)
    local o = {}
    repeat local b = v % 128 v = (v - b) / 128 o[#o + 1] = string.char(v > 0 and b + 128 or b) until v == 0
    return table.concat(o)
  end
  local z0 = math.floor(tonumber(ARGV[2]) / 86400) - tonumber(ARGV[1])
  local rec, k0 = {}, 0
  if ARGV[4] == '1' and tonumber(ARGV[1]) > 3 then
    k0 = tonumber(ARGV[1]) - 3
    rec[1] = string.char(0, 0) .. VARINT_OF(5 * k0)
  end
  for k = k0, tonumber(ARGV[1]) - 1 do
    local z = z0 + k
    rec[#rec + 1] = string.char(math.floor(z / 256), z % 256, 5)
  end
  local L, bal = table.concat(rec), string.format('%d', 5 * tonumber(ARGV[1]))
  for i = 0, tonumber(ARGV[3]) - 1 do
    local k = string.format('lg:{%012d}:w', i)
    redis.call('HSET', k, 'bal', bal, 'life', bal, 'tier', 'standard', 'since', ARGV[2])
    if #L > 0 then redis.call('HSET', k, 'L', L) end
  end" 0 "$LOTS" "$NOW" "$WALLETS" "${LOTS_FOLDED:-0}" >/dev/null
mode=(U)
if [ -n "$SCRIPT" ]; then SHA=$(r script load "$(cat "$SCRIPT")"); mode=(); else
  SHA=$(r script load "$(cat "$B/gateway/lua/commit.lua")"); fi
echo "  L before: $(r hstrlen 'lg:{000000000000}:w' L) bytes ($LOTS lots)"
c0=$(bench_redis_cpu)
redis-benchmark -s "$T/redis.sock" -c 16 -n "$N" -r "$WALLETS" -q \
  EVALSHA "$SHA" 1 'lg:{__rand_int__}:w' E "R__rand_int__${RANDOM}__rand_int__" TOPUP "$NOW" "$NOW" \
  "$TODAY" 5 0 1 0 2678400 20 0 '' 100000 1 standard 0 100 0 12 30 "$TODAY" "${mode[@]}" |
  tr '\r' '\n' | grep -v '^ *$' | tail -1
c1=$(bench_redis_cpu)
awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$N" \
  'BEGIN {printf "  Redis CPU (user + system) %.0f ms for %d calls: %.1f us per call\n", c * 1000 / hz, n, c * 1e6 / hz / n}'
echo "  L after: $(r hstrlen 'lg:{000000000000}:w' L) bytes; balance $(r hget 'lg:{000000000000}:w' bal)"
r shutdown nosave >/dev/null 2>&1 || true
wait "$RPID" 2>/dev/null || true
RPID=

#!/usr/bin/env bash
# What one redemption costs a member's Redis memory (issue 9 §4; docs/data-model.md section 2):
# N typical-month wallets (the fields tests/bench/ledger_gw.sh finds in a real one: bal life tier
# since cp rc rl rn xd, E of 5 records, 5 lots in L, two months in M) written by one Lua loop
# into a Redis with deploy/redis.conf, then one redemption each by the given sub.lua (the text
# the build embeds: the prelude, then the script), as catalog/cat_redeem.c calls it (without the
# slot's aggregates: they are per slot and day, not per member). Prints the used_memory delta per
# wallet of the redemptions and a sample member's MEMORY USAGE of the wallet, the history list
# lg:{M}:h and the redemption records lg:{M}:g.
#   tests/bench/history_kinds.sh SUB_LUA [N (default 20000)] [SRC_DIR (.)]
# SUB_LUA: $LGW_BIN/catalog/lua/sub.lua (this release: E and the rule dictionary; its text id is
# registered once by core/lua/rule.lua, as the redemption engine does) or the release before's
# text (it writes the list), e.g. built from git show main:... of varint.lua, wallet_lots.lua
# and sub.lua, concatenated with a newline after each prelude file.
set -euo pipefail
SUB=$1; N=${2:-20000}; SRC=$(cd "${3:-.}" && pwd)
T=$(mktemp -d /tmp/lgw-bench-hist.XXXXXX)
r() { redis-cli -s "$T/redis.sock" "$@"; }
cleanup() { r shutdown nosave >/dev/null 2>&1 || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
grep -v '^aclfile' "$SRC/deploy/redis.conf" >"$T/redis.conf"
redis-server "$T/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" --appendonly no \
  --save '' --daemonize no --logfile "$T/redis.log" &
for _ in $(seq 50); do r ping >/dev/null 2>&1 && break; sleep 0.1; done
mem() { r info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
echo "command: $0 $*"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(redis-server --version | cut -d' ' -f3), $N wallets"
LOAD='
local from, n, now, xd, today = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local function rb(k) local t = {} for i = 1, k do t[i] = string.char(math.random(0, 255)) end return table.concat(t) end
for i = from, from + n - 1 do
  local m = string.format("2126%08d", i)
  local L = ""
  for k, p in ipairs({14, 10 + i % 5, 4, 2, 14}) do L = L .. struct.pack(">I2", today - 34 + 6 * k) .. string.char(p) end
  redis.call("HSET", "lg:{" .. m .. "}:w", "bal", 40 + i % 50, "life", 40 + i % 50, "tier", "standard",
    "since", now - i % 1000, "cp", 1420790 + i % 9, "rc", 3, "rl", now - 4 * 86400 - i % 1000,
    "rn", 376600 + i % 1000, "E", rb(80), "xd", xd, "L", L, "M", rb(12))
end
return n'
now=$(date -u +%s); day=$(date -u +%Y%m%d)
r flushall >/dev/null
for ((f = 0; f < N; f += 10000)); do
  r eval "$LOAD" 0 "$f" $(( N - f < 10000 ? N - f : 10000 )) "$now" \
    "$(date -u -d "@$(( now + 300 * 86400 ))" +%Y%m%d)" $(( now / 86400 )) >/dev/null
done
s="lg:{2126$(printf %08d $(( N / 2 )))}"
w0=$(r memory usage "$s:w" samples 0)
sha=$(r script load "$(cat "$SUB")")
rule=""
if grep -q 'hist_add' "$SUB"; then
  rule="rule=$(r eval "$(cat "$SRC/core/lua/rule.lua")" 1 lg:rules 'gift DATA_1GB (catalogue sample.1)')"
fi
# one EVALSHA per member, as the redemption engine sends them (a script cannot call another)
for ((i = 0; i < N; i++)); do
  k="lg:{2126$(printf %08d "$i")}:"
  echo "EVALSHA $sha 3 ${k}w ${k}h ${k}g DEBIT 2126$(printf %08d "$i"):DATA_1GB:$day:b$i $now 50 7776000 20 sample.1 0 \"\" \"\" 0 1 standard 0 0 $rule"
done >"$T/debits"
m0=$(mem)
r <"$T/debits" >"$T/debits.out"
paid=$(grep -c '^paid$' "$T/debits.out" || true)
[ "$paid" = "$N" ] || { echo "redemptions paid: $paid of $N ($(grep -v '^paid$\|^[0-9-]*$' "$T/debits.out" | head -2))" >&2; exit 1; }
m1=$(mem)
usage() { local u; u=$(r memory usage "$1" samples 0); echo "${u:-0}"; }
w1=$(usage "$s:w"); h1=$(usage "$s:h"); g1=$(usage "$s:g")
printf 'one redemption each: +%d B per member all-in (used_memory delta / %d)\n' $(( (m1 - m0) / N )) "$N"
printf '%s: wallet %s B before, %s B after (%s, E %s B, N %s B); list lg:{M}:h %s B; records lg:{M}:g %s B\n' \
  "$s" "$w0" "$w1" "$(r object encoding "$s:w")" "$(r hstrlen "$s:w" E)" "$(r hstrlen "$s:w" N)" "$h1" "$g1"
printf 'wallet + list: %d B before the redemption, %d B after (+ %s B of redemption records, both layouts)\n' \
  "$w0" $(( w1 + h1 )) "$g1"

#!/usr/bin/env bash
# What a typical-month wallet would cost in other layouts (issue 9 §4; docs/data-model.md section
# 8): N synthetic wallets per layout written by one Lua loop into a Redis with deploy/redis.conf,
# the used_memory delta / N and a sample key's MEMORY USAGE. Not the ledger: the fields are the
# ones a typical month leaves (tests/bench/ledger_gw.sh prints a real wallet's: bal life tier
# since cp rc rl rn, two activity months, E of 5 records, 5 lots, xd), with binary parts random
# bytes of the size each packing would give. It answers "how many bytes would layout X save"
# before anyone rewrites the readers.
#   tests/bench/wallet_layouts.sh [N (default 1000000)] [SRC_DIR (.)]
# Environment: LAYOUTS (all of them), BUCKETS (layout "bucket": number of shared hashes, 4096).
# Layouts:
#   fields      today's: 16-17 fields, a lot per field l:YYYYMMDD, months m:YYYYMM "earned,spend"
#   lots6       the lots as one field L of 6-byte records (u16 day + u32 points): 30 B
#   lotsvar     the lots as one field L of u16 day + a varint of points: 15 B for 5 small lots
#   lots6months lots6 + the two months as one field M of 13-byte records: 26 B
#   lotsvarmonthsvar  lotsvar + M of u16 month + varint earned + varint spend: 12 B
#   packed      all scalars, lots and months in one field W (93 B) + E: 2 fields
#   string      W and E as one plain string per subscriber (no hash)
#   bucket      W and E as one value in a hash shared by N/BUCKETS subscribers (field = MSISDN)
set -euo pipefail
N=${1:-1000000}; SRC=$(cd "${2:-.}" && pwd); B=${BUCKETS:-4096}
T=$(mktemp -d /tmp/lgw-bench-layouts.XXXXXX)
r() { redis-cli -s "$T/redis.sock" "$@"; }
cleanup() { r shutdown nosave >/dev/null 2>&1 || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
grep -v '^aclfile' "$SRC/deploy/redis.conf" >"$T/redis.conf"
# DEBUG LISTPACK (local only: this bench's own Redis) prints a listpack on the server's stdout
stdbuf -o0 redis-server "$T/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
  --appendonly no --save '' --daemonize no --logfile "$T/redis.log" --enable-debug-command local \
  >"$T/redis.out" &
for _ in $(seq 50); do r ping >/dev/null 2>&1 && break; sleep 0.1; done
mem() { r info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
echo "command: $0 $*"
echo "machine: $(nproc) cores, $(redis-server --version | cut -d' ' -f3), $N wallets per layout, $B buckets"
LOAD='
local layout, from, n, buckets = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now, xd, l1, l2, l3, l4, l5, m1, m2 = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13]
local function rb(k) local t = {} for i = 1, k do t[i] = string.char(math.random(0, 255)) end return table.concat(t) end
for i = from, from + n - 1 do
  local m = string.format("2126%08d", i)
  local kw, E = "lg:{" .. m .. "}:w", rb(80)
  local head = {"bal", 40 + i % 50, "life", 40 + i % 50, "tier", "standard", "since", now - i % 1000,
    "cp", 1420790 + i % 9, "rc", 3, "rl", now - 4 * 86400 - i % 1000, "rn", 376600 + i % 1000, "E", E, "xd", xd}
  local function hset(...)
    local a = {kw}
    for _, v in ipairs(head) do a[#a + 1] = v end
    for _, v in ipairs({...}) do a[#a + 1] = v end
    redis.call("HSET", unpack(a))
  end
  local months = {"m:" .. m1, "30,476180", "m:" .. m2, "14,137270"}
  if layout == "fields" then
    hset("l:" .. l1, 14, "l:" .. l2, 10 + i % 5, "l:" .. l3, 4, "l:" .. l4, 2, "l:" .. l5, 14, unpack(months))
  elseif layout == "lots6" then hset("L", rb(30), unpack(months))
  elseif layout == "lotsvar" then hset("L", rb(15), unpack(months))
  elseif layout == "lots6months" then hset("L", rb(30), "M", rb(26))
  elseif layout == "lotsvarmonthsvar" then hset("L", rb(15), "M", rb(12))
  elseif layout == "packed" then redis.call("HSET", kw, "W", rb(93), "E", E)
  elseif layout == "string" then redis.call("SET", kw, rb(93) .. E)
  elseif layout == "bucket" then redis.call("HSET", "lg:wb:{b" .. (i % buckets) .. "}", m, rb(93) .. E)
  end
end
return n'
# the dates of a month that ends today: lots on 5 days of the last 28, two calendar months
now=$(date -u +%s); days=()
for k in 28 22 16 10 4; do days+=("$(date -u -d "@$(( now - k * 86400 ))" +%Y%m%d)"); done
DATES=("$now" "$(date -u -d "@$(( now + 300 * 86400 ))" +%Y%m%d)" "${days[@]}"
       "$(date -u -d "@$(( now - 28 * 86400 ))" +%Y%m)" "$(date -u -d "@$now" +%Y%m)")
for layout in ${LAYOUTS:-fields lots6 lotsvar lots6months lotsvarmonthsvar packed string bucket}; do
  r flushall >/dev/null; sleep 0.2; m0=$(mem)
  for ((f = 0; f < N; f += 20000)); do
    r eval "$LOAD" 0 "$layout" "$f" $(( N - f < 20000 ? N - f : 20000 )) "$B" "${DATES[@]}" >/dev/null
  done
  m1=$(mem)
  s="lg:{2126$(printf %08d 12345)}:w"; [ "$layout" = bucket ] && s="lg:wb:{b$((12345 % B))}"
  lp=-; if [ "$(r object encoding "$s")" = listpack ]; then
    r debug listpack "$s" >/dev/null; sleep 0.2
    lp=$(awk '/^\{total bytes/ {v = $3} END {sub(/[^0-9]+$/, "", v); print v}' "$T/redis.out"); fi
  printf '  %-18s %4d B per wallet all-in (used_memory delta / %d); %s: MEMORY USAGE %s B, %s of %s B\n' \
    "$layout" $(( (m1 - m0) / N )) "$N" "$s" "$(r memory usage "$s" samples 0)" "$(r object encoding "$s")" "$lp"
done

#!/usr/bin/env bash
# The wallet's lots as the packed field L (docs/data-model.md section 1): the shared Lua codec
# (core/lua/wallet_lots.lua, the prelude of every script that touches lots) run in a real Redis,
# and the C decoder (gateway/gw_lots.c) reading what it wrote through `loyaltyctl show`.
#   - records u16 day + LEB128 varint of the points, one per day, oldest first: the exact bytes
#     (as lots_pack of lib.sh writes them); a credit of a newer day appends, of the newest adds in
#     place, of an older day inserts in order
#   - a lot of 10^12 points (the balance bound): a 6-byte varint, read back by both sides
#   - the lot fields l:YYYYMMDD of the release before merged (same day: summed) and folded
#   - corrupt fields (truncated, a varint truncated, too long or too large, zero points, days
#     out of order or repeated; an old field's day L cannot hold) refused
#   - points that never expire: the lots folded into the undated lot but the 3 newest (L bounded
#     whatever the history); a credit of a script that does not know the validity goes to the
#     undated lot; a validity configured later dates it on the day a script first sees it
#   - staff adjustments remember their request ids in E, not in the field R
#   - property: over long random sequences of earnings, redemptions, reversals and expiry passes
#     through the real scripts (commit.lua, catalog's sub.lua, expire.lua), with and without a
#     validity, the balance equals the sum of the lots after every step, and L stays bounded
source "$(dirname "$0")/lib.sh"

start_redis
LUA=("$LGW_SRC/core/lua/varint.lua" "$LGW_SRC/core/lua/wallet_lots.lua") # as the build embeds them
K='lg:{212699000001}:w'
day() { date -u -d "@$(($(date +%s) + $1 * 86400))" +%Y%m%d; } # YYYYMMDD of today + k (UTC)
D0=$(day -20) D1=$(day -10) D2=$(day -5)
# run BODY with the codec loaded: KEYS[1] the wallet, ARGV as given
codec() { local body=$1; shift; rcli eval "$(cat "${LUA[@]}")
$body" 1 "$K" "$@"; }
add() { codec "redis.call('HSET', KEYS[1], 'L', lots_add(redis.call('HGET', KEYS[1], 'L'), ARGV[1], tonumber(ARGV[2])))" "$@" >/dev/null; }
lots() { codec "local l = lots_from_all(redis.call('HGETALL', KEYS[1]))
  if not l then return 'corrupt' end
  local o = {} for _, x in ipairs(l) do o[#o + 1] = x.day .. '=' .. string.format('%d', x.v) end
  return table.concat(o, ' ')"; }
shown() { "$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" show 212699000001 |
  sed -n 's/^ *lot \([0-9a-z]*\) *\([0-9]*\) points$/\1=\2/p' | sed 's/^undated=/00000000=/' |
  paste -sd' '; }

rcli hset "$K" bal 0 >/dev/null
add "$D1" 10
add "$D2" 20  # a newer day: appended
add "$D2" 5   # the newest lot: added in place
add "$D0" 7   # an older day: inserted in order
assert_eq "$D0=7 $D1=10 $D2=25" "$(lots)" "credits of newer, same and older days, oldest first"
assert_eq 9 "$(rcli hstrlen "$K" L)" "three 3-byte records (a lot below 128 points: 1-byte varint)"
assert_eq "$(lots_pack "$D0" 7 "$D1" 10 "$D2" 25 | od -An -tx1)" "$(rcli --raw hget "$K" L | head -c 9 | od -An -tx1)" \
  "the exact bytes: u16 day + varint, oldest first"
assert_eq "$(lots)" "$(shown)" "the C decoder reads what the Lua codec wrote"

# large lots: multi-byte varints (the balance bound is 10^12: 6 bytes)
add "$D2" 40000000
add "$(day -1)" 1000000000000
assert_eq "$D0=7 $D1=10 $D2=40000025 $(day -1)=1000000000000" "$(lots)" "large lots read back whole"
assert_eq 20 "$(rcli hstrlen "$K" L)" "... in one record each (3 + 3 + 6 + 8 bytes)"
assert_eq "$(lots)" "$(shown)" "... and the C decoder reads them too"
codec "lots_save(KEYS[1], {{day = ARGV[1], v = 7}, {day = ARGV[2], v = 10}, {day = ARGV[3], v = 40000025}}, {})" \
  "$D0" "$D1" "$D2" >/dev/null

# the upgrade: lot fields of the release before merged with L; a full read folds them
rcli hset "$K" "l:$D1" 3 "l:$(day -30)" 4 >/dev/null
assert_eq "$(day -30)=4 $D0=7 $D1=13 $D2=40000025" "$(lots)" "old fields merged (same day summed)"
codec "local l, n = lots_from_all(redis.call('HGETALL', KEYS[1])) lots_save(KEYS[1], l, n)" >/dev/null
assert_eq "0 0" "$(rcli hexists "$K" "l:$D1") $(rcli hexists "$K" "l:$(day -30)")" "lots_save folds them"
assert_eq "$(day -30)=4 $D0=7 $D1=13 $D2=40000025" "$(lots)" "... into L"
codec "lots_save(KEYS[1], {}, {})" >/dev/null
assert_eq 0 "$(rcli hexists "$K" L)" "no lot left: no field"

# corrupt: refused by the codec, ignored by the C readers
printf '\x50\x00' >"$T/bad1"                                                  # a day, no points
printf '\x50\x00\x00' >"$T/bad2"                                              # a lot of 0 points
printf '\x50\x01\x01\x50\x00\x01' >"$T/bad3"                                  # days out of order
printf '\x50\x00\x01\x50\x00\x01' >"$T/bad4"                                  # a day twice
printf '\x50\x00\x81' >"$T/bad5"                                              # a varint truncated
printf '\x50\x00\x80\x80\x80\x80\x80\x80\x80\x80\x01' >"$T/bad6"              # over 8 bytes
printf '\x50\x00\x80\x80\x80\x80\x80\x80\x80\x10' >"$T/bad8"                  # 2^53: too large
for bad in bad1 bad2 bad3 bad4 bad5 bad6 bad8; do
  rcli -x hset "$K" L <"$T/$bad" >/dev/null
  assert_eq corrupt "$(lots)" "$bad: a corrupt L ($(rcli hstrlen "$K" L) bytes) is refused"
  case "$("$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" show 212699000001)" in
    *"lots"*"unreadable"*) echo "ok - $bad: loyaltyctl show flags it";;
    *) fail "$bad: loyaltyctl show does not flag a corrupt L";; esac
done
rcli hdel "$K" L >/dev/null
rcli hset "$K" "l:$((${D0:0:4} + 200))1231" 5 >/dev/null # an old field's day past L's range (2149)
assert_eq corrupt "$(lots)" "an old lot field L cannot hold is refused, not folded wrong"
rcli del "$K" >/dev/null

# ---------------------------------------------------------------- points that never expire
# lots_add(L, day, points, mode, today): mode never (the gateway says so: no validity), dated (a
# validity applies), "" (the script does not know)
addm() { codec "redis.call('HSET', KEYS[1], 'L', lots_add(redis.call('HGET', KEYS[1], 'L'),
  ARGV[1], tonumber(ARGV[2]), ARGV[3] ~= '' and ARGV[3] or nil, ARGV[4]))" "$@" >/dev/null; }
rcli hset "$K" bal 0 >/dev/null
for k in 3 2 1; do addm "$(day -$k)" 5 never; done
assert_eq "$(day -3)=5 $(day -2)=5 $(day -1)=5" "$(lots)" "never: the 3 newest days stay dated"
codec "local t = days(tonumber(ARGV[1])) -- 397 late events, oldest first, then today's
  for k = 400, 4, -1 do
    redis.call('HSET', KEYS[1], 'L', lots_add(redis.call('HGET', KEYS[1], 'L'), string.format('%d',
      ymd(t - k)), 5, 'never'))
  end" "$(day 0)" >/dev/null
addm "$(day 0)" 5 never
assert_eq "00000000=1990 $(day -2)=5 $(day -1)=5 $(day 0)=5" "$(lots)" \
  "never, 401 earning days: the older ones folded into the undated lot"
assert_eq 13 "$(rcli hstrlen "$K" L)" "... L holds 4 records (13 bytes) whatever the history"
assert_eq "$(lots)" "$(shown)" "... the C decoder reads the undated lot (loyaltyctl: 'undated')"
addm "$(day 0)" 7 ""
assert_eq "00000000=1997 $(day -2)=5 $(day -1)=5 $(day 0)=5" "$(lots)" \
  "a credit of a script that does not know the validity goes to the undated lot"
assert_eq 0 "$(codec "return lots_expired(lots_decode(redis.call('HGET', KEYS[1], 'L'))[1],
  tonumber(ARGV[1])) and 1 or 0" "$(day 0)")" "no cut-off expires the undated lot"
# a validity configured later: the first script that sees it dates the undated lot that day, so
# those points last a full validity from then (never less than promised)
addm "$(day -1)" 1 dated "$(day 0)"
assert_eq "$(day -2)=5 $(day -1)=6 $(day 0)=2002" "$(lots)" \
  "dated: the undated lot becomes a lot of today (added to today's), then the credit"
rcli del "$K" >/dev/null

# ---------------------------------------------------------------- property, through the scripts
M=212699000002 W='lg:{212699000002}:w'
CSHA=$(rcli script load "$(cat "$LGW_BIN/gateway/lua/commit.lua")")
SSHA=$(rcli script load "$(cat "$LGW_BIN/catalog/lua/sub.lua")")
XSHA=$(rcli script load "$(cat "$LGW_BIN/gateway/lua/expire.lua")")
DAYS=200 B0=$(( ($(date +%s) / 86400 - DAYS) * 86400 + 43200 )) # noon UTC, DAYS days ago
mapfile -t DY < <(for i in $(seq 0 $DAYS); do date -u -d "@$((B0 + i * 86400))" +%Y%m%d; done)
# the sum of the lots, the balance and the number of records, in one call
LSHA=$(rcli script load "$(cat "${LUA[@]}")
local l = lots_from_all(redis.call('HGETALL', KEYS[1])) if not l then return 'corrupt' end
local s = 0 for _, x in ipairs(l) do s = s + x.v end
return string.format('%d %d %d', s, tonumber(redis.call('HGET', KEYS[1], 'bal') or 0), #l)")
# run MODE VALIDITY_DAYS: 2 steps a day over DAYS days; MODE never (the gateway's "U") or valid
# (the expiry due key, a cut-off for redemptions, an expiry pass every 10 days)
run() {
  local mode=$1 v=$2 i d now bal=0 r out p cut c nmax=0 bad=0 refs=() pts=() rev=()
  rcli del "$W" "lg:{$M}:g" >/dev/null
  RANDOM=$((v + 7))
  for ((i = 0; i < 2 * DAYS; i++)); do
    d=${DY[$((i / 2))]} now=$((B0 + (i / 2) * 86400 + (i % 2) * 3600))
    cut=0; [ "$mode" = valid ] && [ $((i / 2)) -gt "$v" ] && cut=${DY[$((i / 2 - v - 1))]}
    r=$((RANDOM % 100))
    if [ $r -lt 55 ] || [ "$bal" -le 0 ]; then # an earning
      local keys=(1 "$W") extra=()
      [ "$mode" = valid ] && keys=(2 "$W" "lg:xd:{1}:$d") || extra=(U)
      out=$(rcli evalsha "$CSHA" "${keys[@]}" E "P$i" TOPUP "$now" "$now" "$d" $((1 + RANDOM % 60)) 0 1 \
        0 31536000 50 0 "" 100000 1 standard 0 100 0 12 30 "$d" "${extra[@]}" | sed -n 2p)
      refs+=("P$i") pts+=("$out") rev+=(0)
    elif [ $r -lt 85 ]; then # a redemption (it may be refused: expired points are out of reach)
      p=$((1 + RANDOM % (bal < 40 ? bal : 40)))
      rcli evalsha "$SSHA" 3 "$W" "lg:{$M}:h" "lg:{$M}:g" DEBIT "$M:gift:$d:r$i" "$now" 20 86400 \
        "$p" v1 0 "" "" "$cut" 1 standard 0 0 >/dev/null
    elif [ ${#refs[@]} -gt 0 ]; then # a reversal of an earning not yet reversed, within the balance
      p=$((RANDOM % ${#refs[@]}))
      if [ "${rev[$p]}" = 0 ] && [ "${pts[$p]}" -le "$bal" ]; then
        rcli evalsha "$CSHA" 1 "$W" R "V$i" REVERSAL "$now" "$now" "$d" 0 0 1 0 31536000 50 0 \
          "${refs[$p]}" 0 1 standard 0 100 0 12 30 "$d" $([ "$mode" = never ] && echo U) >/dev/null
        rev[$p]=1
      fi
    fi
    if [ "$mode" = valid ] && [ $((i % 20)) = 19 ]; then # the expiry job's visit
      rcli evalsha "$XSHA" 3 "$W" "lg:{$M}:h" "lg:ag:{1}:$d" RUN "$now" "$d" "$cut" 50 0 >/dev/null
    fi
    read -r out bal c < <(rcli evalsha "$LSHA" 1 "$W")
    [ "$out" = "$bal" ] || { bad=$((bad + 1)); [ $bad -le 3 ] && note "step $i: lots $out, balance $bal"; }
    [ "$c" -gt $nmax ] && nmax=$c
  done
  assert_eq 0 "$bad" "$mode (validity $v days): the balance equals the sum of the lots after each of $((2 * DAYS)) steps"
  NMAX=$nmax
}
run never 0
assert_ge "$NMAX" 4 "never: L held at most 4 records ($NMAX) over $DAYS days of earnings"
assert_ge 1 "$(rcli hget "$W" bal)" "never: a balance was left"
assert_eq 00000000 "$(codec "return lots_decode(redis.call('HGET', ARGV[1], 'L'))[1].day" "$W")" \
  "never: the oldest points are in the undated lot"
# a validity of 30 days configured later: the expiry pass of that day (cut-off 31 days back)
# expires none of it and dates it that day; it expires 31 days later, all of it
b=$(rcli hget "$W" bal) dl=${DY[$DAYS]} nl=$((B0 + DAYS * 86400))
rcli evalsha "$XSHA" 3 "$W" "lg:{$M}:h" "lg:ag:{1}:$dl" RUN "$nl" "$dl" "${DY[$((DAYS - 31))]}" 50 0 >/dev/null
assert_eq "$b" "$(rcli hget "$W" bal)" "validity set later: the first expiry pass expires none of it"
assert_eq "no $dl" "$(codec "local l = lots_decode(redis.call('HGET', ARGV[1], 'L'))
  return (l[1].day == LOTS_UNDATED and 'yes ' or 'no ') .. l[#l].day" "$W")" \
  "... and dates the undated lot that day"
d31=$(date -u -d "@$((nl + 31 * 86400))" +%Y%m%d)
rcli evalsha "$XSHA" 3 "$W" "lg:{$M}:h" "lg:ag:{1}:$d31" RUN "$((nl + 31 * 86400))" "$d31" "$dl" 50 0 >/dev/null
assert_eq "0 0" "$(rcli hget "$W" bal) $(rcli hexists "$W" L)" "... and expires a full validity after that day"
run valid 30

# staff adjustments (admin/lua/adjust.lua) remember their request ids as their own records of E
# (the field R of the release before is no longer written): one a day for 100 days, each a record,
# and a replay of one of them applies nothing
A='lg:{212699000003}:w' ASHA=$(rcli script load "$(cat "$LGW_BIN/admin/lua/adjust.lua")")
rcli hset "$A" bal 0 >/dev/null
for i in $(seq 0 99); do
  rcli evalsha "$ASHA" 3 "$A" 'lg:{212699000003}:r' 'lg:{212699000003}:h' "rq$i" 1 carl goodwill \
    "$((B0 + i * 86400))" "${DY[$i]}" 864000 20 >/dev/null
done
assert_eq 100 "$(rcli hget "$A" bal)" "100 adjustments applied"
assert_eq "0 1600" "$(rcli hexists "$A" R) $(rcli hstrlen "$A" E)" "R not written; E holds the 100 adjustments' records"
rcli evalsha "$ASHA" 3 "$A" 'lg:{212699000003}:r' 'lg:{212699000003}:h' rq99 1 carl goodwill \
  "$((B0 + 99 * 86400))" "${DY[99]}" 864000 20 >/dev/null
assert_eq 100 "$(rcli hget "$A" bal)" "a replayed request id applies nothing"
assert_ge "$NMAX" 42 "valid: L held at most validity + the pass interval + 2 records ($NMAX)"

# The local-day arithmetic every script shares (ymd, days: the prelude's, used for lot days,
# expiry cut-offs, tier graces, caps and campaign anniversaries) swept over every day of the
# years 2026 to 2028 (29 February 2028, three year ends) against glibc's calendar (date), as the
# C side is in test_gw_days: pure arithmetic, Redis sees no clock.
Y0=2026 Y1=2028
z0=$(( $(date -u -d "${Y0}0101" +%s) / 86400 )) z1=$(( $(date -u -d "${Y1}1231" +%s) / 86400 ))
for ((z = z0; z <= z1; z++)); do echo "@$((z * 86400))"; done | date -u -f - +%Y%m%d | paste -sd' ' >"$T/days.glibc"
codec "local out = {}
  for z = tonumber(ARGV[1]), tonumber(ARGV[2]) do
    local d = ymd(z)
    if days(d) ~= z then return 'days(ymd(' .. z .. ')) = ' .. days(d) end
    out[#out + 1] = string.format('%d', d)
  end
  return table.concat(out, ' ')" "$z0" "$z1" >"$T/days.lua"
assert_eq "$(cat "$T/days.glibc")" "$(cat "$T/days.lua")" \
  "ymd() and days() agree with glibc on every day of $Y0-$Y1 ($((z1 - z0 + 1)) days)"
assert_eq 1 "$(tr ' ' '\n' <"$T/days.lua" | grep -c "^${Y1}0229$")" "29 February $Y1 is among them"
finish

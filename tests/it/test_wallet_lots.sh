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
  sed -n 's/^ *lot \([0-9]*\) *\([0-9]*\) points$/\1=\2/p' | paste -sd' '; }

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

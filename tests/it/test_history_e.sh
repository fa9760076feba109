#!/usr/bin/env bash
# The history as the wallet's packed field E (issue 9 §4, docs/data-model.md section 2): records
# written by the real commit script (gateway/lua/commit.lua, rule ids registered by
# core/lua/rule.lua in the dictionary lg:rules) and the history list lg:{M}:h of the release
# before read together: the USSD history screen (real gateway, simulated handset) and the staff
# console (real loyalty-admin over HTTP) show the same entries in the same order, the console with
# each record's rule text (the tier multiplier included); loyaltyctl show too. Upgrade path: the
# old list's lines stay visible under the new records.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "gold", min_points: 1000, multiplier_pct: 150}]
  | .redis.request_timeout_ms = 5000'
# (5 s: loyalty-admin's login runs a yescrypt in its loop; on a loaded machine a 500 ms deadline
# of the request queued behind it fails with nothing wrong)
M=212611000009
wallet $M 1234 en # tier gold, two lines in the old list (H1: +300 TOPUP, H2: +20 BILL)

# Two top-ups today through the commit script itself, as the gateway calls it (gw_ledger.c).
RULE=$(rcli eval "$(cat "$LGW_BIN/core/lua/rule.lua")" 1 lg:rules "TOPUP 1/10 MAD" \
  "TOPUP 1/10 MAD; tier gold x150%" | paste -sd, -)
assert_eq "1,2" "$RULE" "rule.lua: ids for the rule and its gold variant"
assert_eq "1,2" "$(rcli eval "$(cat "$LGW_BIN/core/lua/rule.lua")" 1 lg:rules "TOPUP 1/10 MAD" \
  "TOPUP 1/10 MAD; tier gold x150%" | paste -sd, -)" "rule.lua: idempotent"
NOW=$(date +%s)
TODAY=$(TZ=Africa/Casablanca date +%Y%m%d)
commit() { # REF WHOLE: a TOPUP of WHOLE points before the tier multiplier
  rcli eval "$(cat "$LGW_BIN/gateway/lua/commit.lua")" 1 "lg:{$M}:w" E "$1" TOPUP "$NOW" "$NOW" \
    "$TODAY" "$2" 0 1 0 2678400 50 "$RULE" "" 100000 2 standard 0 100 gold 1000 150 \
    0 12 30 "$TODAY" >/dev/null # tiers on lifetime points (gw_tier.h), window, grace, today
}
commit HE-1 10 # +15 at gold
commit HE-2 20 # +30
assert_eq 1279 "$(rcli hget "lg:{$M}:w" bal)" "both credited at the gold rate"
assert_eq 32 "$(rcli hstrlen "lg:{$M}:w" E)" "two 16-byte records in E"

start_gw
DM=$(TZ=Africa/Casablanca date +%d/%m)
phone hist $M '*555#\n2'
EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
expect_screens hist "USSD history: the new records first, then the old list's lines" \
  "$(menu "$EN_MAIN")" \
  "$(last $'Last movements:\n'"$DM"$' +30 Top-up\n'"$DM"$' +15 Top-up\n'"$H2_DM"$' +20 Bill\n'"$H1_DM"$' +300 Top-up')"

echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
start_admin
CARE=$(login carl care-secret-2222)
api GET "/api/subscribers/$M" "$CARE"
assert_eq 200 "$CODE" "console: subscriber page"
# the console's entries as the USSD screen writes them: dd/mm, signed points, kind
CONSOLE=$(jq -r '.history[] | "\(.at | strftime("%d/%m")) \(if .points >= 0 then "+" else "" end)\(.points) \(.kind)"' "$T/r.json" | paste -sd'|' -)
assert_eq "$DM +30 TOPUP|$DM +15 TOPUP|$H2_DM +20 BILL|$H1_DM +300 TOPUP" "$CONSOLE" \
  "console: the same entries in the same order as the USSD screen"
assert_eq "TOPUP 1/10 MAD; tier gold x150%" "$(j '.history[0].rule')" "console: the rule text of a record"
assert_eq "TOPUP 1/10 MAD" "$(j '.history[3].rule')" "console: the old line's note"
assert_eq null "$(j '.history[0].balance')" "console: a record has no balance"
assert_eq 320 "$(j '.history[2].balance')" "console: the old line keeps its balance"
"$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" show $M >"$T/show.txt"
grep -q "|+30||TOPUP 1/10 MAD; tier gold x150%" "$T/show.txt" && echo "ok - loyaltyctl show: record with its rule" ||
  fail "loyaltyctl show: $(cat "$T/show.txt")"
stop_admin
stop_gw

# E's records are the remembered refs too (commit.lua): expire.lua, which does not know the
# configured retention, drops beyond history_len only records older than 400 days (the longest
# retention commit.lua accepts). A wallet with 3 records of 500 days ago and 22 of the last days,
# a lot of 10 points expiring today, history_len 5: the 3 old records go, the 22 refs stay.
X=212611000077
TD=$(( $(date -u -d "$(TZ=Africa/Casablanca date +%F)" +%s) / 86400 ))
rcli eval "local E = '' for i = 1, 25 do E = E .. struct.pack('>c6I2BBi4I2',
  string.rep(string.char(i), 6), i <= 3 and ARGV[1] - 500 or ARGV[1] - 25 + i, 1, 99, 1, 0) end
  return redis.call('HSET', KEYS[1], 'bal', '10', 'l:' .. ARGV[2], '10', 'E', E)" 1 "lg:{$X}:w" \
  "$TD" "$TODAY" >/dev/null
OUT=$(rcli eval "$(cat "$LGW_BIN/gateway/lua/expire.lua")" 3 "lg:{$X}:w" "lg:{$X}:h" \
  "lg:ag:{1}:$TODAY" RUN "$(date +%s)" "$TODAY" "$TODAY" 5 0 | head -1)
assert_eq 10 "$OUT" "expire.lua: the lot expired"
assert_eq $(( 23 * 16 )) "$(rcli hstrlen "lg:{$X}:w" E)" \
  "expire.lua: the 3 records past 400 days dropped, the 22 recent refs and 'expired 10' kept"
assert_eq 4 "$(rcli eval "return string.byte(redis.call('HGET', KEYS[1], 'E'), 1)" 1 "lg:{$X}:w")" \
  "expire.lua: the oldest record kept is the first recent one"
finish

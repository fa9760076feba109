#!/usr/bin/env bash
# The wallet's activity months packed in its field M (docs/data-model.md section 1,
# core/lua/wallet_months.lua, gateway/gw_months.c) against a real redis-server: the built
# commit.lua (its prelude before it) called as gw_ledger.c calls it, and the daily tier review
# (tests/it/it_expiry.c tierpass, the project's injected clock). Rolling points over 12 months,
# tiers silver 100 x110%, gold 500 x125%; every month computed from today's:
#   - twelve months of events: twelve 6-byte records in M, no m:YYYYMM field, the tier of their
#     sum; a month later the oldest leaves M; the review a month after that prunes M too
#   - a reversal takes its points back from its own packed month
#   - a wallet of the release before (m:YYYYMM fields): its months count, and its first event
#     folds them into M and deletes them; the review sums M and a field m:YYYYMM together
#   - an unreadable M: the commit fails with LGWDATA months and writes nothing; the review
#     reports it and leaves the wallet as it is
source "$(dirname "$0")/lib.sh"

export TZ=Africa/Casablanca
DRV="$LGW_BIN/tests/it_expiry"
SCRIPT=$(cat "$LGW_BIN/gateway/lua/commit.lua")
start_redis
export LGW_REDIS_SOCK="$REDIS_SOCK"

NOW=$(date +%s)
MID=$(date +%Y-%m-15)
ym() { date -d "$MID $1 months" +%Y%m; }    # the month k months from today's (k < 0: before)
noon() { date -d "$(ym "$1")15 12:00" +%s; } # noon of the 15th of that month
TODAY=$(date +%Y%m%d)
# op ref day today whole amount [orig]: one commit of the built script (whole points before
# the tier multiplier; amount in thousandths), tiers on rolling points, 12 months, no grace
commit() {
  local op=$1 ref=$2 day=$3 today=$4 whole=$5 amount=$6 orig=${7:-}
  rcli eval "$SCRIPT" 1 "lg:{$W}:w" "$op" "$ref" "$([ "$op" = R ] && echo REVERSAL || echo TOPUP)" \
    "$NOW" "$NOW" "$day" "$whole" 0 1 0 2678400 50 0 "$orig" "$amount" \
    3 standard 0 100 silver 100 110 gold 500 125 1 12 0 "$today"
}
# the records of M, "YYYYMM:earned:spend" joined with spaces (decoded by the same prelude)
months() {
  rcli eval "$(cat "$LGW_SRC/core/lua/varint.lua" "$LGW_SRC/core/lua/wallet_months.lua")
    local r = WM.decode(redis.call('HGET', KEYS[1], 'M'))
    if not r then return 'unreadable' end
    local out = {}
    for _, x in ipairs(r) do
      out[#out + 1] = string.format('%d:%d:%d', WM.ym(x.i), x.e, x.s)
    end
    return table.concat(out, ' ')" 1 "lg:{$W}:w"
}
oldfields() { rcli hkeys "lg:{$W}:w" | grep -c '^m:' || true; }
tpass() { # unix-now: one review pass, its stats in $T/tp.json
  "$DRV" tierpass --now "$1" --owner gw --days 0 --tiers points,12,0 >"$T/tp.json" \
    2>>"$T/driver.log"
}

# ---- twelve packed months
W=212671000000
for k in $(seq -11 0); do commit E "P$k" "$(ym "$k")10" "$TODAY" 10 100000 >/dev/null; done
assert_eq 72 "$(rcli hstrlen "lg:{$W}:w" M)" "12 months: 12 records of 6 bytes"
assert_eq 0 "$(oldfields)" "no m:YYYYMM field is written"
assert_eq silver "$(rcli hget "lg:{$W}:w" tier)" "the 12 packed months' points: silver"
EXP=""
for k in $(seq -11 -2); do EXP="$EXP $(ym "$k"):10:100000"; done
EXP="${EXP# } $(ym -1):11:100000 $(ym 0):11:100000" # silver from the 11th month on: x110%
assert_eq "$EXP" "$(months)" "each month's points and spend, oldest first"
# ---- a reversal in a packed month
commit R RV "$TODAY" "$TODAY" 0 0 P-5 >/dev/null
assert_eq "$(ym -5):0:100000" "$(months | tr ' ' '\n' | grep "^$(ym -5):")" \
  "the reversal takes its 10 points back from its own month"
assert_eq 72 "$(rcli hstrlen "lg:{$W}:w" M)" "... in place"
# ---- a month later: the oldest month leaves M
commit E N1 "$(ym 1)10" "$(ym 1)10" 10 100000 >/dev/null
assert_eq 12 "$(months | wc -w)" "a new month in, the one 12 back out"
assert_eq "$(ym -10)" "$(months | cut -d: -f1)" "the oldest kept: 11 months before today's"
# ---- the review two months on prunes M as well (C reads M: 103 points in the window, silver)
rcli sadd "lg:td:$("$DRV" tag --msisdn $W):$(ym 2)15" $W >/dev/null
tpass "$(noon 2)"
assert_eq 0 "$(jq .errors "$T/tp.json")" "the review reads M"
assert_eq 1 "$(jq .reviews "$T/tp.json")" "... and reviews the wallet"
assert_eq "$(ym -9)" "$(months | cut -d: -f1)" "the review drops the months no window reaches"
assert_eq silver "$(rcli hget "lg:{$W}:w" tier)" "the points left in the window keep silver"

# ---- a wallet of the release before
W=212671000001
rcli hset "lg:{$W}:w" bal 90 life 90 tier standard "m:$(ym 0)" "50,500000" "m:$(ym -3)" "40,0" \
  "m:$(ym -12)" "7,0" "m:$(ym -20)" "1,0" >/dev/null
assert_eq "" "$(months)" "no M yet"
commit E F1 "$TODAY" "$TODAY" 20 100000 >/dev/null
assert_eq silver "$(rcli hget "lg:{$W}:w" tier)" "the old months count: 50 + 40 + 20 points, silver"
assert_eq "$(ym -3):40:0 $(ym 0):70:600000" "$(months)" "the first event folds them into M"
assert_eq "m:$(ym -20)" "$(rcli hkeys "lg:{$W}:w" | grep '^m:')" \
  "... and deletes them (a field older than any window may stay: never read)"
# the review sums M and a field of the release before (a gateway of the release before wrote it)
W=212671000002
commit E G1 "$TODAY" "$TODAY" 60 100000 >/dev/null
assert_eq standard "$(rcli hget "lg:{$W}:w" tier)" "60 points: standard"
rcli hset "lg:{$W}:w" "m:$(ym -1)" "50,0" >/dev/null
rcli sadd "lg:td:$("$DRV" tag --msisdn $W):$TODAY" $W >/dev/null
tpass "$(date -d "$TODAY 12:00" +%s)"
assert_eq silver "$(rcli hget "lg:{$W}:w" tier)" "the review: 60 in M + 50 in m:YYYYMM, silver"

# ---- an unreadable M
W=212671000003
commit E U1 "$TODAY" "$TODAY" 10 100000 >/dev/null
rcli hset "lg:{$W}:w" M "$(printf '\002')" >/dev/null # a truncated record
OUT=$(commit E U2 "$TODAY" "$TODAY" 10 100000 2>&1)
case "$OUT" in *"LGWDATA months"*) echo "ok - the commit fails: $OUT" ;;
  *) fail "a corrupt M: LGWDATA months expected, got: $OUT" ;; esac
assert_eq 10 "$(rcli hget "lg:{$W}:w" bal)" "... and credits nothing"
rcli sadd "lg:td:$("$DRV" tag --msisdn $W):$TODAY" $W >/dev/null
tpass "$(date -d "$TODAY 12:00" +%s)"
assert_eq 1 "$(jq .errors "$T/tp.json")" "the review reports the unreadable M"
assert_eq 1 "$(rcli hstrlen "lg:{$W}:w" M)" "... and writes nothing"
finish

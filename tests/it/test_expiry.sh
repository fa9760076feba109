#!/usr/bin/env bash
# Points that really expire (gateway/gw_expiry.c, lua/expire.lua) against a real redis-server and
# the SMSC simulator, with the project's injected clock moved day by day by the driver
# (tests/it/it_expiry.c; Redis keeps the real clock). Every date is computed from today's local
# noon (T0) in the programme's zone: validity 60 days, warnings 30 and 7 days ahead, so a lot
# earned on day D is warned on D+31 and D+54, spendable through D+60 and expired on D+61.
#   - commit indexes each new lot in the due set of its first action (xd)
#   - warnings at 30/7 days: sent once per lot and level, recorded by the simulator, in the
#     subscriber's language, with points, date and the shortcut; not to an opted-out subscriber
#   - expiry: lots deleted, balance lowered, history "expired N", the day's aggregate "exp"
#   - two gateways at once and a gateway killed mid-pass: every wallet expired exactly once
#   - an undated lot (points folded while points never expired, docs/data-model.md 1) seen by
#     the job under the validity: dated that day, nothing expired, indexed at its first warning
# (Redemption refusing expired points: tests/it/it_redeem.c, test_redeem__expired_lots__...)
source "$(dirname "$0")/lib.sh"

export TZ=Africa/Casablanca
DRV="$LGW_BIN/tests/it_expiry"
start_redis
export LGW_REDIS_SOCK="$REDIS_SOCK"
start_sim sim --record "$T/rec.jsonl" --timeout-s 600

T0=$(date -d "$(date +%F) 12:00" +%s)
at() { echo $((T0 + $1 * 86400)); }              # the instant D + k days (local noon +- DST)
day() { date -d "@$(at "$1")" +%Y%m%d; }          # YYYYMMDD of D + k
dmy() { date -d "@$(at "$1")" +%d/%m/%Y; }        # as the SMS writes it
D0=$(day 0)
note "D = $D0"
pass() { # k owner [args...]: one pass at D + k, its stats in $T/pass-<owner>-<k>.json
  local k=$1 owner=$2; shift 2
  "$DRV" pass --now "$(at "$k")" --owner "$owner" --smsc "$SIM_PORT" "$@" \
    >"$T/pass-$owner-$k.json" 2>>"$T/driver.log"
}
pj() { jq -r "$2" "$T/pass-$1.json"; } # owner-k filter
# SMS recorded (a long one is several submit_sm: count the first parts, UDH sequence 01)
recorded() {
  [ -f "$T/rec.jsonl" ] || { echo 0; return; }
  jq -s '[.[] | select(.cmd == "submit_sm" and ((.udh_hex // "01") | endswith("01")))] | length' \
    "$T/rec.jsonl"
}

S=212650000000 # subscribers S+0..S+4: en fr ar fa and one without a language, not opted in
"$DRV" earn --now "$(at 0)" --msisdn $S --count 5 --amount 100000 --ref-prefix A >/dev/null \
  2>>"$T/driver.log"
for i in 0 1 2 3; do
  rcli hset "lg:{$((S + i))}:w" lang "$(echo en fr ar fa | cut -d' ' -f$((i + 1)))" >/dev/null
  rcli sadd 'bc:{bc}:optin' $((S + i)) >/dev/null
done
assert_eq 10 "$(lot_points "lg:{$S}:w" "$D0")" "a TOPUP of 100 MAD is a lot of 10 points dated D"
assert_eq "$(day 31)" "$(rcli hget "lg:{$S}:w" xd)" "the new lot is indexed at its first warning"
TAG=$("$DRV" tag --msisdn $S)
assert_eq 1 "$(rcli sismember "lg:xd:$TAG:$(day 31)" $S)" "... in the due set of that day"
# a second lot for S, 10 days later: due later, so the index stays at the first lot's day
"$DRV" earn --now "$(at 10)" --msisdn $S --amount 50000 --ref-prefix B >/dev/null 2>>"$T/driver.log"
assert_eq "$(day 31)" "$(rcli hget "lg:{$S}:w" xd)" "a later lot leaves the index where it was"
# U: a wallet of the upgrade: a lot of D as the release before wrote it (the field l:D), and a
# lot of D+10 earned now (the packed field L); not opted in
U=212650000009
"$DRV" earn --now "$(at 10)" --msisdn $U --amount 50000 --ref-prefix U >/dev/null 2>>"$T/driver.log"
rcli hset "lg:{$U}:w" "l:$D0" 7 >/dev/null
rcli hincrby "lg:{$U}:w" bal 7 >/dev/null
assert_eq "7 5" "$(lot_points "lg:{$U}:w" "$D0") $(lot_points "lg:{$U}:w" "$(day 10)")" \
  "U holds an old field's lot and a lot in L"

# V: an undated lot of 20 points (folded while points never expired), the wallet left in the
# due set of D+31 (a validity set, removed, set again); not opted in
V=212650000008
printf '\000\000\024' | rcli -x hset "lg:{$V}:w" L >/dev/null
rcli hset "lg:{$V}:w" bal 20 life 20 tier standard xd "$(day 31)" >/dev/null
rcli sadd "lg:xd:$("$DRV" tag --msisdn $V):$(day 31)" $V >/dev/null

# a crowd for the multi-gateway part: 3000 more subscribers, lots of 10 on D, not opted in
C=212660000000
"$DRV" earn --now "$(at 0)" --msisdn $C --count 3000 --amount 100000 --ref-prefix C >"$T/earn.json" \
  2>>"$T/driver.log"
assert_eq 3000 "$(jq .committed "$T/earn.json")" "3000 crowd commits"

# ------------------------------------------------------------------ nothing due before D+31
pass 30 gw1
assert_eq 0 "$(pj gw1-30 .visits)" "D+30: nobody is visited"
assert_eq 0 "$(pj gw1-30 .warnings)" "D+30: no warning"

# ------------------------------------------------------------------ 30-day warnings
pass 31 gwq --quiet 11,14 # the driver runs at local noon: inside these quiet hours
assert_eq 0 "$(pj gwq-31 .visits)" "D+31 in quiet hours: no pass, nobody visited"
assert_eq 0 "$(recorded)" "... and no SMS"
pass 31 gw1
assert_eq 3006 "$(pj gw1-31 .visits)" "D+31: every subscriber with a lot is visited once"
assert_eq 4 "$(pj gw1-31 .warnings_sent)" "D+31: the four opted-in subscribers are warned"
assert_eq 3001 "$(pj gw1-31 .warnings_skipped)" "... the others are not (opted out)"
wait_for 5 test "$(recorded)" -ge 4 || true
assert_eq 4 "$(recorded)" "the simulator recorded 4 SMS"
EN=$(grep "\"dst\":\"$S\"" "$T/rec.jsonl" | jq -r '.text // .text_utf8 // empty' | head -1)
assert_eq "Loyalty Club: 10 points expire on $(dmy 60). Redeem them now: dial *555#" "$EN" \
  "the English warning: points, last valid day, shortcut"
FR=$(grep "\"dst\":\"$((S + 1))\"" "$T/rec.jsonl" | jq -r '.text // .text_utf8 // empty' | head -1)
case "$FR" in *"10 points expirent le $(dmy 60)"*) echo "ok - the French warning";;
  *) fail "the French warning: got '$FR'";; esac
assert_eq 0 "$(grep -c "\"dst\":\"$((S + 4))\"" "$T/rec.jsonl" || true)" "no SMS to the opted-out one"
assert_eq "$(day 54)" "$(rcli hget "lg:{$((S + 1))}:w" xd)" "next visit: the 7-day warning"
assert_eq "$(day 41)" "$(rcli hget "lg:{$S}:w" xd)" "S's next visit: its second lot's 30-day warning"
assert_eq "20 20" "$(rcli hget "lg:{$V}:w" bal) $(lot_points "lg:{$V}:w" "$(day 31)")" \
  "V: the undated lot is dated D+31, the day the job first saw it, nothing expired"
assert_eq "$(day 62)" "$(rcli hget "lg:{$V}:w" xd)" "V: next visit its first warning, 31 days later"

pass 31 gw1
assert_eq 0 "$(pj gw1-31 .warnings)" "D+31 again: no warning twice"
assert_eq 4 "$(recorded)" "still 4 SMS recorded"

pass 41 gw1
assert_eq 1 "$(pj gw1-41 .warnings_sent)" "D+41: S's second lot is warned"
LAST=$(grep "\"dst\":\"$S\"" "$T/rec.jsonl" | tail -1 | jq -r '.text // .text_utf8 // empty')
case "$LAST" in *"5"*"$(dmy 70)"*) echo "ok - 5 points, their own date";;
  *) fail "S's second warning: got '$LAST'";; esac

# ------------------------------------------------------------------ 7-day warnings
# the Arabic subscriber turns the warnings off (their own switch, not STOP: still opted in)
"$LGW_BIN/gateway/loyaltyctl" --zone "$TZ" "${CTL_REDIS[@]}" --socket "$REDIS_SOCK" alerts $((S + 2)) off >/dev/null
assert_eq "0 1" "$(rcli hget "lg:{$((S + 2))}:consent" alerts) $(rcli sismember 'bc:{bc}:optin' $((S + 2)))" \
  "the consent record says warnings off; the marketing opt-in is untouched"
ar_before=$(grep -c "\"dst\":\"$((S + 2))\"" "$T/rec.jsonl")
pass 54 gw1
assert_eq 3 "$(pj gw1-54 .warnings_sent)" "D+54: the 7-day warnings, to the three who want them"
assert_eq 1 "$(pj gw1-54 .warnings_declined)" "... the one who turned them off is not warned"
assert_eq "$ar_before" "$(grep -c "\"dst\":\"$((S + 2))\"" "$T/rec.jsonl")" \
  "no SMS to the Arabic subscriber at D+54"
pass 55 gw1
assert_eq 0 "$(pj gw1-55 .warnings)" "D+55: none again"
assert_eq 8 "$(recorded)" "8 SMS in all: 4 + 1 + 3"

# ------------------------------------------------------------------ expiry, crash, two gateways
assert_eq 15 "$(rcli hget "lg:{$S}:w" bal)" "S holds 10 + 5 before expiry"
# gw0 is killed after 1000 visits; gw2 and gw3 then run at once (gw0's last claim still holds
# its slot); once that 1.5 s lease ran out gw4 takes the rest, and gw5 finds nothing left
set +e
"$DRV" pass --now "$(at 61)" --owner gw0 --crash-after 1000 --lease-ms 1500 \
  >"$T/pass-gw0-61.json" 2>>"$T/driver.log"
rc=$?
set -e
assert_eq 3 "$rc" "gw0 died in the middle of the pass"
pass 61 gw2 --lease-ms 1500 &
P2=$!
pass 61 gw3 --lease-ms 1500 &
P3=$!
wait $P2 $P3
sleep 2
pass 61 gw4 --lease-ms 1500
pass 61 gw5 --lease-ms 1500
note "visits: gw2 $(pj gw2-61 .visits) gw3 $(pj gw3-61 .visits) gw4 $(pj gw4-61 .visits) gw5 $(pj gw5-61 .visits)"
assert_eq 0 "$(pj gw5-61 .visits)" "a pass after the work is done finds nothing"

bad=0; nexp=0; total=0
for i in $(seq 0 2999); do echo "lg:{$((C + i))}:w"; done >"$T/crowd"
while read -r k; do echo "HGET $k bal"; done <"$T/crowd" | rcli >"$T/bals"
assert_eq 3000 "$(grep -c '^0$' "$T/bals")" "every crowd wallet is at 0 after expiry (none twice: none below)"
# the history records of kind 8 (EXPIRE) in each wallet's packed field E (gateway/gw_hist.h)
NEXP="local n = 0 for _, k in ipairs(KEYS) do local e = redis.call('HGET', k, 'E') or ''
  for p = 1, #e - 15, 16 do if e:byte(p + 8) == 8 then n = n + 1 end end end return n"
# shellcheck disable=SC2046
rcli eval "$NEXP" 3000 $(cat "$T/crowd") >"$T/nexp" || true
assert_eq 3000 "$(cat "$T/nexp")" "exactly one 'expired' history entry per crowd wallet"
assert_eq 5 "$(rcli hget "lg:{$S}:w" bal)" "S keeps its younger lot"
assert_eq 20 "$(rcli hget "lg:{$V}:w" bal)" "V: its points, dated D+31, do not expire at D+61"
assert_eq 0 "$(lot_points "lg:{$S}:w" "$D0")" "S's expired lot is gone"
assert_eq "lot $(day 10) 5 points" "$("$LGW_BIN/gateway/loyaltyctl" --zone "$TZ" "${CTL_REDIS[@]}" --socket "$REDIS_SOCK" show "$S" |
  awk '$1 == "lot" {print $1, $2, $3, $4}')" "loyaltyctl show reads the lot left in L"
assert_eq 5 "$(rcli hget "lg:{$U}:w" bal)" "U: the old field's lot of D expired first (FIFO), L's kept"
assert_eq "0 5 0" "$(lot_points "lg:{$U}:w" "$D0") $(lot_points "lg:{$U}:w" "$(day 10)") $(rcli hexists "lg:{$U}:w" "l:$D0")" \
  "U: the lot of D gone, the old field folded into L"
H=$("$LGW_BIN/gateway/loyaltyctl" --zone "$TZ" "${CTL_REDIS[@]}" --socket "$REDIS_SOCK" show "$S" | sed -n '/^history/{n;p;q}')
case "$H" in *"|EXPIRE|#"*"|-10||expired") echo "ok - history: expired 10";;
  *) fail "history head: $H";; esac
assert_eq "$(day 64)" "$(rcli hget "lg:{$S}:w" xd)" "S's next visit: its 7-day warning"
assert_eq "" "$(rcli hget "lg:{$((S + 1))}:w" xd)" "a wallet without lots leaves the index"
# one redis-cli for all the slots' day hashes (one per key took minutes on a loaded machine)
exp=$(rcli --scan --pattern "lg:ag:*:$(day 61)" | sed 's/^/HGET /; s/$/ exp/' | rcli |
  awk '{s += $1} END {print s + 0}')
assert_eq $((3005 * 10 + 7)) "$exp" "finance: the day's expired total is exact (3005 lots of 10, U's 7)"
assert_eq 0 "$(rcli --scan --pattern "lg:xd:*:$(day 61)" | wc -l)" "the day's due sets are empty"
assert_eq 0 "$(rcli --scan --pattern 'lg:xc:*' | wc -l)" "no claim left behind"
finish

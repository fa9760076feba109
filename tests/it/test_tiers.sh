#!/usr/bin/env bash
# Tiers that move (gateway/gw_tier.c, gw_tier_job.c, lua/commit.lua's tier block, lua/tier.lua)
# against a real redis-server and the SMSC simulator, the project's injected clock moved by the
# driver (tests/it/it_expiry.c; Redis keeps the real clock). Rolling points over a 1-month window
# with a 5-day grace (tiers silver 100 x110%, gold 500 x125%), every date computed from today's
# local noon (T0), so the month boundary and the grace are crossed in a few passes:
#   - up on an event, in the same atomic step: tier, pending notice, today's review set
#   - the multiplier of the new tier changes the NEXT event's points
#   - the daily review sends one SMS per change (SMPP, the subscriber's language), never twice,
#     and not to a subscriber who opted out (lg:{M}:consent optin 0)
#   - with no event at all: the month leaves the window on the 1st of next month, the grace
#     starts, and 5 days later the review lowers the tier (and announces it once)
source "$(dirname "$0")/lib.sh"

export TZ=Africa/Casablanca
DRV="$LGW_BIN/tests/it_expiry"
start_redis
export LGW_REDIS_SOCK="$REDIS_SOCK"
start_sim sim --record "$T/rec.jsonl" --timeout-s 600

T0=$(date -d "$(date +%F) 12:00" +%s)
TIERS=points,1,5
at() { echo $((T0 + $1 * 86400)); }
day() { date -d "@$(at "$1")" +%Y%m%d; }
D0=$(day 0)
# R: the first of next month (the day this month leaves a 1-month window), k days after T0
K=1
while [ "$(day $K | cut -c7-8)" != 01 ]; do K=$((K + 1)); done
R=$(day $K)
note "D = $D0, next month starts at D + $K = $R"
earn() { # k msisdn amount-milli ref-prefix -> prints the points credited
  "$DRV" earn --now "$(at "$1")" --msisdn "$2" --amount "$3" --ref-prefix "$4" --days 0 \
    --tiers $TIERS 2>>"$T/driver.log" | jq -r .points
}
tpass() { # k: one review pass at D + k
  "$DRV" tierpass --now "$(at "$1")" --owner gw --smsc "$SIM_PORT" --days 0 --tiers $TIERS \
    >"$T/tp-$1.json" 2>>"$T/driver.log"
}
sms_to() { # msisdn -> number of SMS recorded for it (a long one is several submit_sm: count the
  # first parts, UDH sequence 01)
  [ -f "$T/rec.jsonl" ] || { echo 0; return; }
  jq -s --arg d "$1" '[.[] | select(.cmd == "submit_sm" and .dst == $d
    and ((.udh_hex // "01") | endswith("01")))] | length' "$T/rec.jsonl"
}
last_text() { grep "\"dst\":\"$1\"" "$T/rec.jsonl" | tail -1 | jq -r '.text // .text_utf8 // empty'; }

S=212670000000
S2=212670000001 # opted out
TAG=$("$DRV" tag --msisdn $S)
TAG2=$("$DRV" tag --msisdn $S2)

# ---- up on an event
assert_eq 10 "$(earn 0 $S 100000 A)" "100 MAD at 1 per 10: 10 points as standard"
assert_eq standard "$(rcli hget "lg:{$S}:w" tier)" "10 points: standard"
assert_eq 0 "$(rcli exists "lg:td:$TAG:$D0")" "no change: nobody in the review set"
rcli hset "lg:{$S}:w" lang fr >/dev/null
assert_eq 100 "$(earn 0 $S 1000000 B)" "1000 MAD: 100 points, still at x100%"
assert_eq silver "$(rcli hget "lg:{$S}:w" tier)" "110 points in the window: silver at once"
assert_eq "standard>silver" "$(rcli hget "lg:{$S}:w" tn)" "the notice waits for the review"
assert_eq "$D0" "$(rcli hget "lg:{$S}:w" td)" "indexed for review today"
assert_eq 1 "$(rcli sismember "lg:td:$TAG:$D0" $S)" "... in today's review set"
# ---- the multiplier follows at once: the next event earns x110%
assert_eq 110 "$(earn 0 $S 1000000 C)" "the next 1000 MAD earn 110 points as silver"

# ---- the review announces it, once
earn 0 $S2 2000000 A >/dev/null
rcli hset "lg:{$S2}:consent" optin 0 >/dev/null
assert_eq silver "$(rcli hget "lg:{$S2}:w" tier)" "S2 silver too"
tpass 0
assert_eq 1 "$(sms_to $S)" "one SMS for the upgrade"
TXT=$(last_text $S) # (the first part of the UCS-2 text holds these)
case "$TXT" in *silver*) ;; *) fail "the SMS names the new tier: $TXT" ;; esac
case "$TXT" in *félicitations*) ;; *) fail "the SMS is in French (lang fr): $TXT" ;; esac
assert_eq 0 "$(sms_to $S2)" "no SMS to the subscriber who opted out"
assert_eq 1 "$(jq .notices_skipped "$T/tp-0.json")" "... counted as skipped"
assert_eq "" "$(rcli hget "lg:{$S}:w" tn)" "the notice is taken"
assert_eq "$R" "$(rcli hget "lg:{$S}:w" td)" "next review: the first of next month"
assert_eq 1 "$(rcli sismember "lg:td:$TAG:$R" $S)" "... in that day's set"
assert_eq 0 "$(rcli sismember "lg:td:$TAG:$D0" $S)" "... and out of today's"
tpass 0
assert_eq 1 "$(sms_to $S)" "a second pass the same day sends nothing more"

# ---- no event at all: the month leaves the window, the grace, then down
tpass $((K - 1))
assert_eq silver "$(rcli hget "lg:{$S}:w" tier)" "the day before the month ends: silver"
OLD=$(date -d "${R:0:4}-${R:4:2}-15 -13 months" +%Y%m) # a month no window reaches any more
rcli hset "lg:{$S}:w" "m:$OLD" "5,0" >/dev/null
tpass $K
assert_eq 0 "$(rcli hexists "lg:{$S}:w" "m:$OLD")" "the review prunes an activity month 13 back"
assert_eq silver "$(rcli hget "lg:{$S}:w" tier)" "the window is empty, but the grace keeps silver"
assert_eq "$R" "$(rcli hget "lg:{$S}:w" tg)" "the grace started on the first"
assert_eq "$(day $((K + 5)))" "$(rcli hget "lg:{$S}:w" td)" "next review: the grace's end"
tpass $((K + 4))
assert_eq silver "$(rcli hget "lg:{$S}:w" tier)" "4 days into the grace: still silver"
assert_eq 1 "$(sms_to $S)" "no SMS during the grace"
tpass $((K + 5))
assert_eq standard "$(rcli hget "lg:{$S}:w" tier)" "5 days below: down to standard, with no event"
assert_eq 2 "$(sms_to $S)" "one SMS for the downgrade"
assert_eq "" "$(rcli hget "lg:{$S}:w" tg)" "the grace is over"
assert_eq "" "$(rcli hget "lg:{$S}:w" td)" "the entry tier is in no review set"
assert_eq 2 "$(jq .downs "$T/tp-$((K + 5)).json")" "the review counted both falls (S, S2)"
assert_eq 1 "$(jq .notices_skipped "$T/tp-$((K + 5)).json")" "S2's is not sent (opted out)"
tpass $((K + 6))
assert_eq 2 "$(sms_to $S)" "announced once"
assert_eq 0 "$(sms_to $S2)" "S2 (opted out) never got one"
# the standard multiplier again: x100%
assert_eq 100 "$(earn $((K + 6)) $S 1000000 D)" "as standard, 1000 MAD earn 100 points again"
finish

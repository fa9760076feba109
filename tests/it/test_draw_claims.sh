#!/usr/bin/env bash
# The draw of a scarce gift end to end (issue 12 s3): real SMPP (smsc-sim as scripted handsets
# and as the SMSC the winners' SMS go through), a real redis-server, the shipped menus and
# catalogue with 1 GB data opened by draw (2 units, registration 48 h before the opening, 2 h to
# claim, gold weighs 3, +1 per year of membership), a gift day tomorrow at 10:00 local.
#   - five members (enrolled a year ago) register over USSD and read the time of the draw and the
#     live stock; the gold member's registration weighs 4, the others' 2;
#   - at the window's close two "gateways" (tests/it/it_draw: the gateway's draw job, the injected
#     clock set to the opening) run the job at once: the draw is published once (one audit
#     record, one set of winners) with the winners' SMS in its outbox; the gateway that claimed
#     them is killed (SIGKILL) before it hands them to the link; a restart while its lease runs
#     sends nothing; two restarted gateways after the lease send each winner exactly one SMS;
#   - a winner claims over USSD and pays; a member not drawn reads their waiting-list position;
#     a member who did not register reads that the registration is closed;
#   - the other winner lets the deadline pass: the next round offers the unit to the next one in
#     the draw order (SMS), who claims it; the stock was never oversold;
#   - loyaltyctl draw re-runs the draw from the published seed: the same winners;
#   - the outbox drops, without an SMS, an entry to a wallet blocked since the offer and one whose
#     winner already claimed over USSD.
# Every date comes from the test's now (no literal date). The gateway keeps the real clock
# (before the gift day: its own job rounds find nothing due).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

TZNAME=Africa/Casablanca
CAT="$T/catalog.json"
GIFTDAYS="$T/giftdays.json"
TOMORROW=$(TZ=$TZNAME date -d '+1 day' +%Y-%m-%d)
DAY=${TOMORROW//-/}
OPEN_AT=$(TZ=$TZNAME date -d "$TOMORROW 10:00" +%s)
jq -n --arg tz "$TZNAME" --arg t "$TOMORROW" \
  '{timezone: $tz, weekly: [], special: [{name: "draw-day", start: ($t + "T10:00"),
                                          end: ($t + "T20:00")}]}' >"$GIFTDAYS"
jq '(.items[] | select(.id == "DATA_1GB")) |= (.stock_per_day = 2
      | .opening = {mode: "draw", register_hours: 48, claim_hours: 2, weights: {gold: 3}, tenure_per_year: 1})' \
  "$LGW_SRC/deploy/catalog.json" >"$CAT"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'"}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE [TIER]
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "${3:-standard}" since "$SINCE" \
    "l:$TODAY" "$2" lang en >/dev/null
}
M=(212612700001 212612700002 212612700003 212612700004 212612700005)
for m in "${M[@]}"; do sub "$m" 1000; done
sub "${M[4]}" 6000 gold
LATE=212612700009
sub $LATE 1000
start_gw
CLOSE_TEXT="$(LC_ALL=C TZ=$TZNAME date -d "@$OPEN_AT" '+%a %d/%m %H:%M')"

note "registration over USSD: the time of the draw and the live stock"
for i in 0 1 2 3 4; do
  phone "reg$i" "${M[$i]}" '*555*2*1#\n1\n1'
done
assert_eq "$(last $'You are registered for the 1 GB data draw.\nDraw: '"$CLOSE_TEXT"$'\nIn stock: 2')" \
  "$(screens_json reg0 | jq -c '.[2]')" "a member registers and reads when the draw is"
assert_eq 5 "$(rcli hlen "cat:{DATA_1GB}:dr:$DAY:reg")" "five registrations"
assert_eq "4 2" "$(rcli hget "cat:{DATA_1GB}:dr:$DAY:reg" "${M[4]}") $(rcli hget "cat:{DATA_1GB}:dr:$DAY:reg" "${M[0]}")" \
  "gold weighs 3, standard 1, each plus 1 for their year of membership"
assert_eq "1000 6000" "$(balance "${M[0]}") $(balance "${M[4]}")" "registering costs nothing"

note "the window closes: two gateways run the job at once, the draw is published once"
# the gateway (real clock) would drain the outbox too, through the handsets' SMSC: it waits
stop_gw
USSD_PORT=$SMSC_PORT # the handsets' port (the gateway's SMSC); the winners' SMS go to another
pick_port; while [ "$SMSC_PORT" = "$USSD_PORT" ]; do pick_port; done
SMS_PORT=$SMSC_PORT; SMSC_PORT=$USSD_PORT
start_sim sms --listen "127.0.0.1:$SMS_PORT" --record "$T/sms.rec" --timeout-s 120
sent_to() { jq -r 'select(.service_type != "USSD") | .dst' "$T/sms.rec" 2>/dev/null | sort; }
text_to() { jq -r --arg m "$1" 'select(.dst == $m) | .text' "$T/sms.rec" | tail -1 | tr -d '\n'; }
DRIVER="$LGW_BIN/tests/it_draw"
LEASE_S=120 # catalog.h CAT_DRAW_SMS_LEASE_S
OB="cat:{DATA_1GB}:dr:$DAY:ob"
"$DRIVER" --config "$T/gw.json" --now $((OPEN_AT + 5)) --smsc "$SMS_PORT" --kill-before-send \
  >"$T/round1a.json" 2>"$T/round1a.err" &
P1=$!
"$DRIVER" --config "$T/gw.json" --now $((OPEN_AT + 5)) --smsc "$SMS_PORT" --kill-before-send \
  >"$T/round1b.json" 2>"$T/round1b.err" &
P2=$!
RC1=0; wait $P1 || RC1=$?
RC2=0; wait $P2 || RC2=$?
[ $RC1 = 137 ] || [ $RC2 = 137 ] ||
  fail "no gateway was killed before the winners' SMS: $RC1 $RC2 $(cat "$T/round1a.err" "$T/round1b.err")"
ORDER=($(rcli lrange "cat:{DATA_1GB}:dr:$DAY:o" 0 -1))
assert_eq 5 "${#ORDER[@]}" "the draw order holds the five"
rcli xrange 'adm:{adm}:audit' - + >"$T/audit.txt"
assert_eq 1 "$(grep -c '^draw.run$' "$T/audit.txt")" "exactly one of the two published the draw (one audit record)"
assert_eq "" "$(sent_to)" "killed (kill -9) between the publish and the send: no SMS went"
assert_eq "$(printf '%s\n' "${ORDER[0]}" "${ORDER[1]}" | sort)" "$(rcli hkeys "$OB" | sort)" \
  "... the two winners wait in the outbox written with the draw"

note "gateways restarted while the dead one's lease runs: nothing new, nothing sent twice"
"$DRIVER" --config "$T/gw.json" --now $((OPEN_AT + 30)) --smsc "$SMS_PORT" >"$T/round2.json" 2>"$T/round2.err" ||
  fail "round 2: $(cat "$T/round2.err")"
assert_eq "0 0 0" "$(jq -r '"\(.published) \(.offers) \(.sms_sent)"' "$T/round2.json")" \
  "no second draw, no offer, no SMS while the claim may still be in flight"

note "the lease ran out: two restarted gateways at once resume the outbox, once per winner"
for g in a b; do
  "$DRIVER" --config "$T/gw.json" --now $((OPEN_AT + 5 + LEASE_S + 1)) --smsc "$SMS_PORT" \
    >"$T/round3$g.json" 2>"$T/round3$g.err" &
  eval "P$g=\$!"
done
wait $Pa || fail "resume (gateway a): $(cat "$T/round3a.err")"
wait $Pb || fail "resume (gateway b): $(cat "$T/round3b.err")"
assert_eq 0 "$(($(jq .published "$T/round3a.json") + $(jq .published "$T/round3b.json")))" "no second draw"
assert_eq 2 "$(($(jq .sms_sent "$T/round3a.json") + $(jq .sms_sent "$T/round3b.json")))" \
  "... the two winners' SMS sent by them"
assert_eq "$(printf '%s\n' "${ORDER[0]}" "${ORDER[1]}" | sort)" "$(sent_to)" \
  "each winner got exactly one SMS (the simulator's record)"
assert_eq 0 "$(rcli hlen "$OB")" "the outbox is empty once the SMSC accepted both"
DEADLINE=$(rcli hget "cat:{DATA_1GB}:dr:$DAY:w" "${ORDER[0]}" | cut -d, -f2)
DL_TEXT="$(LC_ALL=C TZ=$TZNAME date -d "@$DEADLINE" '+%a %d/%m %H:%M')"
assert_eq "Loyalty Club: you won 1 GB data in the draw! Claim it by $DL_TEXT: dial *555#" \
  "$(text_to "${ORDER[0]}")" "the winner's SMS names the gift and the claim deadline"
assert_eq 0 "$(rcli get "cat:{DATA_1GB}:s:$DAY")" "the two units left the day's stock at the draw"
AFTER=$(awk 'p == "after" {print; exit} {p = $0}' "$T/audit.txt")
SEED=$(jq -r .seed <<<"$AFTER")
assert_eq "5 2 ${ORDER[0]} ${ORDER[1]}" "$(jq -r '"\(.registered) \(.winners) \(.first | join(" "))"' <<<"$AFTER")" \
  "... with the entrants, the winners in draw order and the seed"

start_gw
note "the first winner claims over USSD and pays"
phone claim0 "${ORDER[0]}" '*555*2*1#\n1\n1'
assert_eq "$(menu $'Request received for 1 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)')" \
  "$(screens_json claim0 | jq -c '.[2]')" "the winner's claim is granted"
W0_BAL=1000; [ "${ORDER[0]}" = "${M[4]}" ] && W0_BAL=6000
assert_eq $((W0_BAL - 500)) "$(balance "${ORDER[0]}")" "... and charged the price"
phone again0 "${ORDER[0]}" '*555*2*1#\n1\n1'
assert_eq "$(last "You reached today's limit for 1 GB data.")" \
  "$(screens_json again0 | jq -c '.[2]')" "one unit per winner"

note "members not drawn, or not registered"
phone wait3 "${ORDER[3]}" '*555*2*1#\n1\n1'
assert_eq "$(last $'Not drawn for 1 GB data yet.\nWaiting list position: 2')" \
  "$(screens_json wait3 | jq -c '.[2]')" "the fourth in the order is second on the waiting list"
phone late $LATE '*555*2*1#\n1\n1'
assert_eq "$(last 'Registration for the 1 GB data draw is closed.')" \
  "$(screens_json late | jq -c '.[2]')" "a member who did not register: closed"

note "the second winner lets the deadline pass: the unit rolls down to the next in the order"
stop_gw
"$DRIVER" --config "$T/gw.json" --now $((DEADLINE + 200)) --smsc "$SMS_PORT" >"$T/round4.json" 2>"$T/round4.err" ||
  fail "round 4: $(cat "$T/round4.err")"
assert_eq "0 1 1" "$(jq -r '"\(.published) \(.offers) \(.sms_sent)"' "$T/round4.json")" \
  "one unit offered down the list, one SMS"
assert_eq "$(printf '%s\n' "${ORDER[0]}" "${ORDER[1]}" "${ORDER[2]}" | sort)" "$(sent_to)" \
  "the SMS went to the third in the draw order"
start_gw
phone lapsed "${ORDER[1]}" '*555*2*1#\n1\n1'
assert_eq "$(last 'You were not drawn for 1 GB data this time.')" \
  "$(screens_json lapsed | jq -c '.[2]')" "the winner who let the deadline pass has lost it"
phone claim2 "${ORDER[2]}" '*555*2*1#\n1\n1'
assert_eq "$(menu $'Request received for 1 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)')" \
  "$(screens_json claim2 | jq -c '.[2]')" "the next on the list claims the unit"
assert_eq 0 "$(rcli get "cat:{DATA_1GB}:s:$DAY")" "never more units than the stock"
assert_eq 2 "$(rcli hlen "cat:{DATA_1GB}:r:$DAY")" "two units redeemed in all"

note "the draw re-run from the published seed"
"$LGW_BIN/gateway/loyaltyctl" --config "$T/gw.json" draw DATA_1GB "$DAY" "$SEED" 2 >"$T/rerun.out" 2>"$T/rerun.err" ||
  fail "loyaltyctl draw: $(cat "$T/rerun.err")"
assert_eq "${ORDER[0]} ${ORDER[1]}" "$(tail -n +2 "$T/rerun.out" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')" \
  "the same winners in the same order"
stop_gw

note "the outbox drops what needs no SMS: a blocked wallet, an offer claimed before its SMS"
W="cat:{DATA_1GB}:dr:$DAY:w"
LATER=$((DEADLINE + 3 * 3600))
rcli hset "$W" "${ORDER[3]}" "p,$LATER" >/dev/null # offered (as a roll-down writes it) ...
rcli hset "$OB" "${ORDER[3]}" "$LATER,0,0" "${ORDER[2]}" "$LATER,0,0" >/dev/null
rcli hset "lg:{${ORDER[3]}}:w" blocked 1 >/dev/null # ... to a wallet blocked since
"$DRIVER" --config "$T/gw.json" --now $((DEADLINE + 400)) --smsc "$SMS_PORT" >"$T/round5.json" 2>"$T/round5.err" ||
  fail "round 5: $(cat "$T/round5.err")"
assert_eq "1 0 1" "$(jq -r '"\(.offers) \(.sms_sent) \(.sms_skipped)"' "$T/round5.json")" \
  "the blocked member's entry is claimed and dropped without an SMS; the claimed one not even claimed"
assert_eq 0 "$(rcli hlen "$OB")" "the outbox is empty"
assert_eq 3 "$(sent_to | wc -l)" "no SMS more than the three winners'"
if [ "$REDIS_ACL" = 1 ]; then # LGW_IT_ACL=1: the job's keys and its audit record are allowed
  assert_eq "" "$(rcli acl log)" "the ACL refused nothing"
fi
finish

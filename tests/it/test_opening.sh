#!/usr/bin/env bash
# A fair, calm gift-day opening (issue 12 s3) end to end: real SMPP (smsc-sim as a scripted
# handset), a real redis-server, the shipped menus and catalogue with 1 GB data opened staggered
# (4 cohorts over 8 hours, so cohort k is let in 2 h * k after the opening), a gift-day calendar
# with a special window that opened two hours before the test's now and one tomorrow at 10:00.
#   - a member of cohort 0 redeems; a member of a later cohort confirms and reads their slot in
#     local time (the programme's zone) and the live stock, and is charged nothing;
#   - 5 GB data opened by tier over 8 hours (gold, then silver, then everyone): a gold member
#     redeems at the opening, a silver one reads the slot of silver;
#   - the day-before SMS (broadcast.slot_sms): planned by the gateway for tomorrow's gift day,
#     paused in the quiet hours (nothing sent), then each opted-in member gets their own slot
#     once, in their language, within the link's TPS; opted-out and blocked members get nothing;
#     a restart sends nobody a second one;
# Every date comes from the test's now (no literal date).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

TZNAME=Africa/Casablanca
CAT="$T/catalog.json"
GIFTDAYS="$T/giftdays.json"

# cohort MSISDN N: catalog/cat_catalog.c cat_cohort() (FNV-1a 32, fmix32, (h * n) >> 32)
cohort() {
  local m=$1 n=$2 h=2166136261 i c
  for ((i = 0; i < ${#m}; i++)); do
    printf -v c '%d' "'${m:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  h=$(((h ^ (h >> 16)) & 0xffffffff)); h=$((h * 0x85ebca6b & 0xffffffff))
  h=$(((h ^ (h >> 13)) & 0xffffffff)); h=$((h * 0xc2b2ae35 & 0xffffffff))
  h=$(((h ^ (h >> 16)) & 0xffffffff))
  echo $(((h * n) >> 32))
}
# first MSISDN from $1 upwards in cohort $2 of 4
in_cohort() {
  local m=$1
  while [ "$(cohort $m 4)" != "$2" ]; do m=$((m + 1)); done
  echo $m
}

START_LOCAL=$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)
OPEN_AT=$(TZ=$TZNAME date -d "${START_LOCAL/T/ }" +%s) # the regular opening (unix s)
GIFT_DAY=${START_LOCAL:0:10}; GIFT_DAY=${GIFT_DAY//-/}
TOMORROW=$(TZ=$TZNAME date -d '+1 day' +%Y-%m-%d)
TOMORROW_OPEN=$(TZ=$TZNAME date -d "$TOMORROW 10:00" +%s)
jq -n --arg tz "$TZNAME" --arg s "$START_LOCAL" \
  --arg e "$(TZ=$TZNAME date -d '+6 hours' +%Y-%m-%dT%H:%M)" --arg t "$TOMORROW" \
  '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e},
                                         {name: "tomorrow", start: ($t + "T10:00"),
                                          end: ($t + "T20:00")}]}' >"$GIFTDAYS"
jq '(.items[] | select(.id == "DATA_1GB")) |= (.opening = {mode: "staggered", cohorts: 4,
                                                          minutes: 480})
    | (.items[] | select(.id == "DATA_5GB")) |= (.opening = {mode: "staggered", by: "tier",
                                                          tiers: ["gold", "silver"], minutes: 480})' \
  "$LGW_SRC/deploy/catalog.json" >"$CAT"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'"}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE [TIER]: an enrolled subscriber whose points were all earned today
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "${3:-standard}" since "$SINCE" \
    "l:$TODAY" "$2" lang en >/dev/null
}
EARLY=$(in_cohort 212612300000 0)
LATE=$(in_cohort 212612300000 2)
sub "$EARLY" 1000; sub "$LATE" 1000
GOLD=212612300100; SILVER=212612300101
sub $GOLD 6000 gold; sub $SILVER 3000 silver
start_gw
stock() { rcli get "cat:{$1}:s:$GIFT_DAY"; }

# ---------------------------------------------------------------- 1. the member's slot
note "cohort 0 ($EARLY) is let in at the opening; cohort 2 ($LATE) 4 hours after it"
phone early "$EARLY" '*555*2*1#\n1\n1'
assert_eq "$(menu $'Request received for 1 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)')" \
  "$(screens_json early | jq -c '.[2]')" "a member of the first cohort redeems at the opening"
assert_eq 500 "$(balance "$EARLY")" "... and is charged"

SLOT_AT=$((OPEN_AT + 2 * 2 * 3600))
SLOT_TEXT="$(LC_ALL=C TZ=$TZNAME date -d "@$SLOT_AT" '+%a %d/%m %H:%M')"
# the menus read the stock from a cache refreshed every second: the unit just taken shows once it
# has been refreshed (dialled again until then, at most 10 times)
for try in $(seq 10); do
  phone late "$LATE" '*555*2*1#\n1\n1'
  want="$(last $'1 GB data opens in waves.\nYour slot: '"$SLOT_TEXT"$'\nIn stock: '"$(stock DATA_1GB)")"
  [ "$want" = "$(screens_json late | jq -c '.[2]')" ] && break
  sleep 1
done
assert_eq "$want" "$(screens_json late | jq -c '.[2]')" \
  "a member not yet released reads their slot in local time and the live stock"
assert_eq 1000 "$(balance "$LATE")" "... and is charged nothing"
assert_eq 999 "$(stock DATA_1GB)" "... and takes no stock"

note "5 GB data by tier: gold at the opening, silver 160 minutes later, everyone else at 320"
phone gold $GOLD '*555*2*2#\n1\n1'
assert_eq "$(menu $'Request received for 5 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)')" \
  "$(screens_json gold | jq -c '.[2]')" "a gold member redeems at the opening"
SILVER_SLOT="$(LC_ALL=C TZ=$TZNAME date -d "@$((OPEN_AT + 160 * 60))" '+%a %d/%m %H:%M')"
for try in $(seq 10); do # the stock cache again
  phone silver $SILVER '*555*2*2#\n1\n1'
  want="$(last $'5 GB data opens in waves.\nYour slot: '"$SILVER_SLOT"$'\nIn stock: '"$(stock DATA_5GB)")"
  [ "$want" = "$(screens_json silver | jq -c '.[2]')" ] && break
  sleep 1
done
assert_eq "$want" "$(screens_json silver | jq -c '.[2]')" "a silver member reads the slot of silver"
assert_eq "4000 3000" "$(balance $GOLD) $(balance $SILVER)" "gold charged, silver not"

stop_gw

# ---------------------------------------------------------------- 2. the day-before SMS
D=${TOMORROW//-/}
CAMPAIGN="bc:{bc}:c:slot-$D"
N=40
BASE=212612400000 # opted in: BASE+1 .. BASE+N, languages en fr ar fa in turn
OUT=212612500001  # opted out
BLK=212612500002  # opted in, blocked
LANGS=(en fr ar fa)
{
  for i in $(seq 1 $N); do
    echo "SADD bc:{bc}:optin $((BASE + i))"
    echo "HSET lg:{$((BASE + i))}:w bal 10 life 10 rem 0 lang ${LANGS[$((i % 4))]}"
  done
  echo "HSET lg:{$OUT}:w bal 10 life 10 rem 0 lang en"
  echo "SADD bc:{bc}:optin $BLK"
  echo "HSET lg:{$BLK}:w bal 10 life 10 rem 0 lang en blocked 1"
} | rcli --pipe >/dev/null
slot_of() { # MSISDN -> its slot tomorrow for 1 GB data as the English SMS writes it
  LC_ALL=C TZ=$TZNAME date -d "@$((TOMORROW_OPEN + $(cohort "$1" 4) * 2 * 3600))" '+%a %d/%m %H:%M'
}
# 5 GB data: these members have no tier in their wallet: everyone else's cohort, 320 minutes in
SLOT5=$(LC_ALL=C TZ=$TZNAME date -d "@$((TOMORROW_OPEN + 320 * 60))" '+%H:%M')
H=$(TZ=$TZNAME date +%H); H=$((10#$H))
slot_config() { # quiet start, quiet end
  ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                                 {name: "silver", min_points: 1000, multiplier_pct: 110},
                                 {name: "gold", min_points: 5000, multiplier_pct: 125}]
    | .smpp.tps = 20
    | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'"}
    | .broadcast = {enabled: true, poll_ms: 200, lease_ms: 5000, slot_sms: true, slot_sms_hour: 0}
    | .expiry.quiet_start_hour = '"$1"' | .expiry.quiet_end_hour = '"$2"
}
start_sim sms --listen "127.0.0.1:$SMSC_PORT" --record "$T/sms.rec" --timeout-s 300
# the SMS recorded (a long one is several submit_sm: its first part counts, UDH sequence 01)
sent_to() {
  jq -r 'select(.service_type != "USSD" and ((.udh_hex // "01") | endswith("01"))) | .dst' \
    "$T/sms.rec" 2>/dev/null | sort
}
text_to() { jq -r --arg m "$1" 'select(.dst == $m) | .text' "$T/sms.rec" | tr -d '\n'; }

note "the quiet hours ($H:00 to $(((H + 2) % 24)):00 local) hold the campaign back"
slot_config "$H" "$(((H + 2) % 24))"
start_gw
wait_for 30 grep -q "campaign{slot-$D} paused: quiet hours" "$T/gw.log" ||
  fail "the slot campaign was not planned, or not paused"
wait_for 5 sh -c "[ \"\$(jq -r .broadcast.planned '$T/gw-stats.json')\" = 1 ]"
assert_eq 1 "$(gw_stat .broadcast.planned)" "the gateway planned tomorrow's slot campaign"
assert_eq "" "$(sent_to)" "nothing is sent in the quiet hours"
stop_gw

note "after the quiet hours: each opted-in member once, their own slot, their language"
slot_config 0 0
start_gw
wait_for 60 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK hget '$CAMPAIGN' state)\" = done ]" ||
  fail "the slot campaign did not finish: $(rcli hgetall "$CAMPAIGN" | tr '\n' ' ')"
assert_eq "$(seq 1 $N | awk -v b=$BASE '{printf "%.0f\n", b + $1}' | sort)" "$(sent_to)" \
  "one SMS to every opted-in member, none to the opted-out or the blocked one"
M=$((BASE + 4)) # en
assert_eq "Loyalty Club: gift day tomorrow. Your slot: 1 GB data $(slot_of $M), 5 GB data $(slot_of $M | cut -d' ' -f1-2) $SLOT5. Dial *555#" \
  "$(text_to $M)" "the member's own slot (English)"
M=$((BASE + 1)) # fr
FR_SLOT=$(slot_of $M | cut -d' ' -f2-)
assert_eq "Club Fidélité : journée cadeaux demain. Votre créneau : 1 Go Internet $(LC_ALL=C TZ=$TZNAME date -d "@$TOMORROW_OPEN" +%a | sed 's/Sun/dim./;s/Mon/lun./;s/Tue/mar./;s/Wed/mer./;s/Thu/jeu./;s/Fri/ven./;s/Sat/sam./') $FR_SLOT, 5 Go Internet $(LC_ALL=C TZ=$TZNAME date -d "@$TOMORROW_OPEN" +%a | sed 's/Sun/dim./;s/Mon/lun./;s/Tue/mar./;s/Wed/mer./;s/Thu/jeu./;s/Fri/ven./;s/Sat/sam./') $(slot_of $M | cut -d' ' -f2) $SLOT5. Composez *555#" \
  "$(text_to $M)" "the member's own slot (French)"
M=$((BASE + 2)) # ar
assert_eq "8 1" "$(jq -r --arg m $M 'select(.dst == $m) | .data_coding' "$T/sms.rec" | sort -u) $(text_to $M | grep -c "1 جيغا إنترنت .* $(slot_of $M | cut -d' ' -f2-)، \|1 جيغا إنترنت .* $(slot_of $M | cut -d' ' -f2-), ")" \
  "an Arabic member: Arabic text in UCS-2 with the item's Arabic name and their slot"
wait_for 5 test -s "$T/gw-stats.json"
PEAK=$(gw_stat .smpp.submit_peak_1s)
[ "$PEAK" -ge 1 ] && [ "$PEAK" -le 21 ] && echo "ok - within the link's TPS (busiest second $PEAK <= 20 + burst)" ||
  fail "busiest second of the link: $PEAK submits at smpp.tps 20"
assert_eq "$N 1" "$(rcli hget "$CAMPAIGN" sent) $(rcli hget "$CAMPAIGN" skipped)" \
  "the campaign's figures: $N sent, the blocked member skipped"
stop_gw

note "a restart the same day sends nobody a second SMS"
BEFORE=$(sent_to | wc -l)
start_gw
wait_for 10 grep -q 'catalogue' "$T/gw.log"
sleep 2 # a few polls: the plan finds the campaign done (no second one for this gift day)
assert_eq "$BEFORE" "$(sent_to | wc -l)" "once per member per gift day"
assert_eq 1 "$(rcli zcard 'bc:{bc}:all')" "one campaign for the gift day"
stop_gw
finish

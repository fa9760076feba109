#!/usr/bin/env bash
# A fair, calm gift-day opening (issue 12 s3) end to end: real SMPP (smsc-sim as a scripted
# handset), a real redis-server, the shipped menus and catalogue with 1 GB data opened staggered
# (4 cohorts over 24 hours, so cohort k is let in 6 h * k after the opening), a gift-day calendar
# whose special window opened two hours before the test's now.
#   - a member of cohort 0 redeems; a member of a later cohort confirms and reads their slot in
#     local time (the programme's zone) and the live stock, and is charged nothing;
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
jq -n --arg tz "$TZNAME" --arg s "$START_LOCAL" \
  --arg e "$(TZ=$TZNAME date -d '+20 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}]}' >"$GIFTDAYS"
jq '(.items[] | select(.id == "DATA_1GB")) |= (.opening = {mode: "staggered", cohorts: 4,
                                                          minutes: 1440})' \
  "$LGW_SRC/deploy/catalog.json" >"$CAT"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'"}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE: an enrolled standard subscriber whose points were all earned today
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier standard since "$SINCE" "l:$TODAY" "$2" \
    lang en >/dev/null
}
EARLY=$(in_cohort 212612300000 0)
LATE=$(in_cohort 212612300000 2)
sub "$EARLY" 1000; sub "$LATE" 1000
start_gw
stock() { rcli get "cat:{$1}:s:$GIFT_DAY"; }

# ---------------------------------------------------------------- 1. the member's slot
note "cohort 0 ($EARLY) is let in at the opening; cohort 2 ($LATE) 12 hours after it"
phone early "$EARLY" '*555*2*1#\n1\n1'
assert_eq "$(last 'Request received for 1 GB data. You will get an SMS confirmation.')" \
  "$(screens_json early | jq -c '.[2]')" "a member of the first cohort redeems at the opening"
assert_eq 500 "$(balance "$EARLY")" "... and is charged"

SLOT_AT=$((OPEN_AT + 2 * 6 * 3600))
SLOT_TEXT="$(LC_ALL=C TZ=$TZNAME date -d "@$SLOT_AT" '+%a %d/%m %H:%M')"
phone late "$LATE" '*555*2*1#\n1\n1'
assert_eq "$(last $'1 GB data opens in waves.\nYour slot: '"$SLOT_TEXT"$'\nIn stock: '"$(stock DATA_1GB)")" \
  "$(screens_json late | jq -c '.[2]')" \
  "a member not yet released reads their slot in local time and the live stock"
assert_eq 1000 "$(balance "$LATE")" "... and is charged nothing"
assert_eq 999 "$(stock DATA_1GB)" "... and takes no stock"

stop_gw
finish

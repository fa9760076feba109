#!/usr/bin/env bash
# Issue 12 section 1, "a change to stock or limits applies to the gift day under way": the stock
# half is in test_one_truth.sh; this is the limit half. A member redeems DATA_1GB (limit 1 per
# gift day) on a handset, is refused the second time; marketing raises the limit to 2 in the
# console; the running gateway takes the stored catalogue and the same member, the same gift day,
# is granted the second unit; lowered back to 1, a third is refused. Real redis-server, the real
# gateway over SMPP (the simulator's handsets), loyalty-admin over HTTP.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
TZNAME=Africa/Casablanca

jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "open-now", start: $s, end: $e}]}' >"$T/giftdays.json"
start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$LGW_SRC/deploy/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'",
                docs_poll_ms: 300}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
M=212612700001
rcli hset "lg:{$M}:w" bal 2000 life 2000 rem 0 tier standard since "$(date -d '-1 year' +%s)" "l:$TODAY" 2000 lang en >/dev/null
add_staff mia marketing marketing-secret-1
start_admin
MKT=$(login mia marketing-secret-1)
start_gw
wait_logged 'catalogue from cfg:{adm}:catalog version 1' 1 "the gateway follows the seeded catalogue"

phone a $M '*555*2*1#\n1\n1'
assert_eq 1500 "$(balance $M)" "the first DATA_1GB of the gift day: granted"
phone b $M '*555*2*1#\n1\n1'
assert_eq 1500 "$(balance $M)" "the second: refused by the limit of 1"
screens_json b | jq -r '.[-1].text' | grep -qi 'limit' && echo "ok - the handset reads the limit refusal" ||
  fail "no limit refusal on the handset: $(screens_json b)"

api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"limit_per_day": 2}'
assert_eq "200 2" "$CODE $(j .version)" "marketing raises the limit to 2"
wait_logged 'catalogue from cfg:{adm}:catalog version 2' 1 "the running gateway takes it"
phone c $M '*555*2*1#\n1\n1'
assert_eq 1000 "$(balance $M)" "the same member, the same gift day: the second unit is granted"

api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"limit_per_day": 1}'
assert_eq "200 3" "$CODE $(j .version)" "lowered back to 1"
wait_logged 'catalogue from cfg:{adm}:catalog version 3' 1 "the gateway takes it"
phone d $M '*555*2*1#\n1\n1'
assert_eq 1000 "$(balance $M)" "a third is refused: two taken, the limit is 1"
stop_gw
stop_admin
finish

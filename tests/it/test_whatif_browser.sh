#!/usr/bin/env bash
# The console's what-if in the real browser (issue 12 section 2): recharges of the last two days
# pushed through the gateway over SMPP (journaled on disk), loyalty-admin with the console's files
# and loyaltyctl as its worker; tests/browser/whatif.test.js runs a what-if on a draft with a
# doubled TOPUP rate from the loyalty page in English, French and Arabic: progress bar, the side
# by side table (in force = the wallets), the ten changes masked; then two members redeem on
# handsets (journaled) and the catalogue page's what-if at twice the prices shows twice the cost
# and the one member who could no longer afford it. Screenshots kept in /tmp/lgw-whatif.*
# (paths printed). The campaign rules page shows the stored rules with their version, and its
# what-if of a draft doubling the welcome bonus pays exactly twice the bonus points.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
source "$(dirname "$0")/ussd_helpers.sh"
TZNAME=Africa/Casablanca

browser_deps
NOW=$(date -u +%s)
: >"$T/w.events"
for i in $(seq 0 79); do
  at=$((NOW - 3600 - (79 - i) * 1800))
  printf 'TOPUP ref=WB-%d msisdn=2126003%05d amount=%d.%03d currency=MAD at=%s\n' "$i" $((i % 20)) \
    $((i * 7 % 300 + 1)) $((i * 37 % 1000)) "$(date -u -d "@$at" +%FT%TZ)" >>"$T/w.events"
done
start_redis
start_sim sim --events "$T/w.events" --window 5 --exit-when-done --timeout-s 60
# a slow login (yescrypt on a saturated machine) must not miss its Redis deadline
write_config "$SIM_PORT" ".journal.dir = \"$T/journal\" | .redis.request_timeout_ms = 5000"
start_gw
wait_sim sim 60
stop_gw
assert_eq 80 "$(sim_json sim '.final.ESME_ROK')" "every event committed"
ISSUED=0
for s in $(seq 0 19); do ISSUED=$((ISSUED + $(balance "$(printf '2126003%05d' "$s")"))); done
note "the wallets hold $ISSUED points"

# two redemptions of DATA_1GB (500 points) on handsets, journaled: at 1000 points the member of
# 600 can no longer afford it, the member of 1500 still can
jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "open-now", start: $s, end: $e}]}' >"$T/giftdays.json"
pick_port
# (the catalogue names silver and gold: tiers no member of this test reaches, so the table's
# earnings stay those of the events above)
ussd_config ".journal.dir = \"$T/journal\" | .redis.request_timeout_ms = 5000
  | .loyalty.tiers = [{name: \"standard\", min_points: 0, multiplier_pct: 100},
                      {name: \"silver\", min_points: 1000000, multiplier_pct: 100},
                      {name: \"gold\", min_points: 2000000, multiplier_pct: 100}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: \"$LGW_SRC/deploy/catalog.json\", giftdays_file: \"$T/giftdays.json\"}"
TODAY=$(TZ=$TZNAME date +%Y%m%d)
for mb in 212612600001:600 212612600002:1500; do
  rcli hset "lg:{${mb%%:*}}:w" bal "${mb#*:}" life "${mb#*:}" rem 0 tier standard since "$(date -d '-1 year' +%s)" \
    "l:$TODAY" "${mb#*:}" lang en >/dev/null
done
start_gw
phone r1 212612600001 '*555*2*1#\n1\n1'
phone r2 212612600002 '*555*2*1#\n1\n1'
stop_gw
assert_eq "100 1000" "$(balance 212612600001) $(balance 212612600002)" "two redemptions of DATA_1GB"
assert_eq 2 "$(cat "$T/journal"/*.lj | grep -c ' D ')" "both journaled"

add_staff mia marketing marketing-secret-1
start_admin --static "$LGW_SRC/admin/web" --whatif-ctl "$LGW_BIN/gateway/loyaltyctl" --login-per-min 100
# the campaign rules are a stored document the console shows too (issue 12 section 1)
MKT=$(login mia marketing-secret-1)
# (every member of the events above joined in the window: a welcome of 50 each in force)
api PUT /api/campaign-rules "$MKT" "$(jq -nc --arg s "$(date -d '-5 days' +%F)" --arg e "$(date -d '+30 days' +%F)" \
  '{version: 0, document: {version: "wb-1", campaigns: [{id: "welcome", rule: "welcome", start: $s, end: $e,
    budget: 5000, points: 50, tiers: {gold: 80}}]}}')"
assert_eq 200 "$CODE" "campaign rules stored ($(cat "$T/r.json"))"
RULES_VERSION=$(j .version)
SHOTS=$(mktemp -d /tmp/lgw-whatif.XXXXXX)
set +e
CONSOLE_URL="$URL" ARTIFACTS="$SHOTS" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  USER_NAME=mia USER_PASSWORD=marketing-secret-1 BASE_ISSUED="$ISSUED" \
  CAT_SPENT=1000 CAT_COST=2000 CAT_REFUSED=1 RULES_VERSION="$RULES_VERSION" BASE_BONUS=$((20 * 50)) \
  timeout 400 node "$LGW_SRC/tests/browser/whatif.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en fr ar; do
  for p in whatif whatif-catalog whatif-rules; do
    [ -s "$SHOTS/$p-$lang.png" ] && echo "ok - screenshot $p-$lang.png" || fail "no screenshot $p-$lang.png"
  done
done
finish

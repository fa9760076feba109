#!/usr/bin/env bash
# The console's charts (issue 12 §4) in headless Chromium, in English, French and Arabic, on real
# data: a real redis-server and the real gateway replay a sample day over SMPP (points per day),
# handsets redeem two items through the simulator (top items, the live board's redemptions per
# minute), loyalty-admin serves admin/web with the vendored Chart.js (--point-value 0.05: the
# liability in money). tests/browser/charts.test.js checks each chart's axis titles, gridlines,
# ticks, tooltips, item and tier names in the viewer's language, the right-to-left layout in
# Arabic and the isolation of Latin-script values in Arabic sentences, and takes screenshots,
# kept in a temp directory of their own, /tmp/lgw-charts.* (paths printed). The vendored chart.umd.min.js must be the
# npm original of the pinned version. Then tests/browser/pages.test.js visits every page as an
# auditor in each language (a screenshot of each, page-<id>-<lang>.png, in the same directory).
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
source "$(dirname "$0")/browser_helpers.sh"
TZNAME=Africa/Casablanca

browser_deps
if cmp -s "$DEPS/node_modules/chart.js/dist/chart.umd.min.js" "$LGW_SRC/admin/web/vendor/chart.umd.min.js"; then
  echo "ok - admin/web/vendor/chart.umd.min.js is the npm original of chart.js $(jq -r .version "$DEPS/node_modules/chart.js/package.json")"
else
  fail "admin/web/vendor/chart.umd.min.js differs from npm's chart.js $(jq -r .version "$DEPS/node_modules/chart.js/package.json")"
fi

# ------------------------------------------------------------------ points per day: a sample day
start_redis
sample_day

# ------------------------------------------------------------------ redemptions on handsets
jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "open-now", start: $s, end: $e}]}' >"$T/giftdays.json"
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$LGW_SRC/deploy/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'"}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE TIER
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "$3" since "$(date -d "-1 year" +%s)" "l:$TODAY" "$2" lang en >/dev/null
}
sub 212612400001 6000 gold
sub 212612400002 3000 silver
sub 212612400003 3000 silver
# wallets written behind the ledger's back: the aggregates the reports read are recomputed once,
# as after an upgrade (docs/operations.md)
"$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" agg-check --repair >"$T/repair.out" ||
  fail "agg-check --repair: $(cat "$T/repair.out")"
start_gw
phone a 212612400001 '*555*2*1#\n1\n1'
phone b 212612400002 '*555*2*1#\n1\n1'
phone c 212612400003 '*555*2*2#\n1\n1'
assert_eq "5500 2500 1000" "$(balance 212612400001) $(balance 212612400002) $(balance 212612400003)" \
  "three redemptions on handsets: 2 x DATA_1GB, 1 x DATA_5GB"

# ------------------------------------------------------------------ the console
add_staff mia marketing marketing-secret-1
start_admin --static "$LGW_SRC/admin/web" --point-value 0.05 --login-per-min 100
MKT=$(login mia marketing-secret-1)
# a catalogue version string of the console's own making ("<date>.a2"), Latin script in the
# Arabic page's sentence "In force: catalogue ... (version 2)"
api PATCH /api/catalog/items/SMS_100 "$MKT" '{"limit_per_day": 2}'
assert_eq 200 "$CODE" "an item edited: the catalogue's version string is $(rcli hget 'cfg:{adm}:catalog' doc | jq -r .version)"
CAT_VERSION=$(rcli hget 'cfg:{adm}:catalog' doc | jq -r .version)
LIABILITY=0
for k in $(rcli --scan --pattern 'lg:{*}:w'); do LIABILITY=$((LIABILITY + $(rcli hget "$k" bal))); done
note "liability: $LIABILITY points"

# lib.sh removes $T after a green run: the screenshots get a temp directory of their own, kept
SHOTS=$(mktemp -d /tmp/lgw-charts.XXXXXX)
set +e
CONSOLE_URL="$URL" ARTIFACTS="$SHOTS" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  USER_NAME=mia USER_PASSWORD=marketing-secret-1 LIABILITY="$LIABILITY" POINT_VALUE=0.05 CAT_VERSION="$CAT_VERSION" \
  timeout 300 node "$LGW_SRC/tests/browser/charts.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
n=0
for lang in en fr ar; do
  for p in reports board; do
    [ -s "$SHOTS/$p-$lang.png" ] && n=$((n + 1)) || fail "no screenshot $p-$lang.png"
  done
done
assert_eq 6 "$n" "screenshots of the reports and the board in each language"

# every page of the console, in each language, as an auditor (the role that sees them all)
add_staff ada auditor auditor-secret-33
set +e
CONSOLE_URL="$URL" ARTIFACTS="$SHOTS" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  USER_NAME=ada USER_PASSWORD=auditor-secret-33 MSISDN=212612400001 \
  timeout 400 node "$LGW_SRC/tests/browser/pages.test.js" 2>&1 | tee "$T/pages.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "every page in English, French and Arabic"
PAGES=$(grep -o 'page-[a-z]*-en\.png' "$T/pages.log" | sed 's/^page-//; s/-en\.png$//' | sort -u)
n=0
for lang in en fr ar; do
  for p in $PAGES; do
    [ -s "$SHOTS/page-$p-$lang.png" ] && n=$((n + 1)) || fail "no screenshot page-$p-$lang.png"
  done
done
assert_ge 42 "$n" "a screenshot of each of the $(wc -w <<<"$PAGES") pages in each language ($(echo $PAGES))"
echo "# screenshots:"
ls -1 "$SHOTS"/*.png 2>/dev/null | sed 's/^/#   /' || true

stop_gw
stop_admin
finish

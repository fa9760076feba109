#!/usr/bin/env bash
# The make-good page of the staff console in headless Chromium (issue 10 section 5): a real
# redis-server holding two failed sessions of a gift day (written as the gateway writes them,
# gateway/wire_brakes.c: one paid and unfinished, one that lost the store before the
# confirmation) and their wallets, and loyalty-admin serving admin/web;
# tests/browser/makegood.test.js reads the page as care in English and Arabic and grants a
# priority pass for next week (once: the Arabic re-run finds both compensated), and as marketing
# (numbers masked, no grant); care also releases a member's points held by the velocity caps. Screenshots in $LGW_BIN/artifacts/makegood/. The store and the
# audit are checked from here. Owner: the fraud brakes engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
ART="$LGW_BIN/artifacts/makegood"

browser_deps
start_redis
write_config 1
# Days are the programme's local days (lib.sh's config: Africa/Casablanca), as the gateway and the
# console count them: in UTC the test's "today" is another day for the hour around local midnight.
export TZ=Africa/Casablanca
DAY=$(date -d '-1 day' +%Y%m%d)
NOW=$(date +%s)
A=212636000001
B=212636000002
rcli hset "lg:mg:{mg}:$DAY" $A "processing,$((NOW - 3600))" $B "unavailable,$((NOW - 1800))" >/dev/null
for m in $A $B; do rcli hset "lg:{$m}:w" bal 100 life 100 tier standard >/dev/null; done
UNTIL=$(date -d '+7 days' +%Y%m%d)
HELD=212636000003 # 10 points held by the velocity caps (gateway/lua/commit.lua)
rcli hset "lg:{$HELD}:w" bal 100 life 100 tier standard hold 10 >/dev/null

add_staff mia marketing marketing-secret-1
add_staff carl care care-secret-2222
start_admin --static "$LGW_SRC/admin/web" --login-per-min 100
set +e
CONSOLE_URL="$URL" ARTIFACTS="$ART" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  MKT_PASSWORD=marketing-secret-1 CARE_PASSWORD=care-secret-2222 FULL=$A DAY=$DAY HELD=$HELD \
  UNTIL="$(date -d "$UNTIL" +%F)" timeout 300 node "$LGW_SRC/tests/browser/makegood.test.js" 2>&1 |
  tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en ar; do
  [ -s "$ART/makegood-$lang.png" ] && echo "ok - screenshot makegood-$lang.png" ||
    fail "no screenshot makegood-$lang.png"
done
assert_eq "$UNTIL:store-down $UNTIL:store-down" \
  "$(rcli hget "lg:{$A}:w" pp) $(rcli hget "lg:{$B}:w" pp)" "both members hold the pass"
assert_eq 2 "$(rcli xrevrange 'adm:{adm}:audit' + - COUNT 20 | grep -c -x makegood.grant)" \
  "each grant action audited once"
assert_eq "110 " "$(rcli hget "lg:{$HELD}:w" bal) $(rcli hget "lg:{$HELD}:w" hold)" \
  "the released points are in the balance"
stop_admin
finish

#!/usr/bin/env bash
# The console's what-if in the real browser (issue 12 section 2): recharges of the last two days
# pushed through the gateway over SMPP (journaled on disk), loyalty-admin with the console's files
# and loyaltyctl as its worker; tests/browser/whatif.test.js runs a what-if on a draft with a
# doubled TOPUP rate from the loyalty page in English, French and Arabic: progress bar, the side
# by side table (in force = the wallets), the ten changes masked. Screenshots kept in
# /tmp/lgw-whatif.* (paths printed).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"

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

add_staff mia marketing marketing-secret-1
start_admin --static "$LGW_SRC/admin/web" --whatif-ctl "$LGW_BIN/gateway/loyaltyctl" --login-per-min 100
SHOTS=$(mktemp -d /tmp/lgw-whatif.XXXXXX)
set +e
CONSOLE_URL="$URL" ARTIFACTS="$SHOTS" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  USER_NAME=mia USER_PASSWORD=marketing-secret-1 BASE_ISSUED="$ISSUED" \
  timeout 400 node "$LGW_SRC/tests/browser/whatif.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en fr ar; do
  [ -s "$SHOTS/whatif-$lang.png" ] && echo "ok - screenshot whatif-$lang.png" || fail "no screenshot whatif-$lang.png"
done
finish

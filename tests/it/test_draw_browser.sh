#!/usr/bin/env bash
# The draw page of the staff console (issue 12 s3) over its API and in headless Chromium: a real
# redis-server holding one published draw of DATA_1GB (opened by draw in the catalogue the console
# seeds from) for tomorrow, written as catalog/lua/draw.lua writes it (docs/data-model.md "Per
# item: the draw"): six registrations, the order computed by loyaltyctl draw from a seed, two
# winners - the first claimed, the second expired and its unit rolled down to the third, pending
# with its SMS still in the outbox. loyalty-admin serves admin/web.
#   - the API: marketing reads the numbers masked, care and the auditor whole; every path segment
#     and the day are validated (400), an item with no draw is 404; the digest loyaltyctl prints
#     for the seed is the one shown (the auditor reproduces the draw);
#   - tests/browser/draws.test.js reads the page as marketing in English, French and Arabic (right
#     to left) and as the auditor (numbers whole, read only). Screenshots in
#     $LGW_BIN/artifacts/draws/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
ART="$LGW_BIN/artifacts/draws"

browser_deps
start_redis
CAT="$T/catalog.json"
jq '(.items[] | select(.id == "DATA_1GB")) |= (.stock_per_day = 2
      | .opening = {mode: "draw", register_hours: 48, claim_hours: 2})' \
  "$LGW_SRC/deploy/catalog.json" >"$CAT"
write_config 1 '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                                  {name: "silver", min_points: 1000, multiplier_pct: 110},
                                  {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .catalog = {file: "'"$CAT"'"}'
DAY=$(date -d '+1 day' +%Y%m%d)
NOW=$(date +%s)
P="cat:{DATA_1GB}:dr:$DAY"
for i in 1 2 3 4 5 6; do rcli hset "$P:reg" "21263600000$i" "$i" >/dev/null; done
SEED="DATA_1GB-$DAY-00c0ffee00c0ffee"
"$LGW_BIN/gateway/loyaltyctl" --config "$T/gw.json" draw DATA_1GB "$DAY" "$SEED" >"$T/order.out" ||
  fail "loyaltyctl draw"
ORDER=($(tail -n +2 "$T/order.out" | awk '{print $2}'))
assert_eq 6 "${#ORDER[@]}" "loyaltyctl orders the six"
"$LGW_BIN/gateway/loyaltyctl" --config "$T/gw.json" draw DATA_1GB "$DAY" "$SEED" 2 >"$T/rerun.out" ||
  fail "loyaltyctl draw (2 winners)"
DIGEST=$(head -1 "$T/rerun.out" | sed -n 's/.*digest \([0-9a-f]*\)$/\1/p')
[ ${#DIGEST} = 16 ] || fail "loyaltyctl prints the winners' digest: $(head -1 "$T/rerun.out")"
for i in "${!ORDER[@]}"; do
  rcli rpush "$P:o" "${ORDER[$i]}" >/dev/null
  rcli hset "$P:p" "${ORDER[$i]}" $((i + 1)) >/dev/null
done
DL1=$((NOW - 3600)); DL2=$((NOW + 3600))
rcli hset "$P:w" "${ORDER[0]}" "c,$DL1" "${ORDER[1]}" "x,$DL1" "${ORDER[2]}" "p,$DL2" >/dev/null
rcli hset "$P:ob" "${ORDER[2]}" "$DL2,0,0" >/dev/null
rcli hset "$P:m" seed "$SEED" entrants 6 winners 2 digest "$DIGEST" at $((NOW - 7200)) next 3 \
  open 1 >/dev/null
rcli set 'cat:{DATA_1GB}:dr:cur' "$DAY" >/dev/null

add_staff mia marketing marketing-secret-1
add_staff carl care care-secret-2222
add_staff aude auditor auditor-secret-33
start_admin --static "$LGW_SRC/admin/web" --login-per-min 100
MKT=$(login mia marketing-secret-1)
CARE=$(login carl care-secret-2222)
AUD=$(login aude auditor-secret-33)

note "the API"
api GET /api/draws/DATA_1GB "$MKT"
assert_eq 200 "$CODE" "marketing reads the last draw"
assert_eq "$DAY 6 true $SEED $DIGEST 2 3 1" \
  "$(jq -r '"\(.day) \(.registrations) \(.drawn) \(.seed) \(.digest) \(.winners) \(.reached) \(.open)"' "$T/r.json")" \
  "day, registrations, seed, digest, winners, the waiting list reached, units in play"
assert_eq "1 claimed false|2 expired false|3 pending true" \
  "$(jq -r '[.offers[] | "\(.rank) \(.state) \(.sms_queued)"] | join("|")' "$T/r.json")" \
  "the offers in draw order with their state and the SMS still queued"
assert_eq "true" "$(jq '[.offers[].msisdn | test("^[*]+[0-9]{4}$")] | all' "$T/r.json")" \
  "marketing reads the numbers masked"
assert_eq "loyaltyctl draw DATA_1GB $DAY $SEED 2" "$(jq -r .rerun "$T/r.json")" "the command that re-runs it"
api GET "/api/draws/DATA_1GB?day=$DAY" "$CARE"
assert_eq "200 ${ORDER[0]} ${ORDER[2]}" "$CODE $(jq -r '"\(.offers[0].msisdn) \(.offers[2].msisdn)"' "$T/r.json")" \
  "care reads the numbers whole"
api GET "/api/draws/DATA_1GB?day=$DAY" "$AUD"
assert_eq "200 $DL2" "$CODE $(jq -r '.offers[2].deadline' "$T/r.json")" "the auditor reads it, with the deadlines"
api GET "/api/draws/DATA_1GB?day=12345" "$MKT"
assert_eq 400 "$CODE" "a day that is no YYYYMMDD: 400"
api GET "/api/draws/DATA_1GB?day=$(date -d '+2 days' +%Y%m%d)" "$MKT"
assert_eq "200 false 0" "$CODE $(jq -r '"\(.drawn) \(.registrations)"' "$T/r.json")" "a day without a draw: not drawn"
api GET "/api/draws/$(printf 'X%.0s' $(seq 1 40))" "$MKT"
assert_eq 400 "$CODE" "an item id too long: 400"
api GET "/api/draws/VOICE_60" "$MKT"
assert_eq 404 "$CODE" "an item that never had a draw: 404"
api GET "/api/draws/DATA_1GB" ""
assert_eq 401 "$CODE" "no session: 401"
rerun=$(tail -n +2 "$T/rerun.out" | awk '{print $2}' | tr '\n' ' ')
assert_eq "${ORDER[0]} ${ORDER[1]} " "$rerun" "the auditor's re-run gives the published winners"

note "the page in Chromium"
set +e
CONSOLE_URL="$URL" ARTIFACTS="$ART" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  MKT_PASSWORD=marketing-secret-1 AUD_PASSWORD=auditor-secret-33 FULL="${ORDER[2]}" \
  SEED="$SEED" DIGEST="$DIGEST" DAY="$DAY" NEXT_DAY="$(date -d "+2 days" +%Y%m%d)" \
  timeout 300 node "$LGW_SRC/tests/browser/draws.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en fr ar; do
  [ -s "$ART/draws-$lang.png" ] && echo "ok - screenshot draws-$lang.png" ||
    fail "no screenshot draws-$lang.png"
done
assert_eq 0 "$(rcli xrange "adm:{adm}:audit" - + | grep -c "^draw" || true)" "reading the draw records nothing"
stop_admin
finish

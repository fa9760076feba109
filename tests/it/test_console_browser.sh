#!/usr/bin/env bash
# The staff console in headless Chromium (issue 5 part 2): a real redis-server, the SMSC simulator
# and the gateway replay a sample day; loyalty-admin serves admin/web; tests/browser/console.test.js
# (playwright-core driving Debian's /usr/bin/chromium) logs in, schedules a special gift day, adds
# an item to the catalogue, watches the live board and the reports, creates reminder campaigns
# (live SMS segment counter, "now" / a chosen local time / the next opening, cancel) and watches
# one go out through the gateway and the simulator until sent = N, opens a subscriber and adjusts
# points, switches to French and Arabic (dir=rtl), and reads the audit trail. Screenshots of every
# page are kept in $LGW_BIN/artifacts/console/. The store and the simulator's record are checked
# from here too.
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
M=212612345678
ART="$LGW_BIN/artifacts/console"

browser_deps

# ------------------------------------------------------------------ data from the real gateway
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_redis
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
start_gw
wait_sim sim 60
stop_gw
assert_eq 18 "$(balance $M)" "the sample day gave $M 18 points"

# ------------------------------------------------------------------ a gateway that sends reminders
# The gateway again, now with the reminder broadcast on (it needs the menu file for the SMS side),
# bound to a simulator that records every submit_sm; a 2 SMS/s link so the page sees the figures
# move; a calendar file whose next regular opening is a known instant ("next opening" campaigns).
# The file seeds the console's store (issue 12 §1): the page shows it as version 1, and the
# browser's first save keeps its "launch" window. The browser adds a special day SPECIAL_DAY
# 18:00 local, which is then the stored calendar's next opening: the one the broadcast resolves
# (the weekly day is five days ahead, after it).
SPECIAL_DAY=$(date -d '+3 days' +%F)
LAUNCH_DAY=$(date -d '+60 days' +%F) # after both, always ahead
jq -n --arg ld "$LAUNCH_DAY" --arg wd "$(TZ=Africa/Casablanca date -d '+5 days' +%A | tr 'A-Z' 'a-z')" '{timezone: "Africa/Casablanca",
  weekly: [{day: $wd, start: "00:00", end: "23:59:59"}],
  special: [{name: "launch", start: ($ld + "T10:00"), end: ($ld + "T22:00")}]}' >"$T/giftdays.json"
NEXT_EPOCH=$(TZ=Africa/Casablanca date -d "$SPECIAL_DAY 18:00" +%s)
start_sim bsim --record "$T/bc.rec" --timeout-s 900
write_config "$SIM_PORT" '.smpp.tps = 2 | .broadcast = {enabled: true, poll_ms: 300, max_in_flight: 2} |
  .ussd = {menus_file: "'"$LGW_SRC"'/deploy/ussd-menus.json"} | .catalog.giftdays_file = "'"$T"'/giftdays.json"'
start_gw

echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null

pre=()
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect --log-file="$T/adm-valgrind.log")
fi
"${pre[@]+"${pre[@]}"}" "$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" \
  --static "$LGW_SRC/admin/web" --login-per-min 100 >"$T/adm.out" 2>>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 60 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/adm.port")"
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(printf 'a%.0s' $(seq 64))' $URL/api/me)\" = 401 ]" ||
  fail "loyalty-admin does not answer"

# ------------------------------------------------------------------ opt-in, through the API (care)
OPTED=(212612345678 212661000001 212700111222 212661000002 212655443322 212661000003)
AR_SUB=212661000001 # chose Arabic on USSD: gets the Arabic text
rcli hset "lg:{$AR_SUB}:w" lang ar >/dev/null
CARL=$(curl -s -H 'Content-Type: application/json' -d '{"user":"carl","password":"care-secret-2222"}' \
  "$URL/api/login" | jq -r .token)
for s in "${OPTED[@]}"; do
  code=$(curl -s -o "$T/optin.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $CARL" \
    -H 'Content-Type: application/json' -d '{}' "$URL/api/subscribers/$s/optin")
  [ "$code $(jq -r .optin "$T/optin.json")" = "200 true" ] || fail "opt-in of $s: $code $(cat "$T/optin.json")"
done
assert_eq "${#OPTED[@]}" "$(rcli scard 'bc:{bc}:optin')" "care opted ${#OPTED[@]} subscribers in through the API"
BC_FR="Journée cadeaux aujourd'hui ! Composez *555*2# pour choisir votre cadeau."
BC_AR='يوم الهدايا اليوم! اطلب *555*2# لاختيار هديتك.'
# A local time in the calendar's zone (the seeded calendar's: Africa/Casablanca) and
# its instant by the system's tzdata, to check the page's own conversion (Intl) against.
LATER_DAY=$(date -d '+10 days' +%F)
LATER_LOCAL="${LATER_DAY}T09:30"
LATER_EPOCH=$(TZ=Africa/Casablanca date -d "$LATER_DAY 09:30" +%s)

# ------------------------------------------------------------------ the browser
rm -rf "$ART"
mkdir -p "$ART"
set +e
BC_N=${#OPTED[@]} BC_FR="$BC_FR" BC_AR="$BC_AR" LATER_LOCAL="$LATER_LOCAL" LATER_EPOCH="$LATER_EPOCH" \
  NEXT_EPOCH="$NEXT_EPOCH" SPECIAL_DAY="$SPECIAL_DAY" CONSOLE_URL="$URL" ARTIFACTS="$ART" MSISDN="$M" NODE_PATH="$DEPS/node_modules" \
  USERS='{"marketing":["mia","marketing-secret-1"],"care":["carl","care-secret-2222"],"auditor":["ada","auditor-secret-33"]}' \
  timeout 300 node "$LGW_SRC/tests/browser/console.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"

# ------------------------------------------------------------------ what the browser did, in the store
assert_eq 43 "$(balance $M)" "the adjustment made in the browser is in the wallet"
case "$(rcli hget 'cfg:{adm}:giftdays' doc)" in *web-launch*) echo "ok - the special gift day is in the stored calendar" ;;
  *) fail "calendar: $(rcli hget 'cfg:{adm}:giftdays' doc | head -c 300)" ;; esac
case "$(rcli hget 'cfg:{adm}:catalog' doc)" in *WEB_2GB*) echo "ok - the new item is in the stored catalogue" ;;
  *) fail "catalogue: $(rcli hget 'cfg:{adm}:catalog' doc | head -c 300)" ;; esac
whats=$(rcli xrange 'adm:{adm}:audit' - + | grep -A1 '^what$' | grep -v '^what$' | grep -v '^--' | sort -u | tr '\n' ' ')
for w in giftdays.put catalog.put catalog.item.patch subscriber.adjust subscriber.optin campaign.create campaign.cancel; do
  case " $whats" in *" $w "*) echo "ok - audit record: $w" ;; *) fail "no audit record $w in: $whats" ;; esac
done
n=0
for p in 01-login 02-giftdays 03-catalog 04-board 05-reports 06-deadletters 07-subscriber 08-subscriber-ar 09-audit \
         10-campaigns 11-campaigns-ar; do
  [ -s "$ART/$p.png" ] && n=$((n + 1)) || fail "no screenshot $p.png"
done
assert_eq 11 "$n" "a screenshot of each page in $ART"

# ------------------------------------------------------------------ what the SMSC got
# The campaign made in the browser: each opted-in subscriber once, in their language; the
# campaign cancelled and the one for the launch day (60 days ahead) sent nothing.
stop_gw
jq -c 'select(.service_type == "" and .status == "ESME_ROK") | [.dst, .data_coding, .text]' "$T/bc.rec" >"$T/bc-ok.jsonl"
assert_eq "${#OPTED[@]}" "$(wc -l <"$T/bc-ok.jsonl")" "the SMSC accepted ${#OPTED[@]} reminders"
assert_eq "$(printf '%s\n' "${OPTED[@]}" | sort | tr '\n' ' ')" "$(jq -r '.[0]' "$T/bc-ok.jsonl" | sort | tr '\n' ' ')" \
  "one reminder to each opted-in subscriber, nobody else"
assert_eq "$AR_SUB 8" "$(jq -r --arg t "$BC_AR" 'select(.[2] == $t) | "\(.[0]) \(.[1])"' "$T/bc-ok.jsonl")" \
  "the Arabic text (UCS-2) to the subscriber whose language is Arabic"
assert_eq "$((${#OPTED[@]} - 1))" "$(jq -r --arg t "$BC_FR" 'select(.[2] == $t and .[1] == 0) | .[0]' "$T/bc-ok.jsonl" | wc -l)" \
  "the French text (default, GSM-7) to the others"
# ------------------------------------------------------------------ the new item on a handset
# The item added in the browser is in the catalogue document in Redis; a gateway with a catalogue
# follows that document (wire_cfgdocs), so a subscriber dialling *555# through the simulator sees
# it in the Data category.
source "$(dirname "$0")/ussd_helpers.sh"
pick_port
write_config "$SMSC_PORT" '.ussd = {menus_file: "'"$LGW_SRC"'/deploy/ussd-menus.json"}
  | .loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                      {name: "silver", min_points: 1000, multiplier_pct: 110},
                      {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .catalog = {file: "'"$LGW_SRC"'/deploy/catalog.json", giftdays_file: "'"$T"'/giftdays.json",
                docs_poll_ms: 300}'
start_gw
wait_for 20 grep -q 'catalogue from cfg:{adm}:catalog' "$T/gw.log" ||
  fail "the gateway did not load the console's catalogue document"
phone handset "$M" '*555#\n3\n1'
data_screen=$(screens_json handset | jq -r '.[2].text')
case "$data_screen" in
  *"2 Go Internet - 750 pts"*) echo "ok - the item added in the browser is on the handset's Data screen" ;;
  *) fail "the handset's Data screen lacks the new item: $data_screen" ;;
esac
stop_gw

# ------------------------------------------------------------------ local times, through the API
# The page sends a wall-clock time with the calendar's zone; the API converts it with tzdata.
MIA=$(curl -s -H 'Content-Type: application/json' -d '{"user":"mia","password":"marketing-secret-1"}' \
  "$URL/api/login" | jq -r .token)
bc_post() { # body: the answer's status and field
  curl -s -o "$T/bc.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $MIA" \
    -H 'Content-Type: application/json' --data-binary "$1" "$URL/api/campaigns"
  echo " $(jq -r '.field // ""' "$T/bc.json")"
}
# The next spring-forward in Paris still ahead (the last Sunday of March): 02:30 does not exist.
GAP_DAY=
for y in $(date -u +%Y) $(($(date -u +%Y) + 1)); do
  d=$(date -u -d "$y-03-31 -$(date -u -d "$y-03-31" +%w) days" +%F)
  if [ -z "$GAP_DAY" ] && [ "$(date -u -d "$d" +%s)" -gt "$(date -u +%s)" ]; then GAP_DAY=$d; fi
done
assert_eq "400 send_at" "$(bc_post '{"id":"gap","texts":{"fr":"x"},"send_at":"'"$GAP_DAY"'T02:30","zone":"Europe/Paris"}')" \
  "a local time the clocks skip (Paris, $GAP_DAY 02:30) is refused"
assert_eq "400 zone" "$(bc_post '{"id":"gap","texts":{"fr":"x"},"send_at":"'"$GAP_DAY"'T09:30","zone":"Mars/Olympus"}')" \
  "an unknown zone is refused"
assert_eq "400 send_at" "$(bc_post '{"id":"gap","texts":{"fr":"x"},"send_at":"now","zone":"UTC"}')" \
  "a zone goes with a local time only"
assert_eq 0 "$(rcli exists 'bc:{bc}:c:gap')" "the refused requests created nothing"
code=$(curl -s -o "$T/bc.json" -w '%{http_code}' -H "Authorization: Bearer $MIA" "$URL/api/campaigns?zone=UTC")
assert_eq "200 $(date -u -d "@$LATER_EPOCH" '+%F %H:%M')" "$code $(jq -r '.campaigns[] | select(.id == "web-later") | .send_at_local' "$T/bc.json")" \
  "?zone= gives each campaign's send_at in that zone"
code=$(curl -s -o "$T/bc.json" -w '%{http_code}' -H "Authorization: Bearer $MIA" "$URL/api/campaigns/web-later?zone=No/Such")
assert_eq "400 zone" "$code $(jq -r .field "$T/bc.json")" "?zone= with an unknown zone: 400"

kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0 after SIGTERM"
# Valgrind 3.19 does not know openat2 (syscall 437): it answers ENOSYS, which sends the admin down
# its openat(O_NOFOLLOW) fallback, and prints a five-line warning that is not an error of ours.
vg_errors() {
  grep -v -E '^--[0-9]+-- (WARNING: unhandled amd64-linux syscall: 437|You may be able to write your own handler\.|Read the file README_MISSING_SYSCALL_OR_IOCTL\.|Nevertheless we consider this a bug\.  Please report|it at http://valgrind\.org/support/bug_reports\.html\.)$' "$1" || true
}
if [ "${LGW_VALGRIND:-0}" = 1 ] && [ -n "$(vg_errors "$T/adm-valgrind.log")" ]; then
  fail "valgrind reported: $(vg_errors "$T/adm-valgrind.log" | head -c 2000)"
fi
finish

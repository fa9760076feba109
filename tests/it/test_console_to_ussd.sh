#!/usr/bin/env bash
# From the staff console to the subscriber's handset (issue 5): marketing edits the catalogue
# through the real loyalty-admin API over HTTP, and the real gateway (deploy/catalog.json as its
# bootstrap file, a real redis-server) follows the stored document: the simulator's handset sees
# the new item in the USSD catalogue screen, redeems it, and after the item is stopped through the
# API (kill switch cat:{ITEM}:k) the same item is refused and no longer listed. A document that
# fails validation is never loaded (written behind the API's back; the API refuses it anyway).
# The kill switch mirror, start-up from the stored documents, SIGHUP precedence and the
# calendar document are covered too. Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
DUP="$LGW_BIN/tests/it_ussd_dup"
TZNAME=Africa/Casablanca
POLL_MS=300

# ---------------------------------------------------------------- files: the bootstrap
# The shipped catalogue; a calendar open now (special window from 2 h ago to 3 h ahead).
cp "$LGW_SRC/deploy/catalog.json" "$T/catalog.json"
open_calendar() {
  jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
    --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
    '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}]}'
}
open_calendar >"$T/giftdays.json"
GIFT_DAY=$(TZ=$TZNAME date -d '-2 hours' +%Y%m%d)
TODAY=$(TZ=$TZNAME date +%Y%m%d)

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$T/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'",
                docs_poll_ms: '"$POLL_MS"'}'

sub() { # MSISDN BALANCE: an enrolled standard subscriber, points earned today, in English
  rcli del "lg:{$1}:w" "lg:{$1}:h" >/dev/null
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier standard since "$SINCE" "l:$TODAY" "$2" \
    lang en >/dev/null
}
A=212612200001 # browses before and after
B=212612200002 # redeems the new item
K=212612200003 # confirmation screen shown, then the item is stopped
sub $A 1000; sub $B 5000; sub $K 5000
start_gw

data_screen() { # NAME MSISDN: the Data category screen of a fresh dialogue
  phone "$1" "$2" '*555#\n3\n1'
  screens_json "$1" | jq -r '.[2].text'
}
EN_UNAVAILABLE=$(jq -r '.menus.en.refused_unavailable.text' "$MENUS")

note "the gateway starts on its files: nothing is stored in Redis yet"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n0 Back' "$(data_screen before $A)" \
  "the Data screen from deploy/catalog.json"
assert_eq 0 "$(logged 'catalogue from cfg:{adm}:catalog')" "no document: the file stays"

# ---------------------------------------------------------------- the console
add_staff mia marketing marketing-secret-1
add_staff ada auditor auditor-secret-33
start_admin
MKT=$(login mia marketing-secret-1)
AUD=$(login ada auditor-secret-33)

# ---------------------------------------------------------------- 1. a new item
note "marketing PUTs the catalogue with a new item at the end (item 7)"
NEW_ITEM='{"id": "DATA_10GB", "category": "data",
  "names": {"ar": "10 جيغا إنترنت", "fr": "10 Go Internet", "en": "10 GB data", "fa": "۱۰ گیگابایت اینترنت"},
  "descriptions": {"ar": "10 جيغا", "fr": "10 Go", "en": "10 GB of mobile data", "fa": "۱۰ گیگابایت"},
  "price": 3000, "tier": "standard", "stock_per_day": 50, "limit_per_day": 1,
  "fulfil": {"type": "provisioning", "kind": "data", "quantity": 10, "unit": "GB"}}'
DOC=$(jq -c --argjson it "$NEW_ITEM" '.version = "console-1" | .items += [$it]' "$T/catalog.json")
api PUT /api/catalog "$MKT" "{\"version\":1,\"document\":$DOC}"
assert_eq "200 2" "$CODE $(j .version)" "PUT /api/catalog: version 2 (version 1: the file, seeded)"
wait_logged 'catalogue from cfg:{adm}:catalog version 2: "console-1", 7 items' 1 \
  "the gateway loads the stored catalogue within its poll interval"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n3 10 GB data - 3000 pts\n0 Back' \
  "$(data_screen after $A)" "the handset's catalogue screen lists the new item"

note "the new item is redeemable like any other"
phone redeem $B '*555*2*7#\n1\n1'
expect_screens redeem "the new item: item screen, confirmation, granted" \
  "$(menu $'10 GB data (code 7)\nPrice: 3000 points\nIn stock: 50\n1 Redeem\n0 Back')" \
  "$(menu $'Redeem 10 GB data for 3000 points?\n1 Yes, confirm\n2 No')" \
  "$(menu $'Request received for 10 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)')"
assert_eq 2000 "$(balance $B)" "3000 points debited"
assert_eq 49 "$(rcli get "cat:{DATA_10GB}:s:$GIFT_DAY")" "one unit of the new item's stock taken"
assert_eq console-1 "$(rcli xrange cat:fulfil - + | grep -A1 '^version$' | tail -1)" \
  "the fulfilment entry names the stored document's version"

# ---------------------------------------------------------------- 2. the kill switch
note "a dialogue reaches the confirmation screen of the new item; marketing stops it; the subscriber confirms"
rm -f "$T/go-kill"
"$DUP" "$SMSC_PORT" $K 11 500 '*555*2*7#' 1 "wait:$T/go-kill" 1 >"$T/kill.out" 2>"$T/kill.log" &
DUP_PID=$!
wait_for 20 sh -c "[ \$(grep -c '\"kind\":\"screen\"' '$T/kill.out') -ge 2 ]" || fail "no confirmation screen"
n_kill=$(logged 'DATA_10GB killed')
api PATCH /api/catalog/items/DATA_10GB "$MKT" '{"kill":true}'
assert_eq "200 3 true" "$CODE $(j .version) $(j .kill)" "PATCH kill: 200, catalogue version 3"
assert_eq 1 "$(rcli exists 'cat:{DATA_10GB}:k')" "the shared kill switch cat:{DATA_10GB}:k is set"
case "$(rcli get 'cat:{DATA_10GB}:k')" in mia@*) echo "ok - the key says who stopped it" ;;
  *) fail "kill key value: $(rcli get 'cat:{DATA_10GB}:k')" ;; esac
touch "$T/go-kill"
wait "$DUP_PID" || fail "it_ussd_dup failed"
# Two refusals are right, depending on whether this gateway's poll has already mirrored the stop
# when the answer arrives: the reserve script refuses on the shared key (the menu file's
# "unavailable" outcome), or the item is no longer offered and the dialogue says the service is
# unavailable and goes back to the main menu (the USSD engine's answer to an item gone).
KILL_SCREEN=$(jq -s -c '[.[] | select(.kind == "screen") | {text, op, "end": .end}] | .[2]' "$T/kill.out")
EN_GONE=$(jq -r '.labels.en.unavailable' "$MENUS")
EN_FROZEN=$(jq -r '.menus.en.refused_frozen.text' "$MENUS") # mirrored: stopped for now
case "$(jq -r .text <<<"$KILL_SCREEN")" in
  "$EN_UNAVAILABLE" | "$EN_FROZEN" | "$EN_GONE"$'\n'*) echo "ok - the confirmation after the stop is refused ($(jq -r .text <<<"$KILL_SCREEN" | head -1))" ;;
  *) fail "the confirmation after the stop: $KILL_SCREEN" ;;
esac
assert_eq 5000 "$(balance $K)" "nothing debited"
assert_eq 49 "$(rcli get "cat:{DATA_10GB}:s:$GIFT_DAY")" "no stock taken"
wait_logged 'DATA_10GB killed' $((n_kill + 1)) "the gateway mirrors the kill switch in memory"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n0 Back' "$(data_screen killed $A)" \
  "a stopped item is no longer listed"
api GET "/api/audit?count=5" "$AUD"
assert_eq "catalog.item.patch DATA_10GB true false" \
  "$(j '[.items[] | select(.what == "catalog.item.patch")][0] | "\(.what) \(.target) \(.after.kill) \(.after.enabled)"')" \
  "the stop is audited with the kill switch in its after"

note "resume: the key is deleted and the item comes back"
n_rev=$(logged 'DATA_10GB revived')
api PATCH /api/catalog/items/DATA_10GB "$MKT" '{"kill":false}'
assert_eq "200 4 false" "$CODE $(j .version) $(j .kill)" "PATCH kill false: 200, version 4"
assert_eq 0 "$(rcli exists 'cat:{DATA_10GB}:k')" "the kill switch is cleared"
wait_logged 'catalogue from cfg:{adm}:catalog version 4' 1 "version 4 loaded"
wait_logged 'DATA_10GB revived' $((n_rev + 1)) "the gateway mirrors the resume"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n3 10 GB data - 3000 pts\n0 Back' \
  "$(data_screen resumed $A)" "the resumed item is listed again"

note "the kill switch set by anyone (another console, an operator) is mirrored too"
rcli set 'cat:{DATA_1GB}:k' ops >/dev/null
wait_logged 'DATA_1GB killed' 1 "a key set in Redis is mirrored"
assert_eq $'Data\n1 5 GB data - 2000 pts\n2 10 GB data - 3000 pts\n0 Back' "$(data_screen key $A)" \
  "an item killed by its key is hidden from the menu"
rcli del 'cat:{DATA_1GB}:k' >/dev/null
wait_logged 'DATA_1GB revived' 1 "its removal is mirrored"

# ---------------------------------------------------------------- 3. bad documents
note "an invalid catalogue: the API refuses it; written behind its back, the gateway never loads it"
BAD=$(jq -c '.version = "console-bad" | .items[6].price = 0' <<<"$DOC")
api PUT /api/catalog "$MKT" "{\"version\":4,\"document\":$BAD}"
assert_eq "422 document.items[6].price" "$CODE $(j .field)" "the API refuses an invalid catalogue (422)"
assert_eq 4 "$(rcli hget 'cfg:{adm}:catalog' version)" "nothing stored"
rcli hset 'cfg:{adm}:catalog' doc "$BAD" version 5 >/dev/null
wait_logged 'catalogue cfg:{adm}:catalog version 5 refused, keeping the current one: items\[6\].price' 1 \
  "the gateway refuses the invalid version 5 with the library's reason"
rcli hset 'cfg:{adm}:catalog' doc '{"version": "x", "items": [' version 6 >/dev/null
wait_logged 'catalogue cfg:{adm}:catalog version 6 refused' 1 "and a document that is not JSON"
assert_eq 0 "$(logged 'catalogue from cfg:{adm}:catalog version [56]')" "neither is ever loaded"
sleep 1 # a few more polls: a refused version is neither re-read nor logged again
assert_eq 1 "$(logged 'version 6 refused')" "a refused version is reported once"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n3 10 GB data - 3000 pts\n0 Back' \
  "$(data_screen badkept $A)" "the last good catalogue stays in force"
# put back a good document through the API (its version counter is 6 now)
DOC6=$(jq -c '.version = "console-6"' <<<"$DOC")
api PUT /api/catalog "$MKT" "{\"version\":6,\"document\":$DOC6}"
assert_eq "200 7" "$CODE $(j .version)" "a good document after the bad ones"
wait_logged 'catalogue from cfg:{adm}:catalog version 7: "console-6"' 1 "loaded"

# ---------------------------------------------------------------- 4. the calendar document
note "the gift-day calendar document: closed until the day after tomorrow"
NEXT_DATE=$(TZ=$TZNAME date -d '+2 days' +%Y-%m-%d)
CLOSED=$(jq -n -c --arg tz "$TZNAME" --arg s "${NEXT_DATE}T10:00" --arg e "${NEXT_DATE}T20:00" \
  '{timezone: $tz, weekly: [], special: [{name: "later", start: $s, end: $e}]}')
api PUT /api/giftdays "$MKT" "{\"version\":1,\"document\":$CLOSED}"
assert_eq "200 2" "$CODE $(j .version)" "PUT /api/giftdays"
wait_logged 'gift-day calendar from cfg:{adm}:giftdays version 2' 1 "the gateway loads the calendar"
phone closed $A '*555*2*1#'
case "$(screens_json closed | jq -r '.[0].text')" in
  *"$(date -d "$NEXT_DATE" +%d/%m) 10:00"*) echo "ok - the item screen shows the stored calendar's next opening" ;;
  *) fail "closed item screen: $(screens_json closed | jq -r '.[0].text')" ;;
esac
api PUT /api/giftdays "$MKT" "{\"version\":2,\"document\":$(open_calendar | jq -c .)}"
assert_eq "200 3" "$CODE $(j .version)" "the calendar opened again"
wait_logged 'gift-day calendar from cfg:{adm}:giftdays version 3' 1 "loaded"

# ---------------------------------------------------------------- 5. precedence
note "SIGHUP reloads the files, then the stored documents win again"
n=$(logged 'catalogue from cfg:{adm}:catalog version 7')
kill -HUP "$GW_PID"
wait_logged 'catalogue and gift days reloaded' 1 "the files are reloaded"
wait_logged 'catalogue from cfg:{adm}:catalog version 7' $((n + 1)) "the stored catalogue is applied again"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n3 10 GB data - 3000 pts\n0 Back' \
  "$(data_screen hup $A)" "after SIGHUP the menu is the stored document's"

note "a restart starts from the stored documents"
stop_gw
start_gw
wait_logged 'catalogue from cfg:{adm}:catalog version 7' $((n + 2)) "loaded at start-up"
wait_logged 'gift-day calendar from cfg:{adm}:giftdays version 3' 2 "calendar loaded at start-up"
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n3 10 GB data - 3000 pts\n0 Back' \
  "$(data_screen restart $A)" "after a restart the menu is the stored document's"

note "catalog.follow_redis_docs false: the files rule"
stop_gw
jq '.catalog.follow_redis_docs = false' "$T/gw.json" >"$T/gw.json.tmp" && mv "$T/gw.json.tmp" "$T/gw.json"
start_gw
assert_eq $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n0 Back' "$(data_screen files $A)" \
  "not following: the Data screen is the file's"
stop_gw
stop_admin
finish

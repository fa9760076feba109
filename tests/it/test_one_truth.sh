#!/usr/bin/env bash
# One source of truth (issue 12 §1), each reproduction of main's defects as a check, with real
# parts only: a real redis-server, the real gateway (catalogue, calendar and reminder broadcast on
# their deploy-style files, the simulator's handsets over SMPP), loyalty-admin over real HTTP.
#   - the files seed an empty store at the console's first start (version 1, audited as a seed),
#     and never again: the console shows the catalogue the gateways use (was: "No catalogue is
#     stored yet") and the calendar in force, with its version and who set it;
#   - the first calendar save keeps the file's cancelled day, new-year-eve window and gold's early
#     opening (was: the page started from a template and dropped them);
#   - the "next 8 openings" preview starts with the window open now (was: left out);
#   - a stock change reaches the gift day under way: "left" moves by the difference, down to 0,
#     once per change, audited, and the next redemption on a handset takes from the moved figure
#     (was: "stock/day 40, left 970");
#   - "send at the next opening" of a reminder reads the stored calendar, not the file;
#   - the loyalty table is a stored document too: seeded from the configuration, checked by the
#     gateway's own parser (422 naming the key), versioned, audited, and taken by the running
#     gateway without a file or a SIGHUP (a top-up earns by the new rate); the same for the USSD
#     menus (a handset sees the new title).
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
TZNAME=Africa/Casablanca
POLL_MS=300

# ---------------------------------------------------------------- the files (every date from now)
# A weekly day three days ahead (its next opening is days away), one of its dates cancelled, the
# next new-year eve, gold one hour early, and a special window open now (-2 h .. +3 h).
WEEKDAY=$(TZ=$TZNAME date -d '+3 days' +%A | tr 'A-Z' 'a-z')
CANCELLED=$(TZ=$TZNAME date -d '+17 days' +%F)
NYE_YEAR=$(($(TZ=$TZNAME date +%Y) + 1))
OPEN_S=$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)
OPEN_E=$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)
GIFT_DAY=$(TZ=$TZNAME date -d '-2 hours' +%Y%m%d)
TODAY=$(TZ=$TZNAME date +%Y%m%d)
jq -n --arg tz "$TZNAME" --arg wd "$WEEKDAY" --arg c "$CANCELLED" --arg y "$NYE_YEAR" \
  --arg s "$OPEN_S" --arg e "$OPEN_E" '{timezone: $tz,
    weekly: [{day: $wd, start: "00:00", end: "23:59:59"}],
    cancelled: [$c],
    special: [{name: "open-now", start: $s, end: $e},
              {name: "new-year-eve", start: ($y + "-12-31T18:00"), end: ($y + "-12-31T23:59:59")}],
    premium: {tiers: ["gold"], early_minutes: 60}}' >"$T/giftdays.json"
cp "$LGW_SRC/deploy/catalog.json" "$T/catalog.json"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .broadcast = {enabled: true, poll_ms: 300}
  | .catalog = {file: "'"$T/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'",
                docs_poll_ms: '"$POLL_MS"'}'
sub() { # MSISDN BALANCE: an enrolled standard subscriber, in English
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier standard since "$(date -d "-1 year" +%s)" "l:$TODAY" "$2" \
    lang en >/dev/null
}
B1=212612300001
B2=212612300002
sub $B1 5000
sub $B2 5000
start_gw

note "a redemption on the gateway's files before the console ever ran: one unit of DATA_1GB taken"
phone r1 $B1 '*555*2*1#\n1\n1'
assert_eq 4500 "$(balance $B1)" "500 points debited"
assert_eq 999 "$(rcli get "cat:{DATA_1GB}:s:$GIFT_DAY")" "stock/day 1000, left 999"
assert_eq 0 "$(rcli exists 'cfg:{adm}:giftdays' 'cfg:{adm}:catalog')" "nothing stored yet"

# ---------------------------------------------------------------- the console's first start
add_staff mia marketing marketing-secret-1
add_staff ada auditor auditor-secret-33
start_admin
MKT=$(login mia marketing-secret-1)
AUD=$(login ada auditor-secret-33)

note "the files seed the empty store: what the gateways use is what the console shows"
api GET /api/catalog "$MKT"
assert_eq "200 1 sample.1 6 seed" "$CODE $(j .version) $(j .document.version) $(j '.document.items | length') $(j .updated_by)" \
  "GET /api/catalog: the gateway's catalogue file, version 1, set by the seed"
api GET /api/giftdays "$MKT"
assert_eq "200 1 $CANCELLED new-year-eve gold 60" \
  "$CODE $(j .version) $(j '.document.cancelled[0]') $(j '.document.special[1].name') $(j '.document.premium.tiers[0]') $(j .document.premium.early_minutes)" \
  "GET /api/giftdays: the gateway's calendar file, version 1"
api GET "/api/audit?count=10" "$AUD"
assert_eq "catalog.seed giftdays.seed loyalty.seed menus.seed" "$(j '[.items[] | select(.who == "seed") | .what] | sort | join(" ")')" \
  "each seed is in the audit trail"
assert_eq "$T/giftdays.json" "$(j '[.items[] | select(.what == "giftdays.seed")][0].after.seeded_from')" \
  "the record names the file"
wait_logged 'catalogue from cfg:{adm}:catalog version 1: "sample.1", 6 items' 1 \
  "the gateway takes the stored catalogue (the same text as its file)"
wait_logged 'gift-day calendar from cfg:{adm}:giftdays version 1' 1 "and the stored calendar"

note "a second start never seeds again"
stop_admin
jq '.special[0].name = "changed-file"' "$T/giftdays.json" >"$T/g.tmp" && mv "$T/g.tmp" "$T/giftdays.json"
start_admin
MKT=$(login mia marketing-secret-1)
grep -q 'cfg:{adm}:giftdays already stored (version 1)' "$T/adm.log" || fail "no 'already stored' line"
api GET /api/giftdays "$MKT"
assert_eq "1 open-now" "$(j .version) $(j '.document.special[0].name')" "the store keeps its document; the file is not read over it"

# ---------------------------------------------------------------- the preview
note "the next 8 openings start with the window open now"
for tier in "" "?tier=gold"; do
  api GET "/api/giftdays/preview$tier" "$MKT"
  assert_eq "200 open-now true" "$CODE $(j '.openings[0].name') $(j '.openings[0].open_now')" \
    "preview${tier:- (standard)}: the window open now is first"
  assert_eq "false" "$(j '[.openings[1:][] | .open_now] | any')" "the others are to come"
done
api GET "/api/giftdays/preview?tier=gold" "$MKT"
G_OPEN=$(j '.openings[0].opens')
api GET "/api/giftdays/preview" "$MKT"
assert_eq "$(date -u -d "$(j '.openings[0].opens') - 60 minutes" +%FT%TZ)" "$G_OPEN" "gold's open-now window opened an hour earlier"
assert_eq 8 "$(j '.openings | length')" "eight openings"
case " $(j '[.openings[].gift_day] | join(" ")') " in
  *" $CANCELLED "*) fail "the cancelled date is in the preview" ;;
  *) echo "ok - the cancelled date is not in the preview" ;;
esac

# ---------------------------------------------------------------- the first calendar save
note "marketing adds one special day: the calendar in force is kept"
EXTRA_S=$(TZ=$TZNAME date -d '+4 hours' +%Y-%m-%dT%H:00)
EXTRA_E=$(TZ=$TZNAME date -d '+5 hours' +%Y-%m-%dT%H:00)
api GET /api/giftdays "$MKT"
DOC2=$(jq -c --arg s "$EXTRA_S" --arg e "$EXTRA_E" \
  '.document | .special = [.special[0], {name: "console-day", start: $s, end: $e}, .special[1]]' "$T/r.json")
api PUT /api/giftdays "$MKT" "{\"version\":1,\"document\":$DOC2}"
assert_eq "200 2" "$CODE $(j .version)" "PUT on version 1: version 2"
STORED=$(rcli hget 'cfg:{adm}:giftdays' doc)
assert_eq "$CANCELLED|open-now console-day new-year-eve|gold 60|$WEEKDAY" \
  "$(jq -r '"\(.cancelled | join(" "))|\([.special[].name] | join(" "))|\(.premium.tiers[0]) \(.premium.early_minutes)|\(.weekly[0].day)"' <<<"$STORED")" \
  "the stored calendar keeps the cancelled date, new-year eve, gold's early opening and the weekly day"
api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$DOC2}"
assert_eq "409 2" "$CODE $(j .current_version)" "a save from 'nothing stored' is refused (409): it cannot drop what is in force"
wait_logged 'gift-day calendar from cfg:{adm}:giftdays version 2' 1 "the gateway takes version 2"

# ---------------------------------------------------------------- the reminder's next opening
note "'send at the next opening' reads the stored calendar, not the file"
api GET /api/giftdays/preview "$MKT"
WANT=$(date -u -d "$(j '[.openings[] | select(.open_now | not)][0].opens')" +%s)
assert_eq console-day "$(j '[.openings[] | select(.open_now | not)][0].name')" "the stored calendar's next opening is the console's day"
api POST /api/campaigns "$MKT" '{"id": "nxt", "texts": {"fr": "Ouverture !"}, "send_at": "next_opening"}'
assert_eq 201 "$CODE" "a campaign for the next opening"
wait_for 20 sh -c "[ -n \"\$(redis-cli -s $REDIS_SOCK hget 'bc:{bc}:c:nxt' send_at)\" ]" ||
  fail "no gateway resolved the next opening"
assert_eq "$WANT" "$(rcli hget 'bc:{bc}:c:nxt' send_at)" \
  "send_at = the stored calendar's next opening ($EXTRA_S local), not the file's $WEEKDAY"
api POST /api/campaigns/nxt/cancel "$MKT" '{}'
assert_eq 200 "$CODE" "cancelled"

# ---------------------------------------------------------------- stock on the day under way
board_item() { # ID: "stock_per_day left" on the board
  api GET /api/board "$MKT"
  j ".items[] | select(.id == \"$1\") | \"\(.stock_per_day) \(.left)\""
}
note "a stock change reaches the gift day under way: left moves by the difference"
assert_eq "1000 999" "$(board_item DATA_1GB)" "the board before: stock/day 1000, left 999"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day": 1010}'
assert_eq "200 2 999 1009 true" "$CODE $(j .version) $(j .left.before) $(j .left.after) $(j .left.moved)" \
  "raising stock/day by 10 adds 10 to left"
assert_eq "1010 1009" "$(board_item DATA_1GB)" "the board shows the new figures"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day": 40}'
assert_eq "200 1009 39" "$CODE $(j .left.before) $(j .left.after)" "lowering to 40 takes 970 away: 39 left (one taken)"
assert_eq "40 39" "$(board_item DATA_1GB)" "no more 'stock/day 40, left 970'"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day": 1}'
assert_eq "200 39 0" "$CODE $(j .left.before) $(j .left.after)" "lowering below what was taken: left 0, never negative"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day": 3}'
assert_eq "200 0 2" "$CODE $(j .left.before) $(j .left.after)" "raising by 2 from 0: 2 left"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day": 3}'
assert_eq "200 false 2" "$CODE $(j .left.moved) $(j .left.after)" "the same figure again moves nothing"
assert_eq 2 "$(rcli get "cat:{DATA_1GB}:s:$GIFT_DAY")" "the day's stock key holds 2"
api PATCH /api/catalog/items/DATA_5GB "$MKT" '{"stock_per_day": 7}'
assert_eq "200 null false" "$CODE $(j .left.after) $(j .left.moved)" "an item nobody took today: nothing to move"
assert_eq 0 "$(rcli exists "cat:{DATA_5GB}:s:$GIFT_DAY")" "(its first reservation starts from the new figure)"
api GET "/api/audit?count=20" "$AUD"
assert_eq 4 "$(j '[.items[] | select(.what == "catalog.item.left")] | length')" "each move has its audit record"
assert_eq "$(TZ=$TZNAME date -d '-2 hours' +%F) 39 0 40 1" \
  "$(j '[.items[] | select(.what == "catalog.item.left")][1] | "\(.after.day) \(.before.left) \(.after.left) \(.before.stock_per_day) \(.after.stock_per_day)"')" \
  "the record: day, left before and after, stock/day before and after"
wait_logged 'catalogue from cfg:{adm}:catalog version 7' 1 "the gateway takes the last catalogue"
phone r2 $B2 '*555*2*1#\n1\n1'
assert_eq 4500 "$(balance $B2)" "a handset redeems DATA_1GB"
assert_eq 1 "$(rcli get "cat:{DATA_1GB}:s:$GIFT_DAY")" "from the moved figure: 1 left"

# ---------------------------------------------------------------- the loyalty table
note "the loyalty table is a stored document too: edited in the console, taken without a file or a SIGHUP"
api GET /api/loyalty "$MKT"
assert_eq "200 1 seed 10 gold" "$CODE $(j .version) $(j .updated_by) $(j .document.rates.TOPUP.per) $(j '.document.tiers[2].name')"   "GET /api/loyalty: the configuration's table, seeded as version 1"
wait_logged 'loyalty table from cfg:{adm}:loyalty version 1' 1 "the gateway follows the stored table"
TABLE=$(jq -c .document "$T/r.json")
api PUT /api/loyalty "$MKT" "{\"version\":1,\"document\":$(jq -c '.tiers[0].min_points = 5' <<<"$TABLE")}"
assert_eq "422 document.tiers[0].min_points" "$CODE $(j .field)" "the gateway's own checks refuse a first tier above 0 points"
api PUT /api/loyalty "$MKT" "{\"version\":1,\"document\":$(jq -c '.timezone = "Europe/Paris"' <<<"$TABLE")}"
assert_eq "422 document.timezone" "$CODE $(j .field)" "another zone needs a restart: refused"
api PUT /api/loyalty "$MKT" "{\"version\":1,\"document\":$(jq -c '.rates.TOPUP.points = 3' <<<"$TABLE")}"
assert_eq "200 2" "$CODE $(j .version)" "three points per 10 MAD of top-up: version 2"
wait_logged 'loyalty table from cfg:{adm}:loyalty version 2' 1 "the running gateway takes version 2"
api GET "/api/audit?count=5" "$AUD"
assert_eq "loyalty.put 1 3" "$(j '[.items[] | select(.what == "loyalty.put")][0] | "\(.what) \(.before.rates.TOPUP.points) \(.after.rates.TOPUP.points)"')" \
  "the change is audited with the table before and after"
note "the console shows which version each running gateway uses"
wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $MKT' $URL/api/loyalty | jq -e '.in_force_everywhere' >/dev/null" ||
  fail "the console never saw the gateway on version 2"
api GET /api/loyalty "$MKT"
assert_eq "1 2 true" "$(j '.gateways | length') $(j '.gateways[0].version') $(j .in_force_everywhere)" \
  "GET /api/loyalty: one running gateway, on version 2"
api GET /api/catalog "$MKT"
assert_eq "7 true" "$(j '.gateways[0].version') $(j .in_force_everywhere)" "GET /api/catalog: the gateway uses the stored version 7"
B3=212612300003
printf 'TOPUP ref=T12-LOY-1 msisdn=%s amount=100.00 currency=MAD at=%s channel=card\n' $B3 \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$T/topup.events"
start_sim ev --listen "127.0.0.1:$SMSC_PORT" --events "$T/topup.events" --exit-when-done --timeout-s 30
wait_sim ev 40
assert_eq 30 "$(balance $B3)" "a 100 MAD top-up earns 30 points by the stored table (10 by the file's)"

note "a tier added in the stored table is one the catalogue may use, for the console and the gateways alike"
api GET /api/loyalty "$MKT"
TABLE3=$(jq -c '.document | .tiers += [{name: "platinum", min_points: 20000, multiplier_pct: 150}]' "$T/r.json")
api PUT /api/loyalty "$MKT" "{\"version\":2,\"document\":$TABLE3}"
assert_eq "200 3" "$CODE $(j .version)" "the table gets a fourth tier: version 3"
api GET /api/catalog "$MKT"
CAT8=$(jq -c '.document | .version = "with-platinum" | .items[0].tier = "platinum"' "$T/r.json")
api PUT /api/catalog "$MKT" "{\"version\":7,\"document\":$CAT8}"
assert_eq "200 8" "$CODE $(j .version)" "a catalogue item for platinum members is accepted (the stored table's tiers)"
wait_logged 'catalogue from cfg:{adm}:catalog version 8: "with-platinum"' 1 "and the gateway loads it"
CAT9=$(jq -c '.version = "with-diamond" | .items[0].tier = "diamond"' <<<"$CAT8")
api PUT /api/catalog "$MKT" "{\"version\":8,\"document\":$CAT9}"
assert_eq "422 document.items[0].tier" "$CODE $(j .field)" "a tier no table has is refused"

# ---------------------------------------------------------------- the USSD menus
note "the USSD menus and SMS texts are a stored document too"
api GET /api/menus "$MKT"
assert_eq "200 1 seed Loyalty Club" "$CODE $(j .version) $(j .updated_by) $(j .document.menus.en.main.text)" \
  "GET /api/menus: the gateway's menu file, seeded as version 1"
MENUS2=$(jq -c '.document | .menus.en.main.text = "Loyalty Club: gift day today"' "$T/r.json")
api PUT /api/menus "$MKT" "{\"version\":1,\"document\":$(jq -c '.menus.en.points.text += " {pointz}"' <<<"$MENUS2")}"
assert_eq "422 document.menus.en.points.text" "$CODE $(j .field)" "the USSD layer's own loader refuses an unknown placeholder"
api PUT /api/menus "$MKT" "{\"version\":1,\"document\":$MENUS2}"
assert_eq "200 2" "$CODE $(j .version)" "a new main-menu title: version 2"
wait_logged 'USSD menus from cfg:{adm}:menus version 2' 1 "the running gateway takes it"
phone m $B2 '*555#'
assert_eq "Loyalty Club: gift day today" "$(screens_json m | jq -r '.[0].text' | head -1)" \
  "a handset sees the new title, without a file or a SIGHUP"

note "the calendar and the menus too: the console shows the version each running gateway uses"
for dv in giftdays:2 menus:2; do
  d=${dv%%:*} v=${dv#*:}
  wait_for 10 sh -c "curl -s -H 'Authorization: Bearer $MKT' $URL/api/$d | jq -e '.in_force_everywhere' >/dev/null" ||
    fail "the console never saw the gateway on $d version $v"
  api GET "/api/$d" "$MKT"
  assert_eq "$v 1 $v true" "$(j .version) $(j '.gateways | length') $(j '.gateways[0].version') $(j .in_force_everywhere)" \
    "GET /api/$d: version $v stored, the one running gateway on it"
done

stop_gw
stop_admin
finish

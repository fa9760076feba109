#!/usr/bin/env bash
# The suggestion box (issue 10 section 2) over real SMPP with a real redis-server, the gateway and
# loyalty-admin:
#   - an idea in Arabic (UCS-2) and one in French (GSM-7) texted to 555 after the keyword are
#     stored with their language, and each member is thanked once, in their language; a second
#     idea (Latin-1, "idée:") from the same member is stored without a second thank-you;
#   - after a redemption the screen asks for a 1-5 rating: 4 is stored with the item; the
#     "Suggestions" option of the main menu takes a rating too;
#   - the console: marketing reads the ideas with the MSISDN masked, care in full; filters by
#     rating, language and tag; a tag and "handled" are stored and audited; the weekly counts
#     and average; the CSV export (masked, formula-guarded).
# Owner: the suggestion-box engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"

AR=212634000001 # saved language ar
FR=212634000002 # no saved language: the French text decides
EN=212634000003 # redeems, then rates
TZNAME=Africa/Casablanca
CAT="$T/catalog.json"
GIFTDAYS="$T/giftdays.json"
jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}]}' >"$GIFTDAYS"
cp "$LGW_SRC/deploy/catalog.json" "$CAT"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'"}'
wallet $AR 100 ar
wallet $EN 2000 en
start_gw
add_staff carl care care-secret-2222
add_staff mia marketing marketing-secret-1
start_admin
CARL=$(login carl care-secret-2222)
MIA=$(login mia marketing-secret-1)

sms_to() { jq -s -c --arg d "$2" '[.[] | select(.service_type == "" and .dst == $d) | {dc: .data_coding, text}]' "$T/$1.rec"; }
text_of() { jq -r --arg l "$1" --arg k "$2" '.sms[$l][$k]' "$MENUS"; }
entry_of() { # MSISDN FIELD: the field of the member's newest entry in the stream (texts are one line)
  redis-cli -s "$REDIS_SOCK" --raw xrevrange 'sg:{sg}:in' + - | awk -v m="$1" -v f="$2" '
    k == "" && /^[0-9]+-[0-9]+$/ { if (hit) { print e[f]; done = 1; exit } delete e; next }
    k == "" { k = $0; next }
    { e[k] = $0; if (k == "m" && $0 == m) hit = 1; k = "" }
    END { if (hit && !done) print e[f] }'
}

# ------------------------------------------------------------------ ideas by SMS
note "رأي هدايا أكثر (UCS-2) from an Arabic-speaking member"
# UCS-2 has NUL bytes (the space is 00 20): the simulator takes the text as hex
echo "hex:$(printf 'رأي هدايا أكثر' | iconv -f UTF-8 -t UTF-16BE | od -An -tx1 | tr -d ' \n')" >"$T/ar.events"
mo ar $AR 8
assert_eq "هدايا أكثر ar sms" "$(entry_of $AR t) $(entry_of $AR lang) $(entry_of $AR src)" \
  "stored without the keyword, in Arabic, from SMS"
got=$(sms_to ar $AR)
assert_eq "$(text_of ar suggest_thanks)" "$(jq -r '[.[].text] | join("")' <<<"$got")" \
  "thanked in Arabic (sms.ar.suggest_thanks)"
assert_eq 8 "$(jq -r '.[0].dc' <<<"$got")" "as UCS-2"

note "IDEE (GSM-7) from a member without a saved language"
printf 'IDEE plus de data le week-end\n' >"$T/fr.events"
mo fr $FR 0
assert_eq "plus de data le week-end fr" "$(entry_of $FR t) $(entry_of $FR lang)" \
  "stored, the language guessed from the text"
assert_eq "$(text_of fr suggest_thanks)" "$(sms_to fr $FR | jq -r '[.[].text] | join("")')" \
  "thanked in French"

note "a second idea (Latin-1 'idée:', a formula) from the same member: stored, not thanked again"
printf 'id\xe9e: =1+1 cadeaux\n' >"$T/fr2.events"
mo fr2 $FR 3
assert_eq "=1+1 cadeaux" "$(entry_of $FR t)" "the second idea is stored as sent"
assert_eq '[]' "$(sms_to fr2 $FR)" "no second thank-you SMS"

# ------------------------------------------------------------------ ratings over USSD
note "a redemption's screen asks for a rating: 4"
phone red $EN '*555*2*1#\n1\n1\n4'
RATE=$'\nRate this service from 1 to 5 (0 to skip)'
assert_eq "$(menu "Request received for 1 GB data. You will get an SMS confirmation.$RATE")" \
  "$(screens_json red | jq -c '.[2]')" "the redemption's screen asks for a rating"
assert_eq "$(last 'Thank you! Send your ideas by SMS to 555, starting with IDEA.')" \
  "$(screens_json red | jq -c '.[3]')" "the rating is thanked and the dialogue ends"
wait_for 10 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK xlen 'sg:{sg}:in')\" -ge 4 ]" || fail "no rating stored"
assert_eq "4 1 redeemed ussd" "$(entry_of $EN r) $(entry_of $EN item) $(entry_of $EN node) $(entry_of $EN src)" \
  "the rating names the redeemed item"

note "the main menu's Suggestions option: 5"
phone sug $EN '*555#\n6\n5'
assert_eq "$(menu $'Send your ideas by SMS to 555: IDEA followed by your text.\nRate the club from 1 to 5 (0 Back)')" \
  "$(screens_json sug | jq -c '.[1]')" "the Suggestions screen explains the SMS and asks for a rating"
wait_for 10 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK xlen 'sg:{sg}:in')\" -ge 5 ]" || fail "no rating stored"
assert_eq "5 suggest" "$(entry_of $EN r) $(entry_of $EN node)" "stored from the menu"

# ------------------------------------------------------------------ the console
note "marketing reads the ideas masked, care in full"
api GET "/api/suggestions" "$MIA"
assert_eq "200 5" "$CODE $(j '.items | length')" "five entries"
assert_eq "5 4" "$(j '.items[0].rating') $(j '.items[1].rating')" "newest first"
assert_eq "********0001 هدايا أكثر" "$(j '.items[] | select(.lang == "ar") | "\(.msisdn) \(.text)"')" \
  "marketing: the MSISDN masked, the text shown"
api GET "/api/suggestions?lang=ar" "$CARL"
assert_eq "200 1 $AR" "$CODE $(j '.items | length') $(j '.items[0].msisdn')" "care: the MSISDN in full"
api GET "/api/suggestions?rating=4" "$MIA"
assert_eq "1 1" "$(j '.items | length') $(j '.items[0].item')" "filter by rating"
api GET "/api/suggestions?rating=9" "$MIA"
assert_eq "400 rating" "$CODE $(j .field)" "a bad filter is refused"

note "tag and handled, audited"
ID=$(api GET "/api/suggestions?lang=ar" "$MIA"; j '.items[0].id')
api POST "/api/suggestions/$ID/mark" "$MIA" '{"tag": "gifts", "handled": true}'
assert_eq "200 gifts true mia" "$CODE $(j .tag) $(j .handled) $(j .by)" "marketing tags and handles"
api POST "/api/suggestions/$ID/mark" "$CARL" '{"tag": "<b>"}'
assert_eq "400 tag" "$CODE $(j .field)" "a tag is a word"
api POST "/api/suggestions/1-0/mark" "$CARL" '{"handled": true}'
assert_eq 404 "$CODE" "no such entry"
api GET "/api/suggestions?tag=gifts&handled=true" "$CARL"
assert_eq "1 $ID mia" "$(j '.items | length') $(j '.items[0].id') $(j '.items[0].marked_by')" \
  "filter by tag and handled"
assert_eq 1 "$(rcli xrevrange 'adm:{adm}:audit' + - COUNT 20 | grep -c -x suggestion.mark)" \
  "one audit record for the one change"

note "weekly counts and average rating"
api GET /api/suggestions/weeks "$MIA"
# summed over the weeks returned: the test may straddle Monday 00:00
assert_eq "200 5 2 9" "$CODE $(j '[.weeks[].count] | add') $(j '[.weeks[].ratings] | add') $(j '[.weeks[] | select(.ratings > 0) | .average * .ratings] | add | round')" \
  "this week: 5 entries, 2 ratings (4 and 5)"

note "CSV export"
curl -s -H "Authorization: Bearer $MIA" "$URL/api/suggestions?format=csv" >"$T/s.csv"
assert_eq 'id,at,msisdn,lang,src,rating,item,tag,handled,text' "$(head -1 "$T/s.csv" | tr -d '\r')" "header"
assert_eq 6 "$(wc -l <"$T/s.csv")" "a header and five rows"
grep -q "\"'=1+1 cadeaux\"" "$T/s.csv" && echo "ok - a formula is quoted and guarded" ||
  fail "formula not guarded: $(cat "$T/s.csv")"
grep -q "$AR" "$T/s.csv" && fail "marketing's CSV holds a full MSISDN" || echo "ok - masked in the CSV"

note "loyaltyctl suggestions: the same list through the API"
LOYALTYCTL_TOKEN="$MIA" "$LGW_BIN/gateway/loyaltyctl" --api "$URL" suggestions --count 2 >"$T/ctl.json" ||
  fail "loyaltyctl suggestions failed"
assert_eq "2 5" "$(jq -c '.items | length' "$T/ctl.json") $(jq -r '.items[0].rating' "$T/ctl.json")" \
  "loyaltyctl suggestions --count 2: the newest two"

sleep 1.2
assert_eq "2 3 2 0" "$(gw_stat .suggest.thanked) $(gw_stat .suggest.ideas) $(gw_stat .suggest.ratings) $(gw_stat .suggest.failed)" \
  "counters: thanked twice, 3 ideas, 2 ratings, none failed"
stop_admin
stop_gw
finish

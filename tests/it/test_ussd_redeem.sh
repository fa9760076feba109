#!/usr/bin/env bash
# USSD redemption end to end (issues 3 + 4): real SMPP (smsc-sim as a scripted handset, and
# tests/it/it_ussd_dup for what smsc-sim cannot do: a PDU sent twice, a pause between screens),
# a real redis-server, the real catalogue (deploy/catalog.json), a test gift-day calendar with a
# special window around now, and the fulfilment worker calling a real HTTP provisioning server
# (tests/it/prov_server) that then texts the subscriber (and the relative).
#   - dial *555#, browse the catalogue, open an item, confirm: points debited once, stock taken
#     once, one entry in the fulfilment stream, the confirmation SMS;
#   - the confirm deliver_sm sent twice: still one debit, one unit, one stream entry;
#   - a premium (gold) subscriber sends a gift to a relative's number (own number and a number
#     without country code refused on the screen): the beneficiary is recorded and the relative
#     gets an SMS naming the sender;
#   - refusals with their reason from the menu file: not enough points, today's limit, a price
#     changed by a catalogue reload between the confirmation screen and the answer;
#   - *555*2*<n># straight to an item;
#   - the calendar closed (SIGHUP with a calendar whose next window is in two days): the item
#     screen shows the next opening in local time and offers no redemption, also for a dialogue
#     whose confirmation screen was shown before the close;
#   - the gift SMS in each recipient's saved language (the menu file's "sms" texts): an Arabic
#     subscriber's confirmation in Arabic (UCS-2, data_coding 8), a French one's in French
#     (GSM-7), an Arabic gold subscriber's gift to a relative whose wallet says Persian, and a
#     relative without a wallet in the menu file's default language (French);
#   - GET /metrics (issue 11 §3) after the run, through the strict parser (it_promparse):
#     redemptions by outcome as counted (the repeated confirmation apart), fulfilments granted as the provider granted them, the
#     one retry of the injected 503 (the provider's first request), the queue drained.
# Owner: the USSD redemption engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

TZNAME=Africa/Casablanca
PROV="$LGW_BIN/tests/prov_server"
DUP="$LGW_BIN/tests/it_ussd_dup"
STREAM=cat:fulfil
CAT="$T/catalog.json"
GIFTDAYS="$T/giftdays.json"
TOKEN=t0ken

# ---------------------------------------------------------------- the provisioning API
"$PROV" --listen 127.0.0.1:0 --port-file "$T/prov.port" --record "$T/grants.jsonl" \
  --token "$TOKEN" --rule 'n=1:503' 2>>"$T/prov.log" &
PIDS+=("$!")
wait_for 10 test -s "$T/prov.port" || { echo "prov_server did not start" >&2; exit 1; }

# ---------------------------------------------------------------- calendars and catalogue
# Open: no weekly window, one special window from 2 hours ago to 3 hours ahead (local time).
# Its gift day is the local date of its start: stock and limits count per that day.
GIFT_DAY=$(TZ=$TZNAME date -d '-2 hours' +%Y%m%d)
open_calendar() {
  jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
    --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
    '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}],
      premium: {tiers: ["gold"], early_minutes: 60}}' >"$GIFTDAYS"
}
# Closed: the next window opens in two days at 10:00 local (no premium opening: one date for all).
NEXT_DATE=$(TZ=$TZNAME date -d '+2 days' +%Y-%m-%d)
NEXT_TEXT="$(LC_ALL=C TZ=$TZNAME date -d "$NEXT_DATE 12:00" +%a) $(date -d "$NEXT_DATE" +%d/%m) 10:00"
closed_calendar() {
  jq -n --arg tz "$TZNAME" --arg s "${NEXT_DATE}T10:00" --arg e "${NEXT_DATE}T20:00" \
    '{timezone: $tz, weekly: [], special: [{name: "test-later", start: $s, end: $e}]}' >"$GIFTDAYS"
}
open_calendar
# The shipped catalogue has no validity dates; the voucher is made "not yet valid" here, a month
# from today (local), so the Vouchers category stays hidden on any day the test runs.
VOUCHER_FROM=$(TZ=$TZNAME date -d '+30 days' +%Y-%m-%d)
test_catalog() { # [jq filter] -> the catalogue the gateway reads
  jq --arg from "$VOUCHER_FROM" \
    '(.items[] | select(.id == "VOUCHER_MARJANE_100")) |= (.valid_from = $from) | '"${1:-.}" \
    "$LGW_SRC/deploy/catalog.json" >"$CAT"
}
test_catalog

reload_gw() { # SIGHUP, then wait for the catalogue reload line
  local n
  n=$(grep -c 'catalogue and gift days reloaded' "$T/gw.log" || true)
  kill -HUP "$GW_PID"
  wait_for 20 sh -c "[ \$(grep -c 'catalogue and gift days reloaded' '$T/gw.log') -gt $n ]" ||
    fail "the gateway did not reload the catalogue"
}

# ---------------------------------------------------------------- the gateway
start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'", gift_tiers: "gold"}
  | .provisioning = {enabled: true, insecure_test_mode: true,
                     base_url: "http://127.0.0.1:'"$(cat "$T/prov.port")"'",
                     token: "'"$TOKEN"'", timeout_ms: 2000, retry_min_ms: 100, consumer: "gw-1"}
  | .metrics.listen = "127.0.0.1:0"'

TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE TIER [LANG]: an enrolled subscriber whose points were all earned today,
        # in English unless LANG
  rcli del "lg:{$1}:w" "lg:{$1}:h" "lg:{$1}:g" >/dev/null
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "$3" since "$SINCE" "l:$TODAY" "$2" \
    lang "${4:-en}" >/dev/null
}
A=212612100001 # standard, browses and redeems
D=212612100002 # standard, sends the confirmation twice
G=212612100003 # gold: gifts to R
R=212698100004 # the relative (no wallet)
S=212612100005 # standard, *555*2*4#
P=212612100006 # 100 points only
Q=212612100007 # a price change between the screens
C=212612100008 # the calendar closes
AR=212612100009 # standard, saved language Arabic
FR=212612100010 # standard, saved language French
GA=212612100011 # gold, Arabic: gifts to RF
RF=212698100012 # a relative whose wallet holds only a language: Persian
sub $A 1000 standard; sub $D 1000 standard; sub $G 6000 gold; sub $S 1000 standard
sub $P 100 standard; sub $Q 1000 standard; sub $C 1000 standard
sub $AR 1000 standard ar; sub $FR 1000 standard fr; sub $GA 6000 gold ar
rcli hset "lg:{$RF}:w" lang fa >/dev/null
start_gw

stock() { rcli get "cat:{$1}:s:$GIFT_DAY"; }
entries_of() { # MSISDN: fulfilment stream entries of that subscriber
  rcli xrange $STREAM - + | awk -v m="$1" 'p == "msisdn" && $0 == m {n++} {p = $0} END {print n + 0}'
}
field_of() { # MSISDN FIELD: a field of that subscriber's (first) stream entry
  rcli xrange $STREAM - + | awk -v m="$1" -v f="$2" '
    /^[0-9]+-[0-9]+$/ {if (hit) exit; delete kv; k = ""; next}
    k == "" {k = $0; next} {kv[k] = $0; if (k == "msisdn" && $0 == m) hit = 1; k = ""}
    END {if (hit) print kv[f]}'
}
sms_to() { # RECORD MSISDN: texts of the plain SMS submitted to MSISDN
  jq -r --arg m "$2" 'select(.service_type != "USSD" and .dst == $m) | .text' "$T/$1.rec"
}
dup_screens() { jq -s -c '[.[] | select(.kind == "screen") | {text, op, "end": .end}]' "$T/$1.out"; }
dup_sms() { jq -r --arg m "$2" 'select(.kind == "sms" and .to == $m) | .text' "$T/$1.out"; }
dup() { # NAME MSISDN SESSION INPUT...: it_ussd_dup as the SMSC on the test's port
  local name=$1; shift
  "$DUP" "$SMSC_PORT" "$@" >"$T/$name.out" 2>"$T/$name.log" || fail "it_ussd_dup $name failed"
}

EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
ITEM1=$'1 GB data (code 1)\nPrice: 500 points\nIn stock: '
CONFIRM1=$'Redeem 1 GB data for 500 points?\n1 Yes, confirm\n2 No'
# the redemption's screen asks for a 1-5 rating (the suggestion box); the script hangs up there
RATE=$'\nRate this service from 1 to 5 (0 to skip)'
REDEEMED1="Request received for 1 GB data. You will get an SMS confirmation.$RATE"

# ---------------------------------------------------------------- 1. browse and redeem
note "a standard subscriber dials *555#, browses, opens 1 GB data, confirms"
phone browse $A '*555#\n3\n1\n1\n1\n1' --linger-ms 3000
expect_screens browse "browse -> item -> confirm -> redeemed (no gift option for a standard tier)" \
  "$(menu "$EN_MAIN")" \
  "$(menu $'Gift catalogue\n1 Data\n2 Calls\n3 SMS\n4 Charity\n0 Back')" \
  "$(menu $'Data\n1 1 GB data - 500 pts\n2 5 GB data - 2000 pts\n0 Back')" \
  "$(menu "${ITEM1}1000"$'\n1 Redeem\n0 Back')" \
  "$(menu "$CONFIRM1")" \
  "$(menu "$REDEEMED1")"
assert_eq 500 "$(balance $A)" "points debited once: 1000 - 500"
assert_eq 999 "$(stock DATA_1GB)" "one unit of the gift day's stock taken"
assert_eq 1 "$(entries_of $A)" "the redemption is queued once in the fulfilment stream"
assert_eq "" "$(field_of $A to)" "a redemption for oneself names no beneficiary"
assert_eq sample.1 "$(field_of $A version)" "the stream entry names the catalogue version shown"
wait_for 10 sh -c "jq -e 'select(.dst == \"$A\" and .service_type != \"USSD\")' '$T/browse.rec'" ||
  fail "no confirmation SMS"
case "$(sms_to browse $A)" in
  "Your gift 1 GB data has been delivered"*) echo "ok - the fulfilment worker's confirmation SMS" ;;
  *) fail "confirmation SMS: '$(sms_to browse $A)'" ;;
esac

# ---------------------------------------------------------------- 2. the confirmation twice
note "the confirm deliver_sm arrives twice (same its_session_info), back to back"
dup dup $D 7 2000 '*555*2*1#' 1 '2x:1'
assert_eq "$(jq -n -c --arg i "${ITEM1}999"$'\n1 Redeem\n0 Back' --arg c "$CONFIRM1" --arg r "$REDEEMED1" \
  '[{text: $i, op: 2, end: false}, {text: $c, op: 2, end: false}, {text: $r, op: 2, end: false}]')" \
  "$(dup_screens dup | jq -c '.[0:3]')" "item, confirm, redeemed"
assert_eq 500 "$(balance $D)" "a repeated confirmation debits once"
assert_eq 998 "$(stock DATA_1GB)" "a repeated confirmation takes one unit"
assert_eq 1 "$(entries_of $D)" "a repeated confirmation queues one fulfilment"
assert_eq 1 "$(dup_sms dup $D | grep -c 'has been delivered')" "one confirmation SMS for the repeated confirmation"
note "screens after the double confirmation: $(dup_screens dup | jq -c '.[2:]')"

# ---------------------------------------------------------------- 3. premium gifting
note "a gold subscriber sends 1 GB data to a relative: own number and a local number refused"
GIFT_Q=$'Send 1 GB data as a gift.\nEnter your relative\'s number with the country code (e.g. 212612345678):\n0 Back'
phone gift $G "*555*2*1#\n2\n$G\n0698100004\n+${R:0:3} ${R:3}\n1" --linger-ms 3000
expect_screens gift "item with the gift option, number screen, errors, confirm naming the beneficiary" \
  "$(menu "${ITEM1}998"$'\n1 Redeem\n2 Send as a gift\n0 Back')" \
  "$(menu "$GIFT_Q")" \
  "$(menu "That is your own number"$'\n'"$GIFT_Q")" \
  "$(menu "Invalid number (country code + number)"$'\n'"$GIFT_Q")" \
  "$(menu "Send 1 GB data to $R for 500 points?"$'\n1 Yes, confirm\n2 No')" \
  "$(last "Gift 1 GB data sent to $R. They will get an SMS saying it is from you. You will get an SMS confirmation.")"
assert_eq 5500 "$(balance $G)" "the sender pays"
assert_eq "" "$(balance $R)" "the relative's wallet is untouched"
assert_eq "$R" "$(field_of $G to)" "the beneficiary is recorded in the fulfilment stream"
wait_for 10 sh -c "jq -e 'select(.dst == \"$R\")' '$T/gift.rec'" || fail "no SMS to the relative"
assert_eq "Le $G vous a offert un cadeau : 1 Go Internet. Profitez-en !" "$(sms_to gift $R)" \
  "the relative (no wallet: the menu file's default language) is told by SMS who sent it"
assert_eq "Your gift 1 GB data has been delivered to $R." "$(sms_to gift $G)" "the sender's SMS"
assert_eq 1 "$(jq -s --arg r "$R" '[.[] | select(.granted and .msisdn != null)] | map(select(.item == "DATA_1GB")) | length >= 1' "$T/grants.jsonl" | grep -c true)" \
  "the provisioning API was called"

# ---------------------------------------------------------------- 4. shortcut and refusals
note "*555*2*4# goes straight to SMS 100"
phone short $S '*555*2*4#\n1\n1'
expect_screens short "shortcut item -> confirm -> redeemed" \
  "$(menu $'100 SMS (code 4)\nPrice: 300 points\nIn stock: 2000\n1 Redeem\n0 Back')" \
  "$(menu $'Redeem 100 SMS for 300 points?\n1 Yes, confirm\n2 No')" \
  "$(menu "Request received for 100 SMS. You will get an SMS confirmation.$RATE")"
assert_eq 700 "$(balance $S)" "shortcut redemption debited"

note "refusals: not enough points; the same item again the same gift day (limit 1)"
phone poor $P '*555*2*1#\n1\n1'
assert_eq "$(last $'Not enough points for 1 GB data (500 points).\nBalance: 100 points')" \
  "$(screens_json poor | jq -c '.[2]')" "not enough points: the reason from the menu file"
assert_eq 100 "$(balance $P)" "a refusal debits nothing"
phone again $A '*555*2*1#\n1\n1'
assert_eq "$(last "You reached today's limit for 1 GB data.")" "$(screens_json again | jq -c '.[2]')" \
  "a new dialogue the same gift day is a new redemption: refused by the per-day limit"
assert_eq 500 "$(balance $A)" "the limit refusal debits nothing"
assert_eq 997 "$(stock DATA_1GB)" "refusals give the stock back"

note "the catalogue reloaded with another price between the confirmation screen and the answer"
rm -f "$T/go-price"
dup price $Q 9 500 '*555*2*3#' 1 "wait:$T/go-price" 1 &
DUP_PID=$!
wait_for 20 sh -c "[ \$(grep -c '\"kind\":\"screen\"' '$T/price.out') -ge 2 ]" || fail "no confirmation screen"
test_catalog '.version = "sample.2" | .items[2].price = 900'
reload_gw
touch "$T/go-price"
wait "$DUP_PID" || fail "it_ussd_dup price failed"
assert_eq "$(jq -n -c '{text: "Redeem 60 min of calls for 800 points?\n1 Yes, confirm\n2 No", op: 2, end: false}')" \
  "$(dup_screens price | jq -c '.[1]')" "the confirmation showed 800 points"
assert_eq "$(jq -n -c '{text: "The offer has changed. Please check the catalogue again.", op: 17, end: true}')" \
  "$(dup_screens price | jq -c '.[2]')" "the price-integrity guard refuses a price the subscriber did not read"
assert_eq 1000 "$(balance $Q)" "nothing charged after the price change"
grep -q 'price integrity' "$T/gw.log" && echo "ok - the refusal is logged as a price-integrity alert" ||
  fail "no price-integrity alert in the log"

# ---------------------------------------------------------------- 5. the calendar closes
note "the gift day closes (SIGHUP with a calendar whose next window is $NEXT_TEXT)"
rm -f "$T/go-close"
dup close $C 11 500 '*555*2*4#' 1 "wait:$T/go-close" 1 &
DUP_PID=$!
wait_for 20 sh -c "[ \$(grep -c '\"kind\":\"screen\"' '$T/close.out') -ge 2 ]" || fail "no confirmation screen"
closed_calendar
reload_gw
touch "$T/go-close"
wait "$DUP_PID" || fail "it_ussd_dup close failed"
assert_eq "$(jq -n -c --arg t $'100 SMS (code 4)\nPrice: 300 points\nIn stock: 2000\nNext gift day: '"$NEXT_TEXT"$'\n0 Back' \
  '{text: $t, op: 2, end: false}')" "$(dup_screens close | jq -c '.[2]')" \
  "a confirmation after the close leads back to the item, with the next opening in local time"
phone closed $C '*555*2*4#\n1'
expect_screens closed "closed: the item shows the next opening and '1' is not an option" \
  "$(menu $'100 SMS (code 4)\nPrice: 300 points\nIn stock: 2000\nNext gift day: '"$NEXT_TEXT"$'\n0 Back')" \
  "$(menu $'Invalid choice\n100 SMS (code 4)\nPrice: 300 points\nIn stock: 2000\nNext gift day: '"$NEXT_TEXT"$'\n0 Back')"
assert_eq 1000 "$(balance $C)" "nothing redeemed while closed"

# ---------------------------------------------------------------- 6. each in their language
note "the gift day opens again: SMS in each recipient's saved language"
open_calendar
reload_gw
sms_rec() { # RECORD MSISDN: {text, dc} of the plain SMS submitted to MSISDN
  jq -c --arg m "$2" 'select(.service_type != "USSD" and .dst == $m) | {text, dc: .data_coding}' \
    "$T/$1.rec"
}
has_sms() { # RECORD MSISDN: an SMS to MSISDN is in the record (jq -s: -e alone looks at the last line)
  jq -s -e --arg m "$2" 'any(.[]; .service_type != "USSD" and .dst == $m)' "$T/$1.rec"
}
ref_of() { # MSISDN: the provider's reference of that subscriber's redemption (its decision marker)
  rcli get "cat:fulfil:m:$(field_of "$1" rid)" | sed -n 's/^F //p'
}
phone lang_ar $AR '*555*2*1#\n1\n1' --linger-ms 3000
wait_for 10 has_sms lang_ar $AR ||
  fail "no confirmation SMS to the Arabic subscriber"
assert_eq "$(jq -n -c --arg t "تم تسليم هديتك 1 جيغا إنترنت."$'\n'"المرجع: $(ref_of $AR)" '{text: $t, dc: 8}')" \
  "$(sms_rec lang_ar $AR)" "an Arabic subscriber's confirmation: Arabic text, UCS-2 (data_coding 8)"
phone lang_fr $FR '*555*2*1#\n1\n1' --linger-ms 3000
wait_for 10 has_sms lang_fr $FR ||
  fail "no confirmation SMS to the French subscriber"
assert_eq "$(jq -n -c --arg t "Votre cadeau 1 Go Internet a été livré."$'\n'"Réf : $(ref_of $FR)" '{text: $t, dc: 0}')" \
  "$(sms_rec lang_fr $FR)" "a French subscriber's confirmation: French text, GSM-7 (data_coding 0)"
phone lang_gift $GA "*555*2*4#\n2\n$RF\n1" --linger-ms 3000
wait_for 10 has_sms lang_gift $RF || fail "no SMS to the Persian relative"
wait_for 10 has_sms lang_gift $GA ||
  fail "no SMS to the Arabic sender"
assert_eq "$(jq -n -c --arg t "تم تسليم هديتك 100 رسالة قصيرة إلى $RF." '{text: $t, dc: 8}')" \
  "$(sms_rec lang_gift $GA)" "the Arabic sender is told in Arabic"
assert_eq "$(jq -n -c --arg t "$GA به شما هدیه‌ای فرستاد: ۱۰۰ پیامک. لذت ببرید!" '{text: $t, dc: 8}')" \
  "$(sms_rec lang_gift $RF)" "the relative is told in the language of their own wallet (Persian)"

note "the history after a redemption: the USSD screen in the member's language, loyaltyctl show"
GD_DM=$(date -d "$GIFT_DAY" +%d/%m) # a record's day shows as the day it was written (local)
phone hist_ar $AR '*555#\n2'
assert_eq "$(last $'آخر العمليات:\n'"$GD_DM"$' -500 هدية' 8)" "$(screens_json hist_ar | jq -c '.[-1]')" \
  "Arabic history screen: the redemption, from the wallet's E"
phone hist_fr $FR '*555#\n2'
assert_eq "$(last $'Derniers mouvements :\n'"$GD_DM"$' -500 Cadeau')" "$(screens_json hist_fr | jq -c '.[-1]')" \
  "French history screen: the redemption"
phone hist_en $G '*555#\n2'
assert_eq "$(last $'Last movements:\n'"$GD_DM"$' -500 Gift')" "$(screens_json hist_en | jq -c '.[-1]')" \
  "English history screen: the gift to a relative"
assert_eq 1 "$(hist_lines $G | grep -c "|REDEEM|#[0-9a-f]*|-500||gift DATA_1GB (catalogue sample.1) for ...${R: -4}$")" \
  "loyaltyctl show: the item and catalogue by their id in lg:rules, the relative from the notes N"
for m in $A $G $AR $FR $GA; do hist_no_list $m; done

wait_for 5 test -s "$T/gw-stats.json"
sleep 1.2
assert_eq 0 "$(gw_stat .fulfil.lang_fallbacks)" "every recipient's language was read"
note "gateway counters: $(gw_stat '.ussd | {redeem_requested, redeem_granted, redeem_refused, redeem_failed}' | jq -c .)"
assert_eq 0 "$(gw_stat .ussd.redeem_failed)" "no redemption failed"

note "GET /metrics against the run"
MPORT=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" | tail -1)
scrape() { curl -s "http://127.0.0.1:$MPORT/metrics" | "$LGW_BIN/tests/it_promparse" >"$T/series.txt"; }
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/series.txt"; }
drained() { scrape && [ "$(m 'loyaltygw_fulfilment_queue_depth{group="fulfil"}')" = 0 ] &&
  [ "$(m 'loyaltygw_fulfilment_pending{group="fulfil"}')" = 0 ]; }
wait_for 10 drained && echo "ok - the exposition passes the strict parser; fulfilment queue depth 0, pending 0" ||
  fail "fulfilment queue not drained or exposition invalid: $(grep fulfilment "$T/series.txt")"
assert_eq "$(gw_stat .ussd.redeem_granted)" "$(m 'loyaltygw_redemptions_total{outcome="granted"}')" \
  "redemptions granted: /metrics = the stats file"
assert_eq "$(rcli xlen $STREAM)" "$(m 'loyaltygw_redemptions_total{outcome="granted"}')" \
  "redemptions granted: one per fulfilment stream entry"
assert_eq 1 "$(m 'loyaltygw_redemptions_total{outcome="duplicate"}')" \
  "the repeated confirmation counted apart (not a second redemption)"
assert_eq "$(gw_stat .ussd.redeem_refused)" "$(m 'loyaltygw_redemptions_total{outcome="refused"}')" \
  "redemptions refused: /metrics = the stats file"
assert_ge 3 "$(m 'loyaltygw_redemptions_total{outcome="refused"}')" "the refusals above counted"
assert_eq 0 "$(m 'loyaltygw_redemptions_total{outcome="failed"}')" "no redemption failed"
assert_eq "$(jq -s '[.[] | select(.granted)] | length' "$T/grants.jsonl")" \
  "$(m 'loyaltygw_fulfilment_total{outcome="granted"}')" "fulfilments granted: each grant the provider made"
assert_eq 1 "$(jq -s '[.[] | select(.status == 503)] | length' "$T/grants.jsonl")" "the provider answered one 503"
assert_eq 1 "$(m loyaltygw_fulfilment_retries_total)" "that 503 counted as one retry"
stop_gw
finish

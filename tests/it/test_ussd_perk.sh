#!/usr/bin/env bash
# The premium perk (issue 10 §6) end to end: real SMPP (smsc-sim as a scripted handset), a real
# redis-server, the shipped catalogue and menus, a gift-day window around now, and the fulfilment
# worker calling a real HTTP provisioning server (tests/it/prov_server):
#   - a gold member redeems 1 GB data for themself, accepts "also offer it to a relative", types
#     the relative's number and confirms: their points go down by ONE price (the perk's share is
#     0 %), the stock by TWO units, the relative's unit is queued to the relative (to=) and both
#     lines get their SMS (the member's confirmation and gift notice, the relative's gift);
#   - the same member, another gift the same day: the perk's per-day limit (1) refuses the second
#     perk with its own screen - their own gift went through, the perk took no stock;
#   - a standard member is not offered the perk.
# Small on purpose (CI budget): three dialogues.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

TZNAME=Africa/Casablanca
TOKEN=t0ken
"$LGW_BIN/tests/prov_server" --listen 127.0.0.1:0 --port-file "$T/prov.port" \
  --record "$T/grants.jsonl" --token "$TOKEN" 2>>"$T/prov.log" &
PIDS+=("$!")
wait_for 10 test -s "$T/prov.port" || { echo "prov_server did not start" >&2; exit 1; }

# a special window from 2 hours ago to 3 hours ahead (local): its gift day is the start's date
GIFT_DAY=$(TZ=$TZNAME date -d '-2 hours' +%Y%m%d)
jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}]}' \
  >"$T/giftdays.json"
# the voucher is not yet valid (a month from today): the categories stay the same any day
jq --arg from "$(TZ=$TZNAME date -d '+30 days' +%Y-%m-%d)" \
  '(.items[] | select(.id == "VOUCHER_MARJANE_100")) |= (.valid_from = $from)' \
  "$LGW_SRC/deploy/catalog.json" >"$T/catalog.json"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$T/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'",
                gift_tiers: "gold", perk_per_day: 1, perk_share_pct: 0}
  | .provisioning = {enabled: true, insecure_test_mode: true,
                     base_url: "http://127.0.0.1:'"$(cat "$T/prov.port")"'",
                     token: "'"$TOKEN"'", timeout_ms: 2000, retry_min_ms: 100, consumer: "gw-1"}'

TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE TIER: an enrolled subscriber in English, points earned today
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "$3" since "$SINCE" "l:$TODAY" "$2" \
    lang en >/dev/null
}
G=212612400001  # gold
R=212698400002  # the relative (no wallet: the menu file's default language, French)
R2=212698400003 # a second relative
S=212612400004  # standard
sub $G 6000 gold
sub $S 1000 standard
start_gw

stock() { rcli get "cat:{$1}:s:$GIFT_DAY"; }
entries() { # MSISDN [TO]: fulfilment stream entries of that member (to that beneficiary)
  rcli xrange cat:fulfil - + | awk -v m="$1" -v t="${2-any}" '
    /^[0-9]+-[0-9]+$/ {if (hit && (t == "any" || to == t)) n++; hit = 0; to = ""; k = ""; next}
    k == "" {k = $0; next} {if (k == "msisdn" && $0 == m) hit = 1; if (k == "to") to = $0; k = ""}
    END {if (hit && (t == "any" || to == t)) n++; print n + 0}'
}
sms_to() { jq -r --arg m "$2" 'select(.service_type != "USSD" and .dst == $m) | .text' "$T/$1.rec"; }
last_text() { screens_json "$1" | jq -r '.[-1].text'; }
OFFER=$'Premium perk: offer 1 GB data to a relative too.\nPrice: 0 points\n1 Yes, offer it\n2 No, thanks'
ASK=$'Offer 1 GB data to a relative.\nEnter their number with the country code (e.g. 212612345678):\n0 Back'

# ---------------------------------------------------------------- 1. the perk
note "a gold member redeems 1 GB data and offers the same gift to a relative"
phone perk $G "*555*2*1#\n1\n1\n1\n$R\n1" --linger-ms 4000
expect_screens perk "item -> confirm -> the perk's offer -> number -> confirm -> sent" \
  "$(menu $'1 GB data (code 1)\nPrice: 500 points\nIn stock: 1000\n1 Redeem\n2 Send as a gift\n0 Back')" \
  "$(menu $'Redeem 1 GB data for 500 points?\n1 Yes, confirm\n2 No')" \
  "$(menu "$OFFER")" \
  "$(menu "$ASK")" \
  "$(menu "Offer 1 GB data to $R too, for 0 points?"$'\n1 Yes, confirm\n2 No')" \
  "$(last "1 GB data also goes to $R. They will get an SMS saying it is from you.")"
assert_eq 5500 "$(balance $G)" "the member's points: down by one unit's price"
assert_eq 998 "$(stock DATA_1GB)" "the stock: down by two units"
assert_eq 2 "$(entries $G)" "two units queued for fulfilment"
assert_eq 1 "$(entries $G $R)" "one of them to the relative"
assert_eq "" "$(balance $R)" "the relative's wallet is untouched"
wait_for 10 sh -c "jq -e 'select(.dst == \"$R\")' '$T/perk.rec'" || fail "no SMS to the relative"
assert_eq "Le $G vous a offert un cadeau : 1 Go Internet. Profitez-en !" "$(sms_to perk $R)" \
  "the relative's SMS names the member"
assert_eq 1 "$(sms_to perk $G | grep -c "^Your gift 1 GB data has been delivered to $R\.$")" \
  "the member's SMS for the relative's unit"
assert_eq 1 "$(sms_to perk $G | grep -c '^Your gift 1 GB data has been delivered\.$')" \
  "the member's SMS for their own unit"

# ---------------------------------------------------------------- 2. the per-day limit
note "another gift the same day: the perk's per-day limit"
phone again $G "*555*2*3#\n1\n1\n1\n$R2\n1"
assert_eq "You already offered today's premium perk to a relative." "$(last_text again)" \
  "the second perk of the gift day is refused with its screen"
assert_eq 4700 "$(balance $G)" "their own gift went through: 5500 - 800"
assert_eq 999 "$(stock VOICE_60MIN)" "the refused perk took no stock"
assert_eq 0 "$(entries $G $R2)" "nothing queued to the second relative"

# ---------------------------------------------------------------- 3. not premium
note "a standard member is not offered the perk"
phone std $S "*555*2*1#\n1\n1"
assert_eq $'Request received for 1 GB data. You will get an SMS confirmation.\nRate this service from 1 to 5 (0 to skip)' "$(last_text std)" \
  "the redeemed screen, no offer"
assert_eq 997 "$(stock DATA_1GB)" "one unit"

stop_gw
finish

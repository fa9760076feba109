#!/usr/bin/env bash
# The campaign rules (issue 10 section 1; gateway/gw_campaign_run.c, lua/campaign.lua) end to end:
# carrier events over real SMPP through the simulator, the real gateway, a real redis-server, the
# campaigns document stored as the console stores it (cfg:{adm}:campaigns). Every date is computed
# from the test's now; time is "moved" by moving the stored instants back (the enrolment a year
# earlier, the last recharge 71 days earlier and its due set to today), as the daily job would
# find them on those days.
#   - welcome bonus on the first event, once (a second event and a redelivered ref pay nothing);
#     the history line names the campaign
#   - the budget is a hard stop: the member after the budget is spent gets no bonus, counted
#   - tenure: the first anniversary pays once
#   - win-back: 3 recharges index the subscriber in the due set of the day it lapses; once lapsed
#     the pass offers (one SMS to the consenting member in its language, none to the other), the
#     next recharge earns the bonus once; the funnel (offered, back, spent) is counted
#   - the ledger's aggregates (docs/data-model.md 6) follow the bonuses: `loyaltyctl agg-check`
#     agrees exactly and `loyaltyctl report` shows them as issued, iss:BONUS:<campaign id>
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"

# Days are the programme's local days (lib.sh's config: Africa/Casablanca), as the gateway and the
# console count them: in UTC the test's "today" is another day for the hour around local midnight.
export TZ=Africa/Casablanca
NOW=$(date +%s)
TODAY=$(date +%F)
YESTERDAY=$(date -d "$TODAY -1 day" +%F)
NEXT_YEAR=$(date -d "$TODAY +1 year" +%F)
at_iso() { date -u -d "@$1" +%FT%TZ; }

start_redis
pick_port
ussd_config '.campaigns = {enabled: true, pass_interval_s: 1, catchup_days: 0,
  quiet_start_hour: 0, quiet_end_hour: 0}'
start_gw

# the document, stored as loyalty-admin's cfg_put.lua stores it (hash doc/version)
DOC=$(jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '{version: "it-1", campaigns: [
  {id: "welcome", rule: "welcome", start: $s, end: $e, budget: 100, points: 50,
   tiers: {gold: 80}, label: "welcome bonus"},
  {id: "tenure", rule: "tenure", start: $s, end: $e, budget: 10000, points: 100, years: [1, 3, 5]},
  {id: "wb", rule: "winback", start: $s, end: $e, budget: 10000, points: 40, min_recharges: 3,
   lapse_days: 70, valid_days: 14, label: "welcome back",
   texts: {en: "We miss you: recharge by {date} and earn +{points} points",
           fr: "Rechargez avant le {date} : +{points} points",
           ar: "اشحن قبل {date} واربح {points} نقطة",
           fa: "تا {date} شارژ کنید و {points} امتیاز بگیرید"}}]}')
add_staff mia marketing marketing-secret-1
add_staff carl care care-secret-2222
start_admin
MIA=$(login_retry mia marketing-secret-1)
CARL=$(login_retry carl care-secret-2222)
note "the document through the console: validated with the gateways' parser, versioned, audited"
BAD=$(jq -c '.campaigns[2].lapse_days = 3' <<<"$DOC")
api PUT /api/campaign-rules "$MIA" "{\"version\": 0, \"document\": $BAD}"
assert_eq 422 "$CODE" "lapse_days 3 refused"
assert_eq "document.campaigns[2].lapse_days" "$(j .field)" "the error names the field"
api PUT /api/campaign-rules "$CARL" "{\"version\": 0, \"document\": $DOC}"
assert_eq 403 "$CODE" "care may not change the rules"
api PUT /api/campaign-rules "$MIA" "{\"version\": 0, \"document\": $DOC}"
assert_eq 200 "$CODE" "marketing stores version 1"
assert_eq 1 "$(rcli xrange 'adm:{adm}:audit' - + | grep -c campaigns.put)" "the change is audited"
wait_for 20 grep -q 'campaigns "it-1": 3 rules' "$T/gw.log" || fail "the gateway did not load the document"

topup() { # ref msisdn amount
  echo "TOPUP ref=$1 msisdn=$2 amount=$3 currency=MAD at=$(at_iso $((NOW - 60)))"
}
bal() { rcli hget "lg:{$1}:w" bal; }
spent() { rcli hget 'lg:cb:{cmp}' "$1:$2"; }

# ------------------------------------------------------------------ welcome, budget
A=212640000001
B=212640000002
C=212640000003
note "welcome: first event of A"
events w1 "$(topup WA1 $A 100.00)"
assert_eq 60 "$(bal $A)" "10 points earned + 50 welcome"
assert_eq 1 "$(hist_lines $A | grep -c 'BONUS|#[0-9a-f]*|+50||campaign welcome: welcome bonus$')" \
  "the history says why these points"
hist_no_list $A
events w2 "$(topup WA1 $A 100.00)" "$(topup WA2 $A 100.00)"
assert_eq 70 "$(bal $A)" "a redelivered ref and a second event: no second welcome"
assert_eq 1 "$(hist_lines $A | grep -c 'campaign welcome:')" "one welcome line"

note "budget 100: B takes the rest, C finds it spent"
events w3 "$(topup WB1 $B 100.00)"
events w4 "$(topup WC1 $C 100.00)"
assert_eq 60 "$(bal $B)" "B: 10 + 50"
assert_eq 10 "$(bal $C)" "C: 10, the budget is spent (hard stop)"
assert_eq 100 "$(spent welcome spent)" "exactly the budget was spent"
assert_eq 1 "$(spent welcome stop)" "one bonus refused by the hard stop"
assert_eq 0 "$(rcli hget "lg:{$C}:w" c:welcome)" "C is marked refused: not paid later"
events w5 "$(topup WC2 $C 100.00)"
assert_eq 1 "$(spent welcome stop)" "a later event of C is not refused again (counted once)"

# ------------------------------------------------------------------ tenure
D=212640000004
note "tenure: D enrolled a year and a day ago (the enrolment moved back)"
rcli hset "lg:{$D}:w" bal 5 life 5 tier standard since $((NOW - 366 * 86400)) >/dev/null
# the wallet was written behind the ledger's back: its slot's totals are recomputed once
"$LGW_BIN/gateway/loyaltyctl" --zone "$TZ" --socket "$REDIS_SOCK" agg-check --repair >"$T/repair" 2>&1 ||
  fail "agg-check --repair: $(cat "$T/repair")"
events t1 "$(topup TD1 $D 100.00)"
assert_eq 115 "$(bal $D)" "5 + 10 earned + 100 for the first anniversary (no welcome: enrolled before)"
events t2 "$(topup TD2 $D 100.00)"
assert_eq 125 "$(bal $D)" "the anniversary pays once"
assert_eq 1 "$(rcli hget "lg:{$D}:w" c:tenure)" "marker: year 1 paid"

# ------------------------------------------------------------------ win-back
W=212640000005 # consents, English
X=212640000006 # lapsed too, no consent: offered, no SMS
note "win-back: 3 recharges each"
events b1 "$(topup WW1 $W 100.00)" "$(topup WW2 $W 100.00)" "$(topup WW3 $W 100.00)" \
  "$(topup WX1 $X 100.00)" "$(topup WX2 $X 100.00)" "$(topup WX3 $X 100.00)"
assert_eq 3 "$(rcli hget "lg:{$W}:w" rc)" "3 recharges counted"
LAPSE=$(date -d "$(date -d "@$((NOW - 60))" +%F) +70 days" +%Y%m%d)
assert_eq "$LAPSE" "$(rcli hget "lg:{$W}:w" cwd)" "indexed under the day it lapses (event day + 70)"
due_set() { # msisdn day: the due set holding it
  local k
  for k in $(rcli --scan --pattern "lg:cw:*:$2"); do
    if [ "$(rcli sismember "$k" "$1")" = 1 ]; then echo "$k"; fi
  done
}
KW=$(due_set $W "$LAPSE")
[ -n "$KW" ] || fail "W is in no due set of $LAPSE"
KX=$(due_set $X "$LAPSE")
bal_w=$(bal $W)
CTL="$LGW_BIN/gateway/loyaltyctl"
note "preview (loyaltyctl): 71 days from now, W and X would be offered, 40 points each"
"$CTL" --zone "$TZ" --socket "$REDIS_SOCK" campaign-rules --at $((NOW + 71 * 86400)) --days 2 --json \
  >"$T/preview.json" || fail "campaign-rules failed"
assert_eq "2 80" "$(jq -r '.campaigns[] | select(.id == "wb") | "\(.preview_due) \(.preview_cost)"' \
  "$T/preview.json")" "2 due, cost 80 points"
assert_eq "0 0" "$("$CTL" --zone "$TZ" --socket "$REDIS_SOCK" campaign-rules --days 2 --json |
  jq -r '.campaigns[] | select(.id == "wb") | "\(.preview_due) \(.preview_cost)"')" \
  "nobody is due today"
rcli hset "lg:{$W}:w" lang en >/dev/null
rcli sadd 'bc:{bc}:optin' $W >/dev/null

note "71 days later: the last recharges moved back, their due sets are today's"
rm -f "$T/offer.rec"
start_sim offer --listen "127.0.0.1:$SMSC_PORT" --record "$T/offer.rec" --timeout-s 60
TODAY_N=$(date +%Y%m%d)
for m in $W $X; do rcli hset "lg:{$m}:w" rl $((NOW - 71 * 86400)) >/dev/null; done
wait_for 10 grep -q 'smpp{SIM}.*BOUND' "$T/gw.log" || true
for k in $(printf '%s\n' "$KW" "$KX" | sort -u); do
  rcli rename "$k" "${k%:*}:$TODAY_N" >/dev/null
done
offered() { [ -n "$(rcli hget "lg:{$W}:w" wo)" ] && [ -n "$(rcli hget "lg:{$X}:w" wo)" ]; }
wait_for 60 offered || fail "no offer after the pass"
UNTIL=$(date -d "$TODAY +14 days" +%d/%m/%Y)
sms_w() { [ -f "$T/offer.rec" ] && jq -r --arg d $W 'select(.dst == $d) | .text' "$T/offer.rec"; }
wait_for 20 test -n "$(sms_w)" || fail "no offer SMS to W"
assert_eq "We miss you: recharge by $UNTIL and earn +40 points" "$(sms_w)" \
  "one offer SMS, in English, with the date and the points"
sleep 2 # the next passes: nothing new (one offer per lapse)
kill "$SIM_PID_offer" 2>/dev/null || true
wait "$SIM_PID_offer" 2>/dev/null || true
assert_eq 0 "$(jq -r --arg d $X 'select(.dst == $d)' "$T/offer.rec" | grep -c . || true)" \
  "no SMS to X: no consent"
assert_eq 1 "$(jq -s --arg d $W '[.[] | select(.dst == $d)] | length' "$T/offer.rec")" \
  "W got exactly one offer SMS"
assert_eq 2 "$(spent wb offered)" "2 offered"

note "W comes back"
events b2 "$(topup WW4 $W 100.00)"
assert_eq $((bal_w + 10 + 40)) "$(bal $W)" "the recharge earns its points and the 40 bonus"
events b3 "$(topup WW4 $W 100.00)" "$(topup WW5 $W 100.00)"
assert_eq $((bal_w + 10 + 40 + 10)) "$(bal $W)" "once: not on the redelivery, not on the next recharge"
assert_eq 1 "$(spent wb back)" "the funnel: 1 came back"
assert_eq 40 "$(spent wb spent)" "40 points spent"
assert_eq 1 "$(hist_lines $W | grep -c '|BONUS|.*|+40||campaign wb: welcome back')" "why these points"
assert_eq "" "$(rcli hget "lg:{$W}:w" wo)" "the offer is used"
"$CTL" --zone "$TZ" --socket "$REDIS_SOCK" campaign-rules --json >"$T/rules.json" || fail "campaign-rules failed"
assert_eq "2 1 40 9960" "$(jq -r '.campaigns[] | select(.id == "wb") |
  "\(.offered) \(.came_back) \(.spent) \(.left)"' "$T/rules.json")" \
  "the funnel in loyaltyctl: 2 offered, 1 came back, 40 points spent, 9960 left"
assert_eq "100 0 3" "$(jq -r '.campaigns[] | select(.id == "welcome") | "\(.spent) \(.left) \(.budget_stops)"' \
  "$T/rules.json")" "the welcome budget: spent, nothing left, refused to C, W and X"
api GET /api/campaign-rules/figures "$CARL"
assert_eq 200 "$CODE" "figures for every role"
assert_eq "2 1 40 9960" "$(j '.campaigns[] | select(.id == "wb") |
  "\(.offered) \(.came_back) \(.spent) \(.left)"')" "the funnel in the console"
assert_eq "100 2" "$(j '.campaigns[] | select(.id == "welcome") | "\(.spent) \(.grants)"')" \
  "the welcome campaign in the console"

note "a lapse later in the day: today's set is read again by the next passes, not dropped after the first"
Y=212640000007 # lapses 8 s from now: the passes before answer "recent"
events b4 "$(topup WY1 $Y 100.00)" "$(topup WY2 $Y 100.00)" "$(topup WY3 $Y 100.00)"
KY=$(due_set $Y "$LAPSE")
[ -n "$KY" ] || fail "Y is in no due set of $LAPSE"
rcli hset "lg:{$Y}:w" rl $(( $(date +%s) - 70 * 86400 + 8 )) >/dev/null
rcli smove "$KY" "${KY%:*}:$TODAY_N" $Y >/dev/null
offered_y() { [ -n "$(rcli hget "lg:{$Y}:w" wo)" ]; }
wait_for 60 offered_y || fail "Y was never offered: its lapse came after the day's first pass"
assert_eq 3 "$(spent wb offered)" "Y offered once, at a pass after its lapse"
y_left() { [ "$(rcli sismember "${KY%:*}:$TODAY_N" $Y)" = 0 ]; }
wait_for 20 y_left || fail "Y stays in today's set after its offer"
echo "ok - an offered member leaves today's set at the next pass"

note "the aggregates: every bonus moved the slot's totals and is issued points of its campaign"
if "$CTL" --zone "$TZ" --socket "$REDIS_SOCK" agg-check >"$T/check" 2>&1; then
  echo "ok - agg-check agrees exactly after the bonuses ($(tail -1 "$T/check"))"
else
  fail "agg-check: $(head -20 "$T/check")"
fi
"$CTL" --zone "$TZ" --socket "$REDIS_SOCK" report "$(date -d "$TODAY -2 days" +%Y%m%d)" \
  "$(date -d "$TODAY +1 day" +%Y%m%d)" >"$T/report" 2>&1 || fail "report: $(cat "$T/report")"
rv() { awk -v k="$1" '$1 " " $2 == k { print $3; f = 1 } END { if (!f) print 0 }' "$T/report"; }
assert_eq "100 100 40 4" \
  "$(rv 'flow iss:BONUS:welcome') $(rv 'flow iss:BONUS:tenure') $(rv 'flow iss:BONUS:wb') $(rv 'flow n:BONUS')" \
  "report: the bonuses per campaign (A and B welcome, D tenure, W win-back), 4 grants"
assert_eq "$(awk '$1 == "flow" && $2 ~ /^iss:/ { s += $3 } END { print s + 0 }' "$T/report")" \
  "$(rv 'flow issued')" "report: issued includes the bonuses"
stop_admin
stop_gw
finish

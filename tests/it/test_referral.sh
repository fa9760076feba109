#!/usr/bin/env bash
# The referral rule (issue 10 section 1; docs/campaigns.md "Referral") end to end: a member refers
# a number over USSD (*555*7*<number>#, real SMPP through the simulator, the real gateway, a real
# redis-server), the refusals each with its screen (self, already a member, a bad number, taken,
# the loop B->A, K a month), then the referee's first qualifying recharge pays both sides once
# through the campaign script (history lines, the budget), a redelivered event pays nothing again,
# and the ledger's aggregates still agree (loyaltyctl agg-check). Each referral accepted is one
# journal line (format version 3; the same referral again none), and `loyaltyctl whatif` replays
# them: the in force side pays what the gateway paid, a draft doubling the bonus twice that.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

NOW=$(date +%s)
TODAY=$(date +%F)
YESTERDAY=$(date -d "$TODAY -1 day" +%F)
NEXT_YEAR=$(date -d "$TODAY +1 year" +%F)
MONTH=$(date +%Y%m)
at_iso() { date -u -d "@$1" +%FT%TZ; }

start_redis
pick_port
ussd_config ".campaigns = {enabled: true, pass_interval_s: 3600, catchup_days: 0,
  quiet_start_hour: 0, quiet_end_hour: 0} | .journal.dir = \"$T/journal\""
start_gw
DOC=$(jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '{version: "it-ref", campaigns: [
  {id: "ref", rule: "referral", start: $s, end: $e, budget: 1000, points: 25, valid_days: 30,
   max_per_month: 2, min_amount: 20, label: "bring a friend"}]}')
rcli hset 'cfg:{adm}:campaigns' doc "$DOC" version 1 >/dev/null
wait_for 20 grep -q 'campaigns "it-ref": 1 rules' "$T/gw.log" || fail "the gateway did not load the document"

topup() { echo "TOPUP ref=$1 msisdn=$2 amount=$3 currency=MAD at=$(at_iso $((NOW - 60)))"; }
bal() { rcli hget "lg:{$1}:w" bal; }

A=212650000001 # the referrer
B=212650000002 # the referee
M=212650000003 # already a member
C=212650000004 # another member
note "A, M and C are members (a recharge each)"
events e1 "$(topup RA1 $A 100.00)" "$(topup RM1 $M 100.00)" "$(topup RC1 $C 100.00)"
assert_eq 10 "$(bal $A)" "A: 10 points earned"
rcli hset "lg:{$A}:w" lang en >/dev/null
rcli hset "lg:{$C}:w" lang en >/dev/null
rcli hset "lg:{$B}:w" lang en >/dev/null # a saved language creates no membership

OK="Thank you! You both get a bonus on your friend's first recharge."
note "A refers B, then the refusals"
phone r1 $A "*555*7*$B#\n*555*7*$A#\n*555*7*$M#\n*555*7*0612345678#"
expect_screens r1 "ok, self, member, bad number: each its last screen" \
  "$(last "$OK")" "$(last 'You cannot refer your own number.')" \
  "$(last 'This number is already a member.')" \
  "$(last 'Invalid number. Dial *555*7*country code+number#')"
assert_eq "$A" "$(rcli hget "lg:{$B}:rf" by)" "the referral record on B's slot names A"
assert_eq open "$(rcli hget "lg:{$B}:rf" st)" "open until B recharges"
TTL=$(rcli ttl "lg:{$B}:rf")
[ "$TTL" -gt $((30 * 86400)) ] && [ "$TTL" -le $((32 * 86400)) ] || fail "the record lapses with D: ttl $TTL"
assert_eq "$MONTH|1" "$(rcli hget "lg:{$A}:w" rfm)" "A's count this month"
phone r2 $A "*555*7*$B#"
expect_screens r2 "the same referral again: accepted" "$(last "$OK")"
assert_eq "$MONTH|1" "$(rcli hget "lg:{$A}:w" rfm)" "... and counted once"
phone r3 $C "*555*7*$B#"
expect_screens r3 "C refers B, already referred by A" \
  "$(last 'This number was already referred by another member.')"

note "B recharges 100: both paid once"
events e2 "$(topup RB1 $B 100.00)"
assert_eq 35 "$(bal $B)" "B: 10 earned + 25 referral bonus"
assert_eq 35 "$(bal $A)" "A: 10 + 25 referral bonus"
assert_eq paid "$(rcli hget "lg:{$B}:rf" st)" "the record says paid"
assert_eq "$A" "$(rcli hget "lg:{$B}:w" rb)" "B's wallet keeps who referred it"
assert_eq 1 "$(hist_lines $B | grep -c 'BONUS|#[0-9a-f]*|+25||campaign ref: bring a friend$')" \
  "B's history says why"
assert_eq 1 "$(hist_lines $A | grep -c "BONUS|#[0-9a-f]*|+25||campaign ref: bring a friend; referred $B$")" \
  "A's history says why"
hist_no_list $A; hist_no_list $B
assert_eq 50 "$(rcli hget 'lg:cb:{cmp}' ref:spent)" "the budget counts both bonuses"
events e3 "$(topup RB1 $B 100.00)" "$(topup RB2 $B 100.00)"
assert_eq 45 "$(bal $B)" "a redelivered event and a second recharge: B earns 10, no bonus"
assert_eq 35 "$(bal $A)" "... and A nothing more"
assert_eq 50 "$(rcli hget 'lg:cb:{cmp}' ref:spent)" "the budget once"

note "the loop B->A and the monthly cap"
phone r4 $B "*555*7*$A#"
expect_screens r4 "B may not refer A, who referred B" \
  "$(last 'You cannot refer the member who referred you.')"
phone r5 $A "*555*7*212650000005#\n*555*7*212650000006#"
expect_screens r5 "A's second referral this month, then the cap (2)" \
  "$(last "$OK")" "$(last "You reached this month's referral limit.")"
assert_eq 0 "$(rcli exists 'lg:{212650000006}:rf')" "a refused referral leaves no record"

note "a first recharge below the minimum (20) does not qualify, and a later one no more"
E=212650000007
phone r6 $C "*555*7*$E#"
expect_screens r6 "C refers E" "$(last "$OK")"
events e4 "$(topup RE1 $E 10.00)" "$(topup RE2 $E 100.00)"
assert_eq 11 "$(bal $E)" "E: 1 + 10 earned, no bonus"
assert_eq 10 "$(bal $C)" "C: no bonus"
assert_eq 0 "$(rcli hget "lg:{$E}:w" c:ref)" "E's referral is settled unpaid"
assert_eq 50 "$(rcli hget 'lg:cb:{cmp}' ref:spent)" "the budget untouched"

note "the menu entry: Transfer points > Refer a friend asks for the number, the same last screens"
F=212650000008
rcli hset "lg:{$M}:w" lang en >/dev/null
MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
XFER=$'Transfer points\n1 Send points\n2 Set or change my PIN\n3 Refer a friend\n0 Back'
ASK=$'Refer a friend.\nEnter their number with the country code (e.g. 212612345678):\n0 Back'
phone r7 $M "*555#\n7\n3\n0\n3\n0612\n*555#\n7\n3\n+$F#\n*555#\n7\n3\n$M"
expect_screens r7 "main -> transfer -> refer (0: back) -> a bad number; then F; then itself" \
  "$(menu "$MAIN")" "$(menu "$XFER")" "$(menu "$ASK")" "$(menu "$XFER")" "$(menu "$ASK")" \
  "$(last 'Invalid number. Dial *555*7*country code+number#')" \
  "$(menu "$MAIN")" "$(menu "$XFER")" "$(menu "$ASK")" "$(last "$OK")" \
  "$(menu "$MAIN")" "$(menu "$XFER")" "$(menu "$ASK")" "$(last 'You cannot refer your own number.')"
assert_eq "$M open" "$(rcli hget "lg:{$F}:rf" by) $(rcli hget "lg:{$F}:rf" st)" \
  "the referral made from the menu is recorded like the direct dial's"
assert_eq "" "$(rcli --scan --pattern "ussd:$M:*")" "the dialogues are ended (nothing stored)"

note "the aggregates follow both bonuses"
"$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" agg-check >"$T/agg" 2>&1 ||
  fail "agg-check: $(cat "$T/agg")"
sleep 1.2
assert_eq 1 "$(gw_stat .campaigns.referrals_paid)" "one referrer paid"
stop_gw

note "the journal: one line per referral accepted, none for a repeat or a refusal"
cat "$T/journal"/*.lj >"$T/j.all"
assert_eq "#lj 3" "$(head -1 "$(ls "$T/journal"/*.lj | head -1)")" "files of format version 3"
assert_eq "$A $B|$A 212650000005|$C $E|$M $F" \
  "$(awk '$2 == "F" {print $3, $4}' "$T/j.all" | paste -sd'|')" \
  "A->B once (its repeat not), A's second, C->E, M->F (the menu's); self, member, taken, loop, cap none"
while read -r ms day; do
  assert_eq "$(TZ=Africa/Casablanca date -d "@$((ms / 1000))" +%Y%m%d)" "$day" "the referral's local day"
done < <(awk '$2 == "F" {print $1, $5}' "$T/j.all")
note "the what-if replays them: the in force side is what the gateway paid"
echo "$DOC" >"$T/ref1.json"
echo "$DOC" | jq '.campaigns[0].points = 50' >"$T/ref2.json"
"$LGW_BIN/gateway/loyaltyctl" whatif --config "$T/gw.json" --campaigns "$T/ref1.json" \
  --draft-campaigns "$T/ref2.json" --days 2 --json >"$T/wi.out" 2>"$T/wi.err" ||
  fail "loyaltyctl whatif: $(cat "$T/wi.err")"
assert_eq "50 2 0 50 4 1" \
  "$(jq -r '.campaigns.base | "\(.issued) \(.grants) \(.campaigns[0].spent_before) \(.campaigns[0].spent) \(.referrals.recorded) \(.referrals.paid)"' "$T/wi.out")" \
  "in force: B and A 25 each as paid (the budget's 50, all in the window), 4 referrals recorded, 1 paid"
assert_eq "100 2" "$(jq -r '.campaigns.draft | "\(.issued) \(.grants)"' "$T/wi.out")" \
  "the draft doubling the bonus: exactly twice"
finish

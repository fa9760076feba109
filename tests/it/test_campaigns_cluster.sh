#!/usr/bin/env bash
# The campaign rules on a real 3-master Redis Cluster (docs/campaigns.md "Redis Cluster"): the
# budget lg:cb:{cmp} and the wallets are on other slots, so a bonus is two steps (reserve on
# {cmp}, then pay on the wallet's slot by its marker, then settle). Over real SMPP through the
# simulator with the real gateway: welcome once and the budget's hard stop; a referral over USSD
# (the referrer and the referee on two masters) paying both once, and the loop screen from the
# referrer's chain; a win-back offer and its bonus once. Then the driver it_campaign (the same
# steps in a process killed -9 between the reservation and the payment): the redelivery pays
# exactly once; a reservation whose event never comes back is voided on the wallet's slot and
# given back by the sweeper, never paid later. Birthdays: the real `loyaltyctl birthday-import`
# on the cluster (members on two masters; a slot made to migrate meanwhile: exit 1, the count
# applied, a re-run applies the rest, another changes nothing), then the pass pays each once.
# `loyaltyctl agg-check` agrees at the end.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

# Days are the programme's local days (lib.sh's config: Africa/Casablanca), as the gateway and the
# console count them: in UTC the test's "today" is another day for the hour around local midnight.
export TZ=Africa/Casablanca
NOW=$(date +%s)
TODAY=$(date +%F)
TODAY_N=$(date +%Y%m%d)
YESTERDAY=$(date -d "$TODAY -1 day" +%F)
NEXT_YEAR=$(date -d "$TODAY +1 year" +%F)
at_iso() { date -u -d "@$1" +%FT%TZ; }

start_redis_cluster
export LGW_REDIS_CLUSTER; LGW_REDIS_CLUSTER=$(echo "$CLUSTER_NODES" | jq -r 'join(",")')
CTL=("$LGW_BIN/gateway/loyaltyctl" --zone "$TZ" --host 127.0.0.1 --port "${CLUSTER_PORTS[0]}")
node_of() { # key: the port of the master holding its slot
  local s; s=$(ccli cluster keyslot "$1")
  redis-cli -p "${CLUSTER_PORTS[0]}" cluster slots |
    awk -v s="$s" 'NR % 1 == 0 { a[NR] = $1 } END { for (i = 1; i + 3 <= NR; ) {
      if (a[i] ~ /^[0-9]+$/ && a[i+1] ~ /^[0-9]+$/ && s >= a[i] && s <= a[i+1]) { print a[i+3]; exit }
      i++ } }'
}

pick_port
ussd_config '.campaigns = {enabled: true, pass_interval_s: 1, catchup_days: 0,
  quiet_start_hour: 0, quiet_end_hour: 0}'
start_gw
DOC=$(jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '{version: "it-cl", campaigns: [
  {id: "welcome", rule: "welcome", start: $s, end: $e, budget: 100, points: 50,
   label: "welcome bonus"},
  {id: "wb", rule: "winback", start: $s, end: $e, budget: 10000, points: 40, min_recharges: 3,
   lapse_days: 70, valid_days: 14, label: "welcome back",
   texts: {en: "Recharge by {date}: +{points} points", fr: "Rechargez avant le {date}",
           ar: "اشحن قبل {date}", fa: "تا {date} شارژ کنید"}},
  {id: "ref", rule: "referral", start: $s, end: $e, budget: 1000, points: 25, valid_days: 30,
   max_per_month: 5, min_amount: 20, label: "bring a friend"}]}')
ccli hset 'cfg:{adm}:campaigns' doc "$DOC" version 1 >/dev/null
wait_for 20 grep -q 'campaigns "it-cl": 3 rules' "$T/gw.log" || fail "the gateway did not load the document"
grep -q 'needs one Redis' "$T/gw.log" && fail "the gateway refused campaigns on a cluster"

topup() { echo "TOPUP ref=$1 msisdn=$2 amount=$3 currency=MAD at=$(at_iso $((NOW - 60)))"; }
bal() { ccli hget "lg:{$1}:w" bal; }
cb() { ccli hget 'lg:cb:{cmp}' "$1"; }
in_flight() { ccli hlen 'lg:cr:{cmp}'; }

# ------------------------------------------------------------------ welcome and the hard stop
A=212670000001
B=212670000002
C=212670000003
note "welcome: A, then B takes the rest of the budget (100), C finds it spent"
events w1 "$(topup WA1 $A 100.00)"
events w2 "$(topup WB1 $B 100.00)" "$(topup WA1 $A 100.00)"
events w3 "$(topup WC1 $C 100.00)"
assert_eq "60 60 10" "$(bal $A) $(bal $B) $(bal $C)" "A, B: 10 + 50; C: 10 (hard stop); A's redelivery: nothing"
assert_eq "100 2 1" "$(cb welcome:spent) $(cb welcome:n) $(cb welcome:stop)" \
  "exactly the budget spent, 2 grants, 1 refused"
assert_eq 0 "$(ccli hget "lg:{$C}:w" c:welcome)" "C is settled: not paid later"
events w4 "$(topup WC2 $C 100.00)"
assert_eq "20 1" "$(bal $C) $(cb welcome:stop)" "a later event of C: no bonus, not counted again"
assert_eq 0 "$(in_flight)" "every reservation settled"
assert_eq 1 "$(notes_grep ccli $A 'campaign welcome: welcome bonus' | wc -l)" "A's history says why"
assert_eq 0 "$(ccli exists "lg:{$A}:h")" "A: no history list (the wallet's E and N)"

# ------------------------------------------------------------------ referral on two masters
R=212670000010 # the referee: on another master than A
for cand in $(seq 212670000010 212670000040); do
  if [ "$(node_of "lg:{$cand}:w")" != "$(node_of "lg:{$A}:w")" ]; then R=$cand; break; fi
done
[ "$(node_of "lg:{$R}:w")" != "$(node_of "lg:{$A}:w")" ] ||
  fail "no referee found on another master than A"
ccli hset "lg:{$A}:w" lang en >/dev/null
OK="Thank you! You both get a bonus on your friend's first recharge."
note "A refers R over USSD (A and R on different masters), then again, then R refers itself"
phone r1 $A "*555*7*$R#\n*555*7*$R#\n*555*7*$B#"
expect_screens r1 "ok, the same again ok, a member refused" "$(last "$OK")" "$(last "$OK")" \
  "$(last 'This number is already a member.')"
assert_eq "$A open $A" "$(ccli hget "lg:{$R}:rf" by) $(ccli hget "lg:{$R}:rf" st) $(ccli hget "lg:{$R}:rf" ch)" \
  "the record on R's slot names A and keeps A's chain"
assert_eq "$(date +%Y%m)|1" "$(ccli hget "lg:{$A}:w" rfm)" "A's count this month: once"
events f1 "$(topup RR1 $R 100.00)"
assert_eq "35 85" "$(bal $R) $(bal $A)" "R: 10 + 25; A: 60 + 25"
assert_eq "paid $A" "$(ccli hget "lg:{$R}:rf" st) $(ccli hget "lg:{$R}:w" rbc)" \
  "the record is paid, R's wallet keeps the chain"
events f2 "$(topup RR1 $R 100.00)" "$(topup RR2 $R 100.00)"
assert_eq "45 85 50" "$(bal $R) $(bal $A) $(cb ref:spent)" \
  "a redelivery and a second recharge: no second bonus; both bonuses counted once"
assert_eq 1 "$(notes_grep ccli $A "campaign ref: bring a friend; referred $R" | wc -l)" \
  "A's history says why"
ccli hset "lg:{$R}:w" lang en >/dev/null
phone r2 $R "*555*7*$A#"
expect_screens r2 "R may not refer A (the chain on R's own slot)" \
  "$(last 'You cannot refer the member who referred you.')"
assert_eq 1 "$(gw_stat .campaigns.referrals_paid)" "one referrer paid"

# ------------------------------------------------------------------ win-back
W=212670000050
note "win-back: 3 recharges, then 71 days later an offer and the bonus once"
events b1 "$(topup WW1 $W 100.00)" "$(topup WW2 $W 100.00)" "$(topup WW3 $W 100.00)"
LAPSE=$(date -d "$(date -d "@$((NOW - 60))" +%F) +70 days" +%Y%m%d)
assert_eq "3 $LAPSE" "$(ccli hget "lg:{$W}:w" rc) $(ccli hget "lg:{$W}:w" cwd)" "indexed by the day it lapses"
KW=""
for p in "${CLUSTER_PORTS[@]}"; do
  for k in $(redis-cli -p "$p" --scan --pattern "lg:cw:*:$LAPSE"); do
    [ "$(redis-cli -p "$p" sismember "$k" $W)" = 1 ] && KW=$k
  done
done
[ -n "$KW" ] || fail "W is in no due set of $LAPSE"
bal_w=$(bal $W)
ccli hset "lg:{$W}:w" rl $((NOW - 71 * 86400)) >/dev/null
ccli rename "$KW" "${KW%:*}:$TODAY_N" >/dev/null
offered() { [ -n "$(ccli hget "lg:{$W}:w" wo)" ] && [ "$(cb wb:offered)" = 1 ]; }
wait_for 60 offered || fail "no offer after the pass, or not counted ($(cb wb:offered))"
events b2 "$(topup WW4 $W 100.00)"
events b3 "$(topup WW4 $W 100.00)" "$(topup WW5 $W 100.00)"
assert_eq $((bal_w + 10 + 40 + 10)) "$(bal $W)" "the bonus once (not on the redelivery nor the next recharge)"
assert_eq "40 1 1" "$(cb wb:spent) $(cb wb:back) $(cb wb:n)" "the funnel: 1 came back, 40 spent"
assert_eq "" "$(ccli hget "lg:{$W}:w" wo)" "the offer is used"
assert_eq 0 "$(in_flight)" "every reservation settled"

# ------------------------------------------------------------------ killed between the steps
K1=212670000061
K2=212670000062
K3=212670000063
events k0 "$(topup KK0 $K1 100.00)" "$(topup KL0 $K2 100.00)" "$(topup KM0 $K3 100.00)"
KDOC="$T/kill-doc.json"
jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '{version: "it-kill", campaigns: [
  {id: "wk", rule: "welcome", start: $s, end: $e, budget: 100, points: 30, tiers: {gold: 80},
   label: "kill test"}]}' >"$KDOC"
drv() { IT_DOC="$KDOC" IT_TODAY=$TODAY_N "$LGW_BIN/tests/it_campaign" "$@"; }
note "K1: the process dies after the reservation, before the payment"
rc=0; drv bonus $K1 TOPUP KK0 100 die >"$T/k1" 2>&1 || rc=$?
assert_eq 137 "$rc" "killed -9 after the reservation"
assert_eq "30 10 1" "$(cb wk:spent) $(bal $K1) $(in_flight)" "reserved on {cmp}, not paid, in flight"
out=$(drv bonus $K1 TOPUP KK0 100) || fail "redelivery: $out"
assert_eq "err=0 paid=30 stops=0" "$out" "the redelivery pays"
assert_eq "30 40 0" "$(cb wk:spent) $(bal $K1) $(in_flight)" "paid exactly once, counted once, settled"
out=$(drv bonus $K1 TOPUP KK0 100) || fail "second redelivery: $out"
assert_eq "err=0 paid=0 stops=0" "$out" "a second redelivery: nothing"
note "K2: dies after the reservation, and its event never comes back"
rc=0; drv bonus $K2 TOPUP KL0 100 die >"$T/k2" 2>&1 || rc=$?
assert_eq "137 60 1" "$rc $(cb wk:spent) $(in_flight)" "K2 reserved, not paid"
assert_eq "swept=0 given=0" "$(drv sweep)" "the sweeper leaves a young reservation"
assert_eq "swept=1 given=1" "$(IT_NOW=$(($(date +%s) + 601)) drv sweep)" \
  "600 s later it is voided and given back"
assert_eq "30 1 0 10 0" "$(cb wk:spent) $(cb wk:n) $(in_flight) $(bal $K2) $(ccli hget "lg:{$K2}:w" c:wk)" \
  "the points back in the budget; K2 settled unpaid (c:wk 0), nothing credited"
out=$(drv bonus $K2 TOPUP KL0 100) || fail "late redelivery: $out"
assert_eq "err=0 paid=0 stops=0" "$out" "a late redelivery pays nothing (at most once)"
assert_eq "30 10" "$(cb wk:spent) $(bal $K2)" "... and counts nothing"

note "birthday: loyaltyctl birthday-import on the cluster (members on two masters), then the pass"
BB=212670000070 # BB2 on another master, BB3's slot made to migrate during the first import
BB2=""
for cand in $(seq 212670000071 212670000099); do
  if [ "$(node_of "lg:{$cand}:w")" != "$(node_of "lg:{$BB}:w")" ]; then BB2=$cand; break; fi
done
[ -n "$BB2" ] || fail "no member found on another master than BB"
BB3=212670000100
events d0 "$(topup BD0 $BB 100.00)" "$(topup BD2 $BB2 100.00)" "$(topup BD3 $BB3 100.00)"
LOCAL_TODAY=$(TZ=Africa/Casablanca date -d "@$NOW" +%Y%m%d)
BORN=$((LOCAL_TODAY - 280000)) # 28 years ago, the same month-day (a 29 February stays one)
BORN_ISO="${BORN:0:4}-${BORN:4:2}-${BORN:6:2}"
printf 'msisdn,birth_date\n%s,%s\n%s,%s\n%s,%s\n%s,%s\n' $BB "$BORN_ISO" $BB2 "$BORN_ISO" \
  $BB3 "$BORN_ISO" 212670000199 "$BORN_ISO" >"$T/bd.csv"
VG=() # under LGW_VALGRIND=1 the import runs under valgrind (errors and leaks fail it)
[ "${LGW_VALGRIND:-0}" = 1 ] && VG=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite)
bimport() { "${VG[@]+"${VG[@]}"}" "${CTL[@]}" birthday-import "$T/bd.csv" >"$T/$1" 2>&1; }
# BB3's slot MIGRATING on its master: BDSET (its index key absent) answers TRYAGAIN
S3=$(ccli cluster keyslot "lg:{$BB3}:w")
P3=$(node_of "lg:{$BB3}:w")
for p in "${CLUSTER_PORTS[@]}"; do [ "$p" != "$P3" ] && O3=$(redis-cli -p "$p" cluster myid); done
redis-cli -p "$P3" cluster setslot "$S3" migrating "$O3" >/dev/null
rc=0; bimport bimp0 || rc=$?
redis-cli -p "$P3" cluster setslot "$S3" stable >/dev/null
assert_eq 1 "$rc" "a slot moving during the import: exit 1"
grep -q "$BB3 on 127.0.0.1:$P3: TRYAGAIN.*resharding" "$T/bimp0" &&
  grep -q "INCOMPLETE: 3 of 4 applied, run it again" "$T/bimp0" &&
  echo "ok - it says which member, where, why, and how many were applied: $(cat "$T/bimp0")" ||
  fail "no clear error or count: $(cat "$T/bimp0")"
assert_eq "$BORN $BORN " "$(ccli hget "lg:{$BB}:w" bd) $(ccli hget "lg:{$BB2}:w" bd) $(ccli hget "lg:{$BB3}:w" bd)" \
  "the other masters' members written, BB3 not"
bimport bimp1 || fail "birthday-import re-run: $(cat "$T/bimp1")"
grep -q "4 birth dates: 1 new, 0 changed, 2 unchanged, 1 not members" "$T/bimp1" ||
  fail "the re-run applies the rest: $(cat "$T/bimp1")"
for m in $BB $BB2 $BB3; do
  key="lg:bd:$("$LGW_BIN/tests/it_expiry" tag --msisdn $m):${BORN:4:4}"
  assert_eq "$BORN 1" "$(ccli hget "lg:{$m}:w" bd) $(redis-cli -p "$(node_of "lg:{$m}:w")" sismember "$key" $m)" \
    "$m: bd, and indexed on its wallet's master"
done
assert_eq 0 "$(ccli exists "lg:{212670000199}:w")" "a non-member gets no wallet"
bimport bimp2 || fail "birthday-import again: $(cat "$T/bimp2")"
grep -q "0 new, 0 changed, 3 unchanged, 1 not members" "$T/bimp2" || fail "a re-run: $(cat "$T/bimp2")"
assert_eq 3 "$(ccli xrange 'adm:{adm}:audit' - + | grep -c birthdays.import)" "each import audited"
BDOC="$T/bday-doc.json"
jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '{version: "it-bd", campaigns: [
  {id: "bday", rule: "birthday", start: $s, end: $e, budget: 100, points: 30,
   label: "happy birthday", texts: {en: "Happy birthday! +{points}", fr: "Joyeux anniversaire",
   ar: "عيد ميلاد سعيد", fa: "تولدت مبارک"}}]}' >"$BDOC"
bpass() { TZ=Africa/Casablanca "$LGW_BIN/tests/it_birthday" pass --now "$NOW" --doc "$BDOC" --catchup 0; }
bpass >"$T/bpass1" 2>&1 || fail "birthday pass: $(cat "$T/bpass1")"
assert_eq "40 40 40 ${LOCAL_TODAY:0:4} 90 3 0" \
  "$(bal $BB) $(bal $BB2) $(bal $BB3) $(ccli hget "lg:{$BB}:w" c:bday) $(cb bday:spent) $(cb bday:n) $(in_flight)" \
  "BB, BB2, BB3: 10 + 30, marked this year, reserved then paid and settled"
bpass >"$T/bpass2" 2>&1 || fail "birthday pass: $(cat "$T/bpass2")"
assert_eq "40 40 40 90" "$(bal $BB) $(bal $BB2) $(bal $BB3) $(cb bday:spent)" \
  "a second pass the same day: nothing"

note "K3: dies after reserving 30; its tier rises before the redelivery: paid as reserved"
rc=0; drv bonus $K3 TOPUP KM0 100 die >"$T/k3" 2>&1 || rc=$?
assert_eq "137 60" "$rc $(cb wk:spent)" "K3 reserved 30 (standard)"
ccli hset "lg:{$K3}:w" tier gold >/dev/null
out=$(drv bonus $K3 TOPUP KM0 100) || fail "K3 redelivery: $out"
assert_eq "err=0 paid=30 stops=0" "$out" "the gold variant (80) would pass the reservation: 30 paid"
assert_eq "60 40 0" "$(cb wk:spent) $(bal $K3) $(in_flight)" "spent = paid: the hard stop holds"
ccli hset "lg:{$K3}:w" tier standard >/dev/null # as the aggregates counted it

note "the aggregates agree with the wallets"
if "${CTL[@]}" agg-check >"$T/check" 2>&1; then
  echo "ok - agg-check agrees exactly after the bonuses on the cluster ($(tail -1 "$T/check"))"
else
  fail "agg-check: $(head -20 "$T/check")"
fi
stop_gw
finish

#!/usr/bin/env bash
# Issue 12 section 2, the campaigns' what-if end to end: twelve new members recharge over SMPP
# through the real gateway (each enrolment and event journaled, format version 2), then
# `loyaltyctl whatif --campaigns --draft-campaigns` replays them through the product's own
# campaign.lua (in a scratch redis-server the worker starts and stops) under the campaigns in
# force and a draft, checked against a recomputation made here:
#   - in force: a welcome bonus of 50, 70 for silver (the members whose first recharge of 300
#     MAD earned 30 points and made them silver), paid once per member;
#   - a draft doubling both: exactly twice the bonus points;
#   - a draft of 100 with a budget of 500: five bonuses, the hard stop for the others, spent 500;
#   - the console's POST /api/whatif {campaigns} gives loyaltyctl's figures (the in force side
#     read from the stored cfg:{adm}:campaigns).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/admin_helpers.sh"

CTL="$LGW_BIN/gateway/loyaltyctl"
NOW=$(date -u +%s)
N=12
: >"$T/c.events"
for i in $(seq 1 $N); do
  m=$(printf '21260055%04d' "$i")
  amt=$([ $((i % 2)) = 1 ] && echo 300 || echo 50) # odd members: 30 points, silver at once
  for k in 0 1; do
    at=$((NOW - 7200 + i * 60 + k * 1800))
    echo "TOPUP ref=WC-$i-$k msisdn=$m amount=$amt currency=MAD at=$(date -u -d "@$at" +%FT%TZ)" >>"$T/c.events"
  done
done
sort -t= -k5 "$T/c.events" -o "$T/c.events"
start_redis
start_sim sim --events "$T/c.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT" ".journal.dir = \"$T/journal\" |
  .loyalty.tiers = [{name: \"standard\", min_points: 0, multiplier_pct: 100},
                    {name: \"silver\", min_points: 20, multiplier_pct: 100},
                    {name: \"gold\", min_points: 100000, multiplier_pct: 100}]"
start_gw
wait_sim sim 60
stop_gw
assert_eq $((2 * N)) "$(sim_json sim '.final.ESME_ROK')" "every event committed"
assert_eq $N "$(cat "$T/journal"/*.lj | grep -c ' J ')" "one enrolment line per new member"

START=$(TZ=Africa/Casablanca date -d '-5 days' +%F)
END=$(TZ=Africa/Casablanca date -d '+30 days' +%F)
doc() { # POINTS SILVER BUDGET
  jq -n --arg s "$START" --arg e "$END" --argjson p "$1" --argjson v "$2" --argjson b "$3" \
    '{version: "w", campaigns: [{id: "welcome", rule: "welcome", start: $s, end: $e, budget: $b,
      points: $p, tiers: {silver: $v}, label: "welcome bonus"}]}'
}
doc 50 70 1000000 >"$T/base.json"
doc 100 140 1000000 >"$T/double.json"
doc 100 100 500 >"$T/budget.json"
SILVER=$(( (N + 1) / 2 )); STD=$((N / 2))
BASE=$((SILVER * 70 + STD * 50))

"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/double.json" \
  --days 2 --point-value 0.05 --json >"$T/d.out" 2>"$T/d.err" || fail "loyaltyctl whatif --draft-campaigns: $(cat "$T/d.err")"
assert_eq "$BASE $N 0" "$(jq -r '.campaigns.base | "\(.issued) \(.grants) \(.stops)"' "$T/d.out")" \
  "in force: $SILVER silver members x 70 + $STD x 50 = $BASE, one welcome each"
assert_eq "$((2 * BASE)) $N" "$(jq -r '.campaigns.draft | "\(.issued) \(.grants)"' "$T/d.out")" \
  "the welcome bonus doubled: exactly twice ($((2 * BASE)))"
assert_eq "welcome $((2 * BASE)) false" "$(jq -r '.campaigns.draft.campaigns[0] | "\(.id) \(.spent) \(.stop_reached)"' "$T/d.out")" \
  "budget consumed: the draft's spent"
assert_eq "$((BASE * 50)) $((2 * BASE * 50))" "$(jq -r '.campaigns | "\(.base.liability_milli) \(.draft.liability_milli)"' "$T/d.out")" \
  "the bonuses' liability in money: issued x 0.05 MAD, in thousandths, each side"
# the ten largest changes: the six silver members (70 -> 140) by number, then four of the six
# standard ones (50 -> 100) by number
want=$( { for i in $(seq 1 2 $N); do printf '21260055%04d 70 140\n' "$i"; done
          for i in $(seq 2 2 8); do printf '21260055%04d 50 100\n' "$i"; done; } | paste -sd' ')
assert_eq "$want" "$(jq -r '[.campaigns.top_changes[] | "\(.msisdn) \(.base) \(.draft)"] | join(" ")' "$T/d.out")" \
  "the ten members whose bonus points change most, largest first, with each side's bonus points"

# Members per tier and the top-20 % share with the bonuses (ctl_whatif_camp_spread): each member's
# window as it happened (odd members 2 x 30 points, even ones 2 x 5) plus each side's bonus points.
# Under a table whose gold starts at 150, the doubled welcome moves the six silver members across
# it (60 + 70 = 130 -> 60 + 140 = 200); the even ones stay silver (10 + 50 -> 10 + 100).
jq '.loyalty | .tiers[2].min_points = 150' "$T/gw.json" >"$T/gold150.json"
"$CTL" whatif --config "$T/gw.json" --table "$T/gold150.json" --campaigns "$T/base.json" \
  --draft-campaigns "$T/double.json" --days 2 --json >"$T/t.out" 2>"$T/t.err" || fail "tiers run: $(cat "$T/t.err")"
assert_eq "$N | 0 $N 0 | 0 $STD $SILVER" \
  "$(jq -r '.campaigns | "\(.holders) | \(.base.tiers | [.standard, .silver, .gold] | join(" ")) | \(.draft.tiers | [.standard, .silver, .gold] | join(" "))"' "$T/t.out")" \
  "members per tier: all silver as it happened; the doubled bonus lifts the $SILVER odd members to gold (150)"
# the top-20 % share recomputed here from each member's adjusted points: the ceil(N / 5) largest
# over all of them, in basis points (rounded down, as the ledger's what-if)
share() { # side: 1 in force, 2 draft
  for i in $(seq 1 $N); do
    if [ $((i % 2)) = 1 ]; then echo "60 70 140"; else echo "10 50 100"; fi
  done | awk -v s="$1" '{ print $1 + $(s + 1) }' | sort -rn |
    awk '{ v[NR] = $1; t += $1 } END { for (i = 1; i <= int((NR + 4) / 5); i++) top += v[i]
      print int(top * 10000 / t) }'
}
assert_eq "$(share 1) $(share 2)" \
  "$(jq -r '.campaigns | "\(.base.top20_share * 10000 | round) \(.draft.top20_share * 10000 | round)"' "$T/t.out")" \
  "the top-20 % share of each side, recomputed by awk from the members' adjusted points"
assert_eq "$STD $SILVER 0" "$(jq -r '.base.tiers | [.standard, .silver, .gold] | join(" ")' "$T/t.out")" \
  "the table's own what-if counts no bonus: the even members standard on 10 points, the odd silver on 60"
"$CTL" whatif --config "$T/gw.json" --table "$T/gold150.json" --campaigns "$T/base.json" \
  --draft-campaigns "$T/double.json" --days 2 >"$T/t.txt" 2>"$T/t.err"
awk '/^campaigns/ { c = 1 } c' "$T/t.txt" | tr -s ' ' >"$T/t.camp"
grep -q '^members per tier standard 0 standard 0$' "$T/t.camp" && grep -q '^ silver 12 silver 6$' "$T/t.camp" &&
  grep -q '^ gold 0 gold 6$' "$T/t.camp" && grep -q "^top 20% share $(share 1 | sed 's/^\(..\)/\1./')% $(share 2 | sed 's/^\(..\)/\1./')%$" "$T/t.camp" &&
  echo "ok - text output: the campaigns' members per tier and top-20 % share" || fail "text: $(cat "$T/t.txt")"

"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/budget.json" \
  --days 2 --json >"$T/b.out" 2>"$T/b.err" || fail "budget run: $(cat "$T/b.err")"
assert_eq "500 5 $((N - 5)) true" \
  "$(jq -r '.campaigns.draft | "\(.issued) \(.grants) \(.stops) \(.campaigns[0].stop_reached)"' "$T/b.out")" \
  "a budget of 500 at 100 a bonus: five paid, the hard stop for the $((N - 5)) others"
assert_eq "0 0" "$(jq -r '.campaigns.draft.campaigns[0] | "\(.spent_before) \(.campaigns // 0)"' "$T/b.out")" \
  "nothing spent before the window: the budget starts at 0"
# The live budget says 350 spent, of which the aggregates booked 50 today (in the window): 300
# spent before it. The draft's budget of 500 pays two bonuses of 100 (400, 500), the third
# member meets the hard stop (600 > 500); the in force side (1,000,000) is unchanged.
rcli hset 'lg:cb:{cmp}' welcome:spent 350 welcome:n 4 >/dev/null
rcli hset "lg:ag:{1}:$(TZ=Africa/Casablanca date +%Y%m%d)" iss:BONUS:welcome 50 >/dev/null
"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/budget.json" \
  --days 2 --json >"$T/b2.out" 2>"$T/b2.err" || fail "budget run: $(cat "$T/b2.err")"
assert_eq "200 2 $((N - 2)) 300 200 | $BASE 300 1" \
  "$(jq -r '.campaigns | "\(.draft.issued) \(.draft.grants) \(.draft.stops) \(.draft.campaigns[0].spent_before) \(.draft.campaigns[0].spent) | \(.base.issued) \(.base.campaigns[0].spent_before) \(.start_budgets.campaigns)"' "$T/b2.out")" \
  "300 spent before the window (350 live - 50 booked in it): two bonuses, the hard stop for the others"
rcli del 'lg:cb:{cmp}' >/dev/null
"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/budget.json" \
  --days 2 >"$T/text.out"
grep -q 'stop reached' "$T/text.out" && grep -q '^bonus liability' "$T/text.out" &&
  grep -q '^largest changes' "$T/text.out" && echo "ok - text output" || fail "text output: $(cat "$T/text.out")"
jq '.campaigns[0].points = 0' "$T/base.json" >"$T/bad.json"
set +e
"$CTL" whatif --config "$T/gw.json" --draft-campaigns "$T/bad.json" --days 2 >/dev/null 2>"$T/bad.err"
rc=$?
set -e
assert_eq 1 "$rc" "a draft the gateways' parser refuses: exit 1 ($(cat "$T/bad.err"))"
ls /tmp/lgw-whatif-redis.* >/dev/null 2>&1 && note "(other scratch folders exist: another run's)" || echo "ok - the scratch store's folder is gone"

# --- win-back and members enrolled before the window (a journal written here, wallets in Redis)
# Local days: D k = k days ago, events at 03:00 (before the offer pass, modelled at the end of the
# quiet hours, 09:00); a window of 30 days (D29 to today). Campaigns: welcome 30 (from D60),
# tenure 100 at 1 and 2 years, win-back 50 (2 recharges, lapse 7 days, valid 4); the draft
# doubles every bonus.
Z=Africa/Casablanca
lday() { TZ=$Z date -d "-$1 days" +%F; }
at() { TZ=$Z date -d "$(lday "$1") 03:$(printf %02d "${2:-0}")" +%s; }
dnum() { echo $(( $(date -u -d "$(lday "$1")" +%s) / 86400 )); } # days since 1970 of D k
mkdir -p "$T/wj"
jl() { echo "$@" >>"$T/wj/tmp.lj"; }
ev() { # kind msisdn day minute ref
  local a; a=$(at "$3" "$4"); jl "$((a * 1000)) $1 $2 $a 100000 - $5 - c 10"
}
A=212600660001; B=212600660002; C=212600660003; D=212600660004; E=212600660005; G=212600660006
H=212600660007
jl "$(( $(at 25) * 1000 - 1 )) J $A $(at 25)"; jl "$(( $(at 25) * 1000 - 1 )) J $B $(at 25)"
ev T $A 25 0 A1; ev T $A 25 10 A2; ev T $A 16 0 A3 # offered D18 (until D14): D16 pays
ev T $B 25 0 B1; ev T $B 16 0 B2                    # one recharge on D18: not offered then
ev T $C 20 0 C1; ev T $C 11 0 C2                    # see its wallet below
ev B $D 27 0 D1                                     # lapsed before the window: offered D28
ev T $E 6 0 E1                                      # its recharge before the window is forgotten
ev T $G 3 0 G1                                      # its tenure was paid before the window
ev B $H 20 0 H1; ev B $H 8 0 H2                     # bills only: for a tenure rule starting late
for k in $(seq 0 29); do # one file per local day, as the gateway writes them
  f="$T/wj/$(TZ=$Z date -d "$(lday "$k")" +%Y%m%d)-W.lj"; echo "#lj 2" >"$f"
done
sort -n "$T/wj/tmp.lj" | while read -r ms rest; do
  echo "$ms $rest" >>"$T/wj/$(TZ=$Z date -d "@$((ms / 1000))" +%Y%m%d)-W.lj"
done
rm "$T/wj/tmp.lj"
since() { TZ=$Z date -d "$(TZ=$Z date -d "$(lday "$1") -$2 years" +%F) 03:00" +%s; }
ewallet() { # msisdn since rc rl TOPUP-record-days... : the wallet now, E packed by Redis' struct
  local m=$1 s=$2 rc=$3 rl=$4; shift 4
  rcli eval "local e = '' for i = 2, #ARGV do e = e .. struct.pack('>c6I2BBi4I2', 'abcdef', tonumber(ARGV[i]), 1, 99, 10, 0) end
    redis.call('HSET', KEYS[1], 'bal', '100', 'since', ARGV[1], 'E', e) return 1" 1 "lg:{$m}:w" "$s" "$@" >/dev/null
  rcli hset "lg:{$m}:w" rc "$rc" rl "$rl" >/dev/null
}
# C: since D15 a year ago (its first anniversary in the window); rc 5 now, 3 at the window's start,
# the last on D40 (E); welcome paid long ago; the gateway paid tenure 1 on D11 (rolled back)
ewallet $C "$(since 15 1)" 5 "$(at 11)" "$(dnum 40)" "$(dnum 20)" "$(dnum 11)"
rcli hset "lg:{$C}:w" c:wel 1 c:ten 1 >/dev/null
# D: two years a member on D35, 4 recharges, the last on D35 (none in the window: the wallet's
# rl), tenure 2 paid then (kept)
ewallet $D "$(since 35 2)" 4 "$(at 35)"
rcli hset "lg:{$D}:w" c:ten 2 >/dev/null
# E: 3 recharges before the window, none of them in E any more: its rl is unknown (tenure 2
# paid long ago)
ewallet $E "$(since 60 3)" 4 "$(at 6)" "$(dnum 6)"
rcli hset "lg:{$E}:w" c:ten 2 >/dev/null
# G: tenure 1 paid on D40, before the window (kept); its first recharge in the window
ewallet $G "$(since 40 1)" 1 "$(at 3)" "$(dnum 3)"
rcli hset "lg:{$G}:w" c:ten 1 c:wel 1 >/dev/null
# H: two years a member, tenure 2 paid (rule "ten"); a new tenure rule pays it at its first call
ewallet $H "$(since 50 2)" 0 0
rcli hset "lg:{$H}:w" c:ten 2 >/dev/null
cdoc() { # K: bonuses x K
  jq -n --arg s "$(lday 60)" --arg e "$(TZ=$Z date -d '+30 days' +%F)" --argjson k "$1" \
    '{version: "wb", campaigns: [
      {id: "wel", rule: "welcome", start: $s, end: $e, budget: 100000, points: (30 * $k), label: "welcome"},
      {id: "ten", rule: "tenure", start: $s, end: $e, budget: 100000, points: (100 * $k), years: [1, 2], label: "tenure"},
      {id: "wb", rule: "winback", start: $s, end: $e, budget: 100000, points: (50 * $k),
       min_recharges: 2, lapse_days: 7, valid_days: 4, label: "come back",
       texts: {en: "{points} {date}", fr: "{points} {date}", ar: "{points} {date}", fa: "{points} {date}"}}]}'
}
cdoc 1 >"$T/wb1.json"; cdoc 2 >"$T/wb2.json"
wrun() { # out [options...]
  local o=$1; shift
  "$CTL" whatif --config "$T/gw.json" --journal "$T/wj" --campaigns "$T/wb1.json" \
    --draft-campaigns "$T/wb2.json" --days 30 --json "$@" >"$T/$o" 2>"$T/$o.err" || fail "whatif $*: $(cat "$T/$o.err")"
}
wrun w.out
# the recomputation: welcome A 30 + B 30; tenure C 100 (anniversary D15, recharge D11); win-back
# A 50 (offer D18, recharge D16) + C 50 (its D40 lapse offered D33 until D29: D20 is too late;
# D20's offered D13 until D9: D11 pays). Offers: A D18, D9 (no event after: made at the end);
# B D9 (its second recharge, D16; on D18 it had one: refused); C D33, D13, D4 (its rl from E: the
# day's start); D D28 (before its D27 bill; no recharge after). E: rl unknown; G: rc 0 at start.
assert_eq "260 5" "$(jq -r '.campaigns.base | "\(.issued) \(.grants)"' "$T/w.out")" \
  "in force: welcome 2 x 30, tenure 100, win-back 2 x 50 = 260 ($(jq -c .campaigns.base "$T/w.out"))"
assert_eq "520 5" "$(jq -r '.campaigns.draft | "\(.issued) \(.grants)"' "$T/w.out")" "the draft doubles every bonus: exactly 520"
assert_eq "wel:60 ten:100 wb:100" "$(jq -r '[.campaigns.base.campaigns[] | "\(.id):\(.spent)"] | join(" ")' "$T/w.out")" \
  "per campaign (in force)"
assert_eq "7 2" "$(jq -r '.campaigns.base.campaigns[2] | "\(.offered) \(.back)"' "$T/w.out")" \
  "win-back funnel: 7 offers (A 2, B 1, C 3, D 1), 2 came back"
assert_eq "wallets 5 5 0 1" "$(jq -r '.campaigns.start_state | "\(.source) \(.members) \(.read) \(.gone) \(.rl_unknown)"' "$T/w.out")" \
  "five members enrolled before the window read from their wallets; E's last recharge unknown"
LGW_WHATIF_CALL_ALL=1 wrun wa.out
assert_eq "$(jq -c '.campaigns | del(.skipped, .base.calls, .draft.calls, .start_state.ms, .start_budgets.ms)' "$T/w.out")" \
  "$(jq -c '.campaigns | del(.skipped, .base.calls, .draft.calls, .start_state.ms, .start_budgets.ms)' "$T/wa.out")" \
  "the calls left out change nothing (every call sent: the same figures)"
# a new tenure rule "ten2" (no member has its marker) starting on D15: E (D6) and G (D3) are paid
# at their first call; C and H were called on D20, before it ran, and are paid at their next event
# (C: 1 year on D15, H: 2 years) - that call is sent although no anniversary passed since D20
jq --arg s "$(lday 15)" '.campaigns[1] += {id: "ten2", start: $s}' "$T/wb1.json" >"$T/late.json"
wrun wl.out --draft-campaigns "$T/late.json"
assert_eq "ten2 400 4" "$(jq -r '.campaigns.draft.campaigns[1] | "\(.id) \(.spent) \(.grants)"' "$T/wl.out")" \
  "a tenure rule starting in the window pays C, E, G and H (100 each)"
LGW_WHATIF_CALL_ALL=1 wrun wla.out --draft-campaigns "$T/late.json"
assert_eq "$(jq -c '.campaigns.draft.campaigns' "$T/wl.out")" "$(jq -c '.campaigns.draft.campaigns' "$T/wla.out")" \
  "the same with every call sent"
wrun wn.out --no-wallets
assert_eq "110" "$(jq -r '.campaigns.base.issued' "$T/wn.out")" \
  "--no-wallets: only the members enrolled in the window (A, B: 2 x 30 + 50)"

# --- the birthday pass (birth dates 28 and 40 years back: leap years stay leap years): D born on
# D20's month-day (paid on D20's pass, after its last event: at the end), E on D5's (the gateway
# paid it this year: the marker is rolled back and the pass replayed), C on D40's (before the
# window: not paid). 40 a birthday in force, the draft 80: exactly twice.
bd() { TZ=$Z date -d "$(lday "$1") -$2 years" +%Y%m%d; }
rcli hset "lg:{$D}:w" bd "$(bd 20 28)" >/dev/null
rcli hset "lg:{$E}:w" bd "$(bd 5 40)" c:bday "$(TZ=$Z date -d "$(lday 5)" +%Y)" >/dev/null
rcli hset "lg:{$C}:w" bd "$(bd 40 28)" >/dev/null
bdoc() {
  jq -n --arg s "$(lday 60)" --arg e "$(TZ=$Z date -d '+30 days' +%F)" --argjson p "$1" \
    '{version: "bd", campaigns: [{id: "bday", rule: "birthday", start: $s, end: $e, budget: 100000,
      points: $p, label: "happy birthday", texts: {en: "+{points}", fr: "+{points}", ar: "+{points}", fa: "+{points}"}}]}'
}
bdoc 40 >"$T/bd1.json"; bdoc 80 >"$T/bd2.json"
wrun wb.out --campaigns "$T/bd1.json" --draft-campaigns "$T/bd2.json"
assert_eq "80 2 | 160 2" "$(jq -r '.campaigns | "\(.base.issued) \(.base.grants) | \(.draft.issued) \(.draft.grants)"' "$T/wb.out")" \
  "birthdays replayed: D (D20) and E (D5, its marker of this year rolled back) 2 x 40; the draft exactly twice ($(jq -c .campaigns.base "$T/wb.out"))"
# --- referral (journal format version 3: the gateway's "F" line when a referral is accepted;
# tests/it/test_referral.sh writes them over USSD). On D12 the older member RA (no wallet read:
# no event in the window, a bare wallet in the replay) refers B1, B2, B3; RN (enrolled in the
# window) refers B4 and B5. B1 recharges 100 on D12, B2 100 on D4 (8 days later), B3 100 on
# D11, B4 5 on D10 (under the minimum of 20) then 100 on D9; B5 never. In force: 25 each side,
# valid 30 days, 5 a month: B1, B2, B3 pay both sides (150, 6 bonuses, 3 referrers paid).
RA=212600770001; RN=212600770002; B1=212600770011; B2=212600770012; B3=212600770013
B4=212600770014; B5=212600770015
mkdir -p "$T/rj"
rl() { echo "$@" >>"$T/rj/tmp.lj"; }
ymd() { TZ=$Z date -d "$(lday "$1")" +%Y%m%d; }
rev() { # msisdn day minute amount-MAD ref: a credited TOPUP
  local a; a=$(at "$2" "$3"); rl "$((a * 1000)) T $1 $a $(($4 * 1000)) - $5 - c 1"
}
enrol() { local a; a=$(at "$2" "$3"); rl "$((a * 1000 - 1)) J $1 $a"; }
enrol $RN 13 0; rev $RN 13 0 100 RN1
n=1; for b in $B1 $B2 $B3; do rl "$(( $(at 12 $n) * 1000 )) F $RA $b $(ymd 12)"; n=$((n + 1)); done
rl "$(( $(at 12 4) * 1000 )) F $RN $B4 $(ymd 12)"; rl "$(( $(at 12 5) * 1000 )) F $RN $B5 $(ymd 12)"
enrol $B1 12 10; rev $B1 12 10 100 B1a
enrol $B2 4 10; rev $B2 4 10 100 B2a
enrol $B3 11 10; rev $B3 11 10 100 B3a
enrol $B4 10 10; rev $B4 10 10 5 B4a; rev $B4 9 10 100 B4b
for k in $(seq 0 29); do echo "#lj 3" >"$T/rj/$(ymd "$k")-W.lj"; done
sort -n "$T/rj/tmp.lj" | while read -r ms rest; do
  echo "$ms $rest" >>"$T/rj/$(TZ=$Z date -d "@$((ms / 1000))" +%Y%m%d)-W.lj"
done
rm "$T/rj/tmp.lj"
rdoc() { # points max_per_month valid_days min_amount
  jq -n --arg s "$(lday 60)" --arg e "$(TZ=$Z date -d '+30 days' +%F)" --argjson p "$1" \
    --argjson k "$2" --argjson v "$3" --argjson m "$4" \
    '{version: "rf", campaigns: [{id: "ref", rule: "referral", start: $s, end: $e, budget: 100000,
      points: $p, max_per_month: $k, valid_days: $v, min_amount: $m, label: "bring a friend"}]}'
}
rdoc 25 5 30 20 >"$T/rf1.json"; rdoc 50 5 30 20 >"$T/rf2.json"
rdoc 25 2 30 20 >"$T/rfcap.json"; rdoc 25 5 5 1 >"$T/rfwin.json"
rrun() { # out draft [options...]
  local o=$1 d=$2; shift 2
  "$CTL" whatif --config "$T/gw.json" --journal "$T/rj" --campaigns "$T/rf1.json" \
    --draft-campaigns "$d" --days 30 --json "$@" >"$T/$o" 2>"$T/$o.err" || fail "whatif $d: $(cat "$T/$o.err")"
}
rf() { jq -r ".campaigns.$2 | \"\(.issued) \(.grants) \(.campaigns[0].spent) \(.campaigns[0].grants) \(.referrals.recorded) \(.referrals.paid) \(.referrals.refused.cap // 0)\"" "$T/$1"; }
rrun r2.out "$T/rf2.json"
assert_eq 5 "$(jq -r .campaigns.referrals_journaled "$T/r2.out")" "five referrals in the journal"
assert_eq "150 6 150 3 5 3 0" "$(rf r2.out base)" \
  "in force: B1, B2, B3 and their referrers 25 each (150, 6 bonuses, 3 referrals paid of 5) ($(jq -c .campaigns.base "$T/r2.out"))"
assert_eq "300 6 300 3 5 3 0" "$(rf r2.out draft)" "the draft doubles the referral bonus: exactly 300"
assert_eq "$RA 75 150 $B1 25 50 $B2 25 50 $B3 25 50" \
  "$(jq -r '[.campaigns.top_changes[] | "\(.msisdn) \(.base) \(.draft)"] | join(" ")' "$T/r2.out")" \
  "the changes: the referrer RA (three bonuses, REFPAY) first, then its three referees; nobody else changes"
LGW_WHATIF_CALL_ALL=1 rrun r2a.out "$T/rf2.json"
assert_eq "$(rf r2.out base) $(rf r2.out draft)" "$(rf r2a.out base) $(rf r2a.out draft)" \
  "the same with every call sent"
rrun rc.out "$T/rfcap.json"
assert_eq "100 4 100 2 4 2 1" "$(rf rc.out draft)" \
  "2 a month: RA's third referral (B3) refused by the cap; B1 and B2 paid (100)"
rrun rw.out "$T/rfwin.json"
assert_eq "150 6 150 3 5 3 0" "$(rf rw.out draft)" \
  "valid 5 days, a minimum of 1: B2 (8 days) refused, B4's first recharge of 5 pays (B1, B3, B4: 150)"
"$CTL" whatif --config "$T/gw.json" --journal "$T/rj" --campaigns "$T/rf1.json" \
  --draft-campaigns "$T/rfcap.json" --days 30 >"$T/rt.out"
assert_eq "referrals capped 0 1" "$(grep '^referrals capped' "$T/rt.out" | tr -s ' ')" "text output: the cap's refusal"
rrun rn.out "$T/rf2.json" --no-wallets
assert_eq "150 300" "$(jq -r '.campaigns | "\(.base.issued) \(.draft.issued)"' "$T/rn.out")" \
  "--no-wallets: the same (the referrer's bare wallet)"

# --- the console: the in force side is the stored document
add_staff mia marketing marketing-secret-1
start_admin --whatif-ctl "$CTL" --login-per-min 100
MKT=$(login mia marketing-secret-1)
api PUT /api/campaign-rules "$MKT" "{\"version\": 0, \"document\": $(cat "$T/base.json")}"
assert_eq 200 "$CODE" "the campaigns in force stored ($(cat "$T/r.json"))"
api POST /api/whatif "$MKT" "{\"campaigns\": $(jq '.campaigns[0].points = 0' "$T/base.json"), \"days\": 2}"
assert_eq "422 campaigns" "$CODE $(j .field)" "the console refuses a draft the gateways would refuse"
whatif_run "$MKT" "{\"campaigns\": $(cat "$T/double.json"), \"days\": 2}"
assert_eq "$(jq -c '.campaigns | del(.start_budgets.ms, .start_state.ms, .top_changes, .base.liability_milli, .draft.liability_milli)' "$T/d.out")" \
  "$(jq -c '.result.campaigns | del(.start_budgets.ms, .start_state.ms, .top_changes, .base.liability_milli, .draft.liability_milli)' "$T/r.json")" "the console's figures are loyaltyctl's"
assert_eq "$(jq -r '[.campaigns.top_changes[] | "\(.msisdn | gsub("[0-9](?=[0-9]{4})"; "*")) \(.base) \(.draft)"] | join(" ")' "$T/d.out")" \
  "$(jq -r '[.result.campaigns.top_changes[] | "\(.msisdn) \(.base) \(.draft)"] | join(" ")' "$T/r.json")" \
  "the console's ten changes are loyaltyctl's, the numbers masked to their last 4 digits"
assert_eq "$N $N $(share 1)" "$(jq -r '.result.campaigns | "\(.holders) \(.draft.tiers.silver) \(.base.top20_share * 10000 | round)"' "$T/r.json")" \
  "the console's result carries the campaigns' members per tier and top-20 % share"
stop_admin
finish

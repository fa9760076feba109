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
  --days 2 --json >"$T/d.out" 2>"$T/d.err" || fail "loyaltyctl whatif --draft-campaigns: $(cat "$T/d.err")"
assert_eq "$BASE $N 0" "$(jq -r '.campaigns.base | "\(.issued) \(.grants) \(.stops)"' "$T/d.out")" \
  "in force: $SILVER silver members x 70 + $STD x 50 = $BASE, one welcome each"
assert_eq "$((2 * BASE)) $N" "$(jq -r '.campaigns.draft | "\(.issued) \(.grants)"' "$T/d.out")" \
  "the welcome bonus doubled: exactly twice ($((2 * BASE)))"
assert_eq "welcome $((2 * BASE)) false" "$(jq -r '.campaigns.draft.campaigns[0] | "\(.id) \(.spent) \(.stop_reached)"' "$T/d.out")" \
  "budget consumed: the draft's spent"

"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/budget.json" \
  --days 2 --json >"$T/b.out" 2>"$T/b.err" || fail "budget run: $(cat "$T/b.err")"
assert_eq "500 5 $((N - 5)) true" \
  "$(jq -r '.campaigns.draft | "\(.issued) \(.grants) \(.stops) \(.campaigns[0].stop_reached)"' "$T/b.out")" \
  "a budget of 500 at 100 a bonus: five paid, the hard stop for the $((N - 5)) others"
"$CTL" whatif --config "$T/gw.json" --campaigns "$T/base.json" --draft-campaigns "$T/budget.json" \
  --days 2 >"$T/text.out"
grep -q 'stop reached' "$T/text.out" && echo "ok - text output" || fail "text output: $(cat "$T/text.out")"
jq '.campaigns[0].points = 0' "$T/base.json" >"$T/bad.json"
set +e
"$CTL" whatif --config "$T/gw.json" --draft-campaigns "$T/bad.json" --days 2 >/dev/null 2>"$T/bad.err"
rc=$?
set -e
assert_eq 1 "$rc" "a draft the gateways' parser refuses: exit 1 ($(cat "$T/bad.err"))"
ls /tmp/lgw-whatif-redis.* >/dev/null 2>&1 && note "(other scratch folders exist: another run's)" || echo "ok - the scratch store's folder is gone"

# --- the console: the in force side is the stored document
add_staff mia marketing marketing-secret-1
start_admin --whatif-ctl "$CTL" --login-per-min 100
MKT=$(login mia marketing-secret-1)
api PUT /api/campaign-rules "$MKT" "{\"version\": 0, \"document\": $(cat "$T/base.json")}"
assert_eq 200 "$CODE" "the campaigns in force stored ($(cat "$T/r.json"))"
api POST /api/whatif "$MKT" "{\"campaigns\": $(jq '.campaigns[0].points = 0' "$T/base.json"), \"days\": 2}"
assert_eq "422 campaigns" "$CODE $(j .field)" "the console refuses a draft the gateways would refuse"
whatif_run "$MKT" "{\"campaigns\": $(cat "$T/double.json"), \"days\": 2}"
assert_eq "$(jq -c .campaigns "$T/d.out")" "$(jq -c .result.campaigns "$T/r.json")" "the console's figures are loyaltyctl's"
stop_admin
finish

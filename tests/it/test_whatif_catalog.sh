#!/usr/bin/env bash
# Issue 12 section 2, the catalogue's what-if end to end: members redeem on handsets over SMPP
# (the real gateway, its catalogue and gift-day window, a real redis-server); the gateway journals
# each granted redemption (journal format version 2 and later: a "#lj N" header, one "D" line each); then
# `loyaltyctl whatif --draft-catalog` and the console's POST /api/whatif replay them under a
# draft catalogue. Checked against a recomputation made here from the balances the test set:
#   - prices x2: exactly twice the points of the same redemptions; refused = the redemptions whose
#     balance before the debit is below the new price (awk); spent = the others at the new price;
#   - the same prices: nothing changes; an item the draft drops is counted apart;
#   - an old journal file (version 1, no header, events only) in the window is still read;
#   - a draft catalogue the gateways would refuse is refused (loyaltyctl 1, the console 422);
#   - loyaltyctl's table in force is the stored one once the console saved one (issue 12 s. 1).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
TZNAME=Africa/Casablanca
CTL="$LGW_BIN/gateway/loyaltyctl"

jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "open-now", start: $s, end: $e}]}' >"$T/giftdays.json"
start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .journal.dir = "'"$T/journal"'"
  | .catalog = {file: "'"$LGW_SRC/deploy/catalog.json"'", giftdays_file: "'"$T/giftdays.json"'"}'
TODAY=$(TZ=$TZNAME date +%Y%m%d)
sub() { # MSISDN BALANCE TIER
  rcli hset "lg:{$1}:w" bal "$2" life "$2" rem 0 tier "$3" since "$(date -d "-1 year" +%s)" "l:$TODAY" "$2" lang en >/dev/null
}
# MSISDN BALANCE TIER ITEM SCRIPT: who redeems what (DATA_1GB 500 points, DATA_5GB 2000 for silver)
cat >"$T/plan" <<'PLAN'
212612500001 600 standard DATA_1GB *555*2*1#\n1\n1
212612500002 900 standard DATA_1GB *555*2*1#\n1\n1
212612500003 1000 standard DATA_1GB *555*2*1#\n1\n1
212612500004 5200 gold DATA_1GB *555*2*1#\n1\n1
212612500005 3000 silver DATA_5GB *555*2*2#\n1\n1
PLAN
while read -r m b tier _ _; do sub "$m" "$b" "$tier"; done <"$T/plan"
start_gw
n=0
while read -r m b tier item script; do
  n=$((n + 1))
  phone "p$n" "$m" "$script"
done <"$T/plan"
stop_gw
price() { jq -r --arg id "$1" '.items[] | select(.id == $id) | .price' "$LGW_SRC/deploy/catalog.json"; }
while read -r m b tier item _; do
  assert_eq $((b - $(price "$item"))) "$(balance "$m")" "$m redeemed $item"
done <"$T/plan"

f=$(ls "$T/journal"/*.lj)
# the version the gateway writes (2 introduced the D lines; 3 added referrals)
jv=$(sed -n 's/^#define GW_JOURNAL_VERSION \([0-9]*\).*/\1/p' "$LGW_SRC/gateway/gw_journal.h")
[ "${jv:-0}" -ge 2 ] || fail "GW_JOURNAL_VERSION not found in gateway/gw_journal.h"
assert_eq "#lj $jv" "$(head -n 1 "$f")" "the journal file starts with its format version"
assert_eq 5 "$(grep -c ' D ' "$f")" "one line per granted redemption"
DBYTES=$(grep ' D ' "$f" | wc -c)
note "a redemption line is $((DBYTES / 5)) bytes"
assert_eq "212612500005 DATA_5GB 2000 1000" "$(grep ' D 212612500005 ' "$f" | cut -d' ' -f3-)" \
  "the line: who, the item, the price paid, the balance after"

# the independent recomputation: balance before = the balance the test set
read -r SPENT REFUSED SPENT2 <<<"$(while read -r m b tier item _; do echo "$b $(price "$item")"; done <"$T/plan" |
  awk '{ spent += $2; if ($1 < 2 * $2) refused++; else spent2 += 2 * $2 } END { print spent, refused + 0, spent2 + 0 }')"
jq '.items[].price *= 2 | .version = "double"' "$LGW_SRC/deploy/catalog.json" >"$T/double.json"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/double.json" --days 2 --point-value 0.05 --json >"$T/d.out" 2>"$T/d.err" ||
  fail "loyaltyctl whatif --draft-catalog: $(cat "$T/d.err")"
assert_eq "5 5 $SPENT $((2 * SPENT))" "$(jq -r '.catalog | "\(.redemptions) \(.members) \(.spent) \(.cost_draft)"' "$T/d.out")" \
  "prices x2: the same redemptions cost exactly twice ($SPENT -> $((2 * SPENT)))"
assert_eq "$REFUSED $SPENT2 0" "$(jq -r '.catalog | "\(.refused) \(.spent_draft) \(.gone)"' "$T/d.out")" \
  "refused = balance below the new price ($REFUSED), spent = the others at the new price"
assert_eq "0 5" "$(jq -r '"\(.bad_lines) \(.redemptions_journaled)"' "$T/d.out")" "the header is no bad line"
assert_eq "DATA_1GB 4 500 1000 2" "$(jq -r '.catalog.items[] | select(.id == "DATA_1GB") | "\(.id) \(.count) \(.price_base) \(.price_draft) \(.refused)"' "$T/d.out")" \
  "per item: count, price in force and in the draft, refused"
# per member, the points spent on each side (awk): refused spends nothing, the others the new price
want=$(while read -r m b tier item _; do p=$(price "$item"); echo "$m $p $b"; done <"$T/plan" |
  awk '{ d = ($3 < 2 * $2) ? 0 : 2 * $2; c = d - $2; if (c < 0) c = -c; print c, $1, $2, d }' |
  sort -k1,1nr -k2,2 | awk '{ printf "%s%s %s %s", (NR > 1 ? " " : ""), $2, $3, $4 }')
assert_eq "$want" "$(jq -r '[.catalog.top_changes[] | "\(.msisdn) \(.base) \(.draft)"] | join(" ")' "$T/d.out")" \
  "the members whose spending changes most: points spent in force and in the draft, largest change first"

jq '.version = "same"' "$LGW_SRC/deploy/catalog.json" >"$T/same.json"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/same.json" --days 2 --json >"$T/s.out"
assert_eq "$SPENT $SPENT 0 0" "$(jq -r '.catalog | "\(.cost_draft) \(.spent_draft) \(.refused) \(.top_changes | length)"' "$T/s.out")" \
  "the same prices: nothing changes, nobody listed"
jq '.version = "no5gb" | .items |= map(select(.id != "DATA_5GB"))' "$LGW_SRC/deploy/catalog.json" >"$T/drop.json"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/drop.json" --days 2 --json >"$T/g.out"
assert_eq "1 $((SPENT - 2000))" "$(jq -r '.catalog | "\(.gone) \(.cost_draft)"' "$T/g.out")" \
  "an item the draft drops is counted apart"
jq '.items[0].price = 0' "$LGW_SRC/deploy/catalog.json" >"$T/bad.json"
set +e
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/bad.json" --days 2 >/dev/null 2>"$T/bad.err"
rc=$?
set -e
assert_eq 1 "$rc" "a draft the catalogue library refuses: exit 1 ($(cat "$T/bad.err"))"
grep -q 'items\[0\].price' "$T/bad.err" || fail "the reason names the field: $(cat "$T/bad.err")"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/double.json" --days 2 >"$T/text.out"
grep -q 'refused (balance)' "$T/text.out" && grep -q '^largest changes (points spent' "$T/text.out" &&
  echo "ok - text output" || fail "text output: $(cat "$T/text.out")"

# an old journal (version 1: no header, events only) of yesterday is still read
YDAY=$(TZ=$TZNAME date -d '-1 day' +%Y%m%d)
printf '%s T 212612500009 %s 50000 - OLD-1 - c 5\n' "$(( $(date +%s) - 86400 ))000" "$(( $(date +%s) - 86400 ))" \
  >"$T/journal/$YDAY-OLD.lj"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/double.json" --days 2 --json >"$T/o.out"
assert_eq "1 0 $((2 * SPENT))" "$(jq -r '"\(.events) \(.bad_lines) \(.catalog.cost_draft)"' "$T/o.out")" \
  "a version-1 file replays its event next to the version-2 file's redemptions"

# --- the console: the same what-if from a draft catalogue, in the worker
add_staff mia marketing marketing-secret-1
start_admin --whatif-ctl "$CTL" --point-value 0.05 --login-per-min 100
MKT=$(login mia marketing-secret-1)
api POST /api/whatif "$MKT" "{\"catalog\": $(cat "$T/bad.json"), \"days\": 2}"
assert_eq "422 catalog" "$CODE $(j .field)" "the console refuses a draft the gateways would refuse"
whatif_run "$MKT" "{\"catalog\": $(cat "$T/double.json"), \"days\": 2}"
assert_eq "$(jq -c '.catalog | del(.top_changes)' "$T/d.out")" "$(jq -c '.result.catalog | del(.top_changes)' "$T/r.json")" \
  "the console's figures are loyaltyctl's"
assert_eq "$(jq -r '[.catalog.top_changes[] | "\(.msisdn | gsub("[0-9](?=[0-9]{4})"; "*")) \(.base) \(.draft)"] | join(" ")' "$T/d.out")" \
  "$(jq -r '[.result.catalog.top_changes[] | "\(.msisdn) \(.base) \(.draft)"] | join(" ")' "$T/r.json")" \
  "and its changes, the numbers masked to their last 4 digits"
assert_eq $(( (SPENT - SPENT2) * 50 )) "$(j .result.catalog.liability_change_milli)" \
  "liability: the points no longer spent stay owed, x 0.05 MAD"

# --- loyaltyctl reads the table in force where every gateway does: the stored document
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/same.json" --days 2 --json >"$T/t1.out"
assert_eq "cfg:{adm}:loyalty version 1 5" "$(jq -r '"\(.table_source) \(.base.issued)"' "$T/t1.out")" \
  "the stored table the console seeded from the configuration (the old file's 50 MAD top-up earns 5)"
api GET /api/loyalty "$MKT"
api PUT /api/loyalty "$MKT" "{\"version\": $(j .version), \"document\": $(jq -c '.document | .rates.TOPUP.points *= 3' "$T/r.json")}"
assert_eq 200 "$CODE" "marketing triples the TOPUP rate in the console ($(cat "$T/r.json"))"
LV=$(j .version)
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/same.json" --days 2 --json >"$T/t2.out"
assert_eq "cfg:{adm}:loyalty version $LV 15" "$(jq -r '"\(.table_source) \(.base.issued)"' "$T/t2.out")" \
  "loyaltyctl whatif takes the stored table in force: the same top-up earns 15"
"$CTL" whatif --config "$T/gw.json" --draft-catalog "$T/same.json" --days 2 --no-redis --json >"$T/t3.out"
assert_eq "config 5" "$(jq -r '"\(.table_source) \(.base.issued)"' "$T/t3.out")" "--no-redis: the configuration's, said so"
stop_admin
finish

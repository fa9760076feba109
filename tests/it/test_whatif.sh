#!/usr/bin/env bash
# Issue 12 section 2, end to end: events of the last four days pushed through the gateway over
# SMPP (tiers, a daily cap, a reversal), journaled on disk by the gateway; then `loyaltyctl whatif`
# with the SAME table must equal the wallets exactly (net points = sum of balances, members per
# tier = the wallets' tiers), and with a plain table as baseline and its rates doubled as draft
# each side must be floor(total x rate) per subscriber, computed here with awk from the events.
source "$(dirname "$0")/lib.sh"

CTL="$LGW_BIN/gateway/loyaltyctl"
SUBS=30
NOW=$(date -u +%s)
# events 1 h to 4 days old, in time order (the simulator sends the file in order)
awk -v now="$NOW" -v subs="$SUBS" 'BEGIN {
  srand(7);
  for (i = 0; i < 360; i++) {
    at = now - 3600 - int(rand() * 4 * 86400);
    m = sprintf("2126002%05d", int(rand() * subs));
    amt = sprintf("%d.%03d", int(rand() * 900), int(rand() * 1000));
    if (amt == "0.000") amt = "0.001";
    kind = rand() < 0.7 ? "TOPUP" : "BILL";
    print at, kind, m, amt, i;
  }
}' | sort -n >"$T/raw"
: >"$T/w.events"
while read -r at kind m amt i; do
  ts=$(date -u -d "@$at" +%FT%TZ)
  if [ "$kind" = TOPUP ]; then
    echo "TOPUP ref=WI-$i msisdn=$m amount=$amt currency=MAD at=$ts" >>"$T/w.events"
  else
    echo "BILL ref=WI-$i msisdn=$m amount=$amt currency=MAD at=$ts period=$(date -u -d "@$at" +%Y-%m)" >>"$T/w.events"
  fi
done <"$T/raw"
# a subscriber of one recharge, reversed at the end
echo "TOPUP ref=WI-R msisdn=212600900001 amount=100 currency=MAD at=$(date -u -d "@$((NOW - 120))" +%FT%TZ)" >>"$T/w.events"
echo "REVERSAL ref=WI-REV msisdn=212600900001 orig=WI-R at=$(date -u -d "@$((NOW - 60))" +%FT%TZ)" >>"$T/w.events"

start_redis
start_sim sim --events "$T/w.events" --window 5 --exit-when-done --timeout-s 120
write_config "$SIM_PORT" ".journal.dir = \"$T/journal\" | .loyalty.daily_cap = 120 |
  .loyalty.tiers = [{name: \"standard\", min_points: 0, multiplier_pct: 100},
                    {name: \"silver\", min_points: 150, multiplier_pct: 110},
                    {name: \"gold\", min_points: 300, multiplier_pct: 125}]"
start_gw
wait_sim sim 120
# the stats file is rewritten every second: wait for the one after the last commit (a busy machine
# may be late)
wait_for 30 sh -c "[ \"\$(jq -r .ingest.journaled '$T/gw-stats.json' 2>/dev/null)\" = 362 ]" || true
assert_eq 362 "$(sim_json sim '.final.ESME_ROK')" "every event committed"
assert_eq 362 "$(gw_stat .ingest.journaled)" "every committed event journaled"
assert_eq 0 "$(gw_stat .ingest.journal_failed)" "no journal write failed"
stop_gw
ls "$T/journal"/*-SIM.lj >/dev/null 2>&1 && echo "ok - day file named after the gateway" ||
  fail "no journal file: $(ls "$T/journal")"

# --- the same table: the replay equals the wallets
jq .loyalty "$T/gw.json" >"$T/same.json"
"$CTL" whatif --config "$T/gw.json" --draft "$T/same.json" --days 6 --json >"$T/same.out" 2>"$T/same.err" ||
  fail "loyaltyctl whatif failed: $(cat "$T/same.err")"
sum=0; declare -A tiers=()
for m in $(seq -f '2126002%05g' 0 $((SUBS - 1))) 212600900001; do
  b=$(balance "$m"); [ -n "$b" ] || continue
  sum=$((sum + b))
  t=$(rcli hget "lg:{$m}:w" tier); tiers[$t]=$(( ${tiers[$t]:-0} + 1 ))
done
note "wallets: $sum points; tiers: $(for k in "${!tiers[@]}"; do printf '%s=%s ' "$k" "${tiers[$k]}"; done)"
assert_eq 362 "$(jq .events "$T/same.out")" "every journaled event replayed"
assert_eq 0 "$(jq .bad_lines "$T/same.out")" "no bad journal line"
assert_eq "$sum" "$(jq .base.net "$T/same.out")" "baseline net points = the sum of the wallets"
assert_eq "$sum" "$(jq .draft.net "$T/same.out")" "same table as draft: the same"
assert_eq "$sum" "$(jq .recorded "$T/same.out")" "what the ledger recorded: the same"
for t in standard silver gold; do
  assert_eq "${tiers[$t]:-0}" "$(jq ".base.tiers.$t" "$T/same.out")" "members of $t = the wallets'"
done
assert_ge 1 "$(jq .base.capped "$T/same.out")" "the daily cap was exercised"
assert_ge 1 "$(jq .base.tiers.gold "$T/same.out")" "a tier above standard was reached"
assert_eq 0 "$(jq '.top_changes | length' "$T/same.out")" "same table: nobody changes"
# top20_bp NETS...: the share of the points held by the top ceil(n/5) subscribers, in basis points
# (floored), recomputed here from the nets given (negative ones count as 0)
top20_bp() {
  printf '%s\n' "$@" | awk '{ print ($1 > 0 ? $1 : 0) }' | sort -rn |
    awk '{ v[NR] = $1; t += $1 } END { k = int((NR + 4) / 5); for (i = 1; i <= k; i++) s += v[i];
                                       print (t > 0 ? int(s * 10000 / t) : 0) }'
}
nets=()
for m in $(seq -f '2126002%05g' 0 $((SUBS - 1))) 212600900001; do
  b=$(balance "$m"); [ -n "$b" ] && nets+=("$b")
done
assert_eq "${#nets[@]}" "$(jq .subscribers "$T/same.out")" "every subscriber with a wallet is replayed"
assert_eq "$(top20_bp "${nets[@]}")" "$(jq '.base.top20_share * 10000 | round' "$T/same.out")" \
  "top-20 % share = the wallets' (the top $(( (${#nets[@]} + 4) / 5 )) balances over the sum)"

# --- a plain baseline and its doubled rates: floor(total x rate) per subscriber
plain='{"timezone": "Africa/Casablanca", "rates": {"TOPUP": {"points": 1, "per": 10},
  "BILL": {"points": 1, "per": 20}, "USAGE": {"points": 1, "per": 50}},
  "tiers": [{"name": "standard", "min_points": 0, "multiplier_pct": 100}], "daily_cap": 0}'
echo "$plain" >"$T/plain.json"
echo "$plain" | jq '.rates.TOPUP.points = 2 | .rates.BILL.points = 2' >"$T/double.json"
"$CTL" whatif --config "$T/gw.json" --table "$T/plain.json" --draft "$T/double.json" --days 6 \
  --point-value 0.05 --json >"$T/double.out" 2>"$T/double.err" ||
  fail "loyaltyctl whatif (doubled) failed: $(cat "$T/double.err")"
# per subscriber, thousandths of MAD of TOPUP (1 per 10) and of BILL (1 per 20): exact floors
# of the totals (the remainder is carried across kinds, in 1/20000ths of a point; the reversed
# subscriber nets 0 on both sides)
read -r want1 want2 < <(awk '{ split($4, p, "."); milli = p[1] * 1000 + p[2];
    if ($2 == "TOPUP") u[$3] += milli * 2; else u[$3] += milli }
  END { for (m in u) { a += int(u[m] / 20000); b += int(u[m] * 2 / 20000) } print a, b }' "$T/raw")
# and per subscriber, for the top-20 % share of each side (the reversed subscriber nets 0)
awk '{ split($4, p, "."); milli = p[1] * 1000 + p[2];
    if ($2 == "TOPUP") u[$3] += milli * 2; else u[$3] += milli }
  END { for (m in u) print int(u[m] / 20000), int(u[m] * 2 / 20000) }' "$T/raw" >"$T/per-sub"
assert_eq "$want1" "$(jq '.base.issued - .base.reversed' "$T/double.out")" \
  "plain table: sum of floor(total x rate)"
assert_eq "$want2" "$(jq '.draft.issued - .draft.reversed' "$T/double.out")" \
  "doubled rates: sum of floor(2 x total x rate)"
ok2x=$(jq '[.top_changes[] | select(.draft < 2 * .base - 1 or .draft > 2 * .base + 1)] | length' "$T/double.out")
assert_eq 0 "$ok2x" "each top change is 2x, within the one point of a floor"
assert_eq 10 "$(jq '.top_changes | length' "$T/double.out")" "the ten largest changes are listed"
assert_eq "$(top20_bp $(cut -d' ' -f1 "$T/per-sub") 0) $(top20_bp $(cut -d' ' -f2 "$T/per-sub") 0)" \
  "$(jq '"\(.base.top20_share * 10000 | round) \(.draft.top20_share * 10000 | round)"' -r "$T/double.out")" \
  "top-20 % share of each side = the one recomputed from floor(total x rate) per subscriber"
assert_eq "$(jq '(.draft.net) * 50' "$T/double.out")" "$(jq .draft.liability_milli "$T/double.out")" \
  "liability: net points x 0.05 MAD, in thousandths"

# --- a torn last line (a crash mid-write) is skipped and counted
f=$(ls "$T/journal"/*.lj | head -n 1)
printf '123 T 2126' >>"$f"
"$CTL" whatif --config "$T/gw.json" --draft "$T/same.json" --days 6 --json >"$T/torn.out" 2>/dev/null ||
  fail "loyaltyctl whatif failed on a torn line"
assert_eq 1 "$(jq .bad_lines "$T/torn.out")" "a torn line is counted"
assert_eq "$sum" "$(jq .base.net "$T/torn.out")" "and the rest replays the same"
# the text output names both sides
"$CTL" whatif --config "$T/gw.json" --table "$T/plain.json" --draft "$T/double.json" --days 6 \
  >"$T/text.out" 2>/dev/null
grep -q 'points issued' "$T/text.out" && grep -q 'largest changes' "$T/text.out" &&
  echo "ok - text output" || fail "text output: $(cat "$T/text.out")"

# --- the console: POST /api/whatif starts the worker, GET polls it to the side-by-side result
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
start_admin_api --whatif-ctl "$CTL" --point-value 0.05
MIA=$(adm_login mia marketing-secret-1)
CARL=$(adm_login carl care-secret-2222)
adm_api POST /api/whatif "$CARL" "{\"document\": $(cat "$T/double.json"), \"days\": 6}"
assert_eq 403 "$CODE" "care may not start a what-if"
bad=$(jq '.tiers[0].min_points = 5' "$T/double.json")
adm_api POST /api/whatif "$MIA" "{\"document\": $bad, \"days\": 6}"
assert_eq 422 "$CODE" "a draft the gateways would refuse is refused ($(jq -r .error "$T/r.json" 2>/dev/null))"
adm_api POST /api/whatif "$MIA" "{\"document\": $(cat "$T/double.json"), \"days\": 6}"
assert_eq 202 "$CODE" "a what-if starts"
id=$(jq -r .id "$T/r.json")
state=running
for _ in $(seq 3000); do # up to 5 min on a saturated machine
  adm_api GET "/api/whatif/$id" "$MIA"
  state=$(jq -r .state "$T/r.json")
  [ "$state" = running ] || break
  sleep 0.1
done
assert_eq done "$state" "the what-if finished ($(jq -c . "$T/r.json" | head -c 300))"
assert_eq 100 "$(jq .progress "$T/r.json")" "progress 100 % once done"
# no table stored in the console: the baseline is the configuration's table (same as the wallets)
assert_eq "$sum" "$(jq .result.base.net "$T/r.json")" "console: the baseline equals the wallets"
assert_eq "$(jq '.draft.issued' "$T/double.out")" "$(jq .result.draft.issued "$T/r.json")" \
  "console: the draft's figures are loyaltyctl's"
assert_eq 10 "$(jq '[.result.top_changes[].msisdn | select(test("^\\*+[0-9]{4}$"))] | length' "$T/r.json")" \
  "console: the ten MSISDNs are masked to their last 4 digits"
adm_api GET /api/whatif/0123456789abcdef "$MIA"
assert_eq 404 "$CODE" "an unknown what-if is 404"
finish

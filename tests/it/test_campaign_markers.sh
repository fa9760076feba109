#!/usr/bin/env bash
# Retired campaigns and the sweep of their markers (issue 9 §4 "no key grows without bound";
# docs/campaigns.md "Retired campaigns"; gateway/gw_campaign_marks.c, lua/campaign_marks.lua),
# end to end with a real redis-server, the real gateway, loyalty-admin and loyaltyctl. Dates are
# computed from now in the programme's zone.
#   - a welcome campaign pays several members over SMPP (their marker c:welcome), next to a live
#     campaign (tenure) and a paused one (spring: its dates are over) whose markers members hold
#   - marketing removes welcome through the console: the stored document lists it in "retired"
#     with today's day (audited), and a document reusing the id is refused (console 422 naming
#     it; loyaltyctl rules put exit 1 with the same words), even one that drops the list
#   - the gateway sweeps page by page (SCAN COUNT 3, its cursor saved in lg:mk:{mk}); killed -9
#     in the middle, restarted, it resumes at the saved cursor: the pass counts every wallet
#     exactly once (a restart from the start would count the first pages twice)
#   - every c:welcome is gone; c:tenure and c:spring all stay; the pass is recorded done and no
#     second pass starts; the counters are in the stats file and on /metrics
#   - spring runs again: its members are not paid twice (their markers stayed)
#   - autumn retired next; Redis's script cache flushed mid-pass (what a Redis restart or a
#     failover does; the SCAN cursor saved would be stale): the pass starts again and completes
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
source "$(dirname "$0")/markers_helpers.sh"

export TZ=Africa/Casablanca
NOW=$(date +%s)
TODAY=$(date +%F)
YESTERDAY=$(date -d "$TODAY -1 day" +%F)
NEXT_YEAR=$(date -d "$TODAY +1 year" +%F)
AGO_20=$(date -d "$TODAY -20 days" +%F)
AGO_10=$(date -d "$TODAY -10 days" +%F)
at_iso() { date -u -d "@$1" +%FT%TZ; }
CTL="$LGW_BIN/gateway/loyaltyctl"
PARSE="$LGW_BIN/tests/it_promparse"

start_redis
pick_port
# a page every 100 ms of about 3 keys: the sweep takes many pages, so it can be stopped mid-way
ussd_config '.campaigns = {enabled: true, pass_interval_s: 3600, catchup_days: 0,
  quiet_start_hour: 0, quiet_end_hour: 0, marker_sweep_interval_ms: 100, marker_sweep_batch: 3,
  marker_sweep_grace_s: 0, marker_sweep_lease_ms: 2000}
  | .metrics.listen = "127.0.0.1:0" | .redis.request_timeout_ms = 5000'
start_gw

DOC=$(jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" --arg ps "$AGO_20" --arg pe "$AGO_10" \
  '{version: "m-1", campaigns: [
  {id: "welcome", rule: "welcome", start: $s, end: $e, budget: 100000, points: 50},
  {id: "tenure", rule: "tenure", start: $s, end: $e, budget: 100000, points: 100, years: [1]},
  {id: "spring", rule: "welcome", start: $ps, end: $pe, budget: 100000, points: 20},
  {id: "autumn", rule: "welcome", start: $ps, end: $pe, budget: 100000, points: 30}]}')
add_staff mia marketing marketing-secret-1
start_admin
MIA=$(login_retry mia marketing-secret-1)
api PUT /api/campaign-rules "$MIA" "{\"version\": 0, \"document\": $DOC}"
assert_eq 200 "$CODE" "version 1 stored"
wait_for 20 grep -q 'campaigns "m-1": 4 rules' "$T/gw.log" || fail "the gateway did not load m-1"

note "welcome pays 6 members over SMPP"
topup() { echo "TOPUP ref=$1 msisdn=$2 amount=100.00 currency=MAD at=$(at_iso $((NOW - 60)))"; }
PAID=()
EVS=()
for i in 1 2 3 4 5 6; do
  M=21264100000$i
  PAID+=("$M")
  EVS+=("$(topup MK$i "$M")")
done
events w1 "${EVS[@]}"
for M in "${PAID[@]}"; do
  assert_eq "1 60" "$(rcli hget "lg:{$M}:w" c:welcome) $(rcli hget "lg:{$M}:w" bal)" \
    "$M: welcome paid (10 earned + 50)"
done

note "more members, paid earlier: welcome, tenure (live) and spring (paused) markers"
for i in $(seq 100 189); do
  echo "HSET lg:{212642000$i}:w bal 5 since $NOW c:welcome 1 c:tenure 1 c:spring 1 c:autumn 1"
done | rcli >/dev/null
for M in "${PAID[@]}"; do rcli hset "lg:{$M}:w" c:tenure 1 c:spring 1 c:autumn 1 >/dev/null; done
count_field() { # field: wallets holding it
  local n=0 k
  for k in $(rcli --scan --pattern 'lg:{*}:w'); do
    [ "$(rcli hexists "$k" "$1")" = 1 ] && n=$((n + 1))
  done
  echo $n
}
WALLETS=$(rcli --scan --pattern 'lg:{*}:w' | wc -l)
assert_eq 96 "$WALLETS" "96 wallets"
assert_eq "96 96 96" "$(count_field c:welcome) $(count_field c:tenure) $(count_field c:spring)" \
  "every wallet holds the three markers"

note "marketing removes welcome: retired with today's day"
api GET /api/campaign-rules "$MIA"
V=$(j .version)
DOC2=$(jq -c '.version = "m-2" | .campaigns |= map(select(.id != "welcome"))' <<<"$DOC")
api PUT /api/campaign-rules "$MIA" "{\"version\": $V, \"document\": $DOC2}"
assert_eq 200 "$CODE" "welcome removed"
STORED=$(rcli hget 'cfg:{adm}:campaigns' doc)
assert_eq "[{\"id\":\"welcome\",\"day\":\"$TODAY\"}]" "$(jq -c .retired <<<"$STORED")" \
  "the stored document lists welcome as retired today"
assert_eq "tenure spring autumn" "$(jq -r '[.campaigns[].id] | join(" ")' <<<"$STORED")" \
  "the other campaigns stay"
assert_eq 1 "$(rcli xrevrange 'adm:{adm}:audit' + - count 1 | grep -c '"retired"')" \
  "the audit record's document carries the retired list"

note "the sweep starts: stopped (kill -9) once a page is saved, before the end"
kill_mid_pass
LEFT=$(count_field c:welcome)
CUR=$(rcli hget 'lg:mk:{mk}' cur)
assert_eq welcome "$(rcli hget 'lg:mk:{mk}' fp)" "the pass under way is for welcome"
[ -n "$CUR" ] && [ "$CUR" != 0 ] && echo "ok - cursor $CUR saved" || fail "no cursor saved: '$CUR'"
[ "$LEFT" -gt 0 ] && [ "$LEFT" -lt 96 ] && echo "ok - stopped mid-way: $LEFT markers left" ||
  fail "not stopped mid-way: $LEFT of 96 markers left"

note "a document giving the id to a new campaign is refused, the list dropped or not"
api GET /api/campaign-rules "$MIA"
V=$(j .version)
DOC3=$(jq -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '.version = "m-3" | del(.retired)
  | .campaigns += [{id: "welcome", rule: "welcome", start: $s, end: $e, budget: 500, points: 5}]' \
  <<<"$STORED")
api PUT /api/campaign-rules "$MIA" "{\"version\": $V, \"document\": $DOC3}"
assert_eq 422 "$CODE" "console: a retired id is refused"
assert_eq "document.campaigns[3].id" "$(j .field)" "the error names the field"
case "$(j .error)" in
  *'"welcome" was retired on '"$TODAY"*) echo "ok - the error names the id and its day" ;;
  *) fail "error: $(j .error)" ;;
esac
jq .document <<<"{\"document\": $DOC3}" >"$T/doc3.json"
RC=0
LOYALTYCTL_TOKEN=$MIA HOME="$T" "$CTL" --api "$URL" rules put "$T/doc3.json" >"$T/ctl.out" \
  2>"$T/ctl.err" || RC=$?
assert_eq 1 "$RC" "loyaltyctl rules put: exit 1"
grep -q '"welcome\\\?" was retired on' "$T/ctl.err" && echo "ok - loyaltyctl says why" ||
  fail "loyaltyctl: $(cat "$T/ctl.err")"
jq -c '.retired = [] ' <<<"$DOC3" >"$T/doc3b.json"
RC=0
LOYALTYCTL_TOKEN=$MIA HOME="$T" "$CTL" --api "$URL" rules put "$T/doc3b.json" >"$T/ctl.out" \
  2>"$T/ctl.err" || RC=$?
assert_eq 1 "$RC" "an empty retired list does not bring the id back"
assert_eq "$STORED" "$(rcli hget 'cfg:{adm}:campaigns' doc)" "nothing was stored"

note "restarted: the sweep resumes at the saved cursor and completes"
start_gw
wait_for 120 swept_ids ",welcome," || fail "the pass did not complete: $(rcli hgetall 'lg:mk:{mk}' | tr '\n' ' ')"
assert_eq 1 "$(grep -c "marker sweep of welcome resumed at cursor $CUR" "$T/gw.log")" \
  "the restarted gateway resumed at cursor $CUR"
assert_eq "$WALLETS" "$(rcli hget 'lg:mk:{mk}' wallets)" \
  "the pass counted each wallet once (resumed, not restarted)"
assert_eq "0 96 96" "$(count_field c:welcome) $(count_field c:tenure) $(count_field c:spring)" \
  "every welcome marker is gone; the live and the paused campaigns' markers stay"
assert_eq "$LEFT" "$(gw_stat .campaigns.markers_deleted)" \
  "the restarted gateway deleted the markers left"
assert_eq "1 1" "$(gw_stat .campaigns.marker_passes) $(rcli hget 'lg:mk:{mk}' passes)" "one pass"
assert_eq 0 "$(gw_stat .campaigns.marker_errors)" "no Redis error"
sleep 2
assert_eq "1 0" "$(rcli hget 'lg:mk:{mk}' passes) $(rcli hexists 'lg:mk:{mk}' fp)" \
  "nothing new to delete: no other pass starts"
MPORT=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" |
  tail -1)
curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"
"$PARSE" <"$T/metrics.txt" >"$T/parse.out" 2>&1 && echo "ok - the exposition parses" ||
  fail "parser: $(cat "$T/parse.out")"
assert_eq "1 $LEFT" \
  "$(awk '$1 == "loyaltygw_campaign_marker_passes_total" || $1 == "loyaltygw_campaign_markers_deleted_total" {printf "%s%s", s, $2; s = " "}' "$T/metrics.txt")" \
  "/metrics: loyaltygw_campaign_marker_passes_total, _markers_deleted_total"

note "the paused campaign comes back: its markers stayed, so nobody is paid twice"
api GET /api/campaign-rules "$MIA"
V=$(j .version)
DOC4=$(jq -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" '.version = "m-4"
  | .campaigns |= map(if .id == "spring" then .start = $s | .end = $e else . end)' <<<"$STORED")
api PUT /api/campaign-rules "$MIA" "{\"version\": $V, \"document\": $DOC4}"
assert_eq 200 "$CODE" "spring runs again"
assert_eq "[{\"id\":\"welcome\",\"day\":\"$TODAY\"}]" \
  "$(rcli hget 'cfg:{adm}:campaigns' doc | jq -c .retired)" "the retired list is kept"
wait_for 20 grep -q 'campaigns "m-4": 3 rules' "$T/gw.log" || fail "the gateway did not load m-4"
events w2 "$(topup MK21 "${PAID[0]}")"
assert_eq 70 "$(rcli hget "lg:{${PAID[0]}}:w" bal)" "10 earned, no second spring bonus"

note "autumn retired too; Redis's script cache flushed mid-pass (as by a restart or a failover:"
note "its SCAN order changes): the pass starts again from the start and completes"
api GET /api/campaign-rules "$MIA"
V=$(j .version)
DOC5=$(rcli hget 'cfg:{adm}:campaigns' doc | jq -c '.version = "m-5"
  | .campaigns |= map(select(.id != "autumn")) | del(.retired)')
api PUT /api/campaign-rules "$MIA" "{\"version\": $V, \"document\": $DOC5}"
assert_eq 200 "$CODE" "autumn removed"
assert_eq "welcome autumn" "$(rcli hget 'cfg:{adm}:campaigns' doc | jq -r '[.retired[].id] | join(" ")')" \
  "both retired"
autumn_mid() { [ "$(mk fp)" = autumn ] && mid_pass; }
wait_for 30 autumn_mid || fail "no page of the autumn pass was saved"
rcli script flush >/dev/null
wait_for 120 swept_ids ",welcome,autumn," || fail "the autumn pass did not complete: $(rcli hgetall 'lg:mk:{mk}' | tr '\n' ' ')"
assert_eq 1 "$(grep -c 'marker sweep of autumn: Redis was restarted or replaced since cursor' "$T/gw.log")" \
  "the gateway saw its cursor's server change and started the pass again"
assert_eq "$WALLETS" "$(rcli hget 'lg:mk:{mk}' wallets)" "the new pass counted each wallet once"
assert_eq "0 0 96 96" \
  "$(count_field c:welcome) $(count_field c:autumn) $(count_field c:tenure) $(count_field c:spring)" \
  "no autumn marker left; tenure and spring kept"

stop_admin
stop_gw
finish

#!/usr/bin/env bash
# The sweep of retired markers on a real 3-master Redis Cluster (docs/campaigns.md "Retired
# campaigns"; gateway/gw_campaign_marks.c): the wallets are spread over the masters, the gateway
# reads them slot by slot (CLUSTER GETKEYSINSLOT asked of each slot's master), its cursor (the next
# slot) saved in lg:mk:{mk}. A document whose "retired" list holds welcome (stored as the console
# stores it): every c:welcome goes, on every master, and c:tenure (live) and c:spring (paused)
# stay; killed -9 mid-pass the gateway resumes at the saved slot and counts every wallet once,
# while a second gateway started with it finds the lease taken and sweeps nothing; then no
# second pass starts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/markers_helpers.sh"
MK_CLI=ccli

export TZ=Africa/Casablanca
TODAY=$(date +%F)
YESTERDAY=$(date -d "$TODAY -1 day" +%F)
NEXT_YEAR=$(date -d "$TODAY +1 year" +%F)
AGO_20=$(date -d "$TODAY -20 days" +%F)
AGO_10=$(date -d "$TODAY -10 days" +%F)

start_redis_cluster
pick_port
# pages of about 20 wallets every 50 ms: the pass takes many pages, so it can be stopped mid-way
ussd_config '.campaigns = {enabled: true, pass_interval_s: 3600, catchup_days: 0,
  quiet_start_hour: 0, quiet_end_hour: 0, marker_sweep_interval_ms: 50, marker_sweep_batch: 20,
  marker_sweep_grace_s: 0, marker_sweep_lease_ms: 3000} | .redis.request_timeout_ms = 5000'
start_gw

N=150
MEMBERS=$(seq 212643000100 $((212643000100 + N - 1)))
for m in $MEMBERS; do
  echo "HSET lg:{$m}:w bal 5 c:welcome 1 c:tenure 1 c:spring 1"
  echo "SET lg:{$m}:other x" # not a wallet: left alone
done | ccli >/dev/null
masters_with() { # how many masters hold wallets
  local p n=0
  for p in "${CLUSTER_PORTS[@]}"; do
    [ "$(ocli -p "$p" --scan --pattern 'lg:{*}:w' | wc -l)" -gt 0 ] && n=$((n + 1))
  done
  echo $n
}
assert_eq 3 "$(masters_with)" "the wallets are on the 3 masters"
holding() { # field: wallets holding it
  for m in $MEMBERS; do echo "HEXISTS lg:{$m}:w $1"; done | ccli | awk '{ s += $1 } END { print s + 0 }'
}
assert_eq "$N $N $N" "$(holding c:welcome) $(holding c:tenure) $(holding c:spring)" \
  "every wallet holds the three markers"

DOC=$(jq -n -c --arg s "$YESTERDAY" --arg e "$NEXT_YEAR" --arg ps "$AGO_20" --arg pe "$AGO_10" \
  --arg t "$TODAY" '{version: "mc-2", campaigns: [
  {id: "tenure", rule: "tenure", start: $s, end: $e, budget: 100000, points: 100, years: [1]},
  {id: "spring", rule: "welcome", start: $ps, end: $pe, budget: 100000, points: 20}],
  retired: [{id: "welcome", day: $t}]}')
ccli hset 'cfg:{adm}:campaigns' doc "$DOC" version 2 >/dev/null
wait_for 20 grep -q 'campaigns "mc-2": 2 rules' "$T/gw.log" || fail "the gateway did not load mc-2"

note "the sweep starts: stopped (kill -9) once a page is saved, before the end"
kill_mid_pass
LEFT=$(holding c:welcome)
CUR=$(ccli hget 'lg:mk:{mk}' cur)
assert_eq "welcome c" "$(ccli hget 'lg:mk:{mk}' fp) $(ccli hget 'lg:mk:{mk}' mode)" \
  "the pass under way is for welcome, slot by slot"
[ "$LEFT" -gt 0 ] && [ "$LEFT" -lt "$N" ] && echo "ok - stopped at slot $CUR: $LEFT markers left" ||
  fail "not stopped mid-way (slot $CUR): $LEFT of $N markers left"

note "restarted, with a second gateway: one resumes at the saved slot and completes, the other"
note "finds the lease taken"
start_gw
start_gw2
wait_for 120 swept_ids ",welcome," || fail "the pass did not complete: $(ccli hgetall 'lg:mk:{mk}' | tr '\n' ' ')"
assert_eq 1 "$(cat "$T/gw.log" "$T/gw2.log" | grep -c "marker sweep of welcome resumed at cursor $CUR")" \
  "the gateway that took the lease resumed at slot $CUR"
assert_eq "$N" "$(ccli hget 'lg:mk:{mk}' wallets)" "the pass counted each wallet once"
assert_eq "0 $N $N" "$(holding c:welcome) $(holding c:tenure) $(holding c:spring)" \
  "every welcome marker is gone on every master; the live and paused campaigns' markers stay"
assert_eq "$N" "$(for m in $MEMBERS; do echo "EXISTS lg:{$m}:other"; done | ccli |
  awk '{ s += $1 } END { print s + 0 }')" "the other keys are left alone"
sleep 2 # both stats files written again (every second)
both() { # counter: gateway 1's and 2's
  echo "$(jq -r ".campaigns.$1" "$T/gw-stats.json") $(jq -r ".campaigns.$1" "$T/gw2-stats.json")"
}
read -r D1 D2 <<<"$(both markers_deleted)"
read -r P1 P2 <<<"$(both marker_passes)"
read -r W1 W2 <<<"$(both marker_wallets)"
read -r B1 B2 <<<"$(both marker_busy)"
assert_eq "$LEFT 1 0 0" "$((D1 + D2)) $((P1 + P2)) $(both marker_errors)" \
  "the counters: the markers left deleted, one pass, no error on either gateway"
if { [ "$W1" -gt 0 ] && [ "$W2" = 0 ] && [ "$B2" -gt 0 ]; } ||
  { [ "$W2" -gt 0 ] && [ "$W1" = 0 ] && [ "$B1" -gt 0 ]; }; then
  echo "ok - one gateway swept ($W1 + $W2 wallets), the other found the lease taken ($B1 + $B2 times)"
else
  fail "both gateways swept: wallets $W1 $W2, lease taken $B1 $B2"
fi
assert_eq "1 0" "$(ccli hget 'lg:mk:{mk}' passes) $(ccli hexists 'lg:mk:{mk}' fp)" \
  "nothing new to delete: no other pass starts"

stop_gw2
stop_gw
finish

#!/usr/bin/env bash
# The points-expiry job's progress on loyaltygw's GET /metrics (issue 11 §3 "expiry job
# progress"): a gateway with expiry.enabled (never quiet) runs its first pass over every slot
# after the sample day; the exposition passes the strict parser (tests/it/it_promparse) and
# carries loyaltygw_expiry_*, and once the pass is done: one pass, nothing due so no slot claimed
# and no point expired, no Redis error, not running, the last complete day given (yesterday,
# local) - the same figures as the stats file's "expiry" object. Also the regression of the
# first pass, due at start before the Redis link is up: it failed at once (an error, a "pass"
# that did nothing, the next one pass_interval_s later); it now waits for the link.
source "$(dirname "$0")/lib.sh"
PARSE="$LGW_BIN/tests/it_promparse"

start_redis
sample_day
start_sim idle --timeout-s 300
# a roomy Redis deadline: the pass's few hundred requests must not time out on a loaded machine
write_config "$SIM_PORT" '.metrics.listen = "127.0.0.1:0" | .redis.request_timeout_ms = 5000
  | .expiry = {enabled: true, quiet_start_hour: 0, quiet_end_hour: 0, pass_interval_s: 3600}'
start_gw
MPORT=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" | tail -1)
[ -n "$MPORT" ] || { fail "no metrics port in the log"; finish; }
scrape() { curl -s "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"; }
m() { awk -v n="$1" '$1 == n {print $2}' "$T/metrics.txt"; }

scrape
"$PARSE" <"$T/metrics.txt" >"$T/parse.out" 2>&1 && echo "ok - the exposition parses (first scrape)" ||
  fail "parser: $(cat "$T/parse.out")"
assert_eq 1 "$(grep -c '^# TYPE loyaltygw_expiry_visits_total counter$' "$T/metrics.txt")" \
  "loyaltygw_expiry_visits_total is a counter"

pass_done() { scrape; [ "$(m loyaltygw_expiry_passes_total)" = 1 ]; }
wait_for 240 pass_done && echo "ok - the first pass completed" ||
  fail "no pass completed: $(grep '^loyaltygw_expiry' "$T/metrics.txt" | tr '\n' ' ')"
"$PARSE" <"$T/metrics.txt" >"$T/parse.out" 2>&1 && echo "ok - the exposition parses (pass done)" ||
  fail "parser: $(cat "$T/parse.out")"
grep '^loyaltygw_expiry' "$T/metrics.txt" | sed 's/^/# /'
assert_eq 0 "$(m loyaltygw_expiry_slots_busy_total)" "no slot held by another gateway"
assert_eq 0 "$(m loyaltygw_expiry_errors_total)" "no Redis error"
assert_eq 0 "$(m loyaltygw_expiry_expired_points_total)" "nothing was due: no point expired"
assert_eq 0 "$(m loyaltygw_expiry_running)" "not running between passes"

# the stats file says the same (written every second)
stats_pass() { [ "$(jq -r '.expiry.passes // empty' "$T/gw-stats.json" 2>/dev/null)" = 1 ]; }
wait_for 10 stats_pass || fail "stats file: $(jq -c .expiry "$T/gw-stats.json" 2>&1)"
ld=$(jq -r .expiry.last_done "$T/gw-stats.json")
case "$ld" in # the pass's "today" is the local day it ran: yesterday of that (midnight may pass)
  "$(TZ=Africa/Casablanca date -d yesterday +%Y%m%d)"|"$(TZ=Africa/Casablanca date -d '2 days ago' +%Y%m%d)")
    echo "ok - the last complete day is yesterday (local): $ld" ;;
  *) fail "last_done $ld is not yesterday" ;;
esac
assert_eq "$(date -u -d "${ld:0:4}-${ld:4:2}-${ld:6:2} 00:00" +%s)" \
  "$(m loyaltygw_expiry_last_done_day_timestamp_seconds)" "/metrics gives that day as its 00:00 UTC"
for f in slots_claimed visits expired_points errors; do
  assert_eq "$(jq -r ".expiry.$f" "$T/gw-stats.json")" "$(m "loyaltygw_expiry_${f}_total")" \
    "expiry $f: /metrics and the stats file agree"
done
stop_gw
finish

#!/usr/bin/env bash
# GET /metrics, /health and /ready of loyaltygw (metrics.listen) after a known run: the sample day
# of events and one USSD dialogue over real SMPP and a real Redis. The exposition is checked by a
# strict parser of the text format (tests/it/it_promparse.c: names, escapes, one TYPE per family,
# counters named _total, cumulative histogram buckets ending in +Inf = _count) and its values
# against the run and against the stats file; /ready must flip to 503 when the SMSC or Redis goes
# away and back to 200 when they return, while /health stays 200.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
PARSE="$LGW_BIN/tests/it_promparse"

note "the parser refuses what Prometheus refuses (so its OK below means something)"
bad() { # message exposition
  if printf '%b' "$2" | "$PARSE" >/dev/null 2>"$T/parse.err"; then fail "parser accepted: $1"
  else echo "ok - parser refuses $1 ($(cut -c1-60 "$T/parse.err"))"; fi
}
bad "a counter not named _total" '# TYPE x counter\nx 1\n'
bad "a sample without TYPE" 'x 1\n'
bad "a bad escape" '# TYPE x gauge\nx{a="\\q"} 1\n'
bad "a duplicate series" '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'
bad "a non-numeric value" '# TYPE x gauge\nx one\n'
bad "buckets that are not cumulative" \
  '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'
bad "a +Inf bucket unlike _count" \
  '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'
bad "a family split in two" '# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x="1"} 1\n'
bad "a missing final newline" '# TYPE x gauge\nx 1'
printf '# HELP h a "histogram"\n# TYPE h histogram\nh_bucket{k="a\\\\b\\"c\\n",le="1"} 1\nh_bucket{k="a\\\\b\\"c\\n",le="+Inf"} 2\nh_sum{k="a\\\\b\\"c\\n"} 3.5\nh_count{k="a\\\\b\\"c\\n"} 2\n' |
  "$PARSE" >"$T/good.out" && echo "ok - parser accepts a valid histogram with escaped labels" ||
  fail "parser refused a valid exposition: $(cat "$T/good.out")"

DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_redis
pick_port
ussd_config '.metrics.listen = "127.0.0.1:0"'
start_sim day --listen "127.0.0.1:$SMSC_PORT" --events "$T/day.events" --window 5 --exit-when-done \
  --timeout-s 60
start_gw
MPORT=$(sed -n 's/.*GET \/metrics, \/health, \/ready on .* (port \([0-9]*\)).*/\1/p' "$T/gw.log" | head -1)
[ -n "$MPORT" ] || { fail "no metrics port in the log"; finish; }
URL="http://127.0.0.1:$MPORT"
wait_sim day 60
assert_eq 21 "$(sim_json day '.final.ESME_ROK')" "the sample day: 21 events acknowledged"

note "USSD: one dialogue (main menu, then my points)"
phone p 212611000001 '*555#\n1'

note "SMSC gone (the simulators exited): not ready, still alive"
wait_http /ready 503 10 && echo "ok - /ready 503 without the SMSC" || fail "/ready did not flip to 503"
grep -q 'SMPP' "$T/body" && echo "ok - /ready says why: $(cat "$T/body")" || fail "/ready body: $(cat "$T/body")"
assert_eq 200 "$(http_code /health)" "/health 200 without the SMSC"

note "an SMSC that stays: ready"
start_sim idle --listen "127.0.0.1:$SMSC_PORT" --timeout-s 120
wait_http /ready 200 15 && echo "ok - /ready 200 when bound and Redis writable" ||
  fail "/ready not 200: $(cat "$T/body")"

sleep 1.2 # one stats interval: the stats file and the scrape below see the same counters
curl -s -D "$T/headers" "$URL/metrics" >"$T/metrics.txt"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/headers" &&
  echo "ok - Content-Type names the text format 0.0.4" || fail "headers: $(cat "$T/headers")"
if "$PARSE" <"$T/metrics.txt" >"$T/series.txt" 2>"$T/parse.err"; then
  echo "ok - the exposition passes the strict parser ($(wc -l <"$T/series.txt") series)"
else
  fail "the exposition is invalid: $(cat "$T/parse.err")"
fi
m() { awk -v k="$1" '$1 == k { print $2 }' "$T/series.txt"; }
assert_eq 25 "$(m loyaltygw_events_received_total)" "events received: 25"
assert_eq 18 "$(m 'loyaltygw_events_total{outcome="credited"}')" "events credited: 18"
assert_eq 1 "$(m 'loyaltygw_events_total{outcome="duplicate"}')" "events duplicate: 1"
assert_eq 1 "$(m 'loyaltygw_events_total{outcome="reversed"}')" "events reversed: 1"
assert_eq 1 "$(m 'loyaltygw_events_total{outcome="reversal_noop"}')" "reversals without effect: 1"
assert_eq 4 "$(m 'loyaltygw_events_total{outcome="rejected"}')" "events rejected: 4"
assert_eq 0 "$(m 'loyaltygw_events_total{outcome="temp_failed"}')" "events temp_failed: 0"
assert_eq 4 "$(m 'loyaltygw_deadletters_total{result="written"}')" "dead letters written: 4"
assert_eq 21 "$(m loyaltygw_commit_latency_seconds_count)" "commit latency: one observation per commit"
assert_eq 21 "$(m 'loyaltygw_commit_latency_seconds_bucket{le="+Inf"}')" "commit latency +Inf bucket"
sum=$(m loyaltygw_commit_latency_seconds_sum)
awk -v s="$sum" 'BEGIN { exit !(s > 0) }' && echo "ok - commit latency sum > 0 ($sum s)" || fail "sum $sum"
# the points counters agree with the wallets in Redis: credited - reversed = sum of balances
bal=0; for k in $(rcli --scan --pattern 'lg:{*}:w'); do bal=$((bal + $(rcli hget "$k" bal))); done
cred=$(m 'loyaltygw_points_total{movement="credited"}'); rev=$(m 'loyaltygw_points_total{movement="reversed"}')
assert_eq "$bal" "$((cred - rev))" "points credited - reversed = the balances in Redis"
assert_eq "$(gw_stat .ingest.points_credited)" "$cred" "points credited: /metrics = stats file"
assert_eq "$(gw_stat .ussd.screens)" "$(m loyaltygw_ussd_hop_latency_seconds_count)" \
  "USSD hop latency: one observation per screen submitted"
assert_ge 2 "$(m loyaltygw_ussd_hop_latency_seconds_count)" "USSD: at least 2 hops (menu, points)"
assert_eq 1 "$(m 'loyaltygw_ussd_pdus_total{kind="open"}')" "USSD: one dialogue opened"
assert_eq 0 "$(m loyaltygw_ussd_sessions_open)" "USSD: no dialogue left open"
assert_eq 0 "$(m 'loyaltygw_redemptions_total{outcome="granted"}')" "no redemption in this run"
assert_eq 1 "$(m 'loyaltygw_smpp_link_up{smsc="SIM"}')" "link up, labelled by SMSC"
assert_eq 1 "$(m loyaltygw_redis_up)" "Redis up"
assert_eq 1 "$(m loyaltygw_ready)" "ready gauge 1"
assert_eq 0 "$(m 'loyaltygw_redis_errors_total{kind="timeout"}')" "no Redis timeout"
assert_eq 1 "$(grep -c '^# TYPE loyaltygw_events_total counter$' "$T/metrics.txt")" "one TYPE line per family"
# HEAD and the wrong methods
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$URL/metrics")" "DELETE /metrics: 405"
assert_eq 404 "$(http_code /admin)" "unknown path: 404"

note "Redis gone: not ready (Redis), alive; back: ready again"
stop_redis
wait_http /ready 503 10 && echo "ok - /ready 503 without Redis" || fail "/ready did not flip without Redis"
grep -q 'Redis' "$T/body" && echo "ok - /ready says why: $(cat "$T/body")" || fail "/ready body: $(cat "$T/body")"
assert_eq 200 "$(http_code /health)" "/health 200 without Redis"
curl -s "$URL/metrics" | "$PARSE" >"$T/series.txt" || fail "exposition invalid without Redis"
assert_eq 0 "$(m loyaltygw_redis_up)" "redis_up 0"
start_redis
wait_http /ready 200 15 && echo "ok - /ready 200 again after Redis returned" || fail "/ready: $(cat "$T/body")"
curl -s "$URL/metrics" | "$PARSE" >"$T/series.txt" || fail "exposition invalid"
assert_ge 1 "$(m loyaltygw_redis_reconnects_total)" "a reconnect counted"
assert_ge 1 "$(m loyaltygw_redis_disconnects_total)" "a disconnect counted"

note "a read-only Redis (a replica) is not writable: not ready"
rcli config set replica-read-only yes >/dev/null
rcli replicaof 127.0.0.1 1 >/dev/null # a primary that does not exist: stays a read-only replica
wait_http /ready 503 10 && echo "ok - /ready 503 on a replica" || fail "/ready not 503 on a replica"
grep -q 'not writable' "$T/body" && echo "ok - /ready says why: $(cat "$T/body")" || fail "/ready body: $(cat "$T/body")"
rcli replicaof no one >/dev/null
wait_http /ready 200 15 && echo "ok - /ready 200 once it is a primary again" || fail "/ready: $(cat "$T/body")"

note "SIGTERM: the gateway drains and exits"
stop_gw
finish

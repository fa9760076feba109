#!/usr/bin/env bash
# Issue 10 §5: a redemption that was paid but that Redis failed to finish must not read "service
# unavailable". Real SMPP (smsc-sim as the handset), a real redis-server, the real catalogue and
# menus, the fulfilment worker with the real provisioning HTTP server. The fulfilment stream's key
# is made the wrong type, so every XADD after the debit fails (an error reply from Redis, the
# step after "paid"): the last screen says the request is being processed and an SMS will follow,
# the points are debited once; once the key is repaired, the redemption's sweeper confirms and
# queues it and the subscriber gets the SMS - the screen told the truth.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

TZNAME=Africa/Casablanca
PROV="$LGW_BIN/tests/prov_server"
CAT="$T/catalog.json"
GIFTDAYS="$T/giftdays.json"
TOKEN=t0ken

"$PROV" --listen 127.0.0.1:0 --port-file "$T/prov.port" --record "$T/grants.jsonl" \
  --token "$TOKEN" 2>>"$T/prov.log" &
PIDS+=("$!")
wait_for 10 test -s "$T/prov.port" || { echo "prov_server did not start" >&2; exit 1; }

GIFT_DAY=$(TZ=$TZNAME date -d '-2 hours' +%Y%m%d)
jq -n --arg tz "$TZNAME" --arg s "$(TZ=$TZNAME date -d '-2 hours' +%Y-%m-%dT%H:%M)" \
  --arg e "$(TZ=$TZNAME date -d '+3 hours' +%Y-%m-%dT%H:%M)" \
  '{timezone: $tz, weekly: [], special: [{name: "test-open", start: $s, end: $e}]}' >"$GIFTDAYS"
VOUCHER_FROM=$(TZ=$TZNAME date -d '+30 days' +%Y-%m-%d)
jq --arg from "$VOUCHER_FROM" '(.items[] | select(.id == "VOUCHER_MARJANE_100")) |= (.valid_from = $from)' \
  "$LGW_SRC/deploy/catalog.json" >"$CAT"

start_redis
pick_port
ussd_config '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                               {name: "silver", min_points: 1000, multiplier_pct: 110},
                               {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000
  | .catalog = {file: "'"$CAT"'", giftdays_file: "'"$GIFTDAYS"'", sweep_interval_ms: 500,
                reservation_timeout_s: 5}
  | .provisioning = {enabled: true, insecure_test_mode: true,
                     base_url: "http://127.0.0.1:'"$(cat "$T/prov.port")"'",
                     token: "'"$TOKEN"'", timeout_ms: 2000, retry_min_ms: 100, consumer: "gw-1"}'

TODAY=$(TZ=$TZNAME date +%Y%m%d)
A=212612300001
rcli hset "lg:{$A}:w" bal 1000 life 1000 rem 0 tier standard since "$SINCE" "l:$TODAY" 1000 \
  lang en >/dev/null
rcli set cat:fulfil broken >/dev/null # the stream's key of the wrong type: XADD fails
start_gw

PROCESSING=$(jq -r '.labels.en.processing' "$LGW_SRC/deploy/ussd-menus.json")
phone broken $A '*555*2*1#\n1\n1' --linger-ms 500
last_screen=$(screens_json broken | jq -r '.[-1].text')
assert_eq "$PROCESSING" "$last_screen" "the last screen says the request is being processed"
case "$last_screen" in *navailable*) fail "the screen claims the service is unavailable" ;; esac
assert_eq 500 "$(balance $A)" "the points were debited once (a retry of the same rid adds nothing)"

rcli del cat:fulfil >/dev/null # Redis is well again: the sweeper finishes the paid redemption
if wait_for 30 sh -c "[ \"\$(redis-cli -s '$REDIS_SOCK' xlen cat:fulfil)\" -ge 1 ]"; then
  echo "ok - the sweeper confirmed and queued the paid redemption"
else
  fail "the paid redemption was never queued"
fi
# what the screen promised: the worker grants it (then texts the subscriber, as
# test_ussd_redeem.sh checks on a healthy run)
if wait_for 30 grep -q "$A" "$T/grants.jsonl"; then
  echo "ok - the provisioning API granted the gift"
else
  fail "the gift was never granted"
fi
assert_eq 500 "$(balance $A)" "still one debit after the sweeper"

sleep 1.2
assert_eq 1 "$(gw_stat .ussd.redeem_processing)" "the gateway counted one 'processing' screen"
assert_eq 0 "$(gw_stat .ussd.redeem_failed)" "... and no 'unavailable' one"
stop_gw
finish

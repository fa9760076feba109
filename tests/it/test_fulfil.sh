#!/usr/bin/env bash
# Gift fulfilment over real sockets (owned by the fulfilment engineer): a private redis-server, the
# provisioning API played by tests/it/prov_server (evhttp, idempotent by key, failure injection),
# and the worker (catalog/cat_fulfil.c + cat_prov.c + gateway/gw_http.c) run by tests/it/it_fulfil
# with a test store that counts every transition it applies.
#   1. the HTTP client's cases against prov_server's /test endpoints;
#   2. the mix: the API is down at first (connection refused), then answers 500, 503, 409, 422,
#      404, 400, timeouts and slow answers; vouchers, charity, gifts to a relative, a malformed
#      entry and a redemption queued twice: every redemption ends granted or refunded, each grant
#      made once by the provider, never marked or refunded twice, the right SMS to the right people;
#   3. a worker SIGKILLed while its calls are in flight, another consumer takes the entries over
#      (XAUTOCLAIM): every redemption granted exactly once;
#   4. the same with the same consumer restarting (its own pending entries).
#   LGW_VALGRIND=1  run the driver under valgrind (errors and leaks fail the test)
source "$(dirname "$0")/lib.sh"

DRV="$LGW_BIN/tests/it_fulfil"
PROV="$LGW_BIN/tests/prov_server"
TOKEN="s3cret-token"
STREAM="cat:fulfil"
SMS="$T/sms.txt"
REC="$T/grants.jsonl"
VG=()
SLOW=1
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
      --show-leak-kinds=definite,indirect)
  SLOW=4 # valgrind runs the driver ~20x slower: give every deadline room
fi
: >"$SMS"

PROV_PID=""
start_prov() { # [port] rules...
  local port=$1; shift
  rm -f "$T/prov.port"
  "$PROV" --listen "127.0.0.1:$port" --port-file "$T/prov.port" --record "$REC" --token "$TOKEN" \
    "$@" 2>>"$T/prov.log" &
  PROV_PID=$!
  PIDS+=("$PROV_PID")
  wait_for 10 test -s "$T/prov.port" || { echo "prov_server did not start" >&2; exit 1; }
  PROV_PORT=$(cat "$T/prov.port")
}
stop_prov() { kill "$PROV_PID" 2>/dev/null || true; wait "$PROV_PID" 2>/dev/null || true; }

# A free loopback port: bind one with prov_server itself, then stop it.
start_prov 0
PORT=$PROV_PORT
URL="http://127.0.0.1:$PORT"

# ---------------------------------------------------------------- 1. the HTTP client
note "1. gw_http against a real HTTP server"
set +e
"${VG[@]+"${VG[@]}"}" "$DRV" http "$URL" >"$T/http.log" 2>&1
rc=$?
set -e
tail -n 3 "$T/http.log"
assert_eq 0 "$rc" "gw_http cases pass (it_fulfil http)"
stop_prov

# ---------------------------------------------------------------- seeding
# seed rid msisdn item type price [to] [extra fields...]: a paid record and its stream entry
SEED="$T/seed.redis"
GDAY=$(TZ=Africa/Casablanca date +%Y%m%d) # the records' gift day: today, local
: >"$SEED"
seed() {
  local rid=$1 m=$2 item=$3 type=$4 price=$5 to=${6:-}; shift 6 || shift $#
  echo "HSET t:rec:$rid state queued price $price msisdn $m item $item" >>"$SEED"
  echo "XADD $STREAM * rid $rid msisdn $m to \"$to\" item $item version v1 price $price day $GDAY type $type $* at 0" >>"$SEED"
}
flush_seed() { rcli <"$SEED" >/dev/null; : >"$SEED"; }
PROVFIELDS="kind data quantity 1024 unit MB"
rid() { echo "$1:$2:$GDAY:t$3"; } # msisdn item tag

worker() { # name extra-args...: runs the driver as a worker in the background
  local name=$1; shift
  "${VG[@]+"${VG[@]}"}" "$DRV" worker --redis "$REDIS_SOCK" --url "$URL" --token "$TOKEN" \
    --sms "$SMS" --stats "$T/$name.stats.json" "$@" >>"$T/$name.log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
}
wait_worker() { # pid: waits for it (in this shell, not a subshell); sets WRC to its exit code
  WRC=0
  wait "$1" || WRC=$?
}
grants_of() { jq -s --arg k "$1" '[.[] | select(.key == $k and .granted)] | length' "$REC"; }
state_of() { rcli hget "t:rec:$1" state; }

start_redis

# ---------------------------------------------------------------- 2. the mix
note "2. every redemption ends granted or refunded under refused/500/503/409/422/404/400/timeout/slow"
M=2126000000
B=2126999999
for i in $(seq -w 1 30); do
  if [ "$i" -ge 25 ]; then to="$B$i"; else to=""; fi
  seed "$(rid "$M$i" DATA_1GB "$i")" "$M$i" DATA_1GB provisioning 500 "$to" $PROVFIELDS
done
for i in 31 32 33 34 35 39 40; do
  seed "$(rid "$M$i" DATA_1GB "$i")" "$M$i" DATA_1GB provisioning 500 "" $PROVFIELDS
done
seed "$(rid "${M}36" BAD_ITEM 36)" "${M}36" BAD_ITEM provisioning 500 "" $PROVFIELDS
seed "$(rid "${M}37" BAD_ITEM 37)" "${M}37" BAD_ITEM provisioning 500 "" $PROVFIELDS
seed "$(rid "${M}38" GONE 38)" "${M}38" GONE provisioning 500 "" $PROVFIELDS
seed "$(rid "${M}41" JUMIA100 41)" "${M}41" JUMIA100 voucher 300 "" code CODE-41
seed "$(rid "${M}42" JUMIA100 42)" "${M}42" JUMIA100 voucher 300 "${B}42" code CODE-42
seed "$(rid "${M}43" DONATE 43)" "${M}43" DONATE charity 200 "" cause FOOD_BANK
seed "$(rid "${M}44" DONATE 44)" "${M}44" DONATE charity 200 "" cause FOOD_BANK
seed "$(rid "${M}45" DATA_1GB 45)" "${M}45" DATA_1GB provisioning 500 "" kind data unit MB
# the same redemption queued twice (the redemption sweeper may do that after a crash)
echo "XADD $STREAM * rid $(rid "${M}01" DATA_1GB 01) msisdn ${M}01 to \"\" item DATA_1GB version v1 price 500 day $GDAY type provisioning $PROVFIELDS at 0" >>"$SEED"
flush_seed
assert_eq 46 "$(rcli xlen "$STREAM")" "46 entries queued for 45 redemptions"

# The API is down when the worker starts: the first attempts are refused.
worker mix --consumer mix-1 --timeout-ms $((500 * SLOW)) --retry-min-ms 200 --retry-max-ms 1000 \
  --deadline-s $((8 * SLOW)) --claim-idle-ms $((2000 * SLOW)) --until-idle --max-s $((60 * SLOW))
MIX_PID=$WORKER_PID
wait_for $((10 * SLOW)) grep -q "connection refused" "$T/mix.log" || fail "no refused attempt seen"
sleep 0.5
start_prov "$PORT" \
  --rule "msisdn=${M}31:500:2" --rule "msisdn=${M}32:409" --rule "msisdn=${M}33:timeout:1" \
  --rule "msisdn=${M}34:slow=300" --rule "msisdn=${M}35:500" --rule "item=BAD_ITEM:422" \
  --rule "item=GONE:404" --rule "msisdn=${M}39:400" --rule "msisdn=${M}40:503:1"
wait_worker "$MIX_PID"
assert_eq 0 "$WRC" "the worker drains the stream (nothing pending) and exits 0"

fulfilled="" refunded=""
for i in $(seq -w 1 34) 40; do fulfilled+=" $(rid "$M$i" DATA_1GB "$i")"; done
fulfilled+=" $(rid "${M}41" JUMIA100 41) $(rid "${M}42" JUMIA100 42)"
fulfilled+=" $(rid "${M}43" DONATE 43) $(rid "${M}44" DONATE 44)"
for i in 35 39 45; do refunded+=" $(rid "$M$i" DATA_1GB "$i")"; done
refunded+=" $(rid "${M}36" BAD_ITEM 36) $(rid "${M}37" BAD_ITEM 37) $(rid "${M}38" GONE 38)"
bad=0
for r in $fulfilled; do
  [ "$(state_of "$r")" = fulfilled ] || { bad=1; fail "$r is $(state_of "$r"), not fulfilled"; }
  [ "$(rcli hget "t:rec:$r" marks)" = 1 ] || { bad=1; fail "$r marked $(rcli hget "t:rec:$r" marks) times"; }
  [ -z "$(rcli hget "t:rec:$r" refunds)" ] || { bad=1; fail "$r fulfilled and refunded"; }
done
assert_eq 0 "$bad" "39 redemptions fulfilled, each marked exactly once"
bad=0
for r in $refunded; do
  [ "$(state_of "$r")" = refunded ] || { bad=1; fail "$r is $(state_of "$r"), not refunded"; }
  [ "$(rcli hget "t:rec:$r" refunds)" = 1 ] || { bad=1; fail "$r refunded $(rcli hget "t:rec:$r" refunds) times"; }
  [ "$(grants_of "$r")" = 0 ] || { bad=1; fail "$r refunded but granted by the provider"; }
done
assert_eq 0 "$bad" "6 redemptions refunded once each, none of them granted by the provider"
assert_eq 0 "$(rcli keys 't:rec:*' | while read -r k; do rcli hget "$k" state; done | grep -vc -e fulfilled -e refunded || true)" \
  "no redemption left queued"
bad=0
for i in $(seq -w 1 34) 40; do
  r=$(rid "$M$i" DATA_1GB "$i")
  [ "$(grants_of "$r")" = 1 ] || { bad=1; fail "$r granted $(grants_of "$r") times by the provider"; }
done
assert_eq 0 "$bad" "every provisioning grant made exactly once by the provider (Idempotency-Key)"
assert_eq 0 "$(jq -s '[.[] | select(.granted)] | group_by(.key) | map(select(length > 1)) | length' "$REC")" \
  "no key granted twice"
assert_eq 0 "$(jq -s '[.[] | select(.key | test("JUMIA|DONATE|:t45$"))] | length' "$REC")" \
  "vouchers, charity and the malformed entry never reach the provisioning API"
assert_eq 0 "$(jq -s '[.[] | select(.action == "unauthorized" or .action == "bad-request")] | length' "$REC")" \
  "every call carries the bearer token and a valid body (no 401, no 400 of our making)"

# reasons, refunds and restock
case "$(rcli hget "t:rec:$(rid "${M}36" BAD_ITEM 36)" reason)" in
  "http 422: injected 422") echo "ok - a 422 is refunded with its reason recorded" ;;
  *) fail "422 reason: $(rcli hget "t:rec:$(rid "${M}36" BAD_ITEM 36)" reason)" ;;
esac
case "$(rcli hget "t:rec:$(rid "${M}35" DATA_1GB 35)" reason)" in
  "gave up after "*"http 500") echo "ok - 500 until the deadline: refunded as permanent" ;;
  *) fail "deadline reason: $(rcli hget "t:rec:$(rid "${M}35" DATA_1GB 35)" reason)" ;;
esac
case "$(rcli hget "t:rec:$(rid "${M}45" DATA_1GB 45)" reason)" in
  "provisioning entry without"*) echo "ok - a malformed entry is refunded with the reason" ;;
  *) fail "malformed reason: $(rcli hget "t:rec:$(rid "${M}45" DATA_1GB 45)" reason)" ;;
esac
assert_eq 500 "$(rcli get "t:bal:${M}35")" "refunded points back on the wallet"
assert_eq "" "$(rcli get "t:bal:${M}01")" "no points back for a fulfilled redemption"
assert_eq 3 "$(rcli get t:stock:DATA_1GB)" "stock put back for the 3 refunded DATA_1GB"
assert_eq 2 "$(rcli get t:stock:BAD_ITEM)" "stock put back for the 2 refused BAD_ITEM"
assert_eq 400 "$(rcli hget t:charity:FOOD_BANK total)" "charity: both donations in the cause total"
assert_eq 2 "$(rcli hget t:charity:FOOD_BANK count)" "charity: counted once each"

# SMS
sms_to() { grep -c "^$1	$2" "$SMS" || true; }
bad=0
for i in $(seq -w 1 24) 31 32 33 34 40; do
  [ "$(sms_to "$M$i" "Your gift DATA_1GB has been delivered. Ref: G")" = 1 ] ||
    { bad=1; fail "confirmation SMS to $M$i: $(grep -c "^$M$i	" "$SMS")"; }
done
assert_eq 0 "$bad" "one confirmation SMS with the provider's reference per self-gift (none twice)"
bad=0
for i in $(seq 25 30); do
  [ "$(sms_to "$M$i" "Your gift DATA_1GB has been delivered to $B$i.")" = 1 ] || { bad=1; fail "gifter SMS $M$i"; }
  [ "$(sms_to "$B$i" "$M$i sent you a gift: DATA_1GB. Enjoy!")" = 1 ] || { bad=1; fail "beneficiary SMS $B$i"; }
done
assert_eq 0 "$bad" "gifts: the subscriber is told it was delivered, the relative who sent it"
assert_eq 1 "$(sms_to "${M}41" "Your JUMIA100 voucher code: CODE-41")" "voucher delivered by SMS with its code"
assert_eq 1 "$(sms_to "${B}42" "Your JUMIA100 voucher code: CODE-42")" "a gifted voucher's code goes to the relative"
assert_eq 1 "$(sms_to "${B}42" "${M}42 sent you a gift: JUMIA100")" "... who is told who sent it"
assert_eq 2 "$(grep -c "Thank you! Your 200 points were donated to FOOD_BANK." "$SMS")" "charity thank-you SMS"
bad=0
for i in 35 36 37 38 39 45; do
  [ "$(grep -c "^$M$i	Sorry, we could not deliver .*Your [0-9]* points have been refunded." "$SMS")" = 1 ] ||
    { bad=1; fail "apology SMS to $M$i"; }
done
assert_eq 0 "$bad" "one apology SMS per refund"
assert_eq 0 "$(jq '.conflicts + .unknown' "$T/mix.stats.json")" "no store conflict or unknown redemption"
assert_ge 1 "$(jq '.temporary' "$T/mix.stats.json")" "temporary failures were retried"

# ---------------------------------------------------------------- 3. killed mid-call, claimed
note "3. a worker SIGKILLed with calls in flight; another consumer claims its entries"
stop_prov
# every key's first call is granted on arrival and answered after 3 s: the kill lands before
start_prov "$PORT" --rule "*:slow=$((3000 * SLOW)):1"
K=2126100000
for i in $(seq -w 1 20); do
  seed "$(rid "$K$i" DATA_1GB "k$i")" "$K$i" DATA_1GB provisioning 500 "" $PROVFIELDS
done
flush_seed
worker killed --consumer crash-A --timeout-ms $((6000 * SLOW)) --claim-idle-ms $((12000 * SLOW))
KILLED_PID=$WORKER_PID
calls_of() { jq -s "[.[] | select(.key | startswith(\"$1\"))] | length" "$REC"; }
calls_at_least() { [ "$(calls_of "$1")" -ge "$2" ]; } # prefix count
wait_for $((20 * SLOW)) calls_at_least "$K" 20 || fail "the calls did not all reach the provider"
kill -9 "$KILLED_PID"
wait "$KILLED_PID" 2>/dev/null || true
assert_eq 0 "$(for i in $(seq -w 1 20); do state_of "$(rid "$K$i" DATA_1GB "k$i")"; done | grep -c fulfilled || true)" \
  "killed before any answer: nothing marked yet"
assert_eq 20 "$(rcli xpending "$STREAM" fulfil | head -1)" "the 20 entries stay pending for the dead consumer"
# claim_idle > 2 x timeout, as the configuration demands
worker claimer --consumer crash-B --timeout-ms $((1000 * SLOW)) --claim-idle-ms $((2500 * SLOW)) \
  --until-idle --max-s $((60 * SLOW))
wait_worker "$WORKER_PID"
assert_eq 0 "$WRC" "the other consumer drains them"
bad=0
for i in $(seq -w 1 20); do
  r=$(rid "$K$i" DATA_1GB "k$i")
  [ "$(grants_of "$r")" = 1 ] || { bad=1; fail "$r granted $(grants_of "$r") times"; }
  [ "$(state_of "$r")" = fulfilled ] || { bad=1; fail "$r is $(state_of "$r")"; }
  [ "$(rcli hget "t:rec:$r" marks)" = 1 ] || { bad=1; fail "$r marked $(rcli hget "t:rec:$r" marks) times"; }
  [ "$(sms_to "$K$i" "Your gift DATA_1GB has been delivered")" = 1 ] || { bad=1; fail "SMS to $K$i"; }
done
assert_eq 0 "$bad" "after the crash: each redemption granted exactly once, fulfilled, one SMS"
assert_eq 20 "$(jq .claimed "$T/claimer.stats.json")" "the entries came by XAUTOCLAIM"
assert_eq 20 "$(jq .granted "$T/claimer.stats.json")" "the new consumer marked all 20 fulfilled"
assert_eq 20 "$(jq -s "[.[] | select((.key | startswith(\"$K\")) and .status == 409)] | length" "$REC")" \
  "the provider answered the replayed calls 409 (already granted by the killed worker's calls)"

# ---------------------------------------------------------------- 4. killed, same consumer back
note "4. a worker SIGKILLed mid-call restarts under the same name: its own pending entries resume"
L=2126200000
for i in $(seq -w 1 10); do
  seed "$(rid "$L$i" DATA_1GB "l$i")" "$L$i" DATA_1GB provisioning 500 "" $PROVFIELDS
done
flush_seed
worker same1 --consumer crash-C --timeout-ms $((6000 * SLOW)) --claim-idle-ms 600000
PID1=$WORKER_PID
wait_for $((20 * SLOW)) calls_at_least "$L" 10 || fail "the calls did not all reach the provider"
kill -9 "$PID1"
wait "$PID1" 2>/dev/null || true
worker same2 --consumer crash-C --timeout-ms $((6000 * SLOW)) --claim-idle-ms 600000 \
  --until-idle --max-s $((60 * SLOW))
wait_worker "$WORKER_PID"
assert_eq 0 "$WRC" "the restarted consumer drains its own pending entries"
bad=0
for i in $(seq -w 1 10); do
  r=$(rid "$L$i" DATA_1GB "l$i")
  [ "$(grants_of "$r")" = 1 ] || { bad=1; fail "$r granted $(grants_of "$r") times"; }
  [ "$(state_of "$r")" = fulfilled ] || { bad=1; fail "$r is $(state_of "$r")"; }
  [ "$(rcli hget "t:rec:$r" marks)" = 1 ] || { bad=1; fail "$r marked $(rcli hget "t:rec:$r" marks) times"; }
done
assert_eq 0 "$bad" "each redemption granted exactly once and fulfilled"
assert_eq 0 "$(jq .claimed "$T/same2.stats.json")" "resumed from its own pending list, not by a claim"
assert_eq 10 "$(jq .read "$T/same2.stats.json")" "the 10 pending entries read back"
assert_eq 0 "$(rcli xpending "$STREAM" fulfil | head -1)" "nothing left pending in the group"
# ---------------------------------------------------------------- 5. inside loyaltygw
note "5. loyaltygw runs the worker (provisioning.enabled) bound to the redemption store"
start_sim sim
write_config "$SIM_PORT"
jq --arg src "$LGW_SRC" --arg url "$URL" --arg tok "$TOKEN" '
  .loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
                    {name: "silver", min_points: 1000, multiplier_pct: 110},
                    {name: "gold", min_points: 5000, multiplier_pct: 125}]
  | .catalog = {file: ($src + "/deploy/catalog.json"), giftdays_file: ($src + "/deploy/giftdays.json")}
  | .provisioning = {enabled: true, insecure_test_mode: true, base_url: $url, token: $tok,
                     timeout_ms: 1000,
                     claim_idle_ms: 5000, retry_min_ms: 100, consumer: "gw-1"}' \
  "$T/gw.json" >"$T/gw.json.tmp" && mv "$T/gw.json.tmp" "$T/gw.json"
# issue 11: outside the explicit test mode, loyaltygw refuses at start a token that would cross
# the network in clear and the shipped placeholder token, naming the key
refused_start() { # jq-filter expected-text message
  jq "$1" "$T/gw.json" >"$T/gw-bad.json"
  rc=0; timeout 30 "$LGW_BIN/gateway/loyaltygw" --config "$T/gw-bad.json" >/dev/null 2>"$T/gw-bad.log" || rc=$?
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q "$2" "$T/gw-bad.log" && echo "ok - $3" ||
    fail "$3: rc $rc, $(tail -c 400 "$T/gw-bad.log")"
}
refused_start '.provisioning.insecure_test_mode = false' 'provisioning.base_url: https:// required'   "plain http:// to the provider refused at start (loopback too, outside test mode)"
refused_start '.provisioning.base_url = "http://prov.carrier.example" | .provisioning.token = "k7Jq2vN9"'   'provisioning.base_url: https:// required' "plain http:// to a remote provider refused even in test mode"
refused_start '.provisioning.insecure_test_mode = false | .provisioning.base_url = "https://127.0.0.1:1" | .provisioning.token = "change-me"'   'provisioning.token: "change-me" is the shipped placeholder' "the shipped placeholder token refused at start"
G=2126300000
# an entry whose redemption the store does not know: called once, acknowledged without effect
seed "$(rid "${G}01" DATA_1GB g01)" "${G}01" DATA_1GB provisioning 500 "" $PROVFIELDS
flush_seed
start_gw
wait_for $((20 * SLOW)) calls_at_least "${G}01" 1 || fail "loyaltygw did not call the provisioning API"
pending_zero() { [ "$(rcli xpending "$STREAM" fulfil | head -1)" = 0 ]; }
wait_for $((20 * SLOW)) pending_zero || fail "loyaltygw did not acknowledge the entry"
assert_eq 1 "$(grants_of "$(rid "${G}01" DATA_1GB g01)")" "loyaltygw: the grant was made once"
wait_for 5 test -s "$T/gw-stats.json"
sleep 1.2 # one metrics interval
assert_eq 1 "$(gw_stat .fulfil.unknown)" "loyaltygw: the store (cat_redeem) reported no such paid redemption"
assert_eq 1 "$(gw_stat .fulfil.acked)" "loyaltygw: the entry is acknowledged"
stop_gw

if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  grep -lE "==[0-9]+==" "$T"/mix.log "$T"/claimer.log "$T"/same2.log "$T"/http.log 2>/dev/null &&
    fail "valgrind reported errors (see the logs above)"
fi
stop_prov
finish

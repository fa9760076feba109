#!/usr/bin/env bash
# 1,000 concurrent USSD dialogues (smsc-sim --ussd-load, up to 1,000 open at a time, one MSISDN
# each) against one gateway and a real redis-server: every subscriber, preloaded with a distinct
# balance, must read exactly their own balance after a detour through help and back, and no
# session may stay behind. Checks correctness only; speed lives in tests/bench.
# Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

N=1000
BASE=212690000000
start_redis
pick_port
# generous deadlines: under valgrind the gateway is ~20x slower, and a Redis deadline that
# passes is (rightly) answered with the 'unavailable' last screen
ussd_config '.smpp.window = 100 | .redis.request_timeout_ms = 10000'

# balances 10000 + i, tiers alternating, one expiring lot each
for ((i = 0; i < N; i++)); do
  tier=standard; [ $((i % 2)) -eq 0 ] || tier=gold
  printf 'HSET lg:{%s}:w bal %d life %d tier %s l:%s %d\n' $((BASE + i)) $((10000 + i)) $((10000 + i)) \
    "$tier" "$LOT_DAY" $((i + 1))
done | rcli >/dev/null
assert_eq $N "$(rcli dbsize)" "$N wallets preloaded"

start_sim load --listen "127.0.0.1:$SMSC_PORT" --ussd-load $N --ussd-concurrency $N \
  --ussd-msisdn-base $BASE --ussd-inputs '5,0,1' --record "$T/load.rec" --timeout-s 120
start_gw
wait_sim load 150

assert_eq $N "$(sim_json load .ussd_load.dialogues)" "$N dialogues played"
assert_eq $N "$(sim_json load .ussd_load.ok)" "all $N dialogues ended by the gateway's last screen"
assert_eq 0 "$(sim_json load .ussd_load.stray_submits)" "no screen went to a dialogue it did not belong to"
assert_eq $((4 * N)) "$(sim_json load .ussd_load.hops)" "4 hops per dialogue (dial, help, back, points)"
note "at most $(sim_json load .ussd_load.open_max) dialogues were open at once"
assert_eq $N "$(wc -l <"$T/load.rec")" "one record line per dialogue"

# every subscriber read their own balance, tier and expiring points on the last screen
wrong=$(jq -r --argjson base $BASE --arg exp "$EXPIRY_TEXT" '
  (.msisdn | tonumber - $base) as $i
  | ("Solde : \(10000 + $i) points\n\($i + 1) points expirent le \($exp)\nNiveau : "
     + (if $i % 2 == 0 then "standard" else "gold" end)) as $want
  | select((.screens | length) != 4 or .screens[3] != $want or .ended != "pssr") | .msisdn' "$T/load.rec" |
  wc -l)
assert_eq 0 "$wrong" "every subscriber saw exactly their own balance, tier and expiring points"
first=$(jq -r 'select(.screens[0] != .screens[2]) | .msisdn' "$T/load.rec" | wc -l)
assert_eq 0 "$first" "'0' from help led back to the same main menu in every dialogue"

sleep 0.5
assert_eq 0 "$(rcli --scan --pattern 'ussd:*' | wc -l)" "no session left in Redis"
sleep 1
assert_eq $N "$(gw_stat .ussd.opened)" "gateway opened $N dialogues"
assert_eq 0 "$(gw_stat .ussd.cas_lost)" "no lost update among distinct subscribers"
assert_eq 0 "$(gw_stat .ussd.store_failed)" "no step failed on Redis"
stop_gw
finish

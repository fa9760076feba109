#!/usr/bin/env bash
# SIMSWAP, our extension of the event contract (docs/loyalty-and-events.md): over a real SMPP
# session into loyaltygw with a real Redis, a SIM swap notice is acknowledged, earns nothing,
# freezes the subscriber's outgoing transfers, and a redelivery of the same ref changes nothing;
# a malformed one is refused ESME_RX_P_APPN and dead-lettered like any bad event. Then a transfer
# from the frozen subscriber is refused "frozen" by the transfer driver (tests/it/it_transfer.c),
# and a transfer whose process was killed -9 after the debit is credited once by loyaltygw's sweeper.
source "$(dirname "$0")/lib.sh"

NOW=$(date +%s)
AT=$(date -u -d "@$((NOW - 120))" +%FT%TZ)
M=212612340001
cat >"$T/day.events" <<EOF
TOPUP ref=SW-T1 msisdn=$M amount=500 currency=MAD at=$AT
SIMSWAP ref=SW-1 msisdn=$M at=$AT
SIMSWAP ref=SW-1 msisdn=$M at=$AT
SIMSWAP ref=SW-2 msisdn=33612345678 at=$AT
SIMSWAP msisdn=$M at=$AT
EOF

start_redis
start_sim sim --events "$T/day.events" --window 1 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
start_gw
wait_sim sim 60

assert_eq 3 "$(sim_json sim '.final.ESME_ROK')" "the top-up and both SIMSWAP deliveries acknowledged"
assert_eq 2 "$(sim_json sim '.final.ESME_RX_P_APPN')" "a foreign MSISDN and a missing ref refused"
assert_eq 50 "$(balance $M)" "the SIM swap earned nothing (the top-up's 50 points only)"
frz=$(rcli hget "lg:{$M}:x" frz)
if [ -n "$frz" ] && [ "$frz" -ge $((NOW + 72 * 3600 - 5)) ] && [ "$frz" -le $(($(date +%s) + 72 * 3600)) ]; then
  echo "ok - outgoing transfers frozen for 72 h from the notice"
else
  fail "frozen until '$frz', expected about $((NOW + 72 * 3600))"
fi
assert_eq 1 "$(rcli hkeys "lg:{$M}:x" | grep -c '^s:')" "the redelivered ref recorded once"
case "$(rcli xrange lg:dlq:event - + | tr '\n' ' ')" in
  *"ref: missing (required for SIMSWAP)"*) echo "ok - the dead letter names the missing ref" ;;
  *) fail "no dead letter for the SIMSWAP without ref" ;;
esac
hist=$(rcli lrange "lg:{$M}:h" 0 -1 | grep -c SW-1 || true)
assert_eq 0 "$hist" "no history entry: a notice is not a ledger event"

rcli hset "lg:{212612340002}:w" bal 0 >/dev/null
LGW_REDIS_SOCK=$REDIS_SOCK "$LGW_BIN/tests/it_transfer" pin $M 2580 >/dev/null 2>>"$T/driver.log"
out=$(LGW_REDIS_SOCK=$REDIS_SOCK "$LGW_BIN/tests/it_transfer" send $M 212612340002 20 2580 x1 2>>"$T/driver.log")
case "$out" in outcome=frozen*) echo "ok - a transfer after the swap is refused: frozen" ;;
  *) fail "transfer after the swap: $out" ;; esac
assert_eq 50 "$(balance $M)" "nothing left the frozen wallet"

sleep 1.2 # one metrics interval
assert_eq 2 "$(gw_stat .ingest.simswaps)" "the gateway counted both deliveries of the notice"

# The daemon's own sweeper: a transfer whose process was killed -9 between the two wallets is
# credited by a running loyaltygw exactly once (config transfers.*: a fast pass for the test).
B=212612340003; C=212612340004
rcli hset "lg:{$B}:w" bal 1000 life 1000 "l:$(date -u +%Y%m%d)" 1000 >/dev/null
rcli hset "lg:{$C}:w" bal 0 >/dev/null
stop_gw
LGW_REDIS_SOCK=$REDIS_SOCK "$LGW_BIN/tests/it_transfer" pin $B 2580 >/dev/null 2>>"$T/driver.log"
rc=0
LGW_REDIS_SOCK=$REDIS_SOCK "$LGW_BIN/tests/it_transfer" send $B $C 200 2580 kill1 die >/dev/null \
  2>>"$T/driver.log" || rc=$?
assert_eq 137 "$rc" "the transfer's process was killed -9 after the debit"
assert_eq "800 0" "$(balance $B) $(balance $C)" "the sender is debited, the recipient not yet"
start_sim sim2 --timeout-s 60
write_config "$SIM_PORT" '.transfers = {pending_timeout_s: 1, sweep_interval_ms: 100, sweep_slots: 16384}'
start_gw
if wait_for 20 sh -c "[ \"\$(redis-cli -s '$REDIS_SOCK' hget 'lg:{$C}:w' bal)\" = 200 ]"; then
  echo "ok - loyaltygw's sweeper credited the killed transfer"
else
  fail "the killed transfer was not credited: $(balance $C)"
fi
sleep 1 # more sweeper passes: nothing more
assert_eq "800 200" "$(balance $B) $(balance $C)" "credited exactly once"
pending=0
for k in $(rcli --scan --pattern 'lg:xq:*'); do pending=$((pending + $(rcli zcard "$k"))); done
assert_eq 0 "$pending" "no transfer left pending"
stop_gw
if grep -q "$M" "$T/gw.log"; then fail "a full MSISDN appears in the log"; else echo "ok - logs mask MSISDNs"; fi
finish

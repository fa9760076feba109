#!/usr/bin/env bash
# SIMSWAP, our extension of the event contract (docs/loyalty-and-events.md): over a real SMPP
# session into loyaltygw with a real Redis, a SIM swap notice is acknowledged, earns nothing,
# freezes the subscriber's outgoing transfers, and a redelivery of the same ref changes nothing;
# a malformed one is refused ESME_RX_P_APPN and dead-lettered like any bad event. Then a transfer
# from the frozen subscriber is refused "frozen" by the transfer driver (tests/it/it_transfer.c).
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
stop_gw
if grep -q "$M" "$T/gw.log"; then fail "a full MSISDN appears in the log"; else echo "ok - logs mask MSISDNs"; fi
finish

#!/usr/bin/env bash
# A sample day over a real SMPP session and a real Redis: every event is answered with the right
# status, points are exactly what the loyalty table says (remainders carried, duplicate absorbed,
# reversal taken back exactly), malformed events are dead-lettered, and the gateway stops cleanly.
source "$(dirname "$0")/lib.sh"

DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"

start_redis
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
start_gw
wait_sim sim 60

assert_eq 25 "$(sim_json sim .events)" "the simulator sent the whole day"
assert_eq 21 "$(sim_json sim '.final.ESME_ROK')" "21 events acknowledged ESME_ROK (one is a duplicate)"
assert_eq 4 "$(sim_json sim '.final.ESME_RX_P_APPN')" "4 malformed events answered ESME_RX_P_APPN"
assert_eq 0 "$(sim_json sim '.gave_up')" "no event left without a final answer"

# 50 MAD -> 5; 5 + 5 MAD -> 1 (remainder carried); 100 -> 10; 20 -> 2. The redelivered ref adds nothing.
assert_eq 18 "$(balance 212612345678)" "212612345678: 18 points, remainders carried, duplicate absorbed"
assert_eq 6 "$(balance 212661000001)" "212661000001: 6 points"
assert_eq 95 "$(balance 212700111222)" "212700111222: 95 points"
# BILL 349.90/20 = 17.495 -> 17 (0.495 kept); USAGE 412.5/50 = 8.25 + 0.495 -> 8
assert_eq 25 "$(balance 212661000002)" "212661000002: BILL + USAGE with the remainder carried"
# 1 + 4, then the 40 MAD card top-up is reversed: exactly 4 back; the unknown reversal does nothing
assert_eq 1 "$(balance 212655443322)" "212655443322: reversal took back exactly what the top-up earned"
assert_eq 12 "$(balance 212661000003)" "212661000003: 2 + 10 points"
assert_eq "" "$(balance 212600000000)" "no wallet for a subscriber who never recharged"

assert_eq 4 "$(rcli xlen lg:dlq:event)" "the 4 malformed events are kept as dead letters (events stream)"
reasons=$(rcli xrange lg:dlq:event - + | tr '\n' ' ')
case "$reasons" in *amount*) echo "ok - dead letter names the amount problem" ;; *) fail "dead letters: $reasons" ;; esac
case "$reasons" in *12.3456*) echo "ok - dead letter keeps the raw text" ;; *) fail "raw text missing: $reasons" ;; esac

# the history is the wallet's packed field E (its records name the ref by 6 bytes of its SHA-1),
# the rule text in the dictionary lg:rules: loyaltyctl show decodes both (gateway/gw_hist.h)
DIG=$(printf %s "OCS-$DAY-0000001" | sha1sum | cut -c1-12)
hist=$("$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" show 212612345678 | tr '\n' ' ')
case "$hist" in *"|TOPUP|#$DIG|"*) echo "ok - history records the credit" ;; *) fail "history: $hist" ;; esac
case "$hist" in *1pt/10*|*"1/10"*|*per\ 10*) echo "ok - history names the rule" ;; *) fail "no rule in history: $hist" ;; esac
assert_eq 0 "$(rcli exists "lg:{212612345678}:h")" "no history list any more (field E of the wallet)"

sleep 1.2 # one metrics interval
assert_eq 25 "$(gw_stat .ingest.events_in)" "gateway counted 25 events"
assert_eq 1 "$(gw_stat .ingest.duplicates)" "gateway counted 1 duplicate"
assert_eq 4 "$(gw_stat .ingest.rejected)" "gateway counted 4 rejected"
assert_eq 1 "$(gw_stat .ingest.reversed)" "gateway counted 1 reversal"
assert_eq 1 "$(gw_stat .ingest.reversal_noop)" "gateway counted 1 reversal without effect"
stop_gw
grep -q '…5678' "$T/gw.log" && echo "ok - logs mask MSISDNs" || fail "no masked MSISDN in the log"
if grep -q '212612345678' "$T/gw.log"; then fail "a full MSISDN appears in the log"; else echo "ok - no full MSISDN in the log"; fi
finish

#!/usr/bin/env bash
# Continuation across two gateway processes bound to the same SMSC: the simulator's
# `--route alternate` sends each deliver_sm of a dialogue to the other bind, so the dial is
# handled by one process and every answer by the process that did NOT send the previous screen.
# The dialogue must still be exact, because the session lives in Redis (record + version), not in
# a process. Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
ussd_config
wallet 212622000001 777 en

mkfifo "$T/phone.fifo"
"$SIM" --listen "127.0.0.1:$SMSC_PORT" --route alternate --phone 212622000001 \
  --record "$T/two.rec" --summary "$T/two.json" --timeout-s 60 \
  <"$T/phone.fifo" >"$T/two.out" 2>"$T/two.log" &
PIDS+=("$!")
SIM_PID=$!
exec 7>"$T/phone.fifo"
start_gw
start_gw2
two_binds() { [ "$(grep -c -- '-> BOUND_TRX' "$T/two.log")" -ge 2 ]; }
wait_for 20 two_binds || fail "both gateways did not bind"

# dial, help (not final), back to the menu, history (final): four screens, four hops
printf '%s\n' '*555#' 5 0 2 quit >&7
exec 7>&-
wait "$SIM_PID" 2>/dev/null || true

EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
expect_screens two "the dialogue is exact although two processes took turns" \
  "$(menu "$EN_MAIN")" \
  "$(menu $'Earn points with every recharge and bill payment. Spend them on gifts on gift days. Dial *555*1# for your points, *555*2*code# for a gift. This service is free.\n0 Back')" \
  "$(menu "$EN_MAIN")" \
  "$(last $'Last movements:\n'"$H2_DM"$' +20 Bill\n'"$H1_DM"$' +300 Top-up')"

# the bind each screen came on: they must alternate (A, B, A, B)
binds=$(jq -s -c '[.[] | select(.service_type == "USSD") | .session]' "$T/two.rec")
assert_eq 2 "$(jq -c 'unique | length' <<<"$binds")" "screens came from both gateway processes ($binds)"
assert_eq true "$(jq -c '[range(1; length) as $i | .[$i] != .[$i - 1]] | all' <<<"$binds")" \
  "consecutive screens came from different processes"
# each process continued a dialogue another process had stored
grep -q 'ussd(…0001:s[0-9]*){MENU} restored' "$T/gw.log" && grep -q 'ussd(…0001:s[0-9]*){MENU} restored' "$T/gw2.log" &&
  echo "ok - both processes restored the session from Redis" || fail "a process never restored the session"
sleep 0.3
assert_eq "" "$(rcli --scan --pattern 'ussd:*')" "the last screen deleted the stored session"

stop_gw2
stop_gw
finish

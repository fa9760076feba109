#!/usr/bin/env bash
# Two answers of one dialogue racing: the simulator writes two USSR confirms ("5" = help and
# "1" = my points) in ONE TCP write (smsc-sim --inject-hex with two PDUs on one line), so the
# gateway reads the stored session (version 1) for both before either is stored. The store is a
# compare-and-set on the version: exactly one answer moves the dialogue on (help, version 2),
# the other is answered with the current screen (help again) and has no effect - it does not end
# the dialogue with the points screen. Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
ussd_config
wallet 212644000001 999 en

# deliver_sm hex: src, text, ussd_service_op, its_session_info, sequence number (bash + od only:
# CI has Debian packages, not necessarily python)
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
pdu() {
  local t body
  t=$(hex "$2")
  # service_type USSD, src 1/1, dst 0/0 *555#, esm/pid/prio, schedule "", validity "",
  # registered/replace/data_coding/default id, sm_length, text, ussd_service_op, its_session_info
  body="$(hex USSD)000101$(hex "$1")000000$(hex '*555#')00000000000000000000"
  body+="$(printf '%02x' $((${#t} / 2)))$t"
  body+="05010001$(printf '%02x' "$3")13830002$(printf '%04x' "$4")"
  printf '%08x%08x%08x%08x%s\n' $((16 + ${#body} / 2)) 5 0 "$5" "$body"
}
M=212644000001
{
  pdu $M '*555#' 1 $((0x0100)) 1
  # one line, two PDUs: both reach the gateway in the same read
  echo "$(pdu $M 5 18 $((0x0102)) 2)$(pdu $M 1 18 $((0x0104)) 3)"
} >"$T/race.hex"

start_sim race --listen "127.0.0.1:$SMSC_PORT" --inject-hex "$T/race.hex" --record "$T/race.rec" \
  --exit-when-done --linger-ms 1500 --timeout-s 30
start_gw
wait_sim race 40

EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
HELP=$'Earn points with every recharge and bill payment. Spend them on gifts on gift days. Dial *555*1# for your points, *555*2*code# for a gift. This service is free.\n0 Back'
expect_screens race "one answer wins (help), the other gets the current screen (help again)" \
  "$(menu "$EN_MAIN")" "$(menu "$HELP")" "$(menu "$HELP")"
stored=$(rcli get "ussd:$M:s1")
case "$stored" in g=2\;*s=MENU\;n=help\;*) echo "ok - the stored session is the winner's (version 2, help)" ;;
  *) fail "stored session: $stored" ;; esac
sleep 1.2
assert_eq 1 "$(gw_stat .ussd.cas_lost)" "the gateway counted one lost update"
grep -q 'another answer moved the dialogue on (v2): current screen' "$T/gw.log" &&
  echo "ok - the loser is logged" || fail "no log line for the lost update"
stop_gw
finish

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

# deliver_sm hex: src, text, ussd_service_op, its_session_info, sequence number
pdu() {
  python3 - "$@" <<'EOF'
import struct, sys
src, text, op, sinfo, seq = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
body = b"USSD\0" + bytes([1, 1]) + src.encode() + b"\0" + bytes([0, 0]) + b"*555#\0"
body += bytes([0, 0, 0]) + b"\0\0" + bytes([0, 0, 0, 0, len(text)]) + text
body += struct.pack(">HHB", 0x0501, 1, op) + struct.pack(">HHH", 0x1383, 2, sinfo)
print((struct.pack(">IIII", 16 + len(body), 5, 0, seq) + body).hex())
EOF
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

EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help'
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

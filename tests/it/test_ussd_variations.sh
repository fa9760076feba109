#!/usr/bin/env bash
# The vendor variations of shared/spec/ussd.md are config keys, each seen on the wire: how the
# last screen ends the dialogue (ussd.end_method op / bit / both), how the service code is spelled
# in source_addr (ussd.dest_form), what keys a session (ussd.key_mode), and the data_coding sent
# for GSM-7 (ussd.dcs_gsm7). Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
wallet 212666000001 42

# run_with JQ NAME SCRIPT: a gateway with the setting, one scripted handset, the gateway stopped
run_with() {
  ussd_config "$1"
  start_gw
  phone "$2" 212666000001 "$3"
  stop_gw
}
last_of() { jq -s -c '[.[] | select(.service_type == "USSD")] | last |
  {src, op: .ussd_service_op, end: ((.its_session_info // 0) % 2 == 1), dc: .data_coding}' "$T/$1.rec"; }

run_with '.ussd.end_method = "op"' op '*555*1#'
assert_eq '{"src":"555","op":17,"end":false,"dc":0}' "$(last_of op)" "end_method op: PSSR response, end bit clear"
run_with '.ussd.end_method = "bit"' bit '*555*1#'
assert_eq '{"src":"555","op":2,"end":true,"dc":0}' "$(last_of bit)" "end_method bit: op 2 with the end bit"
run_with '.ussd.end_method = "both" | .ussd.dest_form = "star_hash" | .ussd.dcs_gsm7 = 15' both '*555*1#'
assert_eq '{"src":"*555#","op":17,"end":true,"dc":15}' "$(last_of both)" \
  "end_method both, source_addr *555#, GSM-7 sent with data_coding 15"

# key_mode msisdn: the stored session is keyed by the MSISDN alone (its_session_info ignored)
ussd_config '.ussd.key_mode = "msisdn"'
start_gw
mkfifo "$T/km.fifo"
"$SIM" --listen "127.0.0.1:$SMSC_PORT" --phone 212666000001 --record "$T/km.rec" \
  --summary "$T/km.json" --timeout-s 30 <"$T/km.fifo" >"$T/km.out" 2>"$T/km.log" &
KM_PID=$!
PIDS+=("$KM_PID")
exec 7>"$T/km.fifo"
echo '*555#' >&7
wait_for 10 test -s "$T/km.rec" || fail "no screen"
keyed() { [ -n "$(rcli --scan --pattern 'ussd:*')" ]; }
wait_for 5 keyed || fail "no session stored"
assert_eq "ussd:212666000001" "$(rcli --scan --pattern 'ussd:*')" "key_mode msisdn: session key ussd:<msisdn>"
echo quit >&7
exec 7>&-
wait "$KM_PID" 2>/dev/null || true
stop_gw
finish

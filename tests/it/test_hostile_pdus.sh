#!/usr/bin/env bash
# Hostile and malformed PDUs from the SMSC side: each is answered with the right SMPP status (or
# the link is closed when the stream cannot be resynchronised), counted and kept as a dead letter;
# the gateway never crashes and goes on crediting the good events that follow.
source "$(dirname "$0")/lib.sh"

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
pdu() { # command_id(hex8) seq body-hex  -> one PDU in hex
  local body=$3
  printf '%08x%s%08x%08x%s\n' $((16 + ${#body} / 2)) "$1" 0 "$2" "$body"
}
# deliver_sm from LOYALTY with text and extra TLV hex
deliver() { # seq text tlv-hex
  local t; t=$(hex "$2")
  # service_type "", source LOYALTY (ton 0 npi 0), destination 212612345678 (1/1), then esm_class,
  # protocol_id, priority, schedule "", validity "", registered, replace, data_coding, default id
  pdu 00000005 "$1" "000000$(hex LOYALTY)000101$(hex 212612345678)00000000000000000000$(printf '%02x' $((${#t} / 2)))$t$3"
}
many_tlvs=""; for _ in $(seq 30); do many_tlvs+="020400020001"; done
NOW=$(date -u +%FT%TZ) # events are dated now: only what the case names is wrong with them
big_tlv="0424$(printf '%04x' 600)$(printf '41%.0s' $(seq 600))"

{
  pdu 00000099 1 ""                                               # 1 unknown command
  deliver 2 "TOPUP ref=H-1" "$many_tlvs"                          # 2 30 TLVs (libsmpp34 overflow)
  deliver 3 "TOPUP ref=H-2" "05010005"                            # 3 TLV header, length past the end
  deliver 4 "TOPUP ref=H-3" "138300050102030405"                  # 4 its_session_info of 5 octets
  deliver 5 "TOPUP ref=H-4" "$big_tlv"                            # 5 600-octet TLV (dumpPdu abort)
  pdu 00000015 6 "00ff"                                           # 6 enquire_link with a body
  deliver 7 "TOPUP ref=H-5 msisdn=212612345678 amount=1e3 currency=MAD at=$NOW" ""  # 7 bad event (amount)
  printf '%08x%08x%08x%08x\n' 100000 5 0 8                        # 8 command_length 100000: close
} >"$T/hostile.hex"

cat >"$T/good.events" <<EOT
TOPUP ref=G-1 msisdn=212612345678 amount=50.00 currency=MAD at=$NOW
TOPUP ref=G-2 msisdn=212612345678 amount=30.00 currency=MAD at=$NOW
TOPUP ref=G-3 msisdn=212600000001 amount=10.00 currency=MAD at=$NOW
EOT

start_redis
start_sim sim --inject-hex "$T/hostile.hex" --events "$T/good.events" --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
start_gw
wait_sim sim 60

inj() { sim_json sim ".inject[] | select(.line == $1) | $2"; }
assert_eq generic_nack "$(inj 1 .response_cmd)" "unknown command answered with generic_nack"
assert_eq ESME_RINVCMDID "$(inj 1 .status)" "... status ESME_RINVCMDID"
for l in 2 3 4 5; do
  assert_eq deliver_sm_resp "$(inj $l .response_cmd)" "hostile deliver_sm #$l answered with deliver_sm_resp"
  st=$(inj $l .status)
  if [ "$st" != ESME_ROK ] && [ -n "$st" ] && [ "$st" != null ]; then echo "ok - ... with an error status ($st)"; else fail "hostile #$l status: $st"; fi
done
assert_eq ESME_RX_P_APPN "$(inj 7 .status)" "malformed event text answered ESME_RX_P_APPN"
assert_eq true "$(inj 8 .closed)" "an impossible command_length closes the link"
assert_eq 3 "$(sim_json sim '.final.ESME_ROK')" "the good events after the attack are all acknowledged"
assert_eq 8 "$(balance 212612345678)" "and credited exactly (5 + 3 points)"
assert_eq 1 "$(balance 212600000001)" "second subscriber credited"
assert_ge 2 "$(sim_json sim .binds)" "the gateway bound again after the close"
sleep 1.2
assert_ge 5 "$(gw_stat .ingest.pdu_rejected)" "refused PDUs are counted"
assert_eq 2 "$(rcli xlen lg:dlq:event)" "the 2 bad events (#5's text, #7) are kept as dead letters (events stream)"
assert_ge 4 "$(rcli xlen lg:dlq:pdu)" "refused PDUs are kept as dead letters (PDU stream)"
kill -0 "$GW_PID" && echo "ok - gateway still running" || fail "gateway died"
stop_gw
finish

#!/usr/bin/env bash
# Dead letters in two streams (issue 11): a flood of garbage PDUs from the SMSC side fills and
# trims lg:dlq:pdu but never pushes a refused event out of lg:dlq:event; `loyaltyctl dlq` and the
# console's GET /api/deadletters show both, each with its stream. Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
CTL="$LGW_BIN/gateway/loyaltyctl"
FLOOD=300 # > 100 (stream-node-max-entries): the approximate trim really drops entries

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
pdu() { # command_id(hex8) seq body-hex  -> one PDU in hex
  local body=$3
  printf '%08x%s%08x%08x%s\n' $((16 + ${#body} / 2)) "$1" 0 "$2" "$body"
}
deliver() { # seq text: a deliver_sm from LOYALTY to 212612345678
  local t; t=$(hex "$2")
  pdu 00000005 "$1" "000000$(hex LOYALTY)000101$(hex 212612345678)00000000000000000000$(printf '%02x' $((${#t} / 2)))$t"
}
NOW=$(date -u +%FT%TZ)
{
  deliver 1 "TOPUP ref=D-1 msisdn=212612345678 amount=1e3 currency=MAD at=$NOW" # bad amount
  for i in $(seq $FLOOD); do pdu 00000099 $((i + 1)) ""; done # unknown commands: refused PDUs
} >"$T/flood.hex"

start_redis
start_sim sim --inject-hex "$T/flood.hex" --exit-when-done --timeout-s 120
write_config "$SIM_PORT" '.ledger.dlq_maxlen = 20'
start_gw
wait_sim sim 120
sleep 1.2
assert_eq ESME_RX_P_APPN "$(sim_json sim '.inject[] | select(.line == 1) | .status')" "the bad event is refused"
assert_ge $FLOOD "$(gw_stat .ingest.pdu_rejected)" "the $FLOOD garbage PDUs are refused and counted"
stop_gw

assert_eq 1 "$(rcli xlen lg:dlq:event)" "the refused event is still there after the flood"
raw=$(rcli --raw xrange lg:dlq:event - + | tr '\n' ' ')
case "$raw" in *"ref=D-1"*) echo "ok - ... with its raw text" ;; *) fail "event dead letter: $raw" ;; esac
n=$(rcli xlen lg:dlq:pdu)
{ [ "$n" -ge 20 ] && [ "$n" -lt $FLOOD ]; } && echo "ok - the PDU stream is capped on its own ($n of $FLOOD kept)" ||
  fail "PDU stream length $n"
assert_eq 0 "$(rcli exists lg:dlq)" "no single mixed stream any more"

# loyaltyctl dlq: both streams, merged, each entry saying its stream
"$CTL" --socket "$REDIS_SOCK" dlq 1000 >"$T/dlq.txt"
assert_eq 1 "$(grep -c '^    stream  event$' "$T/dlq.txt")" "loyaltyctl dlq shows the event (stream event)"
assert_eq "$n" "$(grep -c '^    stream  pdu$' "$T/dlq.txt")" "loyaltyctl dlq shows the PDUs (stream pdu)"
ids=$(grep '^- id ' "$T/dlq.txt" | cut -d' ' -f3)
[ "$ids" = "$(sort -t- -k1,1nr -k2,2nr <<<"$ids")" ] && echo "ok - loyaltyctl dlq: newest first across streams" || fail "dlq order"

# the console: both streams, paged without loss
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null
"$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" >"$T/adm.out" 2>>"$T/adm.log" &
PIDS+=("$!")
wait_for 60 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/adm.port")"
wait_for 30 sh -c "curl -s -X POST -H 'Content-Type: application/json' --data-binary '{\"user\":\"ada\",\"password\":\"auditor-secret-33\"}' $URL/api/login | jq -e .token" ||
  fail "no login"
TOK=$(curl -s -X POST -H 'Content-Type: application/json' --data-binary '{"user":"ada","password":"auditor-secret-33"}' "$URL/api/login" | jq -r .token)
seen=0; events=0; before=""; pages=0
while :; do
  curl -s -H "Authorization: Bearer $TOK" "$URL/api/deadletters?count=7${before:+&before=$before}" >"$T/page.json"
  seen=$((seen + $(jq '.items | length' "$T/page.json")))
  events=$((events + $(jq '[.items[] | select(.stream == "event")] | length' "$T/page.json")))
  pages=$((pages + 1))
  before=$(jq -r '.next // empty' "$T/page.json")
  [ -n "$before" ] && [ $pages -lt 1000 ] || break
done
assert_eq $((n + 1)) "$seen" "GET /api/deadletters pages through both streams, each entry once"
assert_eq 1 "$events" "... the refused event among them, marked stream=event"
finish

#!/usr/bin/env bash
# One source of truth at a gateway's start (issue 12 section 1, "every reader reads the same
# version"): the store holds a loyalty table the console saved (version 3: 3 points per 10 MAD of
# top-up) that differs from the gateway's configuration (1 per 10). The SMSC has top-ups waiting
# when the gateway binds: the very first one earns by the stored table, never by the
# configuration's - the gateway takes the stored documents before it opens the SMPP link. Real
# redis-server, the real gateway over SMPP (the simulator). Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"

NOW=$(date -u +%s)
: >"$T/t.events"
for i in 1 2 3 4 5; do
  printf 'TOPUP ref=T12-START-%d msisdn=21261280000%d amount=100.00 currency=MAD at=%s\n' "$i" "$i" \
    "$(date -u -d "@$((NOW - 60 + i))" +%Y-%m-%dT%H:%M:%SZ)" >>"$T/t.events"
done
start_redis
start_sim sim --events "$T/t.events" --exit-when-done --timeout-s 30
write_config "$SIM_PORT"
STORED=$(jq -c '.loyalty | .rates.TOPUP.points = 3' "$T/gw.json")
rcli hset 'cfg:{adm}:loyalty' doc "$STORED" version 3 at "$((NOW * 1000))" by mia >/dev/null
start_gw
wait_sim sim 40
assert_eq 5 "$(sim_json sim '.final.ESME_ROK')" "the five top-ups committed"
for i in 1 2 3 4 5; do
  assert_eq 30 "$(balance "21261280000$i")" "top-up $i earns 30 points by the stored table (10 by the configuration's)"
done
grep -q 'loyalty table from cfg:{adm}:loyalty version 3' "$T/gw.log" || fail "the gateway never said it took version 3"
stop_gw
finish

#!/usr/bin/env bash
# The demo: builds everything, starts a private redis-server (unix socket in a temp dir, AOF on as
# in deploy/redis.conf), the SMSC simulator playing the carrier, and the gateway with the shipped
# configuration; replays a sample day of recharges and shows what happened. Stops everything on
# exit. Nothing outside the temp dir and ./build is touched.
#   deploy/demo.sh [EVENTS_FILE]    (default: deploy/sample-day.events, DAY = yesterday)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
deploy/setup.sh

echo "== building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
B=$SRC/build

T=$(mktemp -d /tmp/lgw-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

events=${1:-$SRC/deploy/sample-day.events}
sed "s/DAY/$(date -u -d yesterday +%F)/g" "$events" >"$T/day.events"

echo "== starting redis-server (unix socket $T/redis.sock, AOF on)"
redis-server "$SRC/deploy/redis.conf" --aclfile '' --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 \
  --dir "$T" --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done

echo "== starting the SMSC simulator with $(grep -cv '^\s*\(#\|$\)' "$T/day.events") events"
"$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/sim.port" --events "$T/day.events" \
  --window 5 --exit-when-done --timeout-s 60 --summary "$T/sim.json" >"$T/sim.out" 2>"$T/sim.log" &
SIM_PID=$!
PIDS+=($SIM_PID)
for _ in $(seq 50); do [ -s "$T/sim.port" ] && break; sleep 0.1; done

cp "$SRC"/deploy/*.json "$T/" # the files loyaltygw.json names: loyalty table, USSD menus, catalogue
cp "$SRC"/deploy/*.csv "$T/" 2>/dev/null || true
jq --argjson port "$(cat "$T/sim.port")" --arg sock "$T/redis.sock" --arg stats "$T/stats.json" \
  --arg journal "$T/journal" '.smpp.port = $port | .redis.unix_socket = $sock | .metrics.stats_file = $stats
   | .metrics.interval_s = 1 | .journal.dir = $journal' "$SRC/deploy/loyaltygw.json" >"$T/loyaltygw.json"

echo "== starting loyaltygw --config loyaltygw.json (log: notable events only)"
"$B/gateway/loyaltygw" --config "$T/loyaltygw.json" 2>"$T/gw.log" &
GW_PID=$!
PIDS+=($GW_PID)
wait $SIM_PID || true
sleep 1.2

echo
echo "== what the carrier's SMSC saw"
cat "$T/sim.out"
echo
echo "== what the gateway did"
jq -r '.ingest | "events received   \(.events_in)\n  credited        \(.credited)\n  duplicates      \(.duplicates)  (acknowledged, no second effect)\n  reversed        \(.reversed)\n  reversal no-op  \(.reversal_noop)\n  rejected        \(.rejected)  (ESME_RX_P_APPN, kept as dead letters)\n  retry later     \(.temp_failed)  (ESME_RX_T_APPN)\npoints credited   \(.points_credited)\npoints reversed   \(.points_reversed)\nsubscribers new   \(.enrolled)"' "$T/stats.json"
CTL=("$B/gateway/loyaltyctl" --socket "$T/redis.sock")
echo
echo "== top subscribers by points"
"${CTL[@]}" top 5
echo
echo "== one subscriber's history: why did 212612345678 get these points?"
"${CTL[@]}" show 212612345678
echo
echo "== dead letters waiting for staff"
"${CTL[@]}" dlq 4
echo
echo "== gateway log (notable events)"
grep -v ' DEBUG ' "$T/gw.log" | tail -n 25
kill -TERM $GW_PID; wait $GW_PID || true

# The USSD menu on a handset (issue 3; deploy/phone.sh is the interactive version): a scripted call
# by the subscriber above, through a second gateway on the same Redis, so the points of the day
# show. Skipped when this gateway build has no USSD configuration.
if [ -n "$("$B/gateway/loyaltygw" --print-config --config "$SRC/deploy/loyaltygw.json" 2>/dev/null |
           jq -r '.ussd.menus_file // empty' 2>/dev/null)" ]; then
  echo
  echo "== dial the USSD menu: 212612345678 dials *555#, then answers 1"
  printf '*555#\n1\n' >"$T/call.txt"
  "$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/phone.port" --phone 212612345678 \
    --script "$T/call.txt" --ussd-code-addr "$(jq -r '.ussd.service_code // "555"' "$T/loyaltygw.json")" \
    --timeout-s 30 --log-level notice 2>"$T/phone.log" &
  PHONE_PID=$!
  PIDS+=($PHONE_PID)
  for _ in $(seq 50); do [ -s "$T/phone.port" ] && break; sleep 0.1; done
  jq --argjson port "$(cat "$T/phone.port")" '.smpp.port = $port | .smpp.reconnect_min_ms = 200
     | .log.level = "notice" | .metrics.stats_file = ""' "$T/loyaltygw.json" >"$T/phone-gw.json"
  "$B/gateway/loyaltygw" --config "$T/phone-gw.json" 2>"$T/phone-gw.log" &
  PHONE_GW_PID=$!
  PIDS+=($PHONE_GW_PID)
  wait $PHONE_PID || echo "(the phone call did not finish: see the gateway log)"
  kill -TERM $PHONE_GW_PID; wait $PHONE_GW_PID || true
  echo "(your turn: deploy/phone.sh)"
fi

#!/usr/bin/env bash
# Reminder broadcast throughput (owned by the broadcast engineer): how fast the runner can go when
# the SMSC does not limit it (smpp.tps 0), i.e. the headroom above a contracted TPS: N opted-in
# subscribers, one gateway, smsc-sim answering at once, a private redis-server; prints the time to
# list the audience (COPY + SSCAN batches) and reminders per second for several max_in_flight
# values (smpp.window = max_in_flight). Per reminder: HMGET wallet + SISMEMBER, claim, submit_sm,
# mark (4 Redis round trips, pipelined across reminders in flight). Not a test: no assertion.
#   tests/bench/broadcast.sh BUILD_DIR [N=20000] [IN_FLIGHT list="8 32 64"]
set -euo pipefail
LGW_BIN=$(cd "${1:?build dir}" && pwd)
N=${2:-20000}
INFS=${3:-"8 32 64"}
export LGW_BIN
source "$(dirname "$0")/../it/lib.sh"
source "$(dirname "$0")/../it/ussd_helpers.sh"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
start_redis
seq 1 "$N" | awk '{ m = 212700000000 + $1; printf "SADD bc:{bc}:optin %.0f\nHSET lg:{%.0f}:w bal 1\n", m, m }' |
  rcli --pipe >/dev/null
pick_port
start_sim sim --listen "127.0.0.1:$SMSC_PORT" --timeout-s 900
for inf in $INFS; do
  ussd_config ".smpp.tps = 0 | .smpp.window = $inf | .log.level = \"notice\" |
    .broadcast = {enabled: true, max_in_flight: $inf, poll_ms: 100, progress_log_s: 0}"
  start_gw
  t0=$(date +%s%N)
  rcli eval "$(cat "$LGW_SRC/gateway/lua/broadcast.lua")" 10 'bc:{bc}:lease' 'bc:{bc}:active' \
    'bc:{bc}:all' 'bc:{bc}:optin' "bc:{bc}:c:b$inf" "bc:{bc}:q:b$inf" "bc:{bc}:snap:b$inf" \
    "bc:{bc}:s:b$inf" "bc:{bc}:d:b$inf" "bc:{bc}:i:b$inf" create '' "b$inf" '{"fr":"Journee cadeaux"}' \
    fr at "$(date +%s)" "$(date +%s%3N)" bench >/dev/null
  wait_for 60 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK hget 'bc:{bc}:c:b$inf' state)\" = sending ]" ||
    { echo "not listed" >&2; exit 1; }
  t1=$(date +%s%N)
  wait_for 600 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK hget 'bc:{bc}:c:b$inf' state)\" = done ]" ||
    { echo "not done" >&2; exit 1; }
  t2=$(date +%s%N)
  sent=$(rcli hget "bc:{bc}:c:b$inf" sent)
  lms=$(( (t1 - t0) / 1000000 )); sms=$(( (t2 - t1) / 1000000 ))
  echo "MEASURE broadcast: max_in_flight $inf: $N listed in ~$lms ms (incl. up to 100 ms poll)," \
    "$sent sent in $sms ms: $(( sent * 1000 / (sms > 0 ? sms : 1) )) reminders/s" \
    "(gateway $(ps -o rss= -p "$GW_PID" | tr -d ' ') KiB RSS)"
  stop_gw
done
echo "redis memory: $(rcli info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r') with $N opt-ins, wallets and ${INFS// /+} campaigns' lists and bitmaps"
finish

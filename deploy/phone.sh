#!/usr/bin/env bash
# deploy/phone.sh - a handset in your terminal, on the demo stack: a private redis-server, the
# SMSC simulator as a phone (smsc-sim --phone) and the gateway with deploy/loyaltygw.json and its
# USSD menus. Type *555# and see the menu, answer 1, as on a phone. Everything stops on exit.
#
#   deploy/phone.sh [MSISDN]                   interactive (default MSISDN 212612345678)
#   deploy/phone.sh [MSISDN] --script FILE     run FILE's lines ('*555#', '1', ...), print screens
#   printf '*555#\n1\n' | deploy/phone.sh      the same from a pipe
#
# Lines: '*...#' dials, anything else answers the open screen, '!abort' aborts, 'quit' or
# Ctrl-D ends. The sample day's recharges (deploy/sample-day.events) are replayed as the phone
# starts, so 212612345678 has points to look at.
#
# Reuse: an existing build/ is rebuilt incrementally (setup.sh and a full configure only when it is
# missing); LGW_REDIS_SOCK=/path/redis.sock uses a redis-server you already run (e.g. one you
# keep between calls) instead of a fresh private one. LGW_KEEP=1 keeps the temp dir and its logs.
# LGW_BUILD=DIR uses another build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
B=${LGW_BUILD:-$SRC/build}  # LGW_BUILD: another build directory

MSISDN=212612345678
SCRIPT=()
while [ $# -gt 0 ]; do
  case $1 in
    --script) SCRIPT=(--script "$2"); shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) MSISDN=$1; shift ;;
  esac
done

if [ -x "$B/smpp/smsc-sim" ] && [ -x "$B/gateway/loyaltygw" ]; then
  cmake --build "$B" -j"$(nproc)" >/dev/null 2>&1 ||
    { echo "the build in $B fails: see cmake --build $B" >&2; exit 1; }
else
  deploy/setup.sh
  echo "== building (build/)"
  cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$B" -j"$(nproc)" >/dev/null
fi

T=$(mktemp -d /tmp/lgw-phone.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${LGW_KEEP:-0}" = 1 ]; then echo "(logs kept in $T)" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SOCK=${LGW_REDIS_SOCK:-}
if [ -n "$SOCK" ] && redis-cli -s "$SOCK" ping >/dev/null 2>&1; then
  echo "== reusing redis-server at $SOCK" >&2
else
  SOCK=$T/redis.sock
  redis-server "$SRC/deploy/redis.conf" --aclfile '' --port 0 --unixsocket "$SOCK" --unixsocketperm 700 \
    --dir "$T" --daemonize no --logfile "$T/redis.log" &
  PIDS+=($!)
  for _ in $(seq 50); do redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# The configuration and the files it names (loyalty table, menus, catalogue), next to each other.
cp "$SRC"/deploy/*.json "$T/"
cp "$SRC"/deploy/*.csv "$T/" 2>/dev/null || true
sed "s/DAY/$(date -u -d yesterday +%F)/g" "$SRC/deploy/sample-day.events" >"$T/day.events"

# Does this gateway build speak USSD? (the ussd.* keys and a menus file)
USSD=yes
if ! "$B/gateway/loyaltygw" --check-config --config "$T/loyaltygw.json" >/dev/null 2>"$T/check.log" ||
   [ -z "$("$B/gateway/loyaltygw" --print-config --config "$T/loyaltygw.json" 2>/dev/null |
           jq -r '.ussd.menus_file // empty' 2>/dev/null)" ]; then
  USSD=no
  echo "!! this gateway build does not handle USSD yet ($(head -c 200 "$T/check.log")):" >&2
  echo "!! the phone starts anyway; a dial will end with 'no screen', SMS still show" >&2
  jq 'del(.ussd, .sms)' "$SRC/deploy/loyaltygw.json" >"$T/loyaltygw.json"
fi

# The phone: the simulator reads the terminal (or the script) and prints the screens; the
# gateway binds to it. --ussd-code-addr: the gateway's ussd.dest_form "code" (555).
CODE=$(jq -r '.ussd.service_code // "555"' "$T/loyaltygw.json")
exec 3<&0
"$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/sim.port" --phone "$MSISDN" \
  --ussd-code-addr "$CODE" --events "$T/day.events" --window 5 --ussd-timeout-ms 10000 \
  --linger-ms 500 --log-level notice "${SCRIPT[@]+"${SCRIPT[@]}"}" <&3 2>"$T/sim.log" &
SIM_PID=$!
PIDS+=($SIM_PID)
for _ in $(seq 50); do [ -s "$T/sim.port" ] && break; sleep 0.1; done
[ -s "$T/sim.port" ] || { echo "the simulator did not start:" >&2; cat "$T/sim.log" >&2; exit 1; }

jq --argjson port "$(cat "$T/sim.port")" --arg sock "$SOCK" \
  '.smpp.port = $port | .smpp.reconnect_min_ms = 200 | .redis.unix_socket = $sock
   | .log.level = "notice"' "$T/loyaltygw.json" >"$T/gw.json"
"$B/gateway/loyaltygw" --config "$T/gw.json" 2>"$T/gw.log" &
PIDS+=($!)

rc=0
wait $SIM_PID || rc=$?
[ "$USSD" = yes ] || echo "(USSD was not available in this gateway build)" >&2
exit $rc

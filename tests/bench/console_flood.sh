#!/usr/bin/env bash
# Benchmark: the staff console's memory under a flood of stalled logins (issue 11). Figures, not a
# test (nothing fails on them). Owner: the staff-console engineer.
#   tests/bench/console_flood.sh ADMIN_BINARY [CONNS] [LENGTH] [SENT]
#   FORGED_TOKEN=1: each flooding request carries a well-formed (unknown) bearer token, the worst
#   case for the pre-auth guard (the body is then bounded by --max-body only)
# Starts ADMIN_BINARY (loyalty-admin, any version: before/after a change) on a private Redis,
# opens CONNS connections (default 48) that each announce a login body of LENGTH bytes (default
# 1 MiB) and send SENT of them (default LENGTH - 1: stalled one byte short), then prints the
# admin's resident memory before and during the flood (VmRSS, VmHWM from /proc), what the server
# answered on those connections, and whether a legitimate login is answered meanwhile.
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
ADM=$(realpath "${1:?usage: console_flood.sh ADMIN_BINARY [CONNS] [LENGTH] [SENT]}")
CONNS=${2:-48}; LENGTH=${3:-1048576}; SENT=${4:-$((LENGTH - 1))}
T=$(mktemp -d /tmp/lgw-bench-flood.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
trap '' PIPE # the server may close a flooding connection while we write to it
rcli() { redis-cli -s "$T/redis.sock" "$@"; }
mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MiB  ", $1, $2 / 1024}' "/proc/$1/status"; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "admin: $ADM; $CONNS connections announcing $LENGTH bytes, sending $SENT${FORGED_TOKEN:+, forged token}"
redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save '' --appendonly no \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
jq -n --arg sock "$T/redis.sock" '{redis: {unix_socket: $sock}, log: {level: "error"},
  loyalty: {timezone: "Africa/Casablanca"}}' >"$T/gw.json"
echo 'bench-password-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
"$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/port" --login-per-min 1000 \
  2>"$T/adm.log" &
APID=$!
PIDS+=("$APID")
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
PORT=$(cat "$T/port")
login() {
  curl -s -m 30 -o /dev/null -w '%{http_code} %{time_total}s' -X POST -H 'Content-Type: application/json' \
    --data-binary '{"user":"mia","password":"bench-password-1"}' "http://127.0.0.1:$PORT/api/login"
}
echo "idle:   $(mem "$APID") login: $(login)"

AUTH=""
[ -z "${FORGED_TOKEN:-}" ] || AUTH="Authorization: Bearer $(printf 'a%.0s' $(seq 64))"$'\r\n'
FDS=()
for _ in $(seq "$CONNS"); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$PORT" || break
  printf 'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %s\r\n\r\n' \
    "$AUTH" "$LENGTH" >&"$fd" 2>/dev/null || true
  { head -c "$SENT" /dev/zero | tr '\0' ' '; } 2>/dev/null >&"$fd" || true
  FDS+=("$fd")
done
sleep 1
echo "flood:  $(mem "$APID") login: $(login)"
declare -A answers=()
for fd in "${FDS[@]}"; do
  s=$(timeout 0.2 head -c 12 <&"$fd" 2>/dev/null | sed -n 's/^HTTP\/1\.1 \([0-9]*\).*/\1/p' || true)
  answers[${s:-none}]=$((${answers[${s:-none}]:-0} + 1))
done
printf 'answers on the flooding connections:'; for k in "${!answers[@]}"; do printf ' %s=%s' "$k" "${answers[$k]}"; done; echo
for fd in "${FDS[@]}"; do exec {fd}>&-; done
sleep 1
echo "after:  $(mem "$APID") login: $(login)"

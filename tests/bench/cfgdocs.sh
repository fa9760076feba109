#!/usr/bin/env bash
# Benchmark: how fast the gateway follows the staff console's documents, and what loyaltyctl's
# API commands cost. Figures, not a test (nothing fails on speed). Owner: the staff-console
# engineer.
#   tests/bench/cfgdocs.sh BUILD_DIR SRC_DIR
# 1. Propagation: a new catalogue version written to cfg:{adm}:catalog -> the gateway's
#    "catalogue from ..." log line, for docs_poll_ms 2000 and 250, with the shipped 6-item
#    catalogue and a 512-item one (CAT_MAX_ITEMS: parse + validate + switch + 512 kill-switch
#    EXISTS per round). 10 versions each.
# 2. Poll load on Redis: commands per second while idle (INFO commandstats over 10 s).
# 3. loyaltyctl adjust, sequential (a process, a TLS-less HTTP request, the Lua and the audit XADD).
# Record what you measure in tests/bench/RESULTS.md with the machine and the command.
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
T=$(mktemp -d /tmp/lgw-bench-cfgdocs.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }
now_ms() { date +%s%3N; }
pct() { sort -n | awk '{a[NR] = $1} END {printf "p50 %d ms, max %d ms (n=%d)", a[int((NR + 1) / 2)], a[NR], NR}'; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
redis-server --port 0 --unixsocket "$T/redis.sock" --dir "$T" --save '' --appendonly no \
  --daemonize no --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done

BIG=$(jq -c '.items[0] as $it | .items = [range(512) as $i | $it | .id = "ITEM_\($i)"]' "$SRC/deploy/catalog.json")
SMALL=$(jq -c . "$SRC/deploy/catalog.json")

run_gw() { # poll_ms
  jq -n --arg sock "$T/redis.sock" --arg cat "$SRC/deploy/catalog.json" \
    --arg gd "$SRC/deploy/giftdays.json" --argjson poll "$1" '{
      smpp: {host: "127.0.0.1", port: 1, reconnect_min_ms: 1000, reconnect_max_ms: 5000},
      redis: {unix_socket: $sock}, log: {level: "notice"},
      loyalty: {timezone: "Africa/Casablanca", tiers: [{name: "standard", min_points: 0,
        multiplier_pct: 100}, {name: "silver", min_points: 1000, multiplier_pct: 110}]},
      catalog: {file: $cat, giftdays_file: $gd, docs_poll_ms: $poll}}' >"$T/gw.json"
  : >"$T/gw.log"
  "$B/gateway/loyaltygw" --config "$T/gw.json" 2>>"$T/gw.log" &
  GW=$!
  PIDS+=($GW)
  for _ in $(seq 100); do grep -q 'loyaltygw .*: SMSC' "$T/gw.log" && break; sleep 0.1; done
}
propagate() { # label doc-json
  local v t0 n=0
  : >"$T/lat"
  for i in $(seq 10); do
    v=$(( $(rcli hget 'cfg:{adm}:catalog' version | grep . || echo 0) + 1 ))
    sleep 0.$((RANDOM % 10)) # not in phase with the poll
    t0=$(now_ms)
    # the text through stdin (-x: a 512-item document is too long for argv), then the version
    # that makes the gateway read it
    jq -c --arg v "bench-$v" '.version = $v' <<<"$2" | rcli -x hset 'cfg:{adm}:catalog' doc >/dev/null
    t0=$(now_ms)
    rcli hset 'cfg:{adm}:catalog' version $v >/dev/null
    while ! grep -q "cfg:{adm}:catalog version $v:" "$T/gw.log"; do
      [ $(( $(now_ms) - t0 )) -lt 30000 ] || { echo "version $v never loaded:" >&2; tail -3 "$T/gw.log" >&2; exit 1; }
      sleep 0.005
    done
    echo $(( $(now_ms) - t0 )) >>"$T/lat"
  done
  echo "  $1: $(pct <"$T/lat")"
}

for poll in 2000 250; do
  run_gw $poll
  echo "1. propagation, docs_poll_ms $poll:"
  propagate "6 items" "$SMALL"
  propagate "512 items" "$BIG"
  if [ $poll = 250 ]; then
    rcli config resetstat >/dev/null
    sleep 10
    echo "2. idle Redis load with 512 items, poll 250 ms: $(rcli info commandstats |
      awk -F'[=:,]' '/^cmdstat_(hget|exists)/ {s += $3} END {printf "%.0f commands/s", s / 10}')"
  fi
  kill $GW; wait $GW 2>/dev/null || true
done

# 3. loyaltyctl adjust, sequential
echo 'bench-password-1' | "$B/admin/loyalty-admin" --config "$T/gw.json" --add-user care1 --role care >/dev/null
"$B/admin/loyalty-admin" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" 2>"$T/adm.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$T/adm.port" ] && break; sleep 0.1; done
export LOYALTYCTL_API="http://127.0.0.1:$(cat "$T/adm.port")" HOME="$T"
sleep 0.5
echo 'bench-password-1' | "$B/gateway/loyaltyctl" login care1 >/dev/null
rcli hset 'lg:{212600000001}:w' bal 1000000 life 1000000 rem 0 tier standard \
  since $(($(date +%s) - 10 * 86400)) "l:$(TZ=Africa/Casablanca date -d '-10 days' +%Y%m%d)" 1000000 >/dev/null
N=200
t0=$(now_ms)
for i in $(seq $N); do
  "$B/gateway/loyaltyctl" adjust 212600000001 1 --reason bench --request-id "b-$i" >/dev/null
done
t=$(( $(now_ms) - t0 ))
echo "3. loyaltyctl adjust x$N sequential: $t ms, $(( t * 1000 / N )) us per command ($(( N * 1000 / t ))/s)"

# tests/it/lib.sh - shared by the integration tests: a private redis-server on a unix socket in a
# temp dir, the SMSC simulator on a free loopback port, the gateway with a generated config, and
# assertions. Everything started here is stopped by the EXIT trap, pass or fail.
#   LGW_BIN  build directory (ctest sets it), LGW_SRC  source directory
#   LGW_VALGRIND=1  run the gateway under valgrind (leaks and errors fail the test)
set -euo pipefail

LGW_BIN="${LGW_BIN:?LGW_BIN (the build directory) is required}"
LGW_SRC="${LGW_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# Every date a test computes is a day of the programme's zone (write_config's loyalty.timezone), as
# the gateway and the console count days: in the host's zone (UTC on CI) "today" is another day for
# the hour around the programme's midnight, and a test that said "tomorrow" meant the wrong one.
# A test that needs UTC says `date -u`. The daemons take their zone from the config
# (gw_config_apply_timezone), so this moves only the dates the tests compute.
export TZ=Africa/Casablanca
T="$(mktemp -d /tmp/lgw-it.XXXXXX)"
PIDS=()
FAILS=0
GW_PID=""

lgw_cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ] || [ $FAILS -ne 0 ]; then
    echo "--- logs kept in $T" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f (tail)" >&2; tail -n 40 "$f" >&2; }; done
  else
    rm -rf "$T"
  fi
}
trap lgw_cleanup EXIT

note() { echo "# $*"; }
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
assert_eq() { # expected actual message
  if [ "$1" == "$2" ]; then echo "ok - $3"; else fail "$3: expected '$1', got '$2'"; fi
}
assert_ge() {
  if [ "$2" -ge "$1" ]; then echo "ok - $3"; else fail "$3: expected >= $1, got $2"; fi
}
finish() {
  # LGW_IT_ACL=1: the whole test ran under the shipped ACL; a command refused on the way (a key
  # pattern or a command the ACL file does not grant) fails it even if the test's own checks
  # did not notice. A test that provokes refusals on purpose resets the log afterwards.
  if [ "${LGW_IT_ACL:-0}" = 1 ] && rcli ping >/dev/null 2>&1; then
    local refused
    refused=$(rcli acl log 128 | grep -c '^reason$' || true)
    [ "$refused" = 0 ] && echo "ok - LGW_IT_ACL: Redis's ACL LOG is empty" ||
      fail "LGW_IT_ACL: $refused refusal(s) in ACL LOG: $(rcli acl log 4 | paste -sd' ' | cut -c1-600)"
  fi
  if [ "${LGW_IT_ACL:-0}" = 1 ]; then # a cluster's masters, each with its own ACL LOG
    local p n
    for p in "${CLUSTER_PORTS[@]+"${CLUSTER_PORTS[@]}"}"; do
      ocli -p "$p" ping >/dev/null 2>&1 || continue
      n=$(ocli -p "$p" acl log 128 | grep -c '^reason$' || true)
      [ "$n" = 0 ] && echo "ok - LGW_IT_ACL: the ACL LOG of the master on $p is empty" ||
        fail "LGW_IT_ACL: $n refusal(s) in the ACL LOG of the master on $p: $(ocli -p "$p" acl log 4 | paste -sd' ' | cut -c1-600)"
    done
  fi
  if [ $FAILS -ne 0 ]; then echo "$FAILS assertion(s) failed" >&2; exit 1; fi
  echo "all assertions passed"
}

wait_for() { # seconds command...
  local t=$(( $1 * 10 )); shift
  while ! "$@" >/dev/null 2>&1; do
    t=$((t - 1)); [ $t -gt 0 ] || return 1
    sleep 0.1
  done
}

# HTTP status of GET $URL$1 (the body in $T/body); wait_http PATH CODE SECONDS waits for it.
http_code() { curl -s -o "$T/body" -w '%{http_code}' "$URL$1"; }
wait_http() {
  local t=$(( $3 * 10 ))
  while [ "$(http_code "$1")" != "$2" ]; do t=$((t - 1)); [ $t -gt 0 ] || return 1; sleep 0.1; done
}

# ------------------------------------------------------------------ redis
REDIS_SOCK="$T/redis.sock"
# LGW_IT_ACL=1 (or redis_acl_on before start_redis): Redis (and a cluster's masters) runs with
# deploy/redis-users.acl.in made by deploy/redis-acl.sh (default user off); rcli and ocli are the
# operator, the gateway loyaltygw (write_config), and acl_as USER runs redis-cli as one of the
# users. Each other process runs as its own user, as deploy/redis-ops.md runs them: ADM_REDIS holds
# loyalty-admin's options (its server, --add-user, --disable-user: start_admin_api, start_admin,
# add_staff pass them), CTL_REDIS loyaltyctl's for its reads and small writes (opt-in, consent,
# audit), CTL_REDIS_OP loyaltyctl's for the commands that write wallets or aggregates, which the
# operator runs (birthday-import, agg-check --repair). All three are empty without the ACL.
# Passwords go by files and REDISCLI_AUTH, never on a command line.
REDIS_ACL=0
REDIS_PASSDIR="$T/pass"
ADM_REDIS=()
CTL_REDIS=()
CTL_REDIS_OP=()
redis_acl_on() {
  REDIS_ACL=1
  "$LGW_SRC/deploy/redis-acl.sh" "$T/users.acl" "$REDIS_PASSDIR" 2>/dev/null
  ADM_REDIS=(--redis-user loyalty-admin --redis-password-file "$REDIS_PASSDIR/redis-loyalty-admin.pass")
  CTL_REDIS=(--user loyaltyctl --password-file "$REDIS_PASSDIR/redis-loyaltyctl.pass")
  CTL_REDIS_OP=(--user operator --password-file "$REDIS_PASSDIR/redis-operator.pass")
}
acl_as() { # user redis-cli-args...
  local u=$1; shift
  REDISCLI_AUTH="$(cat "$REDIS_PASSDIR/redis-$u.pass")" redis-cli --no-auth-warning -s "$REDIS_SOCK" --user "$u" "$@"
}
rcli() {
  if [ "$REDIS_ACL" = 1 ]; then acl_as operator "$@"; else redis-cli -s "$REDIS_SOCK" "$@"; fi
}
ocli() { # redis-cli-args...: redis-cli as the operator when the ACL is on (a cluster's masters)
  if [ "$REDIS_ACL" = 1 ]; then
    REDISCLI_AUTH="$(cat "$REDIS_PASSDIR/redis-operator.pass")" redis-cli --no-auth-warning --user operator "$@"
  else
    redis-cli "$@"
  fi
}
# The packed field L of lots on stdout (binary; store it with `rcli -x hset KEY L <file`):
# lots_pack YYYYMMDD POINTS [YYYYMMDD POINTS ...], days strictly ascending, points > 0. A record
# is u16 big-endian days since 1970 + the LEB128 varint of the points (docs/data-model.md, 1).
lots_pack() {
  local z v o
  while [ $# -ge 2 ]; do
    z=$(($(date -u -d "$1" +%s) / 86400)) v=$2
    o=$(printf '\\%03o' $((z >> 8)) $((z & 255)))
    while [ "$v" -ge 128 ]; do o+=$(printf '\\%03o' $((v & 127 | 128))); v=$((v >> 7)); done
    o+=$(printf '\\%03o' "$v")
    # shellcheck disable=SC2059
    printf "$o"
    shift 2
  done
}
# The points of a wallet's lot: lot_points KEY YYYYMMDD [redis-cli function, rcli by default].
# The lot's record in the packed field L (u16 days since 1970 big-endian + LEB128 varint of the
# points; docs/data-model.md section 1) plus a lot field l:<day> of the release before; 0 for
# none.
lot_points() {
  local key=$1 day=$2 cli=${3:-rcli} old
  old=$("$cli" --raw hget "$key" "l:$day")
  "$cli" --raw hget "$key" L | od -An -v -tu1 |
    awk -v want="$(($(date -u -d "$day" +%s) / 86400))" -v s="${old:-0}" '
      { for (i = 1; i <= NF; i++) b[n++] = $i }
      END { n-- # the newline redis-cli ends with
        for (p = 0; p + 3 <= n;) {
          z = b[p] * 256 + b[p + 1]; v = 0; m = 1; p += 2
          do { c = b[p++]; v += (c % 128) * m; m *= 128 } while (c >= 128 && p < n)
          if (z == want) s += v
        }
        print s }'
}
if [ "${LGW_IT_ACL:-0}" = 1 ]; then # a whole test under the ACL: its C drivers as loyaltygw too
  redis_acl_on
  export LGW_REDIS_USER=loyaltygw
  LGW_REDIS_PASSWORD="$(cat "$REDIS_PASSDIR/redis-loyaltygw.pass")"
  export LGW_REDIS_PASSWORD
fi

start_redis() { # [extra redis-server args...]
  local acl=()
  [ "$REDIS_ACL" = 1 ] && acl=(--aclfile "$T/users.acl")
  redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 700 --dir "$T" \
    --save '' --appendonly no --daemonize no --logfile "$T/redis.log" "${acl[@]+"${acl[@]}"}" "$@" &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for 10 rcli ping || { echo "redis did not start" >&2; exit 1; }
}
stop_redis() {
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
}

# A real 3-master Redis Cluster on loopback TCP (no replicas), each master in $T/cluster-<i>.
# Exports CLUSTER_NODES (JSON array of "127.0.0.1:port", what redis.cluster_nodes takes),
# CLUSTER_PORTS and CLUSTER_PIDS (bash arrays); ccli = redis-cli in cluster mode (follows MOVED).
# node-timeout 1 s and full coverage off: a killed master is detected quickly and the others keep
# serving their own slots (the client's behaviour under a lost master is what the tests look at).
CLUSTER_NODES=""
CLUSTER_PORTS=()
CLUSTER_PIDS=()
ccli() { ocli -c -p "${CLUSTER_PORTS[0]}" "$@"; }
cluster_free_port() { # a port P with P and its bus port P+10000 not listening
  local p q used
  used=" $(ss -Htln 2>/dev/null | awk '{n=split($4,a,":"); printf "%s ", a[n]}') "
  for _ in $(seq 200); do
    p=$((12000 + RANDOM % 10000)) # P and P+10000 below the ephemeral range (32768-...)
    case "$used" in *" $p "*|*" $((p + 10000)) "*) continue ;; esac
    for q in "${CLUSTER_PORTS[@]}"; do # nor another master's port or bus port
      case $p in "$q"|"$((q + 10000))"|"$((q - 10000))") continue 2 ;; esac
    done
    echo "$p"; return 0
  done
  return 1
}
start_cluster_node() { # index port: (re)starts master <index> on port, in its own directory
  local i=$1 p=$2 d="$T/cluster-$1" acl=()
  [ "$REDIS_ACL" = 1 ] && acl=(--aclfile "$T/users.acl")
  mkdir -p "$d"
  redis-server --port "$p" --bind 127.0.0.1 --dir "$d" --cluster-enabled yes \
    --cluster-config-file "$d/nodes.conf" --cluster-node-timeout 1000 \
    --cluster-require-full-coverage no --save '' --appendonly no --daemonize no \
    --logfile "$T/cluster-$i.log" "${acl[@]+"${acl[@]}"}" &
  CLUSTER_PIDS[$i]=$!
  PIDS+=("$!")
  wait_for 10 ocli -p "$p" ping
}
cluster_node_ok() { # port: the node sees the cluster whole and serves its slot map
  ocli -p "$1" cluster info | grep -q 'cluster_state:ok' && [ "$(ocli -p "$1" cluster slots | grep -c .)" -gt 0 ]
}
start_redis_cluster() {
  local i p addrs=() ok
  for i in 0 1 2; do
    ok=0
    for _ in 1 2 3; do # a port taken between the check and the bind: try another
      p=$(cluster_free_port) || break
      CLUSTER_PORTS[$i]=$p
      if start_cluster_node "$i" "$p"; then ok=1; break; fi
      kill "${CLUSTER_PIDS[$i]}" 2>/dev/null || true
    done
    [ $ok = 1 ] || { echo "cluster node $i did not start" >&2; exit 1; }
    addrs+=("127.0.0.1:$p")
  done
  ocli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes \
    >"$T/cluster-create.log" 2>&1 || { echo "cluster create failed" >&2; exit 1; }
  for p in "${CLUSTER_PORTS[@]}"; do
    wait_for 30 cluster_node_ok "$p" ||
      { echo "cluster did not reach cluster_state:ok" >&2; exit 1; }
  done
  CLUSTER_NODES=$(printf '%s\n' "${addrs[@]}" | jq -R . | jq -cs .)
  export CLUSTER_NODES
}

# ------------------------------------------------------------------ simulator
SIM="$LGW_BIN/smpp/smsc-sim"
start_sim() { # name args... ; sets SIM_PORT, SIM_PID_<name>
  local name=$1; shift
  rm -f "$T/$name.port"
  "$SIM" --listen 127.0.0.1:0 --port-file "$T/$name.port" --summary "$T/$name.json" \
    "$@" >"$T/$name.out" 2>"$T/$name.log" &
  local pid=$!
  PIDS+=("$pid")
  eval "SIM_PID_$name=$pid"
  wait_for 10 test -s "$T/$name.port" || { echo "simulator did not start" >&2; exit 1; }
  SIM_PORT=$(cat "$T/$name.port")
}
wait_sim() { # name timeout_s: waits for the simulator to exit by itself
  local name=$1 t=$(( $2 * 10 )) pid
  pid=$(eval echo "\$SIM_PID_$name")
  while kill -0 "$pid" 2>/dev/null; do
    t=$((t - 1)); [ $t -gt 0 ] || { fail "simulator $name still running after $2 s"; kill "$pid"; break; }
    sleep 0.1
  done
  wait "$pid" 2>/dev/null || true
}
sim_json() { jq -r "$2" "$T/$1.json"; } # name jq-filter

# ------------------------------------------------------------------ gateway
write_config() { # port [jq filter applied to the result, e.g. '.ledger.history_len = 5']
  local port=$1 extra=${2:-.}
  # Redis deadlines: short, so fault cases answer T_APPN quickly; under valgrind (20-50x slower,
  # and loyalty-admin runs a yescrypt of seconds in its loop there) a request queued behind such a
  # stretch would miss a 500 ms deadline with nothing wrong, so the valgrind stage allows 5 s.
  local rto=500
  [ "${LGW_VALGRIND:-0}" = 1 ] && rto=5000
  jq -n --arg sock "$REDIS_SOCK" --argjson port "$port" --arg stats "$T/gw-stats.json" \
    --argjson rto "$rto" '{
      smpp: {name: "SIM", host: "127.0.0.1", port: $port, system_id: "loyalty", password: "secret",
             enquire_link_ms: 2000, response_timeout_ms: 2000, reconnect_min_ms: 100,
             reconnect_max_ms: 500, drain_timeout_ms: 2000},
      redis: {unix_socket: $sock, request_timeout_ms: $rto, reconnect_min_ms: 50, reconnect_max_ms: 300},
      events: {senders: ["LOYALTY"], country_prefixes: ["212"], currency: "MAD"},
      ledger: {history_len: 20},
      loyalty: {timezone: "Africa/Casablanca",
                rates: {TOPUP: {points: 1, per: 10}, BILL: {points: 1, per: 20}, USAGE: {points: 1, per: 50}},
                tiers: [{name: "standard", min_points: 0, multiplier_pct: 100},
                        {name: "gold", min_points: 1000, multiplier_pct: 125}]},
      log: {level: "info"},
      metrics: {stats_file: $stats, interval_s: 1}
    } | '"$extra" >"$T/gw.json"
  if [ "$REDIS_ACL" = 1 ]; then # the gateway's own least-privilege user
    jq --arg pf "$REDIS_PASSDIR/redis-loyaltygw.pass" \
      '.redis += {username: "loyaltygw", password_file: $pf}' \
      "$T/gw.json" >"$T/gw.json.tmp" && mv "$T/gw.json.tmp" "$T/gw.json"
  fi
  if [ -n "${CLUSTER_NODES:-}" ]; then # start_redis_cluster ran: the gateway uses the cluster
    jq --argjson cn "$CLUSTER_NODES" '.redis |= (del(.unix_socket) + {cluster_nodes: $cn})' \
      "$T/gw.json" >"$T/gw.json.tmp" && mv "$T/gw.json.tmp" "$T/gw.json"
  fi
}

start_gw() {
  local pre=()
  local GW_STARTS
  if [ "${LGW_VALGRIND:-0}" = 1 ]; then
    pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
         --show-leak-kinds=definite,indirect --log-file="$T/valgrind.log")
  fi
  GW_STARTS=$(gw_starts)
  "${pre[@]+"${pre[@]}"}" "$LGW_BIN/gateway/loyaltygw" --config "$T/gw.json" >"$T/gw.out" 2>>"$T/gw.log" &
  GW_PID=$!
  PIDS+=("$GW_PID")
  # The start-up line is logged once the signal handlers are in place (slow under valgrind):
  # a SIGTERM before that would kill the process instead of draining it.
  wait_for 60 gw_started || fail "the gateway did not start"
}
gw_starts() { grep -c 'NOTICE main .*loyaltygw .*: SMSC' "$T/gw.log" 2>/dev/null || true; }
gw_started() { [ "$(gw_starts)" -gt "${GW_STARTS:-0}" ]; }
# Stops the gateway with SIGTERM and checks that it exits cleanly (0) within 15 s.
stop_gw() {
  kill -TERM "$GW_PID" 2>/dev/null || true
  local t=150
  while kill -0 "$GW_PID" 2>/dev/null; do
    t=$((t - 1)); [ $t -gt 0 ] || { fail "gateway did not exit after SIGTERM"; kill -9 "$GW_PID"; break; }
    sleep 0.1
  done
  local rc=0
  wait "$GW_PID" 2>/dev/null || rc=$?
  assert_eq 0 "$rc" "gateway exits 0 after SIGTERM"
  if [ "${LGW_VALGRIND:-0}" = 1 ] && [ -s "$T/valgrind.log" ]; then
    fail "valgrind reported: $(head -c 2000 "$T/valgrind.log")"
  fi
}
# gw_stat JQ: a counter of the gateway. While it runs, SIGUSR1 makes it write the file at once and
# this waits for that file (written then renamed, so a new inode): the 1 s dump alone can predate
# what the test just did on a busy machine. Once it has stopped, its last file (written on exit).
gw_stat() {
  local f="$T/gw-stats.json" before
  if [ -n "${GW_PID:-}" ] && kill -0 "$GW_PID" 2>/dev/null; then
    before=$(stat -c %i "$f" 2>/dev/null || echo none)
    kill -USR1 "$GW_PID" 2>/dev/null || true
    wait_for 30 gw_stats_renewed "$f" "$before" || true
  fi
  jq -r "$1" "$f"
}
gw_stats_renewed() { [ -f "$1" ] && [ "$(stat -c %i "$1")" != "$2" ]; }

# ------------------------------------------------------------------ loyalty-admin and its API
ADM="$LGW_BIN/admin/loyalty-admin"
# start_admin_api [loyalty-admin args...]: the staff console's server on a free loopback port,
# with $T/gw.json (as the Redis user loyalty-admin under the ACL: ADM_REDIS); sets URL and ADM_PID once it answers from Redis (a well-formed unknown token
# gets 401; 503 before Redis is up).
start_admin_api() {
  rm -f "$T/adm.port"
  "$ADM" --config "$T/gw.json" "${ADM_REDIS[@]+"${ADM_REDIS[@]}"}" --listen 127.0.0.1:0 \
    --port-file "$T/adm.port" "$@" >"$T/adm.out" 2>>"$T/adm.log" &
  ADM_PID=$!
  PIDS+=("$ADM_PID")
  wait_for 30 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
  URL="http://127.0.0.1:$(cat "$T/adm.port")"
  wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(printf 'a%.0s' $(seq 64))' $URL/api/me)\" = 401 ]" ||
    fail "loyalty-admin does not answer"
}
adm_api() { # METHOD PATH TOKEN [BODY]: sets CODE, the body in $T/r.json
  local args=(-s -o "$T/r.json" -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE=$(curl "${args[@]}" "$URL$2")
}
adm_login() { # user password -> token (fails the test unless 200)
  adm_api POST /api/login "" "{\"user\":\"$1\",\"password\":\"$2\"}"
  [ "$CODE" = 200 ] || fail "login $1: $CODE $(cat "$T/r.json")"
  jq -r .token "$T/r.json"
}

# ------------------------------------------------------------------ ledger reads
balance() { rcli hget "lg:{$1}:w" bal; }
# The history of $1, newest first, as `loyaltyctl show` prints it: one raw line
# "at|KIND|ref|points|balance|note" each (the wallet's E with its rule texts from lg:rules and
# its notes N, merged with the history list of the release before; docs/data-model.md 2). And
# hist_no_list M: every movement in the wallet, no history list written (one Redis).
hist_lines() {
  local auth=()
  [ "$REDIS_ACL" = 1 ] && auth=(--user loyaltyctl --password-file "$REDIS_PASSDIR/redis-loyaltyctl.pass")
  "$LGW_BIN/gateway/loyaltyctl" --socket "$REDIS_SOCK" "${auth[@]+"${auth[@]}"}" show "$1" |
    sed -n 's/^  \([0-9][0-9]*|.*\)$/\1/p'
}
hist_no_list() { assert_eq 0 "$(rcli exists "lg:{$1}:h")" "${2:-$1}: no history list (the wallet's E and N)"; }
# The texts of the wallet's notes N matching a fixed string, one a line (any Redis: $1 the client)
notes_grep() { "$1" hget "lg:{$2}:w" N | grep -aoF -- "$3"; }

# sample_day [jq filter for the config]: the shipped sample day (deploy/sample-day.events, dated
# yesterday) replayed over SMPP through a gateway on a fresh simulator; Redis stays up, the
# gateway is stopped again.
sample_day() {
  sed "s/DAY/$(date -u -d yesterday +%F)/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
  start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
  write_config "$SIM_PORT" "${1:-.}"
  start_gw
  wait_sim sim 60
  stop_gw
}

#!/usr/bin/env bash
# Redis Sentinel failover under load (issue 11 §2), real processes on loopback: a primary and a
# replica (redis-server), three sentinels (redis-server --sentinel, what Debian's redis-sentinel
# runs; down-after-milliseconds 1000 so the test is quick), the SMSC simulator and the gateway with
# redis.sentinels / redis.master_name and redis.wait_replicas 1 (a commit is acknowledged only once
# the replica has it, so a failover cannot take back an acknowledged credit).
# A control run of 20,000 generated recharges gives the expected wallets. Then the same stream
# again, and the primary is killed (-9) a third of the way in; the sentinels promote the replica,
# the killed node comes back as the new primary's replica. Every event must end ESME_ROK, none
# given up, the outage answered ESME_RX_T_APPN (or not at all) and redelivered, and every wallet
# equal to the control run: nothing lost, nothing counted twice. Between the two, a READONLY run:
# the primary turns read-only for a moment under load (no sentinel event): the gateway drops its
# link on READONLY, asks the sentinels again, and the wallets equal the control run. Printed, not
# asserted (a figure for tests/bench/RESULTS.md): the time from the kill to the gateway's link to
# the new primary and to its first acknowledged commit there (MEASURE lines). First, a
# misconfigured sentinel that names the replica as a primary is refused by the clients' ROLE
# check: nothing is written to a replica.
#   LGW_FAILOVER_EVENTS  events per run (default 20000)
source "$(dirname "$0")/lib.sh"

N=${LGW_FAILOVER_EVENTS:-20000}; SUBS=$((N / 10)); RATE=2000
if [ "${LGW_VALGRIND:-0}" = 1 ]; then N=3000; SUBS=300; RATE=300; fi
# Under valgrind the machine is saturated (the gateway runs 20-50x slower on one of two cores): a
# 1 s down-after can see a healthy node as down and fail over a second time, so allow 3 s there.
DOWN_AFTER_MS=1000
[ "${LGW_VALGRIND:-0}" = 1 ] && DOWN_AFTER_MS=3000
GEN=(--generate "$N" --subscribers $SUBS --seed 7 --ref-prefix FO --at now)
MASTER=loyalty

USED=" "
free_port() { # var: sets var to a loopback port nobody listens on and this test has not taken
  local _fp _fp_used
  _fp_used=" $(ss -Htln 2>/dev/null | awk '{n=split($4,a,":"); printf "%s ", a[n]}') $USED "
  for _ in $(seq 200); do
    _fp=$((20000 + RANDOM % 30000))
    case "$_fp_used" in *" $_fp "*) continue ;; esac
    USED="$USED$_fp "; printf -v "$1" '%s' "$_fp"; return 0
  done
  return 1
}
S_PORTS=()
# LGW_IT_ACL=1: the data nodes load the shipped ACL (lib.sh), replicate as its user replication
# (masteruser/masterauth), the sentinels reach them as its user sentinel (auth-user/auth-pass), as
# deploy/redis-ops.md and deploy/sentinel.conf set them up; the gateway runs as loyaltygw
# (write_config), loyaltyctl as loyaltyctl, the test's redis-cli to a data node as the operator
# (ocli; plain redis-cli otherwise). The sentinels themselves take no password here.
NODE_CONF="$T/node.conf" # the lines every data node's config file has (passwords stay off argv)
: >"$NODE_CONF"
SENTINEL_AUTH=""
if [ "$REDIS_ACL" = 1 ]; then
  printf 'aclfile %s\nmasteruser replication\nmasterauth %s\n' "$T/users.acl" \
    "$(cat "$REDIS_PASSDIR/redis-replication.pass")" >"$NODE_CONF"
  SENTINEL_AUTH="sentinel auth-user NAME sentinel
sentinel auth-pass NAME $(cat "$REDIS_PASSDIR/redis-sentinel.pass")"
fi
replica_online() { ocli -p "$1" info replication | grep -q 'slave0:.*state=online'; } # port
start_node() { # name port [redis-server args...]: a data node in $T/<name>
  local name=$1 port=$2; shift 2
  mkdir -p "$T/$name"
  # repl-diskless-sync-delay 0: a rejoining replica's full sync starts at once (Redis 7's default
  # waits 5 s for more replicas to share the transfer; deploy/redis-sentinel.md)
  redis-server "$NODE_CONF" --port "$port" --bind 127.0.0.1 --dir "$T/$name" --save '' --appendonly no \
    --repl-diskless-sync-delay 0 --daemonize no --logfile "$T/$name.log" "$@" &
  local pid=$!
  eval "PID_$name=$pid"
  PIDS+=("$pid")
  wait_for 10 ocli -p "$port" ping && return 0
  kill "$pid" 2>/dev/null || true
  return 1
}
start_node_free() { # name var [redis-server args...]: start_node on a free port, set var to it
  local name=$1 var=$2 try; shift 2
  for try in 1 2 3; do # a port taken between the check and the bind: another one
    free_port "$var"
    start_node "$name" "${!var}" "$@" && return 0
  done
  echo "redis $name did not start" >&2; exit 1
}
start_sentinel() { # index: on a free port (another one if it is taken between check and bind)
  local i=$1 p try
  for try in 1 2 3; do
    free_port p
    S_PORTS[$i]=$p
    start_sentinel_on "$i" "$p" && return 0
  done
  echo "sentinel $i did not start" >&2; exit 1
}
start_sentinel_on() { # index port
  local i=$1 p=$2
  mkdir -p "$T/s$i"
  cat >"$T/s$i/sentinel.conf" <<EOF
port $p
bind 127.0.0.1
dir $T/s$i
logfile $T/sentinel-$i.log
sentinel monitor $MASTER 127.0.0.1 $P_A 2
sentinel down-after-milliseconds $MASTER $DOWN_AFTER_MS
sentinel failover-timeout $MASTER 10000
sentinel parallel-syncs $MASTER 1
${SENTINEL_AUTH//NAME/$MASTER}
EOF
  redis-server "$T/s$i/sentinel.conf" --sentinel &
  local pid=$!
  PIDS+=("$pid")
  wait_for 10 redis-cli -p "$p" ping && return 0
  kill "$pid" 2>/dev/null || true
  return 1
}
primary() { redis-cli -p "${S_PORTS[0]}" sentinel get-master-addr-by-name $MASTER | tail -1; }
pcli() { ocli -p "$(primary)" "$@"; }
primary_has_replica() { replica_online "$(primary)"; }

start_node_free a P_A
start_node_free b P_B --replicaof 127.0.0.1 "$P_A"
for i in 0 1 2; do start_sentinel $i; done
wait_for 30 replica_online "$P_A" ||
  { echo "the replica did not sync" >&2; exit 1; }
# every sentinel knows the replica and the two other sentinels (else no quorum for a failover)
for p in "${S_PORTS[@]}"; do
  wait_for 30 sh -c "redis-cli -p $p sentinel master $MASTER | grep -A1 -x num-other-sentinels | tail -1 | grep -qx 2 &&
    redis-cli -p $p sentinel master $MASTER | grep -A1 -x num-slaves | tail -1 | grep -qx 1" ||
    { echo "sentinel on $p did not discover the others" >&2; exit 1; }
done
assert_eq "$P_A" "$(primary)" "the sentinels name the first node primary"
SENTINELS=$(printf '"127.0.0.1:%s"\n' "${S_PORTS[@]}" | jq -cs .)

# ------------------------------------------------------------------ never write to a replica
# A fourth sentinel, misconfigured, names the replica as primary "liar": the clients check ROLE
# and refuse it. loyaltyctl (the blocking client) says so; the gateway's link never comes up and
# nothing reaches the replica but the connection's own handshake (no EVALSHA, no write).
start_sentinel_liar() {
  local p try
  for try in 1 2 3; do
    free_port p
    mkdir -p "$T/liar"
    printf 'port %s\nbind 127.0.0.1\ndir %s\nlogfile %s\nsentinel monitor liar 127.0.0.1 %s 1\n%s\n' \
      "$p" "$T/liar" "$T/sentinel-liar.log" "$P_B" "${SENTINEL_AUTH//NAME/liar}" >"$T/liar/sentinel.conf"
    redis-server "$T/liar/sentinel.conf" --sentinel &
    LIAR_PID=$!
    PIDS+=("$LIAR_PID")
    if wait_for 10 redis-cli -p "$p" ping; then LIAR_PORT=$p; return 0; fi
    kill "$LIAR_PID" 2>/dev/null || true
  done
  echo "the liar sentinel did not start" >&2; exit 1
}
start_sentinel_liar
wait_for 10 sh -c "redis-cli -p $LIAR_PORT sentinel get-master-addr-by-name liar | grep -qx $P_B" ||
  fail "the liar sentinel does not name the replica"
jq -n --arg s "127.0.0.1:$LIAR_PORT" '{redis: {sentinels: [$s], master_name: "liar"}}' >"$T/liar.json"
rc=0
"$LGW_BIN/gateway/loyaltyctl" --config "$T/liar.json" "${CTL_REDIS[@]}" dlq >"$T/liar-ctl.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "loyaltyctl refuses a primary that is a replica"
grep -q "is not a primary" "$T/liar-ctl.out" && echo "ok - loyaltyctl says the named node is not a primary" ||
  fail "loyaltyctl: $(cat "$T/liar-ctl.out")"
start_sim liar --generate 50 --subscribers 10 --seed 3 --ref-prefix LI --at now --window 5 --timeout-s 30
write_config "$SIM_PORT" ".redis |= (del(.unix_socket) + {sentinels: [\"127.0.0.1:$LIAR_PORT\"],
  master_name: \"liar\", connect_timeout_ms: 300})"
start_gw
wait_for 10 grep -q "is not a primary" "$T/gw.log" && echo "ok - the gateway refuses the replica (ROLE)" ||
  fail "the gateway did not check ROLE"
sleep 1
assert_eq 0 "$(ocli -p "$P_B" info commandstats | grep -c 'cmdstat_evalsha\|cmdstat_eval:')" \
  "no script ran on the replica"
assert_eq false "$(jq -r .redis.connected "$T/gw-stats.json" 2>/dev/null || echo false)" \
  "the gateway counts itself not connected to Redis"
stop_gw
kill "$(eval echo "\$SIM_PID_liar")" 2>/dev/null || true
kill "$LIAR_PID" 2>/dev/null || true

dump_wallets() { # -> file: "key balance life" sorted, from the current primary
  local port; port=$(primary)
  # one redis-cli for all the wallets (two per wallet took minutes on a loaded machine)
  ocli -p "$port" --scan --pattern 'lg:{*}:w' | sort >"$1.keys"
  sed 's/^/HMGET /; s/$/ bal life/' "$1.keys" | ocli -p "$port" | paste -d' ' - - >"$1.vals"
  paste -d' ' "$1.keys" "$1.vals" >"$1"
}
credited_now() { jq -r '.ingest.credited // 0' "$T/gw-stats.json" 2>/dev/null || echo 0; }
a_third_credited() { # waits (up to 30 s) until the running gateway has credited N / 3 events
  local t=600
  while [ "$(credited_now)" -lt $((N / 3)) ]; do
    t=$((t - 1)); [ $t -gt 0 ] || { fail "the gateway never reached $((N / 3)) credits"; break; }
    sleep 0.05
  done
}

run() { # name [jq filter applied to the gateway's config after the Sentinel settings]
  pcli flushall >/dev/null
  rm -f "$T/gw-stats.json"
  start_sim "$1" "${GEN[@]}" --rate $RATE --window 20 --redeliver-ms 100 --max-attempts 1000 \
    --resp-timeout-ms 1500 --exit-when-done --timeout-s 240
  write_config "$SIM_PORT" ".redis |= (del(.unix_socket) + {sentinels: $SENTINELS,
    master_name: \"$MASTER\", wait_replicas: 1, wait_timeout_ms: 200, connect_timeout_ms: 300})
    | ${2:-.}"
  start_gw
}
check_run() { # name
  wait_sim "$1" 250
  assert_eq "$N" "$(sim_json "$1" '.final.ESME_ROK')" "$1: all $N events acknowledged ESME_ROK"
  assert_eq 0 "$(sim_json "$1" '.gave_up')" "$1: none given up"
  stop_gw
  dump_wallets "$T/$1.wallets"
}

note "control run: $N events, no fault"
run control
check_run control
assert_ge $((SUBS * 9 / 10)) "$(wc -l <"$T/control.wallets")" "control: the generated subscribers are enrolled"
grep -q "up: primary 127.0.0.1:$P_A" "$T/gw.log" && echo "ok - the gateway found the primary through the sentinels" ||
  fail "no 'up: primary 127.0.0.1:$P_A' in the gateway's log"

note "READONLY run: the primary turned read-only for a moment, under load, no failover"
# No sentinel event announces this (an operator's REPLICAOF, a returning old primary demoted late):
# the gateway's writes get READONLY there, and it must drop the link and ask the sentinels again
# (core/gw_redis.c), never lose or double an event. The node is made a replica of a primary that
# does not exist, so it keeps its data (a real primary's full sync would replace it), and a primary
# again a moment later; the sentinels still name it throughout. No WAIT in this run: Redis closes
# the connections blocked in WAIT when it turns replica, which is the disconnect path, not READONLY.
: >"$T/gw.log"
run readonly '.redis.wait_replicas = 0'
a_third_credited
ro=$(primary)
if [ "$ro" = "$P_A" ]; then ro_other=$P_B; else ro_other=$P_A; fi
ocli -p "$ro" replicaof 127.0.0.1 1 >/dev/null
wait_for 20 grep -q "dropping link: the node no longer accepts writes" "$T/gw.log" &&
  echo "ok - READONLY: the gateway dropped its link to the read-only node and asked again" ||
  fail "the gateway did not drop its link on READONLY: $(grep -i redis "$T/gw.log" | tail -3)"
ocli -p "$ro" replicaof no one >/dev/null
wait_for 30 primary_has_replica ||
  fail "the replica did not come back after the READONLY run"
check_run readonly
cp "$T/gw.log" "$T/gw-readonly.txt" # kept with the logs (the next run empties gw.log)
if cmp -s "$T/control.wallets" "$T/readonly.wallets"; then
  echo "ok - READONLY: every wallet equals the control run (0 lost, 0 double)"
else
  fail "READONLY: wallets differ from the control run: $(diff "$T/control.wallets" "$T/readonly.wallets" | head -5)"
fi
if [ "$(primary)" = "$ro" ]; then # the sentinels never named the other node: nothing went there
  assert_eq 0 "$(ocli -p "$ro_other" info commandstats | grep -c 'cmdstat_evalsha\|cmdstat_eval:' || true)" \
    "READONLY: the gateway wrote nothing to the node the sentinels did not name"
else
  note "the sentinels failed over during the READONLY run (now $(primary)): the gateway followed"
fi

note "failover run: the primary is killed (-9) a third of the way in"
: >"$T/gw.log"
run failover
a_third_credited
old=$(primary)
if [ "$old" = "$P_A" ]; then victim=a; survivor=$P_B; else victim=b; survivor=$P_A; fi
kill_ns=$(date +%s%N)
eval "kill -9 \$PID_$victim"
eval "wait \$PID_$victim" 2>/dev/null || true
note "primary on $old killed at credit $(credited_now)"
wait_for 30 sh -c "[ \"\$(redis-cli -p ${S_PORTS[0]} sentinel get-master-addr-by-name $MASTER | tail -1)\" = $survivor ]" ||
  fail "the sentinels did not promote the replica"
# the killed node comes back empty on its port as the new primary's replica (the runbook's step,
# deploy/redis-sentinel.md; left to itself, Sentinel demotes a returning old primary only after
# about 8 s), and WAIT 1 can be met again
start_node "$victim" "$old" --replicaof 127.0.0.1 "$survivor" || fail "the killed node did not restart"
wait_for 30 replica_online "$survivor" ||
  fail "the restarted node did not become the new primary's replica"
check_run failover
if cmp -s "$T/control.wallets" "$T/failover.wallets"; then
  echo "ok - failover: every wallet equals the control run (0 lost, 0 double)"
else
  fail "failover: wallets differ from the control run: $(diff "$T/control.wallets" "$T/failover.wallets" | head -5)"
fi
assert_ge 1 "$(sim_json failover '.acked.ESME_RX_T_APPN + .unanswered')" \
  "failover: the outage was answered ESME_RX_T_APPN (or not at all) and redelivered"
# The sentinels may fail over again on a saturated machine (a node slow to answer a PING for
# down-after is down to them); that is Sentinel's call, not ours. What the gateway owes is to follow
# it to the promoted replica (the run's events were all acknowledged and the wallets checked above).
now_primary=$(primary)
[ "$now_primary" = "$survivor" ] ||
  note "the sentinels failed over a second time (now $now_primary): the gateway must follow that too"
grep -q "up: primary 127.0.0.1:$survivor" "$T/gw.log" && echo "ok - the gateway followed the new primary" ||
  fail "the gateway did not log its link to the new primary"
grep -q "+switch-master" "$T/gw.log" && echo "ok - the gateway saw +switch-master" ||
  note "the gateway re-asked the sentinels without a +switch-master (allowed)"
! grep -q "READONLY" "$T/gw.log" && echo "ok - no write reached a replica (no READONLY)" ||
  note "a READONLY answer was seen (the link was dropped and the primary re-asked)"

# ------------------------------------------------------------------ figures (printed, not asserted)
ts_ns() { date -d "$1" +%s%N; } # ISO time of a log line -> ns
up_line=$(grep -m1 "up: primary 127.0.0.1:$survivor" "$T/gw.log" | cut -d' ' -f1)
w_line=$(grep -m1 "first write answered by primary 127.0.0.1:$survivor" "$T/gw.log" | cut -d' ' -f1)
if [ -n "$up_line" ] && [ -n "$w_line" ]; then
  echo "MEASURE failover kill->link_to_new_primary_ms=$(( ($(ts_ns "$up_line") - kill_ns) / 1000000 ))" \
    "kill->first_acknowledged_commit_ms=$(( ($(ts_ns "$w_line") - kill_ns) / 1000000 ))" \
    "t_appn=$(sim_json failover '.acked.ESME_RX_T_APPN') unanswered=$(sim_json failover '.unanswered')" \
    "events=$N rate=$RATE/s"
fi
if [ "$REDIS_ACL" = 1 ]; then # every process did its work under its user: nothing was refused
  for p in "$P_A" "$P_B"; do
    assert_eq 0 "$(ocli -p "$p" acl log 128 | grep -c '^reason$' || true)" \
      "LGW_IT_ACL: the ACL LOG of the data node on $p is empty"
  done
fi
finish

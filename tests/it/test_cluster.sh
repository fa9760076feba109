#!/usr/bin/env bash
# The gateway's Redis client on a real 3-master Redis Cluster on loopback (lib.sh's
# start_redis_cluster): first the whole gateway end-to-end (test_ingest_e2e.sh's sample day over
# real SMPP, with the same expected results), then it_cluster.c: slot routing checked against
# CLUSTER KEYSLOT, commits spread over the three shards with exact sums, routing and CROSSSLOT
# errors, NOSCRIPT on every master, a slot migrated under load (ASK, TRYAGAIN, MOVED: no commit
# lost or doubled), and a master killed (its slots fail within the deadline, the others work,
# CLUSTERDOWN retried until the deadline). Prints (does not assert) commits/s on the cluster and on
# a single Redis (lines starting with MEASURE).
#   LGW_BENCH_SUBS  subscribers in the measurement (default 20000 -> 60000 commits; 0 skips it)
#   LGW_VALGRIND=1  the gateway and the driver under valgrind (errors and leaks fail the test)
source "$(dirname "$0")/lib.sh"

start_redis_cluster
note "cluster: $CLUSTER_NODES"

# ------------------------------------------------------------------ end-to-end: the sample day
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
assert_eq "$CLUSTER_NODES" "$(jq -c .redis.cluster_nodes "$T/gw.json")" "the gateway is configured for the cluster"
start_gw
wait_sim sim 60

assert_eq 25 "$(sim_json sim .events)" "the simulator sent the whole day"
assert_eq 21 "$(sim_json sim '.final.ESME_ROK')" "21 events acknowledged ESME_ROK (one is a duplicate)"
assert_eq 4 "$(sim_json sim '.final.ESME_RX_P_APPN')" "4 malformed events answered ESME_RX_P_APPN"
assert_eq 0 "$(sim_json sim '.gave_up')" "no event left without a final answer"
cbal() { ccli hget "lg:{$1}:w" bal; }
assert_eq 18 "$(cbal 212612345678)" "212612345678: 18 points, remainders carried, duplicate absorbed"
assert_eq 6 "$(cbal 212661000001)" "212661000001: 6 points"
assert_eq 95 "$(cbal 212700111222)" "212700111222: 95 points"
assert_eq 25 "$(cbal 212661000002)" "212661000002: BILL + USAGE with the remainder carried"
assert_eq 1 "$(cbal 212655443322)" "212655443322: reversal took back exactly what the top-up earned"
assert_eq 12 "$(cbal 212661000003)" "212661000003: 2 + 10 points"
assert_eq "" "$(cbal 212600000000)" "no wallet for a subscriber who never recharged"
assert_eq 4 "$(ccli xlen lg:dlq:event)" "the 4 malformed events are kept as dead letters"
# The subscribers of the day live on more than one master.
masters_used=0
for p in "${CLUSTER_PORTS[@]}"; do
  [ "$(redis-cli -p "$p" dbsize)" -gt 0 ] && masters_used=$((masters_used + 1))
done
assert_ge 2 "$masters_used" "the day's keys are spread over several masters"
sleep 1.2 # one metrics interval
assert_eq 25 "$(gw_stat .ingest.events_in)" "gateway counted 25 events"
assert_eq 1 "$(gw_stat .ingest.duplicates)" "gateway counted 1 duplicate"
assert_eq 4 "$(gw_stat .ingest.rejected)" "gateway counted 4 rejected"
assert_eq true "$(gw_stat .redis.connected)" "the gateway sees every slot connected"
stop_gw
grep -q 'Redis cluster:127.0.0.1' "$T/gw.log" && echo "ok - start-up line names the cluster" ||
  fail "start-up line does not name the cluster"

# ------------------------------------------------------------------ the client on the cluster
for p in "${CLUSTER_PORTS[@]}"; do redis-cli -p "$p" flushall >/dev/null; done
pre=()
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect)
  export LGW_BENCH_SUBS="${LGW_BENCH_SUBS:-1000}"
fi
set +e
if [ "${LGW_BENCH_SUBS:-20000}" != 0 ]; then
  LGW_CLUSTER_NODES="$CLUSTER_NODES" "$LGW_BIN/tests/it_cluster" measure 2>&1 | tee "$T/measure-cluster.log"
  # the same on one Redis, over TCP (like the cluster) and over its unix socket
  single_port=$(cluster_free_port)
  start_redis --port "$single_port" --bind 127.0.0.1
  LGW_REDIS_PORT="$single_port" "$LGW_BIN/tests/it_cluster" measure 2>&1 | tee "$T/measure-single-tcp.log"
  rcli flushall >/dev/null
  LGW_REDIS_SOCK="$REDIS_SOCK" "$LGW_BIN/tests/it_cluster" measure 2>&1 | tee "$T/measure-single-unix.log"
  stop_redis
  for p in "${CLUSTER_PORTS[@]}"; do redis-cli -p "$p" flushall >/dev/null; done
fi
LGW_CLUSTER_NODES="$CLUSTER_NODES" LGW_CLUSTER_PORTS="${CLUSTER_PORTS[*]}" \
  "${pre[@]+"${pre[@]}"}" "$LGW_BIN/tests/it_cluster" 2>&1 | tee "$T/it_cluster.log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || fail "it_cluster exited $rc"
finish

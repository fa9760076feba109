#!/usr/bin/env bash
# The ledger and the Redis client against a private redis-server on a unix socket: credit, dedup,
# remainder, daily cap, tiers, reversals, NOSCRIPT fallback, deadlines and late replies, a killed
# and restarted Redis, script argument validation, 1000 pipelined commits, ref pruning; then it
# prints (does not assert) memory per subscriber and commits/s (lines starting with MEASURE).
#   LGW_BENCH_SUBS  subscribers in the measurement (default 100000; 0 skips it)
#   LGW_VALGRIND=1  run the driver under valgrind (errors and leaks fail the test)
source "$(dirname "$0")/lib.sh"

# The kill/restart case runs its own redis-server and records its pid here: stop it whatever
# happens, then do the usual cleanup.
ledger_cleanup() {
  if [ -f "$T/kill-redis.pid" ]; then kill -9 "$(cat "$T/kill-redis.pid")" 2>/dev/null || true; fi
  lgw_cleanup
}
trap ledger_cleanup EXIT

start_redis
pre=()
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect)
  export LGW_BENCH_SUBS="${LGW_BENCH_SUBS:-2000}" LGW_PINGS="${LGW_PINGS:-5000}"
fi
set +e
LGW_REDIS_SOCK="$REDIS_SOCK" LGW_TMP="$T" \
  "${pre[@]+"${pre[@]}"}" "$LGW_BIN/tests/it_ledger" 2>&1 | tee "$T/it_ledger.log"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" -eq 0 ] || fail "it_ledger exited $rc"
finish

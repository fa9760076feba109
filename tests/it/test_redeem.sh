#!/usr/bin/env bash
# Redemption (catalog/cat_redeem.c) against a real redis-server, then the same cases on a real
# 3-master Redis Cluster on loopback (subscriber keys and stock keys on different shards):
# 3,000 simultaneous redemptions by 1,000 subscribers on stock 100, retried confirms, refusals
# without side effects, the sweeper after a crash at each step, refunds, voucher codes under
# concurrency, premium gifting, charity totals. The driver is tests/it/it_redeem.c.
#   LGW_VALGRIND=1  run the driver under valgrind (errors and leaks fail the test)
source "$(dirname "$0")/lib.sh"

pre=()
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect)
fi

run_driver() { # label env-assignment
  local label=$1 rc; shift
  set +e
  env "$@" "${pre[@]+"${pre[@]}"}" "$LGW_BIN/tests/it_redeem" 2>&1 | tee "$T/it_redeem-$label.log"
  rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" -eq 0 ] && echo "ok - it_redeem on $label" || fail "it_redeem on $label exited $rc"
}

start_redis
run_driver single "LGW_REDIS_SOCK=$REDIS_SOCK"
stop_redis

if declare -F start_redis_cluster >/dev/null; then
  start_redis_cluster
  run_driver cluster "LGW_REDIS_CLUSTER=$(echo "$CLUSTER_NODES" | jq -r 'join(",")')"
  # the subscriber and stock keys of the rush really live on different masters
  s_sub=$(ccli cluster keyslot 'lg:{212610000000}:w'); s_item=$(ccli cluster keyslot 'cat:{RUSH}:z')
  note "slots: subscriber $s_sub, item $s_item"
else
  note "start_redis_cluster not in lib.sh: cluster run skipped"
fi
finish

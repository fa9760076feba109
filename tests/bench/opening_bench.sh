#!/usr/bin/env bash
# opening_bench.sh - the gift-day opening compared (issue 12 section 3): the same rush
# (tests/bench/bench_redeem.c: 100,000 attempts by 50,000 subscribers, one hot item of stock 1,000,
# ten of 2,000) with every item first come first served, staggered with each member coming at
# their slot, and staggered with everybody walking in at the opening anyway. Prints the attempts
# per simulated minute and the peak; a fresh Redis (AOF everysec) for each opening.
#   tests/bench/opening_bench.sh BUILD_DIR SRC_DIR [IN_FLIGHT (128)]
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd); INFLIGHT=${3:-128}
T=$(mktemp -d /tmp/lgw-opening.XXXXXX)
RPID=
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
for opening in fcfs staggered walk-in; do
  redis-server "$SRC/deploy/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
    --appendfsync everysec --daemonize no --logfile "$T/redis.log" &
  RPID=$!
  for _ in $(seq 50); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== opening $opening, $INFLIGHT in flight"
  "$B/tests/bench_redeem" "$T/redis.sock" "$INFLIGHT" 100000 50000 "$opening" | sed 's/^/  /'
  kill "$RPID"; wait "$RPID" 2>/dev/null || true; RPID=
  rm -rf "$T"/appendonly* "$T"/*.rdb
done

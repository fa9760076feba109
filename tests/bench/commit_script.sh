#!/usr/bin/env bash
# commit.lua's cost in Redis, alone: the raw commit script (tests/bench/bench_ledger.c, its "raw"
# turns only: the keys and arguments the gateway passes with the shipped configuration) against a
# private redis-server (deploy/redis.conf, persistence off), 2 turns of SUBSCRIBERS x 5 events on an
# empty Redis. Prints the bench's lines and Redis's own CPU (user + system, /proc) per script call.
# SCRIPT (optional): a commit.lua file to run instead of the embedded one, e.g. main's
# (git show main:gateway/lua/commit.lua > /tmp/main_commit.lua): run both in turns to compare.
#   tests/bench/commit_script.sh BUILD_DIR SRC_DIR [SUBSCRIBERS (4000)] [SCRIPT]
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
SUBS=${3:-4000}; SCRIPT=${4:-}
T=$(mktemp -d /tmp/lgw-bench-commit.XXXXXX)
source "$SRC/tests/bench/bench_redis.sh"
[ -z "$SCRIPT" ] || export BENCH_LEDGER_COMMIT="$SCRIPT"
c0=$(bench_redis_cpu)
BENCH_LEDGER_PHASES=1 BENCH_LEDGER_TURNS=raw BENCH_LEDGER_CONFIG="$SRC/deploy/loyaltygw.json" \
  "$B/tests/bench_ledger" "$T/redis.sock" "$SUBS" 256 2>/dev/null | grep -v ' INFO ' | tee "$T/out.txt"
c1=$(bench_redis_cpu)
awk -v c=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n=$((SUBS * 5 < 100000 ? SUBS * 5 : 100000)) \
  'BEGIN {printf "  Redis CPU (user + system) %.0f ms for 2 x %d calls: %.1f us per call\n", c * 1000 / hz, n, c * 1e6 / hz / (2 * n)}'
redis-cli -s "$T/redis.sock" shutdown nosave >/dev/null 2>&1 || true
wait "$RPID" 2>/dev/null || true
RPID=

#!/usr/bin/env bash
# The ledger at scale (issue 9): tests/bench/bench_ledger.c against a private redis-server with
# deploy/redis.conf, persistence off (memory and the script are measured, not the disk).
#   tests/bench/ledger.sh BUILD_DIR SRC_DIR [SUBSCRIBERS (default 1000000)] [IN_FLIGHT (256)]
# With git and a branch main that still has the old layout, main's commit script is measured too.
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
SUBS=${3:-1000000}; INFLIGHT=${4:-256}
T=$(mktemp -d /tmp/lgw-bench-ledger.XXXXXX)
RPID=
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
# deploy/redis.conf without its ACL file (the bench measures memory and the scripts, as default)
grep -v '^aclfile' "$SRC/deploy/redis.conf" >"$T/redis.conf"
redis-server "$T/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
  --appendonly no --save '' --daemonize no --logfile "$T/redis.log" &
RPID=$!
for _ in $(seq 50); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(redis-server --version | cut -d' ' -f3)"
# the commit script of main (the release before), when git has it: what the new one costs
# (with the shared prelude of its lots codec when main has one, as the build embeds it)
if git -C "$SRC" show main:gateway/lua/commit.lua >"$T/main_commit.lua" 2>/dev/null; then
  { git -C "$SRC" show main:core/lua/wallet_lots.lua 2>/dev/null && echo; cat "$T/main_commit.lua"; } \
    >"$T/old_commit.lua"
else
  : >"$T/old_commit.lua"
fi
"$B/tests/bench_ledger" "$T/redis.sock" "$SUBS" "$INFLIGHT" "$T/old_commit.lua"

# bench_redis.sh - sourced by the benchmarks that time a script in a private redis-server: the
# shipped deploy/redis.conf without its ACL file, persistence off, on a unix socket in a temp
# dir ($T); RPID its pid (Redis's own CPU: /proc/$RPID/stat), stopped and the dir removed on
# exit. Needs SRC (the source tree) and T set first; bench_redis_cpu prints its clock ticks.
RPID=
cleanup() { [ -z "$RPID" ] || kill "$RPID" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
grep -v '^aclfile' "$SRC/deploy/redis.conf" >"$T/redis.conf"
redis-server "$T/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" --appendonly no \
  --save '' --daemonize no --logfile "$T/redis.log" &
RPID=$!
for _ in $(seq 50); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
bench_redis_cpu() { awk '{print $14 + $15}' "/proc/$RPID/stat"; } # user + system clock ticks

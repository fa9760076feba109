#!/usr/bin/env bash
# The ledger's aggregates at carrier scale (issue 9 section 5): how long `loyaltyctl report` and
# the memory of the per-slot keys take when every one of the 16,384 slots holds a full day hash
# and running totals - the case of a national base, whatever its size (the reader's cost depends
# on slots x days, not on subscribers). The keys are written synthetically with the field names
# and value sizes the scripts write (40 flow fields per slot and day, 45 total fields per slot).
#   tests/bench/agg_report.sh BUILD_DIR SRC_DIR [DAYS (default 7)]
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
DAYS=${3:-7}
T=$(mktemp -d /tmp/lgw-bench-agg.XXXXXX)
RPID=
cleanup() { [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
redis-server "$SRC/deploy/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
  --aclfile '' --appendonly no --save '' --daemonize no --logfile "$T/redis.log" &
RPID=$!
for _ in $(seq 300); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(redis-server --version | cut -d' ' -f3)"
FROM=$(date -d "-$((DAYS - 1)) days" +%Y%m%d); TO=$(date +%Y%m%d)
# every slot's tag (gw_slot_tag: the smallest decimal number in the slot), as the C side computes
"$B/tests/bench_slot_tags" >"$T/tags"
python3 - "$DAYS" "$T/tags" <<'EOF' >"$T/cmds"
import sys, datetime
tags = {}
for line in open(sys.argv[2]):
    s, t = line.split()
    tags[int(s)] = t.strip('{}')
days = int(sys.argv[1]); today = datetime.date.today()
flow = ['iss:TOPUP:%s' % c for c in ('voucher', 'card', 'bank', 'wallet', 'transfer', '-')]
flow += ['iss:BILL:-', 'iss:USAGE:-', 'red', 'rfd', 'rev', 'exp', 'adj+', 'adj-']
flow += ['n:%s' % k for k in ('TOPUP', 'BILL', 'USAGE', 'REVERSAL', 'REDEEM', 'REFUND', 'ADJUST', 'EXPIRE', 'ITEM')]
flow += ['ri:ITEM_%02d' % j for j in range(8)] + ['rp:ITEM_%02d' % j for j in range(9)]
tot = ['liab', 'neg', 't:standard', 't:silver', 't:gold', 'h:-', 'hs:-', 'h:0']
tot += ['h:%d' % k for k in range(1, 19)] + ['hs:%d' % k for k in range(1, 19)] + ['hs:0']
out = sys.stdout
for s in range(16384):
    t = tags[s]
    out.write('HSET lg:ag:{%s}:tot %s\n' % (t, ' '.join('%s %d' % (f, 1000 + j * 37) for j, f in enumerate(tot))))
    for d in range(days):
        day = (today - datetime.timedelta(days=d)).strftime('%Y%m%d')
        out.write('HSET lg:ag:{%s}:%s %s\n' % (t, day, ' '.join('%s %d' % (f, 100 + j * 13) for j, f in enumerate(flow))))
EOF
redis-cli -s "$T/redis.sock" --pipe <"$T/cmds" >/dev/null
R() { redis-cli -s "$T/redis.sock" "$@"; }
echo "keys: $(R dbsize) ($DAYS days + totals, 16,384 slots)"
echo "MEMORY USAGE one day hash: $(R memory usage "lg:ag:{0}:$TO") B, one totals hash: $(R memory usage 'lg:ag:{0}:tot') B"
echo "used_memory: $(R info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r') B"
for range in "$TO $TO" "$FROM $TO"; do
  set -- $range
  for run in 1 2 3; do
    s=$(date +%s%N)
    "$B/gateway/loyaltyctl" --socket "$T/redis.sock" report "$1" "$2" >"$T/report"
    e=$(date +%s%N)
    echo "report $1..$2 run $run: wall $(( (e - s) / 1000000 )) ms; $(head -1 "$T/report")"
  done
done
s=$(date +%s%N)
"$B/gateway/loyaltyctl" --socket "$T/redis.sock" agg-check >"$T/check" || true
e=$(date +%s%N)
echo "agg-check with no wallet (the totals read alone): wall $(( (e - s) / 1000000 )) ms"

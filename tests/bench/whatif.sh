#!/usr/bin/env bash
# What-if replay benchmark (issue 12 section 2): a journal of BENCH_EVENTS (1,000,000) events over
# BENCH_SUBSCRIBERS (200,000) subscribers and 7 local days, replayed by `loyaltyctl whatif` under
# the shipped table and a draft with doubled rates. Prints the journal's bytes per event, then
# times the whole process with farm-bench when it is installed (else once with `time`).
#   tests/bench/whatif.sh BUILD_DIR SRC_DIR
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_EVENTS:-1000000}
SUBS=${BENCH_SUBSCRIBERS:-200000}
T=$(mktemp -d /tmp/lgw-bench-whatif.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/journal"
NOW=$(date -u +%s)
TODAY=$(TZ=Africa/Casablanca date -d "@$NOW" +%Y%m%d)
# one day file per local day (the generator spreads events over 7 days, in time order per file)
awk -v n="$N" -v subs="$SUBS" -v now="$NOW" -v dir="$T/journal" 'BEGIN {
  srand(1);
  for (i = 0; i < n; i++) {
    at = now - 6 * 86400 + int(i * (6 * 86400 / n));
    cmd = "TZ=Africa/Casablanca date -d @" at " +%Y%m%d";
    d = int(at / 3600);
    if (!(d in day)) { cmd | getline day[d]; close(cmd) }
    m = sprintf("2126%08d", int(rand() * subs));
    k = rand() < 0.7 ? "T" : "B";
    ch = k == "T" && rand() < 0.3 ? "voucher" : "-";
    printf "%d %s %s %d %d %s BN-%d - c %d\n", at * 1000, k, m, at, 1 + int(rand() * 200000), ch, i,
      0 > (dir "/" day[d] "-bench.lj");
  }
}'
bytes=$(cat "$T/journal"/*.lj | wc -c)
echo "journal: $N events, $bytes bytes = $((bytes / N)) bytes per event, $(ls "$T/journal" | wc -l) day files"
jq -n --arg dir "$T/journal" --arg tab "$SRC/deploy/loyalty-table.json" \
  '{journal: {dir: $dir}, loyalty: $tab}' >"$T/gw.json"
jq '.rates.TOPUP.points *= 2 | .rates.BILL.points *= 2' "$SRC/deploy/loyalty-table.json" >"$T/draft.json"
CMD=("$B/gateway/loyaltyctl" whatif --config "$T/gw.json" --draft "$T/draft.json" --days 7
     --today "$TODAY" --point-value 0.05)
t0=$(date +%s%N)
"${CMD[@]}" | tee "$T/out.txt"
t1=$(date +%s%N)
echo "one run: $(( (t1 - t0) / 1000000 )) ms wall = $(( N * 1000000000 / (t1 - t0) )) events/s (whole process)"
if command -v farm-bench >/dev/null; then
  farm-bench -n 3 --timeout 600 -- "${CMD[@]}" --json
else
  /usr/bin/time -f "wall %e s, peak %M KiB" "${CMD[@]}" --json >/dev/null
fi

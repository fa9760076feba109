#!/usr/bin/env bash
# What-if replay benchmark (issue 12 section 2): a journal of BENCH_EVENTS (1,000,000) events over
# BENCH_SUBSCRIBERS (200,000) subscribers and 7 local days, replayed by `loyaltyctl whatif` under
# the shipped table and a draft with doubled rates, and (format version 2) BENCH_REDEMPTIONS
# (100,000) granted redemptions under a draft catalogue at twice the shipped prices (--draft-catalog)
# and, with BENCH_CAMPAIGNS=P, P % of the subscribers enrolled in the window (a J line at their
# first event; 100 is the worst case: each member's first event pays its welcome on both sides) under a welcome + tenure
# document (+ a win-back: 2 recharges, lapse 7 days) and a draft doubling them (--campaigns,
# --draft-campaigns: the scratch redis-servers).
# Prints the journal's bytes per event and per redemption, then
# times the whole process with farm-bench when it is installed (else once with `time`).
# BENCH_WALLETS=1: the members were enrolled before the window instead (no J line; with
# BENCH_CAMPAIGNS, not 0): a private redis-server holds a wallet for each of the BENCH_SUBSCRIBERS
# (since 400 days ago, 12 recharges, five TOPUP movements in E before the window, welcome and
# tenure markers), which the what-if reads at its start (one HMGET each).
# Commit times are written as "<at>000" (awk's %d is 32-bit in mawk).
#   tests/bench/whatif.sh BUILD_DIR SRC_DIR
set -euo pipefail
B=${1:-build}; SRC=${2:-.}
B=$(cd "$B" && pwd); SRC=$(cd "$SRC" && pwd)
N=${BENCH_EVENTS:-1000000}
SUBS=${BENCH_SUBSCRIBERS:-200000}
RED=${BENCH_REDEMPTIONS:-100000}
CAMP=${BENCH_CAMPAIGNS:-0}
T=$(mktemp -d /tmp/lgw-bench-whatif.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir "$T/journal"
NOW=$(date -u +%s)
TODAY=$(TZ=Africa/Casablanca date -d "@$NOW" +%Y%m%d)
# one day file per local day (the generator spreads events over 7 days, in time order per file)
awk -v n="$N" -v subs="$SUBS" -v red="$RED" -v camp="$CAMP" -v now="$NOW" -v dir="$T/journal" 'BEGIN {
  srand(1);
  split("DATA_1GB DATA_5GB VOICE_60MIN SMS_100 VOUCHER_MARJANE_100 CHARITY_FOOD_BANK", ids, " ");
  split("500 2000 800 300 4000 200", prices, " ");
  for (i = 0; i < n; i++) {
    at = now - 6 * 86400 + int(i * (6 * 86400 / n));
    cmd = "TZ=Africa/Casablanca date -d @" at " +%Y%m%d";
    d = int(at / 3600);
    if (!(d in day)) { cmd | getline day[d]; close(cmd) }
    m = sprintf("2126%08d", int(rand() * subs));
    k = rand() < 0.7 ? "T" : "B";
    ch = k == "T" && rand() < 0.3 ? "voucher" : "-";
    f = dir "/" day[d] "-bench.lj";
    if (!(f in hdr)) { hdr[f] = 1; print "#lj 2" > f }
    if (camp && !(m in seen)) { seen[m] = 1; if (rand() * 100 < camp) printf "%d000 J %s %d\n", at, m, at > f }
    printf "%d000 %s %s %d %d %s BN-%d - c %d\n", at, k, m, at, 1 + int(rand() * 200000), ch, i,
      0 > f;
    if (red > 0 && i % int(n / red) == 0) {
      j = 1 + int(rand() * 6);
      printf "%d000 D %s %s %d %d\n", at, m, ids[j], prices[j], int(rand() * 6000) > f;
    }
  }
}'
bytes=$(cat "$T/journal"/*.lj | grep -v -e ' D ' -e '^#' | wc -c)
dl=$(cat "$T/journal"/*.lj | grep -c ' D ' || true)
dbytes=$(cat "$T/journal"/*.lj | grep ' D ' | wc -c)
echo "journal: $N events, $bytes bytes = $((bytes / N)) bytes per event, $(ls "$T/journal" | wc -l) day files"
echo "journal: $dl redemptions, $dbytes bytes = $((dbytes / (dl > 0 ? dl : 1))) bytes per redemption"
jq -n --arg dir "$T/journal" --arg tab "$SRC/deploy/loyalty-table.json" \
  '{journal: {dir: $dir}, loyalty: $tab}' >"$T/gw.json"
jq '.rates.TOPUP.points *= 2 | .rates.BILL.points *= 2' "$SRC/deploy/loyalty-table.json" >"$T/draft.json"
jq '.items[].price *= 2 | .version = "bench-x2"' "$SRC/deploy/catalog.json" >"$T/catalog.json"
if [ -n "${BENCH_WALLETS:-}" ]; then
  for f in "$T/journal"/*.lj; do grep -v ' J ' "$f" >"$f.tmp" || true; mv "$f.tmp" "$f"; done
  redis-server --port 0 --unixsocket "$T/redis.sock" --save '' --appendonly no --dir "$T" \
    --daemonize yes --pidfile "$T/redis.pid" --logfile "$T/redis.log"
  trap 'kill "$(cat "$T/redis.pid")"; rm -rf "$T"' EXIT
  for i in $(seq 50); do redis-cli -s "$T/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
  for c in $(seq 0 20000 $((SUBS - 1))); do
    redis-cli -s "$T/redis.sock" eval "local d0 = tonumber(ARGV[4])
      for i = tonumber(ARGV[1]), math.min(tonumber(ARGV[1]) + 19999, tonumber(ARGV[5]) - 1) do
        local e = ''
        for k = 1, 5 do e = e .. struct.pack('>c6I2BBi4I2', 'abcdef', d0 - 8 - 3 * k, 1, 99, 10, 0) end
        redis.call('HSET', 'lg:{' .. string.format('2126%08d', i) .. '}:w', 'bal', '1234', 'life', '5678',
          'tier', 'silver', 'since', ARGV[2], 'rc', '12', 'rl', ARGV[3], 'E', e, 'c:welcome', '1',
          'c:tenure', '1')
      end return 1" 0 "$c" $((NOW - 400 * 86400)) $((NOW - 8 * 86400)) $((NOW / 86400)) "$SUBS" >/dev/null
  done
  jq --arg s "$T/redis.sock" '. + {redis: {unix_socket: $s}}' "$T/gw.json" >"$T/gw2.json"
  mv "$T/gw2.json" "$T/gw.json"
fi
NOREDIS=--no-redis
[ -n "${BENCH_WALLETS:-}" ] && NOREDIS=--no-wallets && [ "$CAMP" != 0 ] && NOREDIS=
CMD=("$B/gateway/loyaltyctl" whatif --config "$T/gw.json" --draft "$T/draft.json" --days 7 ${NOREDIS:+"$NOREDIS"}
     --today "$TODAY" --point-value 0.05)
[ "$RED" -gt 0 ] && CMD+=(--draft-catalog "$T/catalog.json")
if [ "$CAMP" != 0 ]; then
  START=$(TZ=Africa/Casablanca date -d '-30 days' +%F); END=$(TZ=Africa/Casablanca date -d '+30 days' +%F)
  jq -n --arg s "$START" --arg e "$END" --argjson k 1 '{version: "bench", campaigns: [
    {id: "welcome", rule: "welcome", start: $s, end: $e, budget: 5000000, points: (50 * $k),
     tiers: {gold: (80 * $k)}},
    {id: "tenure", rule: "tenure", start: $s, end: $e, budget: 5000000, points: (100 * $k), years: [1, 3]},
    {id: "winback", rule: "winback", start: $s, end: $e, budget: 5000000, points: (50 * $k),
     min_recharges: 2, lapse_days: 7, valid_days: 14,
     texts: {en: "{points} {date}", fr: "{points} {date}", ar: "{points} {date}", fa: "{points} {date}"}}]}' \
    >"$T/camp.json"
  jq '.campaigns[].points *= 2 | .campaigns[0].tiers.gold *= 2' "$T/camp.json" >"$T/camp2.json"
  CMD+=(--campaigns "$T/camp.json" --draft-campaigns "$T/camp2.json")
fi
t0=$(date +%s%N)
"${CMD[@]}" | tee "$T/out.txt"
t1=$(date +%s%N)
echo "one run: $(( (t1 - t0) / 1000000 )) ms wall = $(( N * 1000000000 / (t1 - t0) )) events/s (whole process)"
if command -v farm-bench >/dev/null; then
  farm-bench -n 3 --timeout 600 -- "${CMD[@]}" --json
else
  /usr/bin/time -f "wall %e s, peak %M KiB" "${CMD[@]}" --json >/dev/null
fi

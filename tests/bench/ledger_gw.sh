#!/usr/bin/env bash
# The ledger's memory at scale through the whole gateway (issue 9, section 4): SUBSCRIBERS x 5
# events of a typical month (TOPUP, BILL, TOPUP, USAGE, TOPUP on 5 days of the last 30, one day
# at a time for all subscribers) sent by the SMSC simulator over SMPP to loyaltygw with the
# shipped configuration (deploy/: loyaltygw.json, loyalty-table.json, ...; only the addresses,
# the journal directory and the log level changed), Redis with deploy/redis.conf, persistence off.
# Prints bytes per subscriber all-in (INFO used_memory delta), MEMORY USAGE and encoding of the
# keys of a sample of subscribers, the keys by kind, bytes per further ref (5 more events for
# 10,000 of them), and the SMPP path's events/s against the raw commit script's in the same run.
# The raw script (tests/bench/bench_ledger.c, phase 1, BENCH_LEDGER_ORDER=load: commit.lua called
# with the keys and arguments the gateway passes it, the same shipped configuration) gets the
# SMPP load's workload, like for like: the same events (subscribers, kinds, days, refs, amounts,
# channels) in the same order and chunks, the same ref index buckets, as many in flight as the
# SMSC's window, on the same Redis emptied (FLUSHALL) before each side and grown by it to the
# same size. Sides alternate, raw then SMPP, BENCH_PAIRS times; each pair's ratio and the median
# are printed, with Redis's CPU and INFO commandstats per event on both sides (the same Redis work
# per event or not). Redis runs on one core and the clients (bench_ledger, or loyaltygw and
# smsc-sim) on the other (taskset), the same for both sides: Redis, the bottleneck, has a core.
#   tests/bench/ledger_gw.sh BUILD_DIR SRC_DIR [SUBSCRIBERS (default 1000000)] [SMSC_WINDOW (256)]
# Environment: BENCH_PART all (default: the throughput pairs, then the memory figures of the last
# pair's SMPP load), throughput (the pairs only), memory (one SMPP load and the memory figures, no
# raw side); BENCH_PAIRS (2); BENCH_BARE_SUBS (SUBSCRIBERS: subscribers of each side of a pair;
# another count than SUBSCRIBERS runs the memory load apart); BENCH_CHUNK (100000);
# BENCH_REF_BUCKETS (the shipped 65536 when unset): fewer buckets let a small run fill each bucket
# of the ref index as a big one would (1,024 for 20,000 subscribers: ~100 refs per bucket, as
# 65,536 hold at ~1.3 million); BENCH_PIN (1; 0: nothing pinned), BENCH_REDIS_CPU (0),
# BENCH_CLIENT_CPUS (1); BENCH_ORDER alternate (default: raw then SMPP in every pair) or abba (every
# second pair SMPP then raw); BENCH_PERF=DIR a perf record -g of redis-server per side in DIR.
set -euo pipefail
B=$(cd "${1:-build}" && pwd); SRC=$(cd "${2:-.}" && pwd)
SUBS=${3:-1000000}; WIN=${4:-256}
PART=${BENCH_PART:-all}; PAIRS=${BENCH_PAIRS:-2}; TSUBS=${BENCH_BARE_SUBS:-$SUBS}
case "$PART" in all | throughput | memory) ;; *) echo "BENCH_PART: all, throughput or memory" >&2; exit 2 ;; esac
[ "$PART" = memory ] && PAIRS=0
# Redis on one core, the clients on the other (the same on both sides of a pair)
PIN_R=(); PIN_C=(); PINNED="nothing pinned"
if [ "${BENCH_PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  PIN_R=(taskset -c "${BENCH_REDIS_CPU:-0}"); PIN_C=(taskset -c "${BENCH_CLIENT_CPUS:-1}")
  PINNED="redis-server on CPU ${BENCH_REDIS_CPU:-0}, the clients on CPU ${BENCH_CLIENT_CPUS:-1}"
fi
T=$(mktemp -d /tmp/lgw-bench-ledgergw.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
rcli() { redis-cli -s "$T/redis.sock" "$@"; }
mem() { rcli info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
# CPU seconds so far: Redis's own (INFO cpu, user + system) and a process's (/proc, user + system)
rcpu() { rcli info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/ {s += $2} END {printf "%.3f", s}'; }
rsys() { rcli info cpu | tr -d '\r' | awk -F: '/^used_cpu_sys:/ {printf "%.3f", $2}'; }
pcpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }

grep -v '^aclfile' "$SRC/deploy/redis.conf" >"$T/redis.conf"
# DEBUG LISTPACK (local only: this bench's own Redis) prints a wallet's listpack on stdout
"${PIN_R[@]}" stdbuf -o0 redis-server "$T/redis.conf" --port 0 --unixsocket "$T/redis.sock" --dir "$T" \
  --appendonly no --save '' --daemonize no --logfile "$T/redis.log" \
  --enable-debug-command local >"$T/redis.out" &
REDIS_PID=$!; PIDS+=($REDIS_PID)
for _ in $(seq 50); do rcli ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "command: $0 $*"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(redis-server --version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg); $PINNED"
# Redis's INFO commandstats since the last CONFIG RESETSTAT: EVALSHA calls, their usec, and the
# calls of every other data command (the bench's own INFO, CONFIG, FLUSHALL, ... left out); INFO
# stats: the reads and writes of client sockets
cstats() {
  { rcli info commandstats; rcli info stats; } | tr -d '\r' | awk -F'[:=,]' '
    /^cmdstat_evalsha:/ {c = $3; u = $5; next}
    /^cmdstat_(info|config|flushall|ping|script|client|hello|command|select|dbsize|memory|scan|debug):/ {next}
    /^cmdstat_/ {o += $3} /^total_reads_processed:/ {r = $2} /^total_writes_processed:/ {w = $2}
    END {printf "%d %d %d %d %d", c, u, o, r, w}'
}

# 1. the events: k-th event of every subscriber on day 28 - 6k before now (a month)
now=$(date -u +%s)
gen() { # first_sub count k0 k1 file
  local k t days=""
  for k in $(seq "$3" "$4"); do
    t=$(( now - 28 * 86400 + (k % 5) * 6 * 86400 + k / 5 * 3600 ))
    days+="$k $(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ) $(date -u -d "@$t" +%Y-%m);"
  done
  awk -v s0="$1" -v n="$2" -v days="$days" 'BEGIN {
    split("TOPUP BILL TOPUP USAGE TOPUP", K, " ")
    nd = split(days, D, ";")
    for (j = 1; j < nd; j++) {
      split(D[j], f, " "); k = f[1]; at = f[2]; per = f[3]; kind = K[k % 5 + 1]
      for (i = 0; i < n; i++) {
        s = s0 + i; amt = 500 + (s * 7919 + k * 104729) % 20000
        printf "%s ref=OCS-%08d-%03d msisdn=2126%08d amount=%d.%02d currency=MAD at=%s", \
          kind, s, k, s, amt / 100, amt % 100, at
        if (kind != "TOPUP") printf " period=%s", per
        if (kind == "TOPUP") printf " channel=voucher"
        printf "\n"
      }
    }
  }' >"$5"
}
MORE=$(( SUBS < 10000 ? SUBS : 10000 ))
gen 20000000 "$MORE" 5 9 "$T/more.events"

# 2. the gateway with the shipped configuration
mkdir -p "$T/cfg" "$T/journal"
cp "$SRC"/deploy/*.json "$T/cfg/"
run_load() { # events-file name: one simulator run to the end; prints events/s
  rm -f "$T/sim.port"
  "${PIN_C[@]}" "$B/smpp/smsc-sim" --listen 127.0.0.1:0 --port-file "$T/sim.port" --events "$1" \
    --window "$WIN" --exit-when-done --timeout-s 36000 --summary "$T/$2.json" >/dev/null 2>"$T/$2.log" &
  local spid=$!; PIDS+=($spid)
  for _ in $(seq 600); do [ -s "$T/sim.port" ] && break; sleep 0.1; done
  jq --argjson port "$(cat "$T/sim.port")" --arg sock "$T/redis.sock" --arg j "$T/journal" \
    '.smpp.port = $port | .redis.unix_socket = $sock | .redis.request_timeout_ms = 10000
     | .journal.dir = $j | .log.level = "notice" | .metrics.stats_file = ""
     | if $b != "" then .ledger.ref_index_buckets = ($b | tonumber) else . end' --arg b "${BENCH_REF_BUCKETS:-}" \
    "$SRC/deploy/loyaltygw.json" >"$T/cfg/loyaltygw.json"
  local r0 y0 s0 s1 g1; r0=$(rcpu); y0=$(rsys); s0=$(pcpu $spid); s1=$s0; g1=0
  "${PIN_C[@]}" "$B/gateway/loyaltygw" --config "$T/cfg/loyaltygw.json" 2>"$T/gw-$2.log" &
  local gpid=$!; PIDS+=($gpid)
  # the simulator's and the gateway's CPU, read until the simulator exits (a tenth of a second
  # at most is not counted)
  while kill -0 "$spid" 2>/dev/null; do s1=$(pcpu $spid); g1=$(pcpu $gpid); sleep 0.1; done
  wait "$spid" || true
  echo "$(awk -v a="$r0" -v b="$(rcpu)" 'BEGIN {print b - a}') $g1 $(awk -v a="$s0" -v b="$s1" 'BEGIN {print b - a}') $(awk -v a="$y0" -v b="$(rsys)" 'BEGIN {print b - a}')" >"$T/$2.cpu"
  kill -TERM "$gpid"; wait "$gpid" 2>/dev/null || true
  jq -r '"\(.events) events, final \(.final | tostring), \(.redelivered) redelivered, \(.unfinished) unfinished, \(.events / (.delivery_ms / 1000) | floor) events/s"' "$T/$2.json"
}
CHUNK=${BENCH_CHUNK:-100000}
add() { awk -v a="$1" -v b="$2" 'BEGIN {print a + b}'; }
busy() { awk -v r="$1" -v c="$2" 'BEGIN {printf "%.0f %%", r * c / 1e4}'; } # events/s, us per event
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
# Redis's work per event since the last CONFIG RESETSTAT: "EVALSHA calls per event, us per
# EVALSHA (the calls' wall time: a busy machine's preemption counts), other commands per event,
# events per socket read and write" (INFO commandstats and stats)
per_event() { # events
  local c u o r w; read -r c u o r w <<<"$(cstats)"
  awk -v c="$c" -v u="$u" -v o="$o" -v r="$r" -v w="$w" -v n="$1" 'BEGIN {
    printf "%.3f EVALSHA per event at %.1f us each, %.3f other commands per event, %.1f events per socket read, %.1f per write", c / n, (c ? u / c : 0), o / n, n / (r ? r : 1), n / (w ? w : 1)}'
}

# The SMPP side: SUBS subscribers x 5 events over SMPP from an empty Redis, in chunks of CHUNK
# subscribers (all 5 events of a chunk, then the next chunk), the figures so far printed after
# each: a run stopped early still says what it measured. Sets RATE ev m0 m1 cr cg cs SIDE_STATS.
smpp_side() { # subscribers
  local subs=$1 chunk=$CHUNK n out c1 c2 c3 c4 ms=0 done_subs=0
  [ "$chunk" -le "$subs" ] || chunk=$subs
  rcli flushall sync >/dev/null; rm -f "$T"/journal/*; rcli config resetstat >/dev/null
  m0=$(mem); ev=0; cr=0; cg=0; cs=0; cy=0
  echo "  SMPP path: $subs subscribers x 5 events over SMPP (window $WIN), shipped config, in chunks of $chunk:"
  while [ "$done_subs" -lt "$subs" ]; do
    n=$(( subs - done_subs < chunk ? subs - done_subs : chunk ))
    gen $(( 20000000 + done_subs )) "$n" 0 4 "$T/month.events"
    run_load "$T/month.events" month >"$T/line" # not in $(...): its pids stay the cleanup's
    out=$(cat "$T/line")
    done_subs=$(( done_subs + n ))
    ev=$(( ev + $(jq -r .events "$T/month.json") )); ms=$(( ms + $(jq -r .delivery_ms "$T/month.json") ))
    read -r c1 c2 c3 c4 <"$T/month.cpu"
    cr=$(add "$cr" "$c1"); cg=$(add "$cg" "$c2"); cs=$(add "$cs" "$c3"); cy=$(add "$cy" "$c4")
    m1=$(mem)
    echo "    $done_subs subscribers: $out; used_memory +$((m1 - m0)) = $(( (m1 - m0) / done_subs )) bytes per subscriber all-in (load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%H:%M:%S))"
  done
  RATE=$(( ms > 0 ? ev * 1000 / ms : 0 ))
  SCPU=$(awk -v r="$cr" -v n="$ev" 'BEGIN {printf "%.1f", r * 1e6 / n}')
  echo "    Redis $SCPU us of CPU per event ($(awk -v r="$cy" -v n="$ev" 'BEGIN {printf "%.1f", r * 1e6 / n}') system), $(per_event "$ev"); at the end used_memory $m1, $(rcli dbsize) keys; loyaltygw $(awk -v g="$cg" -v n="$ev" 'BEGIN {printf "%.1f", g * 1e6 / n}') us, smsc-sim $(awk -v s="$cs" -v n="$ev" 'BEGIN {printf "%.1f", s * 1e6 / n}') us of CPU per event"
}

# The raw side: the same events in the same order and chunks (bench_ledger, the load's order),
# from an empty Redis. Sets BARE RAWCPU RAW_STATS.
raw_side() { # subscribers
  rcli flushall sync >/dev/null
  local r0 y0 m; r0=$(rcpu); y0=$(rsys)
  BENCH_LEDGER_PHASES=1 BENCH_LEDGER_TURNS=raw BENCH_LEDGER_ROUNDS=1 BENCH_LEDGER_ORDER=load \
    BENCH_LEDGER_CHUNK="$CHUNK" BENCH_LEDGER_CONFIG="$SRC/deploy/loyaltygw.json" \
    BENCH_LEDGER_BUCKETS="${BENCH_REF_BUCKETS:-}" \
    "${PIN_C[@]}" "$B/tests/bench_ledger" "$T/redis.sock" "$1" "$WIN" >"$T/bare.txt"
  BARE=$(awk '/^  raw commit script/ {printf "%.0f", $4}' "$T/bare.txt")
  local errs; errs=$(sed -n 's/^  raw commit script.*(\([0-9]*\) errors).*/\1/p' "$T/bare.txt")
  RAWCPU=$(awk -v a="$r0" -v b="$(rcpu)" -v n="$(( $1 * 5 ))" 'BEGIN {printf "%.1f", (b - a) * 1e6 / n}')
  local rawsys; rawsys=$(awk -v a="$y0" -v b="$(rsys)" -v n="$(( $1 * 5 ))" 'BEGIN {printf "%.1f", (b - a) * 1e6 / n}')
  RAW_STATS=$(per_event "$(( $1 * 5 ))"); m=$(mem)
  echo "  raw script: $(( $1 * 5 )) events, $errs errors, $BARE events/s; Redis $RAWCPU us of CPU per event ($rawsys system), $RAW_STATS; at the end used_memory $m, $(rcli dbsize) keys (load $(cut -d' ' -f1 /proc/loadavg), $(date -u +%H:%M:%S))"
}

# BENCH_PERF=DIR: perf record -g of redis-server during each side of the pairs, to DIR/redis-<side>.data
perf_on() { # side
  PERF_PID=
  [ -n "${BENCH_PERF:-}" ] || return 0
  perf record -F 499 -g -p "$REDIS_PID" -o "$BENCH_PERF/redis-$1.data" >/dev/null 2>&1 &
  PERF_PID=$!; PIDS+=($PERF_PID)
}
perf_off() { [ -z "$PERF_PID" ] || { kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null || true; }; }
side() { # raw|smpp pair
  perf_on "$1$2"
  if [ "$1" = raw ]; then raw_side "$TSUBS"; else smpp_side "$TSUBS"; fi
  perf_off; LAST_SIDE=$1
}
LAST_SIDE=

# 3. throughput: PAIRS pairs of sides, raw then SMPP (BENCH_ORDER=abba: every second pair SMPP
# then raw, so that a machine whose load drifts favours neither side)
ORDER=${BENCH_ORDER:-alternate}
if [ "$PAIRS" -gt 0 ]; then
  echo "throughput: $PAIRS pairs ($([ "$ORDER" = abba ] && echo "raw commit script then SMPP path, then the other way round" || echo "raw commit script, then SMPP path")), each side on an empty Redis grown to $TSUBS subscribers x 5 events, the same events in the same order and chunks of $CHUNK, $WIN in flight, ${BENCH_REF_BUCKETS:-the shipped} ref index buckets; $PINNED:"
  : >"$T/pairs.txt"
  for p in $(seq "$PAIRS"); do
    l0=$(cut -d' ' -f1 /proc/loadavg)
    if [ "$ORDER" = abba ] && [ $(( p % 2 )) -eq 0 ]; then side smpp "$p"; side raw "$p"; else side raw "$p"; side smpp "$p"; fi
    echo "$(ratio "$RATE" "$BARE") $BARE $RATE $RAWCPU $SCPU" >>"$T/pairs.txt"
    echo "  pair $p: raw script $BARE events/s, SMPP path $RATE events/s: ratio SMPP / raw $(ratio "$RATE" "$BARE") (Redis CPU per event: raw $RAWCPU us, SMPP $SCPU us; Redis busy: raw $(busy "$BARE" "$RAWCPU"), SMPP $(busy "$RATE" "$SCPU"); load $l0 before, $(cut -d' ' -f1 /proc/loadavg) after)"
  done
fi

# 4. the memory: the last pair's SMPP load when it is the whole load and ran last, else a load of
# its own
if [ "$PART" != throughput ]; then
  if [ "$LAST_SIDE" != smpp ] || [ "$TSUBS" -ne "$SUBS" ]; then
    echo "load:"
    smpp_side "$SUBS"
  else
    echo "load: the last pair's SMPP path above"
  fi
  echo "  used_memory +$((m1 - m0)) bytes = $(( (m1 - m0) / SUBS )) bytes per subscriber all-in"

# 5. per key: a sample of 1,000 subscribers, the keys by kind, encodings
step=$(( SUBS / 1000 > 0 ? SUBS / 1000 : 1 ))
for i in $(seq 0 999); do
  s=$(( 20000000 + i * step )); [ $s -lt $(( 20000000 + SUBS )) ] || break
  echo "MEMORY USAGE lg:{2126$(printf %08d $s)}:w SAMPLES 0"
  echo "HSTRLEN lg:{2126$(printf %08d $s)}:w E"
  echo "HLEN lg:{2126$(printf %08d $s)}:w"
done | rcli >"$T/sample.txt"
awk 'NR % 3 == 1 {w += $1; n++} NR % 3 == 2 {e += $1} NR % 3 == 0 {f += $1}
  END {printf "  wallet lg:{M}:w (MEMORY USAGE, mean of %d): %.0f bytes, %.1f fields, E %.0f bytes\n", n, w / n, f / n, e / n}' "$T/sample.txt"
W1="lg:{2126$(printf %08d 20000000)}:w"
# the listpacks' own bytes (lpBytes; MEMORY USAGE counts the jemalloc size class they fall in:
# ... 192, 224, 256, 320, 384 ...), 200 wallets of the sample
: >"$T/redis.out"
for i in $(seq 0 199); do
  s=$(( 20000000 + i * step )); [ $s -lt $(( 20000000 + SUBS )) ] || break
  echo "DEBUG LISTPACK lg:{2126$(printf %08d $s)}:w"
done | rcli >/dev/null
sleep 0.5
awk '/^\{total bytes/ {b = $3; n++; s += b; if (b > mx) mx = b; if (!mn || b < mn) mn = b
    split("128 160 192 224 256 320 384 448 512 640 768 1024", cl, " ")
    for (i = 1; i in cl && b > cl[i] + 0; i++) ; c = i in cl ? cl[i] : "more"; k[c]++}
  END {if (n) {printf "  wallet listpack (DEBUG LISTPACK, %d wallets): mean %.1f bytes, min %d, max %d; jemalloc class", n, s / n, mn, mx
    for (c in k) printf " %s: %d", c, k[c]; printf "\n"}}' "$T/redis.out"
echo "  a wallet: $(rcli object encoding "$W1"), $(rcli memory usage "$W1") bytes, E $(rcli hstrlen "$W1" E) bytes; fields: $(rcli hkeys "$W1" | tr '\n' ' ')"
rcli --scan | awk -v subs="$SUBS" '
  { k = $0; sub(/\{[^}]*\}/, "{}", k); sub(/:[0-9]+$/, ":N", k); n[k]++; all++ }
  END { printf "  keys: %d for %d subscribers (%.3f per subscriber)\n", all, subs, all / subs
        for (k in n) printf "    %-24s %d\n", k, n[k] }' | sort -k2 -n -r
# the ref index: hashes lg:ri:* (the release before: HLEN refs) or strings lg:rs:* of 13-byte
# records (STRLEN / 13 refs), 200 buckets of each kind found
for kind in ri rs; do
  { rcli --scan --pattern "lg:$kind:*" || true; } | head -200 >"$T/ri.txt" || true
  [ -s "$T/ri.txt" ] || continue
  cnt=HLEN; [ $kind = rs ] && cnt=STRLEN
  while read -r k; do echo "MEMORY USAGE $k SAMPLES 0"; echo "$cnt $k"; done <"$T/ri.txt" | rcli |
    awk -v per=$([ $kind = rs ] && echo 13 || echo 1) -v kind=$kind 'NR % 2 == 1 {u += $1} NR % 2 == 0 {r += $1 / per}
      END {printf "  ref index lg:%s: %.1f bytes per ref (200 buckets, %.0f refs each, %.0f bytes each)\n", kind, u / r, r / (NR / 2), u / (NR / 2)}'
  echo "  a bucket: $(rcli type "$(head -1 "$T/ri.txt")") $(rcli object encoding "$(head -1 "$T/ri.txt")")"
done
echo "  lg:rules: $(rcli memory usage lg:rules) bytes, $(( ($(rcli hlen lg:rules) - 1) / 2 )) texts (carrier-wide)"

# 6. 5 more events for MORE subscribers: each further ref
run_load "$T/more.events" more >"$T/line"
echo "  5 more events for $MORE subscribers: $(cat "$T/line")"
m2=$(mem)
echo "  used_memory +$((m2 - m1)) bytes = $(( (m2 - m1) / (MORE * 5) )) bytes per further ref (its record, index entry, lot and activity share)"
fi
echo "machine at the end: $(uptime)"
if [ "$PAIRS" -gt 0 ]; then
  # the median of the pairs' ratios, and of each column apart
  med() { cut -d' ' -f"$1" "$T/pairs.txt" | sort -g | awk '{v[NR] = $1} END {m = int((NR + 1) / 2); print (v[m] + v[NR % 2 ? m : m + 1]) / 2}'; }
  echo "throughput: median of $PAIRS pairs: SMPP path / raw script $(printf %.2f "$(med 1)") (pairs: $(cut -d' ' -f1 "$T/pairs.txt" | tr '\n' ' ' | sed 's/ $//')); raw script $(printf %.0f "$(med 2)") events/s, SMPP path $(printf %.0f "$(med 3)") events/s; Redis CPU per event: raw $(med 4) us, SMPP $(med 5) us"
fi
if [ "$PAIRS" -eq 0 ]; then
  awk -v r="$cr" -v g="$cg" -v s="$cs" -v n="$ev" -v rate="$RATE" 'BEGIN {
    printf "throughput: SMPP path %d events/s (no raw side: BENCH_PART=memory); CPU per event (us): Redis %.1f, loyaltygw %.1f, smsc-sim %.1f\n", rate, r * 1e6 / n, g * 1e6 / n, s * 1e6 / n}'
fi

#!/usr/bin/env bash
# Fulfilment throughput (owned by the fulfilment engineer): N redemptions queued on the stream, one
# worker (tests/it/it_fulfil worker: cat_fulfil + cat_prov + gw_http) against tests/it/prov_server
# on loopback and a private redis-server; prints grants per second end to end (read, marker,
# POST /v1/grants, mark fulfilled, SMS hook, XACK). Not a test: no assertion on speed.
#   tests/bench/fulfil.sh BUILD_DIR [N=5000] [IN_FLIGHT=32]
set -euo pipefail
LGW_BIN=$(cd "${1:?build dir}" && pwd)
N=${2:-5000}
INF=${3:-32}
export LGW_BIN
source "$(dirname "$0")/../it/lib.sh"

start_redis
"$LGW_BIN/tests/prov_server" --listen 127.0.0.1:0 --port-file "$T/prov.port" --record "$T/rec" \
  --token tok 2>"$T/prov.log" &
PIDS+=("$!")
wait_for 10 test -s "$T/prov.port"
URL="http://127.0.0.1:$(cat "$T/prov.port")"
GDAY=$(TZ=Africa/Casablanca date +%Y%m%d) # the records' gift day: today, local
for i in $(seq 1 "$N"); do
  m=$((212700000000 + i))
  echo "HSET t:rec:$m:DATA_1GB:$GDAY:b$i state queued price 500 msisdn $m item DATA_1GB"
  echo "XADD cat:fulfil * rid $m:DATA_1GB:$GDAY:b$i msisdn $m to \"\" item DATA_1GB version v1 price 500 day $GDAY type provisioning kind data quantity 1024 unit MB at 0"
done | rcli >/dev/null
t0=$(date +%s%N)
"$LGW_BIN/tests/it_fulfil" worker --redis "$REDIS_SOCK" --url "$URL" --token tok \
  --sms "$T/sms.txt" --stats "$T/stats.json" --in-flight "$INF" --until-idle --max-s 600 \
  >"$T/worker.log" 2>&1 || { echo "worker exited $?" >&2; tail -5 "$T/worker.log" >&2; exit 1; }
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
granted=$(jq .granted "$T/stats.json")
echo "MEASURE fulfil: $granted of $N granted in $ms ms with $INF calls in flight:" \
  "$(( granted * 1000 / (ms > 0 ? ms : 1) )) grants/s (includes the 200 ms idle check)"
[ "$granted" = "$N" ] || { echo "not all granted" >&2; exit 1; }
finish

#!/usr/bin/env bash
# Issue 9, section 1, over a real SMPP session and a real Redis, then the same on a 3-master
# Redis Cluster: the carried remainder is exact (the issue's three reproductions), a REVERSAL
# that overtakes its original leaves no net credit, a ref already committed for another MSISDN is
# answered ESME_RX_P_APPN with a dead letter naming the conflict, and a wallet the ledger cannot
# read gives a permanent, dead-lettered, counted outcome instead of ESME_RX_T_APPN for ever. A ref
# in the ref index of the release before (a hash lg:ri, docs/data-model.md 4) is still honoured.
source "$(dirname "$0")/lib.sh"

DAY=$(date -u -d yesterday +%F)
PERIOD=$(date -u -d yesterday +%Y-%m)
cat >"$T/exact.events" <<EOF
BILL ref=EX-B1 msisdn=212600100001 amount=10.01 currency=MAD at=${DAY}T08:00:00Z period=$PERIOD
BILL ref=EX-B2 msisdn=212600100001 amount=9.99 currency=MAD at=${DAY}T08:01:00Z period=$PERIOD
USAGE ref=EX-U1 msisdn=212600100002 amount=25.01 currency=MAD at=${DAY}T08:02:00Z period=$PERIOD
USAGE ref=EX-U2 msisdn=212600100002 amount=24.99 currency=MAD at=${DAY}T08:03:00Z period=$PERIOD
TOPUP ref=EX-T1 msisdn=212600100003 amount=3.335 currency=MAD at=${DAY}T08:04:00Z
TOPUP ref=EX-T2 msisdn=212600100003 amount=3.335 currency=MAD at=${DAY}T08:05:00Z
TOPUP ref=EX-T3 msisdn=212600100003 amount=3.335 currency=MAD at=${DAY}T08:06:00Z
REVERSAL ref=RV-1 msisdn=212600100004 orig=T-LATE at=${DAY}T09:00:00Z
TOPUP ref=T-LATE msisdn=212600100004 amount=100.00 currency=MAD at=${DAY}T08:30:00Z
TOPUP ref=DUP-X msisdn=212600100005 amount=500.00 currency=MAD at=${DAY}T10:00:00Z
TOPUP ref=DUP-X msisdn=212600100006 amount=500.00 currency=MAD at=${DAY}T10:00:00Z
TOPUP ref=CW-1 msisdn=212600100007 amount=50.00 currency=MAD at=${DAY}T11:00:00Z
TOPUP ref=OLD-IDX msisdn=212600100009 amount=50.00 currency=MAD at=${DAY}T12:00:00Z
EOF

# The key of REF in the ref index of the release before, this period (gw_ledger.c: djb2 bucket
# of 65536, periods of 31 days)
old_idx() {
  local h=5381 i c
  for ((i = 0; i < ${#1}; i++)); do printf -v c '%d' "'${1:i:1}"; h=$(( (h * 33 + c) & 0xffffffff )); done
  echo "lg:ri:{b$(( h % 65536 ))}:$(( $(date -u +%s) / 2678400 ))"
}

# run_case CLI: the whole day against the Redis that CLI talks to (redis-cli args)
run_case() {
  local where=$1; shift
  local R=("$@")
  "${R[@]}" hset 'lg:{212600100007}:w' bal 'not-a-number' life 3 >/dev/null
  "${R[@]}" eval "return redis.call('HSET', KEYS[1], struct.pack('>I6',
    tonumber(redis.sha1hex(ARGV[1]):sub(13, 24), 16)), ARGV[2])" 1 "$(old_idx OLD-IDX)" OLD-IDX \
    212600100008 >/dev/null
  # window 1: the order of the file is the order of the commits (the reversal comes first)
  start_sim sim --events "$T/exact.events" --window 1 --exit-when-done --timeout-s 60
  write_config "$SIM_PORT"
  start_gw
  wait_sim sim 60
  bal() { "${R[@]}" hget "lg:{$1}:w" bal; }
  assert_eq 13 "$(sim_json sim .events)" "$where: the simulator sent every event"
  assert_eq 10 "$(sim_json sim '.final.ESME_ROK')" "$where: 10 events committed"
  assert_eq 3 "$(sim_json sim '.final.ESME_RX_P_APPN')" "$where: the conflicts and the corrupt wallet: P_APPN"
  assert_eq 0 "$(sim_json sim '.final.ESME_RX_T_APPN // 0')" "$where: nothing left to retry for ever"
  assert_eq 1 "$(bal 212600100001)" "$where: BILL 10.01 + 9.99 at 1/20 = 1 point"
  assert_eq 1 "$(bal 212600100002)" "$where: USAGE 25.01 + 24.99 at 1/50 = 1 point"
  assert_eq 1 "$(bal 212600100003)" "$where: TOPUP 3 x 3.335 at 1/10 = 1 point"
  assert_eq 0 "$(bal 212600100004)" "$where: the original after its REVERSAL earned nothing"
  assert_eq 50 "$(bal 212600100005)" "$where: the ref's owner keeps its 50 points"
  assert_eq "" "$(bal 212600100006)" "$where: no wallet for the second MSISDN of that ref"
  assert_eq not-a-number "$(bal 212600100007)" "$where: the corrupt wallet was not touched"
  local dlq
  dlq=$("${R[@]}" xrange lg:dlq:event - + | tr '\n' ' ')
  case "$dlq" in *"ref conflict: ref DUP-X already committed for MSISDN 212600100005, not 212600100006"*)
    echo "ok - $where: the dead letter names the conflict" ;; *) fail "$where: dead letters: $dlq" ;; esac
  case "$dlq" in *"ref conflict: ref OLD-IDX already committed for MSISDN 212600100008, not 212600100009"*)
    echo "ok - $where: a ref of the old index's hash is honoured" ;; *) fail "$where: dead letters: $dlq" ;; esac
  assert_eq "" "$(bal 212600100009)" "$where: no wallet for the MSISDN refused by the old index"
  case "$dlq" in *"wallet lg:{212600100007}:w unreadable"*"CW-1"*|*"CW-1"*"wallet lg:{212600100007}:w unreadable"*)
    echo "ok - $where: the corrupt wallet's event is kept as a dead letter" ;; *) fail "$where: dead letters: $dlq" ;; esac
  sleep 1.2 # one metrics interval
  assert_eq 2 "$(gw_stat .ingest.ref_conflicts)" "$where: two ref conflicts counted"
  assert_eq 1 "$(gw_stat .ingest.corrupt_wallets)" "$where: one corrupt wallet counted (the alarm)"
  assert_eq 1 "$(gw_stat .ingest.voided)" "$where: one original recorded after its reversal"
  grep -q 'ALARM event{…0007} TOPUP ref=CW-1' "$T/gw.log" &&
    echo "ok - $where: the corrupt wallet raised an alarm in the log" || fail "$where: no alarm logged"
  stop_gw
  if grep -q '2126001000' "$T/gw.log"; then fail "$where: a full MSISDN appears in the log"
  else echo "ok - $where: no full MSISDN in the log (the dead letters name them)"; fi
}

start_redis
run_case single rcli
# The same on the cluster: the wallet and the ref index live on different slots.
rm -f "$T/gw-stats.json"
start_redis_cluster
note "cluster: $CLUSTER_NODES"
: >"$T/gw.log"
run_case cluster ccli
slot_w=$(ccli cluster keyslot 'lg:{212600100005}:w')
idx_keys=$(for p in "${CLUSTER_PORTS[@]}"; do redis-cli -p "$p" --scan --pattern 'lg:rs:*'; done)
other=0
for k in $idx_keys; do [ "$(ccli cluster keyslot "$k")" != "$slot_w" ] && other=1; done
assert_eq 1 "$other" "cluster: the ref index lives on other slots than the wallet"
finish

#!/usr/bin/env bash
# Exactly-once under faults. The same 3,000 generated recharges are replayed four times against a
# real Redis and the simulator: once undisturbed (the control), once with Redis killed (-9) and
# restarted mid-stream, once with the SMSC dropping the TCP connection mid-stream, once with the
# gateway stopped by SIGTERM and restarted mid-stream. Every run must end with every event answered
# ESME_ROK and every wallet identical to the control: nothing lost, nothing counted twice.
source "$(dirname "$0")/lib.sh"

N=3000; SUBS=300
# Under valgrind the gateway runs ~30x slower: fewer events, same faults.
RATE=1000
if [ "${LGW_VALGRIND:-0}" = 1 ]; then N=600; SUBS=100; RATE=150; fi
GEN=(--generate $N --subscribers $SUBS --seed 42 --ref-prefix EO --at now)

dump_wallets() { # -> file: "key balance life" sorted
  rcli --scan --pattern 'lg:{*}:w' | while read -r k; do
    echo "$k $(rcli hget "$k" bal) $(rcli hget "$k" life)"
  done | sort >"$1"
}

credited_now() { jq -r '.ingest.credited // 0' "$T/gw-stats.json" 2>/dev/null || echo 0; }
wait_credited() { # n: waits until the gateway has credited at least n events
  local t=300
  while [ "$(credited_now)" -lt "$1" ]; do
    t=$((t - 1)); [ $t -gt 0 ] || { fail "gateway never reached $1 credits"; return; }
    sleep 0.1
  done
}

run() { # name sim-args...
  local name=$1; shift
  rcli flushall >/dev/null
  rm -f "$T/gw-stats.json"
  # --rate spreads the run over a few seconds so the faults below land mid-stream.
  start_sim "$name" "${GEN[@]}" --rate $RATE --window 20 --redeliver-ms 100 --max-attempts 1000 \
    --resp-timeout-ms 1500 --exit-when-done --timeout-s 150 "$@"
  write_config "$SIM_PORT"
  start_gw
}
check_run() { # name
  wait_sim "$1" 160
  assert_eq $N "$(sim_json "$1" '.final.ESME_ROK')" "$1: all $N events acknowledged ESME_ROK"
  assert_eq 0 "$(sim_json "$1" '.gave_up')" "$1: none given up"
  stop_gw
  dump_wallets "$T/$1.wallets"
  if [ "$1" != control ]; then
    if cmp -s "$T/control.wallets" "$T/$1.wallets"; then
      echo "ok - $1: every wallet equals the control run"
    else
      fail "$1: wallets differ from the control run: $(diff "$T/control.wallets" "$T/$1.wallets" | head -5)"
    fi
  fi
}

# Redis with an fsync per write, so a kill -9 loses nothing it acknowledged.
start_redis --appendonly yes --appendfsync always

note "control run"
run control
check_run control
assert_ge $((SUBS * 9 / 10)) "$(wc -l <"$T/control.wallets")" "control: the generated subscribers are enrolled"

note "Redis killed and restarted mid-stream"
run redis_crash
wait_credited $((N / 4))
kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true
sleep 1.5
start_redis --appendonly yes --appendfsync always
check_run redis_crash
assert_ge 1 "$(sim_json redis_crash '.acked.ESME_RX_T_APPN + .unanswered')" \
  "redis_crash: the outage was answered ESME_RX_T_APPN (or not at all) and redelivered"

note "SMSC drops the connection mid-stream"
run smsc_drop --disconnect-after $((N * 2 / 5))
check_run smsc_drop
assert_ge 2 "$(sim_json smsc_drop '.binds')" "smsc_drop: the gateway bound again"

note "gateway stopped with SIGTERM and restarted mid-stream"
run gw_restart
wait_credited $((N / 3))
stop_gw
sleep 0.5
start_gw
check_run gw_restart
finish

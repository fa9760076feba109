#!/usr/bin/env bash
# The service manager's side: the units of deploy/systemd pass `systemd-analyze verify` with no
# message at all (it exits 0 even on unknown keys, so any output fails), with their ExecStart
# binaries from this build; and loyaltygw / loyalty-admin speak the sd_notify protocol to a socket
# playing systemd (it_notify_sink): READY=1 once started, WATCHDOG=1 at half of WATCHDOG_USEC
# from the event loop, RELOADING=1 then READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
source "$(dirname "$0")/lib.sh"
SINK="$LGW_BIN/tests/it_notify_sink"

if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir -p "$T/units"
  for u in loyaltygw@.service loyalty-admin.service; do
    sed -e "s#/usr/sbin/loyaltygw#$LGW_BIN/gateway/loyaltygw#g" \
        -e "s#/usr/sbin/loyalty-admin#$LGW_BIN/admin/loyalty-admin#g" \
        "$LGW_SRC/deploy/systemd/$u" >"$T/units/$u"
  done
  cp "$T/units/loyaltygw@.service" "$T/units/loyaltygw@smsc1.service"
  for u in loyaltygw@smsc1.service loyalty-admin.service; do
    out=$(systemd-analyze verify --man=no "$T/units/$u" 2>&1) && [ -z "$out" ] &&
      echo "ok - systemd-analyze verify $u: clean" || fail "systemd-analyze verify $u: $out"
    score=$(systemd-analyze security --offline=yes "$T/units/$u" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    note "$u: systemd-analyze security exposure ${score:-?} (0 = most locked down, 10 = none)"
  done
  # the check can fail: a unit with an unknown key and a bad value
  printf '[Service]\nExecStart=/bin/true\nMemoryMax=lots\nFooBar=1\n' >"$T/units/bad.service"
  out=$(systemd-analyze verify --man=no "$T/units/bad.service" 2>&1 || true)
  [ -n "$out" ] && echo "ok - a broken unit does produce messages" || fail "verify silent on a broken unit"
else
  echo "SKIP: systemd-analyze is not installed (deploy/setup.sh installs systemd); the units are not verified"
fi

# ------------------------------------------------------------------ logrotate, as shipped
LR=$(command -v logrotate || echo /usr/sbin/logrotate)
if [ -x "$LR" ]; then
  rc=0; "$LR" -d -s "$T/lr.state" "$LGW_SRC/deploy/logrotate/loyaltygw" >"$T/lr.out" 2>&1 || rc=$?
  assert_eq "0 0" "$rc $(grep -ci 'error' "$T/lr.out" || true)" "logrotate -d reads deploy/logrotate/loyaltygw without an error"
  printf '/x/*.log {\n  dailyy\n}\n' >"$T/bad.lr"
  rc=0; "$LR" -d -s "$T/lr.state" "$T/bad.lr" >"$T/lr.out" 2>&1 || rc=$?
  [ "$rc" -ne 0 ] && echo "ok - logrotate -d does fail on a broken file" || fail "logrotate -d silent on a broken file"
else
  echo "SKIP: logrotate is not installed (deploy/setup.sh installs it); the file is not checked"
fi

# ------------------------------------------------------------------ sd_notify
"$SINK" "$T/notify.sock" >"$T/notify.log" 2>"$T/sink.log" &
PIDS+=($!)
wait_for 5 test -S "$T/notify.sock" || { fail "the notify sink did not start"; finish; }
start_redis
start_sim idle --timeout-s 60
write_config "$SIM_PORT"
# WATCHDOG_USEC 400 ms: pings every 200 ms
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 start_gw
wait_for 10 grep -q '^READY=1' "$T/notify.log" && echo "ok - loyaltygw: READY=1" || fail "no READY=1: $(cat "$T/notify.log")"
wait_for 10 sh -c "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge 3 ]" &&
  echo "ok - loyaltygw: WATCHDOG=1 pings from the loop" || fail "no watchdog pings: $(cat "$T/notify.log")"
kill -HUP "$GW_PID"
wait_for 10 grep -q '^RELOADING=1' "$T/notify.log" && echo "ok - SIGHUP: RELOADING=1" || fail "no RELOADING=1"
wait_for 10 sh -c "sed -n '/^RELOADING=1/,\$p' '$T/notify.log' | grep -q '^READY=1'" &&
  echo "ok - SIGHUP: READY=1 after the reload" || fail "no READY=1 after RELOADING=1: $(cat "$T/notify.log")"
stop_gw
wait_for 10 grep -q '^STOPPING=1' "$T/notify.log" && echo "ok - SIGTERM: STOPPING=1" || fail "no STOPPING=1: $(cat "$T/notify.log")"
grep -q 'systemd watchdog: pinging every 200 ms' "$T/gw.log" && echo "ok - watchdog period logged" ||
  fail "watchdog period not in the log"

: >"$T/notify.log"
NOTIFY_SOCKET="$T/notify.sock" "$LGW_BIN/admin/loyalty-admin" --config "$T/gw.json" \
  --listen 127.0.0.1:0 >"$T/adm.out" 2>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 10 grep -q '^READY=1' "$T/notify.log" && echo "ok - loyalty-admin: READY=1" || fail "admin: no READY=1"
# systemctl reload (and a stray HUP from a log rotation): the config file is re-read, not fatal
jq '.log.level = "debug"' "$T/gw.json" >"$T/gw2.json" && mv "$T/gw2.json" "$T/gw.json"
N=$(wc -l <"$T/notify.log") # the notices after this line are the reload's
kill -HUP "$ADM_PID"
wait_for 10 sh -c "tail -n +$((N + 1)) '$T/notify.log' | tr -d '\\000' | sed -n '/^RELOADING=1/,\$p' | grep -q '^READY=1'" &&
  echo "ok - loyalty-admin: SIGHUP: RELOADING=1 then READY=1" || fail "admin: no reload notices: $(cat "$T/notify.log")"
wait_for 10 grep -q 'SIGHUP: .* re-read: log level debug' "$T/adm.log" &&
  echo "ok - loyalty-admin: the new log level applied" || fail "admin: no reload line: $(cat "$T/adm.log")"
printf '{ "log": ' >"$T/gw.json" # a broken file: logged, nothing changes, still serving
kill -HUP "$ADM_PID"
wait_for 10 grep -q 'configuration unchanged' "$T/adm.log" &&
  echo "ok - loyalty-admin: a broken file is refused and logged" || fail "admin: broken file not logged"
kill -0 "$ADM_PID" 2>/dev/null && echo "ok - loyalty-admin still runs after two SIGHUPs" || fail "SIGHUP killed loyalty-admin"
kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0"
wait_for 10 grep -q '^STOPPING=1' "$T/notify.log" && echo "ok - loyalty-admin: STOPPING=1" || fail "admin: no STOPPING=1"
finish

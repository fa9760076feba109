#!/usr/bin/env bash
# log.output "syslog" and "journal" with log.format "json", through the real glibc syslog(3) and
# the real libsystemd sd_journal_send(): the gateway runs in a private mount namespace whose
# /dev/log and /run/systemd/journal/socket are datagram sockets of it_notify_sink (so neither the
# machine's syslog nor its journal sees anything, and the test needs neither). Checked: syslog
# lines carry facility daemon and the level as priority, the ident "loyaltygw[pid]:", and a JSON
# object; journal entries carry MESSAGE (the JSON line), PRIORITY, SYSLOG_IDENTIFIER and
# LGW_CATEGORY. Needs root and unshare (util-linux); skipped with a message otherwise.
source "$(dirname "$0")/lib.sh"
SINK="$LGW_BIN/tests/it_notify_sink"

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  echo "SKIP: needs root and unshare -m to give the gateway a private /dev/log and journal socket"
  finish
fi
"$SINK" "$T/devlog.sock" >"$T/syslog.out" 2>"$T/sink1.log" &
PIDS+=($!)
"$SINK" "$T/journal.sock" >"$T/journal.out" 2>"$T/sink2.log" &
PIDS+=($!)
wait_for 5 test -S "$T/devlog.sock" && wait_for 5 test -S "$T/journal.sock" || { fail "sinks"; finish; }

run_gw() { # output: runs the gateway 3.5 s in the namespace (no Redis, no SMSC: it logs retries)
  jq -n --arg o "$1" --arg s "$T/nowhere.sock" '{smpp: {port: 1, reconnect_min_ms: 100},
     redis: {unix_socket: $s, reconnect_min_ms: 100, reconnect_max_ms: 200},
     log: {level: "info", format: "json", output: $o}}' >"$T/gw-$1.json"
  unshare -m sh -c "
    set -e
    mkdir -p $T/olddev
    mount --bind /dev $T/olddev
    mount -t tmpfs tmpfs /dev
    for n in null zero random urandom; do touch /dev/\$n; mount --bind $T/olddev/\$n /dev/\$n; done
    ln -s $T/devlog.sock /dev/log
    mount -t tmpfs tmpfs /run
    mkdir -p /run/systemd/journal
    ln -s $T/journal.sock /run/systemd/journal/socket
    $LGW_BIN/gateway/loyaltygw --config $T/gw-$1.json >$T/gw-$1.out 2>$T/gw-$1.log &
    pid=\$!
    sleep 3.5 # the SMPP link starts (INFO) after 3 s without Redis
    kill -TERM \$pid
    wait \$pid || true
  " 2>"$T/ns-$1.log" || fail "namespace set-up for $1: $(cat "$T/ns-$1.log")"
}

run_gw syslog
wait_for 5 grep -q 'loyaltygw\[' "$T/syslog.out" && echo "ok - syslog: lines arrive with the ident" ||
  fail "no syslog line: $(head -3 "$T/syslog.out")"
# "<29>Dec  7 01:02:03 loyaltygw[123]: {...}": facility daemon (3 << 3) + NOTICE (5) = 29
grep -q '^<29>.* loyaltygw\[[0-9]*\]: {"ts":"' "$T/syslog.out" &&
  echo "ok - syslog: NOTICE is <29> (daemon.notice)" || fail "no <29> line: $(head -3 "$T/syslog.out")"
grep -q '^<30>.*starting the SMPP link' "$T/syslog.out" && echo "ok - syslog: INFO is <30> (daemon.info)" ||
  fail "no <30> line: $(cut -c1-120 "$T/syslog.out")"
bad=0; n=0
while IFS= read -r line; do
  n=$((n + 1)); echo "${line#*]: }" | jq -e '.ts and .level and .cat and .msg' >/dev/null 2>&1 || bad=$((bad + 1))
done <"$T/syslog.out"
assert_ge 3 "$n" "syslog: $n lines"
assert_eq 0 "$bad" "syslog: every line's message is a JSON object with ts, level, cat, msg"
[ ! -s "$T/gw-syslog.log" ] && echo "ok - syslog: nothing on stderr" || fail "stderr: $(head -3 "$T/gw-syslog.log")"

run_gw journal
wait_for 5 grep -q 'SYSLOG_IDENTIFIER=loyaltygw' "$T/journal.out" && echo "ok - journal: entries arrive" ||
  fail "no journal entry: $(head -3 "$T/journal.out")"
grep -q '^MESSAGE={"ts":"[^|]*|PRIORITY=5|SYSLOG_IDENTIFIER=loyaltygw|LGW_CATEGORY=main|\?$' "$T/journal.out" &&
  echo "ok - journal: MESSAGE (JSON), PRIORITY 5 for NOTICE, identifier, LGW_CATEGORY" ||
  fail "journal fields: $(head -3 "$T/journal.out")"
grep -q 'LGW_CATEGORY=redis' "$T/journal.out" && echo "ok - journal: the category of each line" || fail "no redis category"
grep -q 'starting the SMPP link.*PRIORITY=6|' "$T/journal.out" && echo "ok - journal: INFO is PRIORITY 6" || fail "no PRIORITY=6"
[ ! -s "$T/gw-journal.log" ] && echo "ok - journal: nothing on stderr" || fail "stderr: $(head -3 "$T/gw-journal.log")"
finish

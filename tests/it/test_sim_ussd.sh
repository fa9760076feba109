#!/usr/bin/env bash
# smsc-sim's USSD subscribers over real SMPP/TCP, against it_ussd_esme (a minimal scripted USSD
# application, so these run whatever state the gateway's USSD side is in):
#   --phone --script: screens as a handset shows them, final screens, Persian answers in UCS-2,
#     a concatenated SMS joined, dial-while-open releases, !abort, a stale session's screen
#     ignored, a silent network timing out, exit 0 at the end of the script;
#   --ussd-load: every dialogue by its own MSISDN with the right screens, each way of ending,
#     stray screens never applied, --record lines, the summary's counters and hop latency;
#   --route alternate / first with two ESMEs bound (--wait-binds 2).
source "$(dirname "$0")/lib.sh"
ESME="$LGW_BIN/tests/it_ussd_esme"

start_esme() { # name port
  "$ESME" "$2" "$1" >"$T/$1.esme.out" 2>"$T/$1.esme.log" &
  PIDS+=($!)
  eval "ESME_PID_$1=$!"
}
stop_esme() {
  local pid; pid=$(eval echo "\$ESME_PID_$1")
  kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
}
wait_rc() { # name timeout_s: waits for the simulator to exit; its exit status in SIM_RC
  local pid t=$(( $2 * 10 )); pid=$(eval echo "\$SIM_PID_$1")
  while kill -0 "$pid" 2>/dev/null; do
    t=$((t - 1)); [ $t -gt 0 ] || { fail "simulator $1 still running after $2 s"; kill "$pid"; break; }
    sleep 0.1
  done
  SIM_RC=0; wait "$pid" || SIM_RC=$?
}
has() { # file fixed-string message
  if grep -qF -- "$2" "$1"; then echo "ok - $3"; else fail "$3: '$2' not in $1"; fi
}

# ------------------------------------------------------------------ the phone, scripted
cat >"$T/call.txt" <<'EOF'
# a scripted call: comments and blank lines are skipped

*555#
hello
۱۲
2
sms
*555*1#
stale
*555#
!abort
*555#
9
EOF
start_sim phone --phone 212612345678 --script "$T/call.txt" --ussd-timeout-ms 700 \
  --linger-ms 200 --timeout-s 30
start_esme GW1 "$SIM_PORT"
wait_rc phone 30
assert_eq 0 "$SIM_RC" "the phone exits 0 at the end of its script"
P="$T/phone.out"
has "$P" "> *555#" "the script's lines are echoed"
has "$P" "  | GW1 menu *555#" "the first screen is shown as on a handset"
has "$P" "  | 2 فارسی" "Persian option text shown in logical order"
has "$P" "  | GW1 got hello" "an answer reaches the application and its screen comes back"
has "$P" "  | GW1 got ۱۲" "Persian digits typed go through"
has "$P" "  | امتیاز شما: ۱۲۰" "a UCS-2 screen is decoded"
has "$P" "[SMS from *555#]" "a plain SMS to the phone is shown"
has "$P" "in the right order whatever order they arrive in. Thank you for being with us!" \
  "the concatenated SMS parts (sent last part first) are joined in order"
has "$P" "(screen for session 3 ignored" "a screen for another session is not applied"
has "$P" "[no screen within 700 ms: dialogue ended]" "... and the dialogue waiting for its own times out"
has "$P" "[dialogue released]" "dialling while a dialogue is open releases it"
has "$P" "[dialogue aborted]" "!abort aborts"
has "$P" "  | Bye" "the final screen is shown"
assert_eq "[dialogue ended]" "$(tail -n 1 "$P")" "the final screen is marked '[dialogue ended]'"
assert_eq 0 "$(grep -c 'listening on' "$P" || true)" "stdout is the handset's screen only"
assert_eq 4 "$(sim_json phone .phone.dialogues)" "four dialogues dialled"
assert_eq 1 "$(sim_json phone .phone.sms)" "one SMS (of two parts) shown"
assert_eq 1 "$(sim_json phone .phone.ignored)" "one screen ignored"
E="$T/GW1.esme.out"
has "$E" "op=18 session=1 end=0 dc=8 text=۱۲" "Persian digits go as UCS-2 (data_coding 8)"
has "$E" "op=18 session=1 end=0 dc=0 text=hello" "Latin text goes as GSM-7 (data_coding 0)"
has "$E" "op=18 session=1 end=1 dc=0 text= |" "the release carries the end bit"
has "$E" "op=1 session=2 end=0 dc=0 text=*555*1# | to=*555*1#" \
  "each dial takes the next session number; destination_addr is the dialled string by default"
has "$E" "op=129 session=3 end=1" "!abort sends the vendor abort op with the end bit"
has "$E" "op=1 session=4 end=0 dc=0 text=*555#" "the fourth dial is session 4"
stop_esme GW1

# ------------------------------------------------------------------ --ussd-load, one ESME
# 30 dialogues, 4 at a time: the inputs decide how each ends (see it_ussd_esme.c)
load_case() { # name inputs n
  rm -f "$T/$1.rec"
  start_sim "$1" --ussd-load "$3" --ussd-concurrency 4 --ussd-inputs "$2" --ussd-code-addr 555 \
    --ussd-timeout-ms 500 --record "$T/$1.rec" --timeout-s 60
  start_esme "E$1" "$SIM_PORT"
  wait_sim "$1" 60
  stop_esme "E$1"
}
load_case pssr 'hello,2,9' 30
assert_eq 30 "$(sim_json pssr .ussd_load.ok)" "load: 30 dialogues ok"
assert_eq 30 "$(sim_json pssr .ussd_load.ended.pssr)" "load: each ended by the PSSR response"
assert_eq 120 "$(sim_json pssr .ussd_load.hops)" "load: 4 hops per dialogue"
assert_eq 0 "$(sim_json pssr .ussd_load.stray_submits)" "load: no stray screen"
assert_eq 4 "$(sim_json pssr .ussd_load.open_max)" "load: never more than the concurrency open"
assert_eq true "$(sim_json pssr '.ussd_load.hop_latency_ms.p99 > 0 and .ussd_load.hop_latency_ms.max >= .ussd_load.hop_latency_ms.p99')" \
  "load: hop latency measured"
assert_eq 30 "$(wc -l <"$T/pssr.rec")" "load: one --record line per dialogue"
assert_eq 30 "$(jq -r .msisdn "$T/pssr.rec" | sort -u | wc -l)" "load: 30 distinct MSISDNs"
assert_eq 212690000029 "$(jq -r .msisdn "$T/pssr.rec" | sort | tail -n 1)" "load: MSISDNs from the base"
line=$(jq -c 'select(.msisdn == "212690000007")' "$T/pssr.rec")
assert_eq '["Epssr menu *555#\n1 Echo\n2 فارسی\n9 Bye","Epssr got hello","امتیاز شما: ۱۲۰\n0 بازگشت","Bye"]' \
  "$(echo "$line" | jq -c .screens)" "load: the screens of one subscriber, in order"
assert_eq pssr "$(echo "$line" | jq -r .ended)" "load: the record names how it ended"
# every deliver_sm of a dialogue carries the dialogue's own session number
assert_eq 30 "$(awk '{print $3, $5}' "$T/Epssr.esme.out" | sort -u | wc -l)" \
  "load: one session number per MSISDN across its 4 messages"
assert_eq 1 "$(grep -c 'msisdn=212690000000 op=1 .*text=\*555# | to=555$' "$T/Epssr.esme.out")" \
  "load: destination_addr from --ussd-code-addr, the dialled string as text"

load_case exhausted 'hello' 6
assert_eq 6 "$(sim_json exhausted .ussd_load.ended.inputs_exhausted)" "load: inputs exhausted -> release"
assert_eq 6 "$(grep -c 'op=18 session=[0-9]* end=1' "$T/Eexhausted.esme.out")" "load: each release has the end bit"
load_case endbit '8' 5
assert_eq 5 "$(sim_json endbit .ussd_load.ended.endbit)" "load: the end bit ends a dialogue"
load_case aborted 'hello,!abort' 5
assert_eq 5 "$(sim_json aborted .ussd_load.ended.abort)" "load: '!abort' aborts"
assert_eq 5 "$(grep -c 'op=129 session=[0-9]* end=1' "$T/Eaborted.esme.out")" "load: abort op 129"
load_case silent 'hello,mute' 5
assert_eq 5 "$(sim_json silent .ussd_load.timeouts)" "load: no screen -> timeout"
assert_eq 0 "$(sim_json silent .ussd_load.ok)" "load: timeouts are not ok"
load_case stale 'stale' 5
assert_eq 5 "$(sim_json stale .ussd_load.stray_submits)" "load: a stale session's screen is stray"
assert_eq 5 "$(sim_json stale .ussd_load.ended.timeout)" "load: ... never applied: the dialogue times out"
assert_eq 5 "$(jq -r '.screens | length' "$T/stale.rec" | grep -c '^1$')" "load: ... and is not recorded"

# ------------------------------------------------------------------ --route with two ESMEs
route_case() { # name route
  start_sim "$1" --ussd-load 10 --ussd-concurrency 3 --ussd-inputs 'hello,2,9' --route "$2" \
    --wait-binds 2 --timeout-s 60
  start_esme "A$1" "$SIM_PORT"
  start_esme "B$1" "$SIM_PORT"
  wait_sim "$1" 60
  stop_esme "A$1"; stop_esme "B$1"
  assert_eq 10 "$(sim_json "$1" .ussd_load.ok)" "route $2: 10 dialogues ok across two binds"
}
route_case alt alternate
# 4 deliver_sm per dialogue, alternating: exactly 2 at each ESME, for every subscriber
assert_eq "10 10" "$(for f in Aalt Balt; do grep -o 'msisdn=[0-9]*' "$T/$f.esme.out" | sort | uniq -c | awk '$1 == 2' | wc -l; done | xargs)" \
  "route alternate: each dialogue's messages alternate between the two binds"
for m in 212690000000 212690000009; do
  a=$(grep -c "msisdn=$m op=1 " "$T/Aalt.esme.out" || true)
  b=$(grep -c "msisdn=$m op=18 session=[0-9]* end=0 dc=0 text=hello" "$T/Balt.esme.out" || true)
  c=$(grep -c "msisdn=$m op=1 " "$T/Balt.esme.out" || true)
  d=$(grep -c "msisdn=$m op=18 session=[0-9]* end=0 dc=0 text=hello" "$T/Aalt.esme.out" || true)
  assert_eq 1 "$(( (a && b) || (c && d) ))" "route alternate: $m dial and first answer on different binds"
done
route_case first first
fa=$(grep -c '^deliver' "$T/Afirst.esme.out" || true)
fb=$(grep -c '^deliver' "$T/Bfirst.esme.out" || true)
assert_eq "40 0" "$(echo $(( fa > fb ? fa : fb )) $(( fa < fb ? fa : fb )))" \
  "route first: every deliver_sm goes to the oldest bind"

# ------------------------------------------------------------------ usage errors
"$SIM" --phone 2126 --ussd-load 3 >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "--phone and --ussd-load exclude each other"
"$SIM" --route sideways >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "an unknown --route is a usage error"
"$SIM" --phone 21261234567x >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "--phone wants digits"
finish

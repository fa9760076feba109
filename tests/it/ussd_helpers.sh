# tests/it/ussd_helpers.sh - shared by the USSD/SMS integration tests (test_ussd_*.sh), sourced
# after lib.sh. Owner: the USSD-wiring engineer (issue 3).
#
# One gateway (lib.sh's start_gw) stays up on a fixed SMSC port; each scripted handset is a fresh
# smsc-sim listening on that port (the gateway reconnects to it), so every dialogue is played by
# the real simulator over real SMPP against a real redis-server. What the gateway submitted is
# read from the simulator's --record file (one JSON line per submit_sm: text, data_coding,
# ussd_service_op, its_session_info, the bind it came on).

MENUS="$LGW_SRC/deploy/ussd-menus.json"
SMSC_PORT=""

# Picks a free loopback port for the simulators of this test.
pick_port() { # a loopback TCP port nobody listens on (ss from iproute2; no python on CI)
  local used p lo
  used=" $(ss -Htln 2>/dev/null | awk '{n=split($4,a,":"); printf "%s ", a[n]}') "
  # Below the kernel's ephemeral range: a port inside it can be taken by the gateway's own
  # connect() to it while nothing listens yet (a loopback self-connect), and then the
  # simulator cannot bind it ("Address already in use").
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 12000 ] 2>/dev/null || lo=32768
  for _ in $(seq 200); do
    p=$((10000 + RANDOM % (lo - 10000)))
    case "$used" in *" $p "*) continue ;; esac
    SMSC_PORT=$p
    return 0
  done
  echo "no free port" >&2
  return 1
}

# write_config, then the USSD parts: the shipped menu file, points valid 12 months, plus an
# optional jq filter ($1) for the test's own settings.
ussd_config() {
  write_config "$SMSC_PORT"
  jq --arg m "$MENUS" ".ussd = {menus_file: \$m} | .loyalty.points_validity_months = 12 | ${1:-.}" \
    "$T/gw.json" >"$T/gw.json.tmp" && mv "$T/gw.json.tmp" "$T/gw.json"
}

# A second gateway process with the same configuration but its own log and stats file.
start_gw2() {
  jq --arg s "$T/gw2-stats.json" '.metrics.stats_file = $s' "$T/gw.json" >"$T/gw2.json"
  "$LGW_BIN/gateway/loyaltygw" --config "$T/gw2.json" >"$T/gw2.out" 2>>"$T/gw2.log" &
  GW2_PID=$!
  PIDS+=("$GW2_PID")
  wait_for 30 grep -q 'NOTICE main .*loyaltygw .*: SMSC' "$T/gw2.log" || fail "gateway 2 did not start"
}
stop_gw2() {
  kill -TERM "$GW2_PID" 2>/dev/null || true
  local rc=0
  wait "$GW2_PID" 2>/dev/null || rc=$?
  assert_eq 0 "$rc" "gateway 2 exits 0 after SIGTERM"
}

# events NAME LINE...: carrier events through a simulator of their own on SMSC_PORT, until each
# has its final answer.
events() {
  local name=$1; shift
  printf '%s\n' "$@" >"$T/$name.events"
  start_sim "$name" --listen "127.0.0.1:$SMSC_PORT" --events "$T/$name.events" --exit-when-done \
    --timeout-s 30
  wait_sim "$name" 40
}

# phone NAME MSISDN 'line\nline...' [smsc-sim args...]: a scripted handset (--phone --script)
# on the test's SMSC port; waits for it to finish. Submits land in $T/NAME.rec.
phone() {
  local name=$1 msisdn=$2 script=$3; shift 3
  printf '%b\n' "$script" >"$T/$name.script"
  rm -f "$T/$name.rec"
  start_sim "$name" --listen "127.0.0.1:$SMSC_PORT" --phone "$msisdn" --script "$T/$name.script" \
    --record "$T/$name.rec" --ussd-timeout-ms 5000 --timeout-s 40 "$@"
  wait_sim "$name" 45
}

# The screens of a record file as one JSON array of {text, dc, op, end} (end: its_session_info
# end bit), for exact comparison.
screens_json() {
  jq -s -c '[.[] | select(.service_type == "USSD") |
             {text, dc: .data_coding, op: .ussd_service_op,
              end: ((.its_session_info // 0) % 2 == 1)}]' "$T/$1.rec"
}

# expect_screens NAME MESSAGE screen-json...: each screen as a jq object
# '{"text": ..., "dc": 0, "op": 2, "end": false}'.
expect_screens() {
  local name=$1 msg=$2; shift 2
  local want
  want=$(printf '%s\n' "$@" | jq -s -c '.')
  assert_eq "$want" "$(screens_json "$name")" "$msg"
}

# A menu screen (continues: op 2, no end bit) and a last screen (op 17 + end bit, end_method both).
menu() { jq -n -c --arg t "$1" --argjson dc "${2:-0}" '{text: $t, dc: $dc, op: 2, end: false}'; }
last() { jq -n -c --arg t "$1" --argjson dc "${2:-0}" '{text: $t, dc: $dc, op: 17, end: true}'; }

# Dates relative to today, so the expiring-points line does not depend on when the test runs:
# a lot earned on the 5th two months ago expires 12 months later (the 5th exists in every month).
LOT_DAY=$(date -d "$(date +%Y-%m-05) -2 months" +%Y%m%d)
EXPIRY_TEXT=$(date -d "$(date +%Y-%m-05) -2 months +12 months" +%d/%m/%Y)
# History entries at noon UTC (the same local day in Africa/Casablanca, UTC+0 or +1) of the 5th two
# months ago and the 10th of last month; H1_DM/H2_DM are their dd/mm as the history screen shows.
H1_AT=$(date -u -d "$(date -u +%Y-%m-05) -2 months 12:00" +%s)
H2_AT=$(date -u -d "$(date -u +%Y-%m-10) -1 month 12:00" +%s)
H1_DM=$(date -u -d "@$H1_AT" +%d/%m)
H2_DM=$(date -u -d "@$H2_AT" +%d/%m)
# Enrolment ("since") a year before now.
SINCE=$(($(date +%s) - 365 * 86400))

# A lot far ahead (it never expires first), kept as the release before wrote lots: "l:YYYYMMDD"
FAR_LOT_DAY=$(date -d "+5 years" +%Y%m%d)

# wallet MSISDN BALANCE [lang]: an enrolled subscriber with two lots (300 expiring next, in the
# packed field L; 50 in a lot field of the release before: readers merge both) and two
# movements in the ledger's formats (gateway/gw_ledger.h).
wallet() {
  local m=$1 bal=$2 lang=${3:-}
  rcli hset "lg:{$m}:w" bal "$bal" life "$bal" rem 0 tier gold since "$SINCE" \
    "l:$FAR_LOT_DAY" 50 >/dev/null
  lots_pack "$LOT_DAY" 300 | rcli -x hset "lg:{$m}:w" L >/dev/null
  [ -z "$lang" ] || rcli hset "lg:{$m}:w" lang "$lang" >/dev/null
  rcli del "lg:{$m}:h" >/dev/null
  rcli lpush "lg:{$m}:h" "$H1_AT|TOPUP|r1|+300|300|TOPUP 1/10 MAD" \
    "$H2_AT|BILL|r2|+20|320|BILL 1/20 MAD" >/dev/null
}

# mo NAME MSISDN DATA_CODING: sends the line(s) of $T/NAME.events as MO SMS to 555 through a
# simulator of its own on SMSC_PORT (the gateway reconnects to it); what it got is $T/NAME.rec
mo() {
  rm -f "$T/$1.rec"
  start_sim "$1" --listen "127.0.0.1:$SMSC_PORT" --events "$T/$1.events" --source "$2" --dest 555 \
    --data-coding "$3" --record "$T/$1.rec" --exit-when-done --linger-ms 1500 --timeout-s 30
  wait_sim "$1" 40
  touch "$T/$1.rec"
}

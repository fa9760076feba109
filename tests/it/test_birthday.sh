#!/usr/bin/env bash
# The birthday rule end to end (issue 10 section 1; gateway/ctl_birthday.c, gw_campaign_bday.c,
# lua/campaign.lua BDSET/BDAY): the carrier CSV imported by the real loyaltyctl into a real
# redis-server, then the birthday pass run by the driver (tests/it/it_birthday.c) with the
# project's injected clock on chosen days, its greetings over a real SMPP bind to the simulator.
# Every date is computed from this year: C the next year without 29 February, L the leap year
# after it.
#   - import: a bad file is refused whole naming the line (nothing written); a good one stores the
#     members' dates and indexes them, non-members are counted; a re-import changes nothing; each
#     import is one audit record (birthdays.import)
#   - 28 Feb of C: the members born on 29 February are paid (one greeted in French: consent), the
#     one born on 28 February too (no consent: no SMS), the one born on 1 March not; a second pass
#     that day pays nothing more
#   - 1 Mar of C: the 1 March member; 28 Feb of L: 28 February only; 29 Feb of L: the 29 February
#     members, once, and the budget's hard stop refuses the one it cannot pay
source "$(dirname "$0")/lib.sh"

export TZ=Africa/Casablanca
DRV="$LGW_BIN/tests/it_birthday"
VG=() # under LGW_VALGRIND=1 the pass itself runs under valgrind (errors and leaks fail it)
[ "${LGW_VALGRIND:-0}" = 1 ] && VG=(valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite)
EARN="$LGW_BIN/tests/it_expiry"
CTL="$LGW_BIN/gateway/loyaltyctl"
start_redis
export LGW_REDIS_SOCK="$REDIS_SOCK"
start_sim sim --record "$T/rec.jsonl" --timeout-s 600

leap() { local y=$1; [ $((y % 4)) = 0 ] && { [ $((y % 100)) != 0 ] || [ $((y % 400)) = 0 ]; }; }
Y=$(date +%Y)
C=$((Y + 1)); while leap $C; do C=$((C + 1)); done
L=$((C + 1)); while ! leap $L; do L=$((L + 1)); done
B=$((Y - 30)); while ! leap $B; do B=$((B - 1)); done # a birth year with 29 February
at() { date -d "$1 12:00" +%s; }                      # local noon of a day written Y-M-D
note "C = $C, L = $L, born in $B"

M29=212670000001 # born 29 Feb, French, consents
M28=212670000002 # born 28 Feb, no consent
M01=212670000003 # born 1 Mar, English, consents
N29=212670000004 # born 29 Feb, no consent (the hard stop on 29 Feb of L)
OUT=212670000009 # in the file, not a member
"$EARN" earn --now "$(date +%s)" --msisdn $M29 --count 4 --amount 100000 --ref-prefix E \
  >/dev/null 2>>"$T/driver.log" || fail "4 members enrolled"
rcli hset "lg:{$M29}:w" lang fr >/dev/null
rcli hset "lg:{$M01}:w" lang en >/dev/null
rcli sadd 'bc:{bc}:optin' $M29 $M01 >/dev/null

# ------------------------------------------------------------------ import
printf 'msisdn,birth_date\n%s,%s-02-29\n%s,%s-02-31\n' $M29 $B $M28 $B >"$T/bad.csv"
rc=0
"$CTL" --zone "$TZ" "${CTL_REDIS_OP[@]}" --socket "$REDIS_SOCK" birthday-import "$T/bad.csv" >"$T/bad.out" 2>&1 || rc=$?
assert_eq 2 "$rc" "a file with a bad line is refused"
grep -q "line 3: no such date" "$T/bad.out" || fail "the refusal names the line: $(cat "$T/bad.out")"
assert_eq "" "$(rcli hget "lg:{$M29}:w" bd)" "nothing was written"
{
  printf '\xef\xbb\xbfmsisdn,birth_date\r\n# from the CRM\r\n'
  printf '%s,%s-02-29\r\n%s;%s-02-28\r\n%s,%s-03-01\r\n' $M29 $B $M28 $((B + 1)) $M01 $((B + 2))
  printf '%s,%s-02-29\r\n%s,%s-02-29\r\n%s,%s-05-05\r\n' $N29 $B $M29 $B $OUT $((B + 3))
} >"$T/carrier.csv"
"$CTL" --zone "$TZ" "${CTL_REDIS_OP[@]}" --socket "$REDIS_SOCK" birthday-import "$T/carrier.csv" >"$T/imp1.out" 2>&1 ||
  fail "import: $(cat "$T/imp1.out")"
grep -q "5 birth dates: 4 new, 0 changed, 0 unchanged, 1 not members" "$T/imp1.out" ||
  fail "first import: $(cat "$T/imp1.out")"
assert_eq "${B}0229" "$(rcli hget "lg:{$M29}:w" bd)" "the member's birth date is stored"
TAG=$("$EARN" tag --msisdn $M29)
assert_eq 1 "$(rcli sismember "lg:bd:$TAG:0229" $M29)" "... and indexed under its month-day"
assert_eq 0 "$(rcli exists "lg:{$OUT}:w")" "a non-member gets no wallet"
snap() { for m in $M29 $M28 $M01 $N29; do rcli hgetall "lg:{$m}:w"; done; rcli --scan --pattern 'lg:bd:*' | sort; }
snap >"$T/snap1"
"$CTL" --zone "$TZ" "${CTL_REDIS_OP[@]}" --socket "$REDIS_SOCK" birthday-import "$T/carrier.csv" >"$T/imp2.out" 2>&1 ||
  fail "re-import: $(cat "$T/imp2.out")"
grep -q "0 new, 0 changed, 4 unchanged, 1 not members" "$T/imp2.out" ||
  fail "re-import: $(cat "$T/imp2.out")"
snap >"$T/snap2"
cmp -s "$T/snap1" "$T/snap2" && echo "ok - a re-import of the same file changes nothing" ||
  fail "the re-import changed the data: $(diff "$T/snap1" "$T/snap2")"
assert_eq 2 "$(rcli xrange 'adm:{adm}:audit' - + | grep -c birthdays.import)" \
  "each import is one audit record"

# ------------------------------------------------------------------ the passes
# budget 6 x 30: M29, N29 and M28 on 28 Feb of C, M01, M28 in L, then one of M29/N29 on 29 Feb of L
jq -n -c --arg s "$Y-01-01" --arg e "$((L + 1))-12-31" '{version: "bd-1", campaigns: [
  {id: "bday", rule: "birthday", start: $s, end: $e, budget: 180, points: 30,
   label: "happy birthday",
   texts: {fr: "Joyeux anniversaire ! +{points} points", en: "Happy birthday! +{points} points",
           ar: "عيد ميلاد سعيد! {points} نقطة", fa: "تولدت مبارک! {points} امتیاز"}}]}' >"$T/doc.json"
pass() { # day [catch-up days]: one pass at local noon of that day, its counters in $T/p-<day>.json
  "${VG[@]+"${VG[@]}"}" "$DRV" pass --now "$(at "$1")" --doc "$T/doc.json" --smsc "$SIM_PORT" --catchup "${2:-0}" \
    >"$T/p-$1.json" 2>>"$T/driver.log" || fail "the pass of $1 failed"
}
pj() { jq -r "$2" "$T/p-$1.json"; }
bal() { rcli hget "lg:{$1}:w" bal; }
greetings() { # msisdn: the greetings recorded for it
  [ -f "$T/rec.jsonl" ] || return 0
  jq -r --arg d "$1" 'select(.cmd == "submit_sm" and .dst == $d) | .text' "$T/rec.jsonl"
}
b29=$(bal $M29) b28=$(bal $M28) b01=$(bal $M01) bn=$(bal $N29)

rcli hset 'cfg:{adm}:campaigns' doc "$(cat "$T/doc.json")" version 1 >/dev/null
preview() { # day: "due cost" of the birthday campaign in loyaltyctl campaign-rules --at
  "$CTL" --zone "$TZ" "${CTL_REDIS[@]}" --socket "$REDIS_SOCK" campaign-rules --at "$(at "$1")" --json |
    jq -r '.campaigns[] | select(.id == "bday") | "\(.preview_due) \(.preview_cost)"'
}
assert_eq "3 90" "$(preview "$C-02-28")" "the preview: 3 birthdays to pay on 28 Feb of C, 90 points"
pass "$C-02-28"
assert_eq "0 0" "$(preview "$C-02-28")" "... none left once paid"
assert_eq 3 "$(pj "$C-02-28" .birthdays)" "28 Feb of a common year: three birthdays"
assert_eq $((b29 + 30)) "$(bal $M29)" "born 29 February: paid on 28 February"
assert_eq $((b28 + 30)) "$(bal $M28)" "born 28 February: paid"
assert_eq "$b01" "$(bal $M01)" "born 1 March: not yet"
assert_eq "$C" "$(rcli hget "lg:{$M29}:w" c:bday)" "the marker holds the year"
assert_eq 1 "$(hist_lines $M29 | grep -c "BONUS|#[0-9a-f]*|+30||campaign bday: happy birthday")" \
  "the history says why these points"
hist_no_list $M29
wait_for 10 test -n "$(greetings $M29)" || fail "no greeting to M29"
assert_eq "Joyeux anniversaire ! +30 points" "$(greetings $M29)" "one greeting, in French"
assert_eq "" "$(greetings $M28)" "no greeting without consent"
assert_eq 2 "$(pj "$C-02-28" .birthday_sms_skipped)" "... counted as skipped (M28, N29)"

pass "$C-02-28"
assert_eq 0 "$(pj "$C-02-28" .birthdays)" "a second pass the same day pays nothing"
assert_eq $((b29 + 30)) "$(bal $M29)" "M29 paid once"
pass "$C-03-01" 1
assert_eq 1 "$(pj "$C-03-01" .birthdays)" "1 Mar (28 Feb caught up): only the 1 March member"
assert_eq $((b01 + 30)) "$(bal $M01)" "born 1 March: paid on 1 March"
assert_eq $((b29 + 30)) "$(bal $M29)" "born 29 February: not paid again on 1 March"

pass "$L-02-28"
assert_eq 1 "$(pj "$L-02-28" .birthdays)" "28 Feb of a leap year: only the 28 February member"
assert_eq $((b29 + 30)) "$(bal $M29)" "born 29 February: not on 28 Feb of a leap year"
pass "$L-02-29"
assert_eq "1 1" "$(pj "$L-02-29" '"\(.birthdays) \(.budget_stops)"')" \
  "29 Feb of a leap year: one paid, the other stopped by the budget"
assert_eq $((b29 + bn + 30 + 30 + 30)) "$(($(bal $M29) + $(bal $N29)))" \
  "the budget paid exactly one of them (both were paid in C)"
assert_eq 180 "$(rcli hget 'lg:cb:{cmp}' bday:spent)" "exactly the budget was spent"
pass "$L-02-29"
assert_eq "0 0" "$(pj "$L-02-29" '"\(.birthdays) \(.budget_stops)"')" "29 Feb again: nothing, once a year"
assert_eq "$L" "$(rcli hget "lg:{$N29}:w" c:bday)" "the refused member is settled for the year"
sleep 1
assert_eq 1 "$(greetings $M01 | grep -c 'Happy birthday! +30 points')" "M01 greeted once, in English"
assert_eq "$(( $(bal $M29) - b29 == 60 ? 2 : 1 ))" "$(greetings $M29 | grep -c 'Joyeux')" \
  "M29 greeted once per bonus"
"$CTL" --zone "$TZ" "${CTL_REDIS[@]}" --socket "$REDIS_SOCK" agg-check >"$T/check" 2>&1 && echo "ok - agg-check agrees after the bonuses" ||
  fail "agg-check: $(head -20 "$T/check")"
finish

#!/usr/bin/env bash
# Points transfer dialled over USSD (issue 10 §4): real SMPP (smsc-sim as a scripted handset), a
# real redis-server, the shipped menu file and the real transfer engine (gw_transfer.c):
#   - a member sets a PIN ("new*new") on the PIN screen: only its salted hash is stored;
#   - *555# -> Transfer points -> recipient -> amount -> the confirmation naming the masked
#     number -> PIN -> done: both wallets right, and both SMS seen by the simulator, each in its
#     side's saved language (the sender's English, the recipient's French);
#   - a recipient who is not a member: the refusal screen, nothing moved;
#   - three wrong PINs in three dialogues: "2 tries left", "1 try left", then locked, and the
#     right PIN is refused while locked: nothing moved.
# Small on purpose (CI budget): seven dialogues on one gateway.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
ussd_config '.ussd.t_answer_ms = 20000 | .ussd.t_total_ms = 60000'

TODAY=$(TZ=Africa/Casablanca date +%Y%m%d)
A=212612300001 # the sender, English
B=212698300002 # a member, French
C=212698300003 # not a member
rcli hset "lg:{$A}:w" bal 1000 life 1000 rem 0 tier standard since "$SINCE" "l:$TODAY" 1000 \
  lang en >/dev/null
rcli hset "lg:{$B}:w" bal 10 life 10 rem 0 tier standard since "$SINCE" "l:$TODAY" 10 \
  lang fr >/dev/null
start_gw

last_text() { screens_json "$1" | jq -r '.[-1].text'; }
sms_to() { jq -r --arg m "$2" 'select(.service_type != "USSD" and .dst == $m) | .text' "$T/$1.rec"; }
MB="2126******02" # B as the screens and the sender's SMS show it
MC="2126******03"

# ---------------------------------------------------------------- the PIN
note "the sender sets a PIN on the PIN screen"
phone pin $A '*555#\n7\n2\n2580*2580'
assert_eq "Your transfer PIN is saved. Keep it secret." "$(last_text pin)" "PIN saved screen"
# Whole values, not a substring: the random salt or the hash holds "2580" by chance ~1 run in 700
# (as test_transfer found); the stored value is SHA-256(salt:msisdn:pin).
x=$(rcli hgetall "lg:{$A}:x")
if grep -qx 2580 <<<"$x"; then fail "the PIN appears in Redis: $(tr '\n' ' ' <<<"$x")"
else echo "ok - the PIN is not a value in Redis"; fi
salt=$(rcli hget "lg:{$A}:x" salt | tr -d '\n')
assert_eq "$(printf '%s:%s:%s' "$salt" "$A" 2580 | sha256sum | cut -d' ' -f1)" \
  "$(rcli hget "lg:{$A}:x" pin | tr -d '\n')" "only SHA-256 of the salt, the MSISDN and the PIN is stored"

# ---------------------------------------------------------------- a transfer
note "the sender sends 150 points to B"
phone send $A "*555#\n7\n1\n$B\n150\n1\n2580" --linger-ms 3000
expect_screens send "main -> transfer -> recipient -> amount -> confirmation -> PIN -> done" \
  "$(menu $'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points')" \
  "$(menu $'Transfer points\n1 Send points\n2 Set or change my PIN\n3 Refer a friend\n0 Back')" \
  "$(menu $'Send points to a member.\nEnter their number with the country code (e.g. 212612345678):\n0 Back')" \
  "$(menu "Points to send to $MB:"$'\n0 Back')" \
  "$(menu "Send 150 points to $MB?"$'\n1 Yes, continue\n2 No\n0 Back')" \
  "$(menu "Enter your 4-digit transfer PIN to send 150 points to $MB:"$'\n0 Back')" \
  "$(last "Done: 150 points sent to $MB. You will both get an SMS.")"
assert_eq 850 "$(balance $A)" "the sender's wallet: 1000 - 150"
assert_eq 160 "$(balance $B)" "the recipient's wallet: 10 + 150"
assert_eq "Loyalty Club: you sent 150 points to $MB." "$(sms_to send $A)" \
  "the sender's SMS, in English"
assert_eq "Club Fidélité : le $A vous a envoyé 150 points. Composez *555# pour les utiliser." \
  "$(sms_to send $B)" "the recipient's SMS, in French"

# ---------------------------------------------------------------- refusals
note "a recipient who is not a member"
phone nm $A "*555#\n7\n1\n$C\n100\n1\n2580"
assert_eq "$MC is not a member of the club. No points were sent." "$(last_text nm)" \
  "not a member: its refusal screen"
assert_eq 850 "$(balance $A)" "nothing moved"
assert_eq "" "$(sms_to nm $A)" "no SMS for a refused transfer"

note "three wrong PINs lock transfers"
phone bad1 $A "*555#\n7\n1\n$B\n100\n1\n9999"
assert_eq $'Wrong PIN.\nTries left before transfers are locked: 2' "$(last_text bad1)" "wrong PIN 1"
phone bad2 $A "*555#\n7\n1\n$B\n100\n1\n9999"
assert_eq $'Wrong PIN.\nTries left before transfers are locked: 1' "$(last_text bad2)" "wrong PIN 2"
phone bad3 $A "*555#\n7\n1\n$B\n100\n1\n9999"
case "$(last_text bad3)" in
  $'Too many wrong PINs. Transfers are locked.\nUntil: '[0-3][0-9]/[01][0-9]' '[0-2][0-9]:[0-5][0-9])
    echo "ok - the third wrong PIN locks, the screen says until when" ;;
  *) fail "wrong PIN 3: got '$(last_text bad3)'" ;;
esac
phone good $A "*555#\n7\n1\n$B\n100\n1\n2580"
case "$(last_text good)" in
  "Too many wrong PINs. Transfers are locked."*) echo "ok - locked: even the right PIN is refused" ;;
  *) fail "right PIN while locked: got '$(last_text good)'" ;;
esac
assert_eq 850 "$(balance $A)" "nothing moved while refused"
assert_eq 160 "$(balance $B)" "nothing credited while refused"

stop_gw
finish

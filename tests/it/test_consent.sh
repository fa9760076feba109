#!/usr/bin/env bash
# Consent by SMS (issue 10 section 3) over real SMPP with a real redis-server, the gateway and
# loyalty-admin:
#   - STOP keywords in four languages and three codings (stop in GSM-7, توقف and لغو in UCS-2,
#     Arrêt in Latin-1)
#     opt the sender out of the reminder audience, each confirmed by an SMS in the subscriber's
#     saved language (the menu file's sms.<lang>.opted_out), the record (channel sms, time) read
#     back through GET /api/subscribers/{msisdn}/optin;
#   - a subscriber who texts STOP while a reminder campaign is running gets no reminder after it
#     (the runner checks the audience before every send), everybody else gets theirs;
#   - START opts back in (confirmed); the console and loyaltyctl change it too, recorded with
#     their channel;
#   - STOP ALERTS / START ALERTS switch the points-expiry warnings alone (their own switch),
#     confirmed; care and loyaltyctl change it too, audited (test_expiry: a warning not sent).
# Owner: the consent engineer (issue 10).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
CTL="$LGW_BIN/gateway/loyaltyctl"

FR=212633000001 # no saved language: the menu file's default (fr)
AR=212633000002
FA=212633000003
EN=212633000004
BASE=212700000000 # the campaign's audience: BASE+1 .. BASE+N
N=40

start_redis
pick_port
# 2 SMS a second and one in flight: the campaign lasts about 20 s, long enough to text STOP
ussd_config '.smpp.tps = 2 | .broadcast = {enabled: true, max_in_flight: 1, poll_ms: 300,
  lease_ms: 5000, progress_log_s: 5}'
wallet $FR 100
wallet $AR 100 ar
wallet $FA 100 fa
wallet $EN 100 en
rcli sadd 'bc:{bc}:optin' $FR $AR $FA $EN >/dev/null
seq 1 $N | awk -v b=$BASE '{ printf "SADD bc:{bc}:optin %.0f\n", b + $1 }' | rcli --pipe >/dev/null
start_gw
add_staff carl care care-secret-2222
add_staff mia marketing marketing-secret-1
start_admin
CARL=$(login carl care-secret-2222)
MIA=$(login mia marketing-secret-1)

# the plain SMS a recording holds for one destination: [{dc, text}]
sms_to() { jq -s -c --arg d "$2" '[.[] | select(.service_type == "" and .dst == $d) | {dc: .data_coding, text}]' "$T/$1.rec"; }
text_of() { jq -r --arg l "$1" --arg k "$2" '.sms[$l][$k]' "$MENUS"; }
member() { rcli sismember 'bc:{bc}:optin' "$1"; }

# ------------------------------------------------------------------ STOP in three languages
T0=$(($(date +%s) * 1000))
note "'stop' (GSM-7, lower case) from a subscriber without a saved language"
printf 'stop\n' >"$T/fr.events"
mo fr $FR 0
assert_eq 0 "$(member $FR)" "opted out of the reminder audience"
assert_eq "$(jq -n -c --arg t "$(text_of fr opted_out)" '[{dc: 0, text: $t}]')" "$(sms_to fr $FR)" \
  "one confirmation SMS in French (the default language), GSM-7"

note "توقف (UCS-2) from an Arabic subscriber"
printf '\x06\x2a\x06\x48\x06\x42\x06\x41\n' >"$T/ar.events"
mo ar $AR 8
assert_eq 0 "$(member $AR)" "opted out"
got=$(sms_to ar $AR)
assert_eq "$(text_of ar opted_out)" "$(jq -r '[.[].text] | join("")' <<<"$got")" "confirmed in Arabic"
assert_eq 8 "$(jq -r '.[0].dc' <<<"$got")" "as UCS-2"

note "لغو (UCS-2) from a Persian subscriber"
printf '\x06\x44\x06\x3a\x06\x48\n' >"$T/fa.events"
mo fa $FA 8
assert_eq 0 "$(member $FA)" "opted out"
assert_eq "$(text_of fa opted_out)" "$(sms_to fa $FA | jq -r '[.[].text] | join("")')" \
  "confirmed in Persian"

note "Arrêt (Latin-1, accented, mixed case) from an English-speaking subscriber"
printf 'Arr\xeat\n' >"$T/en.events"
mo en $EN 3
assert_eq 0 "$(member $EN)" "opted out (accent- and case-blind)"
assert_eq "$(jq -n -c --arg t "$(text_of en opted_out)" '[{dc: 0, text: $t}]')" "$(sms_to en $EN)" \
  "confirmed in English"

note "'stopper' is no keyword: nothing changes, no answer"
rcli sadd 'bc:{bc}:optin' 212633000009 >/dev/null
printf 'stopper\n' >"$T/no.events"
mo no 212633000009 0
assert_eq 1 "$(member 212633000009)" "still opted in"
assert_eq '[]' "$(sms_to no 212633000009)" "no SMS"

note "the record through the console"
api GET /api/subscribers/$AR/optin "$CARL"
assert_eq "200 false false sms subscriber" "$CODE $(j .optin) $(j .record.optin) $(j .record.channel) $(j .record.by)" \
  "GET /api/subscribers/{msisdn}/optin: opted out by the subscriber over SMS"
at=$(j .record.at_ms)
[ "$at" -ge "$T0" ] && [ "$at" -le $(($(date +%s) * 1000 + 1000)) ] &&
  echo "ok - the record's time is the time of the STOP ($at)" || fail "record time $at (test began $T0)"
api GET /api/subscribers/$AR/optin "$MIA"
assert_eq 403 "$CODE" "marketing does not read a subscriber's consent record"
api GET /api/subscribers/212633000009/optin "$CARL"
assert_eq "200 true null" "$CODE $(j .optin) $(j .record)" "no record for a subscriber who never texted"

# ------------------------------------------------------------------ STOP during a campaign
note "a campaign to $N subscribers at 2 SMS/s; one of them texts STOP while it runs"
start_sim rec1 --listen "127.0.0.1:$SMSC_PORT" --record "$T/rec1.rec" --timeout-s 300
api POST /api/campaigns "$MIA" '{"id": "c1", "texts": {"fr": "Rappel : journee cadeaux."}, "send_at": "now"}'
assert_eq 201 "$CODE" "campaign created"
wait_for 60 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK hget 'bc:{bc}:c:c1' sent)\" -ge 3 ] 2>/dev/null" ||
  fail "the campaign did not start sending"
# the last recipient of the list: the runner goes in list order, one at a time
X=$(rcli lindex 'bc:{bc}:q:c1' -1)
assert_eq 0 "$(jq -s --arg d "$X" '[.[] | select(.dst == $d)] | length' "$T/rec1.rec")" \
  "the subscriber who will text STOP has had no reminder yet"
kill "$SIM_PID_rec1"; wait "$SIM_PID_rec1" 2>/dev/null || true
printf 'STOP\n' >"$T/x.events"
mo x "$X" 0 # this SMSC records the reminders sent meanwhile too
assert_eq 0 "$(member "$X")" "opted out mid-campaign"
start_sim rec2 --listen "127.0.0.1:$SMSC_PORT" --record "$T/rec2.rec" --timeout-s 300
wait_for 120 sh -c "[ \"\$(redis-cli -s $REDIS_SOCK hget 'bc:{bc}:c:c1' state)\" = done ]" ||
  fail "the campaign did not finish"
kill "$SIM_PID_rec2"; wait "$SIM_PID_rec2" 2>/dev/null || true
cat "$T/rec1.rec" "$T/x.rec" "$T/rec2.rec" |
  jq -c 'select(.service_type == "" and .status == "ESME_ROK" and (.text | startswith("Rappel")))' >"$T/reminders.jsonl"
assert_eq 0 "$(jq -s --arg d "$X" '[.[] | select(.dst == $d)] | length' "$T/reminders.jsonl")" \
  "no reminder to the subscriber after their STOP"
assert_eq $((N - 1)) "$(jq -r .dst "$T/reminders.jsonl" | sort -u |
  awk -v b=$BASE -v n=$N '$1 > b && $1 <= b + n' | wc -l)" "every other subscriber got the reminder"
assert_ge 1 "$(rcli hget 'bc:{bc}:c:c1' skipped)" "the campaign counts the opted-out one as skipped"
assert_eq "$(jq -n -c --arg t "$(text_of fr opted_out)" '[{dc: 0, text: $t}]')" "$(sms_to x "$X")" \
  "the STOP was confirmed (default language: no wallet)"

# ------------------------------------------------------------------ back in
note "START opts back in"
printf ' Start \n' >"$T/in.events"
mo in "$X" 0
assert_eq 1 "$(member "$X")" "opted in again"
assert_eq "$(text_of fr opted_in)" "$(sms_to in "$X" | jq -r '[.[].text] | join("")')" "confirmed"
api GET /api/subscribers/$X/optin "$CARL"
assert_eq "200 true true sms" "$CODE $(j .optin) $(j .record.optin) $(j .record.channel)" \
  "the record shows the START"

note "changed in the console and with loyaltyctl: recorded with the channel"
api POST /api/subscribers/$X/optout "$CARL" '{}'
assert_eq "200 false true" "$CODE $(j .optin) $(j .changed)" "care opts the subscriber out"
api GET /api/subscribers/$X/optin "$CARL"
assert_eq "false console carl" "$(j .optin) $(j .record.channel) $(j .record.by)" "recorded: console, carl"
"$CTL" --socket "$REDIS_SOCK" optin "$X" >/dev/null
api GET /api/subscribers/$X/optin "$CARL"
assert_eq "true true ctl" "$(j .optin) $(j .record.optin) $(j .record.channel)" "recorded: ctl"

# ------------------------------------------------------------------ the expiry warnings' switch
note "'stop alerts' turns off the points-expiry warnings only (a service message, its own switch)"
printf 'stop alerts\n' >"$T/al.events"
mo al $EN 0
assert_eq "0 0" "$(rcli hget "lg:{$EN}:consent" alerts) $(member $EN)" \
  "warnings off; the marketing opt-out is untouched"
assert_eq "$(jq -n -c --arg t "$(text_of en alerts_off)" '[{dc: 0, text: $t}]')" "$(sms_to al $EN)" \
  "confirmed in English (sms.en.alerts_off)"
api GET /api/subscribers/$EN/optin "$CARL"
assert_eq "200 false false false sms subscriber" \
  "$CODE $(j .optin) $(j .alerts) $(j .record.alerts) $(j .record.alerts_channel) $(j .record.alerts_by)" \
  "the console reads both switches and who set the warnings' one"
api POST /api/subscribers/$EN/alerts/on "$MIA" '{}'
assert_eq 403 "$CODE" "marketing does not change a subscriber's consent"
api POST /api/subscribers/$EN/alerts/on "$CARL" '{}'
assert_eq "200 true true" "$CODE $(j .alerts) $(j .changed)" "care turns the warnings back on"
api POST /api/subscribers/$EN/alerts/on "$CARL" '{}'
assert_eq "200 false" "$CODE $(j .changed)" "again: nothing changes"
api GET /api/subscribers/$EN/optin "$CARL"
assert_eq "true false console carl" "$(j .alerts) $(j .optin) $(j .record.alerts_channel) $(j .record.alerts_by)" \
  "recorded: console, carl; marketing still off"
assert_eq 1 "$(rcli xrevrange 'adm:{adm}:audit' + - COUNT 20 | grep -c -x subscriber.alerts_on)" \
  "one audit entry for the one change"
"$CTL" --socket "$REDIS_SOCK" alerts "$EN" off >/dev/null
api GET /api/subscribers/$EN/optin "$CARL"
assert_eq "false ctl" "$(j .alerts) $(j .record.alerts_channel)" "loyaltyctl alerts ... off: recorded"
printf 'Start Alerts\n' >"$T/al2.events"
mo al2 $EN 0
assert_eq "1 0" "$(rcli hget "lg:{$EN}:consent" alerts) $(member $EN)" "'Start Alerts': warnings on again"
assert_eq "$(text_of en alerts_on)" "$(sms_to al2 $EN | jq -r '[.[].text] | join("")')" "confirmed"

sleep 1.2
assert_eq 1 "$(gw_stat .sms.mo_alerts_off)" "1 warnings-off counted"
assert_eq 1 "$(gw_stat .sms.mo_alerts_on)" "1 warnings-on counted"
assert_eq 5 "$(gw_stat .sms.mo_stop)" "5 STOP counted"
assert_eq 1 "$(gw_stat .sms.mo_start)" "1 START counted"
assert_eq 0 "$(gw_stat .sms.mo_failed)" "none failed"
stop_admin
stop_gw
finish

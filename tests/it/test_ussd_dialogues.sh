#!/usr/bin/env bash
# USSD self-service over real SMPP (smsc-sim as a scripted handset) with a real redis-server:
# full dialogues in Arabic, French, English and Persian with the exact screens (Arabic/Persian as
# UCS-2, data_coding 8; French/English as GSM-7, data_coding 0), the shortcuts *555*1# and
# *555*2*<n>#, invalid input re-shown with the error line, a language choice saved (also for a
# subscriber without a wallet, who is not enrolled by it), aborts (end bit, vendor op) and
# expiry removing the stored session, and Redis down answered with the "unavailable" last screen
# (never ESME_RX_T_APPN). Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
ussd_config '.ussd.t_answer_ms = 1500 | .ussd.t_total_ms = 60000'
wallet 212611000001 1234
wallet 212611000002 2345 ar
wallet 212611000003 3456 en
wallet 212611000004 4567 fa
wallet 212611000005 100
start_gw

FR_MAIN=$'Club Fidélité\n1 Mes points\n2 Historique\n3 Catalogue cadeaux\n4 Langue\n5 Aide\n6 Suggestions\n7 Transférer des points'
AR_MAIN=$'نادي الوفاء\n1 نقاطي\n2 السجل\n3 الهدايا\n4 اللغة\n5 المساعدة\n6 آراؤكم\n7 تحويل'
EN_MAIN=$'Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points'
FA_MAIN=$'باشگاه مشتریان\n1 امتیاز من\n2 سوابق\n3 هدایا\n4 زبان\n5 راهنما\n6 نظرات\n7 انتقال'

note "French (the file's default language, no preference saved): my points, then history"
phone fr 212611000001 '*555#\n1\n*555#\n2'
expect_screens fr "French dialogue: exact screens, GSM-7" \
  "$(menu "$FR_MAIN")" \
  "$(last $'Solde : 1234 points\n300 points expirent le '"$EXPIRY_TEXT"$'\nNiveau : gold')" \
  "$(menu "$FR_MAIN")" \
  "$(last $'Derniers mouvements :\n'"$H2_DM"$' +20 Facture\n'"$H1_DM"$' +300 Recharge')"

note "Arabic (saved preference): my points, then history"
phone ar 212611000002 '*555#\n1\n*555#\n2'
expect_screens ar "Arabic dialogue: exact screens, UCS-2" \
  "$(menu "$AR_MAIN" 8)" \
  "$(last $'رصيدك: 2345 نقطة\n300 نقطة تنتهي صلاحيتها في '"$EXPIRY_TEXT"$'\nمستواك: gold' 8)" \
  "$(menu "$AR_MAIN" 8)" \
  "$(last $'آخر العمليات:\n'"$H2_DM"$' +20 فاتورة\n'"$H1_DM"$' +300 تعبئة' 8)"

note "English: help (a screen with 0 Back), back to the menu, my points"
phone en 212611000003 '*555#\n5\n0\n1'
expect_screens en "English dialogue: help, back, points" \
  "$(menu "$EN_MAIN")" \
  "$(menu $'Earn points with every recharge and bill payment. Spend them on gifts on gift days. Dial *555*1# for your points, *555*2*code# for a gift. This service is free.\n0 Back')" \
  "$(menu "$EN_MAIN")" \
  "$(last $'Balance: 3456 points\n300 points expire on '"$EXPIRY_TEXT"$'\nTier: gold')"

note "Persian: an invalid choice re-shows the menu with the error line (paginated to 80), then points"
phone fa 212611000004 '*555#\n9\n1'
expect_screens fa "Persian dialogue: invalid input re-shown, then points" \
  "$(menu "$FA_MAIN" 8)" \
  "$(menu $'گزینه نامعتبر است\nباشگاه مشتریان\n1 امتیاز من\n2 سوابق\n3 هدایا\n4 زبان\n00 بیشتر' 8)" \
  "$(last $'موجودی: 4567 امتیاز\n300 امتیاز در '"$EXPIRY_TEXT"$' منقضی می‌شود\nسطح: gold' 8)"

note "Shortcuts: *555*1# opens my points at once; *555*2*7# opens item 7 (no catalogue wired here)"
phone sc 212611000001 '*555*1#\n*555*2*7#\n1\n*555*9#\n1'
expect_screens sc "shortcut dials" \
  "$(last $'Solde : 1234 points\n300 points expirent le '"$EXPIRY_TEXT"$'\nNiveau : gold')" \
  "$(menu $'Service momentanément indisponible\nClub Fidélité\n1 Mes points\n2 Historique\n3 Catalogue cadeaux\n4 Langue\n5 Aide\n6 Suggestions\n7 Transférer des points')" \
  "$(last $'Solde : 1234 points\n300 points expirent le '"$EXPIRY_TEXT"$'\nNiveau : gold')" \
  "$(menu $'Choix invalide\nClub Fidélité\n1 Mes points\n2 Historique\n3 Catalogue cadeaux\n4 Langue\n5 Aide\n6 Suggestions\n7 Transférer des points')" \
  "$(last $'Solde : 1234 points\n300 points expirent le '"$EXPIRY_TEXT"$'\nNiveau : gold')"

note "Language: a subscriber without a wallet picks English; it is saved without enrolling them"
phone lang 212611000006 '*555#\n4\n3\n*555#\n1'
expect_screens lang "language dialogue, then the next dial in English" \
  "$(menu "$FR_MAIN")" \
  "$(menu $'Choisissez votre langue\n1 العربية\n2 Français\n3 English\n4 فارسی\n0 Retour' 8)" \
  "$(last 'Your language is now English.')" \
  "$(menu "$EN_MAIN")" \
  "$(last 'Balance: 0 points')"
assert_eq en "$(rcli hget 'lg:{212611000006}:w' lang)" "language saved in the wallet hash"
assert_eq "" "$(rcli hget 'lg:{212611000006}:w' bal)" "saving a language does not enrol (no bal)"

note "Aborts: the end bit alone, then the vendor op 0x81; each removes the stored session"
phone ab1 212611000005 '*555#\n5\n!abort' --ussd-abort-op 0
assert_eq 2 "$(screens_json ab1 | jq length)" "two screens before the abort (end bit)"
phone ab2 212611000005 '*555#\n!abort' --ussd-abort-op 129
assert_eq 1 "$(screens_json ab2 | jq length)" "one screen before the abort (vendor op)"
sleep 0.3
assert_eq "" "$(rcli --scan --pattern 'ussd:*')" "no session left after the aborts"
grep -q 'ussd(…0005:s[0-9]*){MENU} -> ENDED' "$T/gw.log" && echo "ok - abort logged as an FSM transition" ||
  fail "no ussd(…0005){MENU} -> ENDED line"

note "Expiry: the subscriber goes silent past T_ANSWER (1.5 s); the late answer ends the dialogue"
mkfifo "$T/silent.fifo"
"$SIM" --listen "127.0.0.1:$SMSC_PORT" --phone 212611000005 --record "$T/silent.rec" \
  --summary "$T/silent.json" --timeout-s 30 <"$T/silent.fifo" >"$T/silent.out" 2>"$T/silent.log" &
SILENT_PID=$!
PIDS+=("$SILENT_PID")
exec 7>"$T/silent.fifo"
echo '*555#' >&7
wait_for 10 test -s "$T/silent.rec" || fail "no first screen for the silent subscriber"
stored() { [ -n "$(rcli --scan --pattern 'ussd:212611000005:*')" ]; }
wait_for 5 stored || fail "session not stored"
assert_eq 1 "$(rcli --scan --pattern 'ussd:212611000005:*' | wc -l)" "the open dialogue is stored in Redis"
if wait_for 10 eval '! stored'; then echo "ok - T_ANSWER removed the stored session"; else
  fail "session still stored after T_ANSWER"; fi
grep -q 'ussd(…0005:s[0-9]*){MENU} -> ENDED' "$T/gw.log" && grep -q 'dialogue over (T_ANSWER)' "$T/gw.log" &&
  echo "ok - expiry logged by the FSM" || fail "no T_ANSWER expiry in the log"
echo 1 >&7
two_screens() { [ "$(wc -l <"$T/silent.rec")" -ge 2 ]; }
wait_for 10 two_screens || fail "no answer to the late input"
echo quit >&7
exec 7>&-
wait "$SILENT_PID" 2>/dev/null || true
expect_screens silent "late answer after expiry gets a last screen" \
  "$(menu "$FR_MAIN")" "$(last 'Service momentanément indisponible')"

sleep 1.2 # one metrics interval
assert_eq 2 "$(gw_stat .ussd.aborts)" "gateway counted 2 aborts"
assert_ge 1 "$(gw_stat .ussd.expired)" "gateway counted the expiry"
assert_eq 1 "$(gw_stat .ussd.lang_saved)" "gateway saved one language"
assert_eq 0 "$(gw_stat .ingest.temp_failed)" "no USSD deliver_sm answered ESME_RX_T_APPN"

note "Redis down: the subscriber reads 'unavailable' on a last screen; the deliver_sm is still ROK"
stop_redis
phone down 212611000001 '*555#'
expect_screens down "store down: unavailable, nothing charged, dialogue ended cleanly" \
  "$(last "Service indisponible, rien n'est débité")"
if grep -q 'refused' "$T/down.out"; then fail "a USSD deliver_sm was refused"; else echo "ok - deliver_sm answered ESME_ROK"; fi
sleep 1.2
assert_eq 0 "$(gw_stat .ingest.temp_failed)" "still no ESME_RX_T_APPN with Redis down"
stop_gw
if grep -qE '2126110000[0-9]{2}' "$T/gw.log"; then fail "a full MSISDN appears in the log"; else echo "ok - MSISDNs masked in the log"; fi
finish

#!/usr/bin/env bash
# The SMS side over real SMPP with a real redis-server: a subscriber texts a keyword to the short
# code (smsc-sim sends it as an MO deliver_sm) and receives the balance SMS in their language -
# French by default as one GSM-7 SMS, Arabic as a UCS-2 SMS long enough to be split into
# UDH-concatenated parts (esm_class 0x40, 05 00 03 ref total seq). A keyword is trimmed and
# case-insensitive for Latin letters; any other text gets no answer. Owner: the USSD-wiring
# engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
ussd_config
wallet 212633000001 1234
wallet 212633000002 2345 ar
wallet 212633000003 3456 fa
start_gw

sms_json() { jq -s -c '[.[] | select(.service_type == "") | {src, dst, dc: .data_coding, esm: .esm_class, udh: .udh_hex, text}]' "$T/$1.rec"; }

note "French: '  solde ' (lower case, spaces) from a subscriber without a saved language"
printf '  solde \n' >"$T/fr.events"
mo fr 212633000001 0
FR=$'Club Fidélité : votre solde est de 1234 points.\n300 points expirent le '"$EXPIRY_TEXT"$'.\nNiveau : gold. Composez *555# pour les cadeaux.'
assert_eq "$(jq -n -c --arg t "$FR" '[{src: "555", dst: "212633000001", dc: 0, esm: 0, udh: null, text: $t}]')" \
  "$(sms_json fr)" "one GSM-7 SMS in French with the balance"

note "Arabic: رصيد sent in UCS-2 by a subscriber whose language is Arabic: a two-part SMS"
printf '\x06\x31\x06\x35\x06\x4a\x06\x2f\n' >"$T/ar.events"
mo ar 212633000002 8
AR=$'نادي الوفاء: رصيدك 2345 نقطة.\n300 نقطة تنتهي صلاحيتها في '"$EXPIRY_TEXT"$'.\nمستواك: gold. اطلب *555# لاكتشاف الهدايا.'
got=$(sms_json ar)
assert_eq 2 "$(jq length <<<"$got")" "the Arabic balance is split in 2 parts"
assert_eq '[8,8]' "$(jq -c '[.[].dc]' <<<"$got")" "both parts UCS-2 (data_coding 8)"
assert_eq '[64,64]' "$(jq -c '[.[].esm]' <<<"$got")" "both parts carry UDHI (esm_class 0x40)"
ref=$(jq -r '.[0].udh[6:8]' <<<"$got")
assert_eq "[\"050003${ref}0201\",\"050003${ref}0202\"]" "$(jq -c '[.[].udh]' <<<"$got")" \
  "UDH 05 00 03 <ref> 02 01 / 02 02, one reference"
assert_eq "$AR" "$(jq -r '[.[].text] | join("")' <<<"$got")" "the parts join into the exact Arabic text"

note "Persian keyword امتیاز (UCS-2) from a Persian subscriber; 'hello' gets nothing"
printf '\x06\x27\x06\x45\x06\x2a\x06\xcc\x06\x27\x06\x32\n' >"$T/fa.events"
mo fa 212633000003 8
assert_ge 1 "$(sms_json fa | jq length)" "the Persian keyword is answered"
FA=$'باشگاه مشتریان: موجودی شما 3456 امتیاز است.\n300 امتیاز در '"$EXPIRY_TEXT"$' منقضی می‌شود.\nسطح: gold. برای هدایا *555# را شماره‌گیری کنید.'
assert_eq "$FA" "$(sms_json fa | jq -r '[.[].text] | join("")')" "in Persian"
printf 'hello\n' >"$T/no.events"
mo no 212633000001 0
assert_eq '[]' "$(sms_json no)" "a text that is no keyword gets no SMS"

sleep 1.2
assert_eq 3 "$(gw_stat .sms.mo_keyword)" "3 keywords recognised"
assert_eq 1 "$(gw_stat .sms.mo_ignored)" "1 MO SMS ignored"
assert_eq 3 "$(gw_stat .sms.sent)" "3 SMS accepted by the SMSC"
stop_gw
finish

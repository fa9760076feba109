#!/usr/bin/env bash
# loyaltygw's command line: --check-config accepts the shipped configuration and refuses unknown
# keys, wrong types and out-of-range values with a message that names the key; USSD screen limits
# too small for the menu file are refused before the gateway starts.
source "$(dirname "$0")/lib.sh"
GW="$LGW_BIN/gateway/loyaltygw"

out=$("$GW" --check-config --config "$LGW_SRC/deploy/loyaltygw.json" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "the shipped deploy/loyaltygw.json is valid ($out)"
"$GW" --check-config >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 0 "$rc" "the built-in defaults are valid"

check_bad() { # json expected-substring description
  echo "$1" >"$T/bad.json"
  local out rc=0
  out=$("$GW" --check-config --config "$T/bad.json" 2>&1) || rc=$?
  out_last=$out
  assert_eq 1 "$rc" "$3: refused"
  case "$out" in *"$2"*) echo "ok - $3: message names $2" ;; *) fail "$3: message '$out' lacks '$2'" ;; esac
}
check_bad '{"smpp": {"windw": 5}}' "smpp.windw" "a misspelt key"
check_bad '{"smpp": {"window": "ten"}}' "smpp.window" "a string where a number belongs"
check_bad '{"smpp": {"window": 0}}' "smpp.window" "a window of 0"
check_bad '{"redis": {"port": 70000}}' "redis.port" "a port out of range"
check_bad '{"loyalty": {"timezone": "Mars/Olympus"}}' "timezone" "an unknown time zone"
check_bad '{"smpp": ' "bad.json" "broken JSON"

# USSD screen limits (issue 8): below the minimum refused by the configuration; at the minimum
# the shipped menus fit; a menu file whose screens do not fit the configured limit is refused at
# start (the same check runs before the gateway serves anyone), never found by a subscriber.
MENUS="$LGW_SRC/deploy/ussd-menus.json"
check_bad '{"ussd": {"gsm7_limit": 56}}' "ussd.gsm7_limit" "a GSM-7 screen limit below the minimum"
check_bad '{"ussd": {"ucs2_limit": 55}}' "ussd.ucs2_limit" "a UCS-2 screen limit below the minimum"
echo "{\"ussd\": {\"menus_file\": \"$MENUS\", \"gsm7_limit\": 57, \"ucs2_limit\": 56}}" >"$T/min.json"
out=$("$GW" --check-config --config "$T/min.json" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "the shipped menus fit the minimum screen limits ($out)"
jq '.labels.fr.invalid = "Choix invalide: tapez un numero du menu"' \
  "$MENUS" >"$T/wide-menus.json"
echo "{\"ussd\": {\"menus_file\": \"$T/wide-menus.json\"}}" >"$T/wide.json"
out=$("$GW" --check-config --config "$T/wide.json" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "a longer error line fits the default screen limits ($out)"
check_bad "{\"ussd\": {\"menus_file\": \"$T/wide-menus.json\", \"gsm7_limit\": 57}}" \
  "ussd.gsm7_limit 57" "menus whose French error line does not fit a 57-character screen"
case "$out_last" in *ussd.menus_file*) echo "ok - the refusal names ussd.menus_file" ;;
  *) fail "the refusal does not name ussd.menus_file: $out_last" ;; esac

"$GW" --print-config --config "$LGW_SRC/deploy/loyaltygw.json" >"$T/eff.json" 2>&1
assert_eq 0 "$(jq -e . "$T/eff.json" >/dev/null; echo $?)" "--print-config prints JSON"
if grep -q '"secret"' "$T/eff.json"; then fail "--print-config shows the password"; else echo "ok - password masked"; fi
"$GW" --no-such-flag >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "an unknown flag exits 2"
finish

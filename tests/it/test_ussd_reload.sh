#!/usr/bin/env bash
# SIGHUP reloads the USSD menu file with the config: a valid edit shows on the next dial; an
# invalid file is refused with a message naming the key, and the menus in use stay.
# Owner: the USSD-wiring engineer (issue 3).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/ussd_helpers.sh"

start_redis
pick_port
cp "$MENUS" "$T/menus.json"
MENUS="$T/menus.json"
ussd_config
wallet 212655000001 10
start_gw

jq '.menus.fr.main.text = "Club Fidélité - Nouveau"' "$T/menus.json" >"$T/m.tmp" && mv "$T/m.tmp" "$T/menus.json"
kill -HUP "$GW_PID"
wait_for 10 grep -q 'USSD menus reloaded' "$T/gw.log" || fail "no reload logged"
phone r1 212655000001 '*555#'
assert_eq 'Club Fidélité - Nouveau' "$(screens_json r1 | jq -r '.[0].text' | head -1)" "the edited menu is live after SIGHUP"

jq '.menus.fr.points.text = "{pointz}"' "$T/menus.json" >"$T/m.tmp" && mv "$T/m.tmp" "$T/menus.json"
kill -HUP "$GW_PID"
wait_for 10 grep -q 'menu reload refused' "$T/gw.log" || fail "bad menu file not refused"
grep -q 'menus.fr.points.text: unknown placeholder {pointz}' "$T/gw.log" &&
  echo "ok - the refusal names the key" || fail "refusal does not name the key"
phone r2 212655000001 '*555#\n1'
assert_eq 'Solde : 10 points' "$(screens_json r2 | jq -r '.[1].text' | head -1)" "the previous menus stay in use"
stop_gw
finish

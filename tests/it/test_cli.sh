#!/usr/bin/env bash
# loyaltygw's command line: --check-config accepts the shipped configuration and refuses unknown
# keys, wrong types and out-of-range values with a message that names the key.
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
  assert_eq 1 "$rc" "$3: refused"
  case "$out" in *"$2"*) echo "ok - $3: message names $2" ;; *) fail "$3: message '$out' lacks '$2'" ;; esac
}
check_bad '{"smpp": {"windw": 5}}' "smpp.windw" "a misspelt key"
check_bad '{"smpp": {"window": "ten"}}' "smpp.window" "a string where a number belongs"
check_bad '{"smpp": {"window": 0}}' "smpp.window" "a window of 0"
check_bad '{"redis": {"port": 70000}}' "redis.port" "a port out of range"
check_bad '{"loyalty": {"timezone": "Mars/Olympus"}}' "timezone" "an unknown time zone"
check_bad '{"smpp": ' "bad.json" "broken JSON"

"$GW" --print-config --config "$LGW_SRC/deploy/loyaltygw.json" >"$T/eff.json" 2>&1
assert_eq 0 "$(jq -e . "$T/eff.json" >/dev/null; echo $?)" "--print-config prints JSON"
if grep -q '"secret"' "$T/eff.json"; then fail "--print-config shows the password"; else echo "ok - password masked"; fi
"$GW" --no-such-flag >/dev/null 2>&1 && rc=0 || rc=$?
assert_eq 2 "$rc" "an unknown flag exits 2"
finish

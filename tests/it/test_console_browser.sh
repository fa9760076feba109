#!/usr/bin/env bash
# The staff console in headless Chromium (issue 5 part 2): a real redis-server, the SMSC simulator
# and the gateway replay a sample day; loyalty-admin serves admin/web; tests/browser/console.test.js
# (playwright-core driving Debian's /usr/bin/chromium) logs in, schedules a special gift day, adds
# an item to the catalogue, watches the live board and the reports, opens a subscriber and adjusts
# points, switches to French and Arabic (dir=rtl), and reads the audit trail. Screenshots of every
# page are kept in $LGW_BIN/artifacts/console/. The store is checked from here too (redis-cli).
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
M=212612345678
ART="$LGW_BIN/artifacts/console"

if [ ! -x /usr/bin/chromium ]; then
  echo "SKIP: /usr/bin/chromium is not installed (deploy/setup.sh installs Debian's chromium)"
  exit 0
fi
command -v npm >/dev/null || { fail "npm is missing: playwright-core cannot be installed"; finish; }

# playwright-core from the lock file, into the build directory (the source tree stays clean);
# reinstalled only when the lock file changes.
DEPS="$LGW_BIN/browser-deps"
mkdir -p "$DEPS"
if ! cmp -s "$LGW_SRC/tests/browser/package-lock.json" "$DEPS/package-lock.json" ||
   [ ! -d "$DEPS/node_modules/playwright-core" ]; then
  cp "$LGW_SRC/tests/browser/package.json" "$LGW_SRC/tests/browser/package-lock.json" "$DEPS/"
  (cd "$DEPS" && npm ci --no-audit --no-fund >"$T/npm.log" 2>&1) || { cat "$T/npm.log" >&2; fail "npm ci failed"; finish; }
fi

# ------------------------------------------------------------------ data from the real gateway
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_redis
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT"
start_gw
wait_sim sim 60
stop_gw
assert_eq 18 "$(balance $M)" "the sample day gave $M 18 points"

echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null

pre=()
if [ "${LGW_VALGRIND:-0}" = 1 ]; then
  pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
       --show-leak-kinds=definite,indirect --log-file="$T/adm-valgrind.log")
fi
"${pre[@]+"${pre[@]}"}" "$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" \
  --static "$LGW_SRC/admin/web" --login-per-min 100 >"$T/adm.out" 2>>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 60 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
URL="http://127.0.0.1:$(cat "$T/adm.port")"
wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(printf 'a%.0s' $(seq 64))' $URL/api/me)\" = 401 ]" ||
  fail "loyalty-admin does not answer"

# ------------------------------------------------------------------ the browser
rm -rf "$ART"
mkdir -p "$ART"
set +e
CONSOLE_URL="$URL" ARTIFACTS="$ART" MSISDN="$M" NODE_PATH="$DEPS/node_modules" \
  USERS='{"marketing":["mia","marketing-secret-1"],"care":["carl","care-secret-2222"],"auditor":["ada","auditor-secret-33"]}' \
  timeout 300 node "$LGW_SRC/tests/browser/console.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"

# ------------------------------------------------------------------ what the browser did, in the store
assert_eq 43 "$(balance $M)" "the adjustment made in the browser is in the wallet"
case "$(rcli hget 'cfg:{adm}:giftdays' doc)" in *web-launch*) echo "ok - the special gift day is in the stored calendar" ;;
  *) fail "calendar: $(rcli hget 'cfg:{adm}:giftdays' doc | head -c 300)" ;; esac
case "$(rcli hget 'cfg:{adm}:catalog' doc)" in *WEB_2GB*) echo "ok - the new item is in the stored catalogue" ;;
  *) fail "catalogue: $(rcli hget 'cfg:{adm}:catalog' doc | head -c 300)" ;; esac
whats=$(rcli xrange 'adm:{adm}:audit' - + | grep -A1 '^what$' | grep -v '^what$' | grep -v '^--' | sort -u | tr '\n' ' ')
for w in giftdays.put catalog.put catalog.item.patch subscriber.adjust; do
  case " $whats" in *" $w "*) echo "ok - audit record: $w" ;; *) fail "no audit record $w in: $whats" ;; esac
done
n=0
for p in 01-login 02-giftdays 03-catalog 04-board 05-reports 06-deadletters 07-subscriber 08-subscriber-ar 09-audit; do
  [ -s "$ART/$p.png" ] && n=$((n + 1)) || fail "no screenshot $p.png"
done
assert_eq 9 "$n" "a screenshot of each page in $ART"
# The USSD menu still comes from deploy/catalog.json: the gateway does not load cfg:{adm}:catalog
# yet (README "Staff console"), so an item added here is not in the simulator's menu until then.
note "gap: the new item reaches the USSD menu once the gateway loads the catalogue document from Redis"

kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0 after SIGTERM"
# Valgrind 3.19 does not know openat2 (syscall 437): it answers ENOSYS, which sends the admin down
# its openat(O_NOFOLLOW) fallback, and prints a five-line warning that is not an error of ours.
vg_errors() {
  grep -v -E '^--[0-9]+-- (WARNING: unhandled amd64-linux syscall: 437|You may be able to write your own handler\.|Read the file README_MISSING_SYSCALL_OR_IOCTL\.|Nevertheless we consider this a bug\.  Please report|it at http://valgrind\.org/support/bug_reports\.html\.)$' "$1" || true
}
if [ "${LGW_VALGRIND:-0}" = 1 ] && [ -n "$(vg_errors "$T/adm-valgrind.log")" ]; then
  fail "valgrind reported: $(vg_errors "$T/adm-valgrind.log" | head -c 2000)"
fi
finish

#!/usr/bin/env bash
# loyaltyctl's staff operations (issue 5 part 3) against the real loyalty-admin API over HTTP,
# a real redis-server and wallets and dead letters written by the real gateway from the sample
# day over SMPP: login (token file 0600) / whoami / logout, subscriber, adjust (reason and
# request id mandatory; shows in the audit trail under the staff member's name; a retry with the
# same request id adjusts once), block / unblock, giftdays get / put FILE / preview, catalog
# get / put FILE, item stock / limit / kill / resume (the shared kill key), deadletters, audit
# (JSON and CSV). Each with its happy path, a refusal (exit 1, the API's JSON error on stderr)
# and usage errors (exit 2, nothing sent). The read-only Redis commands keep working.
# Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
CTL="$LGW_BIN/gateway/loyaltyctl"
M=212612345678 # 18 points after the sample day

# ------------------------------------------------------------------ data from the real gateway
DAY=$(date -u -d yesterday +%F)
sed "s/DAY/$DAY/g" "$LGW_SRC/deploy/sample-day.events" >"$T/day.events"
start_redis
start_sim sim --events "$T/day.events" --window 5 --exit-when-done --timeout-s 60
write_config "$SIM_PORT" '.loyalty.tiers = [{name: "standard", min_points: 0, multiplier_pct: 100},
  {name: "silver", min_points: 1000, multiplier_pct: 110}, {name: "gold", min_points: 5000, multiplier_pct: 125}]'
start_gw
wait_sim sim 60
stop_gw
assert_eq 18 "$(balance $M)" "the sample day gave $M 18 points"

echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null
rm -f "$T/adm.port"
"$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" \
  >"$T/adm.out" 2>>"$T/adm.log" &
ADM_PID=$!
PIDS+=("$ADM_PID")
wait_for 30 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
export LOYALTYCTL_API="http://127.0.0.1:$(cat "$T/adm.port")"
wait_for 30 sh -c "curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' $LOYALTYCTL_API/api/login | grep -q 400" ||
  fail "loyalty-admin does not answer"

# Each staff member has their own HOME (their own token file).
mkdir -p "$T/home-mia" "$T/home-carl" "$T/home-ada"
# ctl WHO ARGS...: runs loyaltyctl as WHO; sets RC, stdout in $T/o.txt, stderr in $T/e.txt
ctl() {
  local who=$1; shift
  RC=0
  env -u LOYALTYCTL_TOKEN -u XDG_CONFIG_HOME HOME="$T/home-$who" "$CTL" "$@" \
    >"$T/o.txt" 2>"$T/e.txt" </dev/null || RC=$?
}
ctl_in() { # WHO STDIN ARGS...
  local who=$1 input=$2; shift 2
  RC=0
  env -u LOYALTYCTL_TOKEN -u XDG_CONFIG_HOME HOME="$T/home-$who" "$CTL" "$@" \
    >"$T/o.txt" 2>"$T/e.txt" <<<"$input" || RC=$?
}
o() { jq -r "$1" "$T/o.txt"; }
err_json() { grep '^{' "$T/e.txt" | head -1 | jq -r "$1"; } # the API's JSON error
expect_refused() { # status-word field message: exit 1 and the API's error naming field
  assert_eq 1 "$RC" "$3: exit 1"
  assert_eq "$2" "$(err_json .field)" "$3: the API's JSON error is shown ($(head -c 200 "$T/e.txt" | tr '\n' ' '))"
  grep -q "HTTP $1" "$T/e.txt" && echo "ok - $3: HTTP $1" || fail "$3: no HTTP $1 in $(cat "$T/e.txt")"
}
audit_count() { rcli xlen 'adm:{adm}:audit'; }

# ------------------------------------------------------------------ login, whoami, logout
note "login"
ctl mia whoami
assert_eq 1 "$RC" "not logged in: exit 1"
grep -q 'not logged in' "$T/e.txt" && echo "ok - not logged in: says so" || fail "$(cat "$T/e.txt")"
ctl_in mia 'wrong-password-xx' login mia
expect_refused 401 null "a wrong password"
ctl_in mia 'marketing-secret-1' login mia
assert_eq 0 "$RC" "login mia"
TOKFILE="$T/home-mia/.config/loyaltyctl/token"
assert_eq 600 "$(stat -c %a "$TOKFILE")" "the token file is private (0600)"
assert_eq 700 "$(stat -c %a "$(dirname "$TOKFILE")")" "its folder too (0700)"
grep -q "$(cat "$TOKFILE")" "$T/o.txt" "$T/e.txt" && fail "the token is printed" || echo "ok - the token is never printed"
ctl_in carl 'care-secret-2222' login carl
ctl_in ada 'auditor-secret-33' login ada
ctl mia whoami
assert_eq "0 mia marketing" "$RC $(o .user) $(o .role)" "whoami"
RC=0; LOYALTYCTL_TOKEN=$(cat "$TOKFILE") HOME=/nonexistent "$CTL" whoami >"$T/o.txt" 2>"$T/e.txt" || RC=$?
assert_eq "0 mia" "$RC $(o .user)" "LOYALTYCTL_TOKEN instead of the file"
ctl mia login
assert_eq 2 "$RC" "login without a user: usage, exit 2"
ctl mia --api ftp://x whoami
assert_eq 2 "$RC" "--api must be an http(s) URL: exit 2"
ctl mia --api "http://127.0.0.1:1" whoami
assert_eq 1 "$RC" "--api URL: an API that is not there fails with exit 1"
ctl mia --api "$LOYALTYCTL_API/" whoami
assert_eq "0 mia" "$RC $(o .user)" "--api URL (trailing slash fine)"

# ------------------------------------------------------------------ care: subscriber, adjust, block
note "care operations"
ctl carl subscriber $M
assert_eq "0 18" "$RC $(o .balance)" "subscriber: the balance the gateway wrote"
ctl mia subscriber $M
expect_refused 403 null "marketing may not read subscribers"
ctl carl subscriber 12ab
assert_eq 2 "$RC" "subscriber: a malformed MSISDN is a usage error"
A0=$(audit_count)
ctl carl adjust $M 50 --request-id ctl-1
assert_eq 2 "$RC" "adjust without --reason: exit 2"
ctl carl adjust $M 50 --reason 'goodwill'
assert_eq 2 "$RC" "adjust without --request-id: exit 2"
ctl carl adjust $M fifty --reason 'goodwill' --request-id ctl-1
assert_eq 2 "$RC" "adjust with points that are not a number: exit 2"
assert_eq "$A0" "$(audit_count)" "usage errors send nothing"
ctl carl adjust $M 50 --reason 'goodwill after outage' --request-id ctl-1
assert_eq "0 68" "$RC $(o .balance)" "adjust +50: balance 68"
ctl carl adjust $M 50 --reason 'goodwill after outage' --request-id ctl-1
assert_eq "0 68" "$RC $(o .balance)" "the same request id again: adjusted once"
assert_eq 68 "$(balance $M)" "the wallet holds 68"
ctl carl adjust $M 70 --reason 'goodwill after outage' --request-id ctl-1
expect_refused 409 request_id "the request id reused with other points"
ctl mia adjust $M 5 --reason x --request-id ctl-2
expect_refused 403 null "marketing may not adjust"
ctl carl block $M --reason 'fraud check'
assert_eq 0 "$RC" "block"
assert_eq 1 "$(rcli hget "lg:{$M}:w" blocked)" "the wallet is blocked"
ctl carl unblock $M
assert_eq 0 "$RC" "unblock"
assert_eq "" "$(rcli hget "lg:{$M}:w" blocked)" "the wallet is unblocked"
ctl carl block
assert_eq 2 "$RC" "block without an MSISDN: exit 2"

# ------------------------------------------------------------------ marketing: calendar
note "gift-day calendar"
cp "$LGW_SRC/deploy/giftdays.json" "$T/giftdays.json"
ctl mia giftdays put "$T/giftdays.json"
assert_eq "0 1" "$RC $(o .version)" "giftdays put FILE: version 1"
ctl ada giftdays get
assert_eq "0 1 Africa/Casablanca mia" "$RC $(o .version) $(o .document.timezone) $(o .updated_by)" "giftdays get"
ctl ada giftdays preview --tier gold
assert_eq "0 8" "$RC $(o '.openings | length')" "giftdays preview: the next 8 openings"
jq '.weekly[0].day = "someday"' "$T/giftdays.json" >"$T/bad-giftdays.json"
ctl mia giftdays put "$T/bad-giftdays.json"
expect_refused 422 'document.weekly[0].day' "an invalid calendar"
ctl mia giftdays put "$T/giftdays.json" --version 0
expect_refused 409 version "a stale --version"
echo '{"timezone": ' >"$T/broken.json"
ctl mia giftdays put "$T/broken.json"
assert_eq 2 "$RC" "a file that is not JSON: exit 2, nothing sent"
ctl mia giftdays put "$T/nonexistent.json"
assert_eq 2 "$RC" "a missing file: exit 2"
ctl carl giftdays put "$T/giftdays.json"
expect_refused 403 null "care may not change the calendar"
ctl mia giftdays frobnicate
assert_eq 2 "$RC" "giftdays with an unknown verb: exit 2"

# ------------------------------------------------------------------ marketing: the loyalty table
note "the loyalty table (issue 12): seeded from the configuration, replaced with put FILE"
ctl ada loyalty get
assert_eq "0 1 seed" "$RC $(o .version) $(o .updated_by)" "loyalty get: the configuration's table, version 1"
ctl mia loyalty put "$LGW_SRC/deploy/loyalty-table.json"
assert_eq "0 2" "$RC $(o .version)" "loyalty put FILE: version 2"
jq '.tiers[1].min_points = -1' "$LGW_SRC/deploy/loyalty-table.json" >"$T/bad-table.json"
ctl mia loyalty put "$T/bad-table.json"
expect_refused 422 'document.tiers[1].min_points' "a table the gateway's parser refuses"

note "the menus and the campaign rules too: every stored document has get and put FILE"
ctl mia menus put "$LGW_SRC/deploy/ussd-menus.json"
assert_eq 0 "$RC" "menus put FILE ($(o .version))"
MV=$(o .version)
ctl ada menus get
assert_eq "0 $MV Loyalty Club" "$RC $(o .version) $(o .document.menus.en.main.text)" "menus get: the version put"
jq -n --arg s "$(date +%F)" --arg e "$(date -d '+30 days' +%F)" '{version: "ctl-1",
  campaigns: [{id: "welcome", rule: "welcome", start: $s, end: $e, budget: 1000, points: 50}]}' >"$T/rules.json"
ctl mia rules put "$T/rules.json"
assert_eq 0 "$RC" "rules put FILE ($(o .version))"
ctl ada rules get
assert_eq "0 welcome 50" "$RC $(o '.document.campaigns[0].id') $(o '.document.campaigns[0].points')" "rules get: the document put"
jq '.campaigns[0].points = -1' "$T/rules.json" >"$T/bad-rules.json"
ctl mia rules put "$T/bad-rules.json"
expect_refused 422 'document.campaigns[0].points' "rules the gateways' parser refuses"

# ------------------------------------------------------------------ marketing: catalogue, items
note "catalogue and items"
cp "$LGW_SRC/deploy/catalog.json" "$T/catalog.json"
ctl mia catalog put "$T/catalog.json"
assert_eq "0 1" "$RC $(o .version)" "catalog put FILE: version 1"
ctl mia catalog get
assert_eq "0 6" "$RC $(o '.document.items | length')" "catalog get"
jq '.items[0].price = 0' "$T/catalog.json" >"$T/bad-catalog.json"
ctl mia catalog put "$T/bad-catalog.json"
expect_refused 422 'document.items[0].price' "an invalid catalogue"
ctl mia item DATA_1GB stock 40
assert_eq "0 2" "$RC $(o .version)" "item stock"
ctl mia item DATA_1GB limit 2 --version 2
assert_eq "0 3" "$RC $(o .version)" "item limit with --version"
ctl mia catalog get
assert_eq "40 2" "$(o '.document.items[0] | "\(.stock_per_day) \(.limit_per_day)"')" "stock and limit stored"
ctl mia item DATA_1GB limit 3 --version 2
expect_refused 409 version "item with a stale --version"
ctl mia item DATA_1GB kill
assert_eq "0 true" "$RC $(o .kill)" "item kill"
assert_eq 1 "$(rcli exists 'cat:{DATA_1GB}:k')" "the shared kill switch is set"
ctl mia item DATA_1GB resume
assert_eq "0 false" "$RC $(o .kill)" "item resume"
assert_eq 0 "$(rcli exists 'cat:{DATA_1GB}:k')" "the shared kill switch is cleared"
ctl mia item NO_SUCH kill
expect_refused 404 id "an unknown item"
ctl mia item DATA_1GB stock -4
assert_eq 2 "$RC" "a negative stock: exit 2"
ctl mia item 'bad/id' kill
assert_eq 2 "$RC" "an id with a slash: exit 2 (never reaches the URL)"
ctl mia item DATA_1GB explode
assert_eq 2 "$RC" "an unknown item verb: exit 2"

# ------------------------------------------------------------------ lists
note "dead letters and the audit trail"
ctl mia deadletters --count 2
assert_eq "0 2" "$RC $(o '.items | length')" "deadletters --count 2"
NEXT=$(o .next)
ctl mia deadletters --count 2 --before "$NEXT"
assert_eq 0 "$RC" "deadletters --before (the next page)"
ctl mia deadletters --count 0
assert_eq 2 "$RC" "--count 0: exit 2"
ctl mia deadletters --csv
head -1 "$T/o.txt" | grep -q '^id,' && echo "ok - deadletters --csv" || fail "csv: $(head -2 "$T/o.txt")"
ctl mia audit
expect_refused 403 null "marketing may not read the audit trail"
ctl ada audit --count 100
assert_eq 0 "$RC" "audit"
assert_eq "carl goodwill after outage 18 68 ctl-1" \
  "$(o '[.items[] | select(.what == "subscriber.adjust" and (.after.replay | not))][0] | "\(.who) \(.after.reason) \(.before.balance) \(.after.balance) \(.req)"')" \
  "loyaltyctl adjust is in the audit trail: who, reason, before, after, request id"
assert_eq "1 1" "$(o '[.items[] | select(.what == "subscriber.adjust")] | "\(map(select(.after.replay | not)) | length) \(map(select(.after.replay)) | length)"')" \
  "one adjustment, and the retry recorded as a replay that changed nothing"
assert_eq "DATA_1GB true" "$(o '[.items[] | select(.what == "catalog.item.patch" and .after.kill == true)][0] | "\(.target) \(.after.kill)"')" \
  "loyaltyctl item kill is in the audit trail"
assert_eq mia "$(o '[.items[] | select(.what == "giftdays.put")][0].who')" "loyaltyctl giftdays put is in the audit trail"
ctl ada audit --csv --count 3
assert_eq "id,at,who,role,ip,what,target,before,after,req" "$(head -1 "$T/o.txt" | tr -d '\r')" "audit --csv"

# ------------------------------------------------------------------ the rest of the CLI
note "usage and the read-only Redis commands"
ctl mia
assert_eq 2 "$RC" "no command: exit 2"
ctl mia --socket "$REDIS_SOCK" frobnicate
assert_eq 2 "$RC" "an unknown command: exit 2"
ctl mia --help
assert_eq 0 "$RC" "--help"
grep -q 'adjust MSISDN POINTS --reason TEXT --request-id ID' "$T/o.txt" && echo "ok - --help lists the API commands" || fail "help: $(cat "$T/o.txt")"
ctl mia --socket "$REDIS_SOCK" show $M
assert_eq 0 "$RC" "show (Redis) still works"
grep -q 'adjust by carl: goodwill after outage' "$T/o.txt" && echo "ok - show: the adjustment in the history" || fail "show: $(cat "$T/o.txt")"
ctl mia --socket "$REDIS_SOCK" dlq 3
assert_eq 0 "$RC" "dlq (Redis) still works"

note "logout"
ctl mia logout
assert_eq 0 "$RC" "logout"
[ -e "$TOKFILE" ] && fail "the token file is still there" || echo "ok - the token file is removed"
ctl mia whoami
assert_eq 1 "$RC" "after logout: exit 1"

kill -TERM "$ADM_PID"; wait "$ADM_PID" || fail "loyalty-admin exit status"
finish

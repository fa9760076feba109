#!/usr/bin/env bash
# The staff console's API (loyalty-admin, issue 5) over real HTTP (curl) against a real
# redis-server, on wallets, history and dead letters written by the real gateway from a sample day
# over SMPP: accounts and sessions, every endpoint's happy path, auth failures (none, malformed,
# unknown, expired, logged out), role refusals, malformed JSON, oversized bodies, concurrent edits
# of one document and one item (one 200, one 409), an audit record with before/after for every
# change and none for a refused one, the adjustment in `loyaltyctl show`, the login rate limit,
# CSV exports, and a clean SIGTERM. Owner: the staff-console engineer.
source "$(dirname "$0")/lib.sh"
ADM="$LGW_BIN/admin/loyalty-admin"
CTL="$LGW_BIN/gateway/loyaltyctl"
M=212612345678 # 18 points after the sample day (test_ingest_e2e.sh)
START_MS=$(( $(date +%s) * 1000 )) # audit records made by this test are not older

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

# ------------------------------------------------------------------ accounts (CLI)
echo 'marketing-secret-1' | "$ADM" --config "$T/gw.json" --add-user mia --role marketing >/dev/null
echo 'care-secret-2222' | "$ADM" --config "$T/gw.json" --add-user carl --role care >/dev/null
echo 'auditor-secret-33' | "$ADM" --config "$T/gw.json" --add-user ada --role auditor >/dev/null
echo 'care-secret-4444' | "$ADM" --config "$T/gw.json" --add-user cora --role care >/dev/null
rc=0; echo 'whatever-secret' | "$ADM" --config "$T/gw.json" --add-user bob --role root >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "--add-user refuses an unknown role"
rc=0; echo 'short' | "$ADM" --config "$T/gw.json" --add-user bob --role care >/dev/null 2>&1 || rc=$?
assert_eq 1 "$rc" "--add-user refuses a short password"
hash=$(rcli hget adm:user:mia hash)
case "$hash" in '$y$'*) echo "ok - the password is stored as a yescrypt hash" ;; *) fail "hash: $hash" ;; esac
assert_eq 4 "$(rcli xlen 'adm:{adm}:audit')" "each account creation is audited"

# ------------------------------------------------------------------ the server
start_admin() {
  local pre=()
  if [ "${LGW_VALGRIND:-0}" = 1 ]; then
    pre=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
         --show-leak-kinds=definite,indirect --log-file="$T/adm-valgrind.log")
  fi
  rm -f "$T/adm.port"
  "${pre[@]+"${pre[@]}"}" "$ADM" --config "$T/gw.json" --listen 127.0.0.1:0 --port-file "$T/adm.port" \
    --login-per-min 25 --session-ttl 600 >"$T/adm.out" 2>>"$T/adm.log" &
  ADM_PID=$!
  PIDS+=("$ADM_PID")
  wait_for 60 test -s "$T/adm.port" || { echo "loyalty-admin did not start" >&2; exit 1; }
  URL="http://127.0.0.1:$(cat "$T/adm.port")"
  # Up once it answers from Redis (401 for a well-formed unknown token; 503 before Redis is up).
  wait_for 30 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer $(printf 'a%.0s' $(seq 64))' $URL/api/me)\" = 401 ]" ||
    fail "loyalty-admin does not answer"
}

# api METHOD PATH TOKEN [BODY | @file]: sets CODE; the body is in $T/r.json, headers in $T/r.hdr
api() {
  local args=(-s -o "$T/r.json" -D "$T/r.hdr" -w '%{http_code}' -X "$1")
  [ -n "$3" ] && args+=(-H "Authorization: Bearer $3")
  [ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
  CODE=$(curl "${args[@]}" "$URL$2")
}
j() { jq -r "$1" "$T/r.json"; }
expect() { # code jq-filter expected message
  assert_eq "$1" "$CODE" "$4 (status)"
  [ -z "$2" ] || assert_eq "$3" "$(j "$2")" "$4"
}
login() { # user password -> token
  api POST /api/login "" "{\"user\":\"$1\",\"password\":\"$2\"}"
  [ "$CODE" = 200 ] || fail "login $1: $CODE $(cat "$T/r.json")"
  j .token
}
audit_count() { rcli xlen 'adm:{adm}:audit'; }

start_admin

# ------------------------------------------------------------------ plumbing, auth
api GET /api/nowhere ""
expect 404 .error "no such endpoint" "unknown endpoint: 404 with a JSON error"
grep -qi '^content-type: application/json' "$T/r.hdr" && echo "ok - JSON content type" || fail "content type: $(cat "$T/r.hdr")"
grep -qi '^x-content-type-options: nosniff' "$T/r.hdr" && echo "ok - security headers" || fail "no nosniff header"
grep -qi '^cache-control: no-store' "$T/r.hdr" && echo "ok - no-store" || fail "no cache-control"
api DELETE /api/giftdays ""
expect 405 "" "" "wrong method: 405"
api GET /api/me ""
expect 401 .field Authorization "no token: 401 naming the Authorization header"
grep -qi '^www-authenticate: bearer' "$T/r.hdr" && echo "ok - WWW-Authenticate: Bearer" || fail "no WWW-Authenticate"
api GET /api/me "not-a-token"
expect 401 .error "malformed bearer token" "malformed token: 401"
api GET /api/me "$(printf '0%.0s' $(seq 64))"
expect 401 .error "invalid or expired session" "unknown token: 401"
api POST /api/login "" '{"user":"mia","password":"wrong-password"}'
expect 401 .error "wrong user name or password" "wrong password: 401"
api POST /api/login "" '{"user":"nobody","password":"wrong-password"}'
expect 401 .error "wrong user name or password" "unknown user: the same 401"
api POST /api/login "" '{"user":"mia"}'
expect 400 .field password "login without a password: 400 naming the field"

MKT=$(login mia marketing-secret-1)
CARE=$(login carl care-secret-2222)
AUD=$(login ada auditor-secret-33)
assert_eq 64 "${#MKT}" "a token is 32 random bytes in hex"
api GET /api/me "$CARE"
expect 200 .role care "GET /api/me: the role"
assert_eq carl "$(j .user)" "GET /api/me: the user"
[ "$(j .expires_in)" -gt 500 ] && echo "ok - the session has its TTL" || fail "expires_in $(j .expires_in)"

# expired: the session key's TTL runs out in Redis
EXP=$(login cora care-secret-4444)
# (Redis holds the SHA-256 of the token, never the token: test_admin_sessions.sh)
rcli pexpire "adm:sess:$(printf %s "$EXP" | sha256sum | cut -d' ' -f1)" 1 >/dev/null
sleep 0.2
api GET /api/me "$EXP"
expect 401 .error "invalid or expired session" "expired session: 401"

A0=$(audit_count)
# ------------------------------------------------------------------ role refusals
api PUT /api/catalog "$CARE" '{"version":0,"document":{}}'
expect 403 .error "the care role may not do this" "care cannot PUT the catalogue"
api POST /api/subscribers/$M/adjust "$AUD" '{"points":5,"reason":"test","request_id":"x1"}'
expect 403 "" "" "an auditor cannot adjust"
api POST /api/subscribers/$M/adjust "$MKT" '{"points":5,"reason":"test","request_id":"x1"}'
expect 403 "" "" "marketing cannot adjust"
api GET /api/subscribers/$M "$MKT"
expect 403 "" "" "marketing cannot read a subscriber"
api GET /api/audit "$CARE"
expect 403 "" "" "care cannot read the audit trail"
api PUT /api/giftdays "$AUD" '{"version":0,"document":{}}'
expect 403 "" "" "an auditor cannot change the calendar"

# ------------------------------------------------------------------ bad requests change nothing
api POST /api/subscribers/$M/adjust "$CARE" '{"points": 5, "reason": '
expect 400 .field body "malformed JSON: 400"
api POST /api/subscribers/$M/adjust "$CARE" '[1,2]'
expect 400 .field body "a JSON array body: 400"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":5,"points":6,"reason":"dup","request_id":"d"}'
expect 400 .field body "duplicate keys: 400"
CODE=$(curl -s -o "$T/r.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $CARE" \
  -H 'Content-Type: text/plain' --data-binary '{}' "$URL/api/subscribers/$M/adjust")
expect 415 "" "" "a body that is not application/json: 415"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":5,"request_id":"r0"}'
expect 400 .field reason "adjust without a reason: 400 naming reason"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":0,"reason":"zero","request_id":"r0"}'
expect 400 .field points "adjust of 0 points: 400"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":5,"reason":"ok","request_id":"r0","extra":1}'
expect 400 .field extra "an unknown key: 400 naming it"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":5,"reason":"fine","request_id":"bad id!"}'
expect 400 .field request_id "a bad request id: 400"
head -c 70000 /dev/zero | tr '\0' 'x' | sed 's/^/{"reason":"/; s/$/"}/' >"$T/big.json"
api POST /api/subscribers/$M/adjust "$CARE" "@$T/big.json"
expect 413 .field body "a 70 KB body: 413 with a JSON error"
head -c 8000000 /dev/zero | tr '\0' 'x' >"$T/huge.json"
api POST /api/subscribers/$M/adjust "$CARE" "@$T/huge.json"
expect 413 "" "" "an 8 MB body: 413 before it is buffered"
api GET /api/subscribers/12ab "$CARE"
expect 400 .field msisdn "a malformed MSISDN: 400"
api GET /api/subscribers/212600000000 "$CARE"
expect 404 "" "" "a subscriber never seen: 404"
api POST /api/subscribers/212600000000/adjust "$CARE" '{"points":5,"reason":"not enrolled","request_id":"n1"}'
expect 404 .field msisdn "adjusting a subscriber never seen: 404"
api POST /api/subscribers/212600000000/block "$CARE"
expect 404 .field msisdn "blocking a subscriber never seen: 404"
assert_eq 0 "$(rcli exists 'lg:{212600000000}:w')" "no wallet was created by the refusals"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":-1000,"reason":"too much","request_id":"r-neg"}'
expect 422 .field points "a debit below zero: 422"
rcli hset 'lg:{212600000777}:w' bal 999999999990 life 10 >/dev/null
api POST /api/subscribers/212600000777/adjust "$CARE" '{"points":50,"reason":"past the bound","request_id":"r-big"}'
expect 422 .field points "a credit past the ledger's bound: 422"
assert_eq 999999999990 "$(balance 212600000777)" "the balance stayed within the bounds"
rcli del 'lg:{212600000777}:w' >/dev/null
assert_eq 18 "$(balance $M)" "the refused requests changed nothing"
assert_eq "$A0" "$(audit_count)" "refused requests leave no audit record"

# ------------------------------------------------------------------ subscriber
api GET /api/subscribers/$M "$CARE"
expect 200 .balance 18 "GET subscriber: balance"
assert_eq standard "$(j .tier)" "GET subscriber: tier"
assert_eq false "$(j .blocked)" "GET subscriber: not blocked"
assert_eq "$DAY" "$(j '.lots[0].date')" "GET subscriber: the lot is dated by the earning day"
assert_eq 18 "$(j '[.lots[].points] | add')" "GET subscriber: lots hold the balance"
assert_eq TOPUP "$(j '.history[-1].kind')" "GET subscriber: history with kinds"
case "$(j '.history[-1].rule')" in *1/10*|*"per 10"*|*1pt*) echo "ok - history shows the rule behind the credit" ;;
  *) fail "rule: $(j '.history[-1].rule')" ;; esac
api GET /api/subscribers/$M "$AUD"
expect 200 .balance 18 "an auditor reads a subscriber"

api POST /api/subscribers/$M/adjust "$CARE" '{"points":50,"reason":"goodwill: network outage","request_id":"case-1"}'
expect 200 .balance 68 "adjust +50: balance 68"
assert_eq applied "$(j .status)" "adjust: applied"
assert_eq 18 "$(j .balance_before)" "adjust: balance before"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":50,"reason":"goodwill: network outage","request_id":"case-1"}'
expect 200 .status duplicate "the same request id again: no second effect"
assert_eq 68 "$(balance $M)" "the replay did not credit twice"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":7,"reason":"other","request_id":"case-1"}'
expect 409 .field request_id "a request id reused for another adjustment: 409"
api POST /api/subscribers/$M/adjust "$CARE" '{"points":-30,"reason":"duplicate goodwill","request_id":"case-2"}'
expect 200 .balance 38 "adjust -30: balance 38"
show=$("$CTL" --socket "$REDIS_SOCK" show $M)
case "$show" in *"adjust by carl: goodwill: network outage"*) echo "ok - loyaltyctl show lists the adjustment" ;;
  *) fail "loyaltyctl show: $show" ;; esac
case "$show" in *"bal "*38*) echo "ok - loyaltyctl show has the new balance" ;; *) fail "balance in: $show" ;; esac
api GET /api/subscribers/$M "$CARE"
assert_eq ADJUST "$(j '.history[0].kind')" "history: newest entry is the adjustment"
assert_eq -30 "$(j '.history[0].points')" "history: its points"
assert_eq "adjust by carl: duplicate goodwill" "$(j '.history[0].rule')" "history: who and why"
assert_eq 38 "$(j '[.lots[].points] | add')" "lots follow the adjustments"
# the undated lot (points folded while points never expire, docs/data-model.md 1): listed first,
# with no date and no expiry
rcli --raw hget "lg:{$M}:w" L | head -c -1 >"$T/L0"
{ printf '\000\000\005'; cat "$T/L0"; } >"$T/L1"
rcli -x hset "lg:{$M}:w" L <"$T/L1" >/dev/null
api GET /api/subscribers/$M "$CARE"
assert_eq "|null|5" "$(j '.lots[0] | "\(.date)|\(.expires)|\(.points)"')" "GET subscriber: the undated lot, no date"
assert_eq 43 "$(j '[.lots[].points] | add')" "... and the dated lots after it"
rcli -x hset "lg:{$M}:w" L <"$T/L0" >/dev/null

api POST /api/subscribers/$M/block "$CARE" '{"reason":"fraud investigation"}'
expect 200 .blocked true "block"
assert_eq 1 "$(rcli hget "lg:{$M}:w" blocked)" "block sets the wallet field redemption honours"
api POST /api/subscribers/$M/block "$CARE" '{"reason":"again"}'
expect 200 .changed false "blocking a blocked wallet changes nothing"
api GET /api/subscribers/$M "$CARE"
assert_eq true "$(j .blocked)" "GET subscriber shows blocked"
api POST /api/subscribers/$M/unblock "$CARE"
expect 200 .blocked false "unblock (no body)"
assert_eq "" "$(rcli hget "lg:{$M}:w" blocked)" "unblock removes the field"
api GET /api/subscribers/$M "$CARE"
assert_eq "UNBLOCK 0 unblocked by carl" "$(j '.history[0] | "\(.kind) \(.points) \(.rule)"')" \
  "history: the unblock, by whom"
assert_eq "BLOCK 0 blocked by carl: fraud investigation" \
  "$(j '.history[1] | "\(.kind) \(.points) \(.rule)"')" "history: the block, by whom and why"
assert_eq "ADJUST -30 adjust by carl: duplicate goodwill" \
  "$(j '.history[2] | "\(.kind) \(.points) \(.rule)"')" "history: the adjustment after them"
assert_eq 0 "$(rcli exists "lg:{$M}:h")" "no history list: staff movements are in the wallet (E, N)"
assert_eq "" "$(rcli hget "lg:{$M}:w" R)" "no refs field R: the adjustment's request id is its record in E"

api GET "/api/subscribers/$M?format=csv" "$CARE"
assert_eq 200 "$CODE" "history as CSV"
assert_eq "at,kind,ref,points,balance,rule" "$(head -1 "$T/r.json" | tr -d '\r')" "CSV header"
grep -q '"adjust by carl: goodwill: network outage"' "$T/r.json" && echo "ok - CSV rows" || fail "CSV: $(cat "$T/r.json")"
grep -qi '^content-disposition: attachment' "$T/r.hdr" && echo "ok - CSV as an attachment" || fail "no Content-Disposition"

# ------------------------------------------------------------------ dead letters
api GET "/api/deadletters?count=3" "$MKT"
expect 200 '.items | length' 3 "dead letters: a page of 3"
NEXT=$(j .next)
[ "$NEXT" != null ] && echo "ok - a next page" || fail "no next page"
api GET "/api/deadletters?count=3&before=$NEXT" "$MKT"
expect 200 '.items | length' 1 "dead letters: the last one on the second page"
assert_eq null "$(j .next)" "dead letters: no third page"
api GET "/api/deadletters?count=0" "$MKT"
expect 400 .field count "count=0: 400"
api GET "/api/deadletters?format=csv" "$AUD"
assert_eq 5 "$(grep -c . "$T/r.json")" "dead letters as CSV: header + 4"

# ------------------------------------------------------------------ gift days
api GET /api/giftdays "$MKT"
expect 200 .version 0 "no calendar stored yet: version 0"
GD=$(jq -c . "$LGW_SRC/deploy/giftdays.json")
api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$(jq -c '.weekly[0].day = "funday"' <<<"$GD")}"
expect 422 .field 'document.weekly[0].day' "an invalid calendar: 422 naming the JSON path"
api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$(jq -c '.timezone = "Mars/Olympus"' <<<"$GD")}"
expect 422 "" "" "an unknown time zone: 422"
api GET /api/giftdays "$MKT"
expect 200 .version 0 "refused calendars changed nothing"
api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$GD}"
expect 200 .version 1 "PUT the calendar: version 1"
api PUT /api/giftdays "$MKT" "{\"version\":0,\"document\":$GD}"
expect 409 .current_version 1 "PUT with a stale version: 409"
api GET /api/giftdays "$AUD"
expect 200 .document.timezone Africa/Casablanca "GET the calendar"
assert_eq mia "$(j .updated_by)" "who changed it"
# two editors from version 1 at the same time
GD2=$(jq -c --arg d "$(date -d '+30 days' +%F)" '.cancelled += [$d]' <<<"$GD")
GD3=$(jq -c --arg d "$(date -d '+37 days' +%F)" '.cancelled += [$d]' <<<"$GD")
curl -s -o "$T/c1.json" -w '%{http_code}\n' -X PUT -H "Authorization: Bearer $MKT" -H 'Content-Type: application/json' \
  --data-binary "{\"version\":1,\"document\":$GD2}" "$URL/api/giftdays" >"$T/c1.code" &
c1=$!
curl -s -o "$T/c2.json" -w '%{http_code}\n' -X PUT -H "Authorization: Bearer $MKT" -H 'Content-Type: application/json' \
  --data-binary "{\"version\":1,\"document\":$GD3}" "$URL/api/giftdays" >"$T/c2.code" &
c2=$!
wait $c1 $c2
assert_eq "200 409" "$(cat "$T/c1.code" "$T/c2.code" | sort | tr '\n' ' ' | sed 's/ $//')" "two PUTs from one version: one 200, one 409"
api GET /api/giftdays "$MKT"
expect 200 .version 2 "the calendar is at version 2"
assert_eq "$(($(jq '.cancelled | length' <<<"$GD") + 1))" "$(j '.document.cancelled | length')" "exactly one of the two edits is in"
api GET /api/giftdays/preview "$CARE"
expect 200 '.openings | length' 8 "preview: the next 8 openings"
assert_eq Africa/Casablanca "$(j .timezone)" "preview: in the calendar's zone"
case "$(j '.openings[0].opens_local')" in 20[0-9][0-9]-*) echo "ok - preview: local opening time" ;; *) fail "preview: $(cat "$T/r.json")" ;; esac
api GET "/api/giftdays/preview?tier=gold" "$CARE"
expect 200 '.openings | length' 8 "preview for a premium tier"
api GET "/api/giftdays/preview?tier=../x" "$CARE"
expect 400 .field tier "preview: a bad tier name is 400"

# ------------------------------------------------------------------ catalogue
# The test's loyalty table has the tiers standard and gold (lib.sh): the shipped file's silver
# items would be refused, as they should (the tier check is part of the validation).
CAT=$(jq -c '(.items[] | select(.tier == "silver") | .tier) = "gold"' "$LGW_SRC/deploy/catalog.json")
api PUT /api/catalog "$MKT" "{\"version\":0,\"document\":$(jq -c . "$LGW_SRC/deploy/catalog.json")}"
expect 422 .field 'document.items[1].tier' "an item for an unknown tier: 422"
api PUT /api/catalog "$MKT" "{\"version\":0,\"document\":$(jq -c '.items[0].price = -1' <<<"$CAT")}"
expect 422 .field 'document.items[0].price' "an invalid catalogue: 422 naming the path"
api PUT /api/catalog "$MKT" "{\"version\":0,\"document\":$CAT}"
expect 200 .version 1 "PUT the catalogue: version 1"
api PUT /api/catalog "$MKT" "{\"version\":1,\"document\":$(jq -c '.items[0].price = 499' <<<"$CAT")}"
expect 422 .field document.version "changed items under the same version string: 422"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"version":1,"stock_per_day":50}'
expect 200 .version 2 "PATCH the stock of one item"
api GET /api/catalog "$AUD"
assert_eq 50 "$(j '.document.items[] | select(.id == "DATA_1GB") | .stock_per_day')" "the new stock is stored"
case "$(j .document.version)" in *.a2) echo "ok - the catalogue got a new version string" ;; *) fail "version string $(j .document.version)" ;; esac
api PATCH /api/catalog/items/NO_SUCH "$MKT" '{"enabled":false}'
expect 404 .field id "PATCH an unknown item: 404"
api PATCH /api/catalog/items/DATA_1GB "$MKT" '{"stock_per_day":-5}'
expect 400 .field stock_per_day "a negative stock: 400"
curl -s -o /dev/null -w '%{http_code}\n' -X PATCH -H "Authorization: Bearer $MKT" -H 'Content-Type: application/json' \
  --data-binary '{"version":2,"kill":true}' "$URL/api/catalog/items/DATA_1GB" >"$T/p1.code" &
c1=$!
curl -s -o /dev/null -w '%{http_code}\n' -X PATCH -H "Authorization: Bearer $MKT" -H 'Content-Type: application/json' \
  --data-binary '{"version":2,"limit_per_day":3}' "$URL/api/catalog/items/DATA_1GB" >"$T/p2.code" &
c2=$!
wait $c1 $c2
assert_eq "200 409" "$(cat "$T/p1.code" "$T/p2.code" | sort | tr '\n' ' ' | sed 's/ $//')" "two PATCHes of one item from one version: one 200, one 409"
api GET /api/catalog "$MKT"
expect 200 .version 3 "the catalogue is at version 3"

# ------------------------------------------------------------------ the audit trail
# 2 adjustments + the replay of one (recorded as such), block, unblock, 2 calendar PUTs,
# catalogue PUT + PATCH + the winning concurrent PATCH = 10
assert_eq $((A0 + 10)) "$(audit_count)" "one audit record per change, none for refusals"
api GET "/api/audit?count=100" "$AUD"
expect 200 "" "" "GET /api/audit"
assert_eq 18 "$(j '[.items[] | select(.what == "subscriber.adjust")][-1].before.balance')" "audit: the adjustment's before"
assert_eq 68 "$(j '[.items[] | select(.what == "subscriber.adjust")][-1].after.balance')" "audit: the adjustment's after"
assert_eq carl "$(j '[.items[] | select(.what == "subscriber.adjust")][-1].who')" "audit: who"
assert_eq 1 "$(j '[.items[] | select(.what == "subscriber.adjust" and .after.replay)] | length')" "audit: the replay is marked"
assert_eq "fraud investigation" "$(j '.items[] | select(.what == "subscriber.block") | .after.reason')" "audit: the block's reason"
assert_eq null "$(j '[.items[] | select(.what == "giftdays.put")][-1].before')" "audit: the first calendar had no before"
assert_eq Africa/Casablanca "$(j '[.items[] | select(.what == "giftdays.put")][-1].after.timezone')" "audit: the calendar after"
assert_eq "1000 50" "$(j '[.items[] | select(.what == "catalog.item.patch")][-1] | "\(.before.stock_per_day) \(.after.stock_per_day)"')" "audit: the stock before and after"
assert_eq DATA_1GB "$(j '[.items[] | select(.what == "catalog.item.patch")][-1].target')" "audit: which item"
[ "$(j '.items[0].at')" -ge "$START_MS" ] && echo "ok - audit: when (unix ms)" || fail "audit at: $(j '.items[0].at')"
api GET "/api/audit?format=csv&count=5" "$AUD"
assert_eq "id,at,who,role,ip,what,target,before,after,req" "$(head -1 "$T/r.json" | tr -d '\r')" "audit as CSV"

# ------------------------------------------------------------------ logout, rate limit
api POST /api/logout "$CARE"
expect 200 .ok true "logout"
api GET /api/me "$CARE"
expect 401 "" "" "a token after logout: 401"
got429=0
for _ in $(seq 30); do
  api POST /api/login "" '{"user":"mia","password":"guessing-again"}'
  if [ "$CODE" = 429 ]; then got429=1; break; fi
done
assert_eq 1 "$got429" "repeated logins from one address: 429"
grep -qi '^retry-after: [0-9]' "$T/r.hdr" && echo "ok - Retry-After" || fail "no Retry-After"
api POST /api/login "" '{"user":"mia","password":"marketing-secret-1"}'
expect 429 "" "" "even the right password waits for the window"

# ------------------------------------------------------------------ stop
kill -TERM "$ADM_PID"
rc=0; wait "$ADM_PID" || rc=$?
assert_eq 0 "$rc" "loyalty-admin exits 0 after SIGTERM"
if [ "${LGW_VALGRIND:-0}" = 1 ] && [ -s "$T/adm-valgrind.log" ]; then
  fail "valgrind reported: $(head -c 2000 "$T/adm-valgrind.log")"
fi
if grep -q "$M" "$T/adm.log"; then fail "a full MSISDN appears in the admin log"; else echo "ok - MSISDNs masked in the admin log"; fi
finish

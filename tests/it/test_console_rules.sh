#!/usr/bin/env bash
# The console's campaign rules page (issue 10 §1) in the real browser: a campaigns document and
# its counters stored as the console and campaign.lua store them (cfg:{adm}:campaigns,
# lg:cb:{cmp}), loyalty-admin with the console's files; tests/browser/rules.test.js reads the page
# in English, French and Arabic: the campaigns with their budgets spent and left, the win-back
# funnel (targeted, came back, points spent) as a table and charts, the preview's note, right to
# left in Arabic. Screenshots kept in /tmp/lgw-rules.* (paths printed). Dates from today.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"

browser_deps
TODAY=$(date +%F)
start_redis
write_config 9 # loyalty-admin reads the Redis address from it; no SMSC is used
DOC=$(jq -n -c --arg s "$(date -d "$TODAY -10 days" +%F)" --arg e "$(date -d "$TODAY +1 year" +%F)" \
  --arg os "$(date -d "$TODAY -2 years" +%F)" --arg oe "$(date -d "$TODAY -1 year" +%F)" '{version: "ui-1", campaigns: [
  {id: "welcome", rule: "welcome", start: $s, end: $e, budget: 1000, points: 50},
  {id: "wb", rule: "winback", start: $s, end: $e, budget: 5000, points: 40,
   texts: {en: "recharge by {date}: +{points}"}},
  {id: "bday", rule: "birthday", start: $os, end: $oe, budget: 300, points: 30,
   texts: {en: "Happy birthday! +{points}"}}]}')
rcli hset 'cfg:{adm}:campaigns' doc "$DOC" version 3 >/dev/null
rcli hset 'lg:cb:{cmp}' welcome:spent 350 welcome:n 7 welcome:stop 0 wb:offered 120 wb:back 30 \
  wb:spent 1200 wb:n 30 bday:spent 300 bday:n 10 bday:stop 2 >/dev/null
add_staff ana auditor auditor-secret-12
start_admin --static "$LGW_SRC/admin/web" --login-per-min 100
api POST /api/login "" '{"user":"ana","password":"auditor-secret-12"}'
TOK=$(j .token)
api GET /api/campaign-rules/figures "$TOK"
assert_eq "120 30 1200" "$(j '.campaigns[] | select(.id == "wb") | "\(.offered) \(.came_back) \(.spent)"')" \
  "the figures the page reads"
SHOTS=$(mktemp -d /tmp/lgw-rules.XXXXXX)
set +e
CONSOLE_URL="$URL" ARTIFACTS="$SHOTS" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  USER_NAME=ana USER_PASSWORD=auditor-secret-12 \
  timeout 300 node "$LGW_SRC/tests/browser/rules.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en fr ar; do
  [ -s "$SHOTS/rules-$lang.png" ] && echo "ok - screenshot rules-$lang.png" || fail "no screenshot rules-$lang.png"
done
stop_admin
finish

#!/usr/bin/env bash
# The suggestion box's page of the staff console in headless Chromium (issue 10 section 2): a
# real redis-server holding three ideas/ratings of this week and the week before (written as the
# gateway writes them, gateway/gw_suggest.h) and loyalty-admin serving admin/web;
# tests/browser/suggest.test.js reads the page as marketing in English, French and Arabic (masked
# numbers, the weekly charts, a filter, a tag and "handled" saved) and as care (numbers in full).
# Screenshots in $LGW_BIN/artifacts/suggestions/. The store and the audit are checked from here.
# Owner: the suggestion-box engineer.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/browser_helpers.sh"
source "$(dirname "$0")/admin_helpers.sh"
ART="$LGW_BIN/artifacts/suggestions"

browser_deps
start_redis
write_config 1
NOW_MS=$(($(date +%s) * 1000))
MONDAY=$(date -d "$(date +%F) -$(( $(date +%u) - 1 )) days" +%Y%m%d)
LAST=$(date -d "$MONDAY -7 days" +%Y%m%d)
# oldest first (the stream's ids grow): an Arabic idea last week, a rating, a French idea
rcli xadd 'sg:{sg}:in' "$((NOW_MS - 8 * 86400000))-0" at $((NOW_MS - 8 * 86400000)) m 212635000001 \
  lang ar src sms t 'هدايا أكثر' >/dev/null
rcli xadd 'sg:{sg}:in' "$((NOW_MS - 1000))-0" at $((NOW_MS - 1000)) m 212635000002 lang en src ussd \
  r 4 node redeemed item 1 >/dev/null
rcli xadd 'sg:{sg}:in' "$NOW_MS-0" at "$NOW_MS" m 212635000003 lang fr src sms \
  t 'plus de data le week-end' >/dev/null
rcli hset 'sg:{sg}:wk' "$LAST:n" 1 "$MONDAY:n" 2 "$MONDAY:rn" 1 "$MONDAY:rs" 4 >/dev/null

add_staff mia marketing marketing-secret-1
add_staff carl care care-secret-2222
start_admin --static "$LGW_SRC/admin/web" --login-per-min 100
set +e
CONSOLE_URL="$URL" ARTIFACTS="$ART" NODE_PATH="$DEPS/node_modules" LGW_SRC="$LGW_SRC" \
  MKT_PASSWORD=marketing-secret-1 CARE_PASSWORD=care-secret-2222 FULL=212635000003 \
  timeout 300 node "$LGW_SRC/tests/browser/suggest.test.js" 2>&1 | tee "$T/browser.log"
rc=${PIPESTATUS[0]}
set -e
assert_eq 0 "$rc" "the browser run passed"
for lang in en fr ar; do
  [ -s "$ART/suggestions-$lang.png" ] && echo "ok - screenshot suggestions-$lang.png" ||
    fail "no screenshot suggestions-$lang.png"
done
assert_eq '"network" true "mia"' \
  "$(rcli hget 'sg:{sg}:meta' "$NOW_MS-0" | jq -c '.tag, .handled, .by' | tr '\n' ' ' | sed 's/ $//')" \
  "the store holds the tag and the state marketing saved"
assert_eq 1 "$(rcli xrevrange 'adm:{adm}:audit' + - COUNT 20 | grep -c -x suggestion.mark)" "audited once"
stop_admin
finish

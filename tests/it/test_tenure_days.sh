#!/usr/bin/env bash
# The tenure rule's anniversaries (gateway/lua/campaign.lua, op EVENT; docs/campaigns.md: the
# anniversary of an enrolment on 29 February falls on 1 March in other years) swept over
# enrolments on every day of the last 1,500 days - four years and more, so a 29 February is among
# them on any day the suite runs (until 2100) - against GNU date's year arithmetic ("S +n years" also puts 29 February on
# 1 March). Real clock only: each wallet's enrolment is "now" minus k days and the event is now,
# as the gateway passes them, so Redis sees no other time; every enrolment month-day is thus
# compared with today's, and an off-by-one at the anniversary fails on any day, while the
# 29 February enrolment's own rule is decided only when the suite runs on 28 February or
# 1 March of a common year (the pure C rule of birthdays is swept in test_gw_birthday). The
# script is the built one ($LGW_BIN/gateway/lua/campaign.lua: the prelude and the rule as
# embedded).
source "$(dirname "$0")/lib.sh"

start_redis
NOW=$(date +%s)
TODAY=$(date -u -d "@$NOW" +%Y%m%d)
SPAN=1500
BASE=212650000000
SHA=$(rcli script load "$(cat "$LGW_BIN/gateway/lua/campaign.lua")")

# one wallet per enrolment day, enrolled k days ago (UTC: offset 0), then one TOPUP now each
for ((k = 0; k <= SPAN; k++)); do
  m=$((BASE + k))
  echo "HSET lg:{$m}:w bal 0 life 0 tier standard since $((NOW - k * 86400))"
  echo "EVALSHA $SHA 3 lg:{$m}:w lg:{$m}:h lg:cb:{cmp} EVENT $NOW $TODAY TOPUP T-$k 100 0 1" \
    "tenure tenure 100 \"\" 1000000000 1,2,3,4 Tenure"
done | rcli >"$T/replies"
assert_eq 0 "$(grep -c -i 'err' "$T/replies")" "every call answered without error"

# what the wallets hold: the last anniversary paid (c:tenure), none before the first
for ((k = 0; k <= SPAN; k++)); do echo "HGET lg:{$((BASE + k))}:w c:tenure"; done | rcli |
  awk '{print NR - 1 "=" ($0 == "" ? 0 : $0)}' >"$T/got"

# the oracle: the anniversaries n = 1..4 of each enrolment day reached by today
for ((k = 0; k <= SPAN; k++)); do echo "@$((NOW - k * 86400))"; done | date -u -f - +%F |
  awk '{for (n = 1; n <= 4; n++) print $0 " +" n " years"}' | date -u -f - +%Y%m%d | paste -d' ' - - - - |
  awk -v today="$TODAY" '{b = 0; for (i = 1; i <= 4; i++) if ($i <= today) b = i; print NR - 1 "=" b}' \
  >"$T/want"
assert_eq "$(cat "$T/want")" "$(cat "$T/got")" \
  "the tenure paid for every enrolment day of the last $SPAN days is the last anniversary reached"
assert_eq 01234 "$(cut -d= -f2 "$T/got" | sort -u | paste -sd '')" \
  "none and years 1 to 4 all occur in the sweep"
for ((k = 0; k <= SPAN; k++)); do echo "@$((NOW - k * 86400))"; done | date -u -f - +%m%d >"$T/mmdd"
assert_eq 1 "$(grep -c '^0229$' "$T/mmdd")" "one enrolment day of the sweep is a 29 February"
finish

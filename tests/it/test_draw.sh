#!/usr/bin/env bash
# The draw of a scarce gift (issue 12 s3), its reproducible part: registrations of interest in
# Redis (cat:{ITEM}:dr:<day>:reg, on the item's slot), "loyaltyctl draw ... publish" runs the
# seeded draw and records it in the staff audit trail (seed, registered, winners, digest, the
# first winners), where loyalty-admin's audit log shows it; the same command with the same seed,
# run again later, prints the same winners in the same order; another seed another order;
# unreadable registrations are left out and said so. The gift day is computed from the test's
# now (no literal date).
# Registration over USSD, the draw by the gateway at the window's close, the winners' SMS, claims
# and the roll-down: tests/it/test_draw_claims.sh.
source "$(dirname "$0")/lib.sh"
CTL="$LGW_BIN/gateway/loyaltyctl"

start_redis
DAY=$(date -d '+1 day' +%Y%m%d)
REG="cat:{DATA_5GB}:dr:$DAY:reg"
{
  for i in $(seq 1 300); do
    w=1; [ $((i % 10)) = 0 ] && w=3 # every tenth a gold member, weight 3
    echo "HSET $REG $((212612600000 + i)) $w"
  done
  echo "HSET $REG not-a-number 1"
  echo "HSET $REG 212612699999 0"
} | rcli --pipe >/dev/null
ctl() { "$CTL" --socket "$REDIS_SOCK" "$@"; }

SEED="DATA_5GB-$DAY-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ctl draw DATA_5GB "$DAY" "$SEED" 10 publish >"$T/run.out" || fail "loyaltyctl draw ... publish"
head -1 "$T/run.out" | grep -q "300 registered (some entries unreadable, left out), 10 winner(s)" &&
  echo "ok - 300 registrations drawn, the two unreadable ones left out and said so" ||
  fail "draw header: $(head -1 "$T/run.out")"
assert_eq 10 "$(tail -n +2 "$T/run.out" | wc -l)" "ten winners, one per line"
assert_eq 10 "$(tail -n +2 "$T/run.out" | awk '{print $2}' | sort -u | wc -l)" "ten different members"

note "the audit trail holds the draw"
rcli xrevrange 'adm:{adm}:audit' + - count 1 >"$T/audit.txt"
field() { awk -v f="$1" 'p == f {print; exit} {p = $0}' "$T/audit.txt"; }
assert_eq "draw.run DATA_5GB:$DAY" "$(field what) $(field target)" "the audit names the draw"
assert_eq "$SEED 300 10" "$(field after | jq -r '"\(.seed) \(.registered) \(.winners)"')" \
  "... with its seed, how many registered and how many won"
assert_eq "$(tail -n +2 "$T/run.out" | awk '{print $2}')" "$(field after | jq -r '.first[]')" \
  "... and the winners in draw order"

note "reproduced from the published seed"
SEED2=$(field after | jq -r .seed)
ctl draw DATA_5GB "$DAY" "$SEED2" 10 >"$T/again.out" || fail "loyaltyctl draw (again)"
assert_eq "$(cat "$T/run.out")" "$(cat "$T/again.out")" "the same seed prints the same winners"
# the registrations read in another order (a copy rebuilt in reverse) draw the same
rcli del "$REG" >/dev/null
{
  for i in $(seq 300 -1 1); do
    w=1; [ $((i % 10)) = 0 ] && w=3
    echo "HSET $REG $((212612600000 + i)) $w"
  done
} | rcli --pipe >/dev/null
ctl draw DATA_5GB "$DAY" "$SEED2" 10 >"$T/rebuilt.out" || fail "loyaltyctl draw (rebuilt)"
assert_eq "$(tail -n +2 "$T/run.out")" "$(tail -n +2 "$T/rebuilt.out")" \
  "the order the registrations were written in does not matter"
ctl draw DATA_5GB "$DAY" "$SEED2-other" 10 >"$T/other.out" || fail "loyaltyctl draw (other)"
[ "$(tail -n +2 "$T/run.out")" != "$(tail -n +2 "$T/other.out")" ] &&
  echo "ok - another seed draws another order" || fail "another seed drew the same order"
assert_eq 1 "$(rcli xlen 'adm:{adm}:audit')" "reproducing records nothing"
rc=0; ctl draw 'BAD ID' "$DAY" s >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "a bad item id is a usage error"
finish

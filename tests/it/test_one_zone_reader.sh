#!/usr/bin/env bash
# One time-zone reader (catalog/cat_tz.c, the programme zone of gateway/gw_zone.h): the programs
# call none of libc's zone functions, which follow the process TZ (localtime, mktime, tzset,
# ctime, timelocal...), so neither a unit's environment nor /etc/localtime can move a local day.
# tests/unit/test_gw_zone.c runs the helpers themselves with TZ=Pacific/Kiritimati set.
source "$(dirname "$0")/lib.sh"

command -v nm >/dev/null || { note "nm (binutils) is not installed: skipped"; exit 0; }
n=0
for b in gateway/loyaltygw gateway/loyaltyctl admin/loyalty-admin; do
  [ -x "$LGW_BIN/$b" ] || { note "$b not built here: skipped"; continue; }
  n=$((n + 1))
  used=$(nm -u "$LGW_BIN/$b" | grep -Eo '\b(localtime|localtime_r|mktime|tzset|ctime|ctime_r|timelocal|asctime)\b' | sort -u | tr '\n' ' ' || true)
  assert_eq "" "$used" "$(basename "$b") calls no libc zone function"
done
assert_ge 1 "$n" "programs checked"
finish

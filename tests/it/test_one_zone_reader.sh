#!/usr/bin/env bash
# One time-zone reader (catalog/cat_tz.c, the programme zone of gateway/gw_zone.h):
#   - the programs call none of libc's zone functions, which follow the process TZ (localtime,
#     mktime, tzset, ctime, timelocal...), so neither a unit's environment nor /etc/localtime can
#     move a local day (tests/unit/test_gw_zone.c runs the helpers with TZ=Pacific/Kiritimati);
#   - loyaltyctl counts today in --zone, else in its --config's loyalty.timezone, else in UTC,
#     whatever TZ says. Each case runs under TZ=Pacific/Kiritimati (+14) and TZ=Pacific/Pago_Pago
#     (-11), which are always on different days (and at any hour one of them is not on UTC's), so
#     a program that followed TZ fails at any hour. The expected days come from date(1), which does
#     follow TZ (read before and after the command: a day may turn meanwhile).
source "$(dirname "$0")/lib.sh"

if command -v nm >/dev/null; then
  for b in gateway/loyaltygw gateway/loyaltyctl admin/loyalty-admin; do
    used=$(nm -u "$LGW_BIN/$b" |
      grep -Eo '\b(localtime|localtime_r|mktime|tzset|ctime|ctime_r|timelocal|asctime)\b' |
      sort -u | tr '\n' ' ' || true)
    assert_eq "" "$used" "$(basename "$b") calls no libc zone function"
  done
else
  note "nm (binutils) is not installed: the symbol check is skipped"
fi

start_redis
write_config 1 '.loyalty.timezone = "Pacific/Pago_Pago"'
# today_is WANT_ZONE WHAT ARGS...: loyaltyctl ARGS report's day is today in WANT_ZONE, with TZ
# set to either of two zones a day apart
today_is() {
  local zone=$1 what=$2 env before after got
  shift 2
  for env in Pacific/Kiritimati Pacific/Pago_Pago; do
    before=$(TZ=$zone date +%Y%m%d)
    got=$(TZ=$env "$LGW_BIN/gateway/loyaltyctl" "${CTL_REDIS[@]+"${CTL_REDIS[@]}"}" "$@" report |
      sed -n 's/^report days \([0-9]*\)\.\..*/\1/p')
    after=$(TZ=$zone date +%Y%m%d)
    if [ "$got" = "$before" ] || [ "$got" = "$after" ]; then
      echo "ok - $what, TZ=$env: today is $got ($zone)"
    else
      fail "$what, TZ=$env: today $got, $zone says $before..$after"
    fi
  done
}
today_is Pacific/Pago_Pago "--zone" --zone Pacific/Pago_Pago --socket "$REDIS_SOCK"
today_is Pacific/Pago_Pago "--config's loyalty.timezone" --config "$T/gw.json"
today_is Pacific/Kiritimati "--zone wins over --config" --config "$T/gw.json" --zone Pacific/Kiritimati
today_is UTC "neither: UTC" --socket "$REDIS_SOCK"
rc=0
"$LGW_BIN/gateway/loyaltyctl" --zone Pacific/Nowhere --socket "$REDIS_SOCK" report >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "an unknown --zone is a usage error"
finish

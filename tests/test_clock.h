/*
 * test_clock.h - dates for tests, computed from the test's "now" through the project's own zone
 * code (catalog/cat_tz.c), never written as literals and never with a fixed UTC offset (Morocco is
 * UTC+1, UTC+0 in Ramadan). Header-only, shared by unit tests, integration drivers and benches:
 *   #include "../test_clock.h"
 * Every function returns -1 (or 0 for a date) when the zone cannot answer, which callers assert.
 */
#ifndef LGW_TEST_CLOCK_H
#define LGW_TEST_CLOCK_H

#include <stdint.h>
#include <time.h>

#include <stdlib.h>

#include "catalog.h"
#include "gw_zone.h"

/* Integration drivers play a daemon whose loyalty.timezone is the zone their script exports as TZ
 * (tests/it/lib.sh, Africa/Casablanca): they load it as the programme zone (gw_zone.h), which is
 * all the gateway code they run reads; UTC when TZ is unset. Returns gw_zone_load's result. */
static inline int tc_programme_zone_from_env(void)
{
    const char *z = getenv("TZ");

    return gw_zone_load(z && *z ? z : "UTC");
}

/* Civil fields read as UTC -> unix seconds (timegm: out-of-range fields normalise, e.g. day 0 is
 * the last of the previous month). For fixed instants a test is about, and for sweeps. */
static inline int64_t tc_civil(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};

    return (int64_t)timegm(&tm);
}

/* The instant of local wall-clock time h:m:00 on the local date `days` after that of t (negative:
 * before). Moves by whole days from local noon, so a clock change on the way shifts nothing; a
 * time the clocks skip is taken as its earlier reading (cat_tz_local_to_utc, CAT_TZ_EARLIER). */
static inline int64_t tc_local_at(const struct cat_tz *tz, int64_t t, int days, int h, int m)
{
    struct cat_tm tm;
    int64_t noon, out;

    if (cat_tz_localtime(tz, t, &tm) < 0 ||
        cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, 12, 0, 0, CAT_TZ_EARLIER, &noon, NULL) <
            0 ||
        cat_tz_localtime(tz, noon + (int64_t)days * 86400, &tm) < 0 ||
        cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, h, m, 0, CAT_TZ_EARLIER, &out, NULL) < 0)
        return -1;
    return out;
}

/* The local date (YYYYMMDD) `days` after that of t; 0 when out of range. */
static inline int32_t tc_local_date(const struct cat_tz *tz, int64_t t, int days)
{
    int64_t at = tc_local_at(tz, t, days, 12, 0);

    return at < 0 ? 0 : cat_tz_local_date(tz, at);
}

/* Days from t's local date back to the last `wday` (0 = Sunday) strictly before it: 1..7. */
static inline int tc_days_since(const struct cat_tz *tz, int64_t t, int wday)
{
    struct cat_tm tm;
    int back;

    if (cat_tz_localtime(tz, t, &tm) < 0)
        return -1;
    back = (tm.wday - wday + 7) % 7;
    return back ? back : 7;
}

#endif

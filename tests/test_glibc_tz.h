/*
 * test_glibc_tz.h - glibc's own reading of a zone, the oracle the date tests hold the project's
 * zone code (catalog/cat_tz.c, gateway/gw_zone.c) against: localtime_r under the process TZ, which
 * the caller sets (setenv("TZ") + tzset) - tests may, the gateway does not. Header-only.
 */
#ifndef LGW_TEST_GLIBC_TZ_H
#define LGW_TEST_GLIBC_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_clock.h"

/* The process TZ the test found, kept for tc_glibc_tz_restore (NULL: it was unset). */
static inline char **tc_glibc_tz_found(void)
{
    static char *found;

    return &found;
}

/* cmocka group setup and teardown of a test that sets TZ for the oracle: the environment it found
 * is given back at the end. */
static inline int tc_glibc_tz_save(void **state)
{
    (void)state;
    *tc_glibc_tz_found() = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    return 0;
}

static inline int tc_glibc_tz_restore(void **state)
{
    char **found = tc_glibc_tz_found();

    (void)state;
    if (*found)
        setenv("TZ", *found, 1);
    else
        unsetenv("TZ");
    tzset();
    free(*found);
    *found = NULL;
    return 0;
}

/* Local wall-clock time of t under the oracle's zone, as civil seconds ("wall key"). */
static inline int64_t tc_glibc_wall(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return tc_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static inline long tc_glibc_offset(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    localtime_r(&tt, &tm);
    return tm.tm_gmtoff;
}

/* All instants whose local wall time is `key`: n = 0 (skipped: *early = *late = the jump, the first
 * instant after), 1, or 2 (repeated: the earlier and the later). */
static inline int tc_glibc_resolve(int64_t key, int64_t *early, int64_t *late)
{
    const int64_t day = 86400;
    long offs[3] = {tc_glibc_offset(key - day), tc_glibc_offset(key), tc_glibc_offset(key + day)};
    int n = 0;

    for (int i = 0; i < 3; i++) {
        int64_t t = key - offs[i];
        bool dup = false;

        for (int j = 0; j < i; j++)
            dup |= offs[j] == offs[i];
        if (dup || tc_glibc_wall(t) != key)
            continue;
        if (n == 0 || t < *early)
            *early = t;
        if (n == 0 || t > *late)
            *late = t;
        n++;
    }
    if (n == 0) {
        /* skipped: walls run below key, then jump above it; find the first instant above */
        long lo_off = offs[0], hi_off = offs[0];
        for (int i = 1; i < 3; i++) {
            lo_off = offs[i] < lo_off ? offs[i] : lo_off;
            hi_off = offs[i] > hi_off ? offs[i] : hi_off;
        }
        int64_t lo = key - hi_off, hi = key - lo_off; /* wall(lo) < key < wall(hi) */
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (tc_glibc_wall(mid) > key)
                hi = mid;
            else
                lo = mid;
        }
        *early = *late = hi;
    }
    return n;
}

#endif

/*
 * test_gw_zone.c - the programme zone (gateway/gw_zone.c): the helpers that replaced libc's
 * localtime_r/mktime/tm_gmtoff under a switched process TZ, swept over every hour of 2024..2030 in
 * Morocco (+01, +00 in Ramadan), Iran (no DST since 2022), France (EU rules), Brazil (no DST since
 * 2019) and UTC, against glibc run under setenv("TZ") here: the test, unlike the gateway, may use
 * the process TZ, as its oracle. Then the clock changes by name, 29 February, the span memory
 * (forward, backward, scattered, across a zone switch), and the programme zone ignoring the
 * process TZ (ctest runs this file with TZ=Pacific/Kiritimati, +14: every local day differs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw_config.h"
#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_zone.h"

#include "../test_clock.h"
#include "../test_glibc_tz.h"

#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)
#define utc tc_civil /* UTC instant of civil fields (tests/test_clock.h) */

static const char *const zones[] = {
    "Africa/Casablanca", "Asia/Tehran", "Europe/Paris", "America/Sao_Paulo", "UTC",
};
#define N_ZONES (sizeof(zones) / sizeof(zones[0]))

/* glibc and the programme zone both on `zone`. */
static void both_on(const char *zone)
{
    setenv("TZ", zone, 1);
    tzset();
    assert_int_equal(gw_zone_load(zone), 0);
}

static int32_t ymd_of(const struct tm *g)
{
    return (g->tm_year + 1900) * 10000 + (g->tm_mon + 1) * 100 + g->tm_mday;
}

/* The programme zone's answers for t against glibc's localtime_r. */
static void check_instant(const char *zone, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm g;
    struct cat_tm c;

    assert_non_null(localtime_r(&tt, &g));
    assert_int_equal(gw_zone_localtime(t, &c), 0);
    if (gw_zone_local_day(t) != ymd_of(&g) || gw_local_day(t) != ymd_of(&g) ||
        gw_zone_utc_offset(t) != g.tm_gmtoff || c.year != g.tm_year + 1900 ||
        c.mon != g.tm_mon + 1 || c.day != g.tm_mday || c.hour != g.tm_hour || c.min != g.tm_min ||
        c.sec != g.tm_sec || c.wday != g.tm_wday || c.utc_offset != g.tm_gmtoff)
        fail_msg("%s at %" PRId64 ": zone %04d-%02d-%02d %02d:%02d:%02d wday %d off %d day %" PRId32
                 ", glibc %04d-%02d-%02d %02d:%02d:%02d wday %d off %ld",
                 zone, t, c.year, c.mon, c.day, c.hour, c.min, c.sec, c.wday,
                 (int)gw_zone_utc_offset(t), gw_zone_local_day(t), g.tm_year + 1900, g.tm_mon + 1,
                 g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, g.tm_wday, g.tm_gmtoff);
}

/* glibc's mktime of local day ymd at h:00 (tm_isdst = -1: glibc decides). */
static int64_t o_mktime(int32_t ymd, int h)
{
    struct tm g = {.tm_year = ymd / 10000 - 1900,
                   .tm_mon = ymd / 100 % 100 - 1,
                   .tm_mday = ymd % 100,
                   .tm_hour = h,
                   .tm_isdst = -1};

    return (int64_t)mktime(&g);
}

/* ---------------------------------------------------------------- the sweep */

/* Every UTC hour (and the second before it) of 2024..2030: local day, offset, broken-down time.
 * Every local day: its midnight (gw_zone_day_start) against mktime, its first instant's day and
 * the day before the second before it. Every local hour of every day: local -> instant with both
 * picks against glibc (mktime where the hour is unique; the instants glibc reads it at otherwise).
 */
static void test_zone__sweep_2024_2030__agrees_with_glibc(void **state)
{
    int gaps = 0, overlaps = 0;

    (void)state;
    for (size_t z = 0; z < N_ZONES; z++) {
        int32_t first = 20240101, last = 20301231;

        both_on(zones[z]);
        for (int64_t t = utc(2024, 1, 1, 0, 0, 0) - DAY; t <= utc(2031, 1, 1, 0, 0, 0) + DAY;
             t += HOUR) {
            check_instant(zones[z], t);
            check_instant(zones[z], t - 1);
        }
        for (int32_t d = first; d <= last; d = gw_days_add(d, 1)) {
            int64_t mid = gw_zone_day_start(d);

            if (mid != o_mktime(d, 0))
                fail_msg("%s %" PRId32 ": midnight %" PRId64 ", mktime %" PRId64, zones[z], d, mid,
                         o_mktime(d, 0));
            assert_int_equal(gw_zone_local_day(mid), d);
            assert_int_equal(gw_zone_local_day(mid - 1), gw_days_add(d, -1));
            for (int h = 0; h < 24; h++) {
                int64_t early, late, e, l;
                int n = tc_glibc_resolve(utc(d / 10000, d / 100 % 100, d % 100, h, 0, 0), &early,
                                         &late);

                assert_int_equal(gw_zone_to_utc(d, (int32_t)(h * HOUR), CAT_TZ_EARLIER, &e), 0);
                assert_int_equal(gw_zone_to_utc(d, (int32_t)(h * HOUR), CAT_TZ_LATER, &l), 0);
                if (e != early || l != late || (n == 1 && e != o_mktime(d, h)))
                    fail_msg("%s %" PRId32 " %02d:00: zone %" PRId64 "/%" PRId64 ", glibc %" PRId64
                             "/%" PRId64 " (%d instants, mktime %" PRId64 ")",
                             zones[z], d, h, e, l, early, late, n, o_mktime(d, h));
                gaps += n == 0;
                overlaps += n == 2;
            }
        }
    }
    /* Paris changes twice a year, Casablanca around each Ramadan: the sweep met both kinds (a
     * floor only: tzdata may change a zone's rules) */
    assert_true(gaps >= 7 && overlaps >= 7);
}

/* ---------------------------------------------------------------- by name */

/* Both clock changes of 2026 in Paris and in Casablanca (zdump -v prints them), read both ways. */
static void test_zone__dst_edges__both_ways(void **state)
{
    int64_t t;
    struct cat_tm c;

    (void)state;
    assert_int_equal(gw_zone_load("Europe/Paris"), 0);
    /* spring forward 2026-03-29 01:00Z: 02:00 -> 03:00; 02:30 does not exist: the jump */
    assert_int_equal(gw_zone_utc_offset(utc(2026, 3, 29, 0, 59, 59)), 3600);
    assert_int_equal(gw_zone_utc_offset(utc(2026, 3, 29, 1, 0, 0)), 7200);
    assert_int_equal(gw_zone_to_utc(20260329, 2 * 3600 + 1800, CAT_TZ_EARLIER, &t), 0);
    assert_int_equal(t, utc(2026, 3, 29, 1, 0, 0));
    assert_int_equal(gw_zone_localtime(t, &c), 0);
    assert_int_equal(c.hour, 3);
    /* fall back 2026-10-25 01:00Z: 03:00 -> 02:00; 02:30 happens twice */
    assert_int_equal(gw_zone_to_utc(20261025, 2 * 3600 + 1800, CAT_TZ_EARLIER, &t), 0);
    assert_int_equal(t, utc(2026, 10, 25, 0, 30, 0));
    assert_int_equal(gw_zone_to_utc(20261025, 2 * 3600 + 1800, CAT_TZ_LATER, &t), 0);
    assert_int_equal(t, utc(2026, 10, 25, 1, 30, 0));
    assert_int_equal(gw_zone_day_start(20261025), utc(2026, 10, 24, 22, 0, 0));
    assert_int_equal(gw_zone_day_start(20261026), utc(2026, 10, 25, 23, 0, 0));

    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    /* Ramadan 2026: 2026-02-15 02:00Z the clocks go back 03:00 -> 02:00 (+01 -> +00) */
    assert_int_equal(gw_zone_utc_offset(utc(2026, 2, 15, 1, 59, 59)), 3600);
    assert_int_equal(gw_zone_utc_offset(utc(2026, 2, 15, 2, 0, 0)), 0);
    assert_int_equal(gw_zone_to_utc(20260215, 2 * 3600 + 1800, CAT_TZ_EARLIER, &t), 0);
    assert_int_equal(t, utc(2026, 2, 15, 1, 30, 0));
    assert_int_equal(gw_zone_to_utc(20260215, 2 * 3600 + 1800, CAT_TZ_LATER, &t), 0);
    assert_int_equal(t, utc(2026, 2, 15, 2, 30, 0));
    /* and forward after it: 2026-03-22 02:00Z, 02:00 -> 03:00 (+00 -> +01) */
    assert_int_equal(gw_zone_utc_offset(utc(2026, 3, 22, 1, 59, 59)), 0);
    assert_int_equal(gw_zone_utc_offset(utc(2026, 3, 22, 2, 0, 0)), 3600);
    assert_int_equal(gw_zone_to_utc(20260322, 2 * 3600 + 1800, CAT_TZ_LATER, &t), 0);
    assert_int_equal(t, utc(2026, 3, 22, 2, 0, 0));
    /* in Ramadan 23:30Z is still the same local day; outside it, the next one */
    assert_int_equal(gw_zone_local_day(utc(2026, 3, 1, 23, 30, 0)), 20260301);
    assert_int_equal(gw_zone_local_day(utc(2026, 4, 1, 23, 30, 0)), 20260402);
}

/* 29 February: a day in 2024 and 2028, refused in 2025; the midnights around it. */
static void test_zone__leap_day__exists_in_leap_years_only(void **state)
{
    int64_t t;

    (void)state;
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    for (int y = 2024; y <= 2030; y++) {
        int32_t feb29 = y * 10000 + 229;
        bool leap = y % 4 == 0;

        assert_int_equal(gw_zone_to_utc(feb29, 12 * 3600, CAT_TZ_EARLIER, &t), leap ? 0 : -EINVAL);
        if (!leap) {
            assert_int_equal(gw_zone_day_start(feb29), -1);
            continue;
        }
        int64_t mid = gw_zone_day_start(feb29);
        assert_int_equal(gw_zone_local_day(mid), feb29);
        assert_int_equal(gw_zone_local_day(mid - 1), y * 10000 + 228);
        assert_int_equal(gw_zone_local_day(gw_zone_day_start(y * 10000 + 301) - 1), feb29);
    }
    assert_int_equal(gw_zone_to_utc(20260101, -1, CAT_TZ_EARLIER, &t), -EINVAL);
    assert_int_equal(gw_zone_to_utc(20260101, 86400, CAT_TZ_EARLIER, &t), -EINVAL);
}

/* ---------------------------------------------------------------- the span memory */

/* The remembered span never answers for an instant outside it: backwards in time, scattered
 * instants (a multiplicative walk over 2024..2030), and right after the zone is switched. */
static void test_zone__span_memory__never_stale(void **state)
{
    int64_t t0 = utc(2024, 1, 1, 0, 0, 0), len = utc(2031, 1, 1, 0, 0, 0) - t0;
    uint64_t x = 1;

    (void)state;
    for (size_t z = 0; z < N_ZONES; z++) {
        both_on(zones[z]);
        for (int64_t t = utc(2031, 1, 1, 0, 0, 0); t >= t0; t -= 7 * HOUR + 13)
            check_instant(zones[z], t);
        for (int i = 0; i < 200000; i++) {
            x = x * 6364136223846793005u + 1442695040888963407u;
            check_instant(zones[z], t0 + (int64_t)((x >> 17) % (uint64_t)len));
        }
    }
    /* the same instant, 00:30 on 2 July in Casablanca and 01:30 on 2 July in Paris, asked right
     * after a switch: the span remembered for Casablanca must not answer for Paris */
    int64_t t = utc(2026, 7, 1, 23, 30, 0);
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    assert_int_equal(gw_zone_utc_offset(t), 3600);
    assert_int_equal(gw_zone_load("Europe/Paris"), 0);
    assert_int_equal(gw_zone_utc_offset(t), 7200);
    assert_int_equal(gw_zone_load("America/Sao_Paulo"), 0);
    assert_int_equal(gw_zone_local_day(t), 20260701);
}

/* Past a file's last transition (2037 in the fat tzdata files) the POSIX footer rule answers:
 * northern and southern DST rules and a fixed offset, hourly over 2036..2040. Each span
 * cat_tz_utc_offset_span gives holds t and one offset from its first second to its last. */
static void test_zone__footer_rule__spans_and_answers(void **state)
{
    static const char *const far[] = {"Europe/Paris", "Australia/Sydney", "America/Santiago",
                                      "America/Sao_Paulo"};

    (void)state;
    for (size_t z = 0; z < sizeof(far) / sizeof(far[0]); z++) {
        if (access("/usr/share/zoneinfo/Australia/Sydney", R_OK) != 0 && z > 0)
            break; /* a minimal tzdata: Paris only */
        both_on(far[z]);
        for (int64_t t = utc(2036, 1, 1, 0, 0, 0); t < utc(2041, 1, 1, 0, 0, 0); t += HOUR) {
            int64_t from, until;
            int32_t off = cat_tz_utc_offset_span(gw_zone(), t, &from, &until);

            assert_true(from <= t && t < until);
            assert_int_equal(cat_tz_utc_offset(gw_zone(), from), off);
            assert_int_equal(cat_tz_utc_offset(gw_zone(), until - 1), off);
            check_instant(far[z], t);
            check_instant(far[z], t - 1);
        }
    }
}

/* A reload of the zone in force installs nothing; an unknown zone leaves it in force. */
static void test_zone__reload__same_rules_keep_the_zone(void **state)
{
    (void)state;
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    const struct cat_tz *before = gw_zone();
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    assert_ptr_equal(gw_zone(), before);
    assert_int_equal(gw_zone_load("No/Where"), -ENOENT);
    assert_int_equal(gw_zone_load("../etc/passwd"), -EINVAL);
    assert_ptr_equal(gw_zone(), before);
    assert_string_equal(cat_tz_name(gw_zone()), "Africa/Casablanca");
}

/* ---------------------------------------------------------------- the process TZ ignored */

/* With TZ=Pacific/Kiritimati (+14) in the environment, as a careless shell or container might set
 * it, the programme zone loaded from the configuration answers, and the environment is left as it
 * was: 2026-07-01T11:00Z is 12:00 on 1 July in Casablanca but 01:00 on 2 July in Kiritimati. */
static void test_zone__process_tz__not_read_nor_written(void **state)
{
    static struct gw_config cfg;
    int64_t t = utc(2026, 7, 1, 11, 0, 0);
    time_t tt = (time_t)t;
    struct tm g;
    struct cat_tm c;

    (void)state;
    setenv("TZ", "Pacific/Kiritimati", 1);
    tzset();
    localtime_r(&tt, &g);
    assert_int_equal(ymd_of(&g), 20260702); /* the environment's zone is really in force */
    gw_config_defaults(&cfg);
    snprintf(cfg.loyalty.timezone, sizeof(cfg.loyalty.timezone), "Africa/Casablanca");
    assert_int_equal(gw_config_apply_timezone(&cfg), 0);
    assert_string_equal(getenv("TZ"), "Pacific/Kiritimati");
    assert_int_equal(gw_local_day(t), 20260701);
    assert_int_equal(gw_zone_local_day(t), 20260701);
    assert_int_equal(gw_zone_utc_offset(t), 3600);
    assert_int_equal(gw_zone_localtime(t, &c), 0);
    assert_int_equal(c.hour, 12);
    assert_int_equal(gw_zone_day_start(20260701), utc(2026, 6, 30, 23, 0, 0));
    /* an unknown zone is refused, the loaded one stays */
    snprintf(cfg.loyalty.timezone, sizeof(cfg.loyalty.timezone), "Pacific/Nowhere");
    assert_int_equal(gw_config_apply_timezone(&cfg), -EINVAL);
    assert_int_equal(gw_local_day(t), 20260701);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zone__sweep_2024_2030__agrees_with_glibc),
        cmocka_unit_test(test_zone__dst_edges__both_ways),
        cmocka_unit_test(test_zone__leap_day__exists_in_leap_years_only),
        cmocka_unit_test(test_zone__span_memory__never_stale),
        cmocka_unit_test(test_zone__footer_rule__spans_and_answers),
        cmocka_unit_test(test_zone__reload__same_rules_keep_the_zone),
        cmocka_unit_test(test_zone__process_tz__not_read_nor_written),
    };

    return cmocka_run_group_tests(tests, tc_glibc_tz_save, tc_glibc_tz_restore);
}

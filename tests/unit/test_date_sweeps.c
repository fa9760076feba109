/*
 * test_date_sweeps.c - the date sweeps: the project's pure date logic run over every day (and
 * every hour where it matters) of 2026..2028, both DST edges of each year, 29 February 2028 and
 * Morocco's Ramadan switches to UTC+0, so a date that breaks it is found today, not on the day
 * it arrives. Everything is fed an injected instant; nothing reads the clock.
 *
 * The oracle is glibc's own time-zone code (setenv("TZ") + tzset + localtime_r, timegm for civil
 * arithmetic): an implementation independent of catalog/cat_tz.c reading the same tzdata. A wall
 * time is resolved the way the project documents it (catalog.h): the earlier instant of a repeated
 * time, the later when asked; a skipped time moves to the jump (the first instant after it).
 *
 * Swept: cat_tz (local<->UTC both ways, folds, offsets, formatting), gw_local_day (the gateway's
 * event day, daily cap day and lots, in the programme zone of gw_zone.h), the gift-day calendar
 * (weekly windows with cancelled dates, a window on the clock-change hour, one past midnight,
 * special windows, premium early opening, the next opening and its regular start that the broadcast
 * sends at), catalogue validity (cat_item_check at local-midnight edges), voucher expiry, points
 * expiry (gw_wallet_add_months), loyalty seasons and promotions by event time (gw_config +
 * gw_loyalty_earn), and the console's send times (adm_time_parse, adm_time_parse_local).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "catalog.h"

#include "../test_clock.h"
#include "../test_glibc_tz.h"
#include "gw_config.h"
#include "gw_loyalty.h"
#include "gw_wallet.h"
#include "gw_zone.h"

#define DAY INT64_C(86400)
#define FIRST_YEAR 2026
#define LAST_YEAR 2028

/* Zones swept: Morocco (+01, +00 in Ramadan, changes at 02:00/03:00), France (EU rules), Japan (no
 * DST), Chile (changes at local midnight, southern hemisphere), Egypt (DST again since 2023,
 * changes at midnight), Lord Howe (a 30-minute DST), New York. A zone missing here is skipped, said
 * aloud. */
static const char *const zones[] = {
    "Africa/Casablanca", "Europe/Paris",        "Asia/Tokyo",       "America/Santiago",
    "Africa/Cairo",      "Australia/Lord_Howe", "America/New_York",
};
#define N_ZONES (sizeof(zones) / sizeof(zones[0]))

/* ---------------------------------------------------------------- the oracle (glibc) */

/* The oracle's zone, and the same zone as the gateway's programme zone (gw_local_day). */
static void oracle_zone(const char *zone)
{
    setenv("TZ", zone, 1);
    tzset();
    assert_int_equal(gw_zone_load(zone), 0);
}

#define civil tc_civil /* UTC instant of civil fields (tests/test_clock.h) */

/* Day number (days since 1970-01-01) -> y, m, d, weekday. */
static void day_fields(int64_t dn, int *y, int *mo, int *d, int *wday)
{
    time_t t = (time_t)(dn * DAY);
    struct tm tm;

    gmtime_r(&t, &tm);
    *y = tm.tm_year + 1900;
    *mo = tm.tm_mon + 1;
    *d = tm.tm_mday;
    if (wday)
        *wday = tm.tm_wday;
}

static int32_t ymd_of_day(int64_t dn)
{
    int y, mo, d;

    day_fields(dn, &y, &mo, &d, NULL);
    return y * 10000 + mo * 100 + d;
}

static struct cat_tz *load_tz(const char *zone)
{
    struct cat_tz *tz = NULL;
    int rc = cat_tz_load(zone, &tz);

    if (rc == -ENOENT) {
        print_message("# %s is not installed here: skipped\n", zone);
        return NULL;
    }
    assert_int_equal(rc, 0);
    return tz;
}

static int64_t first_day(void)
{
    return civil(FIRST_YEAR, 1, 1, 0, 0, 0) / DAY;
}

static int64_t last_day(void)
{
    return civil(LAST_YEAR, 12, 31, 0, 0, 0) / DAY;
}

/* ---------------------------------------------------------------- cat_tz and gw_local_day */

/* Every UTC hour (and half hour) of 2026..2028: local fields, offset, local date, the gateway's
 * local day in the programme zone (gw_zone_load), and the formatted local time, against glibc. Then
 * every local wall hour (and half hour) of every day: local->UTC with both picks and the fold it
 * reports. */
static void test_sweep__tz__every_hour_agrees_with_glibc(void **state)
{
    int gaps = 0, overlaps = 0;

    (void)state;
    for (size_t z = 0; z < N_ZONES; z++) {
        struct cat_tz *tz = load_tz(zones[z]);

        if (!tz)
            continue;
        oracle_zone(zones[z]);
        for (int64_t t = first_day() * DAY - DAY; t <= (last_day() + 2) * DAY; t += 1800) {
            time_t tt = (time_t)t;
            struct tm g;
            struct cat_tm c;
            char want[32], got[32];

            localtime_r(&tt, &g);
            assert_int_equal(cat_tz_localtime(tz, t, &c), 0);
            if (c.year != g.tm_year + 1900 || c.mon != g.tm_mon + 1 || c.day != g.tm_mday ||
                c.hour != g.tm_hour || c.min != g.tm_min || c.sec != g.tm_sec ||
                c.wday != g.tm_wday || cat_tz_utc_offset(tz, t) != g.tm_gmtoff)
                fail_msg("%s at %" PRId64 ": cat_tz %04d-%02d-%02d %02d:%02d wday %d off %d, "
                         "glibc %04d-%02d-%02d %02d:%02d wday %d off %ld",
                         zones[z], t, c.year, c.mon, c.day, c.hour, c.min, c.wday,
                         (int)cat_tz_utc_offset(tz, t), g.tm_year + 1900, g.tm_mon + 1, g.tm_mday,
                         g.tm_hour, g.tm_min, g.tm_wday, g.tm_gmtoff);
            int32_t ymd = (g.tm_year + 1900) * 10000 + (g.tm_mon + 1) * 100 + g.tm_mday;
            assert_int_equal(cat_tz_local_date(tz, t), ymd);
            assert_int_equal(gw_local_day(t), ymd); /* the event's day, cap day and lot date */
            strftime(want, sizeof(want), "%Y-%m-%d %H:%M", &g);
            assert_string_equal(cat_tz_format_local(tz, t, got, sizeof(got)), want);
        }
        for (int64_t dn = first_day(); dn <= last_day(); dn++) {
            int y, mo, d;

            day_fields(dn, &y, &mo, &d, NULL);
            for (int m = 0; m < 48; m++) {
                int64_t early, late, e, l;
                enum cat_tz_fold fold;
                int n = tc_glibc_resolve(civil(y, mo, d, m / 2, m % 2 * 30, 0), &early, &late);

                assert_int_equal(cat_tz_local_to_utc(tz, y, mo, d, m / 2, m % 2 * 30, 0,
                                                     CAT_TZ_EARLIER, &e, &fold),
                                 0);
                assert_int_equal(
                    cat_tz_local_to_utc(tz, y, mo, d, m / 2, m % 2 * 30, 0, CAT_TZ_LATER, &l, NULL),
                    0);
                if (e != early || l != late ||
                    fold != (n == 0   ? CAT_TZ_GAP
                             : n == 1 ? CAT_TZ_UNIQUE
                                      : CAT_TZ_OVERLAP))
                    fail_msg("%s %04d-%02d-%02d %02d:%02d: cat_tz %" PRId64 "/%" PRId64
                             " fold %d, glibc %" PRId64 "/%" PRId64 " (%d instants)",
                             zones[z], y, mo, d, m / 2, m % 2 * 30, e, l, (int)fold, early, late,
                             n);
                gaps += n == 0;
                overlaps += n == 2;
            }
        }
        cat_tz_free(tz);
    }
    /* the sweep met clock changes both ways (counted over all zones: a zone's rules may change
     * with tzdata, this only proves the sweep reaches gaps and overlaps at all) */
    assert_true(gaps >= 3 && overlaps >= 3);
}

/* 29 February exists in 2028 only; an invalid date is refused, never rolled over. */
static void test_sweep__tz__leap_day_and_invalid_dates(void **state)
{
    struct cat_tz *tz = load_tz("Africa/Casablanca");
    int64_t t;

    (void)state;
    assert_non_null(tz);
    for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
        bool leap = y % 4 == 0;
        assert_int_equal(cat_tz_local_to_utc(tz, y, 2, 29, 12, 0, 0, CAT_TZ_EARLIER, &t, NULL),
                         leap ? 0 : -EINVAL);
        assert_int_equal(cat_tz_local_to_utc(tz, y, 2, 30, 12, 0, 0, CAT_TZ_EARLIER, &t, NULL),
                         -EINVAL);
        assert_int_equal(cat_tz_local_to_utc(tz, y, 4, 31, 12, 0, 0, CAT_TZ_EARLIER, &t, NULL),
                         -EINVAL);
        assert_int_equal(cat_tz_local_to_utc(tz, y, 13, 1, 12, 0, 0, CAT_TZ_EARLIER, &t, NULL),
                         -EINVAL);
    }
    cat_tz_free(tz);
}

/* ---------------------------------------------------------------- the gift-day calendar */

struct xwin {
    int64_t start, end; /* regular [start, end) */
    int32_t gift_day;
    bool special;
};

/* The oracle's window for local wall times [ws, we_excl) (civil seconds). */
static bool o_window(int64_t ws, int64_t we_excl, int32_t gift_day, bool special, struct xwin *w)
{
    int64_t e1, l1, e2, l2;

    tc_glibc_resolve(ws, &e1, &l1);
    tc_glibc_resolve(we_excl, &e2, &l2);
    *w = (struct xwin){.start = e1, .end = l2, .gift_day = gift_day, .special = special};
    return l2 > e1;
}

#define MAX_XWIN 2048

static int by_start(const void *a, const void *b)
{
    const struct xwin *p = a, *q = b;

    return p->start < q->start ? -1 : p->start > q->start;
}

/* Every local day of the sweep: Wednesdays whole (the first Wednesday of each month cancelled),
 * Sundays 02:30-03:29:59 (the hour clocks change in Europe and Morocco), Saturdays 23:00-00:59:59
 * (past midnight, where Chile and Egypt change), gold an hour early; special windows on 29 February
 * 2028 10:00-11:59:59 and each 31 December 18:00-23:59:59. Each window opens and closes exactly
 * where the oracle says, for both tiers, and each one's "next opening" is the following window. */
static void test_sweep__calendar__every_day_windows_and_next_opening(void **state)
{
    static struct xwin x[MAX_XWIN];
    struct cat_calendar_config cfg;
    char err[256];

    (void)state;
    for (size_t z = 0; z < N_ZONES; z++) {
        struct cat_calendar *cal = NULL;
        struct cat_tz *probe = load_tz(zones[z]);
        unsigned n = 0, cancelled_seen = 0;

        if (!probe)
            continue;
        cat_tz_free(probe);
        oracle_zone(zones[z]);
        cat_calendar_config_defaults(&cfg);
        snprintf(cfg.timezone, sizeof(cfg.timezone), "%s", zones[z]);
        cfg.weekly[0] = (struct cat_weekly_rule){3, 0, 86399};
        cfg.weekly[1] = (struct cat_weekly_rule){0, 2 * 3600 + 1800, 3 * 3600 + 1799};
        cfg.weekly[2] = (struct cat_weekly_rule){6, 23 * 3600, 3599};
        cfg.n_weekly = 3;
        for (int64_t dn = first_day(); dn <= last_day(); dn++) {
            int y, mo, d, wd;

            day_fields(dn, &y, &mo, &d, &wd);
            if (wd == 3 && d <= 7)
                cfg.cancelled[cfg.n_cancelled++] = y * 10000 + mo * 100 + d;
        }
        cfg.special[cfg.n_special++] =
            (struct cat_special_window){"leap", 20280229, 10 * 3600, 20280229, 12 * 3600 - 1};
        for (int y = FIRST_YEAR; y <= LAST_YEAR; y++)
            cfg.special[cfg.n_special++] = (struct cat_special_window){
                "eve", y * 10000 + 1231, 18 * 3600, y * 10000 + 1231, 86399};
        snprintf(cfg.premium_tiers[0], CAT_NAME_MAX, "gold");
        cfg.n_premium_tiers = 1;
        cfg.premium_early_min = 60;
        if (cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)) != 0)
            fail_msg("%s: %s", zones[z], err);

        /* the expected windows, in order (they never overlap here) */
        for (int64_t dn = first_day(); dn <= last_day(); dn++) {
            int y, mo, d, wd;
            int32_t ymd;
            int64_t midnight;

            day_fields(dn, &y, &mo, &d, &wd);
            ymd = y * 10000 + mo * 100 + d;
            midnight = civil(y, mo, d, 0, 0, 0);
            if (wd == 3 && d <= 7) {
                int64_t early, late;

                /* cancelled: closed all day */
                tc_glibc_resolve(midnight + 12 * 3600, &early, &late);
                assert_int_equal(cat_calendar_is_open(cal, early, NULL, NULL), 0);
                cancelled_seen++;
            } else if (wd == 3) {
                n += o_window(midnight, midnight + DAY, ymd, false, &x[n]);
            }
            if (wd == 0)
                n += o_window(midnight + 2 * 3600 + 1800, midnight + 3 * 3600 + 1800, ymd, false,
                              &x[n]);
            if (ymd == 20280229)
                n += o_window(midnight + 10 * 3600, midnight + 12 * 3600, ymd, true, &x[n]);
            if (wd == 6)
                n += o_window(midnight + 23 * 3600, midnight + DAY + 3600, ymd, false, &x[n]);
            if (mo == 12 && d == 31)
                n += o_window(midnight + 18 * 3600, midnight + DAY, ymd, true, &x[n]);
            assert_true(n < MAX_XWIN);
        }
        assert_int_equal(cancelled_seen, 36);
        qsort(x, n, sizeof(x[0]), by_start);

        for (unsigned i = 0; i < n; i++) {
            struct cat_gift_window w;
            int64_t s;

            for (unsigned k = 0; k < 2; k++) {
                const char *tier = k ? "gold" : NULL;
                int64_t open = x[i].start - (k ? 3600 : 0);

                if (cat_calendar_is_open(cal, open, tier, &w) != 1 || w.start != open ||
                    w.end != x[i].end || w.regular_start != x[i].start ||
                    w.gift_day != x[i].gift_day || w.special != x[i].special)
                    fail_msg("%s %s window of %" PRId32 ": expected [%" PRId64 ", %" PRId64
                             "), calendar says [%" PRId64 ", %" PRId64 ") day %" PRId32,
                             zones[z], tier ? tier : "regular", x[i].gift_day, open, x[i].end,
                             w.start, w.end, w.gift_day);
                assert_int_equal(cat_calendar_is_open(cal, x[i].end - 1, tier, &w), 1);
                assert_int_equal(w.start, open);
                if (cat_calendar_is_open(cal, open - 1, tier, &w) == 1)
                    assert_true(w.start != open);
                if (cat_calendar_is_open(cal, x[i].end, tier, &w) == 1)
                    assert_true(w.start != open);
                /* the next opening from just before this one is this one */
                assert_int_equal(cat_calendar_next_open(cal, open - 1, tier, &s, NULL, &w), 0);
                assert_int_equal(s, open);
                assert_int_equal(w.gift_day, x[i].gift_day);
                /* from inside it, the following window (the broadcast sends at regular_start) */
                if (i + 1 < n) {
                    assert_int_equal(cat_calendar_next_open(cal, open, tier, &s, NULL, &w), 0);
                    if (w.regular_start != x[i + 1].start)
                        fail_msg("%s: next after %" PRId32 " is %" PRId32 " at %" PRId64
                                 ", expected %" PRId32 " at %" PRId64,
                                 zones[z], x[i].gift_day, w.gift_day, w.regular_start,
                                 x[i + 1].gift_day, x[i + 1].start);
                    assert_int_equal(s, x[i + 1].start - (k ? 3600 : 0));
                }
            }
        }
        cat_calendar_free(cal);
    }
}

/* ---------------------------------------------------------------- catalogue validity */

static const char item_fmt[] =
    "{\"id\": \"D%02d\", \"category\": \"data\","
    " \"names\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"},"
    " \"descriptions\": {\"ar\": \"a\", \"fr\": \"f\", \"en\": \"e\", \"fa\": \"p\"},"
    " \"price\": 10, \"tier\": \"standard\", \"valid_from\": \"%04d-%02d-%02d\","
    " \"valid_to\": \"%04d-%02d-%02d\","
    " \"fulfil\": {\"type\": \"provisioning\", \"kind\": \"data\", \"quantity\": 1, "
    "\"unit\": \"MB\"}}";

static int parse_catalogue(const char *text, struct cat_catalog **c, char *err, size_t errlen)
{
    static const char *const tiers[] = {"standard"};
    static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 1};

    return cat_catalog_parse(text, strlen(text), &opts, c, err, errlen);
}

/* For every month, a catalogue with one item per day valid on that day only: on each day of the
 * sweep exactly that day's item is redeemable, the day before is NOT_YET and the day after
 * EXPIRED; "today" comes from the Casablanca local date one second before and at local midnight. */
static void test_sweep__catalogue__item_valid_on_its_day_only(void **state)
{
    struct cat_tz *tz = load_tz("Africa/Casablanca");
    char text[40000], err[256];

    (void)state;
    assert_non_null(tz);
    oracle_zone("Africa/Casablanca");
    for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
        for (int mo = 1; mo <= 12; mo++) {
            int64_t m0 = civil(y, mo, 1, 0, 0, 0) / DAY, m1 = civil(y, mo + 1, 1, 0, 0, 0) / DAY;
            int nd = (int)(m1 - m0);
            size_t len = (size_t)snprintf(text, sizeof(text), "{\"version\": \"s\", \"items\": [");
            struct cat_catalog *c = NULL;

            for (int d = 1; d <= nd; d++) {
                len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", d > 1 ? "," : "");
                len += (size_t)snprintf(text + len, sizeof(text) - len, item_fmt, d, y, mo, d, y,
                                        mo, d);
            }
            assert_true(len < sizeof(text) - 2);
            snprintf(text + len, sizeof(text) - len, "]}");
            if (parse_catalogue(text, &c, err, sizeof(err)) != 0)
                fail_msg("%04d-%02d: %s", y, mo, err);
            for (int d = 1; d <= nd; d++) {
                int64_t early, late, dn = m0 + d - 1;
                char id[16];

                tc_glibc_resolve(civil(y, mo, d, 0, 0, 0), &early, &late);
                int32_t before = cat_tz_local_date(tz, early - 1),
                        on = cat_tz_local_date(tz, early);
                int32_t after = ymd_of_day(dn + 1);

                assert_int_equal(before, ymd_of_day(dn - 1));
                assert_int_equal(on, y * 10000 + mo * 100 + d);
                snprintf(id, sizeof(id), "D%02d", d);
                assert_int_equal(cat_item_check(NULL, c, id, before), CAT_ITEM_NOT_YET);
                assert_int_equal(cat_item_check(NULL, c, id, on), CAT_ITEM_OK);
                assert_int_equal(cat_item_check(NULL, c, id, after), CAT_ITEM_EXPIRED);
            }
            cat_catalog_unref(c);
        }
    }
    /* dates that do not exist are refused, never rolled into the next month */
    static const char *const bad[] = {"2026-02-29", "2027-02-29", "2028-02-30", "2026-04-31",
                                      "2027-06-31", "2028-13-01", "2026-00-10", "2026-01-00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cat_catalog *c = NULL;
        int y, mo, d;

        assert_int_equal(sscanf(bad[i], "%d-%d-%d", &y, &mo, &d), 3);
        snprintf(text, sizeof(text), "{\"version\": \"s\", \"items\": [");
        size_t len = strlen(text);
        len += (size_t)snprintf(text + len, sizeof(text) - len, item_fmt, 1, y, mo, d, 2029, 1, 1);
        snprintf(text + len, sizeof(text) - len, "]}");
        if (parse_catalogue(text, &c, err, sizeof(err)) != -EINVAL)
            fail_msg("valid_from %s accepted", bad[i]);
    }
    cat_tz_free(tz);
}

/* ---------------------------------------------------------------- voucher expiry */

/* A code expiring on day D loads on D and is refused as expired from D + 1, for every day. */
static void test_sweep__vouchers__expiry_day_inclusive(void **state)
{
    char csv[64], err[256];

    (void)state;
    for (int64_t dn = first_day(); dn <= last_day(); dn++) {
        struct cat_voucher_pool *p = NULL;
        int y, mo, d;
        char want[64];

        day_fields(dn, &y, &mo, &d, NULL);
        snprintf(csv, sizeof(csv), "code,expiry\nABCD-1,%04d-%02d-%02d\n", y, mo, d);
        assert_int_equal(
            cat_voucher_pool_parse(csv, strlen(csv), "P", ymd_of_day(dn), &p, err, sizeof(err)), 0);
        assert_int_equal(p->codes[0].expiry, ymd_of_day(dn));
        cat_voucher_pool_free(p);
        p = NULL;
        assert_int_equal(
            cat_voucher_pool_parse(csv, strlen(csv), "P", ymd_of_day(dn + 1), &p, err, sizeof(err)),
            -EINVAL);
        snprintf(want, sizeof(want), "code expired on %04d-%02d-%02d", y, mo, d);
        if (!strstr(err, want))
            fail_msg("%s: \"%s\"", want, err);
    }
    static const char *const bad[] = {"2027-02-29", "2028-02-30", "2026-09-31", "2026-11-31"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cat_voucher_pool *p = NULL;

        snprintf(csv, sizeof(csv), "ABCD-1,%s\n", bad[i]);
        assert_int_equal(cat_voucher_pool_parse(csv, strlen(csv), "P", 0, &p, err, sizeof(err)),
                         -EINVAL);
    }
}

/* ---------------------------------------------------------------- points expiry */

/* Points earned on day D expire on D + N months clamped to the month's last day (gw_wallet.h), for
 * every day of the sweep and N = 1..24: the oracle is timegm on the first of the target month. */
static void test_sweep__points_expiry__months_clamped_to_month_end(void **state)
{
    (void)state;
    for (int64_t dn = first_day(); dn <= last_day(); dn++) {
        int y, mo, d;

        day_fields(dn, &y, &mo, &d, NULL);
        for (uint32_t n = 0; n <= 24; n++) {
            int ty, tmo, td, last;
            int64_t first = civil(y, mo + (int)n, 1, 0, 0, 0) / DAY;

            day_fields(first, &ty, &tmo, &td, NULL);
            day_fields(civil(ty, tmo + 1, 1, 0, 0, 0) / DAY - 1, &ty, &tmo, &last, NULL);
            int32_t want = ty * 10000 + tmo * 100 + (d < last ? d : last);
            if (gw_wallet_add_months(ymd_of_day(dn), n) != want)
                fail_msg("%" PRId32 " + %u months: %" PRId32 ", expected %" PRId32, ymd_of_day(dn),
                         n, gw_wallet_add_months(ymd_of_day(dn), n), want);
        }
    }
    assert_int_equal(gw_wallet_add_months(20270229, 1), 0); /* no such day */
}

/* ---------------------------------------------------------------- loyalty seasons, promotions */

static char cfg_path[64];

static void write_text(const char *text)
{
    FILE *f = fopen(cfg_path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    fclose(f);
}

/* For every month and zone, a table with one season per day (D..D, date-only, multiplier 100 + D)
 * and one promotion per day from D 02:30 to D 03:30 local (multiplier 200 + D, TOPUP): an event at
 * the first second of each local day earns that day's season, the second before it the previous
 * day's; promotions start where the oracle resolves 02:30 (a skipped 02:30 starts at the jump). */
static void test_sweep__loyalty__seasons_and_promotions_by_event_time(void **state)
{
    static const char *const lzones[] = {"Africa/Casablanca", "Europe/Paris", "America/Santiago"};
    static char text[24000];
    int fd;

    (void)state;
    snprintf(cfg_path, sizeof(cfg_path), "/tmp/lgw-sweep-XXXXXX");
    fd = mkstemp(cfg_path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t z = 0; z < sizeof(lzones) / sizeof(lzones[0]); z++) {
        struct cat_tz *probe = load_tz(lzones[z]);

        if (!probe)
            continue;
        cat_tz_free(probe);
        for (int y = FIRST_YEAR; y <= LAST_YEAR; y++) {
            for (int mo = 1; mo <= 12; mo++) {
                int64_t m0 = civil(y, mo, 1, 0, 0, 0) / DAY;
                int nd = (int)(civil(y, mo + 1, 1, 0, 0, 0) / DAY - m0);
                struct gw_config cfg;
                char err[256];
                size_t len = (size_t)snprintf(text, sizeof(text),
                                              "{\"loyalty\": {\"timezone\": \"%s\", \"seasons\": [",
                                              lzones[z]);

                for (int d = 1; d <= nd; d++)
                    len += (size_t)snprintf(
                        text + len, sizeof(text) - len,
                        "%s{\"name\": \"s%d\", \"from\": \"%04d-%02d-%02d\", \"to\": "
                        "\"%04d-%02d-%02d\", \"multiplier_pct\": %d}",
                        d > 1 ? "," : "", d, y, mo, d, y, mo, d, 100 + d);
                len += (size_t)snprintf(text + len, sizeof(text) - len, "], \"promotions\": [");
                for (int d = 1; d <= nd; d++)
                    len += (size_t)snprintf(
                        text + len, sizeof(text) - len,
                        "%s{\"name\": \"p%d\", \"from\": \"%04d-%02d-%02dT02:30\", \"to\": "
                        "\"%04d-%02d-%02dT03:30\", \"multiplier_pct\": %d, \"kinds\": [\"TOPUP\"]}",
                        d > 1 ? "," : "", d, y, mo, d, y, mo, d, 200 + d);
                snprintf(text + len, sizeof(text) - len, "]}}");
                write_text(text);
                if (gw_config_load(cfg_path, &cfg, err, sizeof(err)) != 0 ||
                    gw_config_validate(&cfg, err, sizeof(err)) != 0)
                    fail_msg("%s %04d-%02d: %s", lzones[z], y, mo, err);
                oracle_zone(lzones[z]);
                for (int d = 1; d <= nd; d++) {
                    int64_t early, late, ps, pl;
                    struct gw_event ev = {.kind = GW_EV_TOPUP, .amount_milli = 100000};
                    struct gw_earn earn;

                    tc_glibc_resolve(civil(y, mo, d, 0, 0, 0), &early, &late);
                    if (cfg.loyalty.seasons[d - 1].from != early)
                        fail_msg("%s season from %04d-%02d-%02d: %" PRId64 ", local midnight is "
                                 "%" PRId64,
                                 lzones[z], y, mo, d, cfg.loyalty.seasons[d - 1].from, early);
                    ev.at = early;
                    assert_int_equal(gw_loyalty_earn(&cfg.loyalty, &ev, &earn), 0);
                    assert_int_equal(earn.season_pct, 100 + d);
                    ev.at = early - 1;
                    assert_int_equal(gw_loyalty_earn(&cfg.loyalty, &ev, &earn), 0);
                    assert_int_equal(earn.season_pct, d > 1 ? 100 + d - 1 : 100);
                    tc_glibc_resolve(civil(y, mo, d, 2, 30, 0), &ps, &pl);
                    if (cfg.loyalty.promos[d - 1].from != ps)
                        fail_msg("%s promotion from %04d-%02d-%02dT02:30: %" PRId64
                                 ", expected %" PRId64,
                                 lzones[z], y, mo, d, cfg.loyalty.promos[d - 1].from, ps);
                    ev.at = ps;
                    assert_int_equal(gw_loyalty_earn(&cfg.loyalty, &ev, &earn), 0);
                    assert_int_equal(earn.promo_pct, 200 + d);
                }
            }
        }
    }
    unlink(cfg_path);
}

/* ---------------------------------------------------------------- console send times */

/* Every local hour of every day in Casablanca and Paris: the console's local time is the earlier
 * instant, a skipped one is refused (-ENOENT); the same text with "Z" is that UTC time; a day past
 * the month's end is refused, never rolled over. */
static void test_sweep__console__local_send_time(void **state)
{
    static const char *const czones[] = {"Africa/Casablanca", "Europe/Paris"};
    char s[40];
    int64_t at;
    int gaps = 0;

    (void)state;
    for (size_t z = 0; z < 2; z++) {
        struct cat_tz *tz = load_tz(czones[z]);

        assert_non_null(tz);
        oracle_zone(czones[z]);
        for (int64_t dn = first_day(); dn <= last_day(); dn++) {
            int y, mo, d;

            day_fields(dn, &y, &mo, &d, NULL);
            for (int h = 0; h < 24; h++) {
                int64_t early, late;
                int n = tc_glibc_resolve(civil(y, mo, d, h, 30, 0), &early, &late);

                snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:30", y, mo, d, h);
                if (n == 0) {
                    assert_int_equal(adm_time_parse_local(s, tz, &at), -ENOENT);
                    gaps++;
                } else {
                    assert_int_equal(adm_time_parse_local(s, tz, &at), 0);
                    assert_int_equal(at, early);
                }
                snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:30:15Z", y, mo, d, h);
                assert_int_equal(adm_time_parse(s, &at), 0);
                assert_int_equal(at, civil(y, mo, d, h, 30, 15));
            }
        }
        cat_tz_free(tz);
    }
    assert_true(gaps >= 3); /* skipped hours were met (and refused) */
    static const char *const bad[] = {
        "2027-02-29T10:00Z", "2028-02-30T10:00Z", "2026-04-31T10:00Z", "2026-06-31T10:00Z",
        "2026-12-32T10:00Z", "2026-12-01T24:00Z", "2026-12-01T10:60Z", "2026-12-01T10:00:60Z"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (adm_time_parse(bad[i], &at) != -EINVAL)
            fail_msg("%s accepted as %" PRId64, bad[i], at);
    }
    assert_int_equal(adm_time_parse("2028-02-29T10:00+01:00", &at), 0);
    assert_int_equal(at, civil(2028, 2, 29, 9, 0, 0));
    assert_int_equal(adm_time_parse("2028-02-29T10:00-05:30", &at), 0);
    assert_int_equal(at, civil(2028, 2, 29, 15, 30, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep__tz__every_hour_agrees_with_glibc),
        cmocka_unit_test(test_sweep__tz__leap_day_and_invalid_dates),
        cmocka_unit_test(test_sweep__calendar__every_day_windows_and_next_opening),
        cmocka_unit_test(test_sweep__catalogue__item_valid_on_its_day_only),
        cmocka_unit_test(test_sweep__vouchers__expiry_day_inclusive),
        cmocka_unit_test(test_sweep__points_expiry__months_clamped_to_month_end),
        cmocka_unit_test(test_sweep__loyalty__seasons_and_promotions_by_event_time),
        cmocka_unit_test(test_sweep__console__local_send_time),
    };

    return cmocka_run_group_tests(tests, tc_glibc_tz_save, tc_glibc_tz_restore);
}

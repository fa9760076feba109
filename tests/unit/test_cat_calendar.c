/*
 * test_cat_calendar.c - the gift-day calendar (catalog/cat_calendar.c): window edges to the second,
 * Wednesdays in and out of Ramadan in Africa/Casablanca (2026 and 2027), next opening across the
 * week, over cancelled dates and into Ramadan, special windows, the premium early opening, windows
 * on the days the clock changes (Casablanca and Europe/Paris: the gap and overlap policy), and the
 * giftdays JSON (the shipped file and its errors). Every answer comes from the `now` passed in.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"

#include "../test_clock.h"

#define DEPLOY LGW_VECTORS "/../../deploy"
#define WED 3
#define SUN 0
#define FRI 5

#define utc tc_civil /* UTC instant of civil fields (tests/test_clock.h) */

#define DAY INT64_C(86400)

static struct cat_calendar_config cfg;
static struct cat_calendar *cal;
static char err[256];

/* The cases whose point is not a date run on W: 00:00 UTC of the first Wednesday after the real
 * clock's day (1970-01-01 was a Thursday). Cases whose point IS a date (Ramadan, the days clocks
 * change) keep their instants; every day of 2026..2028 is swept by test_date_sweeps.c. */
static int64_t W;

static int32_t ymd(int64_t t) /* UTC date of t, YYYYMMDD */
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* Casablanca wall time h:m on the date W + days (W's date at noon UTC is W's local date). */
static int64_t cas(int days, int h, int m)
{
    int64_t t = tc_local_at(cat_calendar_tz(cal), W + 12 * 3600, days, h, m);

    assert_true(t > 0);
    return t;
}

static int setup(void **state)
{
    (void)state;
    cat_calendar_config_defaults(&cfg);
    cal = NULL;
    err[0] = '\0';
    int64_t today = (int64_t)time(NULL) / DAY;
    int ahead = (int)((3 - (today + 4) % 7 + 7) % 7);
    W = (today + (ahead ? ahead : 7)) * DAY;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cat_calendar_free(cal);
    cal = NULL;
    return 0;
}

static void build(const char *zone)
{
    snprintf(cfg.timezone, sizeof(cfg.timezone), "%s", zone);
    cat_calendar_free(cal);
    cal = NULL;
    if (cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)) != 0)
        fail_msg("cat_calendar_new: %s", err);
}

static void rule(unsigned i, int weekday, int32_t start, int32_t end)
{
    cfg.weekly[i] =
        (struct cat_weekly_rule){.weekday = weekday, .start_sec = start, .end_sec = end};
    if (cfg.n_weekly <= i)
        cfg.n_weekly = i + 1;
}

#define HMS(h, m, s) ((h)*3600 + (m)*60 + (s))

static bool open_at(int64_t t, const char *tier)
{
    int rc = cat_calendar_is_open(cal, t, tier, NULL);

    assert_true(rc == 0 || rc == 1);
    return rc == 1;
}

/* Opens exactly at `start` and closes exactly at `end` (the first closed second) for tier. */
static void assert_window(int64_t start, int64_t end, const char *tier)
{
    struct cat_gift_window w;

    if (open_at(start - 1, tier))
        fail_msg("open one second before %lld", (long long)start);
    assert_int_equal(cat_calendar_is_open(cal, start, tier, &w), 1);
    assert_int_equal(w.start, start);
    assert_int_equal(w.end, end);
    assert_true(open_at(end - 1, tier));
    if (open_at(end, tier))
        fail_msg("still open at %lld", (long long)end);
}

/* ---------------------------------------------------------------- edges */

static void test_calendar__default__wednesday_whole_day_to_the_second(void **state)
{
    struct cat_gift_window w;

    (void)state;
    build("UTC");
    assert_false(open_at(W - 1, NULL));
    assert_int_equal(cat_calendar_is_open(cal, W, NULL, &w), 1);
    assert_int_equal(w.start, W);
    assert_int_equal(w.end, W + DAY);
    assert_int_equal(w.regular_start, w.start);
    assert_int_equal(w.gift_day, ymd(W));
    assert_false(w.special);
    assert_string_equal(w.name, "weekly");
    assert_true(open_at(W + DAY - 1, NULL));
    assert_false(open_at(W + DAY, NULL));
    assert_false(open_at(W + 3 * DAY + 12 * 3600, NULL));
}

static void test_calendar__hh_mm_end__covers_the_whole_minute(void **state)
{
    const char *json = "{\"timezone\":\"UTC\",\"weekly\":[{\"day\":\"wednesday\","
                       "\"start\":\"10:30\",\"end\":\"12:00\"}]}";

    (void)state;
    assert_int_equal(cat_calendar_config_parse(json, strlen(json), &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.weekly[0].end_sec, HMS(12, 0, 59));
    build("UTC");
    assert_window(W + HMS(10, 30, 0), W + HMS(12, 1, 0), NULL);
}

static void test_calendar__window_past_midnight__belongs_to_its_start_day(void **state)
{
    struct cat_gift_window w;

    (void)state;
    rule(0, FRI, HMS(22, 0, 0), HMS(1, 59, 59));
    build("UTC");
    /* Friday (W + 2 days) 22:00 to Saturday 01:59:59 */
    assert_window(W + 2 * DAY + HMS(22, 0, 0), W + 3 * DAY + HMS(2, 0, 0), NULL);
    assert_int_equal(cat_calendar_is_open(cal, W + 3 * DAY + HMS(1, 0, 0), NULL, &w), 1);
    assert_int_equal(w.gift_day, ymd(W + 2 * DAY));
}

/* ---------------------------------------------------------------- Casablanca and Ramadan */

static void
test_calendar__casablanca_wednesday__outside_ramadan_opens_2300z_day_before(void **state)
{
    (void)state;
    build("Africa/Casablanca");
    /* UTC+1: Wednesday 00:00 local is Tuesday 23:00Z, 23:59:59 local is 22:59:59Z */
    assert_window(utc(2026, 11, 24, 23, 0, 0), utc(2026, 11, 25, 23, 0, 0), NULL);
    assert_window(utc(2026, 2, 10, 23, 0, 0), utc(2026, 2, 11, 23, 0, 0), NULL); /* before */
    assert_window(utc(2026, 3, 24, 23, 0, 0), utc(2026, 3, 25, 23, 0, 0), NULL); /* after */
    assert_window(utc(2027, 2, 2, 23, 0, 0), utc(2027, 2, 3, 23, 0, 0), NULL);
    assert_window(utc(2027, 3, 16, 23, 0, 0), utc(2027, 3, 17, 23, 0, 0), NULL);
}

static void test_calendar__casablanca_wednesday__in_ramadan_opens_0000z(void **state)
{
    struct cat_gift_window w;

    (void)state;
    build("Africa/Casablanca");
    /* 2026-02-15 .. 2026-03-22 and 2027-02-07 .. 2027-03-14 are UTC+0 */
    assert_false(open_at(utc(2026, 2, 17, 23, 0, 0), NULL)); /* when it would open at UTC+1 */
    assert_window(utc(2026, 2, 18, 0, 0, 0), utc(2026, 2, 19, 0, 0, 0), NULL);
    assert_window(utc(2026, 3, 18, 0, 0, 0), utc(2026, 3, 19, 0, 0, 0), NULL);
    assert_window(utc(2027, 2, 10, 0, 0, 0), utc(2027, 2, 11, 0, 0, 0), NULL);
    assert_window(utc(2027, 3, 10, 0, 0, 0), utc(2027, 3, 11, 0, 0, 0), NULL);
    assert_int_equal(cat_calendar_is_open(cal, utc(2026, 2, 18, 23, 59, 59), NULL, &w), 1);
    assert_int_equal(w.gift_day, 20260218);
}

static void test_calendar__next_open__thursday_to_next_wednesday_across_ramadan(void **state)
{
    int64_t s, e;

    (void)state;
    build("Africa/Casablanca");
    /* Thursday before Ramadan -> the first Ramadan Wednesday, 00:00 local = 00:00Z */
    assert_int_equal(cat_calendar_next_open(cal, utc(2026, 2, 12, 10, 0, 0), NULL, &s, &e, NULL),
                     0);
    assert_int_equal(s, utc(2026, 2, 18, 0, 0, 0));
    assert_int_equal(e, utc(2026, 2, 19, 0, 0, 0));
    /* Thursday in the last Ramadan week -> the first Wednesday after, back at UTC+1 */
    assert_int_equal(cat_calendar_next_open(cal, utc(2026, 3, 19, 10, 0, 0), NULL, &s, &e, NULL),
                     0);
    assert_int_equal(s, utc(2026, 3, 24, 23, 0, 0));
    assert_int_equal(e, utc(2026, 3, 25, 23, 0, 0));
    assert_int_equal(cat_calendar_next_open(cal, utc(2027, 2, 4, 0, 0, 0), NULL, &s, NULL, NULL),
                     0);
    assert_int_equal(s, utc(2027, 2, 10, 0, 0, 0));
    assert_int_equal(cat_calendar_next_open(cal, utc(2027, 3, 11, 0, 0, 0), NULL, &s, NULL, NULL),
                     0);
    assert_int_equal(s, utc(2027, 3, 16, 23, 0, 0));
    /* one second before an opening -> that opening; at it -> the week after */
    assert_int_equal(cat_calendar_next_open(cal, cas(0, 0, 0) - 1, NULL, &s, NULL, NULL), 0);
    assert_int_equal(s, cas(0, 0, 0));
    assert_int_equal(cat_calendar_next_open(cal, cas(0, 0, 0), NULL, &s, NULL, NULL), 0);
    assert_int_equal(s, cas(7, 0, 0));
}

/* Sunday windows on the days Casablanca's clock changes: 2026-02-15 02:00-02:59:59 happens twice,
 * 2026-03-22 02:00-02:59:59 never happens. */
static void test_calendar__casablanca_change_days__overlap_and_gap(void **state)
{
    (void)state;
    rule(0, SUN, HMS(2, 30, 0), HMS(2, 45, 59));
    build("Africa/Casablanca");
    /* overlap: from the first 02:30 (01:30Z, +01) to the second 02:45:59 (02:45:59Z, +00) */
    assert_window(utc(2026, 2, 15, 1, 30, 0), utc(2026, 2, 15, 2, 46, 0), NULL);
    /* gap: 02:30-02:45 local does not exist that day; the window never opens */
    assert_false(open_at(utc(2026, 3, 22, 2, 0, 0), NULL));
    {
        int64_t s;

        assert_int_equal(
            cat_calendar_next_open(cal, utc(2026, 3, 21, 0, 0, 0), NULL, &s, NULL, NULL), 0);
        assert_int_equal(s, utc(2026, 3, 29, 1, 30, 0)); /* the Sunday after, at +01 */
    }
    /* a window reaching over the gap opens at the jump (03:00 +01 = 02:00Z) */
    rule(0, SUN, HMS(2, 30, 0), HMS(3, 30, 59));
    build("Africa/Casablanca");
    assert_window(utc(2026, 3, 22, 2, 0, 0), utc(2026, 3, 22, 2, 31, 0), NULL);
}

/* ---------------------------------------------------------------- Europe/Paris */

static void test_calendar__paris__gap_opens_at_the_jump_overlap_spans_both(void **state)
{
    int64_t s;

    (void)state;
    rule(0, SUN, HMS(2, 30, 0), HMS(3, 30, 59));
    build("Europe/Paris");
    /* 2026-03-29: 02:00 CET -> 03:00 CEST at 01:00Z. 02:30 does not exist: open at the jump;
     * the end 03:30:59 CEST is 01:30:59Z. */
    assert_window(utc(2026, 3, 29, 1, 0, 0), utc(2026, 3, 29, 1, 31, 0), NULL);
    /* 2026-10-25: 03:00 CEST -> 02:00 CET at 01:00Z. Start: the first 02:30 (00:30Z, CEST); end
     * 03:30:59 exists once, in CET (02:30:59Z). */
    assert_window(utc(2026, 10, 25, 0, 30, 0), utc(2026, 10, 25, 2, 31, 0), NULL);

    rule(0, SUN, HMS(2, 15, 0), HMS(2, 45, 59));
    build("Europe/Paris");
    /* overlap: the first 02:15 (00:15Z) to the second 02:45:59 (01:45:59Z) */
    assert_window(utc(2026, 10, 25, 0, 15, 0), utc(2026, 10, 25, 1, 46, 0), NULL);
    /* wholly inside the gap: no window on 2026-03-29; the next is a week later at CEST */
    assert_false(open_at(utc(2026, 3, 29, 1, 0, 0), NULL));
    assert_int_equal(cat_calendar_next_open(cal, utc(2026, 3, 28, 0, 0, 0), NULL, &s, NULL, NULL),
                     0);
    assert_int_equal(s, utc(2026, 4, 5, 0, 15, 0));
}

/* ---------------------------------------------------------------- cancelled, special, premium */

static void test_calendar__cancelled_wednesday__skipped(void **state)
{
    int64_t s;

    (void)state;
    cfg.cancelled[0] = ymd(W);
    cfg.n_cancelled = 1;
    build("UTC");
    assert_false(open_at(W, NULL));
    assert_false(open_at(W + HMS(12, 0, 0), NULL));
    assert_int_equal(cat_calendar_next_open(cal, W - 6 * DAY + HMS(9, 0, 0), NULL, &s, NULL, NULL),
                     0);
    assert_int_equal(s, W + 7 * DAY);
    /* the Wednesdays around it are untouched */
    assert_window(W - 7 * DAY, W - 6 * DAY, NULL);
    assert_window(W + 7 * DAY, W + 8 * DAY, NULL);
}

static void add_special(const char *name, int32_t sd, int32_t ss, int32_t ed, int32_t es)
{
    struct cat_special_window *w = &cfg.special[cfg.n_special++];

    snprintf(w->name, sizeof(w->name), "%s", name);
    w->start_date = sd;
    w->start_sec = ss;
    w->end_date = ed;
    w->end_sec = es;
}

static void test_calendar__special_window__opens_and_is_found_next(void **state)
{
    struct cat_gift_window w;
    int64_t s, e;

    (void)state;
    /* a Thursday evening, W + 1 day, 18:00-23:59:59 local */
    add_special("evening", ymd(W + DAY), HMS(18, 0, 0), ymd(W + DAY), HMS(23, 59, 59));
    /* cancelling its date does not cancel an explicit special window */
    cfg.cancelled[0] = ymd(W + DAY);
    cfg.n_cancelled = 1;
    build("Africa/Casablanca");
    assert_window(cas(1, 18, 0), cas(2, 0, 0), NULL);
    assert_int_equal(cat_calendar_is_open(cal, cas(1, 20, 0), NULL, &w), 1);
    assert_true(w.special);
    assert_string_equal(w.name, "evening");
    assert_int_equal(w.gift_day, ymd(W + DAY));
    /* Thursday morning: the special window comes before next Wednesday */
    assert_int_equal(cat_calendar_next_open(cal, cas(1, 10, 0), NULL, &s, &e, &w), 0);
    assert_int_equal(s, cas(1, 18, 0));
    assert_int_equal(e, cas(2, 0, 0));
    assert_true(w.special);
    /* during it, the next opening is the Wednesday after */
    assert_int_equal(cat_calendar_next_open(cal, cas(1, 20, 0), NULL, &s, NULL, &w), 0);
    assert_int_equal(s, cas(7, 0, 0));
    assert_false(w.special);
}

static void test_calendar__premium_early_opening__only_for_premium_tiers(void **state)
{
    struct cat_gift_window w;

    (void)state;
    snprintf(cfg.premium_tiers[0], sizeof(cfg.premium_tiers[0]), "gold");
    cfg.n_premium_tiers = 1;
    cfg.premium_early_min = 60;
    add_special("evening", ymd(W + DAY), HMS(18, 0, 0), ymd(W + DAY), HMS(23, 59, 59));
    build("Africa/Casablanca");
    /* gold: Wednesday 00:00 local minus an hour (elapsed time); the others at 00:00 */
    assert_window(cas(0, 0, 0) - 3600, cas(1, 0, 0), "gold");
    assert_window(cas(0, 0, 0), cas(1, 0, 0), "standard");
    assert_window(cas(0, 0, 0), cas(1, 0, 0), "silver");
    assert_window(cas(0, 0, 0), cas(1, 0, 0), NULL);
    assert_false(open_at(cas(0, 0, 0) - 1800, "Gold")); /* names are exact */
    assert_int_equal(cat_calendar_is_open(cal, cas(0, 0, 0) - 3600, "gold", &w), 1);
    assert_int_equal(w.regular_start, cas(0, 0, 0));
    assert_int_equal(w.gift_day, ymd(W));
    /* in Ramadan too, an hour before 00:00Z */
    assert_window(utc(2026, 2, 17, 23, 0, 0), utc(2026, 2, 19, 0, 0, 0), "gold");
    /* special windows as well */
    assert_window(cas(1, 18, 0) - 3600, cas(2, 0, 0), "gold");
    assert_true(cat_calendar_is_premium(cal, "gold"));
    assert_false(cat_calendar_is_premium(cal, "standard"));
    assert_false(cat_calendar_is_premium(cal, NULL));
    {
        int64_t s;

        /* from Friday morning (after the Thursday evening) */
        assert_int_equal(cat_calendar_next_open(cal, cas(2, 8, 0), "gold", &s, NULL, NULL), 0);
        assert_int_equal(s, cas(7, 0, 0) - 3600);
        assert_int_equal(cat_calendar_next_open(cal, cas(2, 8, 0), "standard", &s, NULL, NULL), 0);
        assert_int_equal(s, cas(7, 0, 0));
    }
}

static void test_calendar__status__open_and_next_from_one_clock(void **state)
{
    struct cat_gift_status st;

    (void)state;
    build("Africa/Casablanca");
    assert_int_equal(cat_calendar_status(cal, cas(1, 8, 0), NULL, &st), 0);
    assert_false(st.open);
    assert_true(st.has_next);
    assert_int_equal(st.next.start, cas(7, 0, 0));
    {
        char buf[32], want[32];
        int32_t d = ymd(W + 7 * DAY);

        snprintf(want, sizeof(want), "%04d-%02d-%02d 00:00", (int)(d / 10000), (int)(d / 100 % 100),
                 (int)(d % 100));
        assert_string_equal(
            cat_tz_format_local(cat_calendar_tz(cal), st.next.start, buf, sizeof(buf)), want);
    }
    assert_int_equal(cat_calendar_status(cal, cas(7, 8, 0), NULL, &st), 0);
    assert_true(st.open);
    assert_int_equal(st.current.gift_day, ymd(W + 7 * DAY));
    assert_int_equal(st.next.start, cas(14, 0, 0));
}

static void test_calendar__nothing_configured__no_next_opening(void **state)
{
    struct cat_gift_status st;
    int64_t s = 42;

    (void)state;
    cfg.n_weekly = 0;
    add_special("past", ymd(W - 400 * DAY), 0, ymd(W - 400 * DAY), HMS(23, 59, 59));
    build("UTC");
    assert_false(open_at(W + HMS(12, 0, 0), NULL));
    assert_int_equal(cat_calendar_next_open(cal, W + HMS(12, 0, 0), NULL, &s, NULL, NULL), -ENOENT);
    assert_int_equal(s, 42);
    /* a garbage clock reading is refused, not overflowed */
    assert_int_equal(cat_calendar_is_open(cal, INT64_MAX, NULL, NULL), -ERANGE);
    assert_int_equal(cat_calendar_is_open(cal, INT64_MIN, NULL, NULL), -ERANGE);
    assert_int_equal(cat_calendar_next_open(cal, INT64_MAX, NULL, &s, NULL, NULL), -ERANGE);
    assert_int_equal(cat_calendar_status(cal, INT64_MAX, NULL, &st), -ERANGE);
    assert_int_equal(cat_calendar_status(cal, W + HMS(12, 0, 0), NULL, &st), 0);
    assert_false(st.open);
    assert_false(st.has_next);
}

/* ---------------------------------------------------------------- giftdays JSON */

/* Local wall-clock time of the local date `days` after that of t, in the calendar's zone. */
static int64_t local_days_after(int64_t t, int days, int h, int m)
{
    int64_t out = tc_local_at(cat_calendar_tz(cal), t, days, h, m);

    assert_true(out > 0);
    return out;
}

/* The shipped file holds no dates (it would go stale): its weekly rule and premium opening are
 * checked as shipped; a cancelled Wednesday and a special evening are then added to its config
 * relative to the real clock's now, the way staff would add them. */
static void test_calendar__shipped_giftdays__loads_and_behaves(void **state)
{
    struct cat_calendar_config c;
    struct cat_tm tm;
    int64_t s, now = (int64_t)time(NULL);

    (void)state;
    if (cat_calendar_load_file(DEPLOY "/giftdays.json", &cal, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    c = *cat_calendar_config(cal);
    assert_string_equal(cat_tz_name(cat_calendar_tz(cal)), "Africa/Casablanca");
    assert_int_equal(c.n_weekly, 1);
    assert_int_equal(c.weekly[0].weekday, WED);
    assert_int_equal(c.weekly[0].start_sec, 0);
    assert_int_equal(c.weekly[0].end_sec, 86399);
    assert_int_equal(c.n_cancelled, 0);
    assert_int_equal(c.n_special, 0);
    assert_true(cat_calendar_is_premium(cal, "gold"));
    assert_int_equal(c.premium_early_min, 60);

    /* the Wednesday 1..7 days after today (local), and the one after it */
    assert_int_equal(cat_tz_localtime(cat_calendar_tz(cal), now, &tm), 0);
    int ahead = (WED - tm.wday + 7) % 7;
    ahead = ahead ? ahead : 7;
    int64_t wed_noon = local_days_after(now, ahead, 12, 0);
    int64_t next_wed = local_days_after(now, ahead + 7, 0, 0);
    /* as shipped: that Wednesday opens at its local midnight, gold an hour earlier */
    assert_true(open_at(wed_noon, NULL));
    assert_int_equal(cat_calendar_next_open(cal, wed_noon - 2 * 86400, NULL, &s, NULL, NULL), 0);
    assert_int_equal(s, local_days_after(now, ahead, 0, 0));
    assert_int_equal(cat_calendar_next_open(cal, wed_noon - 2 * 86400, "gold", &s, NULL, NULL), 0);
    assert_int_equal(s, local_days_after(now, ahead, 0, 0) - 3600);

    /* cancel it; add a special evening on the Friday after it, 18:00-23:59:59 */
    c.cancelled[0] = cat_tz_local_date(cat_calendar_tz(cal), wed_noon);
    c.n_cancelled = 1;
    int64_t fri_18 = local_days_after(now, ahead + 2, 18, 0);
    int32_t fri = cat_tz_local_date(cat_calendar_tz(cal), fri_18);
    c.special[0] = (struct cat_special_window){.name = "evening",
                                               .start_date = fri,
                                               .start_sec = HMS(18, 0, 0),
                                               .end_date = fri,
                                               .end_sec = HMS(23, 59, 59)};
    c.n_special = 1;
    cat_calendar_free(cal);
    cal = NULL;
    if (cat_calendar_new(&c, NULL, &cal, err, sizeof(err)) != 0)
        fail_msg("cat_calendar_new: %s", err);
    assert_false(open_at(wed_noon, NULL));
    assert_int_equal(cat_calendar_next_open(cal, wed_noon - 2 * 86400, NULL, &s, NULL, NULL), 0);
    assert_int_equal(s, fri_18);
    assert_int_equal(cat_calendar_next_open(cal, fri_18 + 3600, NULL, &s, NULL, NULL), 0);
    assert_int_equal(s, next_wed);
    /* the special evening, gold an hour early */
    assert_true(open_at(fri_18, NULL));
    assert_false(open_at(fri_18 - 1800, NULL));
    assert_true(open_at(fri_18 - 1800, "gold"));
    assert_false(open_at(local_days_after(now, ahead + 3, 0, 0), NULL));
}

static void expect_config_error(const char *json, const char *want)
{
    int rc = cat_calendar_config_parse(json, strlen(json), &cfg, err, sizeof(err));

    if (rc != -EINVAL || !strstr(err, want))
        fail_msg("rc %d, error \"%s\", wanted \"%s\"", rc, err, want);
}

static void test_calendar__config_errors__name_the_path(void **state)
{
    (void)state;
    expect_config_error("{\"weekly\":[]}", "timezone: required");
    expect_config_error("{\"timezone\":\"UTC\",\"colour\":1}", "colour: unknown key");
    expect_config_error(
        "{\"timezone\":\"UTC\",\"weekly\":[{\"day\":\"wednesday\",\"start\":\"00:00\","
        "\"end\":\"24:00\"}]}",
        "weekly[0].end: must be HH:MM or HH:MM:SS");
    expect_config_error(
        "{\"timezone\":\"UTC\",\"weekly\":[{\"day\":\"wednesday\",\"start\":\"00:00\","
        "\"end\":\"23:59\"},{\"day\":\"Mittwoch\",\"start\":\"00:00\","
        "\"end\":\"23:59\"}]}",
        "weekly[1].day: must be a weekday");
    expect_config_error("{\"timezone\":\"UTC\",\"weekly\":[{\"day\":\"friday\",\"start\":\"9:00\","
                        "\"end\":\"23:59\"}]}",
                        "weekly[0].start: must be HH:MM");
    expect_config_error("{\"timezone\":\"UTC\",\"weekly\":[{\"day\":\"friday\",\"start\":\"09:00\","
                        "\"end\":\"23:59\",\"every\":2}]}",
                        "weekly[0].every: unknown key");
    expect_config_error("{\"timezone\":\"UTC\",\"cancelled\":[\"2026-12-09\",\"2026-02-30\"]}",
                        "cancelled[1]: must be a date YYYY-MM-DD");
    expect_config_error("{\"timezone\":\"UTC\",\"special\":[{\"name\":\"x\","
                        "\"start\":\"2026-12-31 18:00\",\"end\":\"2026-12-31T25:00\"}]}",
                        "special[0].end: must be a local time");
    expect_config_error("{\"timezone\":\"UTC\",\"premium\":{\"tiers\":[\"gold\"],"
                        "\"early_minutes\":1441}}",
                        "premium.early_minutes: must be an integer from 0 to 1440");
    expect_config_error("{\"timezone\":\"UTC\",\"premium\":{\"tiers\":[],\"early_minutes\":60}}",
                        "premium.tiers: must be a non-empty array");
    expect_config_error("{\"timezone\":\"UTC\",\n\"weekly\": [\n  {\"day\": \"friday\",}\n]}",
                        "line 3");
    expect_config_error("{\"timezone\":\"UTC\",\"timezone\":\"UTC\"}", "duplicate");
    /* comments are skipped */
    {
        const char *ok = "{\"//\":\"hello\",\"timezone\":\"UTC\",\"weekly\":[{\"//x\":1,"
                         "\"day\":\"friday\",\"start\":\"09:00\",\"end\":\"10:00\"}]}";

        assert_int_equal(cat_calendar_config_parse(ok, strlen(ok), &cfg, err, sizeof(err)), 0);
        assert_int_equal(cfg.weekly[0].weekday, FRI);
    }
}

static void test_calendar__bad_zone_or_window__refused_by_new(void **state)
{
    (void)state;
    snprintf(cfg.timezone, sizeof(cfg.timezone), "../../etc/passwd");
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), -EINVAL);
    assert_null(cal);
    assert_non_null(strstr(err, "timezone: an IANA zone name"));
    snprintf(cfg.timezone, sizeof(cfg.timezone), "Africa/Atlantis");
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "timezone: no such zone"));
    snprintf(cfg.timezone, sizeof(cfg.timezone), "UTC");
    add_special("backwards", ymd(W + DAY), HMS(18, 0, 0), ymd(W), HMS(23, 0, 0));
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "special[0]: ends before it starts"));
    cfg.n_special = 0;
    add_special("too-long", ymd(W), 0, ymd(W + 31 * DAY), 0); /* 32 days */
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "special[0]: longer than 31 days"));
    cfg.n_special = 0;
    cfg.premium_early_min = -1;
    assert_int_equal(cat_calendar_new(&cfg, NULL, &cal, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "premium.early_minutes"));
    /* missing file */
    assert_int_equal(cat_calendar_load_file("/nonexistent/giftdays.json", &cal, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/giftdays.json"));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_calendar__default__wednesday_whole_day_to_the_second),
        T(test_calendar__hh_mm_end__covers_the_whole_minute),
        T(test_calendar__window_past_midnight__belongs_to_its_start_day),
        T(test_calendar__casablanca_wednesday__outside_ramadan_opens_2300z_day_before),
        T(test_calendar__casablanca_wednesday__in_ramadan_opens_0000z),
        T(test_calendar__next_open__thursday_to_next_wednesday_across_ramadan),
        T(test_calendar__casablanca_change_days__overlap_and_gap),
        T(test_calendar__paris__gap_opens_at_the_jump_overlap_spans_both),
        T(test_calendar__cancelled_wednesday__skipped),
        T(test_calendar__special_window__opens_and_is_found_next),
        T(test_calendar__premium_early_opening__only_for_premium_tiers),
        T(test_calendar__status__open_and_next_from_one_clock),
        T(test_calendar__nothing_configured__no_next_opening),
        T(test_calendar__shipped_giftdays__loads_and_behaves),
        T(test_calendar__config_errors__name_the_path),
        T(test_calendar__bad_zone_or_window__refused_by_new),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

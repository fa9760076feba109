/*
 * test_gw_tier.c - the tier qualification rule (gateway/gw_tier.c) swept day by day from the first
 * of November before 2026 to the end of 2028 (a day number, no literal date): every day of
 * 2026-2028, three year ends, 29 February 2028. Rising at once, falling only after the grace (for
 * a big month in each month of a year, so that some graces run across a 29 February), the window
 * crossing year boundaries, and the review day the daily job indexes never missing a change
 * (reviewing only on review days gives the same tiers as every day); and the SMS of a change in
 * the four languages.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gw_days.h"
#include "gw_loyalty.h"
#include "gw_tier.h"
#include "gw_tier_job.h"

#define SPAN 1157 /* days swept: 1 November before 2026 .. 31 December 2028 */

static void table(struct gw_loyalty *t, int basis, unsigned window, unsigned grace)
{
    gw_loyalty_default(t);
    t->n_tiers = 3;
    t->tiers[1] = (struct gw_tier){.name = "silver", .min_points = 1000, .pct = 110};
    t->tiers[2] = (struct gw_tier){.name = "gold", .min_points = 5000, .pct = 125};
    t->tier_basis = basis;
    t->tier_window_months = window;
    t->tier_grace_days = grace;
}

/* Activity by month index (months since day 0 of the sweep's first month). */
struct sim {
    int32_t day0;     /* the first day swept */
    int64_t act[64];  /* per month of the sweep */
};

static int month_index(const struct sim *s, int32_t day)
{
    return (int)((day / 10000 - s->day0 / 10000) * 12 + (day / 100 % 100) - (s->day0 / 100 % 100));
}

static void months_of(const struct sim *s, int32_t day, int64_t *m)
{
    int mi = month_index(s, day);
    for (int i = 0; i < GW_TIER_WINDOW_MAX; i++)
        m[i] = mi - i >= 0 ? s->act[mi - i] : 0;
}

/* A first day in November, so that the sweep crosses three year ends at a month's start: day
 * number 20393 is the first of November before 2026, so SPAN days end on the last day of 2028. */
static int32_t first_day(void)
{
    int32_t d = gw_days_from_number(20393);
    while (d / 100 % 100 != 11 || d % 100 != 1)
        d = gw_days_add(d, 1);
    return d;
}

/* Runs the sweep; daily: review every day, else only on review days and event days. tiers[i]
 * receives the tier held on day i. Events: earn[i] points on day i. */
static void sweep(const struct gw_loyalty *t, const int64_t *earn, bool daily, unsigned *tiers)
{
    struct sim s = {.day0 = first_day()};
    struct gw_tier_state st = {0, 0};
    int32_t review = 0;
    int32_t d = s.day0;

    for (int i = 0; i < SPAN; i++, d = gw_days_add(d, 1)) {
        if (earn[i])
            s.act[month_index(&s, d)] += earn[i];
        if (daily || earn[i] || (review && d >= review)) {
            int64_t m[GW_TIER_WINDOW_MAX];
            struct gw_tier_decision out;
            months_of(&s, d, m);
            assert_int_equal(gw_tier_review(t, &st, m, GW_TIER_WINDOW_MAX, 0, d, &out), 0);
            if (out.review)
                assert_true(out.review > d);
            st.tier = out.tier;
            st.grace = out.grace;
            review = out.review;
        }
        tiers[i] = st.tier;
    }
}

static void test_tier__one_big_month__gold_for_window_then_grace_then_down(void **state)
{
    struct gw_loyalty t;
    static int64_t earn[SPAN];
    static unsigned daily[SPAN], lazy[SPAN];
    int32_t day0 = first_day();
    bool leap_crossed = false;

    (void)state;
    /* the big month is each of the first 24 months in turn (its 10th day): they leave the window
     * from the November of 2026 to the October of 2028, the February of a leap year among them */
    for (int month = 0; month < 24; month++) {
        int at = -1, leave = -1;
        int32_t d = day0, earn_ym = 0, leave_ym = 0;

        for (int i = 0; i < SPAN; i++, d = gw_days_add(d, 1)) {
            int32_t ym = d / 100;
            if (at < 0 && gw_days_month_add(day0 / 100, month) == ym && d % 100 == 10) {
                at = i;
                earn_ym = ym;
                leave_ym = gw_days_month_add(ym, 12);
            }
            /* it leaves the 12-month window on the first of the same month a year later */
            if (at >= 0 && leave < 0 && ym == leave_ym && d % 100 == 1)
                leave = i;
        }
        assert_true(at >= 0 && earn_ym != 0);
        assert_true(leave > at + 300);
        for (unsigned grace = 0; grace <= 45; grace += 15) {
            table(&t, GW_TIER_POINTS, 12, grace);
            memset(earn, 0, sizeof(earn));
            earn[at] = 6000;
            sweep(&t, earn, true, daily);
            sweep(&t, earn, false, lazy);
            assert_memory_equal(daily, lazy, sizeof(daily));
            assert_int_equal(daily[at - 1], 0);
            assert_int_equal(daily[at], 2); /* up at once */
            /* the grace starts the day it leaves; it falls grace days later, to standard */
            assert_int_equal(daily[leave - 1], 2);
            if (grace)
                assert_int_equal(daily[leave + (int)grace - 1], 2);
            assert_int_equal(daily[leave + (int)grace], 0);
            if (grace >= 30 && leave_ym % 100 == 2 && gw_days_valid(leave_ym * 100 + 29))
                leap_crossed = true;
        }
    }
    assert_true(leap_crossed); /* some grace ran across a 29 February */
}

static void test_tier__steady_earner__never_falls_across_years(void **state)
{
    struct gw_loyalty t;
    static int64_t earn[SPAN];
    static unsigned daily[SPAN], lazy[SPAN];
    int32_t d = first_day();

    (void)state;
    table(&t, GW_TIER_POINTS, 12, 30);
    memset(earn, 0, sizeof(earn));
    for (int i = 0; i < SPAN; i++, d = gw_days_add(d, 1))
        if (d % 100 == 15)
            earn[i] = 500; /* 6,000 a year: gold once a year's worth is in */
    sweep(&t, earn, true, daily);
    sweep(&t, earn, false, lazy);
    assert_memory_equal(daily, lazy, sizeof(daily));
    for (int i = 400; i < SPAN; i++)
        assert_int_equal(daily[i], 2);
}

static void test_tier__back_above_in_grace__keeps_tier_and_clears_grace(void **state)
{
    struct gw_loyalty t;
    struct gw_tier_state st = {.tier = 2, .grace = 0};
    struct gw_tier_decision out;
    int64_t m[GW_TIER_WINDOW_MAX] = {0};
    int32_t today = first_day();

    (void)state;
    table(&t, GW_TIER_POINTS, 12, 30);
    m[0] = 4000; /* below gold */
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, today, &out), 0);
    assert_int_equal(out.tier, 2);
    assert_int_equal(out.grace, today);
    assert_int_equal(out.review, gw_days_add(today, 30));
    st.grace = out.grace;
    m[0] = 5000; /* back */
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, gw_days_add(today, 29),
                                    &out), 0);
    assert_int_equal(out.tier, 2);
    assert_int_equal(out.grace, 0);
    assert_true(out.review > gw_days_add(today, 29));
    /* 29 days in grace: still gold; 30: falls to what the value reaches (silver) */
    m[0] = 1500;
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, gw_days_add(today, 29),
                                    &out), 0);
    assert_int_equal(out.tier, 2);
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, gw_days_add(today, 30),
                                    &out), 0);
    assert_int_equal(out.tier, 1);
    assert_int_equal(out.grace, 0);
}

static void test_tier__spend_and_lifetime_bases(void **state)
{
    struct gw_loyalty t;
    struct gw_tier_state st = {.tier = 2, .grace = 0};
    struct gw_tier_decision out;
    int64_t m[GW_TIER_WINDOW_MAX] = {0};
    int32_t today = first_day();

    (void)state;
    table(&t, GW_TIER_LIFETIME, 12, 30);
    assert_int_equal(gw_tier_review(&t, &st, NULL, 0, 10, today, &out), 0);
    assert_int_equal(out.tier, 2); /* lifetime: never down */
    assert_int_equal(out.review, 0);
    st.tier = 0;
    assert_int_equal(gw_tier_review(&t, &st, NULL, 0, 1000, today, &out), 0);
    assert_int_equal(out.tier, 1);
    table(&t, GW_TIER_SPEND, 3, 0);
    m[0] = 999999; /* 999.999 currency units: below silver's 1,000 */
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, today, &out), 0);
    assert_int_equal(out.tier, 0);
    m[2] = 1; /* the third month back still counts in a 3-month window... */
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, today, &out), 0);
    assert_int_equal(out.tier, 1);
    /* ...and leaves it first: the review is the first of next month */
    assert_int_equal(out.review, gw_days_month_add(today / 100, 1) * 100 + 1);
    m[2] = 0;
    m[3] = 5000000; /* the fourth does not */
    assert_int_equal(gw_tier_review(&t, &st, m, GW_TIER_WINDOW_MAX, 0, today, &out), 0);
    assert_int_equal(out.tier, 0);
}

static void test_tier__bad_arguments__einval(void **state)
{
    struct gw_loyalty t;
    struct gw_tier_state st = {.tier = 3, .grace = 0};
    struct gw_tier_decision out;
    int64_t m[GW_TIER_WINDOW_MAX] = {0};

    (void)state;
    table(&t, GW_TIER_POINTS, 12, 30);
    assert_int_equal(gw_tier_review(&t, &st, m, 12, 0, first_day(), &out), -EINVAL);
    st.tier = 0;
    assert_int_equal(gw_tier_review(&t, &st, m, 11, 0, first_day(), &out), -EINVAL);
    assert_int_equal(gw_tier_review(&t, &st, m, 12, 0, 1, &out), -EINVAL);
    assert_int_equal(gw_tier_basis_parse("points"), GW_TIER_POINTS);
    assert_int_equal(gw_tier_basis_parse("rolling"), -1);
    assert_string_equal(gw_tier_basis_name(GW_TIER_SPEND), "spend");
}

static void test_tier_sms__four_languages__up_and_down_name_the_tier(void **state)
{
    struct gw_tier_notice n = {.msisdn = "212612345678", .from = "silver", .to = "gold", .up = true};
    const char *langs[] = {"ar", "fr", "en", "fa"};
    char up[4][512], down[512], buf[512];

    (void)state;
    for (int i = 0; i < 4; i++) {
        snprintf(n.lang, sizeof(n.lang), "%s", langs[i]);
        n.up = true;
        assert_true(gw_tier_sms_text(&n, "en", up[i], sizeof(up[i])) > 0);
        assert_non_null(strstr(up[i], "gold"));
        n.up = false;
        assert_true(gw_tier_sms_text(&n, "en", down, sizeof(down)) > 0);
        assert_non_null(strstr(down, "gold"));
        assert_string_not_equal(up[i], down);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(up[i], up[k]);
    }
    assert_non_null(strstr(up[1], "félicitations"));
    n.up = true;
    snprintf(n.lang, sizeof(n.lang), "xx"); /* unknown: the fallback, then English */
    assert_true(gw_tier_sms_text(&n, "fr", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, up[1]);
    assert_true(gw_tier_sms_text(&n, "", buf, sizeof(buf)) > 0);
    assert_string_equal(buf, up[2]);
    assert_int_equal(gw_tier_sms_text(&n, "en", buf, 10), -ENOSPC);
    n.to[0] = '\0';
    assert_int_equal(gw_tier_sms_text(&n, "en", buf, sizeof(buf)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tier__one_big_month__gold_for_window_then_grace_then_down),
        cmocka_unit_test(test_tier__steady_earner__never_falls_across_years),
        cmocka_unit_test(test_tier__back_above_in_grace__keeps_tier_and_clears_grace),
        cmocka_unit_test(test_tier__spend_and_lifetime_bases),
        cmocka_unit_test(test_tier__bad_arguments__einval),
        cmocka_unit_test(test_tier_sms__four_languages__up_and_down_name_the_tier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

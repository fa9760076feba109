/*
 * test_gw_days.c - calendar arithmetic for expiry and tiers (core/gw_days.c): sweeps over every
 * day of 2026-2028 (a leap year, two year ends) against a naive reference that walks the calendar
 * one day / one month at a time, plus the points' validity: the cutoff is exactly the boundary
 * between expired and spendable lots, and a warning day is exactly "w days ahead".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_days.h"

/* The naive reference: the next calendar day by hand. */
static int ref_len(int y, int m)
{
    if (m == 2)
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28;
    return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31;
}

static int32_t ref_next(int32_t ymd)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    if (++d > ref_len(y, m)) {
        d = 1;
        if (++m > 12) {
            m = 1;
            y++;
        }
    }
    return y * 10000 + m * 100 + d;
}

/* ymd + n months (n >= 0) by stepping one month at a time, clamping at the end. */
static int32_t ref_add_months(int32_t ymd, int n)
{
    int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    for (int i = 0; i < n; i++) {
        if (++m > 12) {
            m = 1;
            y++;
        }
    }
    if (d > ref_len(y, m))
        d = ref_len(y, m);
    return y * 10000 + m * 100 + d;
}

#define FIRST 20260101
#define LAST 20281231

static void test_days__every_day_2026_2028__numbers_consecutive_and_round_trip(void **state)
{
    int32_t n0 = gw_days_number(FIRST), count = 0;

    (void)state;
    assert_int_equal(gw_days_number(19700101), 0);
    assert_int_equal(gw_days_number(20260101), 20454);
    for (int32_t d = FIRST; d <= LAST; d = ref_next(d), count++) {
        assert_true(gw_days_valid(d));
        assert_int_equal(gw_days_number(d), n0 + count);
        assert_int_equal(gw_days_from_number(n0 + count), d);
        assert_int_equal(gw_days_add(d, 1), ref_next(d));
        assert_int_equal(gw_days_add(ref_next(d), -1), d);
    }
    assert_int_equal(count, 365 + 365 + 366);
    assert_false(gw_days_valid(20270229));
    assert_true(gw_days_valid(20280229));
    assert_false(gw_days_valid(20261301));
    assert_false(gw_days_valid(20260431));
    assert_int_equal(gw_days_number(20270229), -1);
    assert_int_equal(gw_days_add(20270229, 1), 0);
}

static void test_days__add_months__clamps_like_stepping(void **state)
{
    (void)state;
    for (int32_t d = FIRST; d <= LAST; d = ref_next(d)) {
        for (int n = 0; n <= 25; n++) {
            int32_t got = gw_days_add_months(d, n);
            assert_int_equal(got, ref_add_months(d, n));
            /* going back lands on the same day unless clamping took days away */
            int32_t back = gw_days_add_months(got, -n);
            assert_true(back <= d);
        }
    }
    assert_int_equal(gw_days_add_months(20270131, 1), 20270228);
    assert_int_equal(gw_days_add_months(20280131, 1), 20280229);
    assert_int_equal(gw_days_add_months(20280229, 12), 20290228);
    assert_int_equal(gw_days_add_months(20261231, 1), 20270131);
    assert_int_equal(gw_days_add_months(20270315, -13), 20260215);
}

static void test_days__month_buckets__across_year_ends(void **state)
{
    (void)state;
    for (int32_t ym = 202601; ym <= 202812; ym = (ym % 100 == 12) ? ym + 89 : ym + 1) {
        int32_t walk = ym;
        for (int n = 1; n <= 36; n++) {
            walk = (walk % 100 == 12) ? walk + 89 : walk + 1;
            assert_int_equal(gw_days_month_add(ym, n), walk);
            assert_int_equal(gw_days_month_add(walk, -n), ym);
        }
    }
    assert_int_equal(gw_days_month_add(202612, 1), 202701);
    assert_int_equal(gw_days_month_add(202701, -1), 202612);
    assert_int_equal(gw_days_month_add(202713, 1), 0);
}

static const struct gw_validity VALIDITIES[] = {
    {1, 0}, {7, 0}, {30, 0}, {365, 0}, {366, 0}, {0, 1}, {0, 6}, {0, 12}, {0, 13}, {0, 24},
};

static void test_validity__cutoff__is_the_boundary_every_day(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(VALIDITIES) / sizeof(VALIDITIES[0]); i++) {
        const struct gw_validity *v = &VALIDITIES[i];
        for (int32_t t = FIRST; t <= LAST; t = ref_next(t)) {
            int32_t c = gw_validity_cutoff(v, t);
            assert_true(gw_days_valid(c));
            assert_true(gw_validity_last_day(v, c) < t);            /* c is expired on t */
            assert_true(gw_validity_last_day(v, ref_next(c)) >= t); /* c + 1 is not */
        }
    }
}

static void test_validity__last_day_and_warn_day__every_lot(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(VALIDITIES) / sizeof(VALIDITIES[0]); i++) {
        const struct gw_validity *v = &VALIDITIES[i];
        for (int32_t lot = FIRST; lot <= LAST; lot = ref_next(lot)) {
            int32_t l = gw_validity_last_day(v, lot);
            int32_t want =
                v->days ? gw_days_add(lot, (int32_t)v->days) : ref_add_months(lot, (int)v->months);
            assert_int_equal(l, want);
            for (uint32_t w = 1; w <= 30; w += 29) {
                int32_t wd = gw_validity_warn_day(v, lot, w);
                /* from wd on fewer than w days are left; the day before, w were */
                assert_int_equal(gw_days_number(l) - gw_days_number(wd), (int32_t)w - 1);
                /* and the cutoff of (wd + w) includes this lot: the job's "warn" test */
                assert_true(lot <= gw_validity_cutoff(v, gw_days_add(wd, (int32_t)w)));
                assert_true(lot > gw_validity_cutoff(v, gw_days_add(wd, (int32_t)w - 1)));
            }
        }
    }
}

static void test_validity__never__no_cutoff(void **state)
{
    const struct gw_validity never = {0, 0};

    (void)state;
    assert_true(gw_validity_never(&never));
    assert_int_equal(gw_validity_cutoff(&never, 20270101), 0);
    assert_int_equal(gw_validity_last_day(&never, 20270101), 0);
    assert_int_equal(gw_validity_warn_day(&never, 20270101, 30), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days__every_day_2026_2028__numbers_consecutive_and_round_trip),
        cmocka_unit_test(test_days__add_months__clamps_like_stepping),
        cmocka_unit_test(test_days__month_buckets__across_year_ends),
        cmocka_unit_test(test_validity__cutoff__is_the_boundary_every_day),
        cmocka_unit_test(test_validity__last_day_and_warn_day__every_lot),
        cmocka_unit_test(test_validity__never__no_cutoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_breaker.c - the redemption-rate breaker's baseline arithmetic (gateway/gw_breaker.c):
 * a steady rate becomes the baseline, a scripted price bug (an item at 1 point bought 20 times a
 * second) trips within seconds of its start, a quiet item's few redemptions never do, an idle
 * item's baseline decays to the floor, a trip is reported once until staff reset it. Time is the
 * test's own counter (the module takes now as an argument).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gw_breaker.h"

#define T0 INT64_C(1000000020) /* any instant: the module only counts seconds from it */

static struct gw_breaker_config cfg;

static int setup(void **state)
{
    (void)state;
    gw_breaker_config_defaults(&cfg);
    return 0;
}

/* n redemptions per window, spread over the window, for windows windows from t; returns the
 * time after them. Fails the test if the breaker trips. */
static int64_t steady(struct gw_breaker_rate *r, int64_t t, uint32_t n, int windows)
{
    for (int w = 0; w < windows; w++) {
        for (uint32_t i = 0; i < n; i++)
            assert_false(gw_breaker_observe(&cfg, r, t + (int64_t)i * cfg.window_s / n, 1));
        t += cfg.window_s;
    }
    return t;
}

static void test_breaker__steady_rate__becomes_the_baseline(void **state)
{
    struct gw_breaker_rate r = {0};

    (void)state;
    steady(&r, T0, 10, 600); /* ten hours of 10 a minute */
    assert_in_range(r.baseline_milli, 9500, 10000);
    assert_in_range(gw_breaker_threshold(&cfg, &r), 48, 51); /* x5 of ~10 */
    assert_false(r.tripped);
}

static void test_breaker__price_bug__trips_within_seconds(void **state)
{
    struct gw_breaker_rate r = {0};
    int64_t t = steady(&r, T0, 10, 600);
    int64_t tripped_at = 0;

    (void)state;
    /* the catalogue publishes the item at 1 point: 20 redemptions a second */
    for (int s = 0; s < 60 && !tripped_at; s++)
        if (gw_breaker_observe(&cfg, &r, t + s, 20))
            tripped_at = t + s;
    assert_true(tripped_at > 0);
    assert_true(tripped_at - t <= 3);
    assert_true(r.tripped);
    /* reported once */
    assert_false(gw_breaker_observe(&cfg, &r, tripped_at + 1, 20));
    gw_breaker_reset(&r);
    assert_false(r.tripped);
}

static void test_breaker__quiet_item__few_redemptions_never_trip(void **state)
{
    struct gw_breaker_rate r = {0};

    (void)state;
    /* a new item (baseline at the floor, 2 a window): 19 in one window is < min_count */
    assert_false(gw_breaker_observe(&cfg, &r, T0, 19));
    assert_int_equal(gw_breaker_threshold(&cfg, &r), 20);
    assert_true(gw_breaker_observe(&cfg, &r, T0 + 1, 1));
}

static void test_breaker__idle_item__baseline_decays_to_floor(void **state)
{
    struct gw_breaker_rate r = {0};
    int64_t t = steady(&r, T0, 15, 600); /* below min_count: learnt without a trip */

    (void)state;
    assert_true(gw_breaker_threshold(&cfg, &r) > 70);
    /* a day without redemptions: the old busy baseline must not hide a burst tomorrow */
    assert_false(gw_breaker_observe(&cfg, &r, t + 86400, 1));
    assert_int_equal(r.baseline_milli, cfg.floor_milli);
    assert_int_equal(gw_breaker_threshold(&cfg, &r), cfg.min_count);
}

static void test_breaker__one_window_half_life__weight_is_half(void **state)
{
    struct gw_breaker_rate r = {0};

    (void)state;
    cfg.half_life_s = cfg.window_s;
    cfg.min_count = 1000; /* never trips here */
    assert_false(gw_breaker_observe(&cfg, &r, T0, 10));
    assert_false(gw_breaker_observe(&cfg, &r, T0 + cfg.window_s, 0));
    /* floor 2 + (10 - 2) x 1/2 = 6 */
    assert_int_equal(r.baseline_milli, 6000);
}

static void test_breaker__config_check(void **state)
{
    struct gw_breaker_config c;

    (void)state;
    gw_breaker_config_defaults(&c);
    assert_int_equal(gw_breaker_config_check(&c), 0);
    c.multiple_pct = 100;
    assert_int_equal(gw_breaker_config_check(&c), -22);
    gw_breaker_config_defaults(&c);
    c.window_s = 0;
    assert_int_equal(gw_breaker_config_check(&c), -22);
    assert_int_equal(gw_breaker_config_check(NULL), -22);
}

static void test_breaker__seeded_gift_day_rush__no_trip_but_price_bug_trips(void **state)
{
    struct gw_breaker_rate r = {0};
    /* a gift day selling 2400 units over 1 h: 40 a minute expected */
    int64_t exp = gw_breaker_expected_milli(&cfg, 2400, 3600);

    (void)state;
    assert_int_equal(exp, 40000);
    gw_breaker_seed(&cfg, &r, exp);
    /* the rush at its expected rate for the whole hour: no trip (unseeded, it trips at once) */
    int64_t t = steady(&r, T0, 40, 60);
    /* the price bug on top: 20 a second trips within the window */
    int64_t tripped_at = 0;
    for (int s = 0; s < 60 && !tripped_at; s++)
        if (gw_breaker_observe(&cfg, &r, t + s, 20))
            tripped_at = t + s;
    assert_true(tripped_at > 0);
    assert_true(tripped_at - t <= 10);
    /* a seed never replaces a baseline learnt from observations, nor goes below the floor */
    int64_t learnt = r.baseline_milli;
    gw_breaker_seed(&cfg, &r, 1);
    assert_int_equal(r.baseline_milli, learnt);
    struct gw_breaker_rate fresh = {0};
    gw_breaker_seed(&cfg, &fresh, 1);
    assert_int_equal(fresh.baseline_milli, cfg.floor_milli);
    assert_int_equal(gw_breaker_expected_milli(&cfg, 0, 3600), 0);
    assert_int_equal(gw_breaker_expected_milli(&cfg, 10, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_breaker__steady_rate__becomes_the_baseline, setup),
        cmocka_unit_test_setup(test_breaker__price_bug__trips_within_seconds, setup),
        cmocka_unit_test_setup(test_breaker__quiet_item__few_redemptions_never_trip, setup),
        cmocka_unit_test_setup(test_breaker__idle_item__baseline_decays_to_floor, setup),
        cmocka_unit_test_setup(test_breaker__one_window_half_life__weight_is_half, setup),
        cmocka_unit_test_setup(test_breaker__config_check, setup),
        cmocka_unit_test_setup(test_breaker__seeded_gift_day_rush__no_trip_but_price_bug_trips,
                               setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

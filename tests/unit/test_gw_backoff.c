/*
 * test_gw_backoff.c - the shared reconnect back-off: every delay within [min, min*2^(n+1)]
 * capped at max, growing with failures, reset by a success, and jittered (not all equal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "gw_core.h"

static void test_backoff__delays__within_exponential_bounds(void **state)
{
    struct gw_backoff b;

    (void)state;
    gw_backoff_init(&b, 100, 5000, 42);
    for (uint32_t n = 0; n < 12; n++) {
        uint64_t cap = 100;
        for (uint32_t i = 0; i <= n && cap < 5000; i++)
            cap *= 2;
        if (cap > 5000)
            cap = 5000;
        uint32_t d = gw_backoff_next(&b);
        assert_true(d >= 100);
        assert_true(d <= cap);
    }
    assert_int_equal(b.failures, 12);
}

static void test_backoff__many_failures__never_above_max(void **state)
{
    struct gw_backoff b;

    (void)state;
    gw_backoff_init(&b, 50, 300, 7);
    for (int i = 0; i < 1000; i++) {
        uint32_t d = gw_backoff_next(&b);
        assert_true(d >= 50 && d <= 300);
    }
}

static void test_backoff__reset__starts_again_from_min(void **state)
{
    struct gw_backoff b;

    (void)state;
    gw_backoff_init(&b, 100, 60000, 9);
    for (int i = 0; i < 10; i++)
        gw_backoff_next(&b);
    gw_backoff_reset(&b);
    assert_int_equal(b.failures, 0);
    assert_true(gw_backoff_next(&b) <= 200); /* first try after a reset: [100, 200] */
}

static void test_backoff__jitter__delays_differ(void **state)
{
    struct gw_backoff b;
    uint32_t first, distinct = 0;

    (void)state;
    gw_backoff_init(&b, 1000, 60000, 0); /* seeded from clock, pid, address */
    for (int i = 0; i < 8; i++)
        gw_backoff_next(&b);
    first = gw_backoff_next(&b);
    for (int i = 0; i < 50; i++) {
        b.failures = 8;
        if (gw_backoff_next(&b) != first)
            distinct++;
    }
    assert_true(distinct > 40); /* a fleet does not reconnect in lock-step */
}

static void test_backoff__min_zero_or_max_below_min__sane(void **state)
{
    struct gw_backoff b;

    (void)state;
    gw_backoff_init(&b, 0, 0, 1);
    assert_int_equal(gw_backoff_next(&b), 1);
    gw_backoff_init(&b, 500, 100, 1);
    assert_int_equal(gw_backoff_next(&b), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff__delays__within_exponential_bounds),
        cmocka_unit_test(test_backoff__many_failures__never_above_max),
        cmocka_unit_test(test_backoff__reset__starts_again_from_min),
        cmocka_unit_test(test_backoff__jitter__delays_differ),
        cmocka_unit_test(test_backoff__min_zero_or_max_below_min__sane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_smpp_bucket.c - the TPS token bucket, driven by fake time (plain integers in ms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "smpp.h"

static void test_bucket__starts_full__burst_then_wait(void **state)
{
    struct smpp_bucket b;

    (void)state;
    smpp_bucket_init(&b, 10.0, 3.0, 1000);
    assert_int_equal(smpp_bucket_take(&b, 1000), 0);
    assert_int_equal(smpp_bucket_take(&b, 1000), 0);
    assert_int_equal(smpp_bucket_take(&b, 1000), 0);
    /* 10 TPS: the next token is 100 ms away */
    assert_int_equal(smpp_bucket_take(&b, 1000), 100);
    assert_int_equal(smpp_bucket_take(&b, 1040), 60);
}

static void test_bucket__wait_announced__token_there_on_time(void **state)
{
    struct smpp_bucket b;
    int64_t now = 0, wait;
    int sent = 0;

    (void)state;
    /* a rate that does not divide 1000 evenly: rounding must never make us wait twice */
    smpp_bucket_init(&b, 3.0, 1.0, now);
    assert_int_equal(smpp_bucket_take(&b, now), 0);
    for (int i = 0; i < 300; i++) {
        wait = smpp_bucket_take(&b, now);
        assert_true(wait > 0);
        now += wait;
        assert_int_equal(smpp_bucket_take(&b, now), 0);
        sent++;
    }
    /* 300 tokens at 3/s take about 100 s, never less */
    assert_true(now >= 99900 && now <= 100400);
    assert_int_equal(sent, 300);
}

static void test_bucket__steady_rate__matches_tps(void **state)
{
    struct smpp_bucket b;
    int sent = 0;

    (void)state;
    smpp_bucket_init(&b, 50.0, 1.0, 0);
    /* poll every millisecond for 10 s: 1 (initial) + 50 * 10 */
    for (int64_t t = 0; t < 10000; t++)
        if (smpp_bucket_take(&b, t) == 0)
            sent++;
    assert_true(sent >= 500 && sent <= 501);
}

static void test_bucket__long_idle__capped_at_burst(void **state)
{
    struct smpp_bucket b;
    int got = 0;

    (void)state;
    smpp_bucket_init(&b, 100.0, 5.0, 0);
    while (smpp_bucket_take(&b, 0) == 0)
        got++;
    assert_int_equal(got, 5);
    got = 0;
    while (smpp_bucket_take(&b, 3600000) == 0) /* an hour later: still only a burst */
        got++;
    assert_int_equal(got, 5);
}

static void test_bucket__rate_0__unlimited(void **state)
{
    struct smpp_bucket b;

    (void)state;
    smpp_bucket_init(&b, 0.0, 0.0, 0);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(smpp_bucket_take(&b, 0), 0);
    smpp_bucket_init(&b, -5.0, 1.0, 0);
    assert_int_equal(smpp_bucket_take(&b, 0), 0);
    assert_int_equal(smpp_bucket_take(&b, 0), 0);
}

static void test_bucket__burst_below_1__raised_to_1(void **state)
{
    struct smpp_bucket b;

    (void)state;
    smpp_bucket_init(&b, 2.0, 0.0, 0);
    assert_int_equal(smpp_bucket_take(&b, 0), 0);
    assert_int_equal(smpp_bucket_take(&b, 0), 500);
    assert_int_equal(smpp_bucket_take(&b, 500), 0);
}

static void test_bucket__clock_steps_back__no_refill_no_crash(void **state)
{
    struct smpp_bucket b;

    (void)state;
    smpp_bucket_init(&b, 1.0, 1.0, 10000);
    assert_int_equal(smpp_bucket_take(&b, 10000), 0);
    assert_int_equal(smpp_bucket_take(&b, 5000), 1000); /* nothing refilled by going back */
    assert_int_equal(smpp_bucket_take(&b, 5999), 1);
    assert_int_equal(smpp_bucket_take(&b, 6000), 0);
}

static void test_bucket__tiny_rate__wait_capped(void **state)
{
    struct smpp_bucket b;
    int64_t wait;

    (void)state;
    smpp_bucket_init(&b, 1e-300, 1.0, 0);
    assert_int_equal(smpp_bucket_take(&b, 0), 0);
    wait = smpp_bucket_take(&b, 0);
    assert_true(wait > 0 && wait <= 86400000);
}

/* The pace meter counts a sliding window, not calendar seconds. */
static void test_pace__sliding_window__peak_counts_any_1000ms(void **state)
{
    static struct smpp_pace p; /* 8 KiB: not on the stack */

    (void)state;
    for (int i = 0; i < 3; i++)
        smpp_pace_note(&p, 900 + i); /* 900, 901, 902 */
    for (int i = 0; i < 3; i++)
        smpp_pace_note(&p, 1100 + i); /* a calendar second boundary in between */
    assert_int_equal(p.peak, 6);
    smpp_pace_note(&p, 1901); /* 900 and 901 have left (t <= now - 1000), 902.. stay */
    assert_int_equal(p.n, 5);
    smpp_pace_note(&p, 5000); /* everything left */
    assert_int_equal(p.n, 1);
    assert_int_equal(p.peak, 6);
    smpp_pace_note(&p, 4000); /* a clock step back counts as the last time */
    assert_int_equal(p.n, 2);
}

static void test_pace__ring_full__saturates_at_slots(void **state)
{
    static struct smpp_pace p;

    (void)state;
    for (int i = 0; i < SMPP_PACE_SLOTS + 10; i++)
        smpp_pace_note(&p, 7);
    assert_int_equal(p.peak, SMPP_PACE_SLOTS);
}

/* The property the broadcast relies on: whatever the scheduling delays of the pump that takes
 * tokens (a busy machine wakes it late, in bursts), the sends never exceed tps + burst in any
 * one-second window by the link's own clock. Pseudo-random lateness up to 300 ms, 20,000 sends. */
static void test_pace__late_pump__never_above_tps_plus_burst(void **state)
{
    static struct smpp_pace p;
    struct smpp_bucket b;
    uint32_t x = 12345;
    int64_t now = 0;
    int sent = 0;

    (void)state;
    smpp_bucket_init(&b, 100.0, 5.0, now);
    while (sent < 20000) {
        int64_t wait = smpp_bucket_take(&b, now);
        if (wait == 0) {
            smpp_pace_note(&p, now);
            sent++;
            continue;
        }
        x = x * 1103515245u + 12345u;
        /* Woken on time most of the time, sometimes up to 300 ms late. */
        now += wait + ((x >> 16) % 10 == 0 ? (int64_t)((x >> 8) % 300) : 0);
    }
    assert_true(p.peak <= 105);
    assert_true(p.peak > 5); /* sends went on beyond the first burst */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket__starts_full__burst_then_wait),
        cmocka_unit_test(test_bucket__wait_announced__token_there_on_time),
        cmocka_unit_test(test_bucket__steady_rate__matches_tps),
        cmocka_unit_test(test_bucket__long_idle__capped_at_burst),
        cmocka_unit_test(test_bucket__rate_0__unlimited),
        cmocka_unit_test(test_bucket__burst_below_1__raised_to_1),
        cmocka_unit_test(test_bucket__clock_steps_back__no_refill_no_crash),
        cmocka_unit_test(test_bucket__tiny_rate__wait_capped),
        cmocka_unit_test(test_pace__sliding_window__peak_counts_any_1000ms),
        cmocka_unit_test(test_pace__ring_full__saturates_at_slots),
        cmocka_unit_test(test_pace__late_pump__never_above_tps_plus_burst),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

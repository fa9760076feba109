/*
 * test_loyalty.c - what an event earns (gateway/gw_loyalty.c): rates, the single final floor,
 * seasons by event time at their edges, the best promotion without stacking, channel promotions,
 * overflow, and the rule text written to the subscriber's history.
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

#include "gw_loyalty.h"
#include "gw_zone.h"

/* The events' time: the real clock's now, read once in main (the cases only need windows around
 * it; what a date does to the rules is swept over 2026..2028 by test_date_sweeps.c). */
static int64_t T0;

static struct gw_loyalty tab;
static struct gw_event ev;
static struct gw_earn earn;

static int setup(void **state)
{
    (void)state;
    gw_loyalty_default(&tab);
    memset(&ev, 0, sizeof(ev));
    ev.kind = GW_EV_TOPUP;
    snprintf(ev.ref, sizeof(ev.ref), "R1");
    snprintf(ev.msisdn, sizeof(ev.msisdn), "212612345678");
    snprintf(ev.currency, sizeof(ev.currency), "MAD");
    ev.amount_milli = 50000; /* 50 MAD */
    ev.at = T0;
    return 0;
}

static struct gw_window *add_window(struct gw_window *arr, unsigned *n, const char *name,
                                    int64_t from, int64_t to, int32_t pct, uint32_t kinds,
                                    const char *channel)
{
    struct gw_window *w = &arr[(*n)++];

    memset(w, 0, sizeof(*w));
    snprintf(w->name, sizeof(w->name), "%s", name);
    w->from = from;
    w->to = to;
    w->pct = pct;
    w->kinds = kinds;
    snprintf(w->channel, sizeof(w->channel), "%s", channel ? channel : "");
    return w;
}

#define SEASON(name, from, to, pct, kinds)                                                         \
    add_window(tab.seasons, &tab.n_seasons, name, from, to, pct, kinds, NULL)
#define PROMO(name, from, to, pct, kinds, channel)                                                 \
    add_window(tab.promos, &tab.n_promos, name, from, to, pct, kinds, channel)
#define KIND(k) (UINT32_C(1) << (k))

static int64_t earned(void)
{
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), 0);
    return earn.milli;
}

static void test_loyalty__default_rates__per_kind(void **state)
{
    (void)state;
    assert_int_equal(earned(), 5000); /* 50 MAD at 1 per 10 = 5 points */
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD");
    assert_int_equal(earn.season_pct, 100);
    assert_int_equal(earn.promo_pct, 100);
    ev.kind = GW_EV_BILL;
    assert_int_equal(earned(), 2500); /* 1 per 20 */
    assert_string_equal(earn.rule, "BILL 1pt/20MAD");
    ev.kind = GW_EV_USAGE;
    assert_int_equal(earned(), 1000); /* 1 per 50 */
}

static void test_loyalty__fractions_kept_in_milli_points(void **state)
{
    (void)state;
    ev.amount_milli = 12345; /* 12.345 MAD -> 1.2345 points -> 1234 milli (floored) */
    assert_int_equal(earned(), 1234);
    ev.amount_milli = 9; /* 0.009 MAD -> 0.0009 points -> 0 */
    assert_int_equal(earned(), 0);
}

static void test_loyalty__floor_once_at_the_end(void **state)
{
    (void)state;
    /* 0.007 MAD at 1/10 = 0.7 milli; x150% = 1.05 -> 1. Flooring before the multiplier would
     * give 0 x 1.5 = 0. */
    ev.amount_milli = 7;
    SEASON("high", T0 - 10, T0 + 10, 150, 0);
    assert_int_equal(earned(), 1);
    /* 0.013 at 1/10 = 1.3; x150% = 1.95; x110% promo = 2.145 -> 2 (stepwise: 1 -> 1 -> 1) */
    ev.amount_milli = 13;
    PROMO("p", T0 - 10, T0 + 10, 110, 0, NULL);
    assert_int_equal(earned(), 2);
}

static void test_loyalty__points_and_per_other_than_one(void **state)
{
    (void)state;
    tab.rate[GW_EV_TOPUP] = (struct gw_rate){.points = 3, .per = 7};
    ev.amount_milli = 100000; /* 100 MAD * 3 / 7 = 42.857 points */
    assert_int_equal(earned(), 42857);
    assert_string_equal(earn.rule, "TOPUP 3pt/7MAD");
}

static void test_loyalty__kind_without_points__earns_zero(void **state)
{
    (void)state;
    tab.rate[GW_EV_USAGE].points = 0;
    ev.kind = GW_EV_USAGE;
    assert_int_equal(earned(), 0);
    assert_string_equal(earn.rule, "USAGE 0pt/50MAD");
}

static void test_loyalty__reversal__earns_nothing_here(void **state)
{
    (void)state;
    ev.kind = GW_EV_REVERSAL;
    ev.amount_milli = 0;
    SEASON("high", T0 - 10, T0 + 10, 150, 0);
    assert_int_equal(earned(), 0);
    assert_string_equal(earn.rule, "reversal");
    assert_int_equal(earn.season_pct, 100);
}

static void test_loyalty__season_edges__from_inclusive_to_exclusive(void **state)
{
    const int64_t from = T0, to = T0 + 86400;

    (void)state;
    SEASON("high", from, to, 150, 0);
    ev.at = from - 1;
    assert_int_equal(earned(), 5000);
    ev.at = from;
    assert_int_equal(earned(), 7500);
    assert_int_equal(earn.season_pct, 150);
    ev.at = to - 1;
    assert_int_equal(earned(), 7500);
    ev.at = to;
    assert_int_equal(earned(), 5000);
    assert_int_equal(earn.season_pct, 100);
}

static void test_loyalty__season_by_event_time_not_arrival(void **state)
{
    (void)state;
    /* an event that happened inside the season earns the season rate whenever it arrives: the
     * function has no notion of "now" at all */
    SEASON("summer", T0 - 3600, T0 + 1, 150, 0);
    ev.at = T0;
    assert_int_equal(earned(), 7500);
}

static void test_loyalty__season_for_other_kinds__ignored(void **state)
{
    (void)state;
    SEASON("data", T0 - 10, T0 + 10, 200, KIND(GW_EV_USAGE));
    assert_int_equal(earned(), 5000);
    ev.kind = GW_EV_USAGE;
    assert_int_equal(earned(), 2000);
}

static void test_loyalty__first_matching_season__wins(void **state)
{
    (void)state;
    SEASON("bill-only", T0 - 10, T0 + 10, 300, KIND(GW_EV_BILL));
    SEASON("first", T0 - 10, T0 + 10, 120, 0);
    SEASON("second", T0 - 10, T0 + 10, 200, 0);
    assert_int_equal(earned(), 6000);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; season first x120%");
}

static void test_loyalty__best_promo__not_stacked(void **state)
{
    (void)state;
    PROMO("small", T0 - 10, T0 + 10, 150, 0, NULL);
    PROMO("weekend", T0 - 10, T0 + 10, 200, 0, NULL);
    PROMO("medium", T0 - 10, T0 + 10, 180, 0, NULL);
    PROMO("expired", T0 - 20, T0 - 10, 500, 0, NULL);
    assert_int_equal(earned(), 10000); /* x2, not x1.5 x2 x1.8 */
    assert_int_equal(earn.promo_pct, 200);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; promo weekend x200%");
}

static void test_loyalty__season_and_promo__multiply(void **state)
{
    (void)state;
    SEASON("high", T0 - 10, T0 + 10, 150, 0);
    PROMO("weekend", T0 - 10, T0 + 10, 200, 0, NULL);
    assert_int_equal(earned(), 15000);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; season high x150%; promo weekend x200%");
}

static void test_loyalty__channel_promo__only_that_channel(void **state)
{
    (void)state;
    PROMO("voucher-boost", T0 - 10, T0 + 10, 120, 0, "voucher");
    snprintf(ev.channel, sizeof(ev.channel), "voucher");
    assert_int_equal(earned(), 6000);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; promo voucher-boost x120%");
    snprintf(ev.channel, sizeof(ev.channel), "card");
    assert_int_equal(earned(), 5000);
    ev.channel[0] = '\0';
    assert_int_equal(earned(), 5000);
    ev.kind = GW_EV_BILL; /* no channel on a bill */
    assert_int_equal(earned(), 2500);
}

static void test_loyalty__channel_promo_beaten_by_general_one(void **state)
{
    (void)state;
    PROMO("voucher-boost", T0 - 10, T0 + 10, 120, 0, "voucher");
    PROMO("weekend", T0 - 10, T0 + 10, 200, 0, NULL);
    snprintf(ev.channel, sizeof(ev.channel), "voucher");
    assert_int_equal(earned(), 10000);
    assert_string_equal(earn.rule, "TOPUP 1pt/10MAD; promo weekend x200%");
}

static void test_loyalty__overflow__erange(void **state)
{
    (void)state;
    ev.amount_milli = INT64_MAX;
    tab.rate[GW_EV_TOPUP] = (struct gw_rate){.points = INT64_MAX, .per = 1};
    SEASON("s", T0 - 10, T0 + 10, 10000, 0);
    PROMO("p", T0 - 10, T0 + 10, 10000, 0, NULL);
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), -ERANGE);
}

static void test_loyalty__above_earn_max__erange(void **state)
{
    (void)state;
    /* exactly GW_EARN_MILLI_MAX is accepted; one more is refused (the ledger multiplies it by the
     * tier percent in Lua doubles) */
    tab.rate[GW_EV_TOPUP] = (struct gw_rate){.points = 1, .per = 1};
    ev.amount_milli = GW_EARN_MILLI_MAX;
    assert_int_equal(earned(), GW_EARN_MILLI_MAX);
    ev.amount_milli++;
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), -ERANGE);
    /* a big event that fits alone but not with a x100 multiplier */
    ev.amount_milli = GW_EARN_MILLI_MAX / 10;
    SEASON("s", T0 - 10, T0 + 10, 10000, 0);
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), -ERANGE);
}

static void test_loyalty__invalid_rate__einval(void **state)
{
    (void)state;
    tab.rate[GW_EV_TOPUP].per = 0;
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), -EINVAL);
}

static void test_loyalty__long_names__rule_truncated_safely(void **state)
{
    char name[GW_NAME_MAX];

    (void)state;
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    SEASON(name, T0 - 10, T0 + 10, 10000, 0);
    PROMO(name, T0 - 10, T0 + 10, 10000, 0, NULL);
    tab.rate[GW_EV_TOPUP] = (struct gw_rate){.points = 1000000, .per = 1000000000};
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), 0);
    assert_true(strlen(earn.rule) < sizeof(earn.rule));
    assert_non_null(strstr(earn.rule, "; promo nnnn"));
}

static void test_loyalty__local_day__in_programme_zone(void **state)
{
    (void)state;
    assert_int_equal(gw_zone_load("Africa/Casablanca"), 0);
    /* 2026-07-01T23:30Z is 00:30 on 2 July in Casablanca (+01) */
    assert_int_equal(gw_local_day(INT64_C(1782948600)), 20260702);
    /* in Ramadan 2027 Morocco runs at +00: 2027-02-20T23:30Z is still the 20th */
    assert_int_equal(gw_local_day(INT64_C(1803166200)), 20270220);
    assert_int_equal(gw_zone_load("UTC"), 0);
    assert_int_equal(gw_local_day(INT64_C(1782948600)), 20260701);
}

static void test_loyalty__defaults(void **state)
{
    (void)state;
    assert_int_equal(tab.n_tiers, 1);
    assert_string_equal(tab.tiers[0].name, "standard");
    assert_int_equal(tab.tiers[0].min_points, 0);
    assert_int_equal(tab.tiers[0].pct, 100);
    assert_int_equal(tab.n_seasons, 0);
    assert_int_equal(tab.n_promos, 0);
    assert_int_equal(tab.daily_cap, 0);
    assert_string_equal(tab.timezone, "UTC");
}

/* ---------------------------------------------------------------- the exact remainder */

/* Credits one event through gw_loyalty_earn + gw_frac_credit (the ledger's arithmetic) into the
 * carried fraction *rn / *rd at tier percent pct; returns the points. */
static int64_t credit(int64_t amount_milli, int32_t pct, int64_t *rn, int64_t *rd)
{
    int64_t pts = -1;
    ev.amount_milli = amount_milli;
    assert_int_equal(gw_loyalty_earn(&tab, &ev, &earn), 0);
    assert_true(earn.frac_num >= 0 && earn.frac_num < earn.frac_den);
    assert_true(earn.frac_den <= GW_FRAC_DEN_MAX);
    assert_int_equal(gw_frac_credit(earn.whole, earn.frac_num, earn.frac_den, pct, rn, rd, &pts),
                     0);
    assert_true(*rn >= 0 && *rn < *rd && *rd <= GW_REM_DEN_MAX);
    return pts;
}

/* The issue's reproductions: BILL 10.01 + 9.99 at 1/20, USAGE 25.01 + 24.99 at 1/50, TOPUP
 * 3 x 3.335 at 1/10 each make exactly one point. */
static void test_frac__issue_cases__one_point_each(void **state)
{
    (void)state;
    int64_t rn = 0, rd = 1;
    ev.kind = GW_EV_BILL;
    assert_int_equal(credit(10010, 100, &rn, &rd) + credit(9990, 100, &rn, &rd), 1);
    assert_int_equal(rn, 0);
    ev.kind = GW_EV_USAGE;
    rn = 0, rd = 1;
    assert_int_equal(credit(25010, 100, &rn, &rd) + credit(24990, 100, &rn, &rd), 1);
    ev.kind = GW_EV_TOPUP;
    rn = 0, rd = 1;
    int64_t p = credit(3335, 100, &rn, &rd) + credit(3335, 100, &rn, &rd);
    assert_int_equal(p + credit(3335, 100, &rn, &rd), 1);
    assert_int_equal(rn * 10000, rd * 5); /* 0.0005 point left */
}

/* Property: for random amounts under a constant rule (rate, season, promotion, tier), the points
 * of all events add up to exactly floor(total x rate x multipliers). */
static void test_frac__random_amounts__sum_is_floor_of_total(void **state)
{
    (void)state;
    static const int32_t pcts[] = {100, 150, 125, 333, 7, 10000};
    static const int64_t pers[] = {10, 20, 50, 3, 7, 1000};
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int round = 0; round < 300; round++) {
        gw_loyalty_default(&tab);
        tab.n_seasons = tab.n_promos = 0;
        int64_t per = pers[rand() % 6], points = 1 + rand() % 3;
        int32_t season = pcts[rand() % 6], promo = pcts[rand() % 6], tier = pcts[rand() % 5];
        ev.kind = (enum gw_event_kind)(rand() % 3); /* TOPUP, BILL or USAGE */
        tab.rate[ev.kind] = (struct gw_rate){.points = points, .per = per};
        SEASON("s", T0 - 10, T0 + 10, season, 0);
        PROMO("p", T0 - 10, T0 + 10, promo, 0, NULL);
        int64_t rn = 0, rd = 1, got = 0;
        unsigned __int128 total = 0;
        int n = 1 + rand() % 40;
        for (int i = 0; i < n; i++) {
            int64_t amount = 1 + (int64_t)(rand() % 100000) * (1 + rand() % 50);
            got += credit(amount, tier, &rn, &rd);
            total += (unsigned __int128)amount;
        }
        /* amount in thousandths x points/per x season% x promo% x tier% */
        unsigned __int128 num = total * (unsigned)points * (unsigned)season * (unsigned)promo *
                                (unsigned)tier;
        unsigned __int128 den = (unsigned __int128)per * 1000u * 100u * 100u * 100u;
        if ((unsigned __int128)got != num / den)
            fail_msg("seed %u round %d: %lld points, expected %llu", seed, round, (long long)got,
                     (unsigned long long)(num / den));
        /* and the carried fraction is exactly what is left */
        unsigned __int128 left = num % den;
        assert_true((unsigned __int128)rn * den == left * (unsigned __int128)rd);
    }
}

/* Bad arguments are refused; a carried fraction with no common denominator in bounds is dropped. */
static void test_frac__bounds(void **state)
{
    (void)state;
    int64_t rn = 0, rd = 1, p;
    assert_int_equal(gw_frac_credit(-1, 0, 1, 100, &rn, &rd, &p), -EINVAL);
    assert_int_equal(gw_frac_credit(0, 1, 1, 100, &rn, &rd, &p), -EINVAL);
    assert_int_equal(gw_frac_credit(0, 0, GW_FRAC_DEN_MAX + 1, 100, &rn, &rd, &p), -EINVAL);
    assert_int_equal(gw_frac_credit(0, 0, 1, 10001, &rn, &rd, &p), -EINVAL);
    rn = 5, rd = 5;
    assert_int_equal(gw_frac_credit(0, 0, 1, 100, &rn, &rd, &p), -EINVAL);
    rn = 1, rd = 9999999967; /* a prime: lcm with 100 x 99999999977 is far beyond 10^13 */
    assert_int_equal(gw_frac_credit(1, 1, 99999999977, 100, &rn, &rd, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(rd, INT64_C(99999999977)); /* dropped: only the new 1/fden is carried */
    assert_int_equal(rn, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup(name, setup)
        T(test_loyalty__default_rates__per_kind),
        T(test_loyalty__fractions_kept_in_milli_points),
        T(test_loyalty__floor_once_at_the_end),
        T(test_loyalty__points_and_per_other_than_one),
        T(test_loyalty__kind_without_points__earns_zero),
        T(test_loyalty__reversal__earns_nothing_here),
        T(test_loyalty__season_edges__from_inclusive_to_exclusive),
        T(test_loyalty__season_by_event_time_not_arrival),
        T(test_loyalty__season_for_other_kinds__ignored),
        T(test_loyalty__first_matching_season__wins),
        T(test_loyalty__best_promo__not_stacked),
        T(test_loyalty__season_and_promo__multiply),
        T(test_loyalty__channel_promo__only_that_channel),
        T(test_loyalty__channel_promo_beaten_by_general_one),
        T(test_loyalty__overflow__erange),
        T(test_loyalty__above_earn_max__erange),
        T(test_loyalty__invalid_rate__einval),
        T(test_loyalty__long_names__rule_truncated_safely),
        T(test_loyalty__local_day__in_programme_zone),
        T(test_loyalty__defaults),
        T(test_frac__issue_cases__one_point_each),
        T(test_frac__random_amounts__sum_is_floor_of_total),
        T(test_frac__bounds),
#undef T
    };

    T0 = (int64_t)time(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

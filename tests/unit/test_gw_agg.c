/*
 * test_gw_agg.c - the aggregates' arithmetic (gateway/gw_agg.h): the histogram bucket rule (the
 * same as the scripts' ag_bucket), parsing and comparing the totals, the top-20 % share from the
 * histogram against the exact share of sorted balances, money.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gw_agg.h"

static void test_agg_bucket__powers_of_two__bound_the_buckets(void **state)
{
    char name[4];
    (void)state;
    assert_int_equal(gw_agg_bucket(-5), 0);
    assert_int_equal(gw_agg_bucket(0), 1);
    assert_int_equal(gw_agg_bucket(1), 2);  /* [1, 2) is "1" */
    assert_int_equal(gw_agg_bucket(2), 3);  /* [2, 4) is "2" */
    assert_int_equal(gw_agg_bucket(3), 3);
    assert_int_equal(gw_agg_bucket(4), 4);
    assert_int_equal(gw_agg_bucket(1023), 11);
    assert_int_equal(gw_agg_bucket(1024), 12);
    assert_int_equal(gw_agg_bucket(1000000000000LL), 41); /* 10^12 < 2^40: "40" */
    for (int64_t b = 1; b < 100000; b += 7) {
        unsigned k = gw_agg_bucket(b) - 1;
        assert_true(b >= (1LL << (k - 1)) && b < (1LL << k));
    }
    gw_agg_bucket_name(0, name);
    assert_string_equal(name, "-");
    gw_agg_bucket_name(12, name);
    assert_string_equal(name, "11");
}

static void test_agg_tot__fields_and_wallets__agree_and_diff_names_the_field(void **state)
{
    static struct gw_agg_tot stored, recomputed;
    (void)state;
    memset(&stored, 0, sizeof(stored));
    memset(&recomputed, 0, sizeof(recomputed));
    gw_agg_tot_add_wallet(&recomputed, 100, "silver");
    gw_agg_tot_add_wallet(&recomputed, -3, "basic");
    gw_agg_tot_add_wallet(&recomputed, 0, "basic");
    assert_int_equal(gw_agg_tot_add_field(&stored, "liab", "97"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "neg", "-3"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "h:7", "1"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "hs:7", "100"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "h:-", "1"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "hs:-", "-3"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "h:0", "1"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "hs:0", "0"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "t:basic", "2"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "t:silver", "1"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "t:gold", "0"), 0);
    assert_int_equal(gw_agg_tot_add_field(&stored, "bogus", "1"), -EINVAL);
    assert_int_equal(gw_agg_tot_add_field(&stored, "h:99", "1"), -EINVAL);
    assert_int_equal(gw_agg_tot_diff(&recomputed, &stored, "all", NULL), 0);
    assert_int_equal(gw_agg_tot_wallets(&stored), 3);

    gw_agg_tot_add_field(&stored, "t:gold", "1");
    gw_agg_tot_add_field(&stored, "liab", "1");
    assert_int_equal(gw_agg_tot_diff(&recomputed, &stored, "all", NULL), 2);
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The exact share of the top 20 % of sorted balances (the console's former topShare). */
static int64_t exact_ppm(int64_t *bal, size_t n)
{
    int64_t total = 0, top = 0;
    size_t k = (n * 20 + 99) / 100;
    qsort(bal, n, sizeof(bal[0]), cmp_desc);
    for (size_t i = 0; i < n; i++) {
        if (bal[i] > 0)
            total += bal[i];
        if (i < k && bal[i] > 0)
            top += bal[i];
    }
    return total ? (int64_t)((long double)top * 1e6L / total + 0.5L) : 0;
}

static void test_agg_top_share__whole_buckets__is_exact(void **state)
{
    static struct gw_agg_tot t;
    int64_t bal[10] = {1000, 1000, 3, 3, 3, 3, 3, 3, 0, -5};
    (void)state;
    memset(&t, 0, sizeof(t));
    for (int i = 0; i < 10; i++)
        gw_agg_tot_add_wallet(&t, bal[i], NULL);
    /* 2 wallets of 10 are the top 20 %: 2000 of 2018 */
    assert_int_equal(gw_agg_top_share_ppm(&t, 20), exact_ppm(bal, 10));
    assert_int_equal(gw_agg_top_share_ppm(&t, 20), 991080);
}

static void test_agg_top_share__random_balances__within_the_boundary_bucket(void **state)
{
    static struct gw_agg_tot t;
    static int64_t bal[5000];
    (void)state;
    srand(7);
    for (int run = 0; run < 20; run++) {
        memset(&t, 0, sizeof(t));
        size_t n = 100 + (size_t)(rand() % 4900);
        for (size_t i = 0; i < n; i++) {
            bal[i] = (rand() % 10 == 0) ? -(rand() % 50) : (int64_t)(rand() % 1000) * (rand() % 50);
            gw_agg_tot_add_wallet(&t, bal[i], NULL);
        }
        int64_t got = gw_agg_top_share_ppm(&t, 20), want = exact_ppm(bal, n);
        /* pro rata inside one power-of-2 bucket: off by at most half that bucket's share */
        assert_true(got >= want / 2 && got <= 1000000);
        assert_true(llabs(got - want) <= 250000);
    }
    memset(&t, 0, sizeof(t));
    assert_int_equal(gw_agg_top_share_ppm(&t, 20), 0); /* no wallet */
    gw_agg_tot_add_wallet(&t, 0, NULL);
    assert_int_equal(gw_agg_top_share_ppm(&t, 20), 0); /* nothing held */
}

static void test_agg_flows__sums_by_name_and_prefix(void **state)
{
    static struct gw_agg_flows f;
    (void)state;
    memset(&f, 0, sizeof(f));
    assert_int_equal(gw_agg_flows_add(&f, "iss:TOPUP:card", "10"), 0);
    assert_int_equal(gw_agg_flows_add(&f, "iss:BILL:-", "5"), 0);
    assert_int_equal(gw_agg_flows_add(&f, "iss:TOPUP:card", "1"), 0);
    assert_int_equal(gw_agg_flows_add(&f, "red", "x"), -EINVAL);
    assert_int_equal(gw_agg_flows_get(&f, "iss:TOPUP:card"), 11);
    assert_int_equal(gw_agg_flows_prefix_sum(&f, "iss:"), 16);
    assert_int_equal(gw_agg_flows_get(&f, "red"), 0);
}

static void test_agg_money__exact_micro_units(void **state)
{
    char s[40];
    (void)state;
    assert_int_equal(gw_agg_money(12345, 10000, s, sizeof(s)), 0); /* 0.01 a point */
    assert_string_equal(s, "123.450000");
    assert_int_equal(gw_agg_money(-7, 333333, s, sizeof(s)), 0);
    assert_string_equal(s, "-2.333331");
    assert_int_equal(gw_agg_money(INT64_C(1000000000000000), 4000000000u, s, sizeof(s)), 0);
    assert_string_equal(s, "4000000000000000000.000000");
    assert_int_equal(gw_agg_money(1, 1, s, 4), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agg_bucket__powers_of_two__bound_the_buckets),
        cmocka_unit_test(test_agg_tot__fields_and_wallets__agree_and_diff_names_the_field),
        cmocka_unit_test(test_agg_top_share__whole_buckets__is_exact),
        cmocka_unit_test(test_agg_top_share__random_balances__within_the_boundary_bucket),
        cmocka_unit_test(test_agg_flows__sums_by_name_and_prefix),
        cmocka_unit_test(test_agg_money__exact_micro_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_months.c - the wallet's packed activity months M (gateway/gw_months.c): the bytes
 * core/lua/wallet_months.lua writes, round trips, the window the tiers sum, the fields of the
 * releases before, and unreadable input (truncated, a varint too long or too large, months not
 * ascending). Fixed months: the format does not depend on today.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "gw_months.h"

static void test_months__index__both_ways(void **state)
{
    (void)state;
    assert_int_equal(0, gw_month_index(197001));
    assert_int_equal(682, gw_month_index(202611)); /* the example of the docs */
    assert_int_equal(202611, gw_month_ym(682));
    assert_int_equal(202612, gw_month_ym(683));
    assert_int_equal(202701, gw_month_ym(684));
    assert_int_equal(-1, gw_month_index(196912));
    assert_int_equal(-1, gw_month_index(202613));
    assert_int_equal(-1, gw_month_index(202600));
    for (int32_t i = 0; i <= UINT16_MAX; i += 97)
        assert_int_equal(i, gw_month_index(gw_month_ym((uint16_t)i)));
}

static void test_months__encode__the_bytes_lua_writes(void **state)
{
    /* 202611 "30,476180": 02 aa | zigzag 60 = 3c | 476180 = 0x74414 -> 94 88 1d */
    const struct gw_month r[2] = {{202611, 30, 476180}, {202612, -1, 0}};
    const uint8_t want[] = {0x02, 0xaa, 0x3c, 0x94, 0x88, 0x1d, 0x02, 0xab, 0x01, 0x00};
    uint8_t buf[64];

    (void)state;
    assert_int_equal(sizeof(want), gw_months_encode(r, 2, buf, sizeof(buf)));
    assert_memory_equal(want, buf, sizeof(want));
    struct gw_month out[4];
    assert_int_equal(2, gw_months_decode(want, sizeof(want), out, 4));
    assert_int_equal(202611, out[0].ym);
    assert_int_equal(30, out[0].earned);
    assert_int_equal(476180, out[0].spend);
    assert_int_equal(202612, out[1].ym);
    assert_int_equal(-1, out[1].earned);
    assert_int_equal(0, out[1].spend);
    assert_int_equal(0, gw_months_decode(buf, 0, out, 4)); /* empty M: no month */
}

static void assert_same(const struct gw_month *a, const struct gw_month *b)
{
    assert_int_equal(a->ym, b->ym);
    assert_int_equal(a->earned, b->earned);
    assert_int_equal(a->spend, b->spend);
}

static void test_months__round_trip__bounds_and_signs(void **state)
{
    const int64_t vals[] = {
        0, 1, 63, 64, 127, 128, 16383, 16384, 476180, 1000000000000LL, (INT64_C(1) << 52) - 1};
    struct gw_month r[12], out[12];
    uint8_t buf[12 * GW_MONTHS_REC_MAX];

    (void)state;
    for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
        for (int i = 0; i < 12; i++) {
            r[i].ym = gw_month_ym((uint16_t)(600 + 2 * i));
            r[i].earned = (i % 2 ? -vals[k] : vals[k]) - (i % 3 == 0 && vals[k] ? 1 : 0);
            r[i].spend = vals[k] + i;
        }
        int n = gw_months_encode(r, 12, buf, sizeof(buf));
        assert_true(n > 0);
        assert_int_equal(12, gw_months_decode(buf, (size_t)n, out, 12));
        for (int i = 0; i < 12; i++)
            assert_same(&r[i], &out[i]);
        assert_int_equal(-ENOSPC, gw_months_decode(buf, (size_t)n, out, 11));
        assert_int_equal(-ENOSPC, gw_months_encode(r, 12, buf, (size_t)n - 1));
    }
    /* the largest values: 8-byte varints */
    r[0] = (struct gw_month){202601, -(INT64_C(1) << 52), GW_MONTHS_VALUE_MAX - 1};
    int n = gw_months_encode(r, 1, buf, sizeof(buf));
    assert_int_equal(GW_MONTHS_REC_MAX, n);
    assert_int_equal(1, gw_months_decode(buf, (size_t)n, out, 1));
    assert_same(&r[0], &out[0]);
    /* what the encoder refuses */
    r[0].spend = GW_MONTHS_VALUE_MAX;
    assert_int_equal(-EINVAL, gw_months_encode(r, 1, buf, sizeof(buf)));
    r[0] = (struct gw_month){202601, INT64_C(1) << 52, 0};
    assert_int_equal(-EINVAL, gw_months_encode(r, 1, buf, sizeof(buf)));
    r[0] = (struct gw_month){202601, 0, -1};
    assert_int_equal(-EINVAL, gw_months_encode(r, 1, buf, sizeof(buf)));
    r[0] = (struct gw_month){202602, 0, 0};
    r[1] = (struct gw_month){202601, 0, 0};
    assert_int_equal(-EINVAL, gw_months_encode(r, 2, buf, sizeof(buf)));
}

static void test_months__corrupt__truncated_long_large_unsorted(void **state)
{
    struct gw_month out[4];

    (void)state;
    const uint8_t one_byte[] = {0x02};
    assert_int_equal(-EINVAL, gw_months_decode(one_byte, 1, out, 4));
    const uint8_t no_spend[] = {0x02, 0xaa, 0x3c};
    assert_int_equal(-EINVAL, gw_months_decode(no_spend, sizeof(no_spend), out, 4));
    const uint8_t cut_varint[] = {0x02, 0xaa, 0x3c, 0x94, 0x88};
    assert_int_equal(-EINVAL, gw_months_decode(cut_varint, sizeof(cut_varint), out, 4));
    /* 9 bytes of varint: too long */
    const uint8_t too_long[] = {0x02, 0xaa, 0x80, 0x80, 0x80, 0x80,
                                0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
    assert_int_equal(-EINVAL, gw_months_decode(too_long, sizeof(too_long), out, 4));
    /* 8 bytes, value 2^53: too large */
    const uint8_t too_big[] = {0x02, 0xaa, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10};
    assert_int_equal(-EINVAL, gw_months_decode(too_big, sizeof(too_big), out, 4));
    /* months not ascending: a repeat, then a step back */
    const uint8_t twice[] = {0x02, 0xaa, 0x02, 0x00, 0x02, 0xaa, 0x02, 0x00};
    assert_int_equal(-EINVAL, gw_months_decode(twice, sizeof(twice), out, 4));
    const uint8_t back[] = {0x02, 0xab, 0x02, 0x00, 0x02, 0xaa, 0x02, 0x00};
    assert_int_equal(-EINVAL, gw_months_decode(back, sizeof(back), out, 4));
    /* a valid record then garbage: the window is left unchanged */
    int64_t m[3] = {5, 5, 5};
    assert_int_equal(-EINVAL, gw_months_window(cut_varint, sizeof(cut_varint), 202611, 0, m, 3));
    assert_int_equal(5, m[0]);
    const uint8_t ok_then_cut[] = {0x02, 0xaa, 0x3c, 0x00, 0x02, 0xab, 0x3c};
    assert_int_equal(-EINVAL, gw_months_window(ok_then_cut, sizeof(ok_then_cut), 202612, 0, m, 3));
    assert_int_equal(5, m[1]);
}

static void test_months__window__sums_into_months_back(void **state)
{
    /* 13 months back, the one before the window, the window, and a month after today */
    struct gw_month r[5] = {
        {202510, 100, 1000}, {202511, 7, 70}, {202601, 3, 30}, {202611, -2, 20}, {202612, 50, 500}};
    uint8_t buf[5 * GW_MONTHS_REC_MAX];
    int n = gw_months_encode(r, 5, buf, sizeof(buf));
    int64_t m[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

    (void)state;
    assert_true(n > 0);
    assert_int_equal(0, gw_months_window(buf, (size_t)n, 202611, 0, m, 12));
    assert_int_equal(1 - 2, m[0]);  /* 202611 */
    assert_int_equal(1 + 3, m[10]); /* 202601 */
    assert_int_equal(1, m[11]);     /* 202512: no record */
    int64_t s[12] = {0};
    assert_int_equal(0, gw_months_window(buf, (size_t)n, 202611, 1, s, 12));
    int64_t sum = 0;
    for (int i = 0; i < 12; i++)
        sum += s[i];
    assert_int_equal(20 + 30, sum); /* neither 202511 (12 back) nor 202612 (ahead) */
}

static void test_months__old__fields_of_the_release_before(void **state)
{
    int64_t e, s;

    (void)state;
    assert_int_equal(0, gw_months_old("30,476180", 9, &e, &s));
    assert_int_equal(30, e);
    assert_int_equal(476180, s);
    assert_int_equal(0, gw_months_old("-12,0", 5, &e, &s));
    assert_int_equal(-12, e);
    assert_int_equal(-EINVAL, gw_months_old("30", 2, &e, &s));
    assert_int_equal(0, e);
    assert_int_equal(-EINVAL, gw_months_old("30,-1", 5, &e, &s));
    assert_int_equal(-EINVAL, gw_months_old("30,1x", 5, &e, &s));
    assert_int_equal(-EINVAL, gw_months_old(" 3,1", 4, &e, &s));
    assert_int_equal(-EINVAL, gw_months_old("", 0, &e, &s));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months__index__both_ways),
        cmocka_unit_test(test_months__encode__the_bytes_lua_writes),
        cmocka_unit_test(test_months__round_trip__bounds_and_signs),
        cmocka_unit_test(test_months__corrupt__truncated_long_large_unsorted),
        cmocka_unit_test(test_months__window__sums_into_months_back),
        cmocka_unit_test(test_months__old__fields_of_the_release_before),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

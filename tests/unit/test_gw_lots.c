/*
 * test_gw_lots.c - the wallet's packed lots L (gateway/gw_lots.c): records of a u16 big-endian
 * day and the LEB128 varint of the points, as core/lua/wallet_lots.lua writes them, oldest first,
 * one per day: exact bytes, round trips up to the balance bound, untrusted bytes (truncated,
 * varints truncated, too long or too large, zero points, days not ascending), and the lot fields
 * "l:YYYYMMDD" of the release before; the undated lot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gw_days.h"
#include "gw_lots.h"

/* The test's days from the real clock (a few days ago), so no literal date goes stale. */
static int32_t DAY(int k)
{
    static int32_t base;
    if (!base)
        base = gw_days_from_number((int32_t)(time(NULL) / 86400) - 10);
    return gw_days_add(base, k);
}

static void lots_exact_bytes(void **state)
{
    uint8_t l[3 * GW_LOTS_REC_MAX];
    size_t len = 0;
    int32_t z = gw_days_number(DAY(0));

    (void)state;
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(0), 10), 0);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(1), 300), 0);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(2), 127), 0);
    const uint8_t want[] = {(uint8_t)(z >> 8),       (uint8_t)z,       10,
                            (uint8_t)((z + 1) >> 8), (uint8_t)(z + 1), 0xac, 0x02, /* 300 */
                            (uint8_t)((z + 2) >> 8), (uint8_t)(z + 2), 0x7f};
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(l, want, sizeof(want));
}

static void lots_round_trip(void **state)
{
    const int64_t pts[] = {1, 127, 128, 16383, 16384, 70000, 16777216, 1000000000000LL,
                           GW_VARINT_VALUE_MAX - 1};
    const size_t n = sizeof(pts) / sizeof(pts[0]);
    uint8_t l[9 * GW_LOTS_REC_MAX];
    struct gw_lot lot;
    size_t len = 0, pos = 0;

    (void)state;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY((int)i * 3), pts[i]), 0);
    assert_int_equal(len, 2 * n + 1 + 1 + 2 + 2 + 3 + 3 + 4 + 6 + 8); /* the varints' bytes */
    assert_true(gw_lots_valid(l, len));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(gw_lots_next(l, len, &pos, &lot), 1);
        assert_int_equal(lot.day, DAY((int)i * 3));
        assert_int_equal(lot.points, pts[i]);
    }
    assert_int_equal(gw_lots_next(l, len, &pos, &lot), 0);
    assert_int_equal(pos, len);
    /* what the encoder refuses */
    len = 0;
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(0), 0), -EINVAL);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(0), GW_VARINT_VALUE_MAX), -EINVAL);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, 20261341, 5), -EINVAL);
    assert_int_equal(gw_lots_put(l, 3, &len, DAY(0), 300), -ENOSPC);
    assert_int_equal(len, 0);
}

/* l (len bytes) refused whole. */
/* The undated lot (points folded while points never expire): day number 0, first; it reads
 * back as GW_LOT_UNDATED, and the real day of day number 0 (the epoch's) is refused. */
static void lots_undated(void **state)
{
    uint8_t l[2 * GW_LOTS_REC_MAX];
    struct gw_lot lot;
    size_t len = 0, pos = 0;

    (void)state;
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, GW_LOT_UNDATED, 1990), 0);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(0), 5), 0);
    const uint8_t head[] = {0, 0, 0xc6, 0x0f}; /* day 0, 1990 */
    assert_memory_equal(l, head, sizeof(head));
    assert_true(gw_lots_valid(l, len));
    assert_int_equal(gw_lots_next(l, len, &pos, &lot), 1);
    assert_int_equal(lot.day, GW_LOT_UNDATED);
    assert_int_equal(lot.points, 1990);
    assert_int_equal(gw_lots_next(l, len, &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(0));
    assert_int_equal(gw_lots_next(l, len, &pos, &lot), 0);
    len = 0;
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, gw_days_from_number(0), 5), -EINVAL);
}

static void refused(const uint8_t *l, size_t len)
{
    assert_false(gw_lots_valid(l, len));
}

static void lots_corrupt_refused(void **state)
{
    uint8_t l[2 * GW_LOTS_REC_MAX + 4];
    struct gw_lot lot;
    size_t len = 0, pos = 0;
    int32_t z = gw_days_number(DAY(0));

    (void)state;
    assert_true(gw_lots_valid(NULL, 0)); /* no field: no lot */
    assert_int_equal(gw_lots_next(NULL, 0, &pos, &lot), 0);
    assert_false(gw_lots_valid(NULL, 6));
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(0), 10), 0);
    assert_int_equal(gw_lots_put(l, sizeof(l), &len, DAY(1), 300), 0);
    assert_true(gw_lots_valid(l, len));
    for (size_t cut = 1; cut < len; cut++) {
        if (cut == 3)
            continue;
        refused(l, cut); /* half a day, a day alone, a varint cut short */
        pos = 0;         /* the reader stops before the broken record */
        while (gw_lots_next(l, cut, &pos, &lot) == 1)
            ;
        assert_int_equal(pos, cut < 3 ? 0 : 3);
    }
    pos = 0;
    const uint8_t zero[] = {(uint8_t)(z >> 8), (uint8_t)z, 0};
    refused(zero, sizeof(zero));
    const uint8_t zero_long[] = {(uint8_t)(z >> 8), (uint8_t)z, 0x80, 0x00}; /* 0, two bytes */
    refused(zero_long, sizeof(zero_long));
    const uint8_t older[] = {(uint8_t)(z >> 8), (uint8_t)z, 5, (uint8_t)((z - 1) >> 8),
                             (uint8_t)(z - 1), 5};
    refused(older, sizeof(older));
    const uint8_t twice[] = {(uint8_t)(z >> 8), (uint8_t)z, 5, (uint8_t)(z >> 8), (uint8_t)z, 5};
    refused(twice, sizeof(twice));
    const uint8_t too_long[] = {0x50, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    refused(too_long, sizeof(too_long));
    const uint8_t too_large[] = {0x50, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10};
    refused(too_large, sizeof(too_large)); /* 2^53 */
    const uint8_t max[] = {0x50, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f};
    assert_true(gw_lots_valid(max, sizeof(max))); /* 2^53 - 1: the largest */
    assert_int_equal(gw_lots_next(max, sizeof(max), &pos, &lot), 1);
    assert_int_equal(lot.points, GW_VARINT_VALUE_MAX - 1);
}

static void lots_old_fields(void **state)
{
    struct gw_lot lot = {0, 0};
    char k[16];

    (void)state;
    snprintf(k, sizeof(k), "l:%08d", (int)DAY(2));
    assert_int_equal(gw_lots_old_field(k, strlen(k), "300", 3, &lot), 1);
    assert_int_equal(lot.day, DAY(2));
    assert_int_equal(lot.points, 300);
    assert_int_equal(gw_lots_old_field(k, strlen(k), "-5", 2, &lot), 0);  /* negative */
    assert_int_equal(gw_lots_old_field(k, strlen(k), "0", 1, &lot), 0);   /* empty lot */
    assert_int_equal(gw_lots_old_field(k, strlen(k), "1x", 2, &lot), 0);  /* not a number */
    assert_int_equal(gw_lots_old_field(k, strlen(k), "", 0, &lot), 0);
    assert_int_equal(gw_lots_old_field("l:2026XX01", 10, "7", 1, &lot), 0); /* not a day */
    assert_int_equal(gw_lots_old_field("l:20261341", 10, "7", 1, &lot), 0);
    assert_int_equal(gw_lots_old_field("lang", 4, "en", 2, &lot), 0);
    assert_int_equal(gw_lots_old_field("L", 1, "x", 1, &lot), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lots_exact_bytes),
        cmocka_unit_test(lots_round_trip),
        cmocka_unit_test(lots_corrupt_refused),
        cmocka_unit_test(lots_undated),
        cmocka_unit_test(lots_old_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

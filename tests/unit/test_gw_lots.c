/*
 * test_gw_lots.c - the wallet's packed lots L (gateway/gw_lots.c): big-endian 5-byte records as
 * core/lua/wallet_lots.lua's struct.pack('>I2I3') writes them, oldest first, a lot above 2^24 - 1
 * spread over records of one day, untrusted bytes (bad lengths, zero or unsorted records), and
 * the lot fields "l:YYYYMMDD" of the release before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

/* One record as the Lua prelude packs it. */
static void pack(uint8_t *p, int32_t ymd, uint32_t pts)
{
    int32_t dn = gw_days_number(ymd);

    p[0] = (uint8_t)(dn >> 8);
    p[1] = (uint8_t)dn;
    p[2] = (uint8_t)(pts >> 16);
    p[3] = (uint8_t)(pts >> 8);
    p[4] = (uint8_t)pts;
}

static void lots_decode_oldest_first(void **state)
{
    uint8_t l[3 * GW_LOTS_REC];
    struct gw_lot lot;
    size_t pos = 0;

    (void)state;
    pack(l, DAY(0), 10);
    pack(l + GW_LOTS_REC, DAY(3), 70000); /* above 16 bits: all three bytes read */
    pack(l + 2 * GW_LOTS_REC, DAY(9), 16000000);
    assert_true(gw_lots_valid(l, sizeof(l)));
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(0));
    assert_int_equal(lot.points, 10);
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(3));
    assert_int_equal(lot.points, 70000);
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(9));
    assert_int_equal(lot.points, 16000000);
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 0);
}

static void lots_big_lot_spans_records(void **state)
{
    uint8_t l[4 * GW_LOTS_REC];
    struct gw_lot lot;
    size_t pos = 0;

    (void)state;
    pack(l, DAY(1), 0xffffff); /* 2 x (2^24 - 1) + 5 on one day */
    pack(l + GW_LOTS_REC, DAY(1), 0xffffff);
    pack(l + 2 * GW_LOTS_REC, DAY(1), 5);
    pack(l + 3 * GW_LOTS_REC, DAY(2), 0xffffff); /* a full record alone is a lot too */
    assert_true(gw_lots_valid(l, sizeof(l)));
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(1));
    assert_int_equal(lot.points, 2 * GW_LOTS_FULL + 5);
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 1);
    assert_int_equal(lot.day, DAY(2));
    assert_int_equal(lot.points, GW_LOTS_FULL);
    assert_int_equal(gw_lots_next(l, sizeof(l), &pos, &lot), 0);
}

static void lots_corrupt_refused(void **state)
{
    uint8_t l[2 * GW_LOTS_REC];
    struct gw_lot lot;
    size_t pos = 0;

    (void)state;
    assert_true(gw_lots_valid(NULL, 0)); /* no field: no lot */
    assert_int_equal(gw_lots_next(NULL, 0, &pos, &lot), 0);
    pack(l, DAY(0), 10);
    pack(l + GW_LOTS_REC, DAY(1), 20);
    assert_true(gw_lots_valid(l, sizeof(l)));
    for (size_t len = 1; len < sizeof(l); len++) {
        if (len == GW_LOTS_REC)
            continue;
        assert_false(gw_lots_valid(l, len)); /* not a multiple of 6 */
        pos = 0;
        assert_int_equal(gw_lots_next(l, len, &pos, &lot), 0);
    }
    assert_false(gw_lots_valid(NULL, 6));
    pack(l + GW_LOTS_REC, DAY(1), 0); /* a zero record */
    assert_false(gw_lots_valid(l, sizeof(l)));
    pack(l + GW_LOTS_REC, DAY(-1), 20); /* older than the one before */
    assert_false(gw_lots_valid(l, sizeof(l)));
    pack(l + GW_LOTS_REC, DAY(0), 20); /* the same day after a record that is not full */
    assert_false(gw_lots_valid(l, sizeof(l)));
    pack(l, DAY(0), 0xffffff); /* ... after a full one: one lot */
    assert_true(gw_lots_valid(l, sizeof(l)));
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
        cmocka_unit_test(lots_decode_oldest_first),
        cmocka_unit_test(lots_big_lot_spans_records),
        cmocka_unit_test(lots_corrupt_refused),
        cmocka_unit_test(lots_old_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gw_expiry.c - the expiry job's pure parts (gateway/gw_expiry.c, gw_expiry_sms.c): every
 * Redis Cluster slot has a tag that hashes to it, the warning levels, the due day of a new lot
 * and the next visit swept over every lot day of 2026-2028, and the warning SMS text.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gw_expiry.h"
#include "gw_expiry_sms.h"
#include "gw_redis.h"

static void test_slot_tag__every_slot__has_a_tag_in_it(void **state)
{
    char tag[GW_SLOT_TAG_MAX];

    (void)state;
    for (unsigned s = 0; s < GW_SLOTS; s++) {
        assert_int_equal(gw_slot_tag(s, tag), 0);
        char key[40];
        snprintf(key, sizeof(key), "lg:xd:%s:20261207", tag);
        assert_int_equal(gw_redis_key_slot(key, strlen(key)), s);
    }
    assert_int_equal(gw_slot_tag(GW_SLOTS, tag), -EINVAL);
    assert_int_equal(gw_slot_tag_of("212612345678", tag), 0);
    char w[40];
    snprintf(w, sizeof(w), "lg:{212612345678}:w");
    char x[48];
    snprintf(x, sizeof(x), "lg:xd:%s:20261207", tag);
    assert_int_equal(gw_redis_key_slot(w, strlen(w)), gw_redis_key_slot(x, strlen(x)));
    assert_int_equal(gw_slot_tag_of("", tag), -EINVAL);
}

static void test_levels__parse__descending_bounded(void **state)
{
    uint32_t lv[GW_EXPIRY_LEVELS_MAX];

    (void)state;
    assert_int_equal(gw_expiry_parse_levels("30,7", lv, GW_EXPIRY_LEVELS_MAX), 2);
    assert_int_equal(lv[0], 30);
    assert_int_equal(lv[1], 7);
    assert_int_equal(gw_expiry_parse_levels("", lv, GW_EXPIRY_LEVELS_MAX), 0);
    assert_int_equal(gw_expiry_parse_levels("7,30", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("30,30", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("0", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("400", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("30,,7", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("30 ,7", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
    assert_int_equal(gw_expiry_parse_levels("90,60,30,7,1", lv, GW_EXPIRY_LEVELS_MAX), -EINVAL);
}

/* A lot visited on every day it is due, as the job would: each visit marks the most urgent
 * level reached, and the next visit is the next due day. Over every lot day of 2026-2028 and
 * both kinds of validity, each level is reached exactly on its day and expiry on L + 1. */
static void test_next_action__walk__visits_exactly_on_warning_and_expiry_days(void **state)
{
    static const struct gw_validity vs[] = {{60, 0}, {365, 0}, {0, 12}, {0, 1}};
    static const uint32_t lv[] = {30, 7};

    (void)state;
    for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
        for (int32_t lot = 20260101; lot <= 20281231; lot = gw_days_add(lot, 1)) {
            int32_t last = gw_validity_last_day(&vs[i], lot);
            int32_t w30 = gw_days_add(last, -29), w7 = gw_days_add(last, -6);
            int32_t due = gw_expiry_lot_due(&vs[i], lv, 2, lot, lot);
            uint32_t mark = 0;
            /* the lot's earn day may already be inside a window (1-month validity): due at once */
            int32_t want = w30 > lot ? w30 : lot;
            assert_int_equal(due, want);
            int32_t day = due, visits = 0;
            while (day != 0 && day <= last) {
                uint32_t reached = day >= w7 ? 7 : (day >= w30 ? 30 : 0);
                assert_true(reached != 0);
                assert_true(mark == 0 || reached < mark); /* a new level at every visit */
                mark = reached;
                day = gw_expiry_next_action(&vs[i], lv, 2, day, &lot, &mark, 1);
                visits++;
            }
            assert_int_equal(day, gw_days_add(last, 1)); /* then the expiry day */
            assert_true(visits <= 2);
        }
    }
}

static void test_next_action__several_lots__earliest_wins(void **state)
{
    const struct gw_validity v = {60, 0};
    static const uint32_t lv[] = {30, 7};
    int32_t days[] = {20270101, 20270105};
    uint32_t marks[] = {30, 0};

    (void)state;
    /* today 20270202: lot 1 (last 20270302) has its 7-day warning on 20270224; lot 2 (last
     * 20270306) its 30-day one on 20270205 */
    assert_int_equal(gw_expiry_next_action(&v, lv, 2, 20270202, days, marks, 2), 20270205);
    assert_int_equal(gw_expiry_next_action(&v, lv, 2, 20270202, days, marks, 0), 0);
    const struct gw_validity never = {0, 0};
    assert_int_equal(gw_expiry_next_action(&never, lv, 2, 20270202, days, marks, 2), 0);
    assert_int_equal(gw_expiry_lot_due(&never, lv, 2, 20270202, 20270101), 0);
}

static void test_sms_text__languages_points_date_shortcut(void **state)
{
    struct gw_expiry_warning w = {
        .msisdn = "212612345678", .lang = "en", .points = 19, .last_day = 20271205, .level = 30};
    char out[512];

    (void)state;
    assert_true(gw_expiry_sms_text(&w, "fr", "555", out, sizeof(out)) > 0);
    assert_string_equal(out, "Loyalty Club: 19 points expire on 05/12/2027. Redeem them now: "
                             "dial *555#");
    snprintf(w.lang, sizeof(w.lang), "xx"); /* unknown: the fallback language */
    assert_true(gw_expiry_sms_text(&w, "fr", "555", out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "19 points expirent le 05/12/2027"));
    snprintf(w.lang, sizeof(w.lang), "ar");
    assert_true(gw_expiry_sms_text(&w, "fr", "555", out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "05/12/2027"));
    assert_non_null(strstr(out, "*555#"));
    snprintf(w.lang, sizeof(w.lang), "fa");
    assert_true(gw_expiry_sms_text(&w, "fr", "555", out, sizeof(out)) > 0);
    assert_non_null(strstr(out, "19"));
    assert_int_equal(gw_expiry_sms_text(&w, "fr", "555", out, 20), -ENOSPC);
    w.points = 0;
    assert_int_equal(gw_expiry_sms_text(&w, "fr", "555", out, sizeof(out)), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slot_tag__every_slot__has_a_tag_in_it),
        cmocka_unit_test(test_levels__parse__descending_bounded),
        cmocka_unit_test(test_next_action__walk__visits_exactly_on_warning_and_expiry_days),
        cmocka_unit_test(test_next_action__several_lots__earliest_wins),
        cmocka_unit_test(test_sms_text__languages_points_date_shortcut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

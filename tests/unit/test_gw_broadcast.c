/*
 * test_gw_broadcast.c - the pure parts of the reminder broadcast (gateway/gw_broadcast.h) shared
 * by the runner, loyalty-admin and loyaltyctl: campaign ids, language codes, the text check with
 * its coding / length / SMS count, and the script's key names (one slot: {bc}). The runner itself
 * is tested end to end in tests/it/test_broadcast.sh. Owner: the broadcast engineer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gw_broadcast.h"
#include "gw_redis.h"

static void test_broadcast__campaign_ids__letters_digits_dash_underscore(void **state)
{
    (void)state;
    assert_true(gw_campaign_id_valid("giftday-1"));
    assert_true(gw_campaign_id_valid("2026_11_25"));
    assert_true(gw_campaign_id_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(gw_campaign_id_valid("abcdefghijklmnopqrstuvwxyz0123456"));
    assert_false(gw_campaign_id_valid(""));
    assert_false(gw_campaign_id_valid(NULL));
    assert_false(gw_campaign_id_valid("-x"));
    assert_false(gw_campaign_id_valid("Gift"));
    assert_false(gw_campaign_id_valid("a b"));
    assert_false(gw_campaign_id_valid("a}b")); /* would break the key's hash tag */
    assert_false(gw_campaign_id_valid("a:b"));
}

static void test_broadcast__lang_codes__two_or_three_lowercase(void **state)
{
    (void)state;
    assert_true(gw_campaign_lang_valid("fr"));
    assert_true(gw_campaign_lang_valid("fil"));
    assert_false(gw_campaign_lang_valid("f"));
    assert_false(gw_campaign_lang_valid("FR"));
    assert_false(gw_campaign_lang_valid("fren"));
    assert_false(gw_campaign_lang_valid("f1"));
    assert_false(gw_campaign_lang_valid(NULL));
}

static void test_broadcast__text_check__counts_segments(void **state)
{
    struct gw_campaign_text_info ti;
    const char *why = NULL;
    char buf[1400];

    (void)state;
    assert_int_equal(0, gw_campaign_text_check("Bonjour", 7, NULL, &ti, &why));
    assert_int_equal(SMPP_TEXT_GSM7, ti.coding);
    assert_int_equal(7, ti.units);
    assert_int_equal(1, ti.parts);
    /* the euro sign is in the GSM extension table: two septets */
    assert_int_equal(0, gw_campaign_text_check("5\xE2\x82\xAC", 4, NULL, &ti, &why));
    assert_int_equal(SMPP_TEXT_GSM7, ti.coding);
    assert_int_equal(3, ti.units);
    /* 160 GSM-7 septets: one SMS; 161: two parts of at most 153 */
    memset(buf, 'a', 161);
    assert_int_equal(0, gw_campaign_text_check(buf, 160, NULL, &ti, &why));
    assert_int_equal(1, ti.parts);
    assert_int_equal(0, gw_campaign_text_check(buf, 161, NULL, &ti, &why));
    assert_int_equal(2, ti.parts);
    /* Arabic: UCS-2, 70 units per single SMS */
    const char *ar = "\xD9\x8A\xD9\x88\xD9\x85"; /* 3 letters */
    assert_int_equal(0, gw_campaign_text_check(ar, strlen(ar), NULL, &ti, &why));
    assert_int_equal(SMPP_TEXT_UCS2, ti.coding);
    assert_int_equal(3, ti.units);
    assert_int_equal(1, ti.parts);
    /* 8 parts of 153 fit (1224 septets); 1225 need a ninth */
    memset(buf, 'b', sizeof(buf));
    assert_int_equal(0, gw_campaign_text_check(buf, 1224, NULL, &ti, &why));
    assert_int_equal(8, ti.parts);
    assert_int_equal(-EINVAL, gw_campaign_text_check(buf, 1225, NULL, &ti, &why));
    assert_string_equal("more than 8 SMS parts", why);
}

static void test_broadcast__text_check__refuses_bad_input(void **state)
{
    struct gw_campaign_text_info ti;
    const char *why = NULL;
    char big[GW_BC_TEXT_MAX + 1];

    (void)state;
    assert_int_equal(-EINVAL, gw_campaign_text_check("", 0, NULL, &ti, &why));
    assert_int_equal(-EINVAL, gw_campaign_text_check("a\xC3", 2, NULL, &ti, &why));
    assert_string_equal("not valid UTF-8", why);
    assert_int_equal(-EINVAL, gw_campaign_text_check("a\xED\xA0\x80", 4, NULL, &ti, &why));
    assert_int_equal(-EINVAL, gw_campaign_text_check("a\0b", 3, NULL, &ti, &why));
    assert_string_equal("holds a control character", why);
    assert_int_equal(-EINVAL, gw_campaign_text_check("a\x1b", 2, NULL, &ti, &why));
    memset(big, 'x', sizeof(big));
    assert_int_equal(-EINVAL, gw_campaign_text_check(big, sizeof(big), NULL, &ti, &why));
    /* new lines are text; a real U+FFFD is too */
    assert_int_equal(0, gw_campaign_text_check("a\r\nb", 4, NULL, &ti, &why));
    assert_int_equal(0, gw_campaign_text_check("\xEF\xBF\xBD", 3, NULL, &ti, &why));
    assert_int_equal(SMPP_TEXT_UCS2, ti.coding);
}

static void test_broadcast__keys__one_cluster_slot(void **state)
{
    char keys[GW_BC_NKEYS][GW_BC_KEY_MAX];
    unsigned slot;

    (void)state;
    gw_broadcast_keys("giftday-1", keys);
    assert_string_equal(GW_BC_KEY_LEASE, keys[0]);
    assert_string_equal("bc:{bc}:c:giftday-1", keys[4]);
    assert_string_equal("bc:{bc}:q:giftday-1", keys[5]);
    assert_string_equal("bc:{bc}:i:giftday-1", keys[9]);
    slot = gw_redis_key_slot(keys[0], strlen(keys[0]));
    for (int i = 1; i < GW_BC_NKEYS; i++)
        assert_int_equal(slot, gw_redis_key_slot(keys[i], strlen(keys[i])));
}

static void test_broadcast__config_defaults__off_and_small_window(void **state)
{
    struct gw_broadcast_config c;

    (void)state;
    gw_broadcast_config_defaults(&c);
    assert_false(c.enabled);
    assert_false(c.resend_unknown);
    assert_int_equal(8, c.max_in_flight);
    assert_true(c.lease_ms >= 3 * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_broadcast__campaign_ids__letters_digits_dash_underscore),
        cmocka_unit_test(test_broadcast__lang_codes__two_or_three_lowercase),
        cmocka_unit_test(test_broadcast__text_check__counts_segments),
        cmocka_unit_test(test_broadcast__text_check__refuses_bad_input),
        cmocka_unit_test(test_broadcast__keys__one_cluster_slot),
        cmocka_unit_test(test_broadcast__config_defaults__off_and_small_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

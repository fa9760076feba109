/*
 * test_cat_fulfil.c - the fulfilment worker's pure parts (catalog/cat_fulfil.c): the back-off
 * schedule (exponential, equal jitter, ceiling, the deadline that turns temporary into permanent)
 * and the SMS texts. The worker itself runs against a real redis-server and a real HTTP server in
 * tests/it/test_fulfil.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cat_fulfil.h"

static void test_backoff__doubles_from_min_with_jitter_in_the_upper_half(void **state)
{
    uint64_t rng = 12345;

    (void)state;
    for (unsigned attempt = 1; attempt <= 6; attempt++) {
        uint32_t d = 1000u << (attempt - 1);
        uint32_t lo = UINT32_MAX, hi = 0;

        for (int i = 0; i < 2000; i++) {
            uint32_t b = cat_fulfil_backoff_ms(1000, 600000, attempt, &rng);
            assert_true(b >= d - d / 2 && b <= d);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        /* the jitter really spreads: two workers that failed together do not retry together */
        assert_true(hi - lo > d / 4);
    }
}

static void test_backoff__never_above_the_ceiling_even_after_many_attempts(void **state)
{
    uint64_t rng = 99;

    (void)state;
    for (unsigned attempt = 1; attempt < 200; attempt++) {
        uint32_t b = cat_fulfil_backoff_ms(2000, 300000, attempt, &rng);
        assert_true(b <= 300000);
        assert_true(b >= 1000);
    }
    assert_true(cat_fulfil_backoff_ms(2000, 300000, 100, &rng) >= 150000);
    /* a ceiling below the minimum is the minimum */
    assert_true(cat_fulfil_backoff_ms(500, 100, 3, &rng) <= 500);
}

static void test_schedule__retries_until_the_deadline_then_gives_up(void **state)
{
    struct cat_fulfil_config cfg;
    uint64_t rng = 7;
    int64_t first = 1000000, now = first, next;
    unsigned attempts = 0;
    int64_t last = 0;

    (void)state;
    cat_fulfil_config_defaults(&cfg);
    cfg.retry_min_ms = 1000;
    cfg.retry_max_ms = 60000;
    cfg.retry_deadline_s = 600;
    /* simulate: every attempt fails at the scheduled time */
    for (;;) {
        attempts++;
        next = cat_fulfil_next_attempt(&cfg, attempts, first, now, &rng);
        if (next < 0)
            break;
        assert_true(next > now);
        assert_true(next <= first + 600000);
        last = next;
        now = next;
        assert_true(attempts < 100);
    }
    /* the last attempt happens exactly at the deadline, and the one after gives up */
    assert_int_equal(last, first + 600000);
    assert_int_equal(now, first + 600000);
    assert_true(attempts >= 10);
}

static void test_schedule__past_the_deadline_at_once__gives_up(void **state)
{
    struct cat_fulfil_config cfg;
    uint64_t rng = 3;

    (void)state;
    cat_fulfil_config_defaults(&cfg);
    cfg.retry_deadline_s = 10;
    assert_int_equal(cat_fulfil_next_attempt(&cfg, 1, 0, 10000, &rng), -1);
    assert_int_equal(cat_fulfil_next_attempt(&cfg, 1, 0, 50000, &rng), -1);
    assert_true(cat_fulfil_next_attempt(&cfg, 1, 0, 9999, &rng) == 10000);
}

static void test_config__defaults(void **state)
{
    struct cat_fulfil_config cfg;

    (void)state;
    cat_fulfil_config_defaults(&cfg);
    assert_string_equal(cfg.stream, CAT_FULFIL_STREAM);
    assert_string_equal(cfg.group, "fulfil");
    assert_true(cfg.claim_idle_ms > 0 && cfg.max_in_flight > 0 && cfg.max_held > 0);
}

static void test_sms__texts_name_the_item_the_sender_and_the_refund(void **state)
{
    char t[200];

    (void)state;
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_CONFIRM, "1 GB", "G12", 0, t, sizeof(t));
    assert_string_equal(t, "Your gift 1 GB has been delivered. Ref: G12");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_CONFIRM, "1 GB", "", 0, t, sizeof(t));
    assert_string_equal(t, "Your gift 1 GB has been delivered.");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_GIFT_FROM, "1 GB", "212612345678", 0, t, sizeof(t));
    assert_string_equal(t, "212612345678 sent you a gift: 1 GB. Enjoy!");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_SENT_TO, "1 GB", "212698765432", 0, t, sizeof(t));
    assert_string_equal(t, "Your gift 1 GB has been delivered to 212698765432.");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_APOLOGY, "1 GB", NULL, 500, t, sizeof(t));
    assert_string_equal(t, "Sorry, we could not deliver 1 GB. Your 500 points have been refunded.");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_CHARITY, "Food", "FOOD_BANK", 200, t, sizeof(t));
    assert_string_equal(t, "Thank you! Your 200 points were donated to FOOD_BANK.");
    cat_fulfil_sms_text(CAT_SMS_EN, CAT_SMS_VOUCHER, "Jumia 100", "AB12-CD34", 0, t, sizeof(t));
    assert_string_equal(t, "Your Jumia 100 voucher code: AB12-CD34");
    cat_fulfil_sms_text(CAT_SMS_FR, CAT_SMS_APOLOGY, "1 Go", NULL, 500, t, sizeof(t));
    assert_string_equal(t, "Désolé, nous n'avons pas pu livrer 1 Go. Vos 500 points ont été "
                           "remboursés.");
}

static void test_sms__truncation_never_cuts_a_utf8_character(void **state)
{
    char t[12];
    size_t n;

    (void)state;
    /* "Votre cadeau é..." : cut inside the 2-byte é must drop it whole */
    n = cat_fulfil_sms_text(CAT_SMS_FR, CAT_SMS_CONFIRM, "éééééé", "", 0, t, sizeof(t));
    assert_int_equal(n, strlen(t));
    assert_true(n < sizeof(t));
    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)t[i] & 0xE0) == 0xC0)
            assert_true(i + 1 < n && ((unsigned char)t[i + 1] & 0xC0) == 0x80);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff__doubles_from_min_with_jitter_in_the_upper_half),
        cmocka_unit_test(test_backoff__never_above_the_ceiling_even_after_many_attempts),
        cmocka_unit_test(test_schedule__retries_until_the_deadline_then_gives_up),
        cmocka_unit_test(test_schedule__past_the_deadline_at_once__gives_up),
        cmocka_unit_test(test_config__defaults),
        cmocka_unit_test(test_sms__texts_name_the_item_the_sender_and_the_refund),
        cmocka_unit_test(test_sms__truncation_never_cuts_a_utf8_character),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

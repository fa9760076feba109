/*
 * test_gw_suggest.c - the pure parts of the suggestion box (gateway/gw_suggest.c, the keyword of
 * gateway/gw_sms.c): an idea's keyword as the first word in the four languages and in GSM-7,
 * Latin-1 and UCS-2 (decoded as the MO path does), untrusted text cleaned and capped, the
 * language guessed, and the week a day belongs to. Owner: the suggestion-box engineer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config.h"
#include "gw_sms.h"
#include "gw_suggest.h"
#include "smpp_text.h"

static struct gw_config *defaults(void)
{
    struct gw_config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    gw_config_defaults(cfg);
    return cfg;
}

/* The idea after the keyword, or NULL when text is no idea. */
static const char *idea(const struct gw_config *cfg, const char *text)
{
    size_t rest = 0;

    if (gw_sms_mo_classify(cfg, text, strlen(text)) != GW_SMS_MO_SUGGEST)
        return NULL;
    assert_int_equal(1, gw_sms_keyword_prefix(cfg->sms.suggest_keywords,
                                              cfg->sms.n_suggest_keywords, text, strlen(text),
                                              &rest));
    return text + rest;
}

static void test_suggest__keyword__first_word_in_four_languages(void **state)
{
    struct gw_config *cfg = defaults();

    (void)state;
    assert_string_equal(idea(cfg, "IDEE plus de data le week-end"), "plus de data le week-end");
    assert_string_equal(idea(cfg, "  idée: un bonus anniversaire"), "un bonus anniversaire");
    assert_string_equal(idea(cfg, "Idea\nmore gifts"), "more gifts");
    assert_string_equal(idea(cfg, "رأي هدايا أكثر"), "هدايا أكثر");
    assert_string_equal(idea(cfg, "نظر هدیه بیشتر"), "هدیه بیشتر");
    assert_string_equal(idea(cfg, "IDEE"), ""); /* the keyword alone: an empty idea */
    /* not an idea: the keyword inside a word or later in the text, another keyword */
    assert_null(idea(cfg, "IDEES en vrac"));
    assert_null(idea(cfg, "mon IDEE"));
    assert_null(idea(cfg, "STOP"));
    assert_int_equal(GW_SMS_MO_STOP, gw_sms_mo_classify(cfg, "STOP", 4));
    assert_int_equal(GW_SMS_MO_BALANCE, gw_sms_mo_classify(cfg, "SOLDE", 5));
    free(cfg);
}

static void test_suggest__keyword__ucs2_and_gsm7_as_decoded(void **state)
{
    struct gw_config *cfg = defaults();
    /* "رأي جيد" in UCS-2 (data_coding 8), as a handset sends it */
    const uint8_t ucs2[] = {0x06, 0x31, 0x06, 0x23, 0x06, 0x4A, 0x00, 0x20,
                            0x06, 0x2C, 0x06, 0x4A, 0x06, 0x2F};
    /* "IDEE café" unpacked GSM-7 (é = 0x05) */
    const uint8_t gsm7[] = {'I', 'D', 'E', 'E', ' ', 'c', 'a', 'f', 0x05};
    char out[256];
    size_t len = 0;

    (void)state;
    assert_int_equal(0, smpp_text_decode(ucs2, sizeof(ucs2), 8, &cfg->ussd.text, out,
                                         sizeof(out), &len));
    out[len] = '\0';
    assert_string_equal(idea(cfg, out), "جيد");
    assert_int_equal(0, smpp_text_decode(gsm7, sizeof(gsm7), 0, &cfg->ussd.text, out,
                                         sizeof(out), &len));
    out[len] = '\0';
    assert_string_equal(idea(cfg, out), "café");
    free(cfg);
}

static void test_suggest__clean__controls_bidi_invalid_and_cap(void **state)
{
    char out[64];
    size_t n;

    (void)state;
    n = gw_suggest_clean("  a\tb\r\n\x01" "c  ", 11, out, sizeof(out), 100);
    assert_string_equal(out, "a b c");
    assert_int_equal(n, 5);
    /* RLO (U+202E) becomes a space; an invalid byte, an overlong "/", a lone surrogate: dropped */
    n = gw_suggest_clean("x\xE2\x80\xAEy\xFFz\xC0\xAF!\xED\xA0\x80", 13, out, sizeof(out), 100);
    assert_string_equal(out, "x yz!");
    /* cut at max bytes, never inside a character: "ééé" is 6 bytes, max 5 keeps two */
    n = gw_suggest_clean("ééé", strlen("ééé"), out, sizeof(out), 5);
    assert_string_equal(out, "éé");
    assert_int_equal(n, 4);
    /* the output buffer bounds it too */
    n = gw_suggest_clean("abcdefgh", 8, out, 4, 100);
    assert_string_equal(out, "abc");
    /* quotes, commas and '=' stay: escaping is the console's job (JSON, CSV) */
    gw_suggest_clean("=HYPERLINK(\"x\"),1", 17, out, sizeof(out), 100);
    assert_string_equal(out, "=HYPERLINK(\"x\"),1");
    assert_int_equal(0, gw_suggest_clean(NULL, 3, out, sizeof(out), 10));
}

static void test_suggest__guess_lang(void **state)
{
    (void)state;
    assert_string_equal(gw_suggest_guess_lang("هدايا أكثر", strlen("هدايا أكثر")), "ar");
    assert_string_equal(gw_suggest_guess_lang("هدیه بیشتر", strlen("هدیه بیشتر")), "fa");
    assert_string_equal(gw_suggest_guess_lang("plus de cadeaux", 15), "fr");
    assert_string_equal(gw_suggest_guess_lang("un forfait été", strlen("un forfait été")), "fr");
    assert_string_equal(gw_suggest_guess_lang("more gifts please", 17), "en");
    assert_string_equal(gw_suggest_guess_lang("", 0), "en");
}

static void test_suggest__week__monday_of_the_day(void **state)
{
    (void)state;
    /* 1970-01-01 was a Thursday: its week started Monday 1969-12-29, out of range -> 0 */
    assert_int_equal(gw_suggest_week(19700105), 19700105); /* a Monday is its own week */
    assert_int_equal(gw_suggest_week(19700111), 19700105); /* Sunday: the Monday before */
    assert_int_equal(gw_suggest_week(20240301), 20240226); /* across a leap February */
    assert_int_equal(gw_suggest_week(20270101), 20261228); /* across a year */
    assert_int_equal(gw_suggest_week(20261231), 20261228);
    assert_int_equal(gw_suggest_week(20260230), 0); /* no such day */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suggest__keyword__first_word_in_four_languages),
        cmocka_unit_test(test_suggest__keyword__ucs2_and_gsm7_as_decoded),
        cmocka_unit_test(test_suggest__clean__controls_bidi_invalid_and_cap),
        cmocka_unit_test(test_suggest__guess_lang),
        cmocka_unit_test(test_suggest__week__monday_of_the_day),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

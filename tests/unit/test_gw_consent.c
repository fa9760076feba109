/*
 * test_gw_consent.c - the consent keywords of gateway/gw_sms.c (issue 10 section 3): folding
 * (trim, ASCII case, Latin accents, Arabic harakat/tatweel, ZWNJ), the default STOP / START lists
 * in the four languages, which list wins, configured lists from a config file, and texts that
 * must not match (longer words, embedded keywords, oversize input). Owner: the consent engineer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_config.h"
#include "gw_sms.h"

static struct gw_config *defaults(void)
{
    struct gw_config *cfg = calloc(1, sizeof(*cfg));
    assert_non_null(cfg);
    gw_config_defaults(cfg);
    return cfg;
}

/* Loads text as a config file over the defaults (a temporary file, removed at once). */
static int load_text(struct gw_config *cfg, const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/test_gw_consent.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(0, fclose(f));
    int rc = gw_config_load(path, cfg, err, errlen);
    unlink(path);
    return rc;
}

#define KIND(cfg, s) gw_sms_mo_classify(cfg, s, strlen(s))

static void test_consent__fold__case_accents_and_spaces(void **state)
{
    char out[16];
    size_t n;

    (void)state;
    n = gw_sms_keyword_fold("  arrêt\r\n", 10, out, sizeof(out));
    assert_int_equal(5, n);
    assert_memory_equal("ARRET", out, 5);
    n = gw_sms_keyword_fold("ÀÉÎÕÜÇÑÿ", strlen("ÀÉÎÕÜÇÑÿ"), out, sizeof(out));
    assert_int_equal(8, n);
    assert_memory_equal("AEIOUCNY", out, 8);
    /* ß and Æ have no single base letter: kept as they are */
    n = gw_sms_keyword_fold("ß", 2, out, sizeof(out));
    assert_int_equal(2, n);
    assert_memory_equal("ß", out, 2);
    /* too long for out: cap + 1 */
    assert_int_equal(5, gw_sms_keyword_fold("abcdefgh", 8, out, 4));
    assert_int_equal(0, gw_sms_keyword_fold(" \t ", 3, out, sizeof(out)));
}

static void test_consent__fold__arabic_marks_dropped(void **state)
{
    char a[32], b[32];

    (void)state;
    /* توقّف (with shadda U+0651) and تـوقف (with tatweel U+0640) fold to توقف */
    size_t plain = gw_sms_keyword_fold("توقف", strlen("توقف"), a, sizeof(a));
    size_t shadda = gw_sms_keyword_fold("توقّف", strlen("توقّف"), b, sizeof(b));
    assert_int_equal(plain, shadda);
    assert_memory_equal(a, b, plain);
    size_t tatweel = gw_sms_keyword_fold("تـوقف", strlen("تـوقف"), b, sizeof(b));
    assert_int_equal(plain, tatweel);
    assert_memory_equal(a, b, plain);
    /* a ZWNJ inside a Persian word is ignored */
    size_t zw = gw_sms_keyword_fold("لغ\u200cو", strlen("لغ\u200cو"), b, sizeof(b));
    assert_int_equal(strlen("لغو"), zw);
    assert_memory_equal("لغو", b, zw);
}

static void test_consent__classify__default_lists_four_languages(void **state)
{
    struct gw_config *cfg = defaults();

    (void)state;
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "STOP"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "stop"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, " Stop\n"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "ARRET"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "Arrêt"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "ARRÊT"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "توقف"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "توقّف"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "لغو"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "START"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "start"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "Démarrer"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "ابدأ"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "شروع"));
    assert_int_equal(GW_SMS_MO_BALANCE, KIND(cfg, "solde"));
    assert_int_equal(GW_SMS_MO_BALANCE, KIND(cfg, "رصيد"));
    /* not keywords: longer words, keywords inside a sentence, nothing at all */
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "STOPP"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "STO"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "please stop"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "ST OP"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, ""));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "   "));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "توق"));
    free(cfg);
}

static void test_consent__classify__oversize_and_binary_text(void **state)
{
    struct gw_config *cfg = defaults();
    char big[300];

    (void)state;
    memset(big, 'S', sizeof(big));
    assert_int_equal(GW_SMS_MO_NONE, gw_sms_mo_classify(cfg, big, sizeof(big)));
    /* STOP followed by a NUL and more bytes is not STOP */
    assert_int_equal(GW_SMS_MO_NONE, gw_sms_mo_classify(cfg, "STOP\0X", 6));
    /* a lone lead byte at the end is kept, not read past */
    assert_int_equal(GW_SMS_MO_NONE, gw_sms_mo_classify(cfg, "STOP\xc3", 5));
    free(cfg);
}

static void test_consent__config__lists_replace_defaults(void **state)
{
    struct gw_config *cfg = defaults();
    char err[256] = "";
    const char *json = "{\"sms\": {\"stop_keywords\": [\"HALT\", \"FIN\"], "
                       "\"start_keywords\": [\"GO\"]}}";

    (void)state;
    assert_int_equal(0, load_text(cfg, json, err, sizeof(err)));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "halt"));
    assert_int_equal(GW_SMS_MO_STOP, KIND(cfg, "Fin"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "STOP"));
    assert_int_equal(GW_SMS_MO_START, KIND(cfg, "go"));
    assert_int_equal(GW_SMS_MO_NONE, KIND(cfg, "START"));
    assert_int_equal(GW_SMS_MO_BALANCE, KIND(cfg, "BAL"));
    free(cfg);

    cfg = defaults();
    assert_true(load_text(cfg, "{\"sms\": {\"stop_keywords\": [\" STOP\"]}}", err, sizeof(err)) <
                0);
    assert_non_null(strstr(err, "sms.stop_keywords[0]"));
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_consent__fold__case_accents_and_spaces),
        cmocka_unit_test(test_consent__fold__arabic_marks_dropped),
        cmocka_unit_test(test_consent__classify__default_lists_four_languages),
        cmocka_unit_test(test_consent__classify__oversize_and_binary_text),
        cmocka_unit_test(test_consent__config__lists_replace_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

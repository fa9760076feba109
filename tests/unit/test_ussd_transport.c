/*
 * test_ussd_transport.c - what the ussd library gives the transport (gateway/gw_ussd.c,
 * gateway/gw_sms.c) besides open/answer: the "sms" section of the menu file (validated, every
 * language required, placeholders expanded, lines without a value left out), labels by language
 * with the default as fallback, and re-rendering the current screen of a stored state (the answer
 * that lost a race). Owner: the USSD-wiring engineer (issue 3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"

static struct ussd_menus *menus;
static struct ussd_config cfg;
static int64_t balance = 1234, expiring = 300;
static int fail_balance;

static int sub_balance(void *arg, int64_t *points)
{
    (void)arg;
    *points = balance;
    return fail_balance ? -EIO : 0;
}

static int sub_expiring(void *arg, const char *lang, int64_t *points, char *date, size_t cap)
{
    (void)arg;
    (void)lang;
    *points = expiring;
    snprintf(date, cap, "05/01/2027");
    return 0;
}

static int sub_tier(void *arg, const char *lang, char *out, size_t cap)
{
    (void)arg;
    (void)lang;
    snprintf(out, cap, "gold");
    return 0;
}

static const struct ussd_subscriber_ops sub = {
    .balance = sub_balance, .expiring = sub_expiring, .tier = sub_tier};

static int setup(void **state)
{
    char err[256];

    (void)state;
    ussd_config_defaults(&cfg);
    assert_int_equal(ussd_menus_load(SHIPPED, &menus, err, sizeof(err)), 0);
    balance = 1234;
    expiring = 300;
    fail_balance = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ussd_menus_free(menus);
    menus = NULL;
    return 0;
}

static struct ussd_env env(void)
{
    return (struct ussd_env){.cfg = &cfg, .menus = menus, .sub = &sub};
}

/* ---------------------------------------------------------------- SMS texts */

static void test_transport__sms_text__expanded_in_language(void **state)
{
    struct ussd_env e = env();
    char out[1024];
    size_t len = 0;

    (void)state;
    assert_int_equal(ussd_engine_text(&e, "en", "balance", out, sizeof(out), &len), 0);
    assert_string_equal(out, "Loyalty Club: your balance is 1234 points.\n"
                             "300 points expire on 05/01/2027.\n"
                             "Tier: gold. Dial *555# for gifts.");
    assert_int_equal(len, strlen(out));
    /* nothing expires: that line is left out */
    expiring = 0;
    assert_int_equal(ussd_engine_text(&e, "fr", "balance", out, sizeof(out), &len), 0);
    assert_string_equal(out, "Club Fidélité : votre solde est de 1234 points.\n"
                             "Niveau : gold. Composez *555# pour les cadeaux.");
    /* a language the file does not have: the default (fr) */
    assert_int_equal(ussd_engine_text(&e, "de", "balance", out, sizeof(out), &len), 0);
    assert_non_null(strstr(out, "Club Fidélité"));
}

static void test_transport__sms_text__errors(void **state)
{
    struct ussd_env e = env();
    char out[1024];
    size_t len = 0;

    (void)state;
    assert_int_equal(ussd_engine_text(&e, "en", "nope", out, sizeof(out), &len), -ENOENT);
    assert_int_equal(ussd_engine_text(&e, "en", "balance", out, 10, &len), -ENOSPC);
    fail_balance = 1;
    assert_int_equal(ussd_engine_text(&e, "en", "balance", out, sizeof(out), &len), -EAGAIN);
    assert_int_equal(ussd_engine_text(NULL, "en", "balance", out, sizeof(out), &len), -EINVAL);
}

/* Loads the shipped file with one change applied by fn; returns rc and err. */
static int load_changed(void (*fn)(json_t *doc), char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(SHIPPED, 0, &jerr);
    struct ussd_menus *m = NULL;
    char *text;
    int rc;

    assert_non_null(doc);
    fn(doc);
    text = json_dumps(doc, 0);
    json_decref(doc);
    assert_non_null(text);
    rc = ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, errlen);
    ussd_menus_free(m);
    free(text);
    return rc;
}

static void drop_sms_en(json_t *doc)
{
    json_object_del(json_object_get(doc, "sms"), "en");
}

static void bad_placeholder(json_t *doc)
{
    json_object_set_new(json_object_get(json_object_get(doc, "sms"), "fa"), "balance",
                        json_string("{pointz}"));
}

static void unknown_text(json_t *doc)
{
    json_object_set_new(json_object_get(json_object_get(doc, "sms"), "fr"), "bonus",
                        json_string("x"));
}

static void no_sms(json_t *doc)
{
    json_object_del(doc, "sms");
}

static void test_transport__sms_section__validated(void **state)
{
    char err[256];
    struct ussd_menus *m = NULL;
    struct ussd_env e;
    char out[64];
    size_t len;

    (void)state;
    assert_int_equal(load_changed(drop_sms_en, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "m.json: sms.en: missing (every language needs its SMS texts)");
    assert_int_equal(load_changed(bad_placeholder, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "m.json: sms.fa.balance: unknown placeholder {pointz}");
    assert_int_equal(load_changed(unknown_text, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "m.json: sms.fr: unknown key \"bonus\"");
    /* the section is optional: without it the SMS text is simply absent */
    assert_int_equal(load_changed(no_sms, err, sizeof(err)), 0);
    {
        json_error_t jerr;
        json_t *doc = json_load_file(SHIPPED, 0, &jerr);
        json_object_del(doc, "sms");
        char *text = json_dumps(doc, 0);
        json_decref(doc);
        assert_int_equal(ussd_menus_load_buffer(text, strlen(text), "m.json", &m, NULL, 0), 0);
        free(text);
    }
    e = (struct ussd_env){.cfg = &cfg, .menus = m, .sub = &sub};
    assert_int_equal(ussd_engine_text(&e, "fr", "balance", out, sizeof(out), &len), -ENOENT);
    ussd_menus_free(m);
}

/* ---------------------------------------------------------------- labels */

static void test_transport__labels__by_language_with_default(void **state)
{
    (void)state;
    assert_string_equal(ussd_menus_label(menus, "en", "unavailable"),
                        "Service unavailable, try later");
    assert_string_equal(ussd_menus_label(menus, "ar", "unavailable"), "الخدمة غير متوفرة حالياً");
    assert_string_equal(ussd_menus_label(menus, "xx", "unavailable"),
                        "Service momentanément indisponible");
    assert_string_equal(ussd_menus_label(menus, NULL, "more"), "00 Suite");
    assert_null(ussd_menus_label(menus, "en", "nope"));
    assert_null(ussd_menus_label(NULL, "en", "more"));
}

/* ---------------------------------------------------------------- current screen */

static void test_transport__show__renders_stored_state(void **state)
{
    struct ussd_env e = env();
    struct ussd_state st;
    struct ussd_reply *r = calloc(1, sizeof(*r));

    (void)state;
    assert_non_null(r);
    memset(&st, 0, sizeof(st));
    snprintf(st.node, sizeof(st.node), "help");
    snprintf(st.lang, sizeof(st.lang), "en");
    st.error = true; /* the re-shown screen has no error line */
    assert_int_equal(ussd_engine_show(&e, &st, r), 0);
    assert_string_equal(r->text, "Earn points with every recharge and bill payment. Spend them on "
                                 "gifts on gift days. Dial *555*1# for your points, *555*2*code# "
                                 "for a gift. This service is free.\n0 Back");
    assert_false(r->end);
    assert_false(r->error);
    assert_int_equal(r->effect, USSD_EFFECT_NONE);

    /* a node the menus no longer have: the root menu */
    snprintf(st.node, sizeof(st.node), "gone");
    assert_int_equal(ussd_engine_show(&e, &st, r), 0);
    assert_string_equal(
        r->text,
        "Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points");
    assert_int_equal(ussd_engine_show(&e, NULL, r), -EINVAL);
    free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_transport__sms_text__expanded_in_language),
        T(test_transport__sms_text__errors),
        T(test_transport__sms_section__validated),
        T(test_transport__labels__by_language_with_default),
        T(test_transport__show__renders_stored_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

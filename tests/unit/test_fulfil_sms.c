/*
 * test_fulfil_sms.c - the gift SMS texts of the menu file (ussd/ussd_sms.c, validated by
 * ussd/ussd_menu.c) as the fulfilment worker gets them through gateway/wire_fulfil.c: the
 * language chosen for a recipient (saved language, else the file's default), every text in the
 * four launch languages with its placeholders filled from the shipped catalogue's names, lines
 * without a value left out, Arabic and Persian texts going out in UCS-2, French and English in
 * GSM-7, and load-time validation that names the key. The worker's half (reading the recipient's
 * language, the built-in fallback) runs end to end in tests/it/test_ussd_redeem.sh.
 * Owner: the fulfilment engineer (issue 4, per-subscriber SMS language).
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

#include "cat_fulfil.h"
#include "catalog.h"
#include "smpp_text.h"
#include "ussd.h"

#define DEPLOY LGW_VECTORS "/../../deploy"

static struct ussd_menus *menus;
static struct cat_catalog *catalog;

static int setup(void **state)
{
    char err[256];

    (void)state;
    if (ussd_menus_load(DEPLOY "/ussd-menus.json", &menus, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    if (cat_catalog_load_file(DEPLOY "/catalog.json", NULL, &catalog, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ussd_menus_free(menus);
    cat_catalog_unref(catalog);
    return 0;
}

/* What gateway/wire_fulfil.c hands the menu file for one SMS: the text of the worker's kind, in
 * the recipient's language, the item named in that language by the catalogue. */
static int gift_text(const char *saved_lang, enum cat_sms_kind kind, const char *item,
                     const char *other, int64_t points, char *out, size_t cap)
{
    const char *code = ussd_menus_sms_lang(menus, saved_lang);
    const struct cat_item *it = cat_catalog_find(catalog, item);
    const char *name = item;
    char price[24];
    size_t len;

    for (int l = 0; it && l < CAT_LANG__COUNT; l++)
        if (strcmp(cat_lang_name((enum cat_lang)l), code) == 0)
            name = it->name[l];
    snprintf(price, sizeof(price), "%lld", (long long)points);
    const struct ussd_sms_var vars[] = {
        {"item_name", name},
        {"item_price", price},
        {"reference", kind == CAT_SMS_CONFIRM ? other : ""},
        {"beneficiary", kind == CAT_SMS_SENT_TO ? other : ""},
        {"sender", kind == CAT_SMS_GIFT_FROM ? other : ""},
        {"voucher_code", kind == CAT_SMS_VOUCHER ? other : ""},
        {"cause", kind == CAT_SMS_CHARITY ? other : ""},
    };
    return ussd_menus_sms_text(menus, code, cat_fulfil_sms_kind_name(kind), vars,
                               sizeof(vars) / sizeof(vars[0]), out, cap, &len);
}

static uint8_t coding_of(const char *text)
{
    struct smpp_text_opts o;
    uint8_t dcs = 0xFF;

    smpp_text_opts_defaults(&o);
    (void)smpp_text_choose(text, strlen(text), &o, &dcs);
    return dcs;
}

/* ---------------------------------------------------------------- language selection */

static void test_fulfil_sms__language__saved_one_else_the_files_default(void **state)
{
    (void)state;
    assert_true(ussd_menus_has_gift_sms(menus));
    assert_string_equal(ussd_menus_sms_lang(menus, "ar"), "ar");
    assert_string_equal(ussd_menus_sms_lang(menus, "fa"), "fa");
    assert_string_equal(ussd_menus_sms_lang(menus, "en"), "en");
    assert_string_equal(ussd_menus_sms_lang(menus, "fr"), "fr");
    /* nothing saved (a relative without a wallet, a failed read), or a language the file lacks */
    assert_string_equal(ussd_menus_sms_lang(menus, ""), "fr");
    assert_string_equal(ussd_menus_sms_lang(menus, NULL), "fr");
    assert_string_equal(ussd_menus_sms_lang(menus, "de"), "fr");
}

static void test_fulfil_sms__every_kind_has_a_text_in_every_language(void **state)
{
    static const enum cat_sms_kind kinds[] = {CAT_SMS_CONFIRM, CAT_SMS_SENT_TO, CAT_SMS_GIFT_FROM,
                                              CAT_SMS_VOUCHER, CAT_SMS_CHARITY, CAT_SMS_APOLOGY};
    char out[1024];

    (void)state;
    for (size_t l = 0; l < ussd_menus_lang_count(menus); l++) {
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            assert_int_equal(gift_text(ussd_menus_lang_code(menus, l), kinds[k], "DATA_1GB", "X1",
                                       500, out, sizeof(out)),
                             0);
            assert_true(strlen(out) > 0);
            assert_null(strchr(out, '{')); /* every placeholder filled */
        }
    }
}

/* ---------------------------------------------------------------- the four languages */

static void test_fulfil_sms__confirm__in_four_languages_with_the_catalogue_names(void **state)
{
    char out[1024];

    (void)state;
    assert_int_equal(gift_text("ar", CAT_SMS_CONFIRM, "DATA_1GB", "G-77", 500, out, sizeof(out)),
                     0);
    assert_string_equal(out, "تم تسليم هديتك 1 جيغا إنترنت.\nالمرجع: G-77");
    assert_int_equal(coding_of(out), 8);
    assert_int_equal(gift_text("fa", CAT_SMS_CONFIRM, "DATA_1GB", "G-77", 500, out, sizeof(out)),
                     0);
    assert_string_equal(out, "هدیه شما ۱ گیگابایت اینترنت تحویل داده شد.\nشماره پیگیری: G-77");
    assert_int_equal(coding_of(out), 8);
    assert_int_equal(gift_text("fr", CAT_SMS_CONFIRM, "DATA_1GB", "G-77", 500, out, sizeof(out)),
                     0);
    assert_string_equal(out, "Votre cadeau 1 Go Internet a été livré.\nRéf : G-77");
    assert_int_equal(coding_of(out), 0);
    assert_int_equal(gift_text("en", CAT_SMS_CONFIRM, "DATA_1GB", "G-77", 500, out, sizeof(out)),
                     0);
    assert_string_equal(out, "Your gift 1 GB data has been delivered.\nRef: G-77");
    assert_int_equal(coding_of(out), 0);
}

static void test_fulfil_sms__confirm__without_reference_the_line_is_left_out(void **state)
{
    char out[1024];

    (void)state;
    assert_int_equal(gift_text("ar", CAT_SMS_CONFIRM, "SMS_100", "", 300, out, sizeof(out)), 0);
    assert_string_equal(out, "تم تسليم هديتك 100 رسالة قصيرة.");
    assert_int_equal(gift_text("en", CAT_SMS_CONFIRM, "SMS_100", "", 300, out, sizeof(out)), 0);
    assert_string_equal(out, "Your gift 100 SMS has been delivered.");
}

static void test_fulfil_sms__gift__sender_and_relative_each_in_their_language(void **state)
{
    char out[1024];

    (void)state;
    /* a Persian subscriber gifts to a relative whose wallet says Arabic */
    assert_int_equal(
        gift_text("fa", CAT_SMS_SENT_TO, "VOICE_60MIN", "212698100004", 800, out, sizeof(out)), 0);
    assert_string_equal(out, "هدیه شما ۶۰ دقیقه مکالمه به 212698100004 تحویل داده شد.");
    assert_int_equal(coding_of(out), 8);
    assert_int_equal(
        gift_text("ar", CAT_SMS_GIFT_FROM, "VOICE_60MIN", "212612100003", 800, out, sizeof(out)),
        0);
    assert_string_equal(out, "أرسل لك 212612100003 هدية: 60 دقيقة مكالمات. استمتع!");
    assert_int_equal(coding_of(out), 8);
    /* a relative without a wallet: the default language (French) */
    assert_int_equal(
        gift_text("", CAT_SMS_GIFT_FROM, "VOICE_60MIN", "212612100003", 800, out, sizeof(out)), 0);
    assert_string_equal(out,
                        "Le 212612100003 vous a offert un cadeau : 60 min d'appels. Profitez-en !");
    assert_int_equal(
        gift_text("en", CAT_SMS_SENT_TO, "VOICE_60MIN", "212698100004", 800, out, sizeof(out)), 0);
    assert_string_equal(out, "Your gift 60 min of calls has been delivered to 212698100004.");
}

static void test_fulfil_sms__voucher_charity_apology__in_four_languages(void **state)
{
    char out[1024];

    (void)state;
    assert_int_equal(
        gift_text("en", CAT_SMS_VOUCHER, "VOUCHER_MARJANE_100", "MJ-1234", 4000, out, sizeof(out)),
        0);
    assert_string_equal(out, "Marjane voucher 100 MAD: your code is MJ-1234");
    assert_int_equal(
        gift_text("fr", CAT_SMS_VOUCHER, "VOUCHER_MARJANE_100", "MJ-1234", 4000, out, sizeof(out)),
        0);
    assert_string_equal(out, "Bon d'achat Marjane 100 DH : votre code est MJ-1234");
    assert_int_equal(
        gift_text("ar", CAT_SMS_VOUCHER, "VOUCHER_MARJANE_100", "MJ-1234", 4000, out, sizeof(out)),
        0);
    assert_string_equal(out, "قسيمة مرجان 100 درهم: رمز القسيمة MJ-1234");
    assert_int_equal(
        gift_text("fa", CAT_SMS_VOUCHER, "VOUCHER_MARJANE_100", "MJ-1234", 4000, out, sizeof(out)),
        0);
    assert_string_equal(out, "کارت خرید مرجان ۱۰۰ درهم: کد شما MJ-1234");

    assert_int_equal(
        gift_text("fr", CAT_SMS_CHARITY, "CHARITY_FOOD_BANK", "FOOD_BANK", 200, out, sizeof(out)),
        0);
    assert_string_equal(out, "Merci ! Vous avez donné 200 points : Don à la banque alimentaire.");
    assert_int_equal(
        gift_text("fa", CAT_SMS_CHARITY, "CHARITY_FOOD_BANK", "FOOD_BANK", 200, out, sizeof(out)),
        0);
    assert_string_equal(out, "سپاسگزاریم! 200 امتیاز شما اهدا شد: کمک به بانک غذا.");

    assert_int_equal(gift_text("ar", CAT_SMS_APOLOGY, "DATA_5GB", "", 2000, out, sizeof(out)), 0);
    assert_string_equal(out, "عذرا، تعذر تسليم 5 جيغا إنترنت. تمت إعادة 2000 نقطة إلى رصيدك.");
    assert_int_equal(coding_of(out), 8);
    assert_int_equal(gift_text("en", CAT_SMS_APOLOGY, "DATA_5GB", "", 2000, out, sizeof(out)), 0);
    assert_string_equal(
        out, "Sorry, we could not deliver 5 GB data. Your 2000 points have been refunded.");
    assert_int_equal(gift_text("fr", CAT_SMS_APOLOGY, "DATA_5GB", "", 2000, out, sizeof(out)), 0);
    assert_string_equal(
        out,
        "Désolé, nous n'avons pas pu livrer 5 Go Internet. Vos 2000 points ont été remboursés.");
    assert_int_equal(coding_of(out), 0);
}

/* ---------------------------------------------------------------- untrusted values, bounds */

static void test_fulfil_sms__values__cannot_add_lines_and_bounds_hold(void **state)
{
    struct ussd_sms_var v[] = {{"item_name", "1 GB\r\nFREE"}, {"reference", "R\x01"}};
    char out[128], tiny[10];
    size_t len = 99;

    (void)state;
    assert_int_equal(ussd_menus_sms_text(menus, "en", "confirm", v, 2, out, sizeof(out), &len), 0);
    assert_string_equal(out, "Your gift 1 GB  FREE has been delivered.\nRef: R ");
    assert_int_equal(len, strlen(out));
    assert_int_equal(ussd_menus_sms_text(menus, "en", "confirm", v, 2, tiny, sizeof(tiny), &len),
                     -ENOSPC);
    assert_string_equal(tiny, "");
    assert_int_equal(ussd_menus_sms_text(menus, "en", "balance", v, 2, out, sizeof(out), &len),
                     -ENOENT);
    assert_int_equal(ussd_menus_sms_text(menus, "en", "nope", v, 2, out, sizeof(out), &len),
                     -ENOENT);
    assert_int_equal(ussd_menus_sms_text(NULL, "en", "confirm", v, 2, out, sizeof(out), &len),
                     -EINVAL);
    assert_string_equal(cat_fulfil_sms_kind_name((enum cat_sms_kind)99), "");
}

/* ---------------------------------------------------------------- validation at load */

/* Loads the shipped file changed by fn; returns the load's rc with err. */
static int load_changed(void (*fn)(json_t *), char *err, size_t errlen, bool *has_gift)
{
    struct ussd_menus *m = NULL;
    json_error_t jerr;
    json_t *doc = json_load_file(DEPLOY "/ussd-menus.json", 0, &jerr);
    char *text;
    int rc;

    assert_non_null(doc);
    fn(doc);
    text = json_dumps(doc, 0);
    json_decref(doc);
    assert_non_null(text);
    err[0] = '\0';
    rc = ussd_menus_load_buffer(text, strlen(text), "m.json", &m, err, errlen);
    if (has_gift)
        *has_gift = ussd_menus_has_gift_sms(m);
    ussd_menus_free(m);
    free(text);
    return rc;
}

static json_t *sms_of(json_t *doc, const char *lang)
{
    return json_object_get(json_object_get(doc, "sms"), lang);
}

static void points_in_confirm(json_t *doc)
{
    json_object_set_new(sms_of(doc, "fr"), "confirm", json_string("Solde : {points}"));
}

static void code_in_apology(json_t *doc)
{
    json_object_set_new(sms_of(doc, "ar"), "apology", json_string("{voucher_code}"));
}

static void no_fa_apology(json_t *doc)
{
    json_object_del(sms_of(doc, "fa"), "apology");
}

static void empty_en_voucher(json_t *doc)
{
    json_object_set_new(sms_of(doc, "en"), "voucher", json_string(""));
}

static void gift_in_balance(json_t *doc)
{
    json_object_set_new(sms_of(doc, "en"), "balance", json_string("{sender}"));
}

static void only_one_gift_text(json_t *doc)
{
    static const char *const keys[] = {"confirm", "gift_sent", "gift_received",
                                       "voucher", "charity",   "apology"};
    static const char *const langs[] = {"ar", "fr", "en", "fa"};

    for (size_t l = 0; l < 4; l++)
        for (size_t k = 0; k < 6; k++)
            if (!(l == 1 && k == 0))
                json_object_del(sms_of(doc, langs[l]), keys[k]);
}

static void no_gift_texts(json_t *doc)
{
    only_one_gift_text(doc);
    json_object_del(sms_of(doc, "fr"), "confirm");
}

static void test_fulfil_sms__validation__errors_name_the_key(void **state)
{
    char err[256];
    bool has = true;

    (void)state;
    assert_int_equal(load_changed(points_in_confirm, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err, "m.json: sms.fr.confirm: unknown placeholder {points}");
    assert_int_equal(load_changed(code_in_apology, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err, "m.json: sms.ar.apology: unknown placeholder {voucher_code}");
    assert_int_equal(load_changed(no_fa_apology, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err,
                        "m.json: sms.fa.apology: missing (the gift texts come as a set, in every "
                        "language)");
    assert_int_equal(load_changed(empty_en_voucher, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err, "m.json: sms.en.voucher: must not be empty");
    /* the gift placeholders are the gift texts' own: the balance text cannot use them */
    assert_int_equal(load_changed(gift_in_balance, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err, "m.json: sms.en.balance: unknown placeholder {sender}");
    /* one gift text anywhere asks for the whole set */
    assert_int_equal(load_changed(only_one_gift_text, err, sizeof(err), NULL), -EINVAL);
    assert_string_equal(err,
                        "m.json: sms.ar.confirm: missing (the gift texts come as a set, in every "
                        "language)");
    /* none at all is valid: the worker then uses its built-in texts */
    assert_int_equal(load_changed(no_gift_texts, err, sizeof(err), &has), 0);
    assert_false(has);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fulfil_sms__language__saved_one_else_the_files_default),
        cmocka_unit_test(test_fulfil_sms__every_kind_has_a_text_in_every_language),
        cmocka_unit_test(test_fulfil_sms__confirm__in_four_languages_with_the_catalogue_names),
        cmocka_unit_test(test_fulfil_sms__confirm__without_reference_the_line_is_left_out),
        cmocka_unit_test(test_fulfil_sms__gift__sender_and_relative_each_in_their_language),
        cmocka_unit_test(test_fulfil_sms__voucher_charity_apology__in_four_languages),
        cmocka_unit_test(test_fulfil_sms__values__cannot_add_lines_and_bounds_hold),
        cmocka_unit_test(test_fulfil_sms__validation__errors_name_the_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

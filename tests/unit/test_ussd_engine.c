/*
 * test_ussd_engine.c - the dialogue engine (ussd_engine.c) over the shipped menu file and a fake
 * subscriber / catalogue: whole dialogues in Arabic, French, English and Persian with the exact
 * screens a handset shows; shortcuts and their strict parsing; bad input re-showing the screen
 * with the error line; paging with 00 / 0 through a long catalogue; the language and redemption
 * effects (a redemption only after the confirmation); hostile input; providers that fail. Also
 * the two paginator options the engine relies on (header line, back line on the first page).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ussd.h"

#define SHIPPED LGW_VECTORS "/../../deploy/ussd-menus.json"
#define RLM "\u200F"

/* ---------------------------------------------------------------- fake providers */

struct fake {
    char pref[8];
    int64_t balance, expiring;
    bool open;
    bool sub_down, cat_down, items_down;
};

static int lang_idx(const char *lang)
{
    return !strcmp(lang, "ar") ? 0 : !strcmp(lang, "fr") ? 1 : !strcmp(lang, "en") ? 2 : 3;
}

static int f_balance(void *arg, int64_t *points)
{
    struct fake *f = arg;
    if (f->sub_down)
        return -EIO;
    *points = f->balance;
    return 0;
}

static int f_expiring(void *arg, const char *lang, int64_t *points, char *date, size_t cap)
{
    struct fake *f = arg;
    (void)lang;
    *points = f->expiring;
    snprintf(date, cap, "31/12/2025");
    return 0;
}

static int f_tier(void *arg, const char *lang, char *out, size_t cap)
{
    static const char *t[] = {"ذهبي", "Or", "Gold", "طلایی"};
    (void)arg;
    snprintf(out, cap, "%s", t[lang_idx(lang)]);
    return 0;
}

static int f_history(void *arg, const char *lang, char lines[][USSD_HISTORY_LINE_MAX], size_t max,
                     size_t *n)
{
    static const char *h[4][3] = {
        {"12/05 +50 تعبئة", "10/05 +20 فاتورة", "02/05 -500 هدية"},
        {"12/05 +50 Recharge", "10/05 +20 Facture", "02/05 -500 Cadeau"},
        {"12/05 +50 Recharge", "10/05 +20 Bill", "02/05 -500 Gift"},
        {"12/05 +50 شارژ", "10/05 +20 قبض", "02/05 -500 هدیه"},
    };
    (void)arg;
    *n = max < 3 ? max : 3;
    for (size_t i = 0; i < *n; i++)
        snprintf(lines[i], USSD_HISTORY_LINE_MAX, "%s", h[lang_idx(lang)][i]);
    return 0;
}

static int f_language(void *arg, char *out, size_t cap)
{
    struct fake *f = arg;
    snprintf(out, cap, "%s", f->pref);
    return 0;
}

static const struct ussd_subscriber_ops fake_sub = {f_balance, f_expiring, f_tier, f_history,
                                                    f_language};

static const char *cat_names[3][4] = {
    {"إنترنت", "Internet", "Internet", "اینترنت"},
    {"مكالمات", "Appels", "Calls", "مکالمه"},
    {"متاجر شريكة", "Boutiques", "Partner shops", "فروشگاه‌ها"},
};

static int f_categories(void *arg, const char *lang, struct ussd_category *out, size_t max,
                        size_t *n)
{
    struct fake *f = arg;
    if (f->cat_down)
        return -EIO;
    *n = max < 3 ? max : 3;
    for (size_t i = 0; i < *n; i++) {
        out[i].id = (uint32_t)i + 1;
        snprintf(out[i].name, sizeof(out[i].name), "%s", cat_names[i][lang_idx(lang)]);
    }
    return 0;
}

/* Items: 3 (1 GB, in stock) and 4 (5 GB, out of stock) in category 1; 7 in category 2;
 * 100..129 ("Voucher 1".."Voucher 30") in category 3, the long catalogue. */
static bool item_by_id(const char *lang, uint32_t id, struct ussd_item *it)
{
    static const char *gb1[] = {"1 جيغا", "1 Go", "1 GB", "1 گیگ"};
    static const char *gb5[] = {"5 جيغا", "5 Go", "5 GB", "5 گیگ"};
    static const char *min60[] = {"60 دقيقة", "60 min", "60 min", "60 دقیقه"};
    int l = lang_idx(lang);

    memset(it, 0, sizeof(*it));
    it->id = id;
    if (id == 3) {
        it->category_id = 1;
        snprintf(it->name, sizeof(it->name), "%s", gb1[l]);
        it->price = 500;
        it->stock = 42;
    } else if (id == 4) {
        it->category_id = 1;
        snprintf(it->name, sizeof(it->name), "%s", gb5[l]);
        it->price = 2000;
        it->stock = 0;
    } else if (id == 7) {
        it->category_id = 2;
        snprintf(it->name, sizeof(it->name), "%s", min60[l]);
        it->price = 800;
        it->stock = 10;
    } else if (id >= 100 && id < 130) {
        it->category_id = 3;
        snprintf(it->name, sizeof(it->name), "Voucher %u", id - 99);
        it->price = 100 + id;
        it->stock = 5;
    } else {
        return false;
    }
    return true;
}

static int f_items(void *arg, const char *lang, uint32_t cat, struct ussd_item *out, size_t max,
                   size_t *n)
{
    struct fake *f = arg;
    size_t k = 0;

    if (f->cat_down || f->items_down)
        return -EIO;
    if (cat == 1) {
        item_by_id(lang, 3, &out[k++]);
        item_by_id(lang, 4, &out[k++]);
    } else if (cat == 2) {
        item_by_id(lang, 7, &out[k++]);
    } else if (cat == 3) {
        for (uint32_t id = 100; id < 130 && k < max; id++)
            item_by_id(lang, id, &out[k++]);
    }
    *n = k;
    return 0;
}

static int f_item(void *arg, const char *lang, uint32_t id, struct ussd_item *out)
{
    struct fake *f = arg;
    if (f->cat_down)
        return -EIO;
    return item_by_id(lang, id, out) ? 0 : -ENOENT;
}

static int f_window(void *arg, const char *lang, const char *tier, bool pass, bool *open,
                    char *next, size_t cap)
{
    (void)tier;
    (void)pass;
    static const char *nx[] = {"السبت 14/12 09:00", "sam. 14/12 09:00", "Sat 14/12 09:00",
                               "شنبه 14/12 09:00"};
    struct fake *f = arg;
    if (f->cat_down)
        return -EIO;
    *open = f->open;
    snprintf(next, cap, "%s", f->open ? "" : nx[lang_idx(lang)]);
    return 0;
}

static const struct ussd_catalog_ops fake_cat = {f_categories, f_items, f_item, f_window};

/* ---------------------------------------------------------------- fixture */

struct fx {
    struct ussd_config cfg;
    struct ussd_menus *menus;
    struct fake f;
    struct ussd_env env;
    struct ussd_state st;
    struct ussd_reply r;
};

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof(*x));
    char err[256];

    assert_non_null(x);
    ussd_config_defaults(&x->cfg);
    assert_int_equal(ussd_menus_load(SHIPPED, &x->menus, err, sizeof(err)), 0);
    x->f.balance = 1250;
    x->f.expiring = 300;
    x->f.open = true;
    x->env = (struct ussd_env){.cfg = &x->cfg, .menus = x->menus, .sub = &fake_sub, .sub_arg = &x->f,
                                .cat = &fake_cat, .cat_arg = &x->f};
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    ussd_menus_free(x->menus);
    free(x);
    return 0;
}

/* Every screen: fits its limit, its length fields agree with its text. */
static void check_reply(const struct fx *x)
{
    size_t limit = x->r.coding == SMPP_TEXT_GSM7 ? x->cfg.gsm7_limit : x->cfg.ucs2_limit;
    assert_int_equal(strlen(x->r.text), x->r.text_len);
    assert_true(x->r.units <= limit);
    assert_int_equal(smpp_text_units(x->r.coding, x->r.text, x->r.text_len, &x->cfg.text),
                     (ssize_t)x->r.units);
    assert_int_equal(x->r.data_coding, smpp_text_data_coding(x->r.coding, &x->cfg.text));
}

static void open_(struct fx *x, const char *dialled, const char *screen, bool end)
{
    assert_int_equal(ussd_engine_open(&x->env, dialled, strlen(dialled), &x->st, &x->r), 0);
    check_reply(x);
    assert_string_equal(x->r.text, screen);
    assert_int_equal(x->r.end, end);
}

static void answer(struct fx *x, const char *input, const char *screen, bool end)
{
    assert_int_equal(ussd_engine_answer(&x->env, input, strlen(input), &x->st, &x->r), 0);
    check_reply(x);
    assert_string_equal(x->r.text, screen);
    assert_int_equal(x->r.end, end);
}

#define EN_MAIN                                                                                    \
    "Loyalty Club\n1 My points\n2 History\n3 Gift catalogue\n4 Language\n5 Help\n6 Suggestions\n7 Transfer points"
#define FR_MAIN                                                                                    \
    "Club Fidélité\n1 Mes points\n2 Historique\n3 Catalogue cadeaux\n4 Langue\n5 Aide\n6 Suggestions\n7 Transférer des points"
#define AR_MAIN "نادي الوفاء\n1 نقاطي\n2 السجل\n3 الهدايا\n4 اللغة\n5 المساعدة\n6 آراؤكم\n7 تحويل"
#define FA_MAIN "باشگاه مشتریان\n1 امتیاز من\n2 سوابق\n3 هدایا\n4 زبان\n5 راهنما\n6 نظرات\n7 انتقال"

/* ---------------------------------------------------------------- dialogues, four languages */

static void test_engine__en__points_in_two_screens(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555#", EN_MAIN, false);
    assert_int_equal(x->r.coding, SMPP_TEXT_GSM7);
    assert_string_equal(x->st.node, "main");
    assert_string_equal(x->st.lang, "en");
    assert_string_equal(x->st.dialled, "*555#");
    answer(x, "1", "Balance: 1250 points\n300 points expire on 31/12/2025\nTier: Gold", true);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_engine__fr__history_then_nothing_expiring(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "fr");
    open_(x, "*555#", FR_MAIN, false);
    /* "é" is in the GSM alphabet: French stays in GSM-7 and its 182-character screens */
    assert_int_equal(x->r.coding, SMPP_TEXT_GSM7);
    answer(x, "2",
           "Derniers mouvements :\n12/05 +50 Recharge\n10/05 +20 Facture\n02/05 -500 Cadeau", true);

    /* nothing expires: the line about expiry is left out, not shown with empty values */
    x->f.expiring = 0;
    open_(x, "*555#", FR_MAIN, false);
    answer(x, "1", "Solde : 1250 points\nNiveau : Or", true);
}

static void test_engine__ar__catalogue_redeem_only_after_confirm(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "ar");
    open_(x, "*555#", AR_MAIN, false);
    assert_int_equal(x->r.coding, SMPP_TEXT_UCS2);
    answer(x, "3", "كتالوج الهدايا\n1 إنترنت\n2 مكالمات\n3 متاجر شريكة\n0 رجوع", false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "1", "إنترنت\n1 1 جيغا - 500 نقطة\n2 5 جيغا - 2000 نقطة\n0 رجوع", false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "1", "1 جيغا (الرمز 3)\nالسعر: 500 نقطة\nالكمية المتوفرة: 42\n1 استبدال\n0 رجوع",
           false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "1", "استبدال 500 نقطة مقابل 1 جيغا؟\n1 نعم، أؤكد\n2 لا", false);
    assert_true(x->r.confirm);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "1", "تم تسجيل طلبك: 1 جيغا. ستصلك رسالة.\nقيّم الخدمة من 1 إلى 5، 0 للتخطي", false);
    assert_int_equal(x->r.effect, USSD_EFFECT_REDEEM);
    assert_int_equal(x->r.effect_item, 3);
}

static void test_engine__fa__language_change_returns_set_language(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "fa");

    /* typed on a Persian keyboard: PERSIAN DIGIT TWO is 2, and so is ARABIC-INDIC DIGIT TWO */
    open_(x, "*555#", FA_MAIN, false);
    answer(x, "\u06F2",
           "آخرین تراکنش‌ها:\n12/05 +50 شارژ\n10/05 +20 قبض\n02/05 -500 "
           "هدیه",
           true);
    open_(x, "*555#", FA_MAIN, false);
    answer(x, "\u0662",
           "آخرین تراکنش‌ها:\n12/05 +50 شارژ\n10/05 +20 قبض\n02/05 -500 "
           "هدیه",
           true);
    open_(x, "*555#", FA_MAIN, false);
    answer(x, "2",
           "آخرین تراکنش‌ها:\n12/05 +50 شارژ\n10/05 +20 قبض\n02/05 -500 "
           "هدیه",
           true);

    open_(x, "*555#", FA_MAIN, false);
    answer(x, "4", "زبان خود را انتخاب کنید\n1 العربية\n2 Français\n3 English\n4 فارسی\n0 بازگشت",
           false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    answer(x, "2", "Votre langue est maintenant le français.", true);
    assert_int_equal(x->r.effect, USSD_EFFECT_SET_LANGUAGE);
    assert_string_equal(x->r.effect_lang, "fr");
    assert_string_equal(x->st.lang, "fr");

    open_(x, "*555#", FA_MAIN, false);
    answer(x, "4", "زبان خود را انتخاب کنید\n1 العربية\n2 Français\n3 English\n4 فارسی\n0 بازگشت",
           false);
    answer(x, "4", "زبان شما به فارسی تغییر کرد.", true);
    assert_string_equal(x->r.effect_lang, "fa");
}

static void test_engine__fa__item_and_confirm_no_goes_back(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "fa");
    open_(x, "*555*2*3#", "1 گیگ (کد 3)\nقیمت: 500 امتیاز\nموجودی: 42\n1 دریافت هدیه\n0 بازگشت",
          false);
    answer(x, "1",
           "500 امتیاز برای 1 گیگ کسر شود؟\n1 بله، تأیید "
           "می‌کنم\n2 "
           "خیر",
           false);
    answer(x, "2", "1 گیگ (کد 3)\nقیمت: 500 امتیاز\nموجودی: 42\n1 دریافت هدیه\n0 بازگشت", false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
}

static void test_engine__unknown_or_no_preference__default_language(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "de");
    open_(x, "*555#", FR_MAIN, false);
    x->f.pref[0] = '\0';
    open_(x, "*555#", FR_MAIN, false);
    x->env.sub = NULL; /* no subscriber data at all */
    open_(x, "*555#", FR_MAIN, false);
}

/* ---------------------------------------------------------------- shortcuts */

static void test_engine__shortcut_1__opens_points_at_once(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555*1#", "Balance: 1250 points\n300 points expire on 31/12/2025\nTier: Gold", true);
    assert_string_equal(x->st.node, "points");
    assert_string_equal(x->st.dialled, "*555*1#");
}

static void test_engine__shortcut_2_n__opens_item_back_goes_to_its_category(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555*2*3#", "1 GB (code 3)\nPrice: 500 points\nIn stock: 42\n1 Redeem\n0 Back",
          false);
    assert_int_equal(x->st.item, 3);
    assert_int_equal(x->st.category, 1);
    answer(x, "0", "Internet\n1 1 GB - 500 pts\n2 5 GB - 2000 pts\n0 Back", false);
    answer(x, "0", "Gift catalogue\n1 Internet\n2 Calls\n3 Partner shops\n0 Back", false);
    answer(x, "0", EN_MAIN, false);

    /* out of stock: no redeem option, the reason instead; "1" is then invalid */
    open_(x, "*555*2*4#", "5 GB (code 4)\nPrice: 2000 points\nIn stock: 0\nOut of stock\n0 Back",
          false);
    answer(x, "1",
           "Invalid choice\n5 GB (code 4)\nPrice: 2000 points\nIn stock: 0\nOut of stock\n0 Back",
           false);
}

static void test_engine__shortcut_parsing__strict(void **state)
{
    struct fx *x = *state;
    static const char *const bad[] = {
        "*555*2*0#",  "*555*2*1000#", "*555*2*03#", "*555*2#",    "*555*1*3#", "*556#",
        "*555",       "555#",         "*555*9#",    "*555**#",    "",          "*555#1",
        "*5555#",     "*555*2*3*4#",  "*555*2*3",   "**555#",     "*555*01#",  "*555*2*-3#",
        "*555*2* 3#", "*555*2*3##",   "#555#",      "*555*2*1a#",
    };
    const char *err_main = "Invalid choice\n" EN_MAIN;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ussd_engine_open(&x->env, bad[i], strlen(bad[i]), &x->st, &x->r), 0);
        if (strcmp(x->r.text, err_main) != 0)
            fail_msg("dialled \"%s\" gave:\n%s", bad[i], x->r.text);
        assert_false(x->r.end);
        assert_true(x->r.error);
        assert_string_equal(x->st.node, "main");
    }
    /* item 999 is well formed but not in the catalogue */
    open_(x, "*555*2*999#", err_main, false);
    /* the service code is configuration */
    snprintf(x->cfg.service_code, sizeof(x->cfg.service_code), "123");
    open_(x, "*123*1#", "Balance: 1250 points\n300 points expire on 31/12/2025\nTier: Gold", true);
    open_(x, "*555*1#", err_main, false);
    open_(x, "*123#", EN_MAIN, false);
}

/* ---------------------------------------------------------------- bad input */

static void test_engine__invalid_answer__same_screen_with_error_never_ends(void **state)
{
    struct fx *x = *state;
    static const char *const bad[] = {"9",   "abc",      "",   "#",           "1 2", "-1",
                                      "01",  "00",       "8",  "*",           "1*",  "1000",
                                      "0x1", "\xff\xfe", "١٠", "\u06F1\u200C"};
    const char *err_main = "Invalid choice\n" EN_MAIN;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555#", EN_MAIN, false);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ussd_engine_answer(&x->env, bad[i], strlen(bad[i]), &x->st, &x->r), 0);
        if (strcmp(x->r.text, err_main) != 0)
            fail_msg("answer \"%s\" gave:\n%s", bad[i], x->r.text);
        assert_false(x->r.end);
        assert_true(x->r.error);
        assert_true(x->st.error);
        assert_string_equal(x->st.node, "main");
    }
    /* "0" on the root has nowhere to go back to */
    answer(x, "0", err_main, false);
    /* spaces and one final '#' are tolerated */
    answer(x, " 5# ",
           "Earn points with every recharge and bill payment. Spend them on gifts on "
           "gift days. Dial *555*1# for your points, *555*2*code# for a gift. This "
           "service is free.\n0 Back",
           false);
    assert_false(x->st.error);
    /* the error line is on top and the page still fits: 182 exactly here */
    answer(x, "7",
           "Invalid choice\nEarn points with every recharge and bill payment. Spend "
           "them on gifts on gift days. Dial *555*1# for your points, *555*2*code# for a "
           "gift. This service is free.\n0 Back",
           false);
    assert_int_equal(x->r.units, 182);
    answer(x, "0", EN_MAIN, false);
}

static void test_engine__invalid_answer__arabic_error_line(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "ar");
    open_(x, "*555#", AR_MAIN, false);
    /* 73 units + the error line do not fit 80: the menu is paged, the error on every page */
    answer(x, "9", "اختيار غير صحيح\nنادي الوفاء\n1 نقاطي\n2 السجل\n3 الهدايا\n4 اللغة\n00 المزيد",
           false);
    answer(x, "00", AR_MAIN, false);
}

static void test_engine__hostile_input__capped_and_sanitised(void **state)
{
    struct fx *x = *state;
    char *big = malloc(5000);
    struct ussd_state before;

    assert_non_null(big);
    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    for (size_t i = 0; i < 5000; i++)
        big[i] = (char)(i % 7 == 0 ? 0 : '1' + i % 3); /* digits and NULs */
    open_(x, "*555#", EN_MAIN, false);
    before = x->st;
    assert_int_equal(ussd_engine_answer(&x->env, big, 5000, &x->st, &x->r), 0);
    assert_string_equal(x->r.text, "Invalid choice\n" EN_MAIN);
    assert_string_equal(x->st.node, before.node);
    /* a NUL inside a short answer is not a terminator: "1\0" is not "1" */
    assert_int_equal(ussd_engine_answer(&x->env, "1\0", 2, &x->st, &x->r), 0);
    assert_true(x->r.error);
    /* 5000 bytes dialled: the root with the error; what is kept is bounded and sanitised */
    memset(big, '*', 5000);
    memcpy(big, "*555*1#\0\n\x1b", 10);
    assert_int_equal(ussd_engine_open(&x->env, big, 5000, &x->st, &x->r), 0);
    assert_string_equal(x->r.text, "Invalid choice\n" EN_MAIN);
    assert_true(strlen(x->st.dialled) < USSD_DIALLED_MAX);
    for (const char *p = x->st.dialled; *p; p++)
        assert_non_null(strchr("0123456789*#", *p));
    /* random bytes everywhere, many times: never a crash, never an ended dialogue */
    uint32_t seed = 12345;
    for (int round = 0; round < 300; round++) {
        size_t n = round % 50;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            big[i] = (char)(seed >> 16);
        }
        assert_int_equal(ussd_engine_answer(&x->env, big, n, &x->st, &x->r), 0);
        check_reply(x);
        assert_true(x->r.error || x->r.end || x->st.node[0]);
        if (x->r.end)
            open_(x, "*555#", EN_MAIN, false);
    }
    /* a state from elsewhere (node gone after a reload, garbage): the root with the error */
    snprintf(x->st.node, sizeof(x->st.node), "gone");
    answer(x, "1", "Invalid choice\n" EN_MAIN, false);
    /* unterminated fields, unknown language: the default language's root with the error */
    memset(&x->st, 0x41, sizeof(x->st));
    answer(x, "1", "Choix invalide\n" FR_MAIN, false);
    assert_string_equal(x->st.lang, "fr");
    assert_int_equal(ussd_engine_open(NULL, "*555#", 5, &x->st, &x->r), -EINVAL);
    assert_int_equal(ussd_engine_answer(&x->env, NULL, 3, &x->st, &x->r), -EINVAL);
    free(big);
}

/* ---------------------------------------------------------------- pagination */

static void test_engine__long_catalogue__00_next_0_previous_then_parent(void **state)
{
    struct fx *x = *state;
    const char *p0 = "Partner shops\n1 Voucher 1 - 200 pts\n2 Voucher 2 - 201 pts\n"
                     "3 Voucher 3 - 202 pts\n4 Voucher 4 - 203 pts\n5 Voucher 5 - 204 pts\n"
                     "6 Voucher 6 - 205 pts\n7 Voucher 7 - 206 pts\n0 Back\n00 More";
    const char *p1 = "8 Voucher 8 - 207 pts\n9 Voucher 9 - 208 pts\n10 Voucher 10 - 209 pts\n"
                     "11 Voucher 11 - 210 pts\n12 Voucher 12 - 211 pts\n13 Voucher 13 - 212 pts\n"
                     "14 Voucher 14 - 213 pts\n0 Back\n00 More";
    const char *last = "29 Voucher 29 - 228 pts\n30 Voucher 30 - 229 pts\n0 Back";

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555#", EN_MAIN, false);
    answer(x, "3", "Gift catalogue\n1 Internet\n2 Calls\n3 Partner shops\n0 Back", false);
    answer(x, "3", p0, false);
    answer(x, "00", p1, false);
    assert_int_equal(x->st.page, 1);
    answer(x, "0", p0, false);
    assert_int_equal(x->st.page, 0);
    answer(x, "00", p1, false);
    for (uint32_t page = 2; page <= 4; page++) {
        assert_int_equal(ussd_engine_answer(&x->env, "00", 2, &x->st, &x->r), 0);
        check_reply(x);
        assert_int_equal(x->st.page, page);
        assert_int_equal(x->r.error, false);
    }
    assert_string_equal(x->r.text, last);
    /* no page after the last: the same page with the error line */
    /* the error line takes room: that page holds fewer options, the last ones of the list */
    answer(x, "00",
           "Invalid choice\n25 Voucher 25 - 224 pts\n26 Voucher 26 - 225 pts\n"
           "27 Voucher 27 - 226 pts\n28 Voucher 28 - 227 pts\n29 Voucher 29 - 228 pts\n"
           "30 Voucher 30 - 229 pts\n0 Back",
           false);
    assert_int_equal(x->st.page, 4);
    /* an option of another page is still a valid choice (numbers are global to the list) */
    answer(x, "2", "Voucher 2 (code 101)\nPrice: 201 points\nIn stock: 5\n1 Redeem\n0 Back", false);
    answer(x, "0", p0, false);
    answer(x, "0", "Gift catalogue\n1 Internet\n2 Calls\n3 Partner shops\n0 Back", false);
}

static void test_engine__final_screen_longer_than_a_page__ends_on_last_page(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    x->cfg.gsm7_limit = 40;
    open_(x, "*555*1#", "Balance: 1250 points\n300 points\n00 More", false);
    /* the last page ends the dialogue: no "0 Back" line on it */
    answer(x, "00", "expire on 31/12/2025\nTier: Gold", true);
}

static void test_engine__bidi_marks__rtl_languages_only(void **state)
{
    struct fx *x = *state;

    x->cfg.bidi_marks = true;
    snprintf(x->f.pref, sizeof(x->f.pref), "ar");
    open_(x, "*555*1#",
          RLM "رصيدك: 1250 نقطة\n" RLM "300 نقطة تنتهي صلاحيتها في 31/12/2025\n" RLM "مستواك: ذهبي",
          true);
    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555*1#", "Balance: 1250 points\n300 points expire on 31/12/2025\nTier: Gold", true);
}

/* ---------------------------------------------------------------- confirmation and providers */

static void test_engine__confirm__gift_day_closed_meanwhile_no_redeem(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555*2*3#", "1 GB (code 3)\nPrice: 500 points\nIn stock: 42\n1 Redeem\n0 Back",
          false);
    answer(x, "1", "Redeem 1 GB for 500 points?\n1 Yes, confirm\n2 No", false);
    assert_true(x->r.confirm);
    x->f.open = false;
    answer(x, "1",
           "1 GB (code 3)\nPrice: 500 points\nIn stock: 42\nNext gift day: Sat 14/12 09:00\n0 Back",
           false);
    assert_int_equal(x->r.effect, USSD_EFFECT_NONE);
    /* closed: no redeem option; "1" is invalid */
    answer(x, "1",
           "Invalid choice\n1 GB (code 3)\nPrice: 500 points\nIn stock: 42\n"
           "Next gift day: Sat 14/12 09:00\n0 Back",
           false);
}

static void test_engine__provider_down__unavailable_line_never_ends(void **state)
{
    struct fx *x = *state;

    snprintf(x->f.pref, sizeof(x->f.pref), "en");
    open_(x, "*555#", EN_MAIN, false);
    x->f.cat_down = true;
    answer(x, "3", "Service unavailable, try later\n" EN_MAIN, false);
    assert_true(x->r.error);
    x->f.cat_down = false;
    answer(x, "3", "Gift catalogue\n1 Internet\n2 Calls\n3 Partner shops\n0 Back", false);
    /* the items of a category fail: back on the categories, with the line on top */
    x->f.items_down = true;
    answer(x, "1",
           "Service unavailable, try later\nGift catalogue\n1 Internet\n2 Calls\n"
           "3 Partner shops\n0 Back",
           false);
    assert_string_equal(x->st.node, "catalog");
    x->f.items_down = false;
    answer(x, "1", "Internet\n1 1 GB - 500 pts\n2 5 GB - 2000 pts\n0 Back", false);
    /* everything down: the root menu, which needs no provider */
    x->f.cat_down = true;
    answer(x, "0", "Service unavailable, try later\n" EN_MAIN, false);

    x->f.sub_down = true;
    open_(x, "*555*1#", "Service unavailable, try later\n" EN_MAIN, false);
    x->env.cat = NULL;
    open_(x, "*555*2*3#", "Service unavailable, try later\n" EN_MAIN, false);
}

/* ---------------------------------------------------------------- paginator options */

static void test_page__header_on_every_page_and_first_back(void **state)
{
    struct ussd_page_config pc;
    struct ussd_pages *pg = NULL;
    const char *opts[12];
    char buf[12][16];

    (void)state;
    for (int i = 0; i < 12; i++) {
        snprintf(buf[i], sizeof(buf[i]), "%d Option %d", i + 1, i + 1);
        opts[i] = buf[i];
    }
    ussd_page_config_defaults(&pc);
    pc.gsm7_limit = 60;
    pc.header = "Invalid choice";
    pc.first_back = true;
    assert_int_equal(ussd_pages_new(&pc, "Title", opts, 12, &pg), 0);
    size_t n = ussd_pages_count(pg);
    assert_true(n > 1);
    for (size_t i = 0; i < n; i++) {
        struct ussd_page p;
        assert_int_equal(ussd_pages_get(pg, i, &p), 0);
        assert_true(p.units <= 60);
        assert_int_equal(strncmp(p.text, "Invalid choice\n", 15), 0);
        assert_true(p.has_back);
        assert_int_equal(p.has_more, i + 1 < n);
    }
    struct ussd_page p0;
    assert_int_equal(ussd_pages_get(pg, 0, &p0), 0);
    assert_string_equal(p0.text, "Invalid choice\nTitle\n1 Option 1\n2 Option 2\n0 Back\n00 More");
    ussd_pages_free(pg);

    /* a non-GSM header makes the whole screen UCS-2 */
    pc.header = "اختيار غير صحيح";
    pc.first_back = false;
    assert_int_equal(ussd_pages_new(&pc, "Title", opts, 1, &pg), 0);
    assert_int_equal(ussd_pages_get(pg, 0, &p0), 0);
    assert_int_equal(p0.coding, SMPP_TEXT_UCS2);
    assert_string_equal(p0.text, "اختيار غير صحيح\nTitle\n1 Option 1");
    ussd_pages_free(pg);

    /* a header that leaves no room for content is refused, not looped on */
    pc.gsm7_limit = 20;
    pc.header = "0123456789012345678";
    assert_int_equal(ussd_pages_new(&pc, "Title", opts, 12, &pg), -EINVAL);
    assert_null(pg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_engine__en__points_in_two_screens),
        T(test_engine__fr__history_then_nothing_expiring),
        T(test_engine__ar__catalogue_redeem_only_after_confirm),
        T(test_engine__fa__language_change_returns_set_language),
        T(test_engine__fa__item_and_confirm_no_goes_back),
        T(test_engine__unknown_or_no_preference__default_language),
        T(test_engine__shortcut_1__opens_points_at_once),
        T(test_engine__shortcut_2_n__opens_item_back_goes_to_its_category),
        T(test_engine__shortcut_parsing__strict),
        T(test_engine__invalid_answer__same_screen_with_error_never_ends),
        T(test_engine__invalid_answer__arabic_error_line),
        T(test_engine__hostile_input__capped_and_sanitised),
        T(test_engine__long_catalogue__00_next_0_previous_then_parent),
        T(test_engine__final_screen_longer_than_a_page__ends_on_last_page),
        T(test_engine__bidi_marks__rtl_languages_only),
        T(test_engine__confirm__gift_day_closed_meanwhile_no_redeem),
        T(test_engine__provider_down__unavailable_line_never_ends),
        cmocka_unit_test(test_page__header_on_every_page_and_first_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * ussd_fake.h - test helper: a fake subscriber and gift catalogue for the USSD dialogue engine
 * (struct ussd_subscriber_ops / ussd_catalog_ops), shared by the limits unit test and the USSD
 * fuzz target. Texts in the four shipped languages; item names include the widest characters a
 * screen may hold (an escaped GSM-7 euro sign, a non-BMP emoji) and a name longer than a screen.
 * Flags make a provider fail (-EIO) so that the "unavailable" fallback screens are reached.
 * Everything is static data: nothing to free.
 */
#ifndef USSD_FAKE_H
#define USSD_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ussd.h"

struct ussd_fake {
    char pref[8];
    int64_t balance, expiring;
    bool open;
    bool sub_down, cat_down, items_down;
};

static int ussd_fake_lang(const char *lang)
{
    return !strcmp(lang, "ar") ? 0 : !strcmp(lang, "fr") ? 1 : !strcmp(lang, "en") ? 2 : 3;
}

static int ussd_fake_balance(void *arg, int64_t *points)
{
    struct ussd_fake *f = arg;

    if (f->sub_down)
        return -EIO;
    *points = f->balance;
    return 0;
}

static int ussd_fake_expiring(void *arg, const char *lang, int64_t *points, char *date, size_t cap)
{
    struct ussd_fake *f = arg;

    (void)lang;
    if (f->sub_down)
        return -EIO;
    *points = f->expiring;
    snprintf(date, cap, "31/12/2030");
    return 0;
}

static int ussd_fake_tier(void *arg, const char *lang, char *out, size_t cap)
{
    static const char *t[] = {"ذهبي", "Or", "Gold", "طلایی"};
    struct ussd_fake *f = arg;

    if (f->sub_down)
        return -EIO;
    snprintf(out, cap, "%s", t[ussd_fake_lang(lang)]);
    return 0;
}

static int ussd_fake_history(void *arg, const char *lang, char lines[][USSD_HISTORY_LINE_MAX],
                             size_t max, size_t *n)
{
    static const char *h[4][3] = {
        {"12/05 +50 تعبئة", "10/05 +20 فاتورة", "02/05 -500 هدية"},
        {"12/05 +50 Recharge", "10/05 +20 Facture", "02/05 -500 Cadeau 5€"},
        {"12/05 +50 Recharge", "10/05 +20 Bill", "02/05 -500 Gift {5€}"},
        {"12/05 +50 شارژ", "10/05 +20 قبض", "02/05 -500 هدیه"},
    };
    struct ussd_fake *f = arg;

    if (f->sub_down)
        return -EIO;
    *n = max < 3 ? max : 3;
    for (size_t i = 0; i < *n; i++)
        snprintf(lines[i], USSD_HISTORY_LINE_MAX, "%s", h[ussd_fake_lang(lang)][i]);
    return 0;
}

static int ussd_fake_language(void *arg, char *out, size_t cap)
{
    struct ussd_fake *f = arg;

    snprintf(out, cap, "%s", f->pref);
    return 0;
}

static const struct ussd_subscriber_ops ussd_fake_sub = {
    ussd_fake_balance, ussd_fake_expiring, ussd_fake_tier, ussd_fake_history, ussd_fake_language};

static int ussd_fake_categories(void *arg, const char *lang, struct ussd_category *out, size_t max,
                                size_t *n)
{
    static const char *names[3][4] = {
        {"إنترنت", "Internet", "Internet", "اینترنت"},
        {"مكالمات", "Appels", "Calls", "مکالمه"},
        {"متاجر شريكة", "Boutiques partenaires €", "Partner shops €", "فروشگاه‌ها"},
    };
    struct ussd_fake *f = arg;

    if (f->cat_down)
        return -EIO;
    *n = max < 3 ? max : 3;
    for (size_t i = 0; i < *n; i++) {
        out[i].id = (uint32_t)i + 1;
        snprintf(out[i].name, sizeof(out[i].name), "%s", names[i][ussd_fake_lang(lang)]);
    }
    return 0;
}

/* Items 3 (in stock) and 4 (out of stock) in category 1, 7 in category 2, 100..111 in 3. */
static bool ussd_fake_item_by_id(const char *lang, uint32_t id, struct ussd_item *it)
{
    static const char *gb1[] = {"1 جيغا", "1 Go", "1 GB", "1 گیگ"};
    static const char *wide[] = {"🎁 هدية", "Bon d'achat de cinquante euros 50€ valable partout",
                                 "Shopping voucher worth fifty euros {50€} valid everywhere",
                                 "🎁 هدیه"};

    memset(it, 0, sizeof(*it));
    it->id = id;
    if (id == 3 || id == 4) {
        it->category_id = 1;
        snprintf(it->name, sizeof(it->name), "%s", gb1[ussd_fake_lang(lang)]);
        it->price = 500;
        it->stock = id == 3 ? 42 : 0;
    } else if (id == 7) {
        it->category_id = 2;
        snprintf(it->name, sizeof(it->name), "%s", wide[ussd_fake_lang(lang)]);
        it->price = 800;
        it->stock = 10;
    } else if (id >= 100 && id < 112) {
        it->category_id = 3;
        snprintf(it->name, sizeof(it->name), "Voucher %u€", id - 99);
        it->price = 100 + id;
        it->stock = 5;
    } else {
        return false;
    }
    snprintf(it->version, sizeof(it->version), "v1");
    snprintf(it->ref, sizeof(it->ref), "ITEM_%u", id);
    return true;
}

static int ussd_fake_items(void *arg, const char *lang, uint32_t cat, struct ussd_item *out,
                           size_t max, size_t *n)
{
    struct ussd_fake *f = arg;
    size_t k = 0;

    if (f->cat_down || f->items_down)
        return -EIO;
    for (uint32_t id = 1; id < 112 && k < max; id++) {
        struct ussd_item it;

        if (ussd_fake_item_by_id(lang, id, &it) && it.category_id == cat)
            out[k++] = it;
    }
    *n = k;
    return 0;
}

static int ussd_fake_item(void *arg, const char *lang, uint32_t id, struct ussd_item *out)
{
    struct ussd_fake *f = arg;

    if (f->cat_down)
        return -EIO;
    return ussd_fake_item_by_id(lang, id, out) ? 0 : -ENOENT;
}

static int ussd_fake_window(void *arg, const char *lang, const char *tier, bool pass,
                            bool *open, char *next, size_t cap)
{
    (void)tier;
    (void)pass;
    static const char *nx[] = {"السبت 14/12 09:00", "sam. 14/12 09:00", "Sat 14/12 09:00",
                               "شنبه 14/12 09:00"};
    struct ussd_fake *f = arg;

    if (f->cat_down)
        return -EIO;
    *open = f->open;
    snprintf(next, cap, "%s", f->open ? "" : nx[ussd_fake_lang(lang)]);
    return 0;
}

static const struct ussd_catalog_ops ussd_fake_cat = {ussd_fake_categories, ussd_fake_items,
                                                      ussd_fake_item, ussd_fake_window};

#endif

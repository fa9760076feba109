/*
 * ussd_sms.c - the gift SMS texts of the menu file (ussd.h "gift SMS texts"): which text exists,
 * which placeholders each may use, the language an SMS goes out in, and the expansion.
 * Owned by the fulfilment engineer (issue 4, per-subscriber SMS language); the texts themselves
 * are marketing's, validated by ussd_menu.c (load_sms) with the table below.
 *
 * Why here and not in catalog/: the worker (catalog/cat_fulfil.c) must not depend on ussd/, so
 * the loyaltygw adapter (gateway/wire_fulfil.c) asks this file for the text and hands it over.
 * Nothing is allocated: the expansion writes into the caller's buffer and the texts point into
 * the menus object, which owns them.
 */
#include "ussd_priv.h"

#include <errno.h>
#include <string.h>

#define GIFT_DEF(n, a, b, c) {#n, {a, b, c, NULL}},
const struct menu_gift_sms_def menu_gift_sms_defs[MENU_GIFT_SMS__COUNT] = {USSD_GIFT_SMS(GIFT_DEF)};
const struct menu_gift_sms_def menu_xfer_sms_defs[2] = {USSD_XFER_SMS(GIFT_DEF)};
#undef GIFT_DEF

bool ussd_menus_has_gift_sms(const struct ussd_menus *m)
{
    return m && m->has_gift_sms;
}

bool ussd_menus_has_xfer_sms(const struct ussd_menus *m)
{
    return m && m->has_xfer_sms;
}

void ussd_mask_number(const char *msisdn, char *out, size_t cap)
{
    size_t n = msisdn ? strnlen(msisdn, USSD_MSISDN_MAX) : 0;
    size_t head = n > 6 ? 4 : 0, k = 0;

    if (!out || cap == 0)
        return;
    for (size_t i = 0; i < n && k + 1 < cap; i++)
        out[k++] = i < head || i + 2 >= n ? msisdn[i] : '*';
    out[k] = '\0';
}

const char *ussd_menus_sms_lang(const struct ussd_menus *m, const char *lang)
{
    int li;

    if (!m)
        return NULL;
    li = lang && lang[0] ? menu_lang_find(m, lang) : -1;
    return m->lang[li >= 0 ? (size_t)li : m->default_lang].code;
}

/* The bounded output of one expansion: fails for good once it is full. */
struct obuf {
    char *p;
    size_t len, cap;
    bool full;
};

static void put(struct obuf *b, const char *s, size_t n)
{
    if (b->full || n >= b->cap - b->len) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static const char *var_value(const struct ussd_sms_var *vars, size_t nvars, const char *name,
                             size_t len)
{
    for (size_t i = 0; i < nvars; i++)
        if (vars[i].name && strlen(vars[i].name) == len && memcmp(vars[i].name, name, len) == 0)
            return vars[i].value;
    return NULL;
}

/* Appends a value (untrusted): control characters become spaces, so a value cannot add lines. */
static void put_value(struct obuf *b, const char *v)
{
    for (; *v; v++) {
        char ch = ((unsigned char)*v < 0x20 || *v == 0x7f) ? ' ' : *v;
        put(b, &ch, 1);
    }
}

int ussd_menus_sms_text(const struct ussd_menus *m, const char *lang, const char *name,
                        const struct ussd_sms_var *vars, size_t nvars, char *out, size_t cap,
                        size_t *len)
{
    struct obuf b = {out, 0, cap, false};
    const char *tpl = NULL;
    int li;

    if (!m || !name || !out || cap == 0 || !len || (nvars && !vars))
        return -EINVAL;
    out[0] = '\0';
    *len = 0;
    li = menu_lang_find(m, ussd_menus_sms_lang(m, lang));
    for (size_t k = 0; m->has_gift_sms && k < MENU_GIFT_SMS__COUNT; k++)
        if (strcmp(menu_gift_sms_defs[k].name, name) == 0)
            tpl = m->lang[li].sms_gift[k];
    for (size_t k = 0; m->has_xfer_sms && k < 2; k++)
        if (strcmp(menu_xfer_sms_defs[k].name, name) == 0)
            tpl = m->lang[li].sms_xfer[k];
    if (!tpl)
        return -ENOENT;
    /* line by line: a line is written only once it is known that none of its placeholders is
     * empty (the way screens leave out "... expire on {expiring_date}" when nothing expires) */
    for (const char *line = tpl; line;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        size_t mark = b.len;
        bool drop = false;

        if (mark > 0)
            put(&b, "\n", 1);
        for (const char *p = line; p < end && !drop; p++) {
            const char *close = *p == '{' ? memchr(p, '}', (size_t)(end - p)) : NULL;
            if (!close) {
                put(&b, p, 1);
                continue;
            }
            const char *v = var_value(vars, nvars, p + 1, (size_t)(close - p - 1));
            if (!v || !v[0])
                drop = true;
            else
                put_value(&b, v);
            p = close;
        }
        if (drop && !b.full) {
            b.len = mark;
            out[mark] = '\0';
        }
        line = eol ? eol + 1 : NULL;
    }
    if (b.full) {
        out[0] = '\0';
        return -ENOSPC;
    }
    *len = b.len;
    return 0;
}

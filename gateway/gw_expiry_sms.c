/*
 * gw_expiry_sms.c - expiry warnings as SMS (gw_expiry_sms.h). The four launch languages are
 * built in (the dates read dd/mm/yyyy in all of them, as on the USSD balance screen).
 */
#include "gw_expiry_sms.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sms.h"
#include "ussd.h"

/* points, date, shortcut */
static const struct {
    const char *lang, *fmt;
} TEXTS[] = {
    {"ar", "نادي الوفاء: %s نقطة تنتهي صلاحيتها في %s. استبدلها الآن: اطلب %s"},
    {"fr", "Club Fidélité : %s points expirent le %s. Échangez-les maintenant : composez %s"},
    {"en", "Loyalty Club: %s points expire on %s. Redeem them now: dial %s"},
    {"fa", "باشگاه وفاداری: %s امتیاز در %s منقضی می‌شود. همین حالا استفاده کنید: "
           "%s"},
};

static const char *fmt_of(const char *lang)
{
    for (size_t i = 0; lang && i < sizeof(TEXTS) / sizeof(TEXTS[0]); i++)
        if (strcmp(TEXTS[i].lang, lang) == 0)
            return TEXTS[i].fmt;
    return NULL;
}

int gw_expiry_sms_text(const struct gw_expiry_warning *w, const char *fallback,
                       const char *service_code, char *out, size_t cap)
{
    char pts[24], date[16], code[32];
    const char *fmt;
    int n;

    if (!w || !out || cap == 0 || !service_code || w->points <= 0 || !gw_days_valid(w->last_day))
        return -EINVAL;
    fmt = fmt_of(w->lang);
    if (!fmt)
        fmt = fmt_of(fallback);
    if (!fmt)
        fmt = fmt_of("en");
    snprintf(pts, sizeof(pts), "%" PRId64, w->points);
    snprintf(date, sizeof(date), "%02d/%02d/%04d", (int)(w->last_day % 100),
             (int)(w->last_day / 100 % 100), (int)(w->last_day / 10000));
    snprintf(code, sizeof(code), "*%.20s#", service_code);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = snprintf(out, cap, fmt, pts, date, code);
#pragma GCC diagnostic pop
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
        return -ENOSPC;
    }
    return n;
}

struct gw_expiry_sms {
    struct gw_sms *sms;
    char code[32];
    struct ussd_menus *const *menus;
};

struct send_ctx {
    gw_expiry_done_cb done;
    void *ctx;
};

static void on_sent(void *arg, int err)
{
    struct send_ctx *c = arg;
    gw_expiry_done_cb done = c->done;
    void *ctx = c->ctx;

    free(c);
    done(ctx, err);
}

static int warn(void *arg, const struct gw_expiry_warning *w, gw_expiry_done_cb done, void *ctx)
{
    struct gw_expiry_sms *s = arg;
    const struct ussd_menus *m = s->menus ? *s->menus : NULL;
    char text[512];
    int n =
        gw_expiry_sms_text(w, m ? ussd_menus_default_lang(m) : "en", s->code, text, sizeof(text));
    struct send_ctx *c;
    int rc;

    if (n < 0)
        return n;
    c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->done = done;
    c->ctx = ctx;
    rc = gw_sms_send(s->sms, w->msisdn, text, (size_t)n, on_sent, c);
    if (rc < 0)
        free(c);
    return rc;
}

struct gw_expiry_sms *gw_expiry_sms_new(struct gw_sms *sms, const char *service_code,
                                        struct ussd_menus *const *menus)
{
    struct gw_expiry_sms *s;

    if (!sms || !service_code)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->sms = sms;
    snprintf(s->code, sizeof(s->code), "%.20s", service_code);
    s->menus = menus;
    return s;
}

void gw_expiry_sms_ops(struct gw_expiry_sms *s, struct gw_expiry_ops *out)
{
    out->warn = warn;
    out->arg = s;
}

void gw_expiry_sms_free(struct gw_expiry_sms *s)
{
    free(s);
}

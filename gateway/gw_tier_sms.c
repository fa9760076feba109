/*
 * gw_tier_sms.c - a tier change as an SMS (gw_tier_job.h's ops->notify): the text in the
 * subscriber's language (ar, fr, en, fa; the menu file's default language, then English, for a
 * subscriber without one), sent through gw_sms, i.e. the SMPP link's TPS bucket and window.
 */
#include "gw_tier_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sms.h"
#include "ussd.h"

/* the new tier's name (as the loyalty table spells it) */
static const struct {
    const char *lang, *up, *down;
} TEXTS[] = {
    {"ar", "نادي الوفاء: مبروك! أصبحت الآن في فئة %s مع مزاياها.",
     "نادي الوفاء: أصبحت الآن في فئة %s. اشحن رصيدك لتستعيد فئتك السابقة."},
    {"fr", "Club Fidélité : félicitations, vous passez au niveau %s et à ses avantages.",
     "Club Fidélité : vous êtes désormais au niveau %s. Rechargez pour retrouver votre niveau."},
    {"en", "Loyalty Club: congratulations, you are now %s, with all its benefits.",
     "Loyalty Club: you are now %s. Recharge to win your previous tier back."},
    {"fa", "باشگاه وفاداری: تبریک! اکنون در سطح %s هستید، با همه مزایای آن.",
     "باشگاه وفاداری: اکنون در سطح %s هستید. با شارژ، سطح قبلی خود را پس بگیرید."},
};

static int text_of(const char *lang)
{
    for (size_t i = 0; lang && i < sizeof(TEXTS) / sizeof(TEXTS[0]); i++)
        if (strcmp(TEXTS[i].lang, lang) == 0)
            return (int)i;
    return -1;
}

int gw_tier_sms_text(const struct gw_tier_notice *n, const char *fallback, char *out, size_t cap)
{
    int i, len;

    if (!n || !out || cap == 0 || n->to[0] == '\0')
        return -EINVAL;
    i = text_of(n->lang);
    if (i < 0)
        i = text_of(fallback);
    if (i < 0)
        i = text_of("en");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    len = snprintf(out, cap, n->up ? TEXTS[i].up : TEXTS[i].down, n->to);
#pragma GCC diagnostic pop
    if (len < 0 || (size_t)len >= cap) {
        out[0] = '\0';
        return -ENOSPC;
    }
    return len;
}

struct gw_tier_sms {
    struct gw_sms *sms;
    struct ussd_menus *const *menus;
};

static int notify(void *arg, const struct gw_tier_notice *n, gw_tier_done_cb done, void *ctx)
{
    struct gw_tier_sms *s = arg;
    const struct ussd_menus *m = s->menus ? *s->menus : NULL;
    char text[512];
    int len = gw_tier_sms_text(n, m ? ussd_menus_default_lang(m) : "en", text, sizeof(text));

    if (len < 0)
        return len;
    /* gw_tier_done_cb is a gw_sms_cb: same contract (once, when the last part is answered) */
    return gw_sms_send(s->sms, n->msisdn, text, (size_t)len, done, ctx);
}

struct gw_tier_sms *gw_tier_sms_new(struct gw_sms *sms, struct ussd_menus *const *menus)
{
    struct gw_tier_sms *s;

    if (!sms)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->sms = sms;
    s->menus = menus;
    return s;
}

void gw_tier_sms_ops(struct gw_tier_sms *s, struct gw_tier_ops *out)
{
    out->notify = notify;
    out->arg = s;
}

void gw_tier_sms_free(struct gw_tier_sms *s)
{
    free(s);
}

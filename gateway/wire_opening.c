/*
 * wire_opening.c - the day-before slot SMS of a staggered opening (wire_opening.h): the plan of
 * the campaign of each gift day and the expansion of {slot} per member. Pure computation over the
 * catalogue wiring's calendar and catalogue; Redis and SMPP are the broadcast runner's.
 */
#include "wire_opening.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "gw_core.h"
#include "wire_catalog.h"

#define LOG_CAT "opening"
#define SLOTS_MAX 4 /* staggered items named in one SMS (more: the first four, catalogue order) */

struct wire_opening {
    struct wire_catalog *cat;
    uint32_t hour;                   /* broadcast.slot_sms_hour */
    uint32_t quiet_start, quiet_end; /* expiry's quiet hours, local */
    char code[32];                   /* the USSD service code: "555" */
};

/* {slot}: the member's slot(s); the code to dial. Texts of the programme's four languages. */
static const struct {
    const char *lang, *fmt;
} TEXTS[] = {
    {"ar", "نادي الوفاء: يوم الهدايا غدا. موعدك: {slot}. اطلب *%s#"},
    {"fr", "Club Fidélité : journée cadeaux demain. Votre créneau : {slot}. Composez *%s#"},
    {"en", "Loyalty Club: gift day tomorrow. Your slot: {slot}. Dial *%s#"},
    {"fa", "باشگاه وفاداری: روز هدیه فردا است. نوبت شما: {slot}. شماره *%s# را بگیرید"},
};
#define N_TEXTS (sizeof(TEXTS) / sizeof(TEXTS[0]))

int wire_opening_sms_text(const char *lang, const char *service_code, char *out, size_t cap)
{
    size_t k = 2; /* English */
    int n;

    for (size_t i = 0; lang && i < N_TEXTS; i++)
        if (strcmp(TEXTS[i].lang, lang) == 0)
            k = i;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = snprintf(out, cap, TEXTS[k].fmt, service_code ? service_code : "");
#pragma GCC diagnostic pop
    if (n < 0 || (size_t)n >= cap) {
        if (cap)
            out[0] = '\0';
        return -ENOSPC;
    }
    return n;
}

/* Whether item `it` of version c opens staggered on gift day `day` (enabled, valid, not killed). */
static bool staggered_on(struct wire_catalog *w, const struct cat_catalog *c,
                         const struct cat_item *it, int32_t day)
{
    return it->cohorts >= CAT_COHORTS_MIN && it->opening_minutes > 0 &&
           cat_item_check(wire_catalog_store(w), c, it->id, day) == CAT_ITEM_OK;
}

static int plan(void *arg, int64_t now, struct gw_broadcast_plan *out)
{
    struct wire_opening *o = arg;
    const struct cat_calendar *cal = wire_catalog_calendar(o->cat);
    struct cat_catalog *c = cat_store_current(wire_catalog_store(o->cat));
    struct cat_gift_window win;
    struct cat_tm tm;
    int64_t noon, send_at;
    bool any = false;
    size_t off;
    int rc = 0;

    if (!cal || !c || cat_calendar_next_open(cal, now, NULL, NULL, NULL, &win) < 0)
        goto out;
    for (size_t i = 0; !any && i < cat_catalog_count(c); i++)
        any = staggered_on(o->cat, c, cat_catalog_item_at(c, i), win.gift_day);
    if (!any)
        goto out;
    /* the day before the gift day, at the configured local hour (noon - 24 h lands on the day
     * before whatever DST does in between) */
    const struct cat_tz *tz = cat_calendar_tz(cal);
    if (cat_tz_local_to_utc(tz, win.gift_day / 10000, win.gift_day / 100 % 100, win.gift_day % 100,
                            12, 0, 0, CAT_TZ_EARLIER, &noon, NULL) < 0 ||
        cat_tz_localtime(tz, noon - 86400, &tm) < 0 ||
        cat_tz_local_to_utc(tz, tm.year, tm.mon, tm.day, (int)o->hour, 0, 0, CAT_TZ_EARLIER,
                            &send_at, NULL) < 0)
        goto out;
    if (now < send_at || now >= win.regular_start)
        goto out;
    snprintf(out->id, sizeof(out->id), "slot-%08" PRId32, win.gift_day);
    snprintf(out->default_lang, sizeof(out->default_lang), "en");
    out->send_at = send_at;
    out->opening = win.regular_start;
    out->until = win.regular_start;
    out->quiet = true;
    /* the texts as a JSON object; they hold no quote or backslash (checked below) */
    off = (size_t)snprintf(out->texts, sizeof(out->texts), "{");
    for (size_t i = 0; i < N_TEXTS; i++) {
        char t[GW_BC_TEXT_MAX];
        if (wire_opening_sms_text(TEXTS[i].lang, o->code, t, sizeof(t)) < 0 ||
            strpbrk(t, "\"\\") != NULL)
            goto out;
        int n = snprintf(out->texts + off, sizeof(out->texts) - off, "%s\"%s\":\"%s\"",
                         i ? "," : "", TEXTS[i].lang, t);
        if (n < 0 || (size_t)n >= sizeof(out->texts) - off)
            goto out;
        off += (size_t)n;
    }
    if (off + 2 > sizeof(out->texts))
        goto out;
    memcpy(out->texts + off, "}", 2);
    rc = 1;
out:
    cat_catalog_unref(c);
    return rc;
}

static int expand(void *arg, int64_t opening, const char *msisdn, const char *tier,
                  const char *lang, const char *tpl, char *out, size_t cap)
{
    struct wire_opening *o = arg;
    struct cat_catalog *c = cat_store_current(wire_catalog_store(o->cat));
    const struct cat_calendar *cal = wire_catalog_calendar(o->cat);
    char slots[4 * 160] = "";
    size_t used = 0, named = 0;
    const char *at;
    int l = CAT_LANG_EN, n = 0;

    if (!c || !cal || !msisdn || !tpl || !(at = strstr(tpl, "{slot}")))
        goto out;
    for (int k = 0; k < CAT_LANG__COUNT; k++)
        if (lang && strcmp(lang, cat_lang_name((enum cat_lang)k)) == 0)
            l = k;
    int32_t day = cat_tz_local_date(cat_calendar_tz(cal), opening);
    for (size_t i = 0; named < SLOTS_MAX && i < cat_catalog_count(c); i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        char when[48];
        if (!staggered_on(o->cat, c, it, day))
            continue;
        wire_catalog_format_local(o->cat, cat_cohort_release_tier(it, msisdn, tier, opening), lang,
                                  when, sizeof(when));
        int k = snprintf(slots + used, sizeof(slots) - used, "%s%s %s", named ? ", " : "",
                         it->name[l], when);
        if (k < 0 || (size_t)k >= sizeof(slots) - used)
            break;
        used += (size_t)k;
        named++;
    }
    if (named == 0)
        goto out; /* nothing staggered that day any more: nothing to tell */
    n = snprintf(out, cap, "%.*s%s%s", (int)(at - tpl), tpl, slots, at + strlen("{slot}"));
    if (n < 0 || (size_t)n >= cap)
        n = -ENOSPC;
out:
    cat_catalog_unref(c);
    return n;
}

static bool quiet(void *arg, int64_t now)
{
    struct wire_opening *o = arg;
    const struct cat_calendar *cal = wire_catalog_calendar(o->cat);
    struct cat_tm tm;
    unsigned s = o->quiet_start, e = o->quiet_end, h;

    if (s == e || !cal || cat_tz_localtime(cat_calendar_tz(cal), now, &tm) < 0)
        return false;
    h = (unsigned)tm.hour;
    return s < e ? (h >= s && h < e) : (h >= s || h < e);
}

struct wire_opening *wire_opening_new(struct wire_catalog *cat, const struct gw_config *cfg)
{
    struct wire_opening *o;

    if (!cat || !cfg)
        return NULL;
    o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->cat = cat;
    o->hour = cfg->broadcast.slot_sms_hour;
    o->quiet_start = cfg->expiry.quiet_start_hour;
    o->quiet_end = cfg->expiry.quiet_end_hour;
    snprintf(o->code, sizeof(o->code), "%.20s", cfg->ussd.service_code);
    GW_LOGN(LOG_CAT, "slot SMS: the day before a staggered gift day from %02u:00, quiet %02u-%02u",
            o->hour, o->quiet_start, o->quiet_end);
    return o;
}

void wire_opening_hooks(struct wire_opening *o, struct gw_broadcast_hooks *out)
{
    *out = (struct gw_broadcast_hooks){.plan = plan, .expand = expand, .quiet = quiet, .arg = o};
}

void wire_opening_free(struct wire_opening *o)
{
    free(o);
}

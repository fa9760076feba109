/*
 * gw_campaign_call.c - the pure parts of the campaign runner (gw_campaign_run.h): the arguments of
 * one campaign.lua EVENT call (the daemon, the cluster steps and the what-if replay build them
 * here, in one place), the quiet hours and the counters' JSON.
 */
#include "gw_campaign_run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gw_days.h"
#include "gw_expiry.h"
#include "gw_redis.h"
#include "gw_zone.h"

int gw_campaign_event_call(const struct gw_campaigns *doc, const char *msisdn, const char *kind,
                           const char *ref, int32_t day, int64_t amount_milli, int64_t now,
                           uint32_t history_len, struct gw_camp_event_call *q)
{
    const char **argv = q->argv;
    int argc = 0, nkeys = 3, ncamp = 0;
    const struct gw_camp *wb = NULL;

    if (!doc || !msisdn || !kind || !ref)
        return -EINVAL;
    for (size_t i = 0; i < doc->n; i++) {
        const struct gw_camp *c = &doc->c[i];
        if (c->rule == GW_CAMP_WINBACK && !wb && gw_camp_active(c, day))
            wb = c;
        if (gw_camp_active(c, day) && c->rule != GW_CAMP_BIRTHDAY)
            ncamp++;
    }
    bool index = wb && strcmp(kind, "TOPUP") == 0;
    if (ncamp == 0 && !index)
        return 1;
    snprintf(q->kw, sizeof(q->kw), "lg:{%s}:w", msisdn);
    snprintf(q->kh, sizeof(q->kh), "lg:{%s}:h", msisdn);
    argv[argc++] = q->kw;
    argv[argc++] = q->kh;
    argv[argc++] = GW_CAMP_KEY_BUDGET;
    if (gw_slot_tag_of(msisdn, q->tag) < 0)
        return -EINVAL;
    if (index) {
        snprintf(q->kd, sizeof(q->kd), "lg:cw:%s:%08" PRId32, q->tag,
                 gw_days_add(day, (int32_t)wb->lapse_days));
        argv[argc++] = q->kd;
        nkeys = 4;
    }
    /* the slot's aggregates (docs/data-model.md 6), last: the day is the event's, as its commit's
     */
    snprintf(q->kag[0], sizeof(q->kag[0]), "lg:ag:%s:%08" PRId32, q->tag, day);
    snprintf(q->kag[1], sizeof(q->kag[1]), "lg:ag:%s:tot", q->tag);
    argv[argc++] = q->kag[0];
    argv[argc++] = q->kag[1];
    nkeys += 2;
#define NUM(fmt, v)                                                                                \
    do {                                                                                           \
        snprintf(q->bufs[argc], sizeof(q->bufs[0]), fmt, v);                                       \
        argv[argc] = q->bufs[argc];                                                                \
        argc++;                                                                                    \
    } while (0)
    argv[argc++] = "EVENT";
    NUM("%" PRId64, now);
    NUM("%08" PRId32, day);
    argv[argc++] = kind;
    argv[argc++] = ref;
    NUM("%" PRIu32, history_len);
    NUM("%" PRId32, gw_zone_utc_offset(now)); /* the programme zone's, seconds east of UTC */
    NUM("%d", ncamp);
    for (size_t i = 0, k = 0; i < doc->n; i++) {
        const struct gw_camp *c = &doc->c[i];
        if (!gw_camp_active(c, day) || c->rule == GW_CAMP_BIRTHDAY) /* the birthday pass's */
            continue;
        argv[argc++] = c->id;
        argv[argc++] = gw_camp_rule_name(c->rule);
        NUM("%" PRId64, c->points);
        if (gw_camp_tiers_arg(c, q->tiers[k], sizeof(q->tiers[k])) < 0)
            return -EINVAL;
        argv[argc++] = q->tiers[k++];
        NUM("%" PRId64, c->budget);
        if (c->rule == GW_CAMP_WELCOME)
            NUM("%08" PRId32, c->start);
        else if (c->rule == GW_CAMP_TENURE) {
            char *p = q->bufs[argc];
            size_t at = 0;
            p[0] = '\0';
            for (size_t y = 0; y < c->n_years && at < sizeof(q->bufs[0]) - 5; y++)
                at += (size_t)snprintf(p + at, sizeof(q->bufs[0]) - at, "%s%" PRIu32, y ? "," : "",
                                       c->years[y]);
            argv[argc] = p;
            argc++;
        } else if (c->rule == GW_CAMP_REFERRAL) {
            snprintf(q->bufs[argc], sizeof(q->bufs[0]), "%" PRIu32 ",%" PRId64 ",%" PRId64,
                     c->valid_days, c->min_amount_milli, amount_milli > 0 ? amount_milli : 0);
            argv[argc] = q->bufs[argc];
            argc++;
        } else
            argv[argc++] = "";
        argv[argc++] = c->label;
    }
#undef NUM
    for (int i = 0; i < argc; i++)
        q->len[i] = strlen(argv[i]);
    q->argc = argc;
    q->nkeys = nkeys;
    return 0;
}

bool gw_campaign_quiet(const struct gw_campaign_run_config *cfg, int64_t now)
{
    struct cat_tm tm;
    uint32_t s = cfg->quiet_start_hour, e = cfg->quiet_end_hour;

    if (s == e || gw_zone_localtime(now, &tm) < 0)
        return false;
    uint32_t h = (uint32_t)tm.hour;
    return s < e ? (h >= s && h < e) : (h >= s || h < e);
}

void gw_campaign_stats_json(const struct gw_campaign_stats *st, FILE *out)
{
    const char *sep = "";

    fputc('{', out);
#define GW_X_JSON(name, help)                                                                      \
    fprintf(out, "%s\"%s\":%llu", sep, #name, (unsigned long long)st->name);                       \
    sep = ",";
    GW_CAMPAIGN_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fputc('}', out);
}

/*
 * gw_campaign_bday.c - the birthday pass (gw_campaign_bday.h).
 *
 * One slot at a time: SMEMBERS of the month-day sets of the days read, then one campaign.lua
 * BDAY per member (the script decides: birth date celebrated on that day, not paid this year,
 * budget), then for each bonus credited the consent check and the greeting. A struct bpass is
 * shared by the requests of the slot in flight and counts them (pending); requests find the
 * object through the pass, and a cancelled request (-ECANCELED, gw_redis_free) touches only it.
 */
#include "gw_campaign_bday.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gw_birthday.h"
#include "gw_broadcast.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_expiry.h"
#include "gw_loyalty.h"
#include "gw_campaign_cl.h"
#include "gw_redis.h"
#include "gw_sms.h"

#define LOG_CAT "campaign"
#define CATCHUP_MAX 31

struct gw_campaign_bday {
    struct event_base *base;
    struct gw_redis *redis; /* NULL once detached */
    struct gw_sms *sms;
    struct gw_campaign_run_config cfg;
    uint32_t history_len;
    char fallback[8];
    int script;
    bool have; /* camp holds the document's birthday campaign */
    struct gw_camp camp;
    struct event *ev;
    struct bpass *pass; /* the pass under way, or NULL */
    int32_t done_day;   /* the last local day whose pass completed without error */
    struct gw_campaign_stats *st;
    const struct gw_camp_cl *cl; /* a Redis Cluster: the two-step bonus, else NULL */
};

struct bpass {
    struct gw_campaign_bday *b; /* NULL: the object is gone, finish quietly */
    struct gw_camp c;
    int64_t now;
    int32_t today;
    int32_t days[CATCHUP_MAX + 1]; /* the days paid for (the campaign active on each) */
    int ndays;
    unsigned slot;
    int pending;
    bool failed;
    char tag[GW_SLOT_TAG_MAX];
    gw_campaign_bday_done_cb done;
    void *arg;
};

struct set_req {
    struct bpass *p;
    int32_t day;
};

struct grant_req {
    struct bpass *p;
    char msisdn[16];
    char lang[8];
    int32_t day;
    int64_t points;
};

static void slot_next(struct bpass *p);

static void pass_end(struct bpass *p)
{
    struct gw_campaign_bday *b = p->b;

    if (b) {
        b->pass = NULL;
        b->st->birthday_passes++;
        if (!p->failed)
            b->done_day = p->today;
        GW_LOGN(LOG_CAT, "birthday pass of %08" PRId32 " done (%s)%s", p->today, p->c.id,
                p->failed ? ", some failed: retried by the next pass" : "");
    }
    if (b && p->done) /* the owner freed the object: nobody is waiting any more */
        p->done(p->arg, p->failed ? -EIO : 0);
    free(p);
}

static void put_pending(struct bpass *p)
{
    if (--p->pending > 0)
        return;
    p->slot++;
    slot_next(p);
}

static void fail_req(struct bpass *p, int err)
{
    p->failed = true;
    if (p->b && err != -ECANCELED)
        p->b->st->errors++;
}

static void sms_done(void *arg, int err)
{
    struct bpass *p = arg;

    if (p->b) {
        if (err == 0)
            p->b->st->birthday_sms++;
        else
            p->b->st->birthday_sms_skipped++;
    }
    put_pending(p);
}

static void optin_reply(void *arg, int err, const struct redisReply *reply)
{
    struct grant_req *q = arg;
    struct bpass *p = q->p;
    struct gw_campaign_bday *b = p->b;
    char text[GW_CAMP_TEXT_MAX + 64];

    if (b && b->sms && err == 0 && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1 &&
        gw_camp_offer_text(&p->c, q->lang, b->fallback, q->points, q->day, text, sizeof(text)) ==
            0) {
        p->pending++;
        if (gw_sms_send(b->sms, q->msisdn, text, strlen(text), sms_done, p) < 0) {
            p->pending--;
            b->st->birthday_sms_skipped++;
        }
    } else if (b)
        b->st->birthday_sms_skipped++;
    free(q);
    put_pending(p);
}

/* campaign.lua BDAY's reply: {id, points, "ok"|"budget"}..., balance, lang */
static void grant_reply(void *arg, int err, const struct redisReply *reply)
{
    struct grant_req *q = arg;
    struct bpass *p = q->p;
    struct gw_campaign_bday *b = p->b;
    bool paid = false;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign.lua BDAY: %.200s", reply->str);
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        fail_req(p, err < 0 ? err : -EPROTO);
    } else if (b) {
        for (size_t i = 0; i + 3 < reply->elements; i += 3) {
            const struct redisReply *pts = reply->element[i + 1], *oc = reply->element[i + 2];
            if (pts->type != REDIS_REPLY_STRING || oc->type != REDIS_REPLY_STRING)
                break;
            if (strcmp(oc->str, "ok") == 0) {
                paid = true;
                q->points = strtoll(pts->str, NULL, 10);
                b->st->grants++;
                b->st->birthdays++;
                b->st->points += (uint64_t)q->points;
            } else if (strcmp(oc->str, "budget") == 0)
                b->st->budget_stops++;
        }
        const struct redisReply *lang = reply->element[reply->elements - 1];
        if (paid && reply->elements >= 5 && lang->type == REDIS_REPLY_STRING)
            snprintf(q->lang, sizeof(q->lang), "%s", lang->str);
    }
    if (paid && b && b->redis) {
        /* consent is read just before the send (the audience of the reminders) */
        const char *argv[] = {"SISMEMBER", GW_BC_KEY_OPTIN, q->msisdn};
        size_t len[] = {9, strlen(GW_BC_KEY_OPTIN), strlen(q->msisdn)};
        if (gw_redis_command(b->redis, 3, argv, len, optin_reply, q) == 0)
            return; /* the pending count passes to optin_reply */
        b->st->birthday_sms_skipped++;
    }
    free(q);
    put_pending(p);
}

static void grant(struct bpass *p, const char *msisdn, int32_t day)
{
    struct gw_campaign_bday *b = p->b;
    struct grant_req *q = calloc(1, sizeof(*q));
    char kw[40], kh[40], kag[2][48], now[24], today[16], ref[24], hlen[16], pts[24], budget[24],
        on[16], tiers[400];
    const char *argv[20];
    size_t len[20];
    int argc = 0;

    if (!q || gw_camp_tiers_arg(&p->c, tiers, sizeof(tiers)) < 0) {
        free(q);
        p->failed = true;
        return;
    }
    *q = (struct grant_req){.p = p, .day = day};
    snprintf(q->msisdn, sizeof(q->msisdn), "%s", msisdn);
    snprintf(kw, sizeof(kw), "lg:{%s}:w", msisdn);
    snprintf(kh, sizeof(kh), "lg:{%s}:h", msisdn);
    /* the slot's aggregates (docs/data-model.md 6) of the credit's day */
    snprintf(kag[0], sizeof(kag[0]), "lg:ag:%s:%08" PRId32, p->tag, p->today);
    snprintf(kag[1], sizeof(kag[1]), "lg:ag:%s:tot", p->tag);
    snprintf(now, sizeof(now), "%" PRId64, p->now);
    snprintf(today, sizeof(today), "%08" PRId32, p->today);
    snprintf(ref, sizeof(ref), "bd:%08" PRId32, day);
    snprintf(hlen, sizeof(hlen), "%" PRIu32, b->history_len);
    snprintf(pts, sizeof(pts), "%" PRId64, p->c.points);
    snprintf(budget, sizeof(budget), "%" PRId64, p->c.budget);
    snprintf(on, sizeof(on), "%08" PRId32, day);
    argv[argc++] = kw;
    argv[argc++] = kh;
    argv[argc++] = GW_CAMP_KEY_BUDGET;
    argv[argc++] = kag[0];
    argv[argc++] = kag[1];
    /* EVENT's arguments with one campaign: the zone's offset is only tenure's (0 here) */
    const char *rest[] = {"BDAY", now,       today,    "BIRTHDAY", ref, hlen,    "0", "1",
                          p->c.id, "birthday", pts,   tiers,      budget, on, p->c.label};
    for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
        argv[argc++] = rest[i];
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    p->pending++;
    int rc = b->cl ? gw_camp_cl_bonus(b->cl, 5, argc, argv, len, grant_reply, q)
                   : gw_redis_script_run(b->redis, b->script, 5, argc, argv, len, grant_reply, q);
    if (rc < 0) {
        p->pending--;
        p->failed = true;
        free(q);
    }
}

static void members_reply(void *arg, int err, const struct redisReply *reply)
{
    struct set_req *s = arg;
    struct bpass *p = s->p;

    if (err < 0 || reply->type != REDIS_REPLY_ARRAY)
        fail_req(p, err < 0 ? err : -EPROTO);
    else if (p->b && p->b->redis)
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING && reply->element[i]->len < 16)
                grant(p, reply->element[i]->str, s->day);
    free(s);
    put_pending(p);
}

static void slot_next(struct bpass *p)
{
    struct gw_campaign_bday *b = p->b;

    if (p->slot >= GW_SLOTS || !b || !b->redis) {
        pass_end(p);
        return;
    }
    p->pending = 1; /* held until every set of the slot is asked for */
    gw_slot_tag(p->slot, p->tag);
    for (int k = 0; k < p->ndays; k++) {
        int32_t mmdd[2];
        int n = gw_birthday_sets_of_day(p->days[k], mmdd);
        for (int j = 0; j < n; j++) {
            struct set_req *s = malloc(sizeof(*s));
            char key[48];
            if (!s) {
                p->failed = true;
                continue;
            }
            *s = (struct set_req){.p = p, .day = p->days[k]};
            snprintf(key, sizeof(key), GW_BDAY_KEY_FMT, p->tag, (int)mmdd[j]);
            const char *argv[] = {"SMEMBERS", key};
            size_t len[] = {8, strlen(key)};
            p->pending++;
            if (gw_redis_command(b->redis, 2, argv, len, members_reply, s) < 0) {
                p->pending--;
                p->failed = true;
                free(s);
            }
        }
    }
    put_pending(p);
}

int gw_campaign_bday_pass(struct gw_campaign_bday *b, gw_campaign_bday_done_cb done, void *arg)
{
    struct bpass *p;

    if (!b || !b->redis)
        return -EINVAL;
    if (b->pass)
        return -EBUSY;
    if (!b->have)
        return 1;
    if (!(p = calloc(1, sizeof(*p))))
        return -ENOMEM;
    p->b = b;
    p->c = b->camp;
    p->now = gw_clock_now_ms() / 1000;
    p->today = gw_local_day(p->now);
    p->done = done;
    p->arg = arg;
    /* the catch-up days first, oldest first: a day missed (gateway down) is still paid */
    for (int32_t k = (int32_t)b->cfg.catchup_days; k >= 0; k--) {
        int32_t d = gw_days_add(p->today, -k);
        if (d && gw_camp_active(&p->c, d))
            p->days[p->ndays++] = d;
    }
    if (p->ndays == 0) {
        free(p);
        return 1;
    }
    b->pass = p;
    GW_LOGN(LOG_CAT, "birthday pass of %08" PRId32 " (%s, %d day(s))", p->today, p->c.id,
            p->ndays);
    slot_next(p);
    return 0;
}

/* ---------------------------------------------------------------- the timer */

static void rearm(struct gw_campaign_bday *b)
{
    struct timeval tv = {.tv_sec = b->cfg.pass_interval_s};

    if (b->ev && b->redis)
        evtimer_add(b->ev, &tv);
}

static void timer_pass_done(void *arg, int err)
{
    (void)err;
    rearm(arg);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gw_campaign_bday *b = arg;
    int64_t now = gw_clock_now_ms() / 1000;

    (void)fd;
    (void)what;
    if (b->done_day == gw_local_day(now) || !gw_redis_is_connected(b->redis) ||
        gw_campaign_quiet(&b->cfg, now) || gw_campaign_bday_pass(b, timer_pass_done, b) != 0)
        rearm(b);
}

/* ---------------------------------------------------------------- life cycle */

struct gw_campaign_bday *gw_campaign_bday_new(struct event_base *base, struct gw_redis *redis,
                                              struct gw_sms *sms,
                                              const struct gw_campaign_run_config *cfg,
                                              uint32_t history_len, const char *fallback_lang,
                                              struct gw_campaign_stats *st)
{
    struct gw_campaign_bday *b = calloc(1, sizeof(*b));

    if (!b || !base || !redis || !cfg || !st)
        goto fail;
    b->base = base;
    b->redis = redis;
    b->sms = sms;
    b->cfg = *cfg;
    if (b->cfg.catchup_days > CATCHUP_MAX)
        b->cfg.catchup_days = CATCHUP_MAX;
    b->history_len = history_len ? history_len : 50;
    b->st = st;
    snprintf(b->fallback, sizeof(b->fallback), "%s", fallback_lang ? fallback_lang : "en");
    b->script = gw_redis_script_add(redis, gw_lua_campaign, gw_lua_campaign_len);
    b->ev = evtimer_new(base, on_timer, b);
    if (b->script < 0 || !b->ev)
        goto fail;
    return b;
fail:
    gw_campaign_bday_free(b);
    return NULL;
}

void gw_campaign_bday_set_doc(struct gw_campaign_bday *b, const struct gw_campaigns *doc)
{
    const struct gw_camp *c = NULL;

    for (size_t i = 0; doc && i < doc->n && !c; i++)
        if (doc->c[i].rule == GW_CAMP_BIRTHDAY)
            c = &doc->c[i];
    if (c && (!b->have || strcmp(b->camp.id, c->id) != 0))
        b->done_day = 0; /* a new campaign: today's pass runs for it */
    b->have = c != NULL;
    if (c)
        b->camp = *c;
}

int gw_campaign_bday_start(struct gw_campaign_bday *b)
{
    struct timeval tv = {.tv_sec = 1};

    if (!b || !b->ev)
        return -EINVAL;
    return evtimer_add(b->ev, &tv) == 0 ? 0 : -EIO;
}

void gw_campaign_bday_set_cluster(struct gw_campaign_bday *b, const struct gw_camp_cl *cl)
{
    if (b)
        b->cl = cl;
}

void gw_campaign_bday_detach(struct gw_campaign_bday *b)
{
    if (!b)
        return;
    b->redis = NULL;
    if (b->ev)
        evtimer_del(b->ev);
}

void gw_campaign_bday_free(struct gw_campaign_bday *b)
{
    if (!b)
        return;
    if (b->pass)
        b->pass->b = NULL; /* its last callback (cancelled) frees it */
    if (b->ev)
        event_free(b->ev);
    free(b);
}

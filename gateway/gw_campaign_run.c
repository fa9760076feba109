/*
 * gw_campaign_run.c - the campaign rules in the daemon (gw_campaign_run.h).
 *
 * Event bonuses: one campaign.lua EVENT per earning event, its arguments built from the active
 * campaigns of the event's day. Offer pass: one slot at a time (SMEMBERS of its due sets, then one
 * OFFER per member, then the SMS, then DEL of the sets handled without error); a struct pass is
 * shared by the requests of the slot in flight and counts them (pending). Requests find the
 * runner through the pass; a cancelled request (-ECANCELED, gw_redis_free) touches only the pass.
 */
#include "gw_campaign_run.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_broadcast.h"
#include "gw_campaign_bday.h"
#include "gw_campaign_cl.h"
#include "gw_campaign_marks.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_expiry.h"
#include "gw_journal.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_sms.h"

#define LOG_CAT "campaign"
#define CATCHUP_MAX 31

struct gw_campaign_run {
    struct event_base *base;
    struct gw_redis *redis; /* NULL once detached */
    struct gw_sms *sms;
    struct gw_campaign_run_config cfg;
    uint32_t history_len;
    char fallback[8];
    int script;
    int ref_script; /* lua/referral.lua */
    struct gw_campaigns *doc; /* NULL: none loaded */
    struct event *ev_pass;
    struct pass *pass; /* the pass under way, or NULL */
    struct gw_campaign_bday *bday; /* the birthday pass (gw_campaign_bday.c) */
    struct gw_camp_marks *marks;   /* the retired markers' sweep (gw_campaign_marks.c) */
    struct gw_camp_cl cl; /* a Redis Cluster (cfg.cluster): the two-step bonuses, else redis NULL */
    struct event *ev_sweep; /* a cluster: the reservations' sweeper */
    bool sweeping;
    struct gw_campaign_stats st;
    struct gw_journal *journal; /* the what-if journal (referrals), NULL = none; not owned */
};

/* ---------------------------------------------------------------- events */

struct ev_req {
    struct gw_campaign_run *r;
    gw_campaign_done_cb done;
    void *ctx;
    char msisdn[16]; /* the event's subscriber (a referee, for REFPAY) */
    int32_t day;
    int64_t now;
};

static void refpay_done(void *arg, int err, const char *outcome)
{
    struct ev_req *q = arg;

    if (err == 0 && strcmp(outcome, "paid") == 0) {
        q->r->st.grants++;
        q->r->st.referrals_paid++;
    }
    if (err < 0 && err != -ECANCELED)
        q->r->st.errors++;
    q->done(q->ctx, err);
    free(q);
}

static void refpay_reply(void *arg, int err, const struct redisReply *reply)
{
    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
                     reply->element[0]->type != REDIS_REPLY_STRING)) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "campaign.lua REFPAY: %.200s", reply->str);
        err = -EPROTO;
    }
    refpay_done(arg, err, err == 0 ? reply->element[0]->str : NULL);
}

/* The referrer's half of a referral bonus (campaign.lua REFPAY on one Redis): once, by the
 * referee's record turning "paid" in the same script. 0: q is handed to refpay_reply. */
static int refpay(struct ev_req *q, const char *id, const char *referrer)
{
    struct gw_campaign_run *r = q->r;
    const struct gw_camp *c = NULL;
    char kw[40], kh[40], kr[40], tag[GW_SLOT_TAG_MAX], kag[2][48], now[24], day[12], pts[24],
        hl[16];

    for (size_t i = 0; r->doc && i < r->doc->n; i++)
        if (strcmp(r->doc->c[i].id, id) == 0 && r->doc->c[i].rule == GW_CAMP_REFERRAL)
            c = &r->doc->c[i];
    if (!c || !r->redis || strlen(referrer) > 15 || gw_slot_tag_of(referrer, tag) < 0)
        return -ENOENT; /* the campaign left the document: the redelivery tries again */
    snprintf(kw, sizeof(kw), "lg:{%s}:w", referrer);
    snprintf(kh, sizeof(kh), "lg:{%s}:h", referrer);
    snprintf(kr, sizeof(kr), "lg:{%s}:rf", q->msisdn);
    snprintf(kag[0], sizeof(kag[0]), "lg:ag:%s:%08" PRId32, tag, q->day);
    snprintf(kag[1], sizeof(kag[1]), "lg:ag:%s:tot", tag);
    snprintf(now, sizeof(now), "%" PRId64, q->now);
    snprintf(day, sizeof(day), "%08" PRId32, q->day);
    snprintf(pts, sizeof(pts), "%" PRId64, c->points);
    snprintf(hl, sizeof(hl), "%" PRIu32, r->history_len);
    const char *argv[] = {kw,  kh, kr, kag[0], kag[1], "REFPAY", now, day, c->id, pts, c->label,
                          hl};
    size_t len[12];
    if (r->cl.redis) /* a cluster: A's slot, then B's (gw_campaign_cl.c) */
        return gw_camp_cl_refpay(&r->cl, argv, q->msisdn, refpay_done, q);
    for (int i = 0; i < 12; i++)
        len[i] = strlen(argv[i]);
    return gw_redis_script_run(r->redis, r->script, 5, 12, argv, len, refpay_reply, q);
}

static void event_reply(void *arg, int err, const struct redisReply *reply)
{
    struct ev_req *q = arg;
    struct gw_campaign_run *r = q->r;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(LOG_CAT, "campaign.lua: %.200s", reply->str);
        err = -EPROTO;
    } else if (err == 0 && reply->type != REDIS_REPLY_ARRAY)
        err = -EPROTO;
    const char *refer_id = NULL, *referrer = NULL;
    if (err == 0) {
        for (size_t i = 0; i + 3 < reply->elements; i += 3) {
            const struct redisReply *id = reply->element[i], *pts = reply->element[i + 1],
                                    *oc = reply->element[i + 2];
            if (id->type != REDIS_REPLY_STRING || pts->type != REDIS_REPLY_STRING ||
                oc->type != REDIS_REPLY_STRING)
                break;
            if (strcmp(oc->str, "refer") == 0) {
                refer_id = id->str; /* the referrer's half is still to pay: pts is its MSISDN */
                referrer = pts->str;
            } else if (strcmp(oc->str, "ok") == 0) {
                r->st.grants++;
                r->st.points += strtoull(pts->str, NULL, 10);
                GW_LOGI(LOG_CAT, "campaign %s: +%s pts", id->str, pts->str);
            } else if (strcmp(oc->str, "budget") == 0) {
                r->st.budget_stops++;
                GW_LOGN(LOG_CAT, "campaign %s: budget spent, bonus of %s pts refused", id->str,
                        pts->str);
            } /* "void", "done": a cluster's reservation settled (gw_campaign_cl.c) */
        }
    } else if (err != -ECANCELED)
        r->st.errors++;
    if (err == 0 && refer_id) {
        int rc = refpay(q, refer_id, referrer);
        if (rc == 0)
            return;
        GW_LOGN(LOG_CAT, "campaign %s: the referrer's bonus not sent (%s): the redelivery pays it",
                refer_id, strerror(-rc));
        err = rc;
    }
    q->done(q->ctx, err);
    free(q);
}

int gw_campaign_run_event(struct gw_campaign_run *r, const char *msisdn, const char *kind,
                          const char *ref, int32_t day, int64_t amount_milli, int64_t now,
                          gw_campaign_done_cb done, void *ctx)
{
    struct gw_camp_event_call *call;
    int rc;

    if (!r || !r->redis || !done || !msisdn || !kind || !ref)
        return -EINVAL;
    if (!r->doc)
        return 1;
    if (!(call = malloc(sizeof(*call)))) /* ~16 KiB: not on the stack */
        return -ENOMEM;
    rc = gw_campaign_event_call(r->doc, msisdn, kind, ref, day, amount_milli, now, r->history_len,
                                call);
    struct ev_req *q = rc == 0 ? malloc(sizeof(*q)) : NULL;
    if (rc == 0 && !q)
        rc = -ENOMEM;
    if (rc != 0) {
        free(call);
        return rc;
    }
    *q = (struct ev_req){.r = r, .done = done, .ctx = ctx, .day = day, .now = now};
    snprintf(q->msisdn, sizeof(q->msisdn), "%s", msisdn);
    r->st.events++;
    if (r->cl.redis) /* a cluster: plan, reserve, pay, settle */
        rc = gw_camp_cl_bonus(&r->cl, call->nkeys, call->argc, call->argv, call->len, event_reply,
                              q);
    else
        rc = gw_redis_script_run(r->redis, r->script, call->nkeys, call->argc, call->argv,
                                 call->len, event_reply, q);
    free(call);
    if (rc < 0) {
        free(q);
        return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- the offer pass */

static void ignore_reply(void *arg, int err, const struct redisReply *reply)
{
    (void)arg;
    (void)err;
    (void)reply;
}

struct member {
    char msisdn[16];
};

struct pass {
    struct gw_campaign_run *r; /* NULL: the runner is gone (detached), finish quietly */
    const struct gw_camp *c;   /* the win-back campaign (in r->doc; the doc is kept during a pass) */
    struct gw_campaigns *doc;  /* owned copy, so a new version mid-pass changes nothing */
    unsigned slot;
    int32_t today, until;
    int pending;
    bool failed;                     /* a request of this slot failed: its sets stay */
    int32_t days[CATCHUP_MAX + 1];   /* the due days read for this slot */
    bool found[CATCHUP_MAX + 1];     /* set not empty */
    int ndays;
    char tag[GW_SLOT_TAG_MAX];
};

struct offer_req {
    struct pass *p;
    int k; /* the due day's index in p->days */
    char msisdn[16];
    char lang[8];
    char tier[32]; /* the SMS names the tier's own bonus */
};

static void slot_next(struct pass *p);
static void slot_done(struct pass *p);

static void pass_end(struct pass *p)
{
    struct gw_campaign_run *r = p->r;

    if (r) {
        r->st.passes++;
        r->pass = NULL;
        GW_LOGN(LOG_CAT, "win-back offer pass of %08" PRId32 " done (%s)", p->today, p->c->id);
        if (r->ev_pass) {
            struct timeval tv = {.tv_sec = r->cfg.pass_interval_s};
            evtimer_add(r->ev_pass, &tv);
        }
    }
    free(p->doc);
    free(p);
}

static void put_pending(struct pass *p)
{
    if (--p->pending == 0)
        slot_done(p);
}

static void sms_done(void *arg, int err)
{
    struct pass *p = arg;

    if (p->r) {
        if (err == 0)
            p->r->st.offer_sms++;
        else
            p->r->st.offer_sms_skipped++;
    }
    put_pending(p);
}

static void optin_reply(void *arg, int err, const struct redisReply *reply)
{
    struct offer_req *q = arg;
    struct pass *p = q->p;
    struct gw_campaign_run *r = p->r;

    if (r && r->sms && err == 0 && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
        char text[GW_CAMP_TEXT_MAX + 64];
        if (gw_camp_offer_text(p->c, q->lang, r->fallback, gw_camp_points(p->c, q->tier),
                               p->until, text, sizeof(text)) == 0) {
            p->pending++;
            if (gw_sms_send(r->sms, q->msisdn, text, strlen(text), sms_done, p) < 0) {
                p->pending--;
                r->st.offer_sms_skipped++;
            }
        } else
            r->st.offer_sms_skipped++;
    } else if (r)
        r->st.offer_sms_skipped++;
    free(q);
    put_pending(p);
}

static void offer_reply(void *arg, int err, const struct redisReply *reply)
{
    struct offer_req *q = arg;
    struct pass *p = q->p;
    struct gw_campaign_run *r = p->r;

    if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        p->failed = true;
        if (r && err != -ECANCELED)
            r->st.errors++;
    } else if (reply->element[0]->type == REDIS_REPLY_INTEGER && r && r->redis &&
               reply->element[0]->integer == 0 && p->days[q->k] == p->today &&
               !(reply->element[1]->type == REDIS_REPLY_STRING &&
                 strcmp(reply->element[1]->str, "recent") == 0)) {
        /* today's set stays for the next passes of the day (a member whose lapse falls later
         * today is "recent" until then); a final answer leaves it, so they read less */
        char key[64];
        snprintf(key, sizeof(key), "lg:cw:%s:%08" PRId32, p->tag, p->today);
        const char *argv[] = {"SREM", key, q->msisdn};
        size_t len[] = {4, strlen(key), strlen(q->msisdn)};
        (void)gw_redis_command(r->redis, 3, argv, len, ignore_reply, NULL);
    } else if (reply->element[0]->type == REDIS_REPLY_INTEGER &&
               reply->element[0]->integer == 1 && r && r->redis) {
        r->st.offers++;
        if (r->cl.redis) { /* a cluster: the funnel's count on {cmp}, after the offer */
            const char *argv[] = {"HINCRBY", GW_CAMP_KEY_BUDGET, p->c->id, "1"};
            char f[GW_CAMP_ID_MAX + 16];
            snprintf(f, sizeof(f), "%s:offered", p->c->id);
            argv[2] = f;
            size_t len[] = {7, strlen(GW_CAMP_KEY_BUDGET), strlen(f), 1};
            (void)gw_redis_command(r->redis, 4, argv, len, ignore_reply, NULL);
        }
        if (reply->element[1]->type == REDIS_REPLY_STRING)
            snprintf(q->lang, sizeof(q->lang), "%s", reply->element[1]->str);
        if (reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING)
            snprintf(q->tier, sizeof(q->tier), "%s", reply->element[2]->str);
        /* consent is read just before the send (the audience of the reminders) */
        const char *argv[] = {"SISMEMBER", GW_BC_KEY_OPTIN, q->msisdn};
        size_t len[] = {9, strlen(GW_BC_KEY_OPTIN), strlen(q->msisdn)};
        p->pending++;
        if (gw_redis_command(r->redis, 3, argv, len, optin_reply, q) == 0) {
            put_pending(p);
            return;
        }
        p->pending--;
    }
    free(q);
    put_pending(p);
}

static void send_offer(struct pass *p, int day, const char *msisdn)
{
    struct gw_campaign_run *r = p->r;
    struct offer_req *q = calloc(1, sizeof(*q));
    char kw[40], mr[16], ld[16], ud[16];

    if (!q) {
        p->failed = true;
        return;
    }
    q->p = p;
    q->k = day;
    snprintf(q->msisdn, sizeof(q->msisdn), "%s", msisdn);
    snprintf(kw, sizeof(kw), "lg:{%s}:w", msisdn);
    snprintf(mr, sizeof(mr), "%" PRIu32, p->c->min_recharges);
    snprintf(ld, sizeof(ld), "%" PRIu32, p->c->lapse_days);
    snprintf(ud, sizeof(ud), "%08" PRId32, p->until);
    char now[24];
    snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms() / 1000);
    const char *argv[] = {kw, GW_CAMP_KEY_BUDGET, "OFFER", now, p->c->id, mr, ld, ud};
    size_t len[8];
    int k = r->cl.redis ? 1 : 0; /* a cluster: the wallet only (the budget is another slot) */
    if (k)
        argv[1] = kw;
    for (int i = 0; i < 8; i++)
        len[i] = strlen(argv[i]);
    p->pending++;
    if (gw_redis_script_run(r->redis, r->script, 2 - k, 8 - k, argv + k, len + k, offer_reply,
                            q) < 0) {
        p->pending--;
        p->failed = true;
        free(q);
    }
}

static void members_reply(void *arg, int err, const struct redisReply *reply);

struct set_req {
    struct pass *p;
    int k; /* index in p->days */
};

static void members_reply(void *arg, int err, const struct redisReply *reply)
{
    struct set_req *s = arg;
    struct pass *p = s->p;

    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        p->failed = true;
        if (p->r && err != -ECANCELED)
            p->r->st.errors++;
    } else if (reply->elements > 0 && p->r && p->r->redis) {
        p->found[s->k] = true;
        for (size_t i = 0; i < reply->elements; i++)
            if (reply->element[i]->type == REDIS_REPLY_STRING && reply->element[i]->len < 16)
                send_offer(p, s->k, reply->element[i]->str);
    }
    free(s);
    put_pending(p);
}

/* Every request of the slot answered: delete the sets of past days handled, go on. Today's set
 * stays: the passes of the day read it again (OFFER compares seconds, the set is per day), and
 * the first pass of a later day, which reads the day before, deletes it. */
static void slot_done(struct pass *p)
{
    struct gw_campaign_run *r = p->r;

    if (!r || !r->redis) {
        pass_end(p);
        return;
    }
    for (int k = 0; k < p->ndays && !p->failed; k++) {
        if (!p->found[k] || p->days[k] == p->today)
            continue;
        char key[64];
        snprintf(key, sizeof(key), "lg:cw:%s:%08" PRId32, p->tag, p->days[k]);
        (void)gw_redis_commandf(r->redis, ignore_reply, NULL, "DEL %s", key);
    }
    p->slot++;
    slot_next(p);
}

static void slot_next(struct pass *p)
{
    struct gw_campaign_run *r = p->r;

    if (p->slot >= GW_SLOTS || !r || !r->redis) {
        pass_end(p);
        return;
    }
    p->failed = false;
    p->pending = 1; /* held until every set of the slot is asked for */
    gw_slot_tag(p->slot, p->tag);
    p->ndays = 0;
    /* the day before at least: today's set is deleted by a pass of a later day */
    int32_t back = r->cfg.catchup_days ? (int32_t)r->cfg.catchup_days : 1;
    for (int32_t k = back; k >= 0; k--) {
        struct set_req *s = malloc(sizeof(*s));
        char key[64];
        if (!s) {
            p->failed = true;
            break;
        }
        p->days[p->ndays] = gw_days_add(p->today, -k);
        p->found[p->ndays] = false;
        *s = (struct set_req){.p = p, .k = p->ndays};
        snprintf(key, sizeof(key), "lg:cw:%s:%08" PRId32, p->tag, p->days[p->ndays]);
        p->ndays++;
        const char *argv[] = {"SMEMBERS", key};
        size_t len[] = {8, strlen(key)};
        p->pending++;
        if (gw_redis_command(r->redis, 2, argv, len, members_reply, s) < 0) {
            p->pending--;
            p->failed = true;
            free(s);
            break;
        }
    }
    put_pending(p);
}

static void on_pass(evutil_socket_t fd, short what, void *arg)
{
    struct gw_campaign_run *r = arg;
    int64_t now = gw_clock_now_ms() / 1000;
    int32_t today = gw_local_day(now);
    struct timeval tv = {.tv_sec = r->cfg.pass_interval_s};
    const struct gw_camp *wb = NULL;

    (void)fd;
    (void)what;
    for (size_t i = 0; r->doc && i < r->doc->n && !wb; i++)
        if (r->doc->c[i].rule == GW_CAMP_WINBACK && gw_camp_active(&r->doc->c[i], today))
            wb = &r->doc->c[i];
    struct pass *p = NULL;
    if (r->pass || !wb || !r->redis || !gw_redis_is_connected(r->redis) || gw_campaign_quiet(&r->cfg, now) ||
        !(p = calloc(1, sizeof(*p))) || !(p->doc = malloc(sizeof(*p->doc)))) {
        free(p);
        evtimer_add(r->ev_pass, &tv);
        return;
    }
    *p->doc = *r->doc;
    p->c = &p->doc->c[wb - r->doc->c];
    p->r = r;
    p->today = today;
    p->until = gw_days_add(today, (int32_t)wb->valid_days);
    r->pass = p;
    GW_LOGN(LOG_CAT, "win-back offer pass of %08" PRId32 " (%s, valid until %08" PRId32 ")", today,
            wb->id, p->until);
    slot_next(p);
}

/* ---------------------------------------------------------------- life cycle */

static void swept(void *arg, int n, int given)
{
    struct gw_campaign_run *r = arg;
    struct timeval tv = {.tv_sec = 60};

    r->sweeping = false;
    if (n > 0) {
        r->st.swept += (uint64_t)n;
        GW_LOGN(LOG_CAT, "sweeper: %d reservation(s) settled, %d given back", n, given);
    } else if (n < 0)
        r->st.errors++;
    if (r->redis && r->ev_sweep)
        evtimer_add(r->ev_sweep, &tv);
}

/* a cluster: reservations whose event never came back (gw_campaign_cl.h), once a minute */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct gw_campaign_run *r = arg;
    struct timeval tv = {.tv_sec = 60};

    (void)fd;
    (void)what;
    if (r->sweeping || !r->redis || !gw_redis_is_connected(r->redis) ||
        gw_camp_cl_sweep(&r->cl, gw_clock_now_ms() / 1000, GW_CAMP_RESERVE_TIMEOUT_S, swept, r) < 0)
        evtimer_add(r->ev_sweep, &tv);
    else
        r->sweeping = true;
}

void gw_campaign_run_config_defaults(struct gw_campaign_run_config *cfg)
{
    *cfg = (struct gw_campaign_run_config){.enabled = false, .pass_interval_s = 3600,
                                           .catchup_days = 7, .quiet_start_hour = 21,
                                           .quiet_end_hour = 9,
                                           .marker_sweep_interval_ms = 1000,
                                           .marker_sweep_batch = 500,
                                           .marker_sweep_grace_s = 3600,
                                           .marker_sweep_lease_ms = 30000};
}

struct gw_campaign_run *gw_campaign_run_new(struct event_base *base, struct gw_redis *redis,
                                            struct gw_sms *sms,
                                            const struct gw_campaign_run_config *cfg,
                                            uint32_t history_len, const char *fallback_lang)
{
    struct gw_campaign_run *r = calloc(1, sizeof(*r));

    if (!r || !base || !redis || !cfg)
        goto fail;
    r->base = base;
    r->redis = redis;
    r->sms = sms;
    r->cfg = *cfg;
    if (r->cfg.catchup_days > CATCHUP_MAX)
        r->cfg.catchup_days = CATCHUP_MAX;
    r->history_len = history_len ? history_len : 50;
    snprintf(r->fallback, sizeof(r->fallback), "%s", fallback_lang ? fallback_lang : "en");
    r->script = gw_redis_script_add(redis, gw_lua_campaign, gw_lua_campaign_len);
    r->ref_script = gw_redis_script_add(redis, gw_lua_referral, gw_lua_referral_len);
    r->ev_pass = evtimer_new(base, on_pass, r);
    r->bday = gw_campaign_bday_new(base, redis, sms, &r->cfg, r->history_len, r->fallback, &r->st);
    r->marks = gw_camp_marks_new(base, redis, &r->cfg, &r->st);
    if (r->script < 0 || r->ref_script < 0 || !r->ev_pass || !r->bday || !r->marks)
        goto fail;
    if (cfg->cluster) { /* docs/campaigns.md "Redis Cluster" */
        r->cl = (struct gw_camp_cl){.redis = redis, .script = r->script,
                                    .ref_script = r->ref_script,
                                    .bscript = gw_redis_script_add(redis, gw_lua_campaign_budget,
                                                                   gw_lua_campaign_budget_len)};
        r->ev_sweep = evtimer_new(base, on_sweep, r);
        if (r->cl.bscript < 0 || !r->ev_sweep)
            goto fail;
        gw_campaign_bday_set_cluster(r->bday, &r->cl);
    }
    return r;
fail:
    gw_campaign_run_free(r);
    return NULL;
}

int gw_campaign_run_set_doc(void *arg, const char *text, size_t len, char *err, size_t errlen)
{
    struct gw_campaign_run *r = arg;
    struct gw_campaigns *d = malloc(sizeof(*d));
    int rc;

    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if ((rc = gw_campaigns_parse(text, len, d, err, errlen)) < 0) {
        free(d);
        return rc;
    }
    free(r->doc); /* a pass under way works on its own copy */
    r->doc = d;
    gw_campaign_bday_set_doc(r->bday, d);
    gw_camp_marks_set_doc(r->marks, d);
    GW_LOGN(LOG_CAT, "campaigns \"%s\": %zu rules", d->version, d->n);
    return 0;
}

void gw_campaign_run_set_journal(struct gw_campaign_run *r, struct gw_journal *journal)
{
    if (r)
        r->journal = journal;
}

int gw_campaign_run_start(struct gw_campaign_run *r)
{
    struct timeval tv = {.tv_sec = 1};

    if (!r || !r->ev_pass)
        return -EINVAL;
    if (gw_campaign_bday_start(r->bday) < 0 || gw_camp_marks_start(r->marks) < 0)
        return -EIO;
    if (r->ev_sweep)
        evtimer_add(r->ev_sweep, &tv);
    return evtimer_add(r->ev_pass, &tv) == 0 ? 0 : -EIO;
}

void gw_campaign_run_get_stats(const struct gw_campaign_run *r, struct gw_campaign_stats *out)
{
    *out = r->st;
}

void gw_campaign_run_detach(struct gw_campaign_run *r)
{
    if (!r)
        return;
    r->redis = NULL;
    gw_campaign_bday_detach(r->bday);
    gw_camp_marks_detach(r->marks);
    if (r->ev_pass)
        evtimer_del(r->ev_pass);
    if (r->ev_sweep)
        evtimer_del(r->ev_sweep);
}

void gw_campaign_run_free(struct gw_campaign_run *r)
{
    if (!r)
        return;
    if (r->pass)
        r->pass->r = NULL; /* its last callback (cancelled) frees it */
    if (r->ev_pass)
        event_free(r->ev_pass);
    if (r->ev_sweep)
        event_free(r->ev_sweep);
    gw_campaign_bday_free(r->bday);
    gw_camp_marks_free(r->marks);
    free(r->doc);
    free(r);
}

/* ---------------------------------------------------------------- referral */

struct refer_req {
    struct gw_campaign_run *r;
    gw_campaign_refer_cb done;
    void *ctx;
    struct gw_journal_refer jr; /* the journal's line when the referral is new */
};

/* oc: an outcome of gw_referral_outcome_name, or "again" (the same referral again: "ok" to the
 * subscriber, not journaled a second time). */
static void refer_done(void *arg, int err, const char *oc)
{
    struct refer_req *q = arg;
    bool again = oc && strcmp(oc, "again") == 0;

    if (again)
        oc = "ok";
    if (q->r && oc) {
        if (strcmp(oc, "ok") == 0)
            q->r->st.referrals++;
        else
            q->r->st.referrals_refused++;
        /* the what-if's record of a new referral (gw_journal.h version 3): after the Redis step
         * said ok, once; best effort, counted by the journal */
        if (!again && strcmp(oc, "ok") == 0 && q->r->journal) {
            q->jr.commit_ms = gw_clock_now_ms();
            (void)gw_journal_append_refer(q->r->journal, &q->jr);
        }
    } else if (q->r && err != -ECANCELED)
        q->r->st.errors++;
    q->done(q->ctx, err, oc);
    free(q);
}

static void refer_reply(void *arg, int err, const struct redisReply *reply)
{
    const char *oc = NULL;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY &&
        (reply->elements == 1 || reply->elements == 2) &&
        reply->element[0]->type == REDIS_REPLY_STRING) {
        oc = reply->element[0]->str;
        if (reply->elements == 2 && reply->element[1]->type == REDIS_REPLY_STRING &&
            strcmp(oc, "ok") == 0 && strcmp(reply->element[1]->str, "again") == 0)
            oc = "again";
    } else if (err == 0) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "referral.lua: %.200s", reply->str);
        err = -EPROTO;
    }
    refer_done(arg, err, oc);
}

int gw_campaign_run_refer(struct gw_campaign_run *r, const char *referrer, const char *referee,
                          gw_campaign_refer_cb done, void *ctx)
{
    const struct gw_camp *c = NULL;
    char kw[40], kb[40], kr[40], now_s[24], day_s[12], max_s[16], ttl_s[16];
    int64_t now = gw_clock_now_ms() / 1000;
    int32_t day = gw_local_day(now);

    if (!r || !done || !referrer || !referee || strlen(referrer) > 15 || strlen(referee) > 15)
        return -EINVAL;
    if (!r->redis)
        return -ENOTCONN;
    for (size_t i = 0; r->doc && i < r->doc->n && !c; i++)
        if (r->doc->c[i].rule == GW_CAMP_REFERRAL && gw_camp_active(&r->doc->c[i], day))
            c = &r->doc->c[i];
    if (!c)
        return -ENOENT;
    snprintf(kw, sizeof(kw), "lg:{%s}:w", referrer);
    snprintf(kb, sizeof(kb), "lg:{%s}:w", referee);
    snprintf(kr, sizeof(kr), "lg:{%s}:rf", referee);
    snprintf(now_s, sizeof(now_s), "%" PRId64, now);
    snprintf(day_s, sizeof(day_s), "%08" PRId32, day);
    snprintf(max_s, sizeof(max_s), "%" PRIu32, c->max_per_month);
    /* the record waits D days for the first recharge, and one more for the zone's edges */
    snprintf(ttl_s, sizeof(ttl_s), "%" PRIu32, (c->valid_days + 2) * 86400u);
    const char *argv[] = {kw, kb, kr, "REFER", now_s, day_s, max_s, ttl_s};
    size_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = strlen(argv[i]);
    struct refer_req *q = malloc(sizeof(*q));
    if (!q)
        return -ENOMEM;
    *q = (struct refer_req){.r = r, .done = done, .ctx = ctx, .jr = {.day = day}};
    snprintf(q->jr.referrer, sizeof(q->jr.referrer), "%s", referrer);
    snprintf(q->jr.referee, sizeof(q->jr.referee), "%s", referee);
    int rc = r->cl.redis /* a cluster: three steps of one slot each (referral.lua REFA...) */
                 ? gw_camp_cl_refer(&r->cl, referrer, referee, day, c->max_per_month,
                                    (c->valid_days + 2) * 86400u, refer_done, q)
                 : gw_redis_script_run(r->redis, r->ref_script, 3, 8, argv, len, refer_reply, q);
    if (rc < 0)
        free(q);
    return rc;
}

/*
 * gw_campaign_cl.c - the campaign bonuses on a Redis Cluster (gw_campaign_cl.h): PLAN, RESERVE,
 * PAY, SETTLE, and the reservations' sweeper.
 *
 * One struct clq per bonus call, with at most one Redis request outstanding (gw_redis answers
 * each accepted request once, -ECANCELED on gw_redis_free), freed once its callback ran. SETTLE
 * is sent without waiting for it: a lost SETTLE leaves a reservation the sweeper settles later
 * ("done": its marker is set), never a wrong count.
 */
#include "gw_campaign_cl.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_campaign.h"
#include "gw_campaign_run.h"
#include "gw_core.h"

#define LOG_CAT "campaign"
#define CL_ARGS (GW_CAMP_EVENT_ARGS + 1)

struct grant {
    char id[GW_CAMP_ID_MAX + 1], rule[12], rkey[24], pts[24], oc[8];
    const char *budget;
};

struct clq {
    struct gw_camp_cl s;
    gw_redis_cb cb;
    void *arg;
    int nkeys, argc;
    const char *argv[CL_ARGS];
    size_t len[CL_ARGS];
    char *buf;
    char msisdn[16];
    size_t n;
    struct grant g[GW_CAMP_MAX];
    char step[GW_CAMP_MAX * 90 + 8];
};

static void clq_end(struct clq *q, int err, const struct redisReply *reply)
{
    q->cb(q->arg, err, err == 0 ? reply : NULL);
    free(q->buf);
    free(q);
}

static void ignore(void *arg, int err, const struct redisReply *reply)
{
    (void)arg;
    if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign_budget.lua SETTLE: %.200s", reply->str);
}

static bool is_str(const struct redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING;
}

/* SETTLE of the reservations (id, rkey, outcome) of M; fire and forget (see above) */
static void settle(const struct gw_camp_cl *s, const char *msisdn, size_t n, const char *const *id,
                   const char *const *rkey, const char *const *oc)
{
    const char *argv[6 + 3 * GW_CAMP_MAX];
    size_t len[6 + 3 * GW_CAMP_MAX];
    char ns[24];
    int argc = 0;

    if (n == 0 || n > GW_CAMP_MAX)
        return;
    snprintf(ns, sizeof(ns), "%zu", n);
    argv[argc++] = GW_CAMP_KEY_BUDGET;
    argv[argc++] = GW_CAMP_KEY_RESV;
    argv[argc++] = GW_CAMP_KEY_RESVQ;
    argv[argc++] = "SETTLE";
    argv[argc++] = msisdn;
    argv[argc++] = ns;
    for (size_t i = 0; i < n; i++) {
        argv[argc++] = id[i];
        argv[argc++] = rkey[i];
        argv[argc++] = oc[i];
    }
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    if (gw_redis_script_run(s->redis, s->bscript, 3, argc, argv, len, ignore, NULL) < 0)
        GW_LOGN(LOG_CAT, "%s: SETTLE not sent; the sweeper settles it", msisdn);
}

static void pay_reply(void *arg, int err, const struct redisReply *reply)
{
    struct clq *q = arg;
    const char *id[GW_CAMP_MAX], *rkey[GW_CAMP_MAX], *oc[GW_CAMP_MAX];
    size_t n = 0;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(LOG_CAT, "campaign.lua PAY: %.200s", reply->str);
        err = -EPROTO;
    } else if (err == 0 && reply->type != REDIS_REPLY_ARRAY)
        err = -EPROTO;
    for (size_t i = 0; err == 0 && i + 2 < reply->elements; i += 3) {
        const struct redisReply *a = reply->element[i], *b = reply->element[i + 1],
                                *c = reply->element[i + 2];
        if (!is_str(a) || !is_str(b) || !is_str(c))
            break;
        if (strcmp(c->str, "unreserved") == 0) {
            err = -EAGAIN; /* decided after the plan: the redelivery plans it */
            continue;
        }
        for (size_t k = 0; k < q->n && n < GW_CAMP_MAX; k++) {
            if (strcmp(q->g[k].id, a->str) != 0)
                continue;
            bool vd = strcmp(c->str, "void") == 0 || strcmp(c->str, "done") == 0;
            if (!vd && strcmp(c->str, "ok") != 0 && strcmp(c->str, "budget") != 0)
                break; /* "refer": not a reservation's outcome */
            id[n] = q->g[k].id;
            rkey[n] = q->g[k].rkey;
            oc[n++] = vd ? (c->str[0] == 'v' ? "void" : "done") : "paid";
        }
    }
    if (err != -ECANCELED && err != -EPROTO && n > 0)
        settle(&q->s, q->msisdn, n, id, rkey, oc);
    if (err == -EAGAIN)
        GW_LOGN(LOG_CAT, "%s: a bonus decided after its reservation step: left to the redelivery",
                q->msisdn);
    clq_end(q, err, reply);
}

static int pay(struct clq *q)
{
    size_t at = (size_t)snprintf(q->step, sizeof(q->step), "PAY");
    for (size_t i = 0; i < q->n && at < sizeof(q->step); i++)
        at += (size_t)snprintf(q->step + at, sizeof(q->step) - at, "|%s=%s:%s:%s", q->g[i].id,
                               q->g[i].oc, q->g[i].rkey, q->g[i].pts);
    if (at >= sizeof(q->step))
        return -EINVAL;
    q->argv[q->argc - 1] = q->step;
    q->len[q->argc - 1] = at;
    return gw_redis_script_run(q->s.redis, q->s.script, q->nkeys, q->argc, q->argv, q->len,
                               pay_reply, q);
}

static void reserve_reply(void *arg, int err, const struct redisReply *reply)
{
    struct clq *q = arg;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign_budget.lua RESERVE: %.200s", reply->str);
    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements != q->n))
        err = -EPROTO;
    for (size_t i = 0; err == 0 && i < q->n; i++) {
        /* "<ok|budget>:<points reserved>": a reservation found pays what it reserved */
        const struct redisReply *e = reply->element[i];
        if (!is_str(e) || sscanf(e->str, "%7[a-z]:%23[0-9]", q->g[i].oc, q->g[i].pts) != 2) {
            err = -EPROTO;
            break;
        }
    }
    if (err == 0 && q->s.after_reserve)
        q->s.after_reserve(q->s.hook_arg, q->msisdn);
    if (err == 0 && (err = pay(q)) == 0)
        return;
    clq_end(q, err, NULL);
}

/* The budget of campaign id in the call's arguments (blocks of 7 after the 8 first) */
static const char *budget_of(const struct clq *q, const char *id)
{
    for (int b = q->nkeys + 8; b + 7 <= q->argc - 1; b += 7)
        if (strcmp(q->argv[b], id) == 0)
            return q->argv[b + 4];
    return NULL;
}

static void plan_reply(void *arg, int err, const struct redisReply *reply)
{
    struct clq *q = arg;
    const char *argv[7 + 5 * GW_CAMP_MAX];
    size_t len[7 + 5 * GW_CAMP_MAX];
    char ns[24];
    int argc = 0;

    if (err == 0 && reply->type == REDIS_REPLY_ERROR)
        GW_LOGE(LOG_CAT, "campaign.lua PLAN: %.200s", reply->str);
    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements > GW_CAMP_MAX))
        err = -EPROTO;
    for (size_t i = 0; err == 0 && i < reply->elements; i++) {
        const struct redisReply *e = reply->element[i];
        struct grant *g = &q->g[q->n];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 4 || !is_str(e->element[0]) ||
            !is_str(e->element[1]) || !is_str(e->element[2]) || !is_str(e->element[3]) ||
            e->element[0]->len > GW_CAMP_ID_MAX || e->element[1]->len >= sizeof(g->rule) ||
            e->element[2]->len >= sizeof(g->rkey) || e->element[3]->len >= sizeof(g->pts)) {
            err = -EPROTO;
            break;
        }
        snprintf(g->id, sizeof(g->id), "%s", e->element[0]->str);
        snprintf(g->rule, sizeof(g->rule), "%s", e->element[1]->str);
        snprintf(g->rkey, sizeof(g->rkey), "%s", e->element[2]->str);
        snprintf(g->pts, sizeof(g->pts), "%s", e->element[3]->str);
        if (!(g->budget = budget_of(q, g->id))) {
            err = -EPROTO;
            break;
        }
        q->n++;
    }
    if (err == 0 && q->n == 0) { /* nothing to reserve: PAY does the rest (index, settling) */
        if ((err = pay(q)) == 0)
            return;
    } else if (err == 0) {
        snprintf(ns, sizeof(ns), "%zu", q->n);
        argv[argc++] = GW_CAMP_KEY_BUDGET;
        argv[argc++] = GW_CAMP_KEY_RESV;
        argv[argc++] = GW_CAMP_KEY_RESVQ;
        argv[argc++] = "RESERVE";
        argv[argc++] = q->argv[q->nkeys + 1]; /* now */
        argv[argc++] = q->msisdn;
        argv[argc++] = ns;
        for (size_t i = 0; i < q->n; i++) {
            argv[argc++] = q->g[i].id;
            argv[argc++] = q->g[i].rule;
            argv[argc++] = q->g[i].rkey;
            argv[argc++] = q->g[i].pts;
            argv[argc++] = q->g[i].budget;
        }
        for (int i = 0; i < argc; i++)
            len[i] = strlen(argv[i]);
        if ((err = gw_redis_script_run(q->s.redis, q->s.bscript, 3, argc, argv, len, reserve_reply,
                                       q)) == 0)
            return;
    }
    clq_end(q, err, NULL);
}

int gw_camp_cl_bonus(const struct gw_camp_cl *s, int nkeys, int argc, const char **argv,
                     const size_t *len, gw_redis_cb cb, void *arg)
{
    size_t total = 0;

    if (!s || !s->redis || !cb || nkeys < 3 || argc <= nkeys + 8 || argc >= CL_ARGS ||
        strcmp(argv[2], GW_CAMP_KEY_BUDGET) != 0)
        return -EINVAL;
    struct clq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    for (int i = 0; i < argc; i++)
        total += len[i] + 1;
    if (!(q->buf = malloc(total))) {
        free(q);
        return -ENOMEM;
    }
    q->s = *s;
    q->cb = cb;
    q->arg = arg;
    char *p = q->buf;
    for (int i = 0; i < argc; i++) {
        if (i == 2)
            continue; /* the budget: another slot, the RESERVE step's */
        memcpy(p, argv[i], len[i]);
        p[len[i]] = '\0';
        q->argv[q->argc] = p;
        q->len[q->argc++] = len[i];
        p += len[i] + 1;
    }
    q->nkeys = nkeys - 1;
    q->argv[q->argc] = "PLAN";
    q->len[q->argc++] = 4;
    if (sscanf(argv[0], "lg:{%15[0-9]}:w", q->msisdn) != 1) {
        free(q->buf);
        free(q);
        return -EINVAL;
    }
    int rc =
        gw_redis_script_run(s->redis, s->script, q->nkeys, q->argc, q->argv, q->len, plan_reply, q);
    if (rc < 0) {
        free(q->buf);
        free(q);
    }
    return rc;
}

/* ---------------------------------------------------------------- the sweeper */

struct sweep {
    struct gw_camp_cl s;
    void (*done)(void *arg, int swept, int given);
    void *arg;
    int pending, swept, given;
    bool failed;
};

struct sweep_one {
    struct sweep *w;
    char id[GW_CAMP_ID_MAX + 1], msisdn[16], rkey[24];
};

static void sweep_put(struct sweep *w)
{
    if (--w->pending > 0)
        return;
    w->done(w->arg, w->failed ? -EIO : w->swept, w->given);
    free(w);
}

static void void_reply(void *arg, int err, const struct redisReply *reply)
{
    struct sweep_one *o = arg;
    struct sweep *w = o->w;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        is_str(reply->element[0])) {
        const char *oc = reply->element[0]->str;
        /* "due": the referee was paid, the referrer's half is the record's (the redelivery) */
        const char *settled = strcmp(oc, "void") == 0 ? "void" : "done";
        const char *id = o->id, *rk = o->rkey;
        settle(&w->s, o->msisdn, 1, &id, &rk, &settled);
        w->swept++;
        if (settled[0] == 'v')
            w->given++;
        GW_LOGN(LOG_CAT, "sweeper: reservation %s of %s (%s): %s", o->id, o->msisdn, o->rkey, oc);
    } else {
        if (err == 0 && reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "campaign.lua VOID: %.200s", reply->str);
        w->failed = true;
    }
    free(o);
    sweep_put(w);
}

static void due_reply(void *arg, int err, const struct redisReply *reply)
{
    struct sweep *w = arg;

    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        w->failed = true;
        sweep_put(w);
        return;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        const struct redisReply *e = reply->element[i];
        struct sweep_one *o;
        char kw[40], now[24];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !is_str(e->element[0]) ||
            !is_str(e->element[1]) || !(o = calloc(1, sizeof(*o))))
            continue;
        o->w = w;
        /* "<id>|<M>|<rkey>" */
        if (sscanf(e->element[0]->str, "%24[^|]|%15[0-9]|%23[A-Za-z0-9]", o->id, o->msisdn,
                   o->rkey) != 3) {
            free(o);
            continue;
        }
        snprintf(kw, sizeof(kw), "lg:{%s}:w", o->msisdn);
        snprintf(now, sizeof(now), "%" PRId64, gw_clock_now_ms() / 1000);
        const char *argv[] = {kw, "VOID", now, e->element[1]->str, o->id, o->rkey};
        size_t len[6];
        for (int k = 0; k < 6; k++)
            len[k] = strlen(argv[k]);
        w->pending++;
        if (gw_redis_script_run(w->s.redis, w->s.script, 1, 6, argv, len, void_reply, o) < 0) {
            w->pending--;
            w->failed = true;
            free(o);
        }
    }
    sweep_put(w);
}

int gw_camp_cl_sweep(const struct gw_camp_cl *s, int64_t now, uint32_t timeout_s,
                     void (*done)(void *arg, int swept, int given), void *arg)
{
    char before[24];

    if (!s || !s->redis || !done)
        return -EINVAL;
    struct sweep *w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    *w = (struct sweep){.s = *s, .done = done, .arg = arg, .pending = 1};
    snprintf(before, sizeof(before), "%" PRId64, now - (int64_t)timeout_s);
    const char *argv[] = {
        GW_CAMP_KEY_BUDGET, GW_CAMP_KEY_RESV, GW_CAMP_KEY_RESVQ, "DUE", before, "64"};
    size_t len[6];
    for (int k = 0; k < 6; k++)
        len[k] = strlen(argv[k]);
    int rc = gw_redis_script_run(s->redis, s->bscript, 3, 6, argv, len, due_reply, w);
    if (rc < 0)
        free(w);
    return rc;
}

/* ---------------------------------------------------------------- referral */

struct refq {
    struct gw_camp_cl s;
    void (*done)(void *arg, int err, const char *outcome);
    void *arg;
    int step;
    char a[16], b[16], month[12], day[12], max[16], ttl[16], n[16], chain[80], oc[16];
};

static int refq_run(struct refq *q);

static void refq_end(struct refq *q, int err, const char *oc)
{
    q->done(q->arg, err, oc);
    free(q);
}

static void refq_reply(void *arg, int err, const struct redisReply *reply)
{
    struct refq *q = arg;
    const char *oc = NULL;

    if (err == 0 && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1 &&
        is_str(reply->element[0]))
        oc = reply->element[0]->str;
    else if (err == 0) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "referral.lua (cluster step %d): %.200s", q->step, reply->str);
        err = -EPROTO;
    }
    if (err < 0) {
        refq_end(q, err, NULL);
        return;
    }
    if (q->step == 0 && strcmp(oc, "go") == 0) {
        if (reply->elements != 3 || !is_str(reply->element[1]) || !is_str(reply->element[2]) ||
            reply->element[2]->len >= sizeof(q->chain)) {
            refq_end(q, -EPROTO, NULL);
            return;
        }
        snprintf(q->n, sizeof(q->n), "%s", reply->element[1]->str);
        snprintf(q->chain, sizeof(q->chain), "%s", reply->element[2]->str);
    } else if (q->step == 1 && strcmp(oc, "again") == 0) {
        refq_end(q, 0, "again"); /* the same referral again: counted once, said "ok" */
        return;
    } else if (q->step == 2 || strcmp(oc, q->step == 0 ? "go" : "ok") != 0) {
        snprintf(q->oc, sizeof(q->oc), "%s", q->step == 2 ? "ok" : oc);
        refq_end(q, 0, q->oc);
        return;
    }
    q->step++;
    if ((err = refq_run(q)) < 0)
        refq_end(q, err, NULL);
}

static int refq_run(struct refq *q)
{
    char ka[40], kb[40];
    const char *argv[10];
    size_t len[10];
    int argc = 0, nkeys = 2;
    const char *me = q->step == 1 ? q->b : q->a;

    snprintf(ka, sizeof(ka), "lg:{%s}:w", me);
    snprintf(kb, sizeof(kb), "lg:{%s}:rf", me);
    argv[argc++] = ka;
    if (q->step == 2) {
        nkeys = 1;
        argv[argc++] = "REFN";
        argv[argc++] = q->month;
    } else {
        argv[argc++] = kb;
        argv[argc++] = q->step == 0 ? "REFA" : "REFB";
        argv[argc++] = q->step == 0 ? q->b : q->a;
        if (q->step == 0) {
            argv[argc++] = q->month;
        } else {
            argv[argc++] = q->day;
            argv[argc++] = q->max;
            argv[argc++] = q->n;
            argv[argc++] = q->ttl;
            argv[argc++] = q->chain;
        }
    }
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    return gw_redis_script_run(q->s.redis, q->s.ref_script, nkeys, argc, argv, len, refq_reply, q);
}

int gw_camp_cl_refer(const struct gw_camp_cl *s, const char *referrer, const char *referee,
                     int32_t day, uint32_t max_per_month, uint32_t ttl_s,
                     void (*done)(void *arg, int err, const char *outcome), void *arg)
{
    if (!s || !s->redis || !done || strlen(referrer) > 15 || strlen(referee) > 15)
        return -EINVAL;
    struct refq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->s = *s;
    q->done = done;
    q->arg = arg;
    snprintf(q->a, sizeof(q->a), "%s", referrer);
    snprintf(q->b, sizeof(q->b), "%s", referee);
    snprintf(q->day, sizeof(q->day), "%08" PRId32, day);
    snprintf(q->month, sizeof(q->month), "%06" PRId32, day / 100);
    snprintf(q->max, sizeof(q->max), "%" PRIu32, max_per_month);
    snprintf(q->ttl, sizeof(q->ttl), "%" PRIu32, ttl_s);
    int rc = refq_run(q);
    if (rc < 0)
        free(q);
    return rc;
}

struct payq {
    struct gw_camp_cl s;
    void (*done)(void *arg, int err, const char *outcome);
    void *arg;
    char kw[40], kr[40], now[24], oc[16];
};

static void refdone_reply(void *arg, int err, const struct redisReply *reply)
{
    struct payq *q = arg;

    if (err == 0 && reply->type != REDIS_REPLY_ARRAY) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "campaign.lua REFDONE: %.200s", reply->str);
        err = -EPROTO;
    }
    q->done(q->arg, err, err == 0 ? q->oc : NULL);
    free(q);
}

static void refcredit_reply(void *arg, int err, const struct redisReply *reply)
{
    struct payq *q = arg;

    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
                     !is_str(reply->element[0]) || reply->element[0]->len >= sizeof(q->oc))) {
        if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "campaign.lua REFCREDIT: %.200s", reply->str);
        err = -EPROTO;
    }
    if (err == 0) {
        snprintf(q->oc, sizeof(q->oc), "%s", reply->element[0]->str);
        const char *argv[] = {q->kw, q->kr, "REFDONE", q->now};
        size_t len[4];
        for (int i = 0; i < 4; i++)
            len[i] = strlen(argv[i]);
        if ((err = gw_redis_script_run(q->s.redis, q->s.script, 2, 4, argv, len, refdone_reply,
                                       q)) == 0)
            return;
    }
    q->done(q->arg, err, NULL);
    free(q);
}

int gw_camp_cl_refpay(const struct gw_camp_cl *s, const char *const argv[12], const char *referee,
                      void (*done)(void *arg, int err, const char *outcome), void *arg)
{
    if (!s || !s->redis || !done || strlen(referee) > 15)
        return -EINVAL;
    struct payq *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->s = *s;
    q->done = done;
    q->arg = arg;
    snprintf(q->kw, sizeof(q->kw), "lg:{%s}:w", referee);
    snprintf(q->kr, sizeof(q->kr), "lg:{%s}:rf", referee);
    snprintf(q->now, sizeof(q->now), "%s", argv[6]);
    /* REFPAY's {A w, A h, B rf, A ag day, A ag tot, "REFPAY", now, day, id, pts, label, hl}
     * without B's record (another slot), the referee last */
    const char *cv[] = {argv[0], argv[1], argv[3], argv[4],  "REFCREDIT", argv[6],
                        argv[7], argv[8], argv[9], argv[10], argv[11],    referee};
    size_t len[12];
    for (int i = 0; i < 12; i++)
        len[i] = strlen(cv[i]);
    int rc = gw_redis_script_run(s->redis, s->script, 4, 12, cv, len, refcredit_reply, q);
    if (rc < 0)
        free(q);
    return rc;
}

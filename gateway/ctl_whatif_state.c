/*
 * ctl_whatif_state.c - the members' state at the window's start (ctl_whatif_state.h).
 */
#include "ctl_whatif_state.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_birthday.h"
#include "gw_days.h"
#include "gw_event.h"
#include "gw_journal.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_zone.h"

#define BATCH 256
#define HREC 16 /* one record of E: '>c6I2BBi4I2' (commit.lua) */

struct seen {
    char msisdn[GW_MSISDN_MAX + 1];
    uint32_t topups; /* credited recharges in the window */
    bool enrolled;   /* a J line in the window */
};

struct table {
    struct seen *e; /* msisdn[0] == 0: free */
    size_t cap, n;
};

static uint64_t hash(const char *m)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *m; m++)
        h = (h ^ (unsigned char)*m) * UINT64_C(1099511628211);
    return h;
}

static struct seen *table_get(struct table *t, const char *m)
{
    if ((t->n + 1) * 2 > t->cap) {
        struct table g = {.cap = t->cap ? t->cap * 2 : 4096};
        if (!(g.e = calloc(g.cap, sizeof(*g.e))))
            return NULL;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->e[i].msisdn[0])
                continue;
            size_t j = hash(t->e[i].msisdn) & (g.cap - 1);
            while (g.e[j].msisdn[0])
                j = (j + 1) & (g.cap - 1);
            g.e[j] = t->e[i];
        }
        free(t->e);
        g.n = t->n;
        *t = g;
    }
    size_t i = hash(m) & (t->cap - 1);
    for (; t->e[i].msisdn[0]; i = (i + 1) & (t->cap - 1)) {
        if (strcmp(t->e[i].msisdn, m) == 0)
            return &t->e[i];
    }
    snprintf(t->e[i].msisdn, sizeof(t->e[i].msisdn), "%s", m);
    t->n++;
    return &t->e[i];
}

static int first_pass(struct table *t, char *const *paths, size_t n)
{
    char line[GW_JOURNAL_LINE_MAX + 2];
    struct gw_journal_rec r;
    struct gw_journal_enrol e;

    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "r");
        if (!f)
            continue; /* the replay says so */
        while (fgets(line, sizeof(line), f)) {
            size_t len = strlen(line);
            struct seen *s = NULL;
            if (line[0] == '#' || strstr(line, " D "))
                continue;
            if (strstr(line, " J ") && gw_journal_enrol_parse(line, len, &e) == 0) {
                if (!(s = table_get(t, e.msisdn))) {
                    fclose(f);
                    return -ENOMEM;
                }
                s->enrolled = true;
            } else if (gw_journal_parse(line, len, &r) == 0 && r.kind != GW_EV_REVERSAL) {
                if (!(s = table_get(t, r.msisdn))) {
                    fclose(f);
                    return -ENOMEM;
                }
                s->topups += r.kind == GW_EV_TOPUP && r.outcome == GW_JOURNAL_CREDITED;
            }
        }
        fclose(f);
    }
    return 0;
}

static const struct gw_camp *camp_of(const struct gw_campaigns *doc[2], const char *id)
{
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < doc[k]->n; i++)
            if (strcmp(doc[k]->c[i].id, id) == 0)
                return &doc[k]->c[i];
    return NULL;
}

/* The local day of the anniversary y of sday (29 February: 1 March in other years). */
static int32_t anniversary(int32_t sday, uint32_t y)
{
    int32_t a = (sday / 10000 + (int32_t)y) * 10000 + sday % 10000;
    return gw_days_valid(a) ? a : (a / 10000) * 10000 + 301;
}

/* The last TOPUP recharge day (days since 1970) of E before `first` (same), or -1. */
static int32_t last_topup_before(const redisReply *e, int32_t first)
{
    int32_t best = -1;
    if (!e || e->type != REDIS_REPLY_STRING)
        return -1;
    for (size_t p = 0; p + HREC <= e->len; p += HREC) {
        const unsigned char *r = (const unsigned char *)e->str + p;
        int32_t dy = (r[6] << 8) | r[7];
        if (r[8] == 1 && (r[9] == 'c' || r[9] == 'r') && dy < first && dy > best)
            best = dy;
    }
    return best;
}

static const char *str_of(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_STRING ? r->str : NULL;
}

/* One wallet's HMGET reply (since rc rl wo blocked E bal, then the markers of ids[]) to its state at
 * the window's start. 0 seeded, 1 gone. */
static int seed(struct ctl_whatif_camp *camp, const struct seen *s, const redisReply *rep,
                const char *const *ids, size_t nids, int32_t first,
                const struct gw_campaigns *doc[2], struct ctl_whatif_state_stats *st)
{
    struct ctl_whatif_member m = {0};
    const redisReply *const *el = (const redisReply *const *)rep->element;

    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 8 + nids || !str_of(el[6]))
        return 1; /* no wallet (or an error: a Cluster's MOVED) */
    snprintf(m.msisdn, sizeof(m.msisdn), "%s", s->msisdn);
    m.since = str_of(el[0]) ? strtoll(el[0]->str, NULL, 10) : 0;
    int64_t rc = str_of(el[1]) ? strtoll(el[1]->str, NULL, 10) : 0;
    m.rc = rc > s->topups ? (uint32_t)(rc - s->topups) : 0;
    int32_t sday = m.since > 0 ? gw_local_day(m.since) : 0;
    if (s->topups == 0)
        m.rl = str_of(el[2]) ? strtoll(el[2]->str, NULL, 10) : 0;
    else {
        int32_t dy = last_topup_before(el[5], gw_days_number(first));
        if (dy >= 0) { /* E has the day, not the time: the day's start */
            m.rl = gw_zone_day_start(gw_days_from_number(dy));
        } else if (m.rc > 0)
            st->rl_unknown++;
    }
    const char *wo = str_of(el[3]);
    if (wo && strlen(wo) < sizeof(m.wo)) {
        char id[GW_CAMP_ID_MAX + 1];
        long long orl = 0;
        int until = 0;
        if (sscanf(wo, "%24[^,],%d,%lld", id, &until, &orl) == 3 && orl == m.rl && m.rl > 0) {
            const struct gw_camp *c = camp_of(doc, id);
            int32_t made = c ? gw_days_add(gw_local_day(m.rl), (int32_t)c->lapse_days) : 0;
            if (made < first)
                snprintf(m.wo, sizeof(m.wo), "%s", wo);
        }
    }
    m.blocked = str_of(el[4]) && strcmp(el[4]->str, "1") == 0;
    m.bd = str_of(el[7]) ? (int32_t)strtol(el[7]->str, NULL, 10) : 0;
    m.bd_from = first;
    /* enrolled in the window without its J line (a version-1 journal): every marker is the
     * window's */
    for (size_t i = 0; sday < first && i < nids; i++) {
        const char *v = str_of(el[8 + i]);
        const struct gw_camp *c = camp_of(doc, ids[i]);
        if (!v || !c || m.nmarks >= CTL_WHATIF_MARKS)
            continue;
        long y = strtol(v, NULL, 10);
        if (c->rule == GW_CAMP_TENURE) {
            /* the last anniversary of the rule completed before the window */
            long best = 0;
            for (size_t k = 0; k < c->n_years; k++)
                if (c->years[k] <= y && (long)c->years[k] > best &&
                    anniversary(sday, c->years[k]) < first)
                    best = c->years[k];
            if (!best)
                continue;
            y = best;
            snprintf(m.marks[m.nmarks].v, sizeof(m.marks[0].v), "%ld", y);
        } else if (c->rule == GW_CAMP_WINBACK) {
            if (y >= first)
                continue;
            snprintf(m.marks[m.nmarks].v, sizeof(m.marks[0].v), "%s", v);
        } else if (c->rule == GW_CAMP_BIRTHDAY) {
            /* the year paid: dropped when that year's birthday falls in the window (replayed) */
            if (m.bd && gw_birthday_in_year(m.bd, (int32_t)y) >= first)
                continue;
            snprintf(m.marks[m.nmarks].v, sizeof(m.marks[0].v), "%s", v);
        } else
            snprintf(m.marks[m.nmarks].v, sizeof(m.marks[0].v), "%.15s", v);
        snprintf(m.marks[m.nmarks].id, sizeof(m.marks[0].id), "%s", ids[i]);
        m.nmarks++;
    }
    return ctl_whatif_camp_member(camp, &m) < 0 ? -EIO : 0;
}

int ctl_whatif_state_load(struct ctl_whatif_camp *camp, redisContext *rc, char *const *paths,
                          size_t n, int32_t first, const struct gw_campaigns *doc[2],
                          struct ctl_whatif_state_stats *st, char *err, size_t errlen)
{
    struct table t = {0};
    struct timespec t0, t1;
    const char *ids[2 * GW_CAMP_MAX];
    char fields[2 * GW_CAMP_MAX][GW_CAMP_ID_MAX + 4];
    size_t nids = 0;
    int ret = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    memset(st, 0, sizeof(*st));
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < doc[k]->n; i++) {
            size_t j = 0;
            while (j < nids && strcmp(ids[j], doc[k]->c[i].id) != 0)
                j++;
            if (j == nids && nids < 2 * GW_CAMP_MAX) {
                ids[nids] = doc[k]->c[i].id;
                snprintf(fields[nids], sizeof(fields[0]), "c:%s", ids[nids]);
                nids++;
            }
        }
    if (first_pass(&t, paths, n) < 0) {
        snprintf(err, errlen, "out of memory");
        free(t.e);
        return -ENOMEM;
    }
    const char *argv[10 + 2 * GW_CAMP_MAX] = {"HMGET", NULL, "since", "rc", "rl", "wo",
                                              "blocked", "E", "bal", "bd"};
    for (size_t i = 0; i < nids; i++)
        argv[10 + i] = fields[i];
    size_t i = 0;
    while (i < t.cap && ret == 0) {
        const struct seen *batch[BATCH];
        size_t nb = 0;
        for (; i < t.cap && nb < BATCH; i++) {
            if (!t.e[i].msisdn[0] || t.e[i].enrolled)
                continue;
            char kw[40];
            snprintf(kw, sizeof(kw), "lg:{%s}:w", t.e[i].msisdn);
            argv[1] = kw;
            if (redisAppendCommandArgv(rc, (int)(10 + nids), argv, NULL) != REDIS_OK) {
                ret = -ENOMEM;
                break;
            }
            batch[nb++] = &t.e[i];
        }
        for (size_t b = 0; b < nb; b++) {
            redisReply *rep = NULL;
            if (redisGetReply(rc, (void **)&rep) != REDIS_OK || !rep) {
                snprintf(err, errlen, "reading the wallets: %s", rc->errstr);
                ret = -EIO;
                break;
            }
            st->members++;
            for (size_t k = 0; rep->type == REDIS_REPLY_ARRAY && k < rep->elements; k++)
                st->bytes += rep->element[k]->type == REDIS_REPLY_STRING ? rep->element[k]->len : 0;
            int r = ret == 0 ? seed(camp, batch[b], rep, ids, nids, first, doc, st) : 0;
            if (r == 1)
                st->gone++;
            else if (r == 0)
                st->read++;
            else
                ret = r;
            freeReplyObject(rep);
        }
    }
    free(t.e);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (ret == -ENOMEM)
        snprintf(err, errlen, "out of memory");
    return ret;
}

int ctl_whatif_budget_load(struct ctl_whatif_camp *camp, redisContext *rc, int32_t first,
                           int32_t last, const struct gw_campaigns *doc[2],
                           struct ctl_whatif_budget_stats *st, char *err, size_t errlen)
{
    const char *ids[2 * GW_CAMP_MAX];
    char fields[2 * GW_CAMP_MAX][GW_CAMP_ID_MAX + 16];
    int64_t spent[2 * GW_CAMP_MAX] = {0}, booked[2 * GW_CAMP_MAX] = {0};
    size_t nid = 0;
    struct timespec t0, t1;
    int ret = 0;

    memset(st, 0, sizeof(*st));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < doc[k]->n; i++) {
            size_t j = 0;
            while (j < nid && strcmp(ids[j], doc[k]->c[i].id) != 0)
                j++;
            if (j == nid)
                ids[nid++] = doc[k]->c[i].id;
        }
    }
    int32_t days = 0;
    for (int32_t d = first; d <= last && days <= CTL_WHATIF_AGG_DAYS; d = gw_days_add(d, 1))
        days++;
    if (days > CTL_WHATIF_AGG_DAYS)
        return 0;
    st->read = true;
    if (nid == 0)
        return 0;
    redisReply *rep = redisCommand(rc, "HGETALL %s", GW_CAMP_KEY_BUDGET);
    if (!rep || rep->type != REDIS_REPLY_ARRAY) {
        snprintf(err, errlen, "HGETALL %s: %s", GW_CAMP_KEY_BUDGET,
                 rep && rep->str ? rep->str : rc->errstr);
        freeReplyObject(rep);
        return -EIO;
    }
    for (size_t e = 0; e + 1 < rep->elements; e += 2) {
        const char *f = str_of(rep->element[e]), *v = str_of(rep->element[e + 1]);
        for (size_t j = 0; f && v && j < nid; j++) {
            size_t l = strlen(ids[j]);
            if (strncmp(f, ids[j], l) == 0 && strcmp(f + l, ":spent") == 0)
                spent[j] = strtoll(v, NULL, 10);
        }
    }
    freeReplyObject(rep);
    /* only the ids with a live spent figure: the others start at 0 whatever the window booked */
    size_t keep = 0;
    for (size_t j = 0; j < nid; j++) {
        if (spent[j] > 0) {
            ids[keep] = ids[j];
            spent[keep++] = spent[j];
        }
    }
    nid = keep;
    /* the window's bookings: HMGET lg:ag:{tag}:<day> iss:BONUS:<id>..., BATCH in flight */
    const char *argv[2 + 2 * GW_CAMP_MAX];
    char key[64];
    argv[0] = "HMGET";
    argv[1] = key;
    for (size_t j = 0; j < nid; j++) {
        snprintf(fields[j], sizeof(fields[j]), "iss:BONUS:%s", ids[j]);
        argv[2 + j] = fields[j];
    }
    for (int32_t d = first; nid && d <= last && ret == 0; d = gw_days_add(d, 1)) {
        for (unsigned s0 = 0; s0 < GW_SLOTS && ret == 0; s0 += BATCH * 4) {
            unsigned s1 = s0 + BATCH * 4 < GW_SLOTS ? s0 + BATCH * 4 : GW_SLOTS;
            for (unsigned s = s0; s < s1; s++) {
                char tag[GW_SLOT_TAG_MAX];
                gw_slot_tag(s, tag);
                snprintf(key, sizeof(key), "lg:ag:%s:%08" PRId32, tag, d);
                redisAppendCommandArgv(rc, (int)(2 + nid), argv, NULL);
                st->commands++;
            }
            for (unsigned s = s0; s < s1; s++) {
                redisReply *r = NULL;
                if (redisGetReply(rc, (void **)&r) != REDIS_OK || !r ||
                    r->type != REDIS_REPLY_ARRAY) {
                    snprintf(err, errlen, "HMGET lg:ag:*: %s",
                             r && r->str ? r->str : rc->errstr);
                    ret = -EIO;
                }
                for (size_t j = 0; ret == 0 && j < r->elements && j < nid; j++) {
                    const char *v = str_of(r->element[j]);
                    if (v)
                        booked[j] += strtoll(v, NULL, 10);
                }
                freeReplyObject(r);
                if (ret < 0)
                    break;
            }
        }
    }
    for (size_t j = 0; ret == 0 && j < nid; j++) {
        int64_t before = spent[j] - booked[j];
        if (before > 0) {
            st->campaigns++;
            ret = ctl_whatif_camp_budget(camp, ids[j], before);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    return ret;
}

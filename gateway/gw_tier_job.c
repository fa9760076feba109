/*
 * gw_tier_job.c - the daily tier review (gw_tier_job.h has the design): a visit per subscriber
 * due, on the expiry job's walk. A visit is a chain of Redis requests:
 *   HMGET wallet -> gw_tier_review -> tier.lua APPLY ("changed": HMGET again, at most
 *   MAX_RERUNS) -> [notify] -> done.
 * Visits are owned by the job and freed at the end of their chain.
 */
#include "gw_tier_job.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gw_core.h"
#include "gw_months.h"
#include "gw_redis.h"
#include "gw_tier.h"

#define LOG_CAT "tiers"
#define MAX_RERUNS 3
#define F_M 3 /* the field M, then the months of the releases before */
#define NFIELDS (4 + GW_TIER_WINDOW_MAX) /* tier, tg, life, M, the months m:YYYYMM */
#define M_MAX 1024 /* bytes of M read at most (12 months take 216 at most) */

extern const char gw_lua_tier[];
extern const size_t gw_lua_tier_len;

struct gw_tier_job {
    struct gw_redis *redis;
    struct gw_expiry *walk;
    struct gw_loyalty table;
    struct gw_tier_ops ops;
    int script;
    bool detached;
    struct gw_tier_stats st;
};

struct tj_visit {
    struct gw_tier_job *j;
    char msisdn[16];
    char tag[GW_SLOT_TAG_MAX];
    int32_t set_day, today;
    int runs;
    gw_walk_done_cb done;
    void *ctx;
    char fields[NFIELDS][16];
    unsigned nfields;
    struct gw_tier_notice n;
};

static void visit_end(struct tj_visit *v)
{
    gw_walk_done_cb done = v->done;
    void *ctx = v->ctx;

    free(v);
    done(ctx);
}

static void on_notified(void *ctx, int err)
{
    struct tj_visit *v = ctx;

    if (err == 0)
        v->j->st.notices_sent++;
    else
        v->j->st.notices_failed++;
    visit_end(v);
}

static int tier_index(const struct gw_loyalty *t, const char *name)
{
    for (unsigned i = 0; i < t->n_tiers; i++)
        if (strcmp(t->tiers[i].name, name) == 0)
            return (int)i;
    return -1;
}

static void visit_read(struct tj_visit *v);

static void on_apply(void *arg, int err, const redisReply *r)
{
    struct tj_visit *v = arg;
    struct gw_tier_job *j = v->j;
    char mask[GW_MASK_LEN];

    if (err == 0 && r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
        r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "changed") == 0 &&
        v->runs < MAX_RERUNS) {
        j->st.reruns++;
        visit_read(v);
        return;
    }
    if (err != 0 || !r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "ok") != 0 ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_STRING ||
        r->element[3]->type != REDIS_REPLY_INTEGER) {
        j->st.errors++;
        GW_LOGE(LOG_CAT, "tier{%s}: APPLY failed: %d %.120s", gw_mask_msisdn(v->msisdn, mask),
                err, r && r->type == REDIS_REPLY_ERROR ? r->str : "");
        visit_end(v);
        return;
    }
    const redisReply *nt = r->element[1], *lg = r->element[2];
    const char *gt = nt->len ? memchr(nt->str, '>', nt->len) : NULL;
    if (!gt) {
        visit_end(v);
        return;
    }
    size_t fl = (size_t)(gt - nt->str), tl = nt->len - fl - 1;
    if (fl == 0 || fl >= sizeof(v->n.from) || tl == 0 || tl >= sizeof(v->n.to)) {
        j->st.errors++;
        visit_end(v);
        return;
    }
    memcpy(v->n.from, nt->str, fl);
    memcpy(v->n.to, gt + 1, tl);
    if (lg->len < sizeof(v->n.lang))
        memcpy(v->n.lang, lg->str, lg->len);
    int fi = tier_index(&j->table, v->n.from), ti = tier_index(&j->table, v->n.to);
    v->n.up = ti > fi;
    if (v->n.up)
        j->st.ups++;
    else
        j->st.downs++;
    GW_LOGI(LOG_CAT, "tier{%s}: %s -> %s", gw_mask_msisdn(v->msisdn, mask), v->n.from, v->n.to);
    if (r->element[3]->integer != 1) {
        j->st.notices_skipped++;
        visit_end(v);
        return;
    }
    j->st.notices++;
    if (!j->ops.notify || j->ops.notify(j->ops.arg, &v->n, on_notified, v) < 0) {
        j->st.notices_failed++;
        visit_end(v);
    }
}

/* A field m:YYYYMM of the releases before -> the basis' number (0 when absent or unreadable). */
static int64_t month_value(const redisReply *e, int basis)
{
    int64_t earned, spend;

    if (e->type != REDIS_REPLY_STRING || gw_months_old(e->str, e->len, &earned, &spend) < 0)
        return 0;
    return basis == GW_TIER_SPEND ? spend : earned;
}

static void on_read(void *arg, int err, const redisReply *r)
{
    struct tj_visit *v = arg;
    struct gw_tier_job *j = v->j;
    const struct gw_loyalty *t = &j->table;
    char mask[GW_MASK_LEN];

    if (err != 0 || !r || r->type != REDIS_REPLY_ARRAY || r->elements != v->nfields) {
        j->st.errors++;
        GW_LOGE(LOG_CAT, "tier{%s}: read failed: %d", gw_mask_msisdn(v->msisdn, mask), err);
        visit_end(v);
        return;
    }
    /* what was read, as tier.lua joins it (M in hex) */
    const redisReply *m = r->element[F_M];
    char seen[NFIELDS * 48 + 2 * M_MAX] = "", val[NFIELDS][40];
    size_t sl = 0;
    if (m->type == REDIS_REPLY_STRING && m->len > M_MAX) {
        j->st.errors++;
        GW_LOGE(LOG_CAT, "tier{%s}: activity months M of %zu bytes: left as is",
                gw_mask_msisdn(v->msisdn, mask), m->len);
        visit_end(v);
        return;
    }
    for (unsigned i = 0; i < v->nfields; i++) {
        const redisReply *e = r->element[i];
        val[i][0] = '\0';
        if (i == F_M) {
            sl += (size_t)snprintf(seen + sl, sizeof(seen) - sl, "|");
            for (size_t k = 0; e->type == REDIS_REPLY_STRING && k < e->len; k++)
                sl += (size_t)snprintf(seen + sl, sizeof(seen) - sl, "%02x",
                                       (unsigned char)e->str[k]);
            continue;
        }
        if (e->type == REDIS_REPLY_STRING && e->len < sizeof(val[i]))
            snprintf(val[i], sizeof(val[i]), "%.*s", (int)e->len, e->str);
        sl += (size_t)snprintf(seen + sl, sizeof(seen) - sl, "%s%s", i ? "|" : "", val[i]);
    }
    int ti = tier_index(t, val[0]);
    struct gw_tier_state st = {.tier = ti < 0 ? 0 : (unsigned)ti, .grace = atoi(val[1])};
    int64_t months[GW_TIER_WINDOW_MAX] = {0};
    for (unsigned i = F_M + 1; i < v->nfields; i++)
        months[i - F_M - 1] = month_value(r->element[i], t->tier_basis);
    /* M's months, added to those of the releases before; an unreadable M: reported, and the
     * subscriber left as is (never reviewed on a guess) */
    if (m->type == REDIS_REPLY_STRING &&
        gw_months_window(m->str, m->len, v->today / 100, t->tier_basis == GW_TIER_SPEND, months,
                         GW_TIER_WINDOW_MAX) < 0) {
        j->st.errors++;
        GW_LOGE(LOG_CAT, "tier{%s}: activity months M unreadable: left as is",
                gw_mask_msisdn(v->msisdn, mask));
        visit_end(v);
        return;
    }
    struct gw_tier_decision d = {0};
    if (!gw_days_valid(st.grace))
        st.grace = 0;
    if (val[0][0] != '\0' &&
        gw_tier_review(t, &st, months, GW_TIER_WINDOW_MAX, atoll(val[2]), v->today, &d) < 0) {
        j->st.errors++;
        visit_end(v);
        return;
    }
    j->st.reviews++;
    if (d.grace && !st.grace)
        j->st.graces++;

    char k_w[40], k_c[48], k_cur[48], k_next[48], k_ag[48], tg[16], nx[16];
    snprintf(k_w, sizeof(k_w), "lg:{%s}:w", v->msisdn);
    snprintf(k_c, sizeof(k_c), "lg:{%s}:consent", v->msisdn);
    snprintf(k_cur, sizeof(k_cur), "lg:td:%s:%08" PRId32, v->tag, v->set_day);
    snprintf(k_next, sizeof(k_next), "lg:td:%s:%08" PRId32, v->tag,
             d.review ? d.review : v->set_day);
    snprintf(k_ag, sizeof(k_ag), "lg:ag:%s:tot", v->tag); /* the slot's tier counts */
    snprintf(tg, sizeof(tg), "%" PRId32, d.grace);
    snprintf(nx, sizeof(nx), "%" PRId32, d.review);
    const char *argv[11 + NFIELDS];
    int argc = 0;
    argv[argc++] = k_w;
    argv[argc++] = k_c;
    argv[argc++] = k_cur;
    argv[argc++] = k_next;
    argv[argc++] = k_ag;
    argv[argc++] = "APPLY";
    argv[argc++] = v->msisdn;
    argv[argc++] = seen;
    argv[argc++] = val[0][0] ? t->tiers[d.tier].name : "";
    argv[argc++] = tg;
    argv[argc++] = nx;
    for (unsigned i = 0; i < v->nfields; i++)
        argv[argc++] = v->fields[i];
    if (j->detached ||
        gw_redis_script_run(j->redis, j->script, 5, argc, argv, NULL, on_apply, v) < 0) {
        j->st.errors++;
        visit_end(v);
    }
}

static void visit_read(struct tj_visit *v)
{
    struct gw_tier_job *j = v->j;
    char k_w[40];
    const char *argv[2 + NFIELDS];
    int argc = 0;

    v->runs++;
    snprintf(k_w, sizeof(k_w), "lg:{%s}:w", v->msisdn);
    argv[argc++] = "HMGET";
    argv[argc++] = k_w;
    for (unsigned i = 0; i < v->nfields; i++)
        argv[argc++] = v->fields[i];
    if (j->detached || gw_redis_command(j->redis, argc, argv, NULL, on_read, v) < 0) {
        j->st.errors++;
        visit_end(v);
    }
}

static int visit(void *arg, const char *msisdn, const char *tag, int32_t set_day, int32_t today,
                 int64_t now, gw_walk_done_cb done, void *ctx)
{
    struct gw_tier_job *j = arg;
    struct tj_visit *v = calloc(1, sizeof(*v));

    (void)now;
    if (!v)
        return -ENOMEM;
    v->j = j;
    snprintf(v->msisdn, sizeof(v->msisdn), "%s", msisdn);
    snprintf(v->n.msisdn, sizeof(v->n.msisdn), "%s", msisdn);
    snprintf(v->tag, sizeof(v->tag), "%s", tag);
    v->set_day = set_day;
    v->today = today;
    v->done = done;
    v->ctx = ctx;
    /* the fields the rule reads: tier, grace, life, the activity months M, then the fields of the
     * releases before of today's month and the 11 before (all
     * of them whatever the window, so a smaller window set by SIGHUP reads the same) */
    snprintf(v->fields[0], sizeof(v->fields[0]), "tier");
    snprintf(v->fields[1], sizeof(v->fields[1]), "tg");
    snprintf(v->fields[2], sizeof(v->fields[2]), "life");
    snprintf(v->fields[F_M], sizeof(v->fields[F_M]), "M");
    for (int k = 0; k < GW_TIER_WINDOW_MAX; k++)
        snprintf(v->fields[F_M + 1 + k], sizeof(v->fields[0]), "m:%06" PRId32,
                 gw_days_month_add(today / 100, -k));
    v->nfields = NFIELDS;
    visit_read(v);
    return 0;
}

struct gw_tier_job *gw_tier_job_new(struct event_base *base, struct gw_redis *redis,
                                    const struct gw_expiry_config *cfg,
                                    const struct gw_loyalty *table, const struct gw_tier_ops *ops,
                                    const char *owner)
{
    struct gw_tier_job *j;

    if (!base || !redis || !cfg || !table || !owner)
        return NULL;
    j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->redis = redis;
    j->table = *table;
    if (ops)
        j->ops = *ops;
    j->script = gw_redis_script_add(redis, gw_lua_tier, gw_lua_tier_len);
    struct gw_walk_ops walk = {.idx = "td", .claim = "tc", .done_key = "lg:tj:done",
                               .visit = visit, .arg = j};
    struct gw_expiry_params p = {.history_len = 1};
    if (j->script >= 0)
        j->walk = gw_expiry_new_walk(base, redis, cfg, &p, NULL, &walk, owner);
    if (!j->walk) {
        free(j);
        return NULL;
    }
    return j;
}

int gw_tier_job_start(struct gw_tier_job *j)
{
    return gw_expiry_start(j->walk);
}

int gw_tier_job_pass(struct gw_tier_job *j, void (*done)(void *arg), void *arg)
{
    return gw_expiry_pass(j->walk, done, arg);
}

void gw_tier_job_set_table(struct gw_tier_job *j, const struct gw_loyalty *table)
{
    j->table = *table;
}

void gw_tier_job_get_stats(const struct gw_tier_job *j, struct gw_tier_stats *out)
{
    *out = j->st;
}

void gw_tier_stats_json(const struct gw_tier_stats *st, FILE *out)
{
    const char *sep = "{";
#define GW_X_JSON(name, help)                                                                      \
    fprintf(out, "%s\"%s\":%" PRIu64, sep, #name, st->name);                                      \
    sep = ",";
    GW_TIER_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fprintf(out, "}");
}

void gw_tier_job_detach(struct gw_tier_job *j)
{
    if (!j)
        return;
    j->detached = true;
    gw_expiry_detach(j->walk);
}

void gw_tier_job_free(struct gw_tier_job *j)
{
    if (!j)
        return;
    gw_expiry_free(j->walk);
    free(j);
}

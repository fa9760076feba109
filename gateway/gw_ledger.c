/*
 * gw_ledger.c - the points ledger: builds the arguments of the one commit script (lua/commit.lua,
 * embedded as gw_lua_commit) and parses its reply into a gw_commit_result; appends dead letters
 * to the lg:dlq:event or lg:dlq:pdu stream with a plain XADD.
 *
 * Ownership: struct gw_ledger owns a copy of the config and of the loyalty table (the tier table
 * and daily cap travel as script arguments, so a swapped table applies to the next commit). Each
 * request allocates a small context holding the caller's callback and argument; gw_redis
 * guarantees its callback runs exactly once, and that callback frees the context. The contexts
 * do not point at the ledger, so gw_ledger_free may run while commits are in flight (main.c
 * frees the Redis client first: that fails them, and the ledger is never touched by the replies).
 */
#include "gw_ledger.h"

#include "gw_expiry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_hist.h"
#include "gw_redis.h"
#include "gw_rules.h"

#define LOG_CAT "ledger"
/* Dead letters (issue 11): two streams, each trimmed to dlq_maxlen on its own, so a flood of
 * refused PDUs (garbage anyone on the link can send by the thousand) never trims out a refused
 * event (a real recharge that staff must review). The source names the stream. */
#define DLQ_KEY_EVENT "lg:dlq:event"
#define DLQ_KEY_PDU "lg:dlq:pdu"
#define DLQ_RAW_MAX 2048                /* escaped raw text kept per dead letter, NUL included */
#define DLQ_TEXT_MAX 256                /* reason and source */

static const char *dlq_key(const char *source)
{
    return strcmp(source, GW_DLQ_SOURCE_PDU) == 0 ? DLQ_KEY_PDU : DLQ_KEY_EVENT;
}

/* The embedded script (generated from lua/commit.lua by deploy/embed_text.cmake). */
extern const char gw_lua_commit[];
extern const size_t gw_lua_commit_len;
extern const char gw_lua_refidx[];
extern const size_t gw_lua_refidx_len;

struct gw_ledger {
    struct gw_redis *redis;
    struct gw_ledger_config cfg;
    struct gw_loyalty table;
    int script, script_refidx, script_rule;
    struct gw_rules *rules; /* the rule dictionary's cache (gw_rules.h) */
    /* expiry (gw_expiry.h): the warning levels a new lot's due day counts with */
    uint32_t xlevels[GW_EXPIRY_LEVELS_MAX];
    size_t nxlevels;
};

/* One commit in flight: step 2's arguments are built before step 1 is sent, into storage the
 * context owns (a), so that nothing points at the ledger once the request is issued.
 * GW_LEDGER_ARGS_MAX: 4 for rolling tiers, 1 key for the tier review set, 3 for the aggregates
 * (2 keys, the channel), 1 for the velocity caps */
#define STEP1_KEYS GW_LEDGER_KEYS1_MAX
#define STEP2_ARGS GW_LEDGER_ARGS_MAX
struct commit_ctx {
    gw_ledger_cb cb;
    void *arg;
    struct gw_redis *redis;
    int script;
    char mask[GW_MASK_LEN];
    char ref[GW_REF_MAX + 1];
    struct gw_ledger_args a; /* step 2's, and step 1's index keys (a cluster) */
    /* step 1 on a cluster (refidx.lua), kept until step 0 has answered */
    bool single;
    int script_refidx;
    char ms1[GW_MSISDN_MAX + 1];
    /* step 0 (rule.lua), only when a rule text is not cached: the texts, one per tier */
    struct gw_rules *rules;
    int script_rule, ntexts;
    char texts[GW_MAX_TIERS][GW_RULE_TEXT_MAX + 1];
};

struct done_ctx {
    gw_ledger_done_cb cb;
    void *arg;
};

void gw_ledger_config_defaults(struct gw_ledger_config *cfg)
{
    /* every field: a caller's config on the stack must not carry garbage into the ledger (the
     * velocity caps, the point value, one-node mode are off unless set) */
    *cfg = (struct gw_ledger_config){
        .history_len = 50,
        .ref_retention_days = 31,
        .dlq_maxlen = 100000,
        .ref_index_buckets = 65536,
    };
}

struct gw_ledger *gw_ledger_new(struct gw_redis *redis, const struct gw_ledger_config *cfg,
                                const struct gw_loyalty *table)
{
    if (!redis || !cfg || !table)
        return NULL;
    struct gw_ledger *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->redis = redis;
    l->cfg = *cfg;
    l->table = *table;
    if (l->cfg.ref_index_buckets == 0)
        l->cfg.ref_index_buckets = 1;
    l->script = gw_redis_script_add(redis, gw_lua_commit, gw_lua_commit_len);
    l->script_refidx = gw_redis_script_add(redis, gw_lua_refidx, gw_lua_refidx_len);
    l->script_rule = gw_redis_script_add(redis, gw_lua_rule, gw_lua_rule_len);
    l->rules = gw_rules_new();
    if (l->script < 0 || l->script_refidx < 0 || l->script_rule < 0 || !l->rules) {
        gw_rules_release(l->rules);
        free(l);
        return NULL;
    }
    return l;
}

void gw_ledger_free(struct gw_ledger *l)
{
    /* The script stays registered with the client: gw_redis has no removal, and the client may
     * already be gone (see the header comment). */
    if (l)
        gw_rules_release(l->rules);
    free(l);
}

void gw_ledger_set_table(struct gw_ledger *l, const struct gw_loyalty *table)
{
    l->table = *table;
    /* a new table brings new rule texts: a fresh cache (commits in flight hold the old one).
     * It also re-registers every text after a reload, should lg:rules have been lost. */
    struct gw_rules *fresh = gw_rules_new();
    if (fresh) {
        gw_rules_release(l->rules);
        l->rules = fresh;
    }
}

static bool valid_msisdn(const char *s)
{
    size_t n = strnlen(s, GW_MSISDN_MAX + 1);
    if (n == 0 || n > GW_MSISDN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

static bool valid_ref(const char *s)
{
    size_t n = strnlen(s, GW_REF_MAX + 1);
    if (n == 0 || n > GW_REF_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int64_t reply_int(const redisReply *e, bool *ok)
{
    if (e->type == REDIS_REPLY_INTEGER)
        return e->integer;
    *ok = false;
    return 0;
}

/* {outcome, points, balance, capped, tier, enrolled} -> res. Returns 0 or -EPROTO. */
static int parse_result(const redisReply *reply, struct gw_commit_result *res)
{
    bool ok = true;

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 6)
        return -EPROTO;
    memset(res, 0, sizeof(*res));
    int64_t outcome = reply_int(reply->element[0], &ok);
    res->points = reply_int(reply->element[1], &ok);
    res->balance = reply_int(reply->element[2], &ok);
    res->capped = reply_int(reply->element[3], &ok);
    int64_t enrolled = reply_int(reply->element[5], &ok);
    const redisReply *t = reply->element[4];
    if (!ok || outcome < GW_COMMIT_CREDITED || outcome > GW_COMMIT_HELD ||
        t->type != REDIS_REPLY_STRING || t->len >= sizeof(res->tier))
        return -EPROTO;
    res->outcome = (enum gw_commit_outcome)outcome;
    res->enrolled = enrolled ? 1 : 0;
    if (res->outcome == GW_COMMIT_CONFLICT) { /* element 5 is the owner's MSISDN */
        if (t->len >= sizeof(res->owner))
            return -EPROTO;
        memcpy(res->owner, t->str, t->len);
        res->owner[t->len] = '\0';
        return 0;
    }
    memcpy(res->tier, t->str, t->len);
    res->tier[t->len] = '\0';
    return 0;
}

static void commit_finish(struct commit_ctx *c, int err, const struct gw_commit_result *res)
{
    gw_ledger_cb cb = c->cb;
    void *cb_arg = c->arg;
    gw_rules_release(c->rules);
    free(c);
    cb(cb_arg, err, err == 0 ? res : NULL);
}

static void commit_reply(void *arg, int err, const struct redisReply *reply)
{
    struct commit_ctx *c = arg;
    struct gw_commit_result res;

    if (err == 0) {
        if (reply->type == REDIS_REPLY_ERROR) {
            /* LGWARG: the script refused our arguments (a gateway bug or a bad table), nothing
             * was written. LGWDATA/LGWBOUND: the wallet is unreadable or would leave its bounds:
             * permanent. Anything else (OOM, BUSY...) is a store-side problem. */
            if (strncmp(reply->str, "LGWARG", 6) == 0)
                err = -EINVAL;
            else if (strncmp(reply->str, "LGWDATA", 7) == 0 ||
                     strncmp(reply->str, "LGWBOUND", 8) == 0)
                err = -EBADMSG;
            else
                err = -EPROTO;
            GW_LOGE(LOG_CAT, "ledger{%s} commit ref=%s failed: %.200s", c->mask, c->ref,
                    reply->str);
        } else {
            err = parse_result(reply, &res);
            if (err < 0)
                GW_LOGE(LOG_CAT, "ledger{%s} commit ref=%s: unexpected reply", c->mask, c->ref);
        }
    }
    commit_finish(c, err, &res);
}

/* Step 1's reply: {"ok", 0|1} -> step 2; {"conflict", owner} -> done. */
static void claim_reply(void *arg, int err, const struct redisReply *reply)
{
    struct commit_ctx *c = arg;
    struct gw_commit_result res;

    if (err < 0) {
        commit_finish(c, err, NULL);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        GW_LOGE(LOG_CAT, "ledger{%s} ref index ref=%s failed: %.200s", c->mask, c->ref,
                reply->str);
        commit_finish(c, strncmp(reply->str, "LGWARG", 6) == 0 ? -EINVAL : -EPROTO, NULL);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        reply->element[0]->type != REDIS_REPLY_STRING) {
        GW_LOGE(LOG_CAT, "ledger{%s} ref index ref=%s: unexpected reply", c->mask, c->ref);
        commit_finish(c, -EPROTO, NULL);
        return;
    }
    const redisReply *r0 = reply->element[0], *r1 = reply->element[1];
    if (r0->len == 8 && memcmp(r0->str, "conflict", 8) == 0) {
        memset(&res, 0, sizeof(res));
        res.outcome = GW_COMMIT_CONFLICT;
        if (r1->type == REDIS_REPLY_STRING && r1->len < sizeof(res.owner)) {
            memcpy(res.owner, r1->str, r1->len);
            res.owner[r1->len] = '\0';
        } else if (r1->type == REDIS_REPLY_INTEGER) {
            snprintf(res.owner, sizeof(res.owner), "%lld", (long long)r1->integer);
        }
        commit_finish(c, 0, &res);
        return;
    }
    int rc = gw_redis_script_run(c->redis, c->script, c->a.nkeys, c->a.argc, c->a.argv,
                                 c->a.argvlen, commit_reply, c);
    if (rc < 0)
        commit_finish(c, rc, NULL);
}

/* Appends a copy of s (n bytes) to c's storage as the next argument of step 2. */
static int add_arg(struct gw_ledger_args *c, const char *s, size_t n)
{
    if (c->argc >= STEP2_ARGS || n + 1 > sizeof(c->buf) - c->used)
        return -E2BIG;
    char *p = c->buf + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    c->argv[c->argc] = p;
    c->argvlen[c->argc++] = n;
    return 0;
}

static int add_fmt(struct gw_ledger_args *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int add_fmt(struct gw_ledger_args *c, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp))
        return -E2BIG;
    return add_arg(c, tmp, (size_t)n);
}

/* The pieces of a key or number written in place (snprintf cost a tenth of the gateway's CPU per
 * event here): each returns the end of what it wrote; the callers size their buffers. */
static char *put_str(char *w, const char *s, size_t n)
{
    memcpy(w, s, n);
    return w + n;
}

static char *put_i64(char *w, int64_t v)
{
    if (v < 0) {
        *w++ = '-';
        return gw_put_u64(w, (uint64_t)0 - (uint64_t)v);
    }
    return gw_put_u64(w, (uint64_t)v);
}

/* a day YYYYMMDD as "%08" PRId32 writes it (days are validated positive and below 10^8) */
static char *put_day(char *w, int32_t day)
{
    for (int i = 7; i >= 0; i--) {
        w[i] = (char)('0' + day % 10);
        day /= 10;
    }
    return w + 8;
}

/* Appends the decimal v as the next argument. */
static int add_i64(struct gw_ledger_args *c, int64_t v)
{
    char tmp[24];
    return add_arg(c, tmp, (size_t)(put_i64(tmp, v) - tmp));
}

/* djb2 of the ref: chooses the index bucket (the script's field uses SHA-1, another hash). */
static uint32_t ref_bucket(const char *ref, uint32_t buckets)
{
    uint32_t h = 5381;
    for (const unsigned char *p = (const unsigned char *)ref; *p; p++)
        h = h * 33u + *p;
    return h % buckets;
}

int gw_ledger_ref_index_tag(const struct gw_ledger *l, const char *ref, char *out, size_t cap)
{
    int n = snprintf(out, cap, "{b%" PRIu32 "}", ref_bucket(ref, l->cfg.ref_index_buckets));
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

/* ---- expiry (gw_expiry.h): the due set a lot earned on `day` is indexed under */

void gw_ledger_set_expiry_levels(struct gw_ledger *l, const uint32_t *levels, size_t n)
{
    l->nxlevels = n < GW_EXPIRY_LEVELS_MAX ? n : GW_EXPIRY_LEVELS_MAX;
    if (l->nxlevels)
        memcpy(l->xlevels, levels, l->nxlevels * sizeof(levels[0]));
}

/* "lg:xd:<tag>:<due day>" into out (tag: the subscriber's slot tag, NULL when it has none);
 * returns its length, 0 when the lot needs no index. */
static int expiry_due_key(const struct gw_ledger *l, const char *tag, int32_t day, int32_t today,
                          char *out, size_t cap)
{
    struct gw_validity v = {l->table.points_validity_days, l->table.points_validity_months};
    int32_t due;

    if (gw_validity_never(&v) || !tag)
        return 0;
    due = gw_expiry_lot_due(&v, l->xlevels, l->nxlevels, today, day);
    if (due == 0)
        return 0;
    int kn = snprintf(out, cap, "lg:xd:%s:%08" PRId32, tag, due);
    return kn > 0 && (size_t)kn < cap ? kn : 0;
}

/* ---- the steps of a commit: 0 rule ids (only for a text not cached), 1 the ref index (a
 * cluster), 2 commit.lua. */

#define RULE_ARG_ROOM "                                                                "

/* Steps 1 and 2, once the rule ids are in the arguments. */
static int commit_go(struct commit_ctx *c)
{
    if (c->single)
        return gw_redis_script_run(c->redis, c->script, c->a.nkeys, c->a.argc, c->a.argv,
                                   c->a.argvlen, commit_reply, c);
    /* A cluster: step 1, refidx.lua on the index's slot; claim_reply runs step 2. */
    const char *argv1[STEP1_KEYS + 3];
    size_t argvlen1[STEP1_KEYS + 3];
    int n = 0;
    for (int k = 0; k < c->a.nk1; k++) {
        argv1[n] = c->a.keys1[k];
        argvlen1[n++] = strlen(c->a.keys1[k]);
    }
    argv1[n] = c->ref;
    argvlen1[n++] = strlen(c->ref);
    argv1[n] = c->ms1;
    argvlen1[n++] = strlen(c->ms1);
    argv1[n] = c->a.exp1;
    argvlen1[n++] = strlen(c->a.exp1);
    return gw_redis_script_run(c->redis, c->script_refidx, c->a.nk1, n, argv1, argvlen1,
                               claim_reply, c);
}

/* commit.lua's ARGV 13: "id,id,..." one per tier, in the room reserved for it. */
void gw_ledger_args_rules(struct gw_ledger_args *c, const int *ids, int n)
{
    char *p = c->buf + (c->argv[c->rule_arg] - c->buf);
    size_t k = 0, room = sizeof(RULE_ARG_ROOM) - 1;

    for (int i = 0; i < n && k < room; i++) {
        int w = snprintf(p + k, room + 1 - k, "%s%d", i ? "," : "", ids[i]);
        if (w < 0 || (size_t)w > room - k)
            break;
        k += (size_t)w;
    }
    c->argvlen[c->rule_arg] = k;
}

static void rule_reply(void *arg, int err, const struct redisReply *reply)
{
    struct commit_ctx *c = arg;
    int ids[GW_MAX_TIERS] = {0};

    /* No answer in time (Redis slow or the link lost): the event fails as any commit would
     * (T_APPN, redelivered). The dictionary refusing or unusable: the commit goes on with no
     * rule (id 0: the history shows kind and points). Not cached: the next event asks again. */
    if (err < 0) {
        commit_finish(c, err, NULL);
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != (size_t)c->ntexts) {
        GW_LOGN(LOG_CAT, "ledger{%s} rule dictionary ref=%s: %.200s; committed without its rule",
                c->mask, c->ref, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        c->ntexts = 0;
    }
    for (int i = 0; i < c->ntexts; i++) {
        const redisReply *e = reply->element[i];
        ids[i] = e->type == REDIS_REPLY_INTEGER && e->integer > 0 && e->integer <= 65535
                     ? (int)e->integer
                     : 0;
        if (ids[i] > 0)
            gw_rules_put(c->rules, c->texts[i], (uint16_t)ids[i]);
    }
    gw_ledger_args_rules(&c->a, ids, c->ntexts > 0 ? c->ntexts : 1);
    int rc = commit_go(c);
    if (rc < 0)
        commit_finish(c, rc, NULL);
}

/* Appends n bytes of s to a rule text of k bytes, within its room (GW_RULE_TEXT_MAX). */
static size_t text_cat(char *d, size_t k, const char *s, size_t n)
{
    size_t room = GW_RULE_TEXT_MAX - k;
    if (n > room)
        n = room;
    memcpy(d + k, s, n);
    return k + n;
}

/* Step 0: the ids of the texts that explain an earning's points, one per tier (the rule, and
 * the tier's multiplier when it is not 100 %); from the cache, else registered by rule.lua. A
 * reversal has none (its kind says it). Then steps 1 and 2. On error c is freed. */
static int rule_step(struct gw_ledger *l, struct commit_ctx *c, const struct gw_earn *earn)
{
    const struct gw_loyalty *t = &l->table;
    int ids[GW_MAX_TIERS] = {0}, rc;
    bool cached = true;

    c->ntexts = earn ? (int)t->n_tiers : 1;
    size_t rlen = earn ? strnlen(earn->rule, sizeof(earn->rule)) : 0;
    for (int i = 0; earn && i < c->ntexts; i++) {
        /* "<rule>", or "<rule>; tier <name> x<pct>%" when the tier multiplies; cut to the
         * text's room as snprintf would. An empty text: no rule. */
        char *d = c->texts[i], num[24];
        size_t k = text_cat(d, 0, earn->rule, rlen);
        if (t->tiers[i].pct != 100) {
            k = text_cat(d, k, "; tier ", 7);
            k = text_cat(d, k, t->tiers[i].name, strnlen(t->tiers[i].name,
                                                           sizeof(t->tiers[i].name)));
            k = text_cat(d, k, " x", 2);
            k = text_cat(d, k, num, (size_t)(put_i64(num, t->tiers[i].pct) - num));
            k = text_cat(d, k, "%", 1);
        }
        d[k] = '\0';
        ids[i] = c->texts[i][0] ? gw_rules_find(l->rules, c->texts[i]) : 0;
        if (ids[i] < 0)
            cached = false;
    }
    if (cached) {
        gw_ledger_args_rules(&c->a, ids, c->ntexts);
        rc = commit_go(c);
        if (rc < 0)
            free(c);
        return rc;
    }
    const char *argv0[1 + GW_MAX_TIERS];
    size_t len0[1 + GW_MAX_TIERS];
    int n = 0;
    argv0[n] = GW_HIST_RULES;
    len0[n++] = strlen(GW_HIST_RULES);
    for (int i = 0; i < c->ntexts; i++) {
        /* an empty text (never from the loyalty table) is registered as "-" */
        argv0[n] = c->texts[i][0] ? c->texts[i] : "-";
        len0[n] = strlen(argv0[n]);
        n++;
    }
    c->rules = l->rules;
    gw_rules_hold(c->rules);
    rc = gw_redis_script_run(c->redis, l->script_rule, 1, n, argv0, len0, rule_reply, c);
    if (rc < 0) {
        /* not even sent (the dictionary's master unknown or down): no rule, as rule_reply */
        GW_LOGN(LOG_CAT, "ledger{%s} rule dictionary ref=%s: %s; committed without its rule",
                c->mask, c->ref, strerror(-rc));
        gw_rules_release(c->rules);
        c->rules = NULL;
        memset(ids, 0, sizeof(ids));
        gw_ledger_args_rules(&c->a, ids, 1);
        rc = commit_go(c);
        if (rc < 0)
            free(c);
    }
    return rc;
}

int gw_ledger_commit_args(const struct gw_ledger *l, const struct gw_event *ev,
                          const struct gw_earn *earn, int64_t now, struct gw_ledger_args *c)
{
    const struct gw_loyalty *t;
    bool reversal;

    if (!l || !ev || !c || (int)ev->kind < 0 || (int)ev->kind >= GW_EV__COUNT)
        return -EINVAL;
    t = &l->table;
    reversal = ev->kind == GW_EV_REVERSAL;
    if (!valid_msisdn(ev->msisdn) || !valid_ref(ev->ref) || (reversal && !valid_ref(ev->orig)))
        return -EINVAL;
    if (!reversal &&
        (!earn || earn->whole < 0 || earn->frac_den < 1 || earn->frac_den > GW_FRAC_DEN_MAX ||
         earn->frac_num < 0 || earn->frac_num >= earn->frac_den))
        return -EINVAL;
    if (!reversal && earn->whole > GW_EARN_MILLI_MAX / 1000)
        return -ERANGE;
    if (t->n_tiers < 1 || t->n_tiers > GW_MAX_TIERS || ev->at < 0 || now < 0)
        return -EINVAL;
    int32_t day = gw_local_day(ev->at);
    if (day < 19700101 || day > 99991231)
        return -EINVAL;
    c->argc = c->nkeys = 0;
    c->used = 0;

    /* The ref index keys: the current period and the one before. A period is as long as the
     * retention (at least 8 days), so the two cover it: two lookups per commit; an entry lives
     * one to two periods. Strings lg:rs of 13-byte records, then the same periods' hashes lg:ri
     * of the release before, read until they expire (docs/data-model.md 4). */
    char (*keys)[48] = c->keys1;
    int64_t ret = (int64_t)l->cfg.ref_retention_days * 86400;
    int64_t plen = ret > 8 * 86400 ? ret : 8 * 86400;
    int64_t period = now / plen;
    int np = 1 + (int)((ret + plen - 1) / plen);
    if (np > STEP1_KEYS / 2)
        np = STEP1_KEYS / 2;
    uint32_t bucket = ref_bucket(ev->ref, l->cfg.ref_index_buckets);
    size_t klen[STEP1_KEYS];
    for (int k = 0; k < np; k++) { /* "lg:rs:{b<bucket>}:<period>", then "lg:ri:..." */
        char *w = put_str(keys[k], "lg:rs:{b", 8);
        w = gw_put_u64(w, bucket);
        w = put_str(w, "}:", 2);
        w = put_i64(w, period - k);
        *w = '\0';
        klen[k] = klen[np + k] = (size_t)(w - keys[k]);
        memcpy(keys[np + k], keys[k], klen[k] + 1);
        keys[np + k][4] = 'i';
    }
    int nk = 2 * np;
    c->nk1 = nk;
    *put_i64(c->exp1, (period + 1) * plen + ret) = '\0';
    /* commit.lua's keys and arguments (see the script's header); on one Redis the index keys
     * too, and the claim is made in the same script */
    size_t mlen = strlen(ev->msisdn); /* valid_msisdn: at most GW_MSISDN_MAX digits */
    char kw[GW_MSISDN_MAX + 8];
    char *w = put_str(kw, "lg:{", 4);
    w = put_str(w, ev->msisdn, mlen);
    w = put_str(w, "}:w", 3);
    int rc = add_arg(c, kw, (size_t)(w - kw));
    c->nkeys = 1;
    if (l->cfg.single_node) {
        for (int k = 0; k < nk; k++)
            rc |= add_arg(c, keys[k], klen[k]);
        c->nkeys += nk;
    }
    /* the subscriber's slot tag: the expiry index's, the tier review set's and the aggregates'
     * keys */
    char tag[GW_SLOT_TAG_MAX], kb[64];
    bool tagged = gw_slot_tag_of(ev->msisdn, tag) == 0;
    size_t tlen = tagged ? strlen(tag) : 0; /* "{<slot number>}": a few bytes */
    int32_t today = gw_local_day(now);
    int kn;
    if (!reversal &&
        (kn = expiry_due_key(l, tagged ? tag : NULL, day, today, kb, sizeof(kb))) > 0) {
        rc |= add_arg(c, kb, (size_t)kn); /* after the index keys (commit.lua) */
        c->nkeys++;
    }
    /* rolling tiers: today's tier review set, the last key (gw_tier_job.h) */
    if (t->tier_basis != GW_TIER_LIFETIME && tagged) { /* "lg:td:<tag>:<today>" */
        w = put_str(kb, "lg:td:", 6);
        w = put_str(w, tag, tlen);
        *w++ = ':';
        w = put_day(w, today);
        rc |= add_arg(c, kb, (size_t)(w - kb));
        c->nkeys++;
    }
    /* the aggregates of the event's day on the subscriber's slot (docs/data-model.md 6):
     * two keys here, the channel as the last argument */
    bool agg = tagged;
    if (agg) { /* "lg:ag:<tag>:<day>", "lg:ag:<tag>:tot" */
        char *t0 = put_str(put_str(kb, "lg:ag:", 6), tag, tlen);
        *t0++ = ':';
        w = put_day(t0, day);
        rc |= add_arg(c, kb, (size_t)(w - kb));
        w = put_str(t0, "tot", 3);
        rc |= add_arg(c, kb, (size_t)(w - kb));
        c->nkeys += 2;
    }
    rc |= add_arg(c, reversal ? "R" : "E", 1);
    rc |= add_arg(c, ev->ref, strlen(ev->ref));
    const char *kind = gw_event_kind_name(ev->kind);
    rc |= add_arg(c, kind, strlen(kind));
    rc |= add_i64(c, now);
    rc |= add_i64(c, ev->at);
    rc |= add_arg(c, kb, (size_t)(put_day(kb, day) - kb));
    rc |= add_i64(c, reversal ? INT64_C(0) : earn->whole);
    rc |= add_i64(c, reversal ? INT64_C(0) : earn->frac_num);
    rc |= add_i64(c, reversal ? INT64_C(1) : earn->frac_den);
    rc |= add_i64(c, t->daily_cap > 0 ? t->daily_cap : INT64_C(0));
    rc |= add_i64(c, (int64_t)l->cfg.ref_retention_days * 86400);
    rc |= add_i64(c, l->cfg.history_len ? l->cfg.history_len : 1);
    /* the history record's rule ids, one per tier: filled in by gw_ledger_args_rules (step 0) */
    c->rule_arg = c->argc;
    rc |= add_arg(c, RULE_ARG_ROOM, sizeof(RULE_ARG_ROOM) - 1);
    rc |= add_arg(c, reversal ? ev->orig : "", reversal ? strlen(ev->orig) : 0);
    rc |= add_i64(c, reversal || ev->amount_milli < 0 ? INT64_C(0) : ev->amount_milli);
    rc |= add_i64(c, t->n_tiers);
    for (unsigned i = 0; i < t->n_tiers; i++) {
        rc |= add_arg(c, t->tiers[i].name, strnlen(t->tiers[i].name, sizeof(t->tiers[i].name)));
        rc |= add_i64(c, t->tiers[i].min_points);
        rc |= add_i64(c, t->tiers[i].pct);
    }
    rc |= add_i64(c, t->tier_basis);
    /* a table built in code (not through the config loader) may leave these 0 */
    rc |= add_i64(c, t->tier_window_months >= 1 && t->tier_window_months <= 12
                         ? t->tier_window_months
                         : 12u);
    rc |= add_i64(c, t->tier_grace_days <= 365 ? t->tier_grace_days : 365u);
    rc |= add_arg(c, kb, (size_t)(put_day(kb, today) - kb));
    if (l->cfg.single_node)
        rc |= add_arg(c, c->exp1, strlen(c->exp1));
    /* points never expire (no validity): commit.lua folds the lots (docs/data-model.md 1) */
    if (gw_validity_never(&(struct gw_validity){t->points_validity_days,
                                                t->points_validity_months}))
        rc |= add_arg(c, "U", 1);
    /* the velocity caps (commit.lua takes this argument off before the others): only when one
     * is on, so that nothing is counted or written otherwise */
    const struct gw_ledger_config *lc = &l->cfg;
    if (!reversal && (lc->vel_events_hour || lc->vel_events_day || lc->vel_points_hour ||
                      lc->vel_points_day))
        rc |= add_fmt(c, "v:%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%" PRIu32, lc->vel_events_hour,
                      lc->vel_events_day, lc->vel_points_hour, lc->vel_points_day);
    if (agg)
        rc |= add_arg(c, ev->kind == GW_EV_TOPUP ? ev->channel : "",
                      ev->kind == GW_EV_TOPUP ? strnlen(ev->channel, sizeof(ev->channel)) : 0);
    return rc != 0 ? -E2BIG : 0;
}

int gw_ledger_commit(struct gw_ledger *l, const struct gw_event *ev, const struct gw_earn *earn,
                     int64_t now, gw_ledger_cb cb, void *arg)
{
    if (!l || !ev || !cb)
        return -EINVAL;
    /* ~5 KB, most of it argument storage written before it is read: not zeroed (calloc cost
     * a few percent of the gateway's CPU per event); every field is set here or by the args */
    struct commit_ctx *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->rules = NULL;
    c->script_rule = l->script_rule;
    c->ntexts = 0;
    c->texts[0][0] = '\0';
    int rc = gw_ledger_commit_args(l, ev, earn, now, &c->a);
    if (rc < 0) {
        free(c);
        return rc;
    }
    c->cb = cb;
    c->arg = arg;
    c->redis = l->redis;
    c->script = l->script;
    gw_mask_msisdn(ev->msisdn, c->mask);
    /* both validated by gw_ledger_commit_args: within their arrays */
    memcpy(c->ref, ev->ref, strlen(ev->ref) + 1);
    /* step 1 (a cluster): kept for commit_go */
    c->single = l->cfg.single_node;
    c->script_refidx = l->script_refidx;
    memcpy(c->ms1, ev->msisdn, strlen(ev->msisdn) + 1);
    return rule_step(l, c, ev->kind == GW_EV_REVERSAL ? NULL : earn);
}

static void deadletter_reply(void *arg, int err, const struct redisReply *reply)
{
    struct done_ctx *c = arg;

    if (err == 0 && reply->type != REDIS_REPLY_STRING) {
        GW_LOGE(LOG_CAT, "dead letter not stored: %.200s",
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
        err = -EPROTO;
    }
    gw_ledger_done_cb cb = c->cb;
    void *cb_arg = c->arg;
    free(c);
    if (cb)
        cb(cb_arg, err);
}

int gw_ledger_deadletter(struct gw_ledger *l, const char *source, const void *raw, size_t len,
                         const char *reason, int64_t now, gw_ledger_done_cb cb, void *arg)
{
    char s_raw[DLQ_RAW_MAX], s_reason[DLQ_TEXT_MAX], s_source[DLQ_TEXT_MAX];
    char s_max[24], s_at[24];

    if (!l || (!raw && len > 0))
        return -EINVAL;
    /* Untrusted bytes: escaped to printable ASCII and capped, so staff tools can show them. */
    gw_escape(raw ? raw : "", len, s_raw, sizeof(s_raw));
    reason = reason ? reason : "";
    source = source ? source : "";
    gw_escape(reason, strlen(reason), s_reason, sizeof(s_reason));
    gw_escape(source, strlen(source), s_source, sizeof(s_source));
    snprintf(s_max, sizeof(s_max), "%" PRIu32, l->cfg.dlq_maxlen ? l->cfg.dlq_maxlen : 1);
    snprintf(s_at, sizeof(s_at), "%" PRId64, now * 1000); /* now is unix s; stored as unix ms */
    const char *argv[] = {"XADD", dlq_key(source), "MAXLEN", "~",      s_max,    "*",  "raw",
                          s_raw,  "reason",        s_reason, "source", s_source, "at", s_at};
    size_t argvlen[sizeof(argv) / sizeof(argv[0])];
    for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
        argvlen[i] = strlen(argv[i]);

    struct done_ctx *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->arg = arg;
    int rc = gw_redis_command(l->redis, (int)(sizeof(argv) / sizeof(argv[0])), argv, argvlen,
                              deadletter_reply, c);
    if (rc < 0)
        free(c);
    return rc;
}

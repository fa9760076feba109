/*
 * gw_ledger.c - the points ledger: builds the arguments of the one commit script (lua/commit.lua,
 * embedded as gw_lua_commit) and parses its reply into a gw_commit_result; appends dead letters
 * to the lg:dlq stream with a plain XADD.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_redis.h"

#define LOG_CAT "ledger"
#define DLQ_KEY "lg:dlq"
#define DLQ_RAW_MAX 2048                /* escaped raw text kept per dead letter, NUL included */
#define DLQ_TEXT_MAX 256                /* reason and source */
#define MILLI_MAX INT64_C(100000000000) /* the script's bound: keeps products below 2^53 */

/* The embedded script (generated from lua/commit.lua by deploy/embed_text.cmake). */
extern const char gw_lua_commit[];
extern const size_t gw_lua_commit_len;

struct gw_ledger {
    struct gw_redis *redis;
    struct gw_ledger_config cfg;
    struct gw_loyalty table;
    int script;
    /* expiry (gw_expiry.h): the warning levels a new lot's due day counts with */
    uint32_t xlevels[GW_EXPIRY_LEVELS_MAX];
    size_t nxlevels;
};

struct commit_ctx {
    gw_ledger_cb cb;
    void *arg;
    char mask[GW_MASK_LEN];
    char ref[GW_REF_MAX + 1];
};

struct done_ctx {
    gw_ledger_done_cb cb;
    void *arg;
};

void gw_ledger_config_defaults(struct gw_ledger_config *cfg)
{
    cfg->history_len = 50;
    cfg->ref_retention_days = 31;
    cfg->dlq_maxlen = 100000;
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
    l->script = gw_redis_script_add(redis, gw_lua_commit, gw_lua_commit_len);
    if (l->script < 0) {
        free(l);
        return NULL;
    }
    return l;
}

void gw_ledger_free(struct gw_ledger *l)
{
    /* The script stays registered with the client: gw_redis has no removal, and the client may
     * already be gone (see the header comment). */
    free(l);
}

void gw_ledger_set_table(struct gw_ledger *l, const struct gw_loyalty *table)
{
    l->table = *table;
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
    if (!ok || outcome < GW_COMMIT_CREDITED || outcome > GW_COMMIT_REVERSAL_NOOP ||
        t->type != REDIS_REPLY_STRING || t->len >= sizeof(res->tier))
        return -EPROTO;
    res->outcome = (enum gw_commit_outcome)outcome;
    res->enrolled = enrolled ? 1 : 0;
    memcpy(res->tier, t->str, t->len);
    res->tier[t->len] = '\0';
    return 0;
}

static void commit_reply(void *arg, int err, const struct redisReply *reply)
{
    struct commit_ctx *c = arg;
    struct gw_commit_result res;

    if (err == 0) {
        if (reply->type == REDIS_REPLY_ERROR) {
            /* LGWARG: the script refused our arguments (a gateway bug or a bad table), nothing
             * was written. Anything else (LGWDATA, OOM, BUSY...) is a store-side problem. */
            err = strncmp(reply->str, "LGWARG", 6) == 0 ? -EINVAL : -EPROTO;
            GW_LOGE(LOG_CAT, "ledger{%s} commit ref=%s failed: %.200s", c->mask, c->ref,
                    reply->str);
        } else {
            err = parse_result(reply, &res);
            if (err < 0)
                GW_LOGE(LOG_CAT, "ledger{%s} commit ref=%s: unexpected reply", c->mask, c->ref);
        }
    }
    gw_ledger_cb cb = c->cb;
    void *cb_arg = c->arg;
    free(c);
    cb(cb_arg, err, err == 0 ? &res : NULL);
}

/* ---- expiry (gw_expiry.h): the due set a lot earned on `day` is indexed under, as KEYS[4] */

void gw_ledger_set_expiry_levels(struct gw_ledger *l, const uint32_t *levels, size_t n)
{
    l->nxlevels = n < GW_EXPIRY_LEVELS_MAX ? n : GW_EXPIRY_LEVELS_MAX;
    if (l->nxlevels)
        memcpy(l->xlevels, levels, l->nxlevels * sizeof(levels[0]));
}

static int expiry_due_key(const struct gw_ledger *l, const char *msisdn, int32_t day, int64_t now,
                          char *out, size_t cap)
{
    struct gw_validity v = {l->table.points_validity_days, l->table.points_validity_months};
    char tag[GW_SLOT_TAG_MAX];
    int32_t due;

    if (gw_validity_never(&v) || gw_slot_tag_of(msisdn, tag) < 0)
        return 0;
    due = gw_expiry_lot_due(&v, l->xlevels, l->nxlevels, gw_local_day(now), day);
    if (due == 0)
        return 0;
    int kn = snprintf(out, cap, "lg:xd:%s:%08" PRId32, tag, due);
    return kn > 0 && (size_t)kn < cap ? kn : 0;
}

int gw_ledger_commit(struct gw_ledger *l, const struct gw_event *ev, const struct gw_earn *earn,
                     int64_t now, gw_ledger_cb cb, void *arg)
{
    enum { FIXED = 16, MAXARGS = FIXED + 3 * GW_MAX_TIERS };
    const char *argv[MAXARGS];
    size_t argvlen[MAXARGS];
    char keys[4][GW_MSISDN_MAX + 32];
    char s_now[24], s_at[24], s_day[16], s_milli[24], s_cap[24], s_ret[24], s_hlen[16], s_nt[8];
    char s_min[GW_MAX_TIERS][24], s_pct[GW_MAX_TIERS][16];
    const struct gw_loyalty *t;
    bool reversal;

    if (!l || !ev || !cb || (int)ev->kind < 0 || (int)ev->kind >= GW_EV__COUNT)
        return -EINVAL;
    t = &l->table;
    reversal = ev->kind == GW_EV_REVERSAL;
    if (!valid_msisdn(ev->msisdn) || !valid_ref(ev->ref) || (reversal && !valid_ref(ev->orig)))
        return -EINVAL;
    if (!reversal && (!earn || earn->milli < 0 || earn->milli > MILLI_MAX))
        return earn && earn->milli > MILLI_MAX ? -ERANGE : -EINVAL;
    if (t->n_tiers < 1 || t->n_tiers > GW_MAX_TIERS || ev->at < 0 || now < 0)
        return -EINVAL;
    int32_t day = gw_local_day(ev->at);
    if (day < 19700101 || day > 99991231)
        return -EINVAL;

    int n = 0;
    for (int k = 0; k < 3; k++) {
        int kn = snprintf(keys[k], sizeof(keys[k]), "lg:{%s}:%c", ev->msisdn, "wrh"[k]);
        argv[n] = keys[k];
        argvlen[n++] = (size_t)kn;
    }
    int nkeys = 3;
    if (!reversal) {
        int kn = expiry_due_key(l, ev->msisdn, day, now, keys[3], sizeof(keys[3]));
        if (kn > 0) {
            argv[n] = keys[3];
            argvlen[n++] = (size_t)kn;
            nkeys = 4;
        }
    }
#define ARG(s)                                                                                     \
    do {                                                                                           \
        argv[n] = (s);                                                                             \
        argvlen[n] = strlen(argv[n]);                                                              \
        n++;                                                                                       \
    } while (0)
    snprintf(s_now, sizeof(s_now), "%" PRId64, now);
    snprintf(s_at, sizeof(s_at), "%" PRId64, ev->at);
    snprintf(s_day, sizeof(s_day), "%08" PRId32, day);
    snprintf(s_milli, sizeof(s_milli), "%" PRId64, reversal ? INT64_C(0) : earn->milli);
    snprintf(s_cap, sizeof(s_cap), "%" PRId64, t->daily_cap > 0 ? t->daily_cap : INT64_C(0));
    snprintf(s_ret, sizeof(s_ret), "%" PRIu64, (uint64_t)l->cfg.ref_retention_days * 86400u);
    snprintf(s_hlen, sizeof(s_hlen), "%" PRIu32, l->cfg.history_len ? l->cfg.history_len : 1);
    snprintf(s_nt, sizeof(s_nt), "%u", t->n_tiers);
    ARG(reversal ? "R" : "E");
    ARG(ev->ref);
    ARG(gw_event_kind_name(ev->kind));
    ARG(s_now);
    ARG(s_at);
    ARG(s_day);
    ARG(s_milli);
    ARG(s_cap);
    ARG(s_ret);
    ARG(s_hlen);
    /* earn->rule is a fixed array: bound the read even if it is not terminated. */
    argv[n] = reversal ? "reversal" : earn->rule;
    argvlen[n] = reversal ? 8 : strnlen(earn->rule, sizeof(earn->rule));
    n++;
    ARG(reversal ? ev->orig : "");
    ARG(s_nt);
    for (unsigned i = 0; i < t->n_tiers; i++) {
        snprintf(s_min[i], sizeof(s_min[i]), "%" PRId64, t->tiers[i].min_points);
        snprintf(s_pct[i], sizeof(s_pct[i]), "%" PRId32, t->tiers[i].pct);
        argv[n] = t->tiers[i].name;
        argvlen[n++] = strnlen(t->tiers[i].name, sizeof(t->tiers[i].name));
        ARG(s_min[i]);
        ARG(s_pct[i]);
    }
#undef ARG

    struct commit_ctx *c = malloc(sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->cb = cb;
    c->arg = arg;
    gw_mask_msisdn(ev->msisdn, c->mask);
    snprintf(c->ref, sizeof(c->ref), "%s", ev->ref);
    int rc = gw_redis_script_run(l->redis, l->script, nkeys, n, argv, argvlen, commit_reply,
                                 c);
    if (rc < 0)
        free(c);
    return rc;
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
    const char *argv[] = {"XADD", DLQ_KEY,  "MAXLEN", "~",      s_max,    "*",  "raw",
                          s_raw,  "reason", s_reason, "source", s_source, "at", s_at};
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

/*
 * cat_redeem.c - redemption in Redis: reserve (item slot) -> voucher claim (pool slot) -> debit
 * (subscriber slot) -> confirm (item slot) -> XADD to the fulfilment stream -> "queued" on both
 * sides; the sweeper for abandoned reservations; the fulfilment worker's transitions (fulfilled,
 * refund + restock, charity totals); voucher pool loading. Owned by the redemption engineer
 * (issue 4). Scripts: lua/item.lua, lua/sub.lua, lua/pool.lua (embedded by CMake).
 *
 * Keys (one hash tag per script call, so every step runs on one Redis Cluster slot):
 *   item    cat:{ITEM}:s:DAY stock left, cat:{ITEM}:r:DAY reservations, cat:{ITEM}:z pending
 *           (not yet queued) reservations by time, cat:{ITEM}:k kill switch shared by gateways
 *   sub     lg:{M}:w wallet (its history E and notes N), lg:{M}:h the ledger's history list of
 *           the release before (passed, no longer written), lg:{M}:g redemption records and
 *           per-gift-day counters
 *   pool    cat:{pool:NAME}:q / :all / :given      cause  cat:{cause:NAME} / :r
 *   stream  cat:fulfil (CAT_FULFIL_STREAM)
 *   rules   lg:rules: the id of the history text of a debit ("gift ITEM (catalogue V)") or a
 *           refund ("refund ITEM"), core/lua/rule.lua, before the step when not cached
 *
 * Why it never oversells nor double-spends across shards: stock moves only in item.lua, points
 * only in sub.lua, each idempotent by rid. A rid's stock is given back (RELEASE) only when its
 * debit is known not to have happened and never will: the debit refused, or the sweeper wrote a
 * tombstone on the subscriber slot first (a debit arriving later sees it and refuses). A paid
 * rid is never released: the sweeper confirms and queues it instead. So for every rid, stock
 * taken <=> points taken, once.
 *
 * Ownership: struct cat_redeem borrows redis, the store and the calendar. Each request owns a
 * struct rd_ctx (heap) that carries everything its steps need and is freed when its chain ends,
 * right before the caller's callback. A chain talks to the module (r) only when a step succeeded;
 * on any error it ends at once, so after gw_redis_free() (which fails pending requests with
 * -ECANCELED) no chain touches a freed module - main.c frees Redis before this module. The
 * sweeper's pass context is the exception: it belongs to r, and cat_redeem_free detaches it.
 */
#include "catalog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "cat_priv.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_redis.h"
#include "gw_rules.h"

#define LOG_CAT "redeem"
#define DAY_TTL_S (8 * 86400) /* stock and reservations of a gift day: a week for late refunds */
#define SWEEP_BATCH 100       /* reservations settled per item per round */
#define MAX_TIER_ARGS 16

extern const char cat_lua_item[];
extern const size_t cat_lua_item_len;
extern const char cat_lua_sub[];
extern const size_t cat_lua_sub_len;
extern const char cat_lua_pool[];
extern const size_t cat_lua_pool_len;
extern const char cat_lua_draw[];
extern const size_t cat_lua_draw_len;

struct sweep_pass;

struct cat_redeem {
    struct event_base *base;
    struct gw_redis *redis;
    struct cat_store *store;
    const struct cat_calendar *cal;
    struct cat_redeem_config cfg;
    int s_item, s_sub, s_pool, s_draw, s_rule;
    struct gw_rules *rules; /* ids of the history texts in lg:rules ("gift ITEM (catalogue V)") */
    struct event *ev_sweep;
    struct sweep_pass *pass; /* the running sweeper pass, or NULL */
    struct cat_sweep_stats sweep_stats;
};

/* ---------------------------------------------------------------- config, names */

void cat_redeem_config_defaults(struct cat_redeem_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->reservation_timeout_s = 30;
    cfg->sweep_interval_ms = 1000;
    cfg->history_len = 50;
    cfg->record_retention_days = 90;
    cfg->stream_maxlen = 1000000;
    snprintf(cfg->gift_tiers[0], sizeof(cfg->gift_tiers[0]), "gold");
    cfg->n_gift_tiers = 1;
}

int64_t cat_perk_price(const struct cat_redeem_config *cfg, int64_t price)
{
    uint32_t pct = cfg && cfg->perk_share_pct <= 100 ? cfg->perk_share_pct : 100;
    return price > 0 ? price * pct / 100 : 0;
}

const char *cat_redeem_outcome_name(enum cat_redeem_outcome o)
{
    static const char *const names[CAT_REDEEM__COUNT] = {
        "granted",      "duplicate",    "closed",   "unavailable", "price_mismatch",
        "out_of_stock", "blocked",      "negative", "tier",        "limit",
        "balance",      "gift_refused", "no_code",  "abandoned",   "not_released",
        "draw_registered", "draw_won",  "draw_waiting", "draw_lost", "draw_closed",
    };
    return (unsigned)o < CAT_REDEEM__COUNT ? names[o] : "?";
}

const char *cat_transition_name(enum cat_transition t)
{
    switch (t) {
    case CAT_TR_DONE:
        return "done";
    case CAT_TR_ALREADY:
        return "already";
    case CAT_TR_CONFLICT:
        return "conflict";
    case CAT_TR_UNKNOWN:
        return "unknown";
    }
    return "?";
}

/* An outcome stored in a released reservation (its "why") back to the enum. */
static enum cat_redeem_outcome outcome_by_name(const char *s, size_t len)
{
    for (int o = 0; o < CAT_REDEEM__COUNT; o++) {
        const char *n = cat_redeem_outcome_name((enum cat_redeem_outcome)o);
        if (strlen(n) == len && memcmp(n, s, len) == 0)
            return (enum cat_redeem_outcome)o;
    }
    return CAT_REDEEM_ABANDONED;
}

/* ---------------------------------------------------------------- rids */

static bool valid_msisdn(const char *s)
{
    size_t n = s ? strnlen(s, 16) : 0;
    if (n == 0 || n > 15)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static bool valid_id(const char *s)
{
    size_t n = s ? strnlen(s, CAT_ID_MAX) : 0;
    if (n == 0 || n >= CAT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

/* Splits a rid into its parts (copies). Returns 0 or -EINVAL. */
static int rid_parse(const char *rid, char *msisdn, char *item, int32_t *day)
{
    size_t n = rid ? strnlen(rid, CAT_RID_MAX) : 0;
    const char *p = rid, *c1, *c2, *c3;

    if (n == 0 || n >= CAT_RID_MAX)
        return -EINVAL;
    c1 = memchr(p, ':', n);
    if (!c1 || c1 == p || c1 - p > 15)
        return -EINVAL;
    c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - p));
    if (!c2 || c2 == c1 + 1 || c2 - c1 - 1 >= CAT_ID_MAX)
        return -EINVAL;
    c3 = memchr(c2 + 1, ':', n - (size_t)(c2 + 1 - p));
    if (!c3 || c3 - c2 - 1 != 8 || rid + n - c3 - 1 < 1 || rid + n - c3 - 1 > 32)
        return -EINVAL;
    memcpy(msisdn, p, (size_t)(c1 - p));
    msisdn[c1 - p] = '\0';
    memcpy(item, c1 + 1, (size_t)(c2 - c1 - 1));
    item[c2 - c1 - 1] = '\0';
    int32_t dv = 0;
    for (const char *q = c2 + 1; q < c3; q++) {
        if (*q < '0' || *q > '9')
            return -EINVAL;
        dv = dv * 10 + (*q - '0');
    }
    for (const char *q = c3 + 1; q < rid + n; q++) {
        char ch = *q;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return -EINVAL;
    }
    if (!valid_msisdn(msisdn) || !valid_id(item) || dv < 19700101 || dv > 99991231)
        return -EINVAL;
    *day = dv;
    return 0;
}

int cat_redeem_rid(const char *msisdn, const char *item_id, int32_t gift_day, const char *source,
                   char *out, size_t cap)
{
    /* FNV-1a 64: only needs to spread sources; a rid collision would need the same subscriber,
     * item and gift day too. */
    uint64_t h = UINT64_C(1469598103934665603);

    if (!valid_msisdn(msisdn) || !valid_id(item_id) || gift_day < 19700101 || gift_day > 99991231 ||
        !source || !out)
        return -EINVAL;
    for (const unsigned char *p = (const unsigned char *)source; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    int n = snprintf(out, cap, "%s:%s:%08" PRId32 ":%016" PRIx64, msisdn, item_id, gift_day, h);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return 0;
}

/* ---------------------------------------------------------------- module */

struct cat_redeem *cat_redeem_new(struct event_base *base, struct gw_redis *redis,
                                  struct cat_store *store, const struct cat_calendar *cal,
                                  const struct cat_redeem_config *cfg)
{
    if (!base || !redis || !store || !cfg)
        return NULL;
    struct cat_redeem *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->base = base;
    r->redis = redis;
    r->store = store;
    r->cal = cal;
    r->cfg = *cfg;
    r->s_item = gw_redis_script_add(redis, cat_lua_item, cat_lua_item_len);
    r->s_sub = gw_redis_script_add(redis, cat_lua_sub, cat_lua_sub_len);
    r->s_pool = gw_redis_script_add(redis, cat_lua_pool, cat_lua_pool_len);
    r->s_draw = gw_redis_script_add(redis, cat_lua_draw, cat_lua_draw_len);
    r->s_rule = gw_redis_script_add(redis, gw_lua_rule, gw_lua_rule_len);
    r->rules = gw_rules_new();
    if (r->s_item < 0 || r->s_sub < 0 || r->s_pool < 0 || r->s_draw < 0 || r->s_rule < 0 ||
        !r->rules) {
        gw_rules_release(r->rules);
        free(r);
        return NULL;
    }
    return r;
}

void cat_redeem_view(struct cat_redeem *r, struct cat_redeem_view *out)
{
    *out = (struct cat_redeem_view){.base = r->base,
                                    .redis = r->redis,
                                    .store = r->store,
                                    .cal = r->cal,
                                    .s_draw = r->s_draw};
}

void cat_redeem_set_calendar(struct cat_redeem *r, const struct cat_calendar *cal)
{
    r->cal = cal;
}

void cat_redeem_set_config(struct cat_redeem *r, const struct cat_redeem_config *cfg)
{
    r->cfg = *cfg;
}

/* ---------------------------------------------------------------- the request chain */

enum { SETTLE_RELEASED = 0, SETTLE_CONFIRMED, SETTLE_REQUEUED };

enum rd_kind { RD_REDEEM = 0, RD_SETTLE, RD_FULFIL, RD_REFUND, RD_CHARITY };

enum rd_step {
    ST_RESERVE = 0,
    ST_CLAIM,
    ST_DEBIT,
    ST_UNCLAIM, /* after a refused debit or a tombstone */
    ST_RELEASE,
    ST_CONFIRM,
    ST_XADD,
    ST_QUEUED_ITEM,
    ST_QUEUED_SUB,
    ST_SWEEP, /* settle: ask the subscriber slot */
    ST_FULFIL,
    ST_REFUND,
    ST_RESTOCK,
    ST_CHARITY,
    ST_RULE, /* the id of the history text (rule.lua), before DEBIT or REFUND */
};

struct rd_ctx {
    struct cat_redeem *r;
    enum rd_kind kind;
    enum rd_step step;
    char rid[CAT_RID_MAX];
    char msisdn[16];
    char to[16];
    char item[CAT_ID_MAX];
    char version[CAT_ID_MAX];
    int32_t day;
    int64_t now;
    int64_t price;
    int64_t stock_per_day;
    int64_t limit;
    bool perk;       /* the premium perk: limit is perk_per_day, the item's limit does not apply */
    int64_t release; /* staggered opening: the member's slot (unix s), 0 = none */
    int64_t held;    /* staggered opening: units held back for cohorts not yet released */
    struct cat_fulfil fulfil;
    char code[CAT_VOUCHER_CODE_MAX + 1];
    char text[CAT_REASON_MAX];   /* reference (fulfil) or reason (refund) */
    char note[GW_RULE_TEXT_MAX]; /* the history text of DEBIT/REFUND: its id goes to sub.lua */
    char rule_arg[24];           /* "rule=<id>", sub.lua's last argument */
    enum rd_step after_rule;     /* DEBIT or REFUND, once the id is known */
    int32_t today;
    /* tier names for the debit: allowed, window (premium early opening), gifting */
    char tiers[3][MAX_TIER_ARGS][CAT_NAME_MAX];
    unsigned n_tiers[3];
    bool dup;                        /* a retry of a rid already paid */
    enum cat_redeem_outcome refusal; /* why the release happens */
    enum cat_transition tr;
    struct cat_redeem_result res;
    cat_redeem_cb cb;
    cat_transition_cb tcb;
    void (*scb)(void *arg, int err, int what); /* settle: back to the sweeper pass */
    bool confirmed_now; /* settle: CONFIRM moved the reservation from r to c */
    void *arg;
};

static void ctx_finish(struct rd_ctx *c, int err)
{
    void *arg = c->arg;

    switch (c->kind) {
    case RD_REDEEM: {
        struct cat_redeem_result res = c->res;
        cat_redeem_cb cb = c->cb;
        /* The debit answered "paid" and a later step failed: the redemption went through and
         * the sweeper finishes it (confirm, queue; the fulfilment's SMS follows). Say so, not
         * "failed" (issue 10 §5: the screen must not claim the service was unavailable). */
        if (err < 0 && (c->step == ST_CONFIRM || c->step == ST_XADD ||
                        c->step == ST_QUEUED_ITEM || c->step == ST_QUEUED_SUB))
            err = -EINPROGRESS;
        free(c);
        cb(arg, err, err == 0 ? &res : NULL);
        break;
    }
    case RD_SETTLE: {
        void (*cb)(void *, int, int) = c->scb;
        int what = c->step == ST_RELEASE ? SETTLE_RELEASED
                   : c->confirmed_now    ? SETTLE_CONFIRMED
                                         : SETTLE_REQUEUED;
        free(c);
        cb(arg, err, what);
        break;
    }
    default: {
        enum cat_transition t = c->tr;
        cat_transition_cb cb = c->tcb;
        free(c);
        cb(arg, err, t);
        break;
    }
    }
}

static void on_reply(void *arg, int err, const struct redisReply *reply);

/* A reply's status word (element 0), or NULL when the reply is not {string, ...}. */
static const redisReply *reply_elem(const redisReply *reply, size_t i)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements <= i)
        return NULL;
    return reply->element[i];
}

static bool status_is(const redisReply *reply, const char *word)
{
    const redisReply *e = reply_elem(reply, 0);
    return e && e->type == REDIS_REPLY_STRING && e->len == strlen(word) &&
           memcmp(e->str, word, e->len) == 0;
}

static bool elem_int(const redisReply *reply, size_t i, int64_t *out)
{
    const redisReply *e = reply_elem(reply, i);
    char buf[24], *end;

    if (!e)
        return false;
    if (e->type == REDIS_REPLY_INTEGER) {
        *out = e->integer;
        return true;
    }
    if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len >= sizeof(buf))
        return false;
    memcpy(buf, e->str, e->len);
    buf[e->len] = '\0';
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Copies string element i into out (cap bytes, NUL-terminated). Returns false when absent, not
 * a string or too long. */
static bool elem_str(const redisReply *reply, size_t i, char *out, size_t cap)
{
    const redisReply *e = reply_elem(reply, i);

    if (!e || e->type != REDIS_REPLY_STRING || e->len >= cap)
        return false;
    memcpy(out, e->str, e->len);
    out[e->len] = '\0';
    return true;
}

#define MAX_ARGS (16 + 3 * (MAX_TIER_ARGS + 1))

struct argbuf {
    const char *argv[MAX_ARGS];
    size_t len[MAX_ARGS];
    char num[12][24]; /* DEBIT: 6 numbers and 3 list lengths */
    char keys[5][CAT_ID_MAX + 48];
    int n, nnum;
};

static void arg_s(struct argbuf *a, const char *s)
{
    a->argv[a->n] = s;
    a->len[a->n++] = strlen(s);
}

static void arg_i(struct argbuf *a, int64_t v)
{
    char *b = a->num[a->nnum++];
    snprintf(b, sizeof(a->num[0]), "%" PRId64, v);
    arg_s(a, b);
}

static int key_arg(struct argbuf *a, int k, const char *fmt, const char *tag, int32_t day)
{
    int n = snprintf(a->keys[k], sizeof(a->keys[k]), fmt, tag, day);
    if (n < 0 || (size_t)n >= sizeof(a->keys[k]))
        return -ENAMETOOLONG;
    arg_s(a, a->keys[k]);
    return 0;
}

static int run_script(struct rd_ctx *c, int script, int nkeys, struct argbuf *a)
{
    return gw_redis_script_run(c->r->redis, script, nkeys, a->n, a->argv, a->len, on_reply, c);
}

/* item.lua: op with its ARGV 4..6 */
static int step_item(struct rd_ctx *c, enum rd_step step, const char *op)
{
    struct argbuf a = {.n = 0};

    c->step = step;
    if (key_arg(&a, 0, "cat:{%s}:s:%08d", c->item, c->day) < 0 ||
        key_arg(&a, 1, "cat:{%s}:r:%08d", c->item, c->day) < 0 ||
        key_arg(&a, 2, "cat:{%s}:z", c->item, 0) < 0 ||
        key_arg(&a, 3, "cat:{%s}:k", c->item, 0) < 0 ||
        key_arg(&a, 4, "cat:{%s}:n:%08d", c->item, c->day) < 0)
        return -EINVAL;
    arg_s(&a, op);
    arg_s(&a, c->rid);
    arg_i(&a, c->now);
    if (step == ST_RESERVE) {
        arg_i(&a, c->stock_per_day);
        arg_i(&a, c->price);
        arg_s(&a, c->version);
    } else {
        arg_s(&a, step == ST_RELEASE ? cat_redeem_outcome_name(c->refusal) : "");
        arg_s(&a, "");
        arg_s(&a, "");
    }
    arg_i(&a, DAY_TTL_S);
    arg_i(&a, step == ST_RESERVE && !c->perk ? c->limit : 0);
    arg_i(&a, step == ST_RESERVE ? c->release : 0);
    arg_i(&a, step == ST_RESERVE ? c->held : 0);
    return run_script(c, c->r->s_item, 5, &a);
}

static void arg_names(struct argbuf *a, char names[][CAT_NAME_MAX], unsigned n)
{
    arg_i(a, n);
    for (unsigned i = 0; i < n; i++)
        arg_s(a, names[i]);
}

static int step_sub(struct rd_ctx *c, enum rd_step step, const char *op)
{
    struct argbuf a = {.n = 0};

    c->step = step;
    /* the aggregates of today on the subscriber's slot (docs/data-model.md 6; sub.lua) */
    char tag[GW_SLOT_TAG_MAX];
    int32_t today = cat_tz_local_date(cat_calendar_tz(c->r->cal), c->now);
    if (gw_slot_tag_of(c->msisdn, tag) < 0 || key_arg(&a, 0, "lg:{%s}:w", c->msisdn, 0) < 0 ||
        key_arg(&a, 1, "lg:{%s}:h", c->msisdn, 0) < 0 ||
        key_arg(&a, 2, "lg:{%s}:g", c->msisdn, 0) < 0 ||
        key_arg(&a, 3, "lg:ag:%s:%08d", tag, today) < 0 ||
        key_arg(&a, 4, "lg:ag:%s:tot", tag, 0) < 0)
        return -EINVAL;
    arg_s(&a, op);
    arg_s(&a, c->rid);
    arg_i(&a, c->now);
    arg_i(&a, c->r->cfg.history_len ? c->r->cfg.history_len : 1);
    arg_i(&a,
          (int64_t)(c->r->cfg.record_retention_days ? c->r->cfg.record_retention_days : 1) * 86400);
    if (step == ST_DEBIT) {
        arg_i(&a, c->price);
        arg_s(&a, c->version);
        arg_i(&a, c->limit);
        arg_s(&a, c->to);
        arg_s(&a, c->code);
        /* the lots this day expires: dated on or before the cut-off (0 = none) */
        struct gw_validity v = {c->r->cfg.validity_days, c->r->cfg.validity_months};
        arg_i(&a, gw_validity_cutoff(&v, cat_tz_local_date(cat_calendar_tz(c->r->cal), c->now)));
        for (int k = 0; k < 3; k++)
            arg_names(&a, c->tiers[k], c->n_tiers[k]);
        if (c->perk)
            arg_s(&a, "perk");
    } else if (step == ST_FULFIL) {
        arg_s(&a, c->text);
    } else if (step == ST_REFUND) {
        arg_s(&a, c->text);
        arg_i(&a, c->today);
    }
    if ((step == ST_DEBIT || step == ST_REFUND) && c->rule_arg[0])
        arg_s(&a, c->rule_arg); /* the history record's text (sub.lua, optional) */
    return run_script(c, c->r->s_sub, 5, &a);
}

/* DEBIT or REFUND with the id of its history text in lg:rules ("gift ITEM (catalogue V)",
 * "refund ITEM"; docs/data-model.md 2): from the cache, else registered by rule.lua first. */
static int step_noted(struct rd_ctx *c, enum rd_step step)
{
    const char *op = step == ST_DEBIT ? "DEBIT" : "REFUND";
    int n = step == ST_DEBIT
                ? snprintf(c->note, sizeof(c->note), "gift %s (catalogue %s)", c->item, c->version)
                : snprintf(c->note, sizeof(c->note), "refund %s", c->item);
    if (n < 0 || (size_t)n >= sizeof(c->note))
        return step_sub(c, step, op); /* not the ids' bounds: sub.lua keeps the text itself */
    int id = gw_rules_find(c->r->rules, c->note);
    if (id >= 0) {
        snprintf(c->rule_arg, sizeof(c->rule_arg), "rule=%d", id);
        return step_sub(c, step, op);
    }
    const char *argv[] = {GW_RULES_KEY, c->note};
    size_t len[] = {strlen(argv[0]), strlen(argv[1])};
    c->step = ST_RULE;
    c->after_rule = step;
    return gw_redis_script_run(c->r->redis, c->r->s_rule, 1, 2, argv, len, on_reply, c);
}

static int step_pool(struct rd_ctx *c, enum rd_step step, const char *op)
{
    struct argbuf a = {.n = 0};

    c->step = step;
    if (key_arg(&a, 0, "cat:{pool:%s}:q", c->fulfil.pool, 0) < 0 ||
        key_arg(&a, 1, "cat:{pool:%s}:all", c->fulfil.pool, 0) < 0 ||
        key_arg(&a, 2, "cat:{pool:%s}:given", c->fulfil.pool, 0) < 0)
        return -EINVAL;
    arg_s(&a, op);
    arg_s(&a, c->rid);
    return run_script(c, c->r->s_pool, 3, &a);
}

static int step_xadd(struct rd_ctx *c)
{
    struct argbuf a = {.n = 0};
    char maxlen[16], qty[24], price[24], day[12], at[24];

    c->step = ST_XADD;
    snprintf(maxlen, sizeof(maxlen), "%" PRIu32,
             c->r->cfg.stream_maxlen ? c->r->cfg.stream_maxlen : 1000000u);
    snprintf(qty, sizeof(qty), "%" PRId64, c->fulfil.quantity);
    snprintf(price, sizeof(price), "%" PRId64, c->price);
    snprintf(day, sizeof(day), "%08" PRId32, c->day);
    snprintf(at, sizeof(at), "%" PRId64, c->now);
    const char *v[] = {"XADD",     CAT_FULFIL_STREAM,
                       "MAXLEN",   "~",
                       maxlen,     "*",
                       "rid",      c->rid,
                       "msisdn",   c->msisdn,
                       "to",       c->to,
                       "item",     c->item,
                       "version",  c->version,
                       "price",    price,
                       "day",      day,
                       "type",     cat_fulfil_type_name(c->fulfil.type),
                       "kind",     c->fulfil.kind,
                       "quantity", qty,
                       "unit",     c->fulfil.unit,
                       "code",     c->code,
                       "cause",    c->fulfil.cause,
                       "at",       at};
    size_t n = sizeof(v) / sizeof(v[0]);
    for (size_t i = 0; i < n; i++) {
        a.argv[i] = v[i];
        a.len[i] = strlen(v[i]);
    }
    return gw_redis_command(c->r->redis, (int)n, a.argv, a.len, on_reply, c);
}

static int step_charity(struct rd_ctx *c)
{
    struct argbuf a = {.n = 0};

    c->step = ST_CHARITY;
    if (key_arg(&a, 0, "cat:{cause:%s}", c->fulfil.cause, 0) < 0 ||
        key_arg(&a, 1, "cat:{cause:%s}:r", c->fulfil.cause, 0) < 0)
        return -EINVAL;
    arg_s(&a, "CHARITY");
    arg_s(&a, c->rid);
    arg_i(&a, c->price);
    return run_script(c, c->r->s_pool, 2, &a);
}

/* Starts the release path: give a claimed code back, then the stock. */
static int release(struct rd_ctx *c, enum cat_redeem_outcome why)
{
    c->refusal = why;
    if (c->fulfil.type == CAT_FULFIL_VOUCHER && c->fulfil.pool[0])
        return step_pool(c, ST_UNCLAIM, "UNCLAIM");
    return step_item(c, ST_RELEASE, "RELEASE");
}

static enum cat_redeem_outcome debit_refusal(const redisReply *reply)
{
    static const struct {
        const char *word;
        enum cat_redeem_outcome o;
    } map[] = {
        {"blocked", CAT_REDEEM_BLOCKED},   {"negative", CAT_REDEEM_NEGATIVE},
        {"tier", CAT_REDEEM_TIER},         {"closed", CAT_REDEEM_CLOSED},
        {"gift", CAT_REDEEM_GIFT_REFUSED}, {"limit", CAT_REDEEM_LIMIT},
        {"balance", CAT_REDEEM_BALANCE},   {"abandoned", CAT_REDEEM_ABANDONED},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (status_is(reply, map[i].word))
            return map[i].o;
    return CAT_REDEEM__COUNT;
}

static int after_reserve(struct rd_ctx *c);

/* One step's reply -> the next step. Returns 0 when a next step was sent, 1 when the chain is
 * over (success), or < 0 (chain over with that error). */
static int advance(struct rd_ctx *c, const redisReply *reply)
{
    char mask[GW_MASK_LEN];
    int64_t v;

    switch (c->step) {
    case ST_RESERVE:
        if (status_is(reply, "ok"))
            return after_reserve(c);
        if (status_is(reply, "out")) {
            c->res.outcome = CAT_REDEEM_OUT_OF_STOCK;
            return 1;
        }
        if (status_is(reply, "killed")) {
            c->res.outcome = CAT_REDEEM_UNAVAILABLE;
            return 1;
        }
        if (status_is(reply, "limit")) {
            c->res.outcome = CAT_REDEEM_LIMIT;
            return 1;
        }
        if (status_is(reply, "slot")) {
            c->res.outcome = CAT_REDEEM_NOT_RELEASED;
            c->res.next_open = c->release;
            return 1;
        }
        if (status_is(reply, "dup")) {
            char st[4], why[32];
            if (!elem_str(reply, 1, st, sizeof(st)) || !elem_str(reply, 3, why, sizeof(why)))
                return -EPROTO;
            if (st[0] == 'x' || st[0] == 'f') {
                /* This confirmation was settled before without a grant: same answer. */
                c->res.outcome =
                    st[0] == 'x' ? outcome_by_name(why, strlen(why)) : CAT_REDEEM_ABANDONED;
                return 1;
            }
            c->dup = true;
            if (st[0] == 'q') {
                c->res.outcome = CAT_REDEEM_DUPLICATE;
                c->res.price = c->price;
                return 1;
            }
            return after_reserve(c); /* r or c: finish what the first attempt started */
        }
        return -EPROTO;
    case ST_CLAIM:
        if (status_is(reply, "empty")) {
            c->res.outcome = CAT_REDEEM_NO_CODE;
            c->refusal = CAT_REDEEM_NO_CODE;
            return step_item(c, ST_RELEASE, "RELEASE");
        }
        if (!status_is(reply, "ok") || !elem_str(reply, 1, c->code, sizeof(c->code)))
            return -EPROTO;
        return step_noted(c, ST_DEBIT);
    case ST_RULE: {
        /* No id (the dictionary refused or is full): sub.lua keeps the whole text in the
         * wallet's note field N instead; the redemption is not held up by its history. */
        const redisReply *e = reply_elem(reply, 0);
        if (e && e->type == REDIS_REPLY_INTEGER && e->integer > 0 && e->integer <= 65535) {
            gw_rules_put(c->r->rules, c->note, (uint16_t)e->integer);
            snprintf(c->rule_arg, sizeof(c->rule_arg), "rule=%lld", (long long)e->integer);
        } else {
            GW_LOGN(LOG_CAT, "redeem{%s} rule dictionary: %.200s; history text kept apart",
                    gw_mask_msisdn(c->msisdn, mask),
                    reply->type == REDIS_REPLY_ERROR ? reply->str : "no id");
            c->rule_arg[0] = '\0';
        }
        return step_sub(c, c->after_rule, c->after_rule == ST_DEBIT ? "DEBIT" : "REFUND");
    }
    case ST_DEBIT: {
        if (status_is(reply, "paid") || status_is(reply, "dup")) {
            size_t bi = status_is(reply, "paid") ? 1 : 2;
            if (!elem_int(reply, bi, &v))
                return -EPROTO;
            c->res.balance = v;
            if (status_is(reply, "dup"))
                c->dup = true;
            return step_item(c, ST_CONFIRM, "CONFIRM");
        }
        enum cat_redeem_outcome o = debit_refusal(reply);
        if (o == CAT_REDEEM__COUNT)
            return -EPROTO;
        if (elem_int(reply, 1, &v))
            c->res.balance = v;
        c->res.outcome = o;
        return release(c, o);
    }
    case ST_UNCLAIM:
        c->code[0] = '\0';
        return step_item(c, ST_RELEASE, "RELEASE");
    case ST_RELEASE:
        if (!status_is(reply, "ok") && !status_is(reply, "already"))
            GW_LOGE(LOG_CAT, "redeem{%s} %s: release found the reservation %s",
                    gw_mask_msisdn(c->msisdn, mask), c->item,
                    status_is(reply, "unknown") ? "gone" : "confirmed (kept)");
        if (c->kind == RD_SETTLE)
            GW_LOGN(LOG_CAT, "sweeper: abandoned reservation of %s by %s released", c->item,
                    gw_mask_msisdn(c->msisdn, mask));
        return 1;
    case ST_CONFIRM:
        if (!status_is(reply, "ok") && !status_is(reply, "already")) {
            /* Paid but the reservation is released or gone: should not happen (a release
             * needs a refusal or a tombstone, and this rid is paid). Alert; keep the record
             * paid for staff rather than queue a grant whose stock went back. */
            GW_LOGE(LOG_CAT, "redeem{%s} %s: paid but the reservation is not confirmable",
                    gw_mask_msisdn(c->msisdn, mask), c->rid);
            return -EPROTO;
        }
        c->confirmed_now = status_is(reply, "ok");
        if (c->dup && !c->confirmed_now) {
            /* A retry of a redemption another attempt already confirmed: that attempt queues
             * it (or, if it died, the sweeper does: the reservation stays in the pending set
             * until queued). Queuing here too would only duplicate the stream entry. */
            c->res.outcome = CAT_REDEEM_DUPLICATE;
            c->res.price = c->price;
            return 1;
        }
        return step_xadd(c);
    case ST_XADD:
        if (!reply || reply->type != REDIS_REPLY_STRING)
            return -EPROTO;
        return step_item(c, ST_QUEUED_ITEM, "QUEUED");
    case ST_QUEUED_ITEM:
        return step_sub(c, ST_QUEUED_SUB, "QUEUED");
    case ST_QUEUED_SUB:
        c->res.outcome = c->dup ? CAT_REDEEM_DUPLICATE : CAT_REDEEM_GRANTED;
        c->res.price = c->price;
        snprintf(c->res.code, sizeof(c->res.code), "%s", c->code);
        if (c->kind == RD_SETTLE)
            GW_LOGN(LOG_CAT, "sweeper: paid reservation of %s by %s confirmed and queued", c->item,
                    gw_mask_msisdn(c->msisdn, mask));
        return 1;
    case ST_SWEEP:
        if (status_is(reply, "tomb"))
            return release(c, CAT_REDEEM_ABANDONED);
        if (status_is(reply, "paid")) {
            char ver[CAT_ID_MAX];
            if (!elem_int(reply, 2, &c->price) || !elem_str(reply, 3, ver, sizeof(ver)) ||
                !elem_str(reply, 4, c->to, sizeof(c->to)) ||
                !elem_str(reply, 5, c->code, sizeof(c->code)))
                return -EPROTO;
            if (ver[0]) {
                snprintf(c->version, sizeof(c->version), "%s", ver);
                struct cat_catalog *cv = cat_store_find_version(c->r->store, ver);
                const struct cat_item *it = cv ? cat_catalog_find(cv, c->item) : NULL;
                if (it)
                    c->fulfil = it->fulfil;
                cat_catalog_unref(cv);
            }
            return step_item(c, ST_CONFIRM, "CONFIRM");
        }
        return -EPROTO;
    case ST_FULFIL:
    case ST_CHARITY:
        if (status_is(reply, "ok"))
            c->tr = CAT_TR_DONE;
        else if (status_is(reply, "already"))
            c->tr = CAT_TR_ALREADY;
        else if (status_is(reply, "conflict"))
            c->tr = CAT_TR_CONFLICT;
        else if (status_is(reply, "unknown"))
            c->tr = CAT_TR_UNKNOWN;
        else
            return -EPROTO;
        return 1;
    case ST_REFUND:
        if (status_is(reply, "ok"))
            c->tr = CAT_TR_DONE;
        else if (status_is(reply, "already"))
            c->tr = CAT_TR_ALREADY;
        else if (status_is(reply, "conflict")) {
            c->tr = CAT_TR_CONFLICT;
            return 1;
        } else if (status_is(reply, "unknown")) {
            c->tr = CAT_TR_UNKNOWN;
            return 1;
        } else
            return -EPROTO;
        if (c->tr == CAT_TR_DONE)
            GW_LOGN(LOG_CAT, "redeem{%s} %s refunded: %s", gw_mask_msisdn(c->msisdn, mask), c->item,
                    c->text);
        /* Points are back (now or by an earlier call): complete the restock either way. */
        return step_item(c, ST_RESTOCK, "RESTOCK");
    case ST_RESTOCK:
        return 1;
    }
    return -EPROTO;
}

static int after_reserve(struct rd_ctx *c)
{
    if (c->fulfil.type == CAT_FULFIL_VOUCHER && c->fulfil.pool[0])
        return step_pool(c, ST_CLAIM, "CLAIM");
    return step_noted(c, ST_DEBIT);
}

static void on_reply(void *arg, int err, const struct redisReply *reply)
{
    struct rd_ctx *c = arg;
    char mask[GW_MASK_LEN];
    int rc;

    if (err < 0) {
        /* The chain stops here: the sweeper settles whatever is half-way. */
        ctx_finish(c, err);
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR && c->step != ST_RULE) {
        GW_LOGE(LOG_CAT, "redeem{%s} %s step %d failed: %.200s", gw_mask_msisdn(c->msisdn, mask),
                c->item, (int)c->step, reply->str);
        ctx_finish(c, strncmp(reply->str, "LGWARG", 6) == 0 ? -EINVAL : -EPROTO);
        return;
    }
    enum rd_step was = c->step;
    rc = advance(c, reply);
    if (rc < 0 && rc != -EPROTO)
        GW_LOGE(LOG_CAT, "redeem{%s} %s: next step after %d not sent: %s",
                gw_mask_msisdn(c->msisdn, mask), c->item, (int)was, strerror(-rc));
    if (rc != 0)
        ctx_finish(c, rc > 0 ? 0 : rc);
}

static struct rd_ctx *ctx_new(struct cat_redeem *r, enum rd_kind kind, const char *rid, int64_t now)
{
    struct rd_ctx *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->r = r;
    c->kind = kind;
    c->now = now;
    c->res.balance = -1;
    snprintf(c->rid, sizeof(c->rid), "%s", rid);
    snprintf(c->res.rid, sizeof(c->res.rid), "%s", rid);
    if (rid_parse(rid, c->msisdn, c->item, &c->day) < 0) {
        free(c);
        return NULL;
    }
    c->res.gift_day = c->day;
    return c;
}

/* Fills the allowed tiers: the item's tier and every tier above it in cfg order. */
static void fill_tiers(struct rd_ctx *c, const struct cat_redeem_config *cfg, const char *need)
{
    unsigned n = 0;
    bool on = false;

    for (unsigned i = 0; i < cfg->n_tiers && i < 8; i++) {
        if (strcmp(cfg->tiers[i], need) == 0)
            on = true;
        if (on && n < MAX_TIER_ARGS)
            snprintf(c->tiers[0][n++], CAT_NAME_MAX, "%s", cfg->tiers[i]);
    }
    if (!on) /* a tier outside the configured order: only itself */
        snprintf(c->tiers[0][n++], CAT_NAME_MAX, "%s", need);
    c->n_tiers[0] = n;
    for (unsigned i = 0; i < cfg->n_gift_tiers && i < MAX_TIER_ARGS; i++)
        snprintf(c->tiers[2][i], CAT_NAME_MAX, "%s", cfg->gift_tiers[i]);
    c->n_tiers[2] = cfg->n_gift_tiers < MAX_TIER_ARGS ? cfg->n_gift_tiers : MAX_TIER_ARGS;
}

/* Outcomes decided in C (no Redis step) are answered from the loop like any other: the async
 * contract says never from inside the call. */
static void immediate_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ctx_finish(arg, 0);
}

int cat_redeem_confirm(struct cat_redeem *r, const struct cat_redeem_request *req, cat_redeem_cb cb,
                       void *arg)
{
    char rid[CAT_RID_MAX], mask[GW_MASK_LEN];
    struct cat_catalog *shown = NULL;
    const struct cat_item *it;
    struct rd_ctx *c = NULL;
    enum cat_redeem_outcome early = CAT_REDEEM__COUNT;
    struct cat_gift_window win = {0};
    int64_t next_open = 0;
    int rc;

    if (!r || !req || !cb || !valid_msisdn(req->msisdn) || !valid_id(req->item_id) ||
        !req->version || req->now < 0 || (!req->rid && !req->rid_source))
        return -EINVAL;
    if ((req->beneficiary && req->beneficiary[0] && !valid_msisdn(req->beneficiary)) ||
        (req->perk && (!req->beneficiary || !req->beneficiary[0] || r->cfg.perk_per_day == 0)))
        early = CAT_REDEEM_GIFT_REFUSED;
    if (!r->cal)
        return -EINVAL;

    /* The window, from the caller's one clock. Open for everyone, or only for the premium
     * tiers (their earlier opening: the debit script checks the tier), or closed. */
    const struct cat_calendar_config *cc = cat_calendar_config(r->cal);
    unsigned n_window = 0;
    rc = cat_calendar_is_open(r->cal, req->now, NULL, &win);
    if (rc == 0 && cc->n_premium_tiers > 0 &&
        cat_calendar_is_open(r->cal, req->now, cc->premium_tiers[0], &win) == 1)
        n_window = cc->n_premium_tiers;
    else if (rc == 0) {
        int64_t start = 0;
        if (cat_calendar_next_open(r->cal, req->now, NULL, &start, NULL, NULL) == 0)
            next_open = start;
        if (early == CAT_REDEEM__COUNT)
            early = CAT_REDEEM_CLOSED;
    } else if (rc < 0)
        return rc;

    int32_t day = win.gift_day;
    if (req->rid) {
        if (strnlen(req->rid, CAT_RID_MAX) >= CAT_RID_MAX)
            return -EINVAL;
        snprintf(rid, sizeof(rid), "%s", req->rid);
    } else if ((rc =
                    cat_redeem_rid(req->msisdn, req->item_id,
                                   day ? day : cat_tz_local_date(cat_calendar_tz(r->cal), req->now),
                                   req->rid_source, rid, sizeof(rid))) < 0)
        return rc;
    c = ctx_new(r, RD_REDEEM, rid, req->now);
    if (!c)
        return -EINVAL;
    if (strcmp(c->msisdn, req->msisdn) != 0 || strcmp(c->item, req->item_id) != 0 ||
        (day && c->day != day)) {
        free(c); /* a caller's rid that names another subscriber, item or gift day */
        return -EINVAL;
    }
    c->cb = cb;
    c->arg = arg;
    c->res.next_open = next_open;
    c->price = req->price;
    if (req->beneficiary && early != CAT_REDEEM_GIFT_REFUSED)
        snprintf(c->to, sizeof(c->to), "%s", req->beneficiary);
    if (strcmp(c->to, c->msisdn) == 0)
        early = early == CAT_REDEEM__COUNT ? CAT_REDEEM_GIFT_REFUSED : early;

    shown = cat_store_find_version(r->store, req->version);
    it = shown ? cat_catalog_find(shown, req->item_id) : NULL;
    if (it && it->draw.on &&
        cat_item_check(r->store, shown, it->id,
                       cat_tz_local_date(cat_calendar_tz(r->cal), req->now)) == CAT_ITEM_OK &&
        early != CAT_REDEEM_GIFT_REFUSED) {
        /* opened by draw: registration and claims follow the draw's window, not the gift day's
         * (cat_draw_run.c) */
        free(c);
        rc = cat_draw_confirm(r, it, req, cb, arg);
        cat_catalog_unref(shown);
        return rc;
    }
    if (early == CAT_REDEEM__COUNT) {
        int32_t today = cat_tz_local_date(cat_calendar_tz(r->cal), req->now);
        if (!it || cat_item_check(r->store, shown, req->item_id, today) != CAT_ITEM_OK)
            early = CAT_REDEEM_UNAVAILABLE;
        else if (req->perk ? req->price != cat_perk_price(&r->cfg, it->price)
                           : cat_price_check(shown, req->item_id, req->price) < 0)
            early = CAT_REDEEM_PRICE_MISMATCH; /* logged as an alert by cat_price_check */
    }
    if (early != CAT_REDEEM__COUNT) {
        cat_catalog_unref(shown);
        c->res.outcome = early;
        if (early != CAT_REDEEM_CLOSED)
            c->res.next_open = 0;
        GW_LOGI(LOG_CAT, "redeem{%s} %s refused before the store: %s",
                gw_mask_msisdn(req->msisdn, mask), req->item_id, cat_redeem_outcome_name(early));
        if (event_base_once(r->base, -1, EV_TIMEOUT, immediate_cb, c, NULL) < 0) {
            free(c);
            return -ENOMEM;
        }
        return 0;
    }
    snprintf(c->version, sizeof(c->version), "%s", req->version);
    c->stock_per_day = it->stock_per_day;
    c->limit = req->perk ? r->cfg.perk_per_day : it->limit_per_day;
    c->perk = req->perk;
    /* Staggered opening: the member's slot counts from the regular opening, and the stock is
     * released in tranches with the cohorts; during a premium early opening (only premium tiers
     * may redeem, the debit checks) nobody and nothing is held back. The item script refuses
     * before the slot, atomically with the stock it would take. */
    if (it->cohorts && n_window == 0) {
        c->release = cat_cohort_release_tier(it, req->msisdn, req->tier, win.regular_start);
        c->held = cat_cohort_held_back(it, win.regular_start, req->now);
    }
    c->fulfil = it->fulfil;
    fill_tiers(c, &r->cfg, it->tier);
    for (unsigned i = 0; i < n_window && i < MAX_TIER_ARGS; i++)
        snprintf(c->tiers[1][i], CAT_NAME_MAX, "%s", cc->premium_tiers[i]);
    c->n_tiers[1] = n_window < MAX_TIER_ARGS ? n_window : MAX_TIER_ARGS;
    cat_catalog_unref(shown);
    rc = step_item(c, ST_RESERVE, "RESERVE");
    if (rc < 0)
        free(c);
    return rc;
}

int cat_redeem_claim(struct cat_redeem *r, const struct cat_redeem_request *req, int32_t day,
                     cat_redeem_cb cb, void *arg)
{
    char rid[CAT_RID_MAX];
    struct cat_catalog *shown;
    const struct cat_item *it;
    struct rd_ctx *c;
    int rc;

    if ((rc = cat_redeem_rid(req->msisdn, req->item_id, day, req->rid_source, rid, sizeof(rid))) <
            0 ||
        !(c = ctx_new(r, RD_REDEEM, rid, req->now)))
        return rc < 0 ? rc : -EINVAL;
    c->cb = cb;
    c->arg = arg;
    c->price = req->price;
    shown = cat_store_find_version(r->store, req->version);
    it = shown ? cat_catalog_find(shown, req->item_id) : NULL;
    if (!it || cat_price_check(shown, req->item_id, req->price) < 0) {
        c->res.outcome = it ? CAT_REDEEM_PRICE_MISMATCH : CAT_REDEEM_UNAVAILABLE;
        cat_catalog_unref(shown);
        if (event_base_once(r->base, -1, EV_TIMEOUT, immediate_cb, c, NULL) < 0) {
            free(c);
            return -ENOMEM;
        }
        return 0;
    }
    snprintf(c->version, sizeof(c->version), "%s", req->version);
    c->stock_per_day = 0; /* the unit left the stock at the draw */
    c->limit = 1;         /* one unit per winner */
    c->fulfil = it->fulfil;
    fill_tiers(c, &r->cfg, it->tier);
    cat_catalog_unref(shown);
    rc = step_item(c, ST_RESERVE, "RESERVE");
    if (rc < 0)
        free(c);
    return rc;
}

/* ---------------------------------------------------------------- worker transitions */

static int transition_start(struct cat_redeem *r, enum rd_kind kind, const char *rid, int64_t now,
                            cat_transition_cb cb, void *arg, struct rd_ctx **out)
{
    if (!r || !rid || !cb || now < 0)
        return -EINVAL;
    struct rd_ctx *c = ctx_new(r, kind, rid, now);
    if (!c)
        return -EINVAL;
    c->tcb = cb;
    c->arg = arg;
    *out = c;
    return 0;
}

int cat_redeem_mark_fulfilled(struct cat_redeem *r, const char *rid, const char *reference,
                              int64_t now, cat_transition_cb cb, void *arg)
{
    struct rd_ctx *c;
    size_t n = reference ? strnlen(reference, CAT_REF_MAX) : 0;
    int rc;

    if (n >= CAT_REF_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!id_char(reference[i]) && reference[i] != ':')
            return -EINVAL;
    if ((rc = transition_start(r, RD_FULFIL, rid, now, cb, arg, &c)) < 0)
        return rc;
    if (n)
        memcpy(c->text, reference, n);
    c->text[n] = '\0';
    rc = step_sub(c, ST_FULFIL, "FULFIL");
    if (rc < 0)
        free(c);
    return rc;
}

int cat_redeem_refund(struct cat_redeem *r, const char *rid, const char *reason, int64_t now,
                      cat_transition_cb cb, void *arg)
{
    struct rd_ctx *c;
    int rc;

    if (!r || !r->cal)
        return -EINVAL;
    if ((rc = transition_start(r, RD_REFUND, rid, now, cb, arg, &c)) < 0)
        return rc;
    /* Untrusted text (an HTTP body, say): bounded, printable, no record separator. */
    size_t n = 0;
    for (const char *p = reason ? reason : ""; *p && n < sizeof(c->text) - 1; p++, n++) {
        unsigned char ch = (unsigned char)*p;
        c->text[n] = (ch < 0x20 || ch == 0x7f || ch == '|') ? '?' : (char)ch;
    }
    c->text[n] = '\0';
    c->today = cat_tz_local_date(cat_calendar_tz(r->cal), now);
    rc = step_noted(c, ST_REFUND);
    if (rc < 0)
        free(c);
    return rc;
}

int cat_redeem_charity_add(struct cat_redeem *r, const char *rid, const char *cause, int64_t points,
                           int64_t now, cat_transition_cb cb, void *arg)
{
    struct rd_ctx *c;
    int rc;

    if (!valid_id(cause) || points < 0 || points > CAT_POINTS_MAX)
        return -EINVAL;
    if ((rc = transition_start(r, RD_CHARITY, rid, now, cb, arg, &c)) < 0)
        return rc;
    snprintf(c->fulfil.cause, sizeof(c->fulfil.cause), "%s", cause);
    c->price = points;
    rc = step_charity(c);
    if (rc < 0)
        free(c);
    return rc;
}

/* ---------------------------------------------------------------- voucher pools */

struct load_ctx {
    void (*cb)(void *arg, int err, size_t added);
    void *arg;
    size_t added;
    unsigned pending;
    int err;
};

static void on_load(void *arg, int err, const struct redisReply *reply)
{
    struct load_ctx *l = arg;
    int64_t v;

    if (err == 0 && (reply->type == REDIS_REPLY_ERROR || !elem_int(reply, 0, &v)))
        err = -EPROTO;
    if (err < 0 && l->err == 0)
        l->err = err;
    else if (err == 0)
        l->added += (size_t)v;
    if (--l->pending == 0) {
        void (*cb)(void *, int, size_t) = l->cb;
        void *cb_arg = l->arg;
        size_t added = l->added;
        int e = l->err;
        free(l);
        cb(cb_arg, e, added);
    }
}

int cat_redeem_pool_load(struct cat_redeem *r, const struct cat_voucher_pool *pool,
                         void (*cb)(void *arg, int err, size_t added), void *arg)
{
    enum { BATCH = 500 };
    char keys[3][CAT_NAME_MAX + 24];
    const char *argv[4 + BATCH];
    size_t len[4 + BATCH];

    if (!r || !pool || !cb || !valid_id(pool->name) || pool->n_codes == 0)
        return -EINVAL;
    struct load_ctx *l = calloc(1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    l->cb = cb;
    l->arg = arg;
    snprintf(keys[0], sizeof(keys[0]), "cat:{pool:%s}:q", pool->name);
    snprintf(keys[1], sizeof(keys[1]), "cat:{pool:%s}:all", pool->name);
    snprintf(keys[2], sizeof(keys[2]), "cat:{pool:%s}:given", pool->name);
    /* Batches keep each script short (Redis runs one script at a time); every batch is
     * idempotent, so a partial load is completed by the next start-up. */
    for (size_t off = 0; off < pool->n_codes; off += BATCH) {
        int n = 0;
        for (int k = 0; k < 3; k++) {
            argv[n] = keys[k];
            len[n++] = strlen(keys[k]);
        }
        argv[n] = "LOAD";
        len[n++] = 4;
        for (size_t i = off; i < pool->n_codes && i < off + BATCH; i++) {
            argv[n] = pool->codes[i].code;
            len[n++] = strlen(pool->codes[i].code);
        }
        l->pending++;
        int rc = gw_redis_script_run(r->redis, r->s_pool, 3, n, argv, len, on_load, l);
        if (rc < 0) {
            l->pending--;
            if (off == 0) {
                free(l);
                return rc;
            }
            l->err = rc;
            break;
        }
    }
    /* Callbacks run from the loop, never inside gw_redis_script_run: pending cannot reach 0
     * before this loop is over, and at least one batch was sent. */
    return 0;
}

/* ---------------------------------------------------------------- sweeper */

/* One pass: items of the current catalogue one after the other; for each, the reservations
 * older than the timeout (ZRANGEBYSCORE on the item's pending set), settled concurrently. */
struct sweep_pass {
    struct cat_redeem *r; /* NULL once cat_redeem_free detached the pass */
    struct cat_catalog *cat;
    size_t next_item;
    int64_t now;
    int64_t cutoff;
    unsigned pending; /* settles (or the range query) in flight */
    struct cat_sweep_stats st;
    void (*cb)(void *arg, int err, const struct cat_sweep_stats *st);
    void *arg;
};

static void sweep_next(struct sweep_pass *p);

static void pass_end(struct sweep_pass *p, int err)
{
    struct cat_redeem *r = p->r;

    if (r) {
        r->pass = NULL;
        r->sweep_stats.scanned += p->st.scanned;
        r->sweep_stats.confirmed += p->st.confirmed;
        r->sweep_stats.released += p->st.released;
        r->sweep_stats.requeued += p->st.requeued;
        r->sweep_stats.errors += p->st.errors;
    }
    cat_catalog_unref(p->cat);
    if (p->cb && r)
        p->cb(p->arg, err, &p->st);
    free(p);
}

static void on_settled(void *arg, int err, int what)
{
    struct sweep_pass *p = arg;

    if (err < 0)
        p->st.errors++;
    else if (what == SETTLE_RELEASED)
        p->st.released++;
    else if (what == SETTLE_CONFIRMED)
        p->st.confirmed++;
    else
        p->st.requeued++;
    if (--p->pending == 0)
        sweep_next(p);
}

static void on_range(void *arg, int err, const struct redisReply *reply)
{
    struct sweep_pass *p = arg;

    p->pending--;
    if (!p->r || err == -ECANCELED) {
        pass_end(p, -ECANCELED);
        return;
    }
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        p->st.errors++;
        sweep_next(p);
        return;
    }
    const struct cat_item *it = cat_catalog_item_at(p->cat, p->next_item - 1);
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        char rid[CAT_RID_MAX];
        if (e->type != REDIS_REPLY_STRING || e->len >= sizeof(rid))
            continue;
        memcpy(rid, e->str, e->len);
        rid[e->len] = '\0';
        struct rd_ctx *c = ctx_new(p->r, RD_SETTLE, rid, p->now);
        if (!c) {
            p->st.errors++;
            continue;
        }
        p->st.scanned++;
        c->scb = on_settled;
        c->arg = p;
        /* Fulfilment details of the current version; the SWEEP reply names the version the
         * subscriber paid for, and its details win while that version is alive. */
        if (it && strcmp(it->id, c->item) == 0)
            c->fulfil = it->fulfil;
        snprintf(c->version, sizeof(c->version), "%s", cat_catalog_version(p->cat));
        if (step_sub(c, ST_SWEEP, "SWEEP") < 0) {
            free(c);
            p->st.errors++;
            continue;
        }
        p->pending++;
    }
    if (p->pending == 0)
        sweep_next(p);
}

static void sweep_next(struct sweep_pass *p)
{
    char key[CAT_ID_MAX + 16], cutoff[24], batch[12];

    if (!p->r) {
        pass_end(p, -ECANCELED);
        return;
    }
    snprintf(cutoff, sizeof(cutoff), "%" PRId64, p->cutoff);
    snprintf(batch, sizeof(batch), "%d", SWEEP_BATCH);
    while (p->next_item < cat_catalog_count(p->cat)) {
        const struct cat_item *it = cat_catalog_item_at(p->cat, p->next_item++);
        snprintf(key, sizeof(key), "cat:{%s}:z", it->id);
        const char *argv[] = {"ZRANGEBYSCORE", key, "-inf", cutoff, "LIMIT", "0", batch};
        size_t len[7];
        for (int i = 0; i < 7; i++)
            len[i] = strlen(argv[i]);
        if (gw_redis_command(p->r->redis, 7, argv, len, on_range, p) == 0) {
            p->pending++;
            return;
        }
        p->st.errors++;
    }
    pass_end(p, 0);
}

static void sweep_start_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sweep_next(arg);
}

int cat_redeem_sweep(struct cat_redeem *r, int64_t now,
                     void (*cb)(void *arg, int err, const struct cat_sweep_stats *st), void *arg)
{
    if (!r || now < 0)
        return -EINVAL;
    if (r->pass)
        return -EBUSY;
    struct cat_catalog *cat = cat_store_current(r->store);
    if (!cat)
        return -ENOENT;
    struct sweep_pass *p = calloc(1, sizeof(*p));
    if (!p) {
        cat_catalog_unref(cat);
        return -ENOMEM;
    }
    p->r = r;
    p->cat = cat;
    p->now = now;
    p->cutoff = now - (int64_t)r->cfg.reservation_timeout_s;
    p->cb = cb;
    p->arg = arg;
    /* Start from the loop: the callback must never run inside this call. */
    if (event_base_once(r->base, -1, EV_TIMEOUT, sweep_start_cb, p, NULL) < 0) {
        cat_catalog_unref(cat);
        free(p);
        return -ENOMEM;
    }
    r->pass = p;
    return 0;
}

static void on_sweep_timer(evutil_socket_t fd, short what, void *arg)
{
    struct cat_redeem *r = arg;
    int rc;

    (void)fd;
    (void)what;
    if (!gw_redis_is_connected(r->redis))
        return;
    rc = cat_redeem_sweep(r, gw_clock_now_ms() / 1000, NULL, NULL);
    if (rc < 0 && rc != -EBUSY && rc != -ENOENT)
        GW_LOGE(LOG_CAT, "sweeper: pass not started: %s", strerror(-rc));
}

int cat_redeem_start_sweeper(struct cat_redeem *r)
{
    uint32_t ms = r->cfg.sweep_interval_ms ? r->cfg.sweep_interval_ms : 1000;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    if (r->ev_sweep)
        return 0;
    r->ev_sweep = event_new(r->base, -1, EV_PERSIST, on_sweep_timer, r);
    if (!r->ev_sweep)
        return -ENOMEM;
    event_add(r->ev_sweep, &tv);
    return 0;
}

void cat_redeem_get_sweep_stats(const struct cat_redeem *r, struct cat_sweep_stats *out)
{
    *out = r->sweep_stats;
}

void cat_redeem_free(struct cat_redeem *r)
{
    if (!r)
        return;
    if (r->ev_sweep)
        event_free(r->ev_sweep);
    /* A running pass finishes (or is cancelled by gw_redis_free) on its own and frees itself;
     * from now on it must not report to us. Its settles still hold r: main.c frees the Redis
     * client first, which ends them before r goes. */
    if (r->pass)
        r->pass->r = NULL;
    gw_rules_release(r->rules);
    free(r);
}

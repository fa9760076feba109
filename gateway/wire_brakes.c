/*
 * wire_brakes.c - the fraud brakes around the redeem hook (see wire_brakes.h). Owner: the fraud
 * brakes engineer (issue 10 section 5).
 *
 * A redemption: [velocity TAKE on lg:{M}:v] -> the catalogue's hook -> on its answer: GIVE back
 * when refused, observe the breaker when granted, "frozen" for an unavailable killed item. The
 * context struct brake_ctx holds copies of the request (the request is valid only during the
 * hook call) and the module pointer: its Redis callbacks run before gw_redis_free returns (with
 * -ECANCELED), and the module is freed after that (main.c).
 */
#include "wire_brakes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "catalog.h"
#include "gw_breaker.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_ussd.h"
#include "ussd.h"
#include "wire_catalog.h"

#define LOG_CAT "brakes"
#define VELOCITY_TTL_S (2 * 86400) /* the day's count outlives a local day in any zone */

extern const char gw_lua_velocity[];
extern const size_t gw_lua_velocity_len;

struct item_rate {
    char id[CAT_ID_MAX];
    struct gw_breaker_rate r;
};

/* A make-good record Redis has not taken yet (see record_makegood). */
struct mg_rec {
    char msisdn[USSD_MSISDN_MAX];
    char key[40];
    char val[40];
    bool keep; /* HSETNX: a failure before the confirmation never hides a paid one's cause */
};
#define MG_PENDING_MAX 4096 /* records waiting for Redis (~100 B each) */
#define MG_RETRY_MS 2000

struct wire_brakes {
    struct event_base *base;
    struct gw_redis *redis;
    struct wire_catalog *cat;
    const struct gw_config *cfg;
    int script;
    struct gw_ussd_ops inner;
    struct gw_breaker_rate global;
    struct item_rate items[CAT_MAX_ITEMS];
    unsigned n_items;
    struct wire_brakes_stats stats;
    /* make-good records to send again once Redis answers (a ring would reorder nothing worth
     * it: one field per subscriber and day) */
    struct mg_rec *pending;
    size_t npending;
    struct event *mg_timer;
};

struct brake_ctx {
    struct wire_brakes *b;
    gw_ussd_redeem_cb done;
    void *cb_arg;
    bool taken; /* the velocity count was taken for this redemption */
    int64_t hour;
    int32_t day;
    /* copies of the request */
    struct gw_ussd_redeem_req req;
    char msisdn[USSD_MSISDN_MAX], key[USSD_KEY_MAX], version[CAT_ID_MAX], item[CAT_ID_MAX];
    char to[USSD_MSISDN_MAX], lang[8], tier[CAT_NAME_MAX];
};

/* ---------------------------------------------------------------- helpers */

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static void breaker_config(const struct gw_config *cfg, struct gw_breaker_config *bc)
{
    gw_breaker_config_defaults(bc);
    bc->window_s = cfg->brakes.breaker_window_s;
    bc->half_life_s = cfg->brakes.breaker_half_life_s;
    bc->multiple_pct = cfg->brakes.breaker_multiple_pct;
    bc->min_count = cfg->brakes.breaker_min_count;
    bc->floor_milli = cfg->brakes.breaker_floor_milli;
    if (gw_breaker_config_check(bc) < 0)
        gw_breaker_config_defaults(bc);
}

/* The item's id as the redemption names it: the id the screen showed, else its number in the
 * current catalogue; "" when neither resolves (the catalogue's hook then says unavailable). */
static void item_of(struct wire_brakes *b, const struct gw_ussd_redeem_req *req, char *out,
                    size_t cap)
{
    out[0] = '\0';
    if (req->item_ref && req->item_ref[0]) {
        copy(out, cap, req->item_ref);
        return;
    }
    struct cat_catalog *c = cat_store_current(wire_catalog_store(b->cat));
    if (c && req->item_id >= 1 && req->item_id <= cat_catalog_count(c))
        copy(out, cap, cat_catalog_item_at(c, req->item_id - 1)->id);
    cat_catalog_unref(c);
}

static void ignore_reply(void *arg, int err, const struct redisReply *reply)
{
    (void)reply;
    if (err < 0 && err != -ECANCELED)
        GW_LOGE(LOG_CAT, "%s: %s", (const char *)arg, strerror(-err));
}

/* ---------------------------------------------------------------- the breaker */

/* The audit record of a freeze, like the console's (adm:{adm}:audit; the ACL lets loyaltygw XADD
 * to it and nothing else). */
static void audit(struct wire_brakes *b, const char *what, const char *target, const char *after)
{
    char at[24];
    snprintf(at, sizeof(at), "%" PRId64, gw_clock_now_ms());
    const char *argv[] = {"XADD", "adm:{adm}:audit", "*",  "at",    at,     "who", "breaker",
                          "role", "gateway",         "ip", "-",     "what", what,  "target",
                          target, "before",          "{}", "after", after,  "req", ""};
    size_t len[sizeof(argv) / sizeof(argv[0])];
    for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
        len[i] = strlen(argv[i]);
    (void)gw_redis_command(b->redis, (int)(sizeof(argv) / sizeof(argv[0])), argv, len, ignore_reply,
                           (void *)"breaker audit record");
}

struct freeze_req {
    struct wire_brakes *b;
    char item[CAT_ID_MAX];
};

static void on_frozen(void *arg, int err, const struct redisReply *reply)
{
    struct freeze_req *q = arg;

    if (err == -ECANCELED) {
        free(q);
        return;
    }
    if (err < 0 || !reply || reply->type == REDIS_REPLY_ERROR) {
        q->b->stats.breaker_freeze_failed++;
        GW_LOGE(LOG_CAT,
                "ALARM breaker{%s} the kill switch could not be written (%s): only this "
                "gateway stops selling it",
                q->item,
                err < 0 ? strerror(-err)
                : reply ? reply->str
                        : "no reply");
    } else
        q->b->stats.breaker_freezes++;
    free(q);
}

/* Freezes item id on every gateway through cat:{ID}:k (SET NX: a staff kill already there keeps
 * its author), which item.lua checks on each reserve; an audit record. The store's in-memory
 * mirror (the menus) follows at the next poll of wire_cfgdocs.c, this gateway's too: killing it
 * here, while the redemption that tripped is still building its "granted" screen from the
 * item, would blank that screen. */
static void freeze(struct wire_brakes *b, const char *id, const char *why_json)
{
    char key[CAT_ID_MAX + 16], val[64];
    struct freeze_req *q = malloc(sizeof(*q));

    snprintf(key, sizeof(key), "cat:{%s}:k", id);
    snprintf(val, sizeof(val), "breaker@%" PRId64, gw_clock_now_ms());
    const char *argv[] = {"SET", key, val, "NX"};
    size_t len[] = {3, strlen(key), strlen(val), 2};
    if (!q || (q->b = b, copy(q->item, sizeof(q->item), id),
               gw_redis_command(b->redis, 4, argv, len, on_frozen, q)) < 0) {
        free(q);
        b->stats.breaker_freeze_failed++;
        GW_LOGE(LOG_CAT,
                "ALARM breaker{%s} the kill switch could not be sent: only this "
                "gateway stops selling it",
                id);
    }
    audit(b, "item.breaker_freeze", id, why_json);
}

static struct item_rate *rate_find(struct wire_brakes *b, const char *id)
{
    for (unsigned i = 0; i < b->n_items; i++)
        if (strcmp(b->items[i].id, id) == 0)
            return &b->items[i];
    return NULL;
}

static struct item_rate *rate_of(struct wire_brakes *b, const char *id)
{
    struct item_rate *found = rate_find(b, id);

    if (found)
        return found;
    if (b->n_items >= CAT_MAX_ITEMS)
        return NULL;
    struct item_rate *ir = &b->items[b->n_items++];
    memset(ir, 0, sizeof(*ir));
    copy(ir->id, sizeof(ir->id), id);
    return ir;
}

/* An item's first gift day starts from the rate its stock allows over the window open now (see
 * gw_breaker_seed): a rush at that rate is the plan, a multiple of it is not. */
static void seed(struct wire_brakes *b, const struct gw_breaker_config *bc, struct item_rate *ir,
                 int64_t now)
{
    struct cat_gift_window win;
    struct cat_catalog *c = cat_store_current(wire_catalog_store(b->cat));
    const struct cat_item *it = c ? cat_catalog_find(c, ir->id) : NULL;

    if (it && it->stock_per_day > 0 &&
        cat_calendar_is_open(wire_catalog_calendar(b->cat), now, NULL, &win) == 1)
        gw_breaker_seed(bc, &ir->r,
                        gw_breaker_expected_milli(bc, it->stock_per_day, win.end - win.start));
    cat_catalog_unref(c);
}

static void observe(struct wire_brakes *b, const char *id, int64_t now)
{
    struct gw_breaker_config bc;
    struct cat_store *s = wire_catalog_store(b->cat);
    struct item_rate *ir = rate_of(b, id);
    char why[200];

    if (!b->cfg->brakes.breaker || !ir)
        return;
    breaker_config(b->cfg, &bc);
    /* staff resumed the item (its kill switch is gone): count it afresh */
    if (ir->r.tripped && s && !cat_item_killed(s, id))
        gw_breaker_reset(&ir->r);
    if (ir->r.window_start == 0)
        seed(b, &bc, ir, now);
    if (gw_breaker_observe(&bc, &ir->r, now, 1)) {
        b->stats.breaker_trips_item++;
        snprintf(why, sizeof(why),
                 "{\"breaker\":\"item\",\"count\":%" PRIu32 ",\"threshold\":%" PRIu32
                 ",\"baseline_milli\":%" PRId64 ",\"window_s\":%" PRIu32 "}",
                 ir->r.count, gw_breaker_threshold(&bc, &ir->r), ir->r.baseline_milli, bc.window_s);
        gw_log(GW_LOG_ERROR, LOG_CAT,
               "ALARM breaker{%s} %" PRIu32 " redemptions in the open %" PRIu32
               " s window, baseline %" PRId64 ".%03" PRId64
               ": item frozen on every gateway (cat:{%s}:k); resume: loyaltyctl item %s resume",
               id, ir->r.count, bc.window_s, ir->r.baseline_milli / 1000,
               ir->r.baseline_milli % 1000, id, id);
        freeze(b, id, why);
    }
    /* All items together: a jump freezes the item that sold most in the open window (the
     * likeliest mis-priced one), once per window. */
    if (b->global.tripped && now >= b->global.window_start + bc.window_s)
        gw_breaker_reset(&b->global);
    if (gw_breaker_observe(&bc, &b->global, now, 1)) {
        struct item_rate *top = NULL;
        b->stats.breaker_trips_global++;
        for (unsigned i = 0; i < b->n_items; i++) {
            struct item_rate *x = &b->items[i];
            if (x->r.window_start == ir->r.window_start && (!top || x->r.count > top->r.count))
                top = x;
        }
        snprintf(why, sizeof(why),
                 "{\"breaker\":\"global\",\"count\":%" PRIu32 ",\"threshold\":%" PRIu32
                 ",\"baseline_milli\":%" PRId64 ",\"window_s\":%" PRIu32 "}",
                 b->global.count, gw_breaker_threshold(&bc, &b->global), b->global.baseline_milli,
                 bc.window_s);
        gw_log(GW_LOG_ERROR, LOG_CAT,
               "ALARM breaker{all items} %" PRIu32 " redemptions in the open %" PRIu32
               " s window: freezing %s, the item that sold most in it",
               b->global.count, bc.window_s, top ? top->id : id);
        if (top && !top->r.tripped && !(s && cat_item_killed(s, top->id)))
            freeze(b, top->id, why);
    }
}

/* ---------------------------------------------------------------- the hook */

/* Runs velocity.lua's op (TAKE, GIVE) for h's subscriber, hour and day. gw_redis_script_run's
 * contract: 0 and cb runs once, or < 0 and it never does. */
static int velocity_run(struct brake_ctx *h, const char *op, gw_redis_cb cb, void *arg)
{
    const struct gw_config *cfg = h->b->cfg;
    char key[USSD_MSISDN_MAX + 16], hour[24], day[16], ph[16], pd[16], ttl[16];

    snprintf(key, sizeof(key), "lg:{%s}:v", h->msisdn);
    snprintf(hour, sizeof(hour), "%" PRId64, h->hour);
    snprintf(day, sizeof(day), "%" PRId32, h->day);
    snprintf(ph, sizeof(ph), "%" PRIu32, cfg->brakes.redeem_per_hour);
    snprintf(pd, sizeof(pd), "%" PRIu32, cfg->brakes.redeem_per_day);
    snprintf(ttl, sizeof(ttl), "%d", VELOCITY_TTL_S);
    const char *argv[] = {key, op, hour, day, ph, pd, ttl};
    size_t len[7];
    for (int i = 0; i < 7; i++)
        len[i] = strlen(argv[i]);
    return gw_redis_script_run(h->b->redis, h->b->script, 1, 7, argv, len, cb, arg);
}

static void give_back(struct brake_ctx *h)
{
    if (velocity_run(h, "GIVE", ignore_reply, (void *)"velocity give-back") == 0)
        h->b->stats.velocity_given_back++;
}

/* Make-good, the recording half (issue 10 section 5): a session that failed on a gift day through
 * our fault is remembered per gift day: HSET lg:mg:{mg}:<gift day> <msisdn> "<cause>,<unix s>"
 * (one field per subscriber and day; ~30 B each), the key kept MAKEGOOD_KEEP_S. Causes: a
 * redemption the store failed or timed out ("store", "timeout"), or paid and unfinished
 * ("processing", -EINPROGRESS); a dialogue step the store failed before the confirmation ran
 * anything ("unavailable": nothing charged; written HSETNX, so it never hides a paid one's cause).
 * When Redis itself is what failed, the record cannot be written now: it waits in memory
 * (MG_PENDING_MAX, then dropped and counted) and is sent again every MG_RETRY_MS until Redis
 * takes it. Counted once Redis has it (makegood_recorded); a gateway stopped meanwhile loses its
 * waiting records (logged at exit). */
#define MAKEGOOD_KEEP_S (35 * 86400)
#define MG_KEEP_TEXT "3024000" /* MAKEGOOD_KEEP_S as the EXPIRE argument */

static void mg_send(struct wire_brakes *b, const struct mg_rec *m);

static void mg_queue(struct wire_brakes *b, const struct mg_rec *m)
{
    if (!b->pending)
        b->pending = calloc(MG_PENDING_MAX, sizeof(*b->pending));
    if (!b->pending || b->npending >= MG_PENDING_MAX) {
        b->stats.makegood_unrecorded++;
        return;
    }
    b->pending[b->npending++] = *m;
    b->stats.makegood_queued++;
    if (b->mg_timer && !evtimer_pending(b->mg_timer, NULL)) {
        struct timeval tv = {MG_RETRY_MS / 1000, (MG_RETRY_MS % 1000) * 1000};
        evtimer_add(b->mg_timer, &tv);
    }
}

struct mg_ctx {
    struct wire_brakes *b;
    struct mg_rec m;
};

static void mg_reply(void *arg, int err, const struct redisReply *reply)
{
    struct mg_ctx *c = arg;

    if (err == -ECANCELED) { /* shutting down: the client and the module go */
        c->b->stats.makegood_unrecorded++;
    } else if (err == 0 && reply->type == REDIS_REPLY_INTEGER) {
        const char *exp[] = {"EXPIRE", c->m.key, MG_KEEP_TEXT};
        size_t elen[] = {6, strlen(c->m.key), strlen(MG_KEEP_TEXT)};
        c->b->stats.makegood_recorded++;
        (void)gw_redis_command(c->b->redis, 3, exp, elen, ignore_reply, (void *)"make-good expiry");
    } else {
        mg_queue(c->b, &c->m);
    }
    free(c);
}

static void mg_send(struct wire_brakes *b, const struct mg_rec *m)
{
    struct mg_ctx *c = malloc(sizeof(*c));
    if (!c) {
        b->stats.makegood_unrecorded++;
        return;
    }
    c->b = b;
    c->m = *m;
    const char *hset[] = {m->keep ? "HSETNX" : "HSET", c->m.key, c->m.msisdn, c->m.val};
    size_t hlen[] = {strlen(hset[0]), strlen(c->m.key), strlen(c->m.msisdn), strlen(c->m.val)};
    if (gw_redis_command(b->redis, 4, hset, hlen, mg_reply, c) < 0) {
        mg_queue(b, m); /* not even sent (Redis down): later */
        free(c);
    }
}

/* The retry timer: every waiting record is sent again (those Redis refuses come back). */
static void mg_retry(evutil_socket_t fd, short what, void *arg)
{
    struct wire_brakes *b = arg;
    (void)fd;
    (void)what;
    size_t n = b->npending;
    if (n == 0)
        return;
    struct mg_rec *batch = malloc(n * sizeof(*batch));
    if (!batch) {
        struct timeval tv = {MG_RETRY_MS / 1000, 0};
        evtimer_add(b->mg_timer, &tv);
        return;
    }
    memcpy(batch, b->pending, n * sizeof(*batch));
    b->npending = 0;
    for (size_t i = 0; i < n; i++)
        mg_send(b, &batch[i]);
    free(batch);
}

static void record_makegood(struct wire_brakes *b, const char *msisdn, const char *cause)
{
    struct cat_gift_window win;
    char mask[GW_MASK_LEN];
    struct mg_rec m = {.keep = strcmp(cause, "unavailable") == 0};
    int64_t now = gw_clock_now_ms() / 1000;

    if (cat_calendar_is_open(wire_catalog_calendar(b->cat), now, NULL, &win) != 1)
        return; /* not a gift day: nothing to make good */
    copy(m.msisdn, sizeof(m.msisdn), msisdn);
    snprintf(m.key, sizeof(m.key), "lg:mg:{mg}:%" PRId32, win.gift_day);
    snprintf(m.val, sizeof(m.val), "%s,%" PRId64, cause, now);
    gw_log(GW_LOG_NOTICE, LOG_CAT, "makegood{%s} gift day %" PRId32 ": %s failed (%s)",
           gw_mask_msisdn(msisdn, mask), win.gift_day,
           m.keep ? "a dialogue step" : "a redemption", cause);
    mg_send(b, &m);
}

/* gw_ussd_ops.store_failed: a step failed before the confirmation ran anything. */
static void hook_store_failed(void *arg, const char *msisdn, int err)
{
    struct wire_brakes *b = arg;
    (void)err;
    record_makegood(b, msisdn, "unavailable");
    if (b->inner.store_failed)
        b->inner.store_failed(b->inner.arg, msisdn, err);
}

static void on_inner(void *arg, int err, const char *outcome, const char *slot)
{
    struct brake_ctx *h = arg;
    struct wire_brakes *b = h->b;
    struct cat_store *s = wire_catalog_store(b->cat);

    if (err == 0 && outcome && strcmp(outcome, USSD_OUTCOME_GRANTED) == 0)
        observe(b, h->item, gw_clock_now_ms() / 1000);
    else if (err == 0 && h->taken)
        give_back(h); /* refused further on: not a redemption (errors keep the count) */
    /* refused as unavailable while its kill switch is on (mirrored here, or this breaker has
     * just set it): it is stopped for now, not withdrawn */
    struct item_rate *ir = h->item[0] ? rate_find(b, h->item) : NULL;
    if (err == 0 && outcome && strcmp(outcome, "unavailable") == 0 && h->item[0] &&
        ((s && cat_item_killed(s, h->item)) || (ir && ir->r.tripped))) {
        b->stats.frozen_shown++;
        outcome = "frozen";
    }
    if (err < 0 && err != -ECANCELED)
        record_makegood(b, h->msisdn,
                        err == -EINPROGRESS ? "processing" : err == -ETIMEDOUT ? "timeout" : "store");
    gw_ussd_redeem_cb done = h->done;
    void *cb_arg = h->cb_arg;
    free(h);
    done(cb_arg, err, outcome, slot);
}

static int run_inner(struct brake_ctx *h)
{
    return h->b->inner.redeem(h->b->inner.arg, &h->req, on_inner, h);
}

static void on_taken(void *arg, int err, const struct redisReply *reply)
{
    struct brake_ctx *h = arg;
    char mask[GW_MASK_LEN];

    if (err == -ECANCELED) {
        gw_ussd_redeem_cb done = h->done;
        void *cb_arg = h->cb_arg;
        free(h);
        done(cb_arg, err, NULL, NULL);
        return;
    }
    if (err == 0 && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
                     reply->element[0]->type != REDIS_REPLY_STRING))
        err = -EPROTO;
    if (err == 0 && strcmp(reply->element[0]->str, "cap") == 0) {
        h->b->stats.velocity_refused++;
        gw_log(GW_LOG_NOTICE, LOG_CAT, "velocity{%s} redemption of %s refused: per-%s cap",
               gw_mask_msisdn(h->msisdn, mask), h->item,
               reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_STRING
                   ? reply->element[1]->str
                   : "?");
        gw_ussd_redeem_cb done = h->done;
        void *cb_arg = h->cb_arg;
        free(h);
        done(cb_arg, 0, "velocity", NULL);
        return;
    }
    if (err == 0 && strcmp(reply->element[0]->str, "ok") != 0)
        err = -EPROTO;
    if (err == 0) {
        h->taken = true;
        err = run_inner(h);
        if (err == 0)
            return;
        give_back(h);
    }
    /* the store failed before the redemption ran: nothing happened, the subscriber reads
     * "unavailable" */
    GW_LOGE(LOG_CAT, "velocity{%s} check failed: %s", gw_mask_msisdn(h->msisdn, mask),
            strerror(-err));
    gw_ussd_redeem_cb done = h->done;
    void *cb_arg = h->cb_arg;
    free(h);
    done(cb_arg, err, NULL, NULL);
}

static int hook(void *arg, const struct gw_ussd_redeem_req *req, gw_ussd_redeem_cb done,
                void *cb_arg)
{
    struct wire_brakes *b = arg;
    const struct gw_config *cfg = b->cfg;
    int rc;

    if (!b->inner.redeem)
        return -ENOTSUP;
    if (!req || !req->msisdn || !done)
        return -EINVAL;
    struct brake_ctx *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    b->stats.redeem_seen++;
    h->b = b;
    h->done = done;
    h->cb_arg = cb_arg;
    h->req = *req;
    copy(h->msisdn, sizeof(h->msisdn), req->msisdn);
    copy(h->key, sizeof(h->key), req->session_key);
    copy(h->version, sizeof(h->version), req->version);
    copy(h->to, sizeof(h->to), req->beneficiary);
    copy(h->lang, sizeof(h->lang), req->lang);
    copy(h->tier, sizeof(h->tier), req->tier);
    item_of(b, req, h->item, sizeof(h->item));
    h->req.msisdn = h->msisdn;
    h->req.session_key = h->key;
    h->req.version = h->version;
    /* the resolved id, or what the screen named (the catalogue's hook decides what it means) */
    h->req.item_ref = req->item_ref && req->item_ref[0] ? h->item : "";
    h->req.beneficiary = h->to;
    h->req.lang = h->lang;
    h->req.tier = h->tier;
    if (cfg->brakes.redeem_per_hour == 0 && cfg->brakes.redeem_per_day == 0) {
        rc = run_inner(h);
        if (rc < 0)
            free(h);
        return rc;
    }
    int64_t now = gw_clock_now_ms() / 1000;
    h->hour = now / 3600;
    h->day = gw_local_day(now);
    rc = velocity_run(h, "TAKE", on_taken, h);
    if (rc < 0)
        free(h);
    return rc;
}

/* ---------------------------------------------------------------- module */

struct wire_brakes *wire_brakes_new(struct event_base *base, struct gw_redis *redis,
                                    struct wire_catalog *cat, const struct gw_config *cfg)
{
    if (!base || !redis || !cat || !cfg)
        return NULL;
    struct wire_brakes *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->base = base;
    b->redis = redis;
    b->cat = cat;
    b->cfg = cfg;
    b->script = gw_redis_script_add(redis, gw_lua_velocity, gw_lua_velocity_len);
    b->mg_timer = evtimer_new(base, mg_retry, b);
    if (b->script < 0 || !b->mg_timer) {
        if (b->mg_timer)
            event_free(b->mg_timer);
        free(b);
        return NULL;
    }
    GW_LOGI(LOG_CAT,
            "velocity caps %" PRIu32 "/hour %" PRIu32 "/day per MSISDN (0 = none); "
            "breaker %s",
            cfg->brakes.redeem_per_hour, cfg->brakes.redeem_per_day,
            cfg->brakes.breaker ? "on" : "off");
    return b;
}

void wire_brakes_wrap(struct wire_brakes *b, struct gw_ussd_ops *ops)
{
    if (!b || !ops)
        return;
    b->inner = *ops;
    ops->redeem = hook;
    ops->store_failed = hook_store_failed;
    ops->arg = b;
}

void wire_brakes_get_stats(const struct wire_brakes *b, struct wire_brakes_stats *out)
{
    if (b)
        *out = b->stats;
    else
        memset(out, 0, sizeof(*out));
}

void wire_brakes_free(struct wire_brakes *b)
{
    if (!b)
        return;
    if (b->npending)
        gw_log(GW_LOG_ERROR, LOG_CAT, "make-good: %zu records never reached Redis (lost)",
               b->npending);
    if (b->mg_timer)
        event_free(b->mg_timer);
    free(b->pending);
    free(b);
}

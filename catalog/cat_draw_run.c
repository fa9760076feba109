/*
 * cat_draw_run.c - the draw of an item opened by draw, in Redis (catalog.h "The draw in Redis";
 * lua/draw.lua): a member's confirmation (register, claim, or where they stand) and the job's
 * round (the draw at the regular opening, the roll-down of unclaimed units).
 *
 * Ownership: each confirmation owns a struct dr_enter freed right before its callback; a round
 * owns a struct dr_round (one at a time per process) freed right before its callback. Neither
 * keeps a pointer to a catalogue version across a Redis call: the round copies what it needs
 * (id, stock, claim hours). A round ends at once when Redis is torn down (-ECANCELED).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "cat_priv.h"
#include "catalog.h"
#include "gw_core.h"
#include "gw_redis.h"

#define LOG_CAT "draw"
#define DRAW_TTL_S (40 * 86400) /* a draw's keys: its claims, roll-downs and re-runs */
#define MAX_ITEMS 64            /* items opened by draw handled per round */

static int dr_run(struct cat_redeem_view *v, int nargs, const char **argv, gw_redis_cb cb,
                  void *arg)
{
    size_t len[nargs];
    for (int i = 0; i < nargs; i++)
        len[i] = strlen(argv[i]);
    return gw_redis_script_run(v->redis, v->s_draw, 1, nargs, argv, len, cb, arg);
}

static bool word_is(const redisReply *r, size_t i, const char *w)
{
    return r && r->type == REDIS_REPLY_ARRAY && r->elements > i &&
           r->element[i]->type == REDIS_REPLY_STRING && strcmp(r->element[i]->str, w) == 0;
}

static int64_t elem_num(const redisReply *r, size_t i)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements <= i ||
        r->element[i]->type != REDIS_REPLY_STRING)
        return -1;
    return strtoll(r->element[i]->str, NULL, 10);
}

/* The draw window the confirmation falls in: the gift day open now, else the next one; close is
 * its regular opening (the draw), registration opens register_hours before. */
static int draw_window(const struct cat_calendar *cal, const struct cat_item *it, int64_t now,
                       int32_t *day, int64_t *start, int64_t *close)
{
    struct cat_gift_window win = {0};
    int rc = cat_calendar_is_open(cal, now, NULL, &win);

    if (rc < 0)
        return rc;
    if (rc == 0 && (rc = cat_calendar_next_open(cal, now, NULL, NULL, NULL, &win)) < 0)
        return rc;
    *day = win.gift_day;
    *close = win.regular_start;
    *start = win.regular_start - (int64_t)it->draw.register_hours * 3600;
    return 0;
}

/* ---------------------------------------------------------------- a member's confirmation */

struct dr_enter {
    struct cat_redeem *r;
    cat_redeem_cb cb;
    void *arg;
    struct cat_redeem_request req;
    char msisdn[16], version[CAT_ID_MAX], item[CAT_ID_MAX], tier[CAT_NAME_MAX];
    char rid[CAT_RID_MAX], source[CAT_RID_MAX + 64];
    int64_t deadline;
    struct cat_redeem_result res;
    /* the registration: the draw's window and what the member's weight is made of */
    struct cat_draw_cfg draw;
    int32_t day;
    int64_t start, close;
};

static void enter_done(struct dr_enter *e, int err)
{
    cat_redeem_cb cb = e->cb;
    void *arg = e->arg;
    struct cat_redeem_result res = e->res;

    free(e);
    cb(arg, err, err == 0 ? &res : NULL);
}

static void on_claimed(void *arg, int err, const struct cat_redeem_result *res)
{
    struct dr_enter *e = arg;

    if (err == 0) {
        e->res = *res;
        /* a winner short of points keeps the unit until the deadline: say so */
        if (res->outcome == CAT_REDEEM_BALANCE || res->outcome == CAT_REDEEM_NEGATIVE) {
            e->res.outcome = CAT_REDEEM_DRAW_WON;
            e->res.next_open = e->deadline;
        }
    }
    enter_done(e, err);
}

static void on_enter(void *arg, int err, const struct redisReply *reply)
{
    struct dr_enter *e = arg;
    char mask[GW_MASK_LEN];

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        if (err == 0)
            GW_LOGE(LOG_CAT, "draw{%s} %s: enter: %.200s", gw_mask_msisdn(e->msisdn, mask), e->item,
                    reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
        enter_done(e, err < 0 ? err : -EPROTO);
        return;
    }
    if (word_is(reply, 0, "registered")) {
        e->res.outcome = CAT_REDEEM_DRAW_REGISTERED;
        e->res.next_open = elem_num(reply, 1);
    } else if (word_is(reply, 0, "early")) {
        e->res.outcome = CAT_REDEEM_CLOSED;
        e->res.next_open = elem_num(reply, 1);
    } else if (word_is(reply, 0, "closed")) {
        e->res.outcome = CAT_REDEEM_DRAW_CLOSED;
    } else if (word_is(reply, 0, "claimed")) {
        e->res.outcome = CAT_REDEEM_LIMIT;
    } else if (word_is(reply, 0, "waiting")) {
        e->res.outcome = CAT_REDEEM_DRAW_WAITING;
        e->res.position = elem_num(reply, 1);
    } else if (word_is(reply, 0, "lost")) {
        e->res.outcome = CAT_REDEEM_DRAW_LOST;
    } else if (word_is(reply, 0, "claim")) {
        int64_t day = elem_num(reply, 1);
        e->deadline = elem_num(reply, 2);
        if (day <= 0 || day > 99991231 || e->deadline <= 0) {
            enter_done(e, -EPROTO);
            return;
        }
        GW_LOGI(LOG_CAT, "draw{%s} %s: a winner claims the unit of %08" PRId64,
                gw_mask_msisdn(e->msisdn, mask), e->item, day);
        int rc = cat_redeem_claim(e->r, &e->req, (int32_t)day, on_claimed, e);
        if (rc < 0)
            enter_done(e, rc);
        return;
    } else {
        enter_done(e, -EPROTO);
        return;
    }
    enter_done(e, 0);
}

static void enter_now_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    enter_done(arg, 0);
}

/* ENTER with the member's weight (tier, and tenure from `since`, unix s, 0 = unknown). */
static int enter_send(struct dr_enter *e, int64_t since)
{
    struct cat_redeem_view v;
    struct cat_item weigh = {.draw = e->draw};
    char key[CAT_ID_MAX + 24], num[6][24];

    cat_redeem_view(e->r, &v);
    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", e->item);
    snprintf(num[0], sizeof(num[0]), "%" PRId64, e->req.now);
    snprintf(num[1], sizeof(num[1]), "%d", DRAW_TTL_S);
    snprintf(num[2], sizeof(num[2]), "%08" PRId32, e->day);
    snprintf(num[3], sizeof(num[3]), "%" PRId64, e->start);
    snprintf(num[4], sizeof(num[4]), "%" PRId64, e->close);
    snprintf(num[5], sizeof(num[5]), "%" PRIu32,
             cat_draw_weight(&weigh, e->tier, since, e->req.now));
    const char *argv[] = {key, "ENTER", num[0], num[1], e->msisdn, num[2], num[3], num[4], num[5]};
    return dr_run(&v, 9, argv, on_enter, e);
}

static void on_since(void *arg, int err, const struct redisReply *reply)
{
    struct dr_enter *e = arg;
    int64_t since = 0;
    int rc;

    if (err < 0) {
        enter_done(e, err);
        return;
    }
    if (reply && reply->type == REDIS_REPLY_STRING)
        since = strtoll(reply->str, NULL, 10);
    if ((rc = enter_send(e, since > 0 ? since : 0)) < 0)
        enter_done(e, rc);
}

int cat_draw_confirm(struct cat_redeem *r, const struct cat_item *it,
                     const struct cat_redeem_request *req, cat_redeem_cb cb, void *arg)
{
    struct cat_redeem_view v;
    int32_t day;
    int64_t start, close;
    int rc;

    cat_redeem_view(r, &v);
    if (!v.cal)
        return -EINVAL;
    rc = draw_window(v.cal, it, req->now, &day, &start, &close);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    struct dr_enter *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    if (rc == -ENOENT) { /* no gift day planned: nothing to register for (answered from the loop) */
        e->r = r;
        e->cb = cb;
        e->arg = arg;
        e->res.balance = -1;
        e->res.outcome = CAT_REDEEM_CLOSED;
        if (event_base_once(v.base, -1, EV_TIMEOUT, enter_now_cb, e, NULL) < 0) {
            free(e);
            return -ENOMEM;
        }
        return 0;
    }
    e->r = r;
    e->cb = cb;
    e->arg = arg;
    e->res.balance = -1;
    e->res.gift_day = day;
    snprintf(e->msisdn, sizeof(e->msisdn), "%s", req->msisdn);
    snprintf(e->item, sizeof(e->item), "%s", it->id);
    snprintf(e->version, sizeof(e->version), "%s", req->version);
    snprintf(e->tier, sizeof(e->tier), "%s", req->tier ? req->tier : "");
    /* the claim's rid is derived from the same source, for the draw's gift day */
    if (req->rid) {
        const char *tail = strrchr(req->rid, ':');
        snprintf(e->source, sizeof(e->source), "%s", tail ? tail + 1 : req->rid);
    } else
        snprintf(e->source, sizeof(e->source), "%s", req->rid_source);
    e->req = *req;
    e->req.msisdn = e->msisdn;
    e->req.item_id = e->item;
    e->req.version = e->version;
    e->req.tier = e->tier;
    e->req.rid = NULL;
    e->req.rid_source = e->source;
    e->req.beneficiary = NULL; /* a won unit is the winner's */

    e->draw = it->draw;
    e->day = day;
    e->start = start;
    e->close = close;
    if (!it->draw.tenure_per_year)
        rc = enter_send(e, 0);
    else { /* the weight counts the years since enrolment: the wallet's "since" first */
        char wkey[40];
        snprintf(wkey, sizeof(wkey), "lg:{%s}:w", e->msisdn);
        rc = gw_redis_commandf(v.redis, on_since, e, "HGET %s since", wkey);
    }
    if (rc < 0)
        free(e);
    return rc;
}

/* ---------------------------------------------------------------- the job's round */

struct dr_item {
    char id[CAT_ID_MAX];
    int64_t stock;
    int64_t claim_s;
    int32_t due_day; /* a gift day whose regular opening has come: its draw is due; 0 none */
};

struct dr_round {
    struct cat_redeem *r;
    struct cat_redeem_view v;
    struct cat_draw_hooks hooks;
    void (*cb)(void *arg, int err);
    void *arg;
    int64_t now;
    struct dr_item items[MAX_ITEMS];
    size_t n, at;
    int err;
    char seed[48];
    size_t entrants;
    struct cat_draw_entry *order;
};

static struct dr_round *g_round; /* one round at a time per process */

static void round_next(struct dr_round *d);
static void outbox(struct dr_round *d);

static void round_end(struct dr_round *d)
{
    void (*cb)(void *, int) = d->cb;
    void *arg = d->arg;
    int err = d->err;

    free(d->order);
    if (g_round == d)
        g_round = NULL;
    free(d);
    cb(arg, err);
}

static void item_done(struct dr_round *d, int err)
{
    if (err < 0 && d->err == 0)
        d->err = err;
    free(d->order);
    d->order = NULL;
    d->at++;
    if (err == -ECANCELED) /* Redis is going away: touch it no more */
        d->at = d->n;
    round_next(d);
}

/* The outbox's entries this process claimed: {'ok', day, dropped, msisdn, deadline, ...}. Each
 * goes to the offer hook, whose sender calls cat_draw_sent once the SMSC accepted the SMS. */
static void on_outbox(void *arg, int err, const struct redisReply *reply)
{
    struct dr_round *d = arg;
    const char *id = d->items[d->at].id;

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        if (err == 0)
            GW_LOGE(LOG_CAT, "draw %s: outbox: %.200s", id,
                    reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
        item_done(d, err < 0 ? err : -EPROTO);
        return;
    }
    if (word_is(reply, 0, "ok") && reply->elements >= 3) {
        int64_t day = elem_num(reply, 1), dropped = elem_num(reply, 2);
        if (dropped > 0)
            GW_LOGN(LOG_CAT,
                    "draw %s %08" PRId64 ": %" PRId64 " SMS dropped from the outbox "
                    "(claimed, lapsed or refused %d times)",
                    id, day, dropped, CAT_DRAW_SMS_TRIES);
        for (size_t i = 3; d->hooks.offer && i + 1 < reply->elements; i += 2) {
            if (reply->element[i]->type != REDIS_REPLY_STRING || day <= 0 || day > 99991231)
                continue;
            struct cat_draw_offer o = {.item = id,
                                       .msisdn = reply->element[i]->str,
                                       .day = (int32_t)day,
                                       .deadline = elem_num(reply, i + 1)};
            d->hooks.offer(d->hooks.arg, &o);
        }
    }
    item_done(d, 0);
}

/* Claims what is due in the item's outbox (nobody sends without an offer hook: no SMS link). */
static void outbox(struct dr_round *d)
{
    char key[CAT_ID_MAX + 24], num[5][24];

    if (!d->hooks.offer) {
        item_done(d, 0);
        return;
    }
    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", d->items[d->at].id);
    snprintf(num[0], sizeof(num[0]), "%" PRId64, d->now);
    snprintf(num[1], sizeof(num[1]), "%d", DRAW_TTL_S);
    snprintf(num[2], sizeof(num[2]), "%d", CAT_DRAW_SMS_LEASE_S);
    snprintf(num[3], sizeof(num[3]), "%d", CAT_DRAW_SMS_BATCH);
    snprintf(num[4], sizeof(num[4]), "%d", CAT_DRAW_SMS_TRIES);
    const char *argv[] = {key, "OBOX", num[0], num[1], num[2], num[3], num[4]};
    int rc = dr_run(&d->v, 7, argv, on_outbox, d);
    if (rc < 0)
        item_done(d, rc);
}

static void on_roll(void *arg, int err, const struct redisReply *reply)
{
    struct dr_round *d = arg;

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        if (err == 0)
            GW_LOGE(LOG_CAT, "draw %s: roll-down: %.200s", d->items[d->at].id,
                    reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
        item_done(d, err < 0 ? err : -EPROTO);
        return;
    }
    if (word_is(reply, 0, "ok") && reply->elements > 3) {
        int64_t day = elem_num(reply, 1);
        GW_LOGN(LOG_CAT, "draw %s %08" PRId64 ": %zu unclaimed unit(s) offered down the list",
                d->items[d->at].id, day, reply->elements - 3);
    }
    outbox(d);
}

static void roll(struct dr_round *d)
{
    struct dr_item *it = &d->items[d->at];
    char key[CAT_ID_MAX + 24], num[4][24];

    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", it->id);
    snprintf(num[0], sizeof(num[0]), "%" PRId64, d->now);
    snprintf(num[1], sizeof(num[1]), "%d", DRAW_TTL_S);
    snprintf(num[2], sizeof(num[2]), "%" PRId64, it->claim_s);
    snprintf(num[3], sizeof(num[3]), "%d", CAT_DRAW_GRACE_S);
    const char *argv[] = {key, "ROLL", num[0], num[1], num[2], num[3]};
    int rc = dr_run(&d->v, 6, argv, on_roll, d);
    if (rc < 0)
        item_done(d, rc);
}

static void on_publish(void *arg, int err, const struct redisReply *reply)
{
    struct dr_round *d = arg;
    struct dr_item *it = &d->items[d->at];

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        if (err == 0)
            GW_LOGE(LOG_CAT, "draw %s: publish: %.200s", it->id,
                    reply && reply->type == REDIS_REPLY_ERROR ? reply->str : "bad reply");
        item_done(d, err < 0 ? err : -EPROTO);
        return;
    }
    if (word_is(reply, 0, "ok")) {
        size_t winners = reply->elements - 2;
        char json[1600];
        GW_LOGN(LOG_CAT, "draw %s %08" PRId32 " published: seed %s, %zu registered, %zu winner(s)",
                it->id, it->due_day, d->seed, d->entrants, winners);
        if (d->hooks.published &&
            cat_draw_audit_json(d->seed, d->entrants, d->order, winners, json, sizeof(json)) > 0) {
            struct cat_draw_published p = {.item = it->id,
                                           .day = it->due_day,
                                           .seed = d->seed,
                                           .registered = d->entrants,
                                           .winners = winners,
                                           .audit_json = json};
            d->hooks.published(d->hooks.arg, &p);
        }
        /* the winners' SMS are in the outbox written with the draw: the round's OBOX sends them */
    } else if (word_is(reply, 0, "changed"))
        GW_LOGN(LOG_CAT, "draw %s: a registration came in meanwhile, drawing next round", it->id);
    roll(d);
}

static int new_seed(const char *item, int32_t day, char *out, size_t cap)
{
    unsigned char b[8];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    ssize_t n = read(fd, b, sizeof(b));
    close(fd);
    if (n != (ssize_t)sizeof(b))
        return -EIO;
    snprintf(out, cap, "%.16s-%08" PRId32 "-%02x%02x%02x%02x%02x%02x%02x%02x", item, day, b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    return 0;
}

static void on_regs(void *arg, int err, const struct redisReply *reply)
{
    struct dr_round *d = arg;
    struct dr_item *it = &d->items[d->at];
    size_t n = 0;
    int rc;

    if (err < 0 || !reply || reply->type != REDIS_REPLY_ARRAY) {
        item_done(d, err < 0 ? err : -EPROTO);
        return;
    }
    d->order = calloc(reply->elements / 2 + 1, sizeof(*d->order));
    if (!d->order) {
        item_done(d, -ENOMEM);
        return;
    }
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
        const redisReply *m = reply->element[i], *w = reply->element[i + 1];
        if (m->type != REDIS_REPLY_STRING || w->type != REDIS_REPLY_STRING ||
            m->len >= sizeof(d->order[0].msisdn))
            continue;
        snprintf(d->order[n].msisdn, sizeof(d->order[n].msisdn), "%s", m->str);
        long wt = strtol(w->str, NULL, 10);
        d->order[n++].weight = wt >= 1 && wt <= CAT_DRAW_WEIGHT_MAX ? (uint32_t)wt : 1;
    }
    if ((rc = new_seed(it->id, it->due_day, d->seed, sizeof(d->seed))) < 0 ||
        (rc = cat_draw_order(d->seed, d->order, n)) < 0) {
        item_done(d, rc);
        return;
    }
    d->entrants = n;
    /* the digest of every winner the stock allows (the script takes min(stock left, n)) */
    char key[CAT_ID_MAX + 24], num[6][24], digest[20];
    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", it->id);
    snprintf(num[0], sizeof(num[0]), "%" PRId64, d->now);
    snprintf(num[1], sizeof(num[1]), "%d", DRAW_TTL_S);
    snprintf(num[2], sizeof(num[2]), "%08" PRId32, it->due_day);
    snprintf(num[3], sizeof(num[3]), "%zu", n);
    snprintf(num[4], sizeof(num[4]), "%" PRId64, it->stock);
    snprintf(num[5], sizeof(num[5]), "%" PRId64, it->claim_s);
    snprintf(digest, sizeof(digest), "%016" PRIx64, cat_draw_digest(d->order, n));
    const char **argv = calloc(10 + n, sizeof(*argv));
    if (!argv) {
        item_done(d, -ENOMEM);
        return;
    }
    const char *head[] = {key,     "PUBLISH", num[0], num[1], num[2],
                          d->seed, num[3],    num[4], num[5], digest};
    memcpy(argv, head, sizeof(head));
    for (size_t i = 0; i < n; i++)
        argv[10 + i] = d->order[i].msisdn;
    rc = dr_run(&d->v, (int)(10 + n), argv, on_publish, d);
    free(argv);
    if (rc < 0)
        item_done(d, rc);
}

static void on_meta(void *arg, int err, const struct redisReply *reply)
{
    struct dr_round *d = arg;
    struct dr_item *it = &d->items[d->at];

    if (err < 0 || !reply) {
        item_done(d, err < 0 ? err : -EPROTO);
        return;
    }
    if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 1) {
        roll(d); /* drawn already (here or by another gateway) */
        return;
    }
    char key[CAT_ID_MAX + 40];
    snprintf(key, sizeof(key), "cat:{%s}:dr:%08" PRId32 ":reg", it->id, it->due_day);
    int rc = gw_redis_commandf(d->v.redis, on_regs, d, "HGETALL %s", key);
    if (rc < 0)
        item_done(d, rc);
}

static void round_next(struct dr_round *d)
{
    while (d->at < d->n) {
        struct dr_item *it = &d->items[d->at];
        char key[CAT_ID_MAX + 40];
        int rc;
        if (it->due_day) {
            snprintf(key, sizeof(key), "cat:{%s}:dr:%08" PRId32 ":m", it->id, it->due_day);
            rc = gw_redis_commandf(d->v.redis, on_meta, d, "HEXISTS %s seed", key);
        } else {
            roll(d);
            return;
        }
        if (rc == 0)
            return;
        if (d->err == 0)
            d->err = rc;
        d->at++;
    }
    round_end(d);
}

static void round_start_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    round_next(arg);
}

int cat_draw_tick(struct cat_redeem *r, int64_t now, const struct cat_draw_hooks *hooks,
                  void (*cb)(void *arg, int err), void *arg)
{
    struct cat_gift_window win = {0};
    struct dr_round *d;

    if (!r || !cb)
        return -EINVAL;
    if (g_round)
        return -EBUSY;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->r = r;
    cat_redeem_view(r, &d->v);
    if (hooks)
        d->hooks = *hooks;
    d->cb = cb;
    d->arg = arg;
    d->now = now;
    bool open = d->v.cal && cat_calendar_is_open(d->v.cal, now, NULL, &win) == 1 &&
                win.regular_start <= now;
    struct cat_catalog *c = cat_store_current(d->v.store);
    for (size_t i = 0; c && i < cat_catalog_count(c) && d->n < MAX_ITEMS; i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        if (!it->draw.on || !it->enabled)
            continue;
        struct dr_item *di = &d->items[d->n++];
        snprintf(di->id, sizeof(di->id), "%s", it->id);
        di->stock = it->stock_per_day;
        di->claim_s = (int64_t)it->draw.claim_hours * 3600;
        if (open && cat_item_check(d->v.store, c, it->id, win.gift_day) == CAT_ITEM_OK)
            di->due_day = win.gift_day;
    }
    cat_catalog_unref(c);
    g_round = d;
    /* answered from the loop, never from inside the call */
    if (event_base_once(d->v.base, -1, EV_TIMEOUT, round_start_cb, d, NULL) < 0) {
        g_round = NULL;
        free(d);
        return -ENOMEM;
    }
    return 0;
}

/* ---------------------------------------------------------------- the outbox's SMS accepted */

struct dr_sent {
    void (*cb)(void *arg, int err);
    void *arg;
};

static void on_sent(void *arg, int err, const struct redisReply *reply)
{
    struct dr_sent *s = arg;
    void (*cb)(void *, int) = s->cb;
    void *cb_arg = s->arg;

    if (err == 0 && (!reply || reply->type != REDIS_REPLY_ARRAY))
        err = -EPROTO;
    free(s);
    cb(cb_arg, err);
}

int cat_draw_sent(struct cat_redeem *r, const char *item, int32_t day, const char *msisdn,
                  void (*cb)(void *arg, int err), void *arg)
{
    struct cat_redeem_view v;
    char key[CAT_ID_MAX + 24], num[3][24];
    struct dr_sent *s;
    int rc;

    if (!r || !item || !msisdn || !cb || strlen(item) >= CAT_ID_MAX || strlen(msisdn) > 15)
        return -EINVAL;
    cat_redeem_view(r, &v);
    if (!(s = calloc(1, sizeof(*s))))
        return -ENOMEM;
    s->cb = cb;
    s->arg = arg;
    snprintf(key, sizeof(key), "cat:{%s}:dr:cur", item);
    snprintf(num[0], sizeof(num[0]), "%" PRId64, gw_clock_now_ms() / 1000);
    snprintf(num[1], sizeof(num[1]), "%d", DRAW_TTL_S);
    snprintf(num[2], sizeof(num[2]), "%08" PRId32, day);
    const char *argv[] = {key, "SENT", num[0], num[1], num[2], msisdn};
    if ((rc = dr_run(&v, 6, argv, on_sent, s)) < 0)
        free(s);
    return rc;
}

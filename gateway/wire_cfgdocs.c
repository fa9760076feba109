/*
 * wire_cfgdocs.c - loyaltygw follows the staff console's documents and kill switches in Redis
 * (see wire_cfgdocs.h). Owner: the staff-console engineer.
 *
 * A round is one struct round shared by its requests: `pending` counts the requests whose
 * callback has not run yet, and the last callback frees it. A callback with err -ECANCELED
 * (gw_redis_free) touches only the round, never the module. The module's pointer in the round is
 * safe otherwise: the module is freed after gw_redis (main.c), so no callback outlives it.
 */
#include "wire_cfgdocs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "catalog.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_redis.h"
#include "wire_catalog.h"

#define LOG_CAT "cfgdocs"
#define START_RETRY_MS 100 /* until the first round worked: Redis is usually a moment late */

/* The loyalty table first: a catalogue is checked against its tiers, and the requests of a round
 * are answered in the order sent (one connection; on a cluster the {adm} slot is one node), so a
 * table and a catalogue that uses its new tier, read in the same round, load in that order. */
enum doc_kind { DOC_LOYALTY = 0, DOC_CATALOG, DOC_GIFTDAYS, DOC_MENUS, DOC_CAMPAIGNS, DOC__COUNT };

static const char *const doc_key[DOC__COUNT] = {WIRE_CFGDOCS_KEY_LOYALTY, WIRE_CFGDOCS_KEY_CATALOG,
                                                WIRE_CFGDOCS_KEY_GIFTDAYS, WIRE_CFGDOCS_KEY_MENUS,
                                                WIRE_CFGDOCS_KEY_CAMPAIGNS};
static const char *const doc_name[DOC__COUNT] = {"loyalty table", "catalogue", "gift-day calendar",
                                                 "USSD menus", "campaigns"};

struct doc_state {
    int64_t loaded;  /* version in force; 0 = none loaded (the file rules) */
    int64_t refused; /* last version found invalid: not read again, not logged again */
};

struct wire_cfgdocs {
    struct event_base *base;
    struct gw_redis *redis;
    struct wire_catalog *cat;
    const struct gw_config *cfg;
    struct event *ev_poll;
    struct doc_state doc[DOC__COUNT];
    wire_cfgdocs_calendar_fn on_calendar; /* another reader of the calendar, or NULL */
    void *on_calendar_arg;
    wire_cfgdocs_doc_fn on_loyalty; /* who applies the loyalty table, or NULL (not followed) */
    void *on_loyalty_arg;
    wire_cfgdocs_doc_fn on_menus; /* who applies the USSD menus, or NULL (not followed) */
    void *on_menus_arg;
    wire_cfgdocs_doc_fn on_campaigns; /* who applies the campaigns, or NULL (not followed) */
    void *on_campaigns_arg;
    wire_cfgdocs_ready_fn on_ready; /* told once, when the first round completed */
    void *on_ready_arg;
    char id[96];     /* "<host>/<pid>": this gateway in cfg:{adm}:seen */
    bool busy;       /* a round is in flight */
    bool started;    /* a round completed without a transport error */
    bool ready_told; /* on_ready was called */
    bool again;      /* resync during a round: the next one follows at once */
    uint64_t resync; /* bumped by wire_cfgdocs_resync: a round begun before ignores its reads */
};

struct round {
    struct wire_cfgdocs *d;
    unsigned pending;
    bool failed;     /* a request failed (timeout, link): the round does not count as a start */
    uint64_t resync; /* d->resync when the round began */
};

struct doc_req {
    struct round *rd;
    enum doc_kind kind;
};

struct kill_req {
    struct round *rd;
    char id[CAT_ID_MAX];
};

static void schedule(struct wire_cfgdocs *d)
{
    uint32_t ms = d->started && !d->again ? d->cfg->catalog.docs_poll_ms : START_RETRY_MS;
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};

    evtimer_add(d->ev_poll, &tv);
}

/* One callback of the round is over; the last one closes the round. */
static void round_put(struct round *rd, int err)
{
    if (err == -ECANCELED) {
        /* shutting down: the module may be on its way out, touch only the round */
        if (--rd->pending == 0)
            free(rd);
        return;
    }
    if (err < 0)
        rd->failed = true;
    if (--rd->pending > 0)
        return;
    struct wire_cfgdocs *d = rd->d;
    /* ready: a round whose reads were applied (not one a resync made ignore them) */
    bool tell = !rd->failed && rd->resync == d->resync && !d->ready_told;
    if (!rd->failed)
        d->started = true;
    if (tell)
        d->ready_told = true;
    d->busy = false;
    free(rd);
    schedule(d);
    if (tell && d->on_ready)
        d->on_ready(d->on_ready_arg);
}

/* ---------------------------------------------------------------- documents */

static int64_t reply_int(const struct redisReply *r)
{
    char buf[24];

    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len >= sizeof(buf))
        return -1;
    memcpy(buf, r->str, r->len);
    buf[r->len] = '\0';
    char *end;
    long long v = strtoll(buf, &end, 10);
    return *end == '\0' && v >= 0 ? v : -1;
}

static void apply_doc(struct wire_cfgdocs *d, enum doc_kind k, int64_t version, const char *text,
                      size_t len)
{
    char err[256];
    int rc;

    if (k == DOC_CATALOG)
        rc = wire_catalog_swap_from_buffer(d->cat, d->cfg, text, len, err, sizeof(err));
    else if (k == DOC_LOYALTY)
        rc = d->on_loyalty(d->on_loyalty_arg, text, len, err, sizeof(err));
    else if (k == DOC_MENUS)
        rc = d->on_menus(d->on_menus_arg, text, len, err, sizeof(err));
    else if (k == DOC_CAMPAIGNS)
        rc = d->on_campaigns(d->on_campaigns_arg, text, len, err, sizeof(err));
    else {
        rc =
            d->cat ? wire_catalog_set_calendar_from_buffer(d->cat, text, len, err, sizeof(err)) : 0;
        if (rc == 0 && d->on_calendar)
            rc = d->on_calendar(d->on_calendar_arg, text, len, err, sizeof(err));
    }
    if (rc < 0) {
        if (rc == -ENOMEM)
            return; /* not the document's fault: tried again next round */
        d->doc[k].refused = version;
        GW_LOGE(LOG_CAT, "%s %s version %" PRId64 " refused, keeping the current one: %s",
                doc_name[k], doc_key[k], version, err);
        return;
    }
    d->doc[k].loaded = version;
    d->doc[k].refused = 0;
    /* a catalogue refused for a tier the new table has is worth reading again */
    if (k == DOC_LOYALTY)
        d->doc[DOC_CATALOG].refused = 0;
    if (k == DOC_CATALOG) {
        struct cat_catalog *c = cat_store_current(wire_catalog_store(d->cat));
        GW_LOGN(LOG_CAT, "catalogue from %s version %" PRId64 ": \"%s\", %zu items", doc_key[k],
                version, c ? cat_catalog_version(c) : "?", c ? cat_catalog_count(c) : (size_t)0);
        cat_catalog_unref(c);
    } else
        GW_LOGN(LOG_CAT, "%s from %s version %" PRId64, doc_name[k], doc_key[k], version);
}

static void on_doc(void *arg, int err, const struct redisReply *reply)
{
    struct doc_req *q = arg;
    struct round *rd = q->rd;
    enum doc_kind k = q->kind;

    free(q);
    if (err == 0 && rd->resync == rd->d->resync) {
        /* HMGET doc version: the text and the version it belongs to, read together */
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
            reply->element[0]->type == REDIS_REPLY_STRING) {
            int64_t v = reply_int(reply->element[1]);
            if (v > 0 && v != rd->d->doc[k].loaded && v != rd->d->doc[k].refused)
                apply_doc(rd->d, k, v, reply->element[0]->str, reply->element[0]->len);
        } else if (reply->type == REDIS_REPLY_ERROR)
            GW_LOGE(LOG_CAT, "%s: %.200s", doc_key[k], reply->str);
    }
    round_put(rd, err);
}

static void on_version(void *arg, int err, const struct redisReply *reply)
{
    struct doc_req *q = arg;
    struct round *rd = q->rd;
    enum doc_kind k = q->kind;

    if (err == 0 && rd->resync == rd->d->resync) {
        struct wire_cfgdocs *d = rd->d;
        /* nil: nothing stored, the file stays. A version other than the loaded one (newer, or
         * a store rebuilt from scratch) is read and applied; an invalid one is not read again. */
        int64_t v = reply->type == REDIS_REPLY_NIL ? 0 : reply_int(reply);
        if (v < 0)
            GW_LOGE(LOG_CAT, "%s: unexpected version field", doc_key[k]);
        else if (v > 0 && v != d->doc[k].loaded && v != d->doc[k].refused) {
            const char *argv[] = {"HMGET", doc_key[k], "doc", "version"};
            size_t len[] = {5, strlen(doc_key[k]), 3, 7};
            rd->pending++;
            if (gw_redis_command(d->redis, 4, argv, len, on_doc, q) == 0)
                q = NULL; /* on_doc owns it now */
            else {
                rd->pending--;
                rd->failed = true;
            }
        }
    }
    free(q);
    round_put(rd, err);
}

/* ---------------------------------------------------------------- kill switches */

static void on_kill(void *arg, int err, const struct redisReply *reply)
{
    struct kill_req *q = arg;
    struct round *rd = q->rd;

    if (err == 0 && reply->type == REDIS_REPLY_INTEGER) {
        struct cat_store *s = wire_catalog_store(rd->d->cat);
        bool killed = cat_item_killed(s, q->id);
        /* cat_item_kill/revive log the change at notice */
        if (reply->integer == 1 && !killed)
            (void)cat_item_kill(s, q->id);
        else if (reply->integer == 0 && killed)
            (void)cat_item_revive(s, q->id);
    }
    free(q);
    round_put(rd, err);
}

/* ---------------------------------------------------------------- what this gateway uses */

static void on_seen(void *arg, int err, const struct redisReply *reply)
{
    (void)reply;
    round_put(arg, err);
}

/* HSET cfg:{adm}:seen <host/pid> "<unix ms> catalog=V giftdays=V loyalty=V": the versions in
 * force here (0 = the file's), so the console can show which version each running gateway uses.
 * One field per gateway process, rewritten every round; the console ignores a field older than
 * a few polls (a gateway that stopped). */
static void send_seen(struct wire_cfgdocs *d, struct round *rd)
{
    char val[160];
    const char *argv[] = {"HSET", WIRE_CFGDOCS_KEY_SEEN, d->id, val};
    size_t len[4];

    snprintf(val, sizeof(val),
             "%" PRId64 " catalog=%" PRId64 " giftdays=%" PRId64 " loyalty=%" PRId64
             " menus=%" PRId64 " campaigns=%" PRId64,
             gw_clock_now_ms(), d->doc[DOC_CATALOG].loaded, d->doc[DOC_GIFTDAYS].loaded,
             d->doc[DOC_LOYALTY].loaded, d->doc[DOC_MENUS].loaded, d->doc[DOC_CAMPAIGNS].loaded);
    for (int i = 0; i < 4; i++)
        len[i] = strlen(argv[i]);
    rd->pending++;
    if (gw_redis_command(d->redis, 4, argv, len, on_seen, rd) < 0) {
        rd->pending--;
        rd->failed = true;
    }
}

/* ---------------------------------------------------------------- the round */

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
    struct wire_cfgdocs *d = arg;
    struct round *rd;

    (void)fd;
    (void)what;
    if (d->busy)
        return;
    if (!gw_redis_is_connected(d->redis) || !(rd = calloc(1, sizeof(*rd)))) {
        schedule(d);
        return;
    }
    rd->d = d;
    rd->resync = d->resync;
    rd->pending = 1; /* held by this function until everything is sent */
    d->busy = true;
    d->again = false;
    if (d->cfg->catalog.follow_redis_docs)
        send_seen(d, rd);
    for (int k = 0; d->cfg->catalog.follow_redis_docs && k < DOC__COUNT; k++) {
        if ((k == DOC_CATALOG && !d->cat) || (k == DOC_GIFTDAYS && !d->cat && !d->on_calendar) ||
            (k == DOC_LOYALTY && !d->on_loyalty) || (k == DOC_MENUS && !d->on_menus) ||
            (k == DOC_CAMPAIGNS && !d->on_campaigns))
            continue; /* nobody here reads it */
        struct doc_req *q = malloc(sizeof(*q));
        if (!q) {
            rd->failed = true;
            break;
        }
        *q = (struct doc_req){.rd = rd, .kind = (enum doc_kind)k};
        const char *argv[] = {"HGET", doc_key[k], "version"};
        size_t len[] = {4, strlen(doc_key[k]), 7};
        rd->pending++;
        if (gw_redis_command(d->redis, 3, argv, len, on_version, q) < 0) {
            rd->pending--;
            rd->failed = true;
            free(q);
        }
    }
    struct cat_catalog *c = d->cat ? cat_store_current(wire_catalog_store(d->cat)) : NULL;
    for (size_t i = 0; c && i < cat_catalog_count(c); i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);
        struct kill_req *q = malloc(sizeof(*q));
        char key[CAT_ID_MAX + 16];
        if (!q) {
            rd->failed = true;
            break;
        }
        q->rd = rd;
        snprintf(q->id, sizeof(q->id), "%s", it->id);
        snprintf(key, sizeof(key), "cat:{%s}:k", it->id);
        const char *argv[] = {"EXISTS", key};
        size_t len[] = {6, strlen(key)};
        rd->pending++;
        if (gw_redis_command(d->redis, 2, argv, len, on_kill, q) < 0) {
            rd->pending--;
            rd->failed = true;
            free(q);
            break;
        }
    }
    cat_catalog_unref(c);
    round_put(rd, 0);
}

struct wire_cfgdocs *wire_cfgdocs_new(struct event_base *base, struct gw_redis *redis,
                                      struct wire_catalog *cat, const struct gw_config *cfg)
{
    struct wire_cfgdocs *d;

    if (!base || !redis || !cfg)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->base = base;
    d->redis = redis;
    d->cat = cat;
    char host[64] = "";
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        snprintf(host, sizeof(host), "gateway");
    snprintf(d->id, sizeof(d->id), "%s/%ld", host, (long)getpid());
    d->cfg = cfg;
    d->ev_poll = evtimer_new(base, on_poll, d);
    if (!d->ev_poll) {
        free(d);
        return NULL;
    }
    event_active(d->ev_poll, EV_TIMEOUT, 0);
    GW_LOGI(LOG_CAT, "%s every %u ms; kill switches cat:{ITEM}:k mirrored",
            cfg->catalog.follow_redis_docs ? "following the console's documents cfg:{adm}:*"
                                           : "documents not followed (files rule)",
            cfg->catalog.docs_poll_ms);
    return d;
}

void wire_cfgdocs_on_calendar(struct wire_cfgdocs *d, wire_cfgdocs_calendar_fn fn, void *arg)
{
    if (!d)
        return;
    d->on_calendar = fn;
    d->on_calendar_arg = arg;
    /* the calendar in force now goes to the new reader too: read it again */
    d->doc[DOC_GIFTDAYS] = (struct doc_state){0};
}

void wire_cfgdocs_on_loyalty(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg)
{
    if (!d)
        return;
    d->on_loyalty = fn;
    d->on_loyalty_arg = arg;
    d->doc[DOC_LOYALTY] = (struct doc_state){0};
}

void wire_cfgdocs_on_campaigns(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg)
{
    if (!d)
        return;
    d->on_campaigns = fn;
    d->on_campaigns_arg = arg;
    d->doc[DOC_CAMPAIGNS] = (struct doc_state){0};
}

void wire_cfgdocs_on_menus(struct wire_cfgdocs *d, wire_cfgdocs_doc_fn fn, void *arg)
{
    if (!d)
        return;
    d->on_menus = fn;
    d->on_menus_arg = arg;
    d->doc[DOC_MENUS] = (struct doc_state){0};
}

void wire_cfgdocs_on_ready(struct wire_cfgdocs *d, wire_cfgdocs_ready_fn fn, void *arg)
{
    if (!d)
        return;
    d->on_ready = fn;
    d->on_ready_arg = arg;
}

void wire_cfgdocs_kick(struct wire_cfgdocs *d)
{
    if (!d || d->busy)
        return; /* the round in flight is as good */
    evtimer_del(d->ev_poll);
    event_active(d->ev_poll, EV_TIMEOUT, 0);
}

void wire_cfgdocs_resync(struct wire_cfgdocs *d)
{
    if (!d)
        return;
    for (int k = 0; k < DOC__COUNT; k++)
        d->doc[k] = (struct doc_state){0};
    d->resync++;
    if (!d->busy) {
        evtimer_del(d->ev_poll);
        event_active(d->ev_poll, EV_TIMEOUT, 0);
    } else
        d->again = true; /* the round in flight ignores its reads (resync changed) */
}

void wire_cfgdocs_free(struct wire_cfgdocs *d)
{
    if (!d)
        return;
    if (d->ev_poll)
        event_free(d->ev_poll);
    free(d);
}

/*
 * it_redeem.c - integration driver for redemption (catalog/cat_redeem.c) against a real
 * redis-server, or a real 3-master Redis Cluster (started by test_redeem.sh). Owned by the
 * redemption engineer (issue 4). cmocka cases drive the libevent loop until the callbacks fired.
 *
 * Redis: env LGW_REDIS_SOCK (unix socket) or LGW_REDIS_CLUSTER ("host:port,host:port,...").
 * Every case uses its own subscribers and items, so cases never flush (FLUSHALL reaches one
 * master only on a cluster) and the same cases run unchanged on both.
 *
 * Ownership: one event_base, one client, one store/calendar/redemption module for the run.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "catalog.h"
#include "gw_core.h"
#include "gw_days.h"
#include "gw_hist.h"
#include "gw_lots.h"
#include "gw_redis.h"

#include "../test_clock.h"

extern const char cat_lua_item[];
extern const size_t cat_lua_item_len;
extern const char cat_lua_sub[];
extern const size_t cat_lua_sub_len;

#define DAY INT64_C(86400)

/* The test's "now", from the real clock (Redis counts expiries on it): the last Wednesday before
 * today's local date in Casablanca, 11:00 local, so T0 + DAY (Thursday) is never in the future.
 * Local days and offsets come from the calendar's own zone (UTC+1, UTC+0 in Ramadan), never a
 * fixed +1. Set by it_clock_init() from setup; every day string below is computed from T0. */
static int64_t T0;
static int32_t DAYNUM;                /* T0's local date, YYYYMMDD: the gift day */
static char DAYSTR[16];               /* the same as text */
static char LOT_OLD[24], LOT_NEW[24]; /* "l:YYYYMMDD" lots 60 and 30 days before T0 */
static int32_t DAY_OLD, DAY_NEW;      /* their days */
static char T0S[24], T0S100[24];      /* T0 and T0 + 100 as decimal text for the scripts */
static int64_t NEXT_WED_0000;         /* the Wednesday after T0's, 00:00 local */
static int64_t TUE_2330;              /* the evening before T0's Wednesday, 23:30 local */
static int64_t WED_0000;              /* T0's Wednesday, 00:00 local: the regular opening */

static struct {
    struct event_base *base;
    struct event *tick;
    struct gw_redis *redis;
    struct cat_store *store;
    struct cat_calendar *cal;
    struct cat_redeem *rd;
    struct cat_redeem_config cfg;
    int s_item, s_sub;
    bool cluster;
} T;

/* ---------------------------------------------------------------- the test's clock */

static int it_clock_init(const struct cat_tz *tz)
{
    int64_t now = (int64_t)time(NULL);
    int back = tc_days_since(tz, now, 3); /* the last Wednesday before today, 1..7 days ago */

    T0 = tc_local_at(tz, now, -back, 11, 0);
    NEXT_WED_0000 = tc_local_at(tz, now, 7 - back, 0, 0);
    TUE_2330 = tc_local_at(tz, now, -back - 1, 23, 30);
    WED_0000 = tc_local_at(tz, now, -back, 0, 0);
    DAYNUM = cat_tz_local_date(tz, T0);
    int32_t old = tc_local_date(tz, T0, -60), young = tc_local_date(tz, T0, -30);
    if (back < 0 || T0 < 0 || NEXT_WED_0000 < 0 || TUE_2330 < 0 || WED_0000 < 0 || !old ||
        !young)
        return -1;
    snprintf(DAYSTR, sizeof(DAYSTR), "%" PRId32, DAYNUM);
    DAY_OLD = old;
    DAY_NEW = young;
    snprintf(LOT_OLD, sizeof(LOT_OLD), "l:%" PRId32, old);
    snprintf(LOT_NEW, sizeof(LOT_NEW), "l:%" PRId32, young);
    snprintf(T0S, sizeof(T0S), "%" PRId64, T0);
    snprintf(T0S100, sizeof(T0S100), "%" PRId64, T0 + 100);
    return 0;
}

/* prefix + DAYSTR in one of a few rotating buffers (enough for one script's key list) */
static const char *dkey(const char *prefix)
{
    static char buf[8][96];
    static unsigned n;
    char *b = buf[n++ % 8];

    snprintf(b, sizeof(buf[0]), "%s%s", prefix, DAYSTR);
    return b;
}

/* ---------------------------------------------------------------- loop and redis helpers */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static bool wait_count(const int *n, int target, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (*n < target && gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    return *n >= target;
}

struct rcap {
    int done;
    int err;
    int type;
    long long integer;
    size_t elements;
    size_t len;     /* a string reply's bytes (binary: the packed fields) */
    char str[8192]; /* strings; array elements (one level) joined by '\n' */
};

static void rcap_cb(void *arg, int err, const struct redisReply *r)
{
    struct rcap *c = arg;
    c->done++;
    c->err = err;
    if (!r)
        return;
    c->type = r->type;
    c->integer = r->integer;
    c->elements = r->elements;
    c->str[0] = '\0';
    if (r->type == REDIS_REPLY_ARRAY) {
        size_t off = 0;
        for (size_t i = 0; i < r->elements && off + 1 < sizeof(c->str); i++) {
            const redisReply *e = r->element[i];
            int n = e->type == REDIS_REPLY_INTEGER
                        ? snprintf(c->str + off, sizeof(c->str) - off, "%s%lld", i ? "\n" : "",
                                   e->integer)
                        : snprintf(c->str + off, sizeof(c->str) - off, "%s%.*s", i ? "\n" : "",
                                   (int)e->len, e->str ? e->str : "");
            if (n < 0)
                break;
            off += (size_t)n;
            if (off >= sizeof(c->str))
                off = sizeof(c->str) - 1;
        }
    } else if (r->str) {
        c->len = r->len < sizeof(c->str) - 1 ? r->len : sizeof(c->str) - 1;
        memcpy(c->str, r->str, c->len);
        c->str[c->len] = '\0';
    }
}

static struct rcap cap;

#define RCMD(...)                                                                                  \
    do {                                                                                           \
        memset(&cap, 0, sizeof(cap));                                                              \
        assert_int_equal(gw_redis_commandf(T.redis, rcap_cb, &cap, __VA_ARGS__), 0);               \
        assert_true(wait_count(&cap.done, 1, 10000));                                              \
        assert_int_equal(cap.err, 0);                                                              \
    } while (0)

/* The points of the wallet's lot of day (YYYYMMDD) in its packed field L (gw_lots.h; 0 for
 * none); a malformed L fails the test. Lot fields of the release before are not counted. */
static long long lot_pts(const char *msisdn, int32_t day)
{
    char l[GW_LOTS_REC_MAX * 400];
    long long n = 0;
    size_t len, pos = 0;
    struct gw_lot lot;

    RCMD("HGET lg:{%s}:w L", msisdn);
    len = cap.type == REDIS_REPLY_NIL ? 0 : cap.len;
    assert_true(len < sizeof(l));
    memcpy(l, cap.str, len);
    assert_true(gw_lots_valid(l, len));
    while (gw_lots_next(l, len, &pos, &lot))
        if (lot.day == day)
            n += lot.points;
    return n;
}

static char hist_rule[256]; /* the text of the record hist_newest reads */
static const char *hist_rule_of(void *arg, uint16_t id)
{
    (void)arg;
    (void)id;
    return hist_rule[0] ? hist_rule : NULL;
}

/* The newest line of the wallet's history as the console and loyaltyctl show it: the record of
 * E, its text from lg:rules, the rest from the note field N (gw_hist.h). And no history list:
 * redemptions and refunds write the wallet only. */
static void hist_newest(const char *msisdn, char *line, size_t cap_line)
{
    static char e[4096], n[4096];
    size_t elen, nlen;
    struct gw_hist_rec r;

    RCMD("HGET lg:{%s}:w E", msisdn);
    elen = cap.type == REDIS_REPLY_NIL ? 0 : cap.len;
    assert_true(elen > 0 && elen < sizeof(e));
    memcpy(e, cap.str, elen);
    RCMD("HGET lg:{%s}:w N", msisdn);
    nlen = cap.type == REDIS_REPLY_NIL ? 0 : cap.len;
    assert_true(nlen < sizeof(n));
    memcpy(n, cap.str, nlen);
    assert_int_equal(gw_hist_get(e, elen, 0, &r), 0);
    hist_rule[0] = '\0';
    if (r.rule) {
        RCMD("HGET lg:rules %u", (unsigned)r.rule);
        snprintf(hist_rule, sizeof(hist_rule), "%.255s", cap.str);
    }
    assert_int_equal(gw_hist_merge(e, elen, n, nlen, NULL, NULL, 0, hist_rule_of, NULL, line,
                                   cap_line, 1),
                     1);
    RCMD("EXISTS lg:{%s}:h", msisdn);
    assert_int_equal(cap.integer, 0);
}

static long long get_int(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long get_int(const char *fmt, ...)
{
    char key[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(key, sizeof(key), fmt, ap);
    va_end(ap);
    RCMD("GET %s", key);
    return cap.type == REDIS_REPLY_NIL ? -1 : strtoll(cap.str, NULL, 10);
}

static long long bal(const char *m)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    RCMD("HGET %s bal", key);
    return cap.type == REDIS_REPLY_NIL ? -1 : strtoll(cap.str, NULL, 10);
}

/* The whole wallet as "field=value;..." sorted by Redis's order (stable for one hash). */
static void wallet_dump(const char *m, char *out, size_t cap_)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    RCMD("HGETALL %s", key);
    /* A wallet dump longer than out would compare wrongly: fail loudly instead. */
    assert_true(snprintf(out, cap_, "%s", cap.str) < (int)cap_);
}

static const char *record(const char *m, const char *rid)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:g", m);
    RCMD("HGET %s %s", key, rid);
    return cap.type == REDIS_REPLY_NIL ? NULL : cap.str;
}

static void seed_wallet(const char *m, long long points, const char *tier)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    /* two lots: the older must be spent first */
    RCMD("HSET %s bal %lld life %lld tier %s %s %lld %s %lld", key, points, points, tier, LOT_OLD,
         points / 2, LOT_NEW, points - points / 2);
}

/* Stream entries for one item: count, and the set of rids joined by '\n' in *rids (may be NULL). */
struct xcount {
    int done;
    int n;
    const char *item;
    char *codes; /* "code\n" per entry, when not NULL */
    size_t codes_cap;
};

static void xcount_cb(void *arg, int err, const struct redisReply *r)
{
    struct xcount *x = arg;
    x->done = 1;
    if (err < 0 || !r || r->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
            continue;
        const redisReply *f = e->element[1];
        const char *item = NULL, *code = NULL;
        size_t ilen = 0, clen = 0;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (strcmp(f->element[k]->str, "item") == 0) {
                item = f->element[k + 1]->str;
                ilen = f->element[k + 1]->len;
            } else if (strcmp(f->element[k]->str, "code") == 0) {
                code = f->element[k + 1]->str;
                clen = f->element[k + 1]->len;
            }
        }
        if (item && ilen == strlen(x->item) && memcmp(item, x->item, ilen) == 0) {
            x->n++;
            if (x->codes && code) {
                size_t off = strlen(x->codes);
                snprintf(x->codes + off, x->codes_cap - off, "%.*s\n", (int)clen, code);
            }
        }
    }
}

static int stream_count(const char *item, char *codes, size_t codes_cap)
{
    struct xcount x = {.item = item, .codes = codes, .codes_cap = codes_cap};
    if (codes)
        codes[0] = '\0';
    assert_int_equal(gw_redis_commandf(T.redis, xcount_cb, &x, "XRANGE %s - +", CAT_FULFIL_STREAM),
                     0);
    assert_true(wait_count(&x.done, 1, 10000));
    return x.n;
}

/* ---------------------------------------------------------------- redemption helpers */

struct rres {
    int done;
    int err;
    struct cat_redeem_result res;
};

static void rres_cb(void *arg, int err, const struct cat_redeem_result *res)
{
    struct rres *r = arg;
    r->done++;
    r->err = err;
    if (res)
        r->res = *res;
}

static int redeem_start(const char *m, const char *item, const char *to, const char *source,
                        int64_t now, struct rres *out)
{
    struct cat_catalog *c = cat_store_current(T.store);
    const struct cat_item *it = cat_catalog_find(c, item);
    struct cat_redeem_request rq = {
        .msisdn = m,
        .beneficiary = to,
        .version = cat_catalog_version(c),
        .item_id = item,
        .price = it ? it->price : 1,
        .rid_source = source,
        .now = now,
    };
    memset(out, 0, sizeof(*out));
    int rc = cat_redeem_confirm(T.rd, &rq, rres_cb, out);
    cat_catalog_unref(c);
    return rc;
}

static struct cat_redeem_result redeem(const char *m, const char *item, const char *to,
                                       const char *source, int64_t now)
{
    static struct rres r;
    assert_int_equal(redeem_start(m, item, to, source, now, &r), 0);
    assert_true(wait_count(&r.done, 1, 10000));
    assert_int_equal(r.done, 1);
    assert_int_equal(r.err, 0);
    return r.res;
}

struct tres {
    int done;
    int err;
    enum cat_transition t;
};

static void tres_cb(void *arg, int err, enum cat_transition t)
{
    struct tres *r = arg;
    r->done++;
    r->err = err;
    r->t = t;
}

static enum cat_transition wait_tr(struct tres *r)
{
    assert_true(wait_count(&r->done, 1, 10000));
    assert_int_equal(r->done, 1);
    assert_int_equal(r->err, 0);
    return r->t;
}

/* Runs one of the scripts by hand (the "crash" cases stop a redemption half-way). */
static void script(int id, int nkeys, int argc, const char **argv)
{
    size_t len[64];
    assert_true(argc <= 64);
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    memset(&cap, 0, sizeof(cap));
    assert_int_equal(gw_redis_script_run(T.redis, id, nkeys, argc, argv, len, rcap_cb, &cap), 0);
    assert_true(wait_count(&cap.done, 1, 10000));
    assert_int_equal(cap.err, 0);
}

/* ---------------------------------------------------------------- the catalogue */

static int item_json(char *out, size_t cap_, const char *id, const char *category, int64_t price,
                     const char *tier, int64_t stock, int64_t limit, const char *fulfil)
{
    char st[48] = "", li[48] = ""; /* 0 = no limit: the key is left out */
    if (stock)
        snprintf(st, sizeof(st), "\"stock_per_day\":%" PRId64 ",", stock);
    if (limit)
        snprintf(li, sizeof(li), "\"limit_per_day\":%" PRId64 ",", limit);
    return snprintf(out, cap_,
                    "{\"id\":\"%s\",\"category\":\"%s\","
                    "\"names\":{\"ar\":\"%s\",\"fr\":\"%s\",\"en\":\"%s\",\"fa\":\"%s\"},"
                    "\"descriptions\":{\"ar\":\"d\",\"fr\":\"d\",\"en\":\"d\",\"fa\":\"d\"},"
                    "\"price\":%" PRId64 ",\"tier\":\"%s\",%s%s\"fulfil\":%s}",
                    id, category, id, id, id, id, price, tier, st, li, fulfil);
}

static const char *DATA = "{\"type\":\"provisioning\",\"kind\":\"data\",\"quantity\":1,"
                          "\"unit\":\"GB\"}";
/* DATA followed by a staggered opening (item_json puts the fulfil object last): 4 cohorts
 * released over the first hour of the gift day. */
static const char *DATA_STAGGERED =
    "{\"type\":\"provisioning\",\"kind\":\"data\",\"quantity\":1,\"unit\":\"GB\"},"
    "\"opening\":{\"mode\":\"staggered\",\"cohorts\":4,\"minutes\":60}";

static int build_catalog(const char *version, int64_t rush_price)
{
    static char text[16384];
    char it[1024];
    size_t off = 0;
    struct {
        const char *id, *cat, *tier;
        int64_t price, stock, limit;
        const char *fulfil;
    } items[] = {
        {"RUSH", "data", "standard", rush_price, 100, 1, DATA},
        {"RETRY", "data", "standard", 30, 10, 0, DATA},
        {"GOLDONLY", "data", "gold", 10, 10, 0, DATA},
        {"LIM", "data", "standard", 10, 0, 1, DATA},
        {"PLAIN", "data", "standard", 10, 5, 0, DATA},
        {"KILLME", "data", "standard", 10, 5, 0, DATA},
        {"SWEEP1", "data", "standard", 20, 10, 0, DATA},
        {"REF", "data", "standard", 40, 10, 0, DATA},
        {"VOUCH", "voucher", "standard", 5, 0, 0, "{\"type\":\"voucher\",\"pool\":\"PVTEST\"}"},
        {"GIFT", "data", "standard", 10, 0, 0, DATA},
        {"CHAR", "charity", "standard", 25, 0, 0, "{\"type\":\"charity\",\"cause\":\"FOOD_BANK\"}"},
        {"STAG", "data", "standard", 10, 10, 0, DATA_STAGGERED},
    };
    off += (size_t)snprintf(text + off, sizeof(text) - off, "{\"version\":\"%s\",\"items\":[",
                            version);
    for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
        item_json(it, sizeof(it), items[i].id, items[i].cat, items[i].price, items[i].tier,
                  items[i].stock, items[i].limit, items[i].fulfil);
        off += (size_t)snprintf(text + off, sizeof(text) - off, "%s%s", i ? "," : "", it);
    }
    off += (size_t)snprintf(text + off, sizeof(text) - off, "]}");
    static const char *const tiers[] = {"standard", "silver", "gold"};
    struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 3};
    struct cat_catalog *c = NULL;
    char err[256];
    int rc = cat_catalog_parse(text, off, &opts, &c, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "catalogue: %s\n", err);
        return rc;
    }
    rc = cat_catalog_swap(T.store, c);
    return rc == -EALREADY ? 0 : rc;
}

/* ---------------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    (void)state;
    const char *sock = getenv("LGW_REDIS_SOCK");
    const char *cluster = getenv("LGW_REDIS_CLUSTER");
    struct gw_redis_config rcfg;
    char err[256];

    T.base = event_base_new();
    T.tick = event_new(T.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    event_add(T.tick, &tv);
    gw_redis_config_defaults(&rcfg);
    gw_redis_config_env(&rcfg);
    if (cluster && *cluster) {
        T.cluster = true;
        const char *p = cluster;
        while (*p && rcfg.n_cluster_nodes < GW_REDIS_MAX_SEEDS) {
            size_t n = strcspn(p, ",");
            snprintf(rcfg.cluster_nodes[rcfg.n_cluster_nodes++], GW_REDIS_ADDR_LEN, "%.*s", (int)n,
                     p);
            p += n + (p[n] == ',');
        }
    } else if (sock && *sock) {
        snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", sock);
    }
    rcfg.request_timeout_ms = 10000;
    T.redis = gw_redis_new(T.base, &rcfg);
    T.store = cat_store_new();
    if (!T.redis || !T.store || build_catalog("it.1", 50) < 0)
        return -1;
    static const char giftdays[] =
        "{\"timezone\":\"Africa/"
        "Casablanca\",\"weekly\":[{\"day\":\"wednesday\",\"start\":\"00:00\","
        "\"end\":\"23:59:59\"}],\"premium\":{\"tiers\":[\"gold\"],\"early_minutes\":60}}";
    struct cat_calendar_config cc;
    if (cat_calendar_config_parse(giftdays, strlen(giftdays), &cc, err, sizeof(err)) < 0 ||
        cat_calendar_new(&cc, NULL, &T.cal, err, sizeof(err)) < 0) {
        fprintf(stderr, "calendar: %s\n", err);
        return -1;
    }
    if (it_clock_init(cat_calendar_tz(T.cal)) < 0) {
        fprintf(stderr, "clock: cannot place the test's Wednesday\n");
        return -1;
    }
    cat_redeem_config_defaults(&T.cfg);
    T.cfg.n_tiers = 3;
    snprintf(T.cfg.tiers[0], CAT_NAME_MAX, "standard");
    snprintf(T.cfg.tiers[1], CAT_NAME_MAX, "silver");
    snprintf(T.cfg.tiers[2], CAT_NAME_MAX, "gold");
    T.rd = cat_redeem_new(T.base, T.redis, T.store, T.cal, &T.cfg);
    T.s_item = gw_redis_script_add(T.redis, cat_lua_item, cat_lua_item_len);
    T.s_sub = gw_redis_script_add(T.redis, cat_lua_sub, cat_lua_sub_len);
    if (!T.rd || T.s_item < 0 || T.s_sub < 0)
        return -1;
    gw_redis_start(T.redis);
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(T.redis) && gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    return gw_redis_is_connected(T.redis) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    gw_redis_free(T.redis);
    cat_redeem_free(T.rd);
    cat_calendar_free(T.cal);
    cat_store_free(T.store);
    event_free(T.tick);
    event_base_free(T.base);
    return 0;
}

struct sweep_res {
    int done;
    int err;
    struct cat_sweep_stats st;
};

static void sweep_cb(void *arg, int err, const struct cat_sweep_stats *st)
{
    struct sweep_res *s = arg;
    s->done++;
    s->err = err;
    s->st = *st;
}

/* ---------------------------------------------------------------- cases */

/* 3,000 simultaneous redemptions by 1,000 subscribers (3 sessions each) of an item with stock
 * 100 and a limit of 1 per subscriber per gift day. */
static void test_redeem__rush_3000_by_1000__exactly_stock_granted(void **state)
{
    (void)state;
    enum { SUBS = 1000, TRIES = 3, N = SUBS * TRIES, PRICE = 50, INITIAL = 1000 };
    static struct rres r[N];
    char m[16], src[48];
    int granted = 0, out = 0, limit = 0, done = 0;

    for (int s = 0; s < SUBS; s++) {
        snprintf(m, sizeof(m), "2126100%05d", s);
        seed_wallet(m, INITIAL, "standard");
    }
    /* a subscriber's three sessions arrive together (three phones, or a retrying SMSC) */
    for (int s = 0; s < SUBS; s++) {
        for (int k = 0; k < TRIES; k++) {
            snprintf(m, sizeof(m), "2126100%05d", s);
            snprintf(src, sizeof(src), "ussd:%s:s%d", m, k);
            assert_int_equal(redeem_start(m, "RUSH", NULL, src, T0, &r[k * SUBS + s]), 0);
        }
    }
    int64_t end = gw_clock_mono_ms() + 60000;
    while (gw_clock_mono_ms() < end) {
        done = 0;
        for (int i = 0; i < N; i++)
            done += r[i].done;
        if (done == N)
            break;
        event_base_loop(T.base, EVLOOP_ONCE);
    }
    assert_int_equal(done, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].done, 1);
        assert_int_equal(r[i].err, 0);
        if (r[i].res.outcome == CAT_REDEEM_GRANTED)
            granted++;
        else if (r[i].res.outcome == CAT_REDEEM_OUT_OF_STOCK)
            out++;
        else if (r[i].res.outcome == CAT_REDEEM_LIMIT)
            limit++;
        else
            fail_msg("unexpected outcome %s", cat_redeem_outcome_name(r[i].res.outcome));
    }
    printf("# rush: granted %d, out of stock %d, limit %d\n", granted, out, limit);
    assert_int_equal(granted, 100);
    assert_int_equal(granted + out + limit, N);
    assert_int_equal(get_int("cat:{RUSH}:s:%s", DAYSTR), 0);
    long long sum = 0;
    int charged = 0;
    for (int s = 0; s < SUBS; s++) {
        snprintf(m, sizeof(m), "2126100%05d", s);
        long long b = bal(m);
        assert_true(b == INITIAL || b == INITIAL - PRICE); /* never charged twice */
        charged += b != INITIAL;
        sum += b;
    }
    assert_int_equal(charged, 100);
    assert_int_equal(sum, (long long)SUBS * INITIAL - 100LL * PRICE);
    assert_int_equal(stream_count("RUSH", NULL, 0), 100);
    RCMD("ZCARD cat:{RUSH}:z"); /* nothing pending: every reservation queued or released */
    assert_int_equal(cap.integer, 0);
    /* every granted record is queued */
    for (int i = 0; i < N; i++) {
        if (r[i].res.outcome != CAT_REDEEM_GRANTED)
            continue;
        char mm[16];
        snprintf(mm, sizeof(mm), "%.12s", r[i].res.rid);
        const char *rec = record(mm, r[i].res.rid);
        assert_non_null(rec);
        assert_true(rec[0] == 'Q');
    }
}

static void test_redeem__same_confirm_retried__redeems_once(void **state)
{
    (void)state;
    const char *m = "212620000001";
    struct rres a, b;

    seed_wallet(m, 100, "standard");
    /* two copies at once (a repeated PDU), then one more later (a timeout retry) */
    assert_int_equal(redeem_start(m, "RETRY", NULL, "ussd:212620000001:s7", T0, &a), 0);
    assert_int_equal(redeem_start(m, "RETRY", NULL, "ussd:212620000001:s7", T0, &b), 0);
    assert_true(wait_count(&a.done, 1, 10000) && wait_count(&b.done, 1, 10000));
    assert_int_equal(a.err, 0);
    assert_int_equal(b.err, 0);
    int granted = (a.res.outcome == CAT_REDEEM_GRANTED) + (b.res.outcome == CAT_REDEEM_GRANTED);
    int dups = (a.res.outcome == CAT_REDEEM_DUPLICATE) + (b.res.outcome == CAT_REDEEM_DUPLICATE);
    assert_int_equal(granted, 1);
    assert_int_equal(dups, 1);
    struct cat_redeem_result c = redeem(m, "RETRY", NULL, "ussd:212620000001:s7", T0 + 5);
    assert_int_equal(c.outcome, CAT_REDEEM_DUPLICATE);
    assert_string_equal(c.rid, a.res.rid);
    assert_int_equal(bal(m), 70);
    assert_int_equal(get_int("cat:{RETRY}:s:%s", DAYSTR), 9);
    assert_int_equal(stream_count("RETRY", NULL, 0), 1);
    /* oldest lot spent first: LOT_OLD held 50, now 20; LOT_NEW untouched. The lot fields of the
     * release before (seed_wallet) are folded into the packed field L by the spend. */
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    RCMD("HMGET %s %s %s", key, LOT_OLD, LOT_NEW);
    assert_string_equal(cap.str, "\n");
    assert_int_equal(lot_pts(m, DAY_OLD), 20);
    assert_int_equal(lot_pts(m, DAY_NEW), 50);
    char line[512];
    hist_newest(m, line, sizeof(line));
    assert_non_null(strstr(line, "|REDEEM|#"));
    assert_non_null(strstr(line, "|-30||gift RETRY (catalogue it.1)"));
    /* one record for the three attempts */
    RCMD("HSTRLEN %s E", key);
    assert_int_equal(cap.integer, GW_HIST_REC);
}

/* Units left today: an absent key is the untouched daily stock (the first reserve creates it). */
static long long eff_stock(const char *item)
{
    long long v = get_int("cat:{%s}:s:%s", item, DAYSTR);
    if (v < 0) {
        struct cat_catalog *c = cat_store_current(T.store);
        v = cat_catalog_find(c, item)->stock_per_day;
        cat_catalog_unref(c);
    }
    return v;
}

/* A refusal must leave the wallet, the stock and the stream exactly as they were. */
static void expect_refused_to(const char *m, const char *item, const char *to, int64_t now,
                              enum cat_redeem_outcome want)
{
    char before[2048], after[2048], src[64];
    long long stock0 = eff_stock(item);
    int xs0 = stream_count(item, NULL, 0);

    wallet_dump(m, before, sizeof(before));
    snprintf(src, sizeof(src), "refuse:%s:%s:%" PRId64, m, item, now);
    struct cat_redeem_result r = redeem(m, item, to, src, now);
    if (r.outcome != want)
        fail_msg("%s on %s: expected %s, got %s", m, item, cat_redeem_outcome_name(want),
                 cat_redeem_outcome_name(r.outcome));
    wallet_dump(m, after, sizeof(after));
    assert_string_equal(before, after);
    assert_int_equal(eff_stock(item), stock0);
    assert_int_equal(stream_count(item, NULL, 0), xs0);
    RCMD("ZCARD cat:{%s}:z", item);
    assert_int_equal(cap.integer, 0);
}

static void expect_refused(const char *m, const char *item, int64_t now,
                           enum cat_redeem_outcome want)
{
    expect_refused_to(m, item, NULL, now, want);
}

static void test_redeem__refusals__no_side_effects(void **state)
{
    (void)state;
    const char *rich = "212630000001", *poor = "212630000002", *blocked = "212630000003",
               *neg = "212630000004", *lim = "212630000005";

    seed_wallet(rich, 1000, "standard");
    seed_wallet(poor, 5, "standard");
    seed_wallet(blocked, 1000, "standard");
    RCMD("HSET lg:{%s}:w blocked 1", blocked);
    seed_wallet(neg, 1000, "standard");
    RCMD("HSET lg:{%s}:w bal -5", neg);
    seed_wallet(lim, 1000, "standard");

    /* take one unit of PLAIN so its stock key exists and must stay at 4 */
    assert_int_equal(redeem(rich, "PLAIN", NULL, "first", T0).outcome, CAT_REDEEM_GRANTED);

    assert_int_equal(cat_item_kill(T.store, "KILLME"), 0);
    expect_refused(rich, "KILLME", T0, CAT_REDEEM_UNAVAILABLE);
    assert_int_equal(cat_item_revive(T.store, "KILLME"), 0);
    /* the kill switch shared in Redis, seen by the reserve script */
    RCMD("SET cat:{PLAIN}:k 1");
    expect_refused(rich, "PLAIN", T0, CAT_REDEEM_UNAVAILABLE);
    RCMD("DEL cat:{PLAIN}:k");
    struct cat_redeem_result closed = redeem(rich, "PLAIN", NULL, "thu", T0 + DAY);
    assert_int_equal(closed.outcome, CAT_REDEEM_CLOSED);
    assert_int_equal(closed.next_open, NEXT_WED_0000);
    expect_refused(poor, "PLAIN", T0, CAT_REDEEM_BALANCE);
    expect_refused(rich, "GOLDONLY", T0, CAT_REDEEM_TIER);
    expect_refused(blocked, "PLAIN", T0, CAT_REDEEM_BLOCKED);
    expect_refused(neg, "PLAIN", T0, CAT_REDEEM_NEGATIVE);
    assert_int_equal(redeem(lim, "LIM", NULL, "one", T0).outcome, CAT_REDEEM_GRANTED);
    expect_refused(lim, "LIM", T0, CAT_REDEEM_LIMIT);

    /* price integrity: a price that is not the one of the version shown */
    struct cat_catalog *c = cat_store_current(T.store);
    struct cat_redeem_request rq = {.msisdn = rich,
                                    .version = cat_catalog_version(c),
                                    .item_id = "PLAIN",
                                    .price = 1,
                                    .rid_source = "cheap",
                                    .now = T0};
    static struct rres pr;
    memset(&pr, 0, sizeof(pr));
    assert_int_equal(cat_redeem_confirm(T.rd, &rq, rres_cb, &pr), 0);
    cat_catalog_unref(c);
    assert_true(wait_count(&pr.done, 1, 5000));
    assert_int_equal(pr.res.outcome, CAT_REDEEM_PRICE_MISMATCH);
    assert_int_equal(get_int("cat:{PLAIN}:s:%s", DAYSTR), 4);

    /* premium early opening: Tuesday 23:30 local is open for gold only */
    int64_t early = TUE_2330;
    const char *gold = "212630000006";
    seed_wallet(gold, 1000, "gold");
    expect_refused(rich, "PLAIN", early, CAT_REDEEM_CLOSED);
    assert_int_equal(redeem(gold, "PLAIN", NULL, "early", early).outcome, CAT_REDEEM_GRANTED);
}

static void test_redeem__version_in_flight__keeps_shown_price(void **state)
{
    (void)state;
    const char *m = "212635000001";
    seed_wallet(m, 1000, "standard");
    struct cat_catalog *shown = cat_store_current(T.store); /* the menu's reference */
    assert_int_equal(build_catalog("it.2", 60), 0);         /* RUSH now costs 60 */
    struct cat_redeem_request rq = {.msisdn = m,
                                    .version = cat_catalog_version(shown),
                                    .item_id = "REF",
                                    .price = 40,
                                    .rid_source = "v1",
                                    .now = T0};
    static struct rres r;
    memset(&r, 0, sizeof(r));
    assert_int_equal(cat_redeem_confirm(T.rd, &rq, rres_cb, &r), 0);
    assert_true(wait_count(&r.done, 1, 5000));
    assert_int_equal(r.res.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(bal(m), 960);
    cat_catalog_unref(shown);
    assert_int_equal(build_catalog("it.1", 50), 0); /* back (it.1 is no longer alive) */
}

static void test_redeem__sweeper__abandoned_after_reserve_released(void **state)
{
    (void)state;
    const char *m = "212640000001";
    char rid[CAT_RID_MAX];
    seed_wallet(m, 100, "standard");
    assert_int_equal(cat_redeem_rid(m, "SWEEP1", DAYNUM, "crash-1", rid, sizeof(rid)), 0);
    /* the gateway reserved, then died */
    const char *a[] = {dkey("cat:{SWEEP1}:s:"),
                       dkey("cat:{SWEEP1}:r:"),
                       "cat:{SWEEP1}:z",
                       "cat:{SWEEP1}:k",
                       dkey("cat:{SWEEP1}:n:"),
                       "RESERVE",
                       rid,
                       T0S,
                       "10",
                       "20",
                       "it.1",
                       "691200",
                       "0"};
    script(T.s_item, 5, 13, a);
    assert_string_equal(cap.str, "ok\n9");

    static struct sweep_res sw;
    memset(&sw, 0, sizeof(sw));
    /* not yet old enough: untouched */
    assert_int_equal(cat_redeem_sweep(T.rd, T0 + 5, NULL, NULL), 0);
    for (int i = 0; i < 20; i++)
        event_base_loop(T.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    int64_t end = gw_clock_mono_ms() + 2000;
    while (gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    assert_int_equal(get_int("cat:{SWEEP1}:s:%s", DAYSTR), 9);
    assert_int_equal(cat_redeem_sweep(T.rd, T0 + 31, sweep_cb, &sw), 0);
    assert_true(wait_count(&sw.done, 1, 10000));
    assert_int_equal(sw.err, 0);
    assert_int_equal(sw.st.released, 1);
    assert_int_equal(get_int("cat:{SWEEP1}:s:%s", DAYSTR), 10);
    const char *rec = record(m, rid);
    assert_non_null(rec);
    assert_true(rec[0] == 'T');
    /* the late debit of the crashed gateway now refuses: no points taken for a released unit */
    const char *d[] = {"lg:{212640000001}:w",
                       "lg:{212640000001}:h",
                       "lg:{212640000001}:g",
                       "DEBIT",
                       rid,
                       T0S100,
                       "50",
                       "7776000",
                       "20",
                       "it.1",
                       "0",
                       "",
                       "",
                       "0",
                       "1",
                       "standard",
                       "0",
                       "0"};
    script(T.s_sub, 3, 18, d);
    assert_string_equal(cap.str, "abandoned");
    assert_int_equal(bal(m), 100);
}

static struct sweep_res sw2;

static void test_redeem__sweeper__abandoned_after_debit_confirmed_and_queued(void **state)
{
    (void)state;
    const char *m = "212640000002";
    char rid[CAT_RID_MAX];
    seed_wallet(m, 100, "standard");
    assert_int_equal(cat_redeem_rid(m, "SWEEP1", DAYNUM, "crash-2", rid, sizeof(rid)), 0);
    const char *a[] = {dkey("cat:{SWEEP1}:s:"),
                       dkey("cat:{SWEEP1}:r:"),
                       "cat:{SWEEP1}:z",
                       "cat:{SWEEP1}:k",
                       dkey("cat:{SWEEP1}:n:"),
                       "RESERVE",
                       rid,
                       T0S,
                       "10",
                       "20",
                       "it.1",
                       "691200",
                       "0"};
    script(T.s_item, 5, 13, a);
    const char *d[] = {"lg:{212640000002}:w",
                       "lg:{212640000002}:h",
                       "lg:{212640000002}:g",
                       "DEBIT",
                       rid,
                       T0S,
                       "50",
                       "7776000",
                       "20",
                       "it.1",
                       "0",
                       "",
                       "",
                       "0",
                       "1",
                       "standard",
                       "0",
                       "0"};
    script(T.s_sub, 3, 18, d);
    assert_string_equal(cap.str, "paid\n80");
    long long stock = get_int("cat:{SWEEP1}:s:%s", DAYSTR);
    int xs = stream_count("SWEEP1", NULL, 0);

    memset(&sw2, 0, sizeof(sw2));
    assert_int_equal(cat_redeem_sweep(T.rd, T0 + 31, sweep_cb, &sw2), 0);
    assert_true(wait_count(&sw2.done, 1, 10000));
    assert_int_equal(sw2.st.confirmed, 1);
    assert_int_equal(get_int("cat:{SWEEP1}:s:%s", DAYSTR), stock); /* the unit stays taken */
    assert_int_equal(stream_count("SWEEP1", NULL, 0), xs + 1);
    const char *rec = record(m, rid);
    assert_non_null(rec);
    assert_true(rec[0] == 'Q');
    assert_int_equal(bal(m), 80);
    RCMD("HGET cat:{SWEEP1}:r:%s %s", DAYSTR, rid);
    assert_true(cap.str[0] == 'q');
    /* the gateway comes back and retries the confirm: nothing more happens */
    struct cat_redeem_result r = redeem(m, "SWEEP1", NULL, "crash-2", T0 + 40);
    assert_int_equal(r.outcome, CAT_REDEEM_DUPLICATE);
    assert_int_equal(bal(m), 80);
    assert_int_equal(stream_count("SWEEP1", NULL, 0), xs + 1);
}

static void test_redeem__refund__restores_points_and_stock_once(void **state)
{
    (void)state;
    const char *m = "212650000001";
    seed_wallet(m, 100, "standard");
    struct cat_redeem_result g = redeem(m, "REF", NULL, "refund-me", T0);
    assert_int_equal(g.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(bal(m), 60);
    long long stock = get_int("cat:{REF}:s:%s", DAYSTR);

    static struct tres t;
    memset(&t, 0, sizeof(t));
    assert_int_equal(
        cat_redeem_refund(T.rd, g.rid, "http 422: unknown|msisdn\n", T0 + 60, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_DONE);
    assert_int_equal(bal(m), 100);
    assert_int_equal(get_int("cat:{REF}:s:%s", DAYSTR), stock + 1);
    assert_int_equal(lot_pts(m, DAYNUM), 40); /* the points come back in a lot dated today */
    const char *rec = record(m, g.rid);
    assert_non_null(rec);
    assert_true(rec[0] == 'R');
    assert_non_null(strstr(rec, "http 422: unknown?msisdn?"));
    char line[512];
    hist_newest(m, line, sizeof(line));
    assert_non_null(strstr(line, "|REFUND|#"));
    /* the item by its id in lg:rules, the provider's reason (free text) from the note field N */
    assert_non_null(strstr(line, "|+40||refund REF: http 422: unknown?msisdn?"));

    memset(&t, 0, sizeof(t));
    assert_int_equal(cat_redeem_refund(T.rd, g.rid, "again", T0 + 61, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_ALREADY);
    assert_int_equal(bal(m), 100);
    assert_int_equal(get_int("cat:{REF}:s:%s", DAYSTR), stock + 1);
    memset(&t, 0, sizeof(t));
    assert_int_equal(cat_redeem_mark_fulfilled(T.rd, g.rid, "X1", T0 + 62, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_CONFLICT);

    /* fulfilled: done once, then already; a refund after it is refused */
    struct cat_redeem_result g2 = redeem(m, "REF", NULL, "fulfil-me", T0);
    assert_int_equal(g2.outcome, CAT_REDEEM_GRANTED);
    memset(&t, 0, sizeof(t));
    assert_int_equal(cat_redeem_mark_fulfilled(T.rd, g2.rid, "PRV-77", T0 + 70, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_DONE);
    memset(&t, 0, sizeof(t));
    assert_int_equal(cat_redeem_mark_fulfilled(T.rd, g2.rid, "PRV-77", T0 + 71, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_ALREADY);
    memset(&t, 0, sizeof(t));
    assert_int_equal(cat_redeem_refund(T.rd, g2.rid, "late", T0 + 72, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_CONFLICT);
    assert_int_equal(bal(m), 60);
    rec = record(m, g2.rid);
    assert_true(rec[0] == 'F');
    assert_non_null(strstr(rec, "|PRV-77|"));
    /* a bad reference never reaches Redis */
    assert_int_equal(cat_redeem_mark_fulfilled(T.rd, g2.rid, "a b", T0, tres_cb, &t), -EINVAL);
    /* unknown rid */
    memset(&t, 0, sizeof(t));
    char unknown[CAT_RID_MAX];
    snprintf(unknown, sizeof(unknown), "212650000009:REF:%s:abc", DAYSTR);
    assert_int_equal(cat_redeem_refund(T.rd, unknown, "x", T0, tres_cb, &t), 0);
    assert_int_equal(wait_tr(&t), CAT_TR_UNKNOWN);
}

struct lres {
    int done;
    int err;
    size_t added;
};

static void lres_cb(void *arg, int err, size_t added)
{
    struct lres *l = arg;
    l->done++;
    l->err = err;
    l->added = added;
}

static void test_redeem__voucher_codes__each_handed_out_once_under_concurrency(void **state)
{
    (void)state;
    enum { CODES = 50, SUBS = 200 };
    char csv[CODES * 24], m[32], src[32];
    size_t off = 0;
    for (int i = 0; i < CODES; i++)
        off += (size_t)snprintf(csv + off, sizeof(csv) - off, "CODE-%04d\n", i);
    struct cat_voucher_pool *p = NULL;
    char err[128];
    assert_int_equal(cat_voucher_pool_parse(csv, off, "PVTEST", 0, &p, err, sizeof(err)), 0);
    static struct lres l;
    memset(&l, 0, sizeof(l));
    assert_int_equal(cat_redeem_pool_load(T.rd, p, lres_cb, &l), 0);
    assert_true(wait_count(&l.done, 1, 10000));
    assert_int_equal(l.err, 0);
    assert_int_equal(l.added, CODES);
    memset(&l, 0, sizeof(l)); /* a reload adds nothing */
    assert_int_equal(cat_redeem_pool_load(T.rd, p, lres_cb, &l), 0);
    assert_true(wait_count(&l.done, 1, 10000));
    assert_int_equal(l.added, 0);
    cat_voucher_pool_free(p);

    static struct rres r[SUBS];
    for (int s = 0; s < SUBS; s++) {
        snprintf(m, sizeof(m), "2126600%05d", s);
        seed_wallet(m, s < 10 ? 2 : 100, "standard"); /* the first 10 cannot pay */
    }
    for (int s = 0; s < SUBS; s++) {
        snprintf(m, sizeof(m), "2126600%05d", s);
        snprintf(src, sizeof(src), "v%d", s);
        assert_int_equal(redeem_start(m, "VOUCH", NULL, src, T0, &r[s]), 0);
    }
    int granted = 0, none = 0, poor = 0;
    for (int s = 0; s < SUBS; s++) {
        assert_true(wait_count(&r[s].done, 1, 30000));
        assert_int_equal(r[s].err, 0);
        if (r[s].res.outcome == CAT_REDEEM_GRANTED) {
            granted++;
            assert_true(strncmp(r[s].res.code, "CODE-", 5) == 0);
            for (int o = 0; o < s; o++)
                if (r[o].res.outcome == CAT_REDEEM_GRANTED)
                    assert_string_not_equal(r[o].res.code, r[s].res.code);
        } else if (r[s].res.outcome == CAT_REDEEM_NO_CODE)
            none++;
        else if (r[s].res.outcome == CAT_REDEEM_BALANCE)
            poor++;
        else
            fail_msg("unexpected %s", cat_redeem_outcome_name(r[s].res.outcome));
    }
    printf("# vouchers: granted %d, no code %d, balance %d\n", granted, none, poor);
    assert_int_equal(poor, 10);
    assert_int_equal(granted + none + poor, SUBS);
    /* A code claimed for a debit that then refused went back to the queue (it was never
     * shown); the others that asked meanwhile found the queue empty. So: every code is either
     * handed out with a grant or back in the queue, never both, never twice. */
    RCMD("LLEN cat:{pool:PVTEST}:q");
    long long left = cap.integer;
    assert_int_equal(granted + left, CODES);
    assert_true(granted >= CODES - 10);
    RCMD("HLEN cat:{pool:PVTEST}:given");
    assert_int_equal(cap.integer, granted);
    static char codes[CODES * 16];
    assert_int_equal(stream_count("VOUCH", codes, sizeof(codes)), granted);
    /* the codes left are handed out to the next ones */
    for (long long i = 0; i < left; i++) {
        snprintf(m, sizeof(m), "2126600%05d", 100 + (int)i);
        snprintf(src, sizeof(src), "again%lld", i);
        assert_int_equal(redeem(m, "VOUCH", NULL, src, T0).outcome, CAT_REDEEM_GRANTED);
    }
    assert_int_equal(stream_count("VOUCH", codes, sizeof(codes)), CODES);
    assert_int_equal(redeem(m, "VOUCH", NULL, "one-more", T0).outcome, CAT_REDEEM_NO_CODE);
}

static void test_redeem__gifting__premium_only_and_recorded(void **state)
{
    (void)state;
    const char *gold = "212670000001", *std = "212670000002";
    seed_wallet(gold, 100, "gold");
    seed_wallet(std, 100, "standard");
    struct cat_redeem_result r = redeem(gold, "GIFT", "212670000099", "g1", T0);
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    const char *rec = record(gold, r.rid);
    assert_non_null(strstr(rec, "|212670000099|"));
    expect_refused_to(std, "GIFT", "212670000099", T0, CAT_REDEEM_GIFT_REFUSED);
    expect_refused_to(gold, "GIFT", gold, T0, CAT_REDEEM_GIFT_REFUSED);     /* to oneself */
    expect_refused_to(gold, "GIFT", "21267x", T0, CAT_REDEEM_GIFT_REFUSED); /* not a number */
}

static void test_redeem__charity__total_counted_once(void **state)
{
    (void)state;
    const char *m = "212680000001";
    seed_wallet(m, 100, "standard");
    struct cat_redeem_result r = redeem(m, "CHAR", NULL, "c1", T0);
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    static struct tres t;
    for (int i = 0; i < 2; i++) {
        memset(&t, 0, sizeof(t));
        assert_int_equal(cat_redeem_charity_add(T.rd, r.rid, "FOOD_BANK", 25, T0, tres_cb, &t), 0);
        assert_int_equal(wait_tr(&t), i == 0 ? CAT_TR_DONE : CAT_TR_ALREADY);
    }
    RCMD("HGET cat:{cause:FOOD_BANK} total");
    assert_string_equal(cap.str, "25");
}

/* Points past their validity are never spent, even before the expiry job removed them: they
 * do not count toward the price and the spend takes from the lots still valid. */
static void test_redeem__expired_lots__never_spent(void **state)
{
    (void)state;
    const char *m = "212640000777";
    char key[40], old_lot[16], new_lot[16];
    struct cat_redeem_config cfg = T.cfg;
    int32_t today = DAYNUM; /* T0's local day */

    snprintf(old_lot, sizeof(old_lot), "%08d", (int)gw_days_add(today, -40));
    snprintf(new_lot, sizeof(new_lot), "%08d", (int)gw_days_add(today, -5));
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    RCMD("HSET %s bal 60 life 60 tier standard l:%s 40 l:%s 20", key, old_lot, new_lot);
    cfg.validity_days = 30; /* the old lot's last day was 10 days ago */
    cat_redeem_set_config(T.rd, &cfg);

    char before[2048], after[2048];
    wallet_dump(m, before, sizeof(before));
    struct cat_redeem_result r = redeem(m, "REF", NULL, "exp:1", T0); /* 40 points */
    assert_int_equal(r.outcome, CAT_REDEEM_BALANCE);
    assert_int_equal(r.balance, 20); /* what may still be spent */
    wallet_dump(m, after, sizeof(after));
    assert_string_equal(before, after);

    r = redeem(m, "PLAIN", NULL, "exp:2", T0); /* 10 points: from the valid lot */
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(lot_pts(m, atoi(old_lot)), 40); /* folded into L by the spend */
    assert_int_equal(lot_pts(m, atoi(new_lot)), 10);
    assert_int_equal(bal(m), 50);

    /* without a validity the same old lot would be spendable */
    cat_redeem_set_config(T.rd, &T.cfg);
    r = redeem(m, "REF", NULL, "exp:3", T0);
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(bal(m), 10);
}

/* A wallet of the upgrade: a lot field l:<day> of the release before between two lots of the
 * packed field L. The spend takes the oldest first across both, and folds the old field into L. */
static void test_redeem__old_and_packed_lots__oldest_first(void **state)
{
    (void)state;
    const char *m = "212640000778";
    const int32_t days[2] = {DAY_OLD, DAYNUM};
    const uint32_t pts[2] = {30, 50};
    unsigned char l[2 * GW_LOTS_REC_MAX];
    size_t len = 0;

    for (int i = 0; i < 2; i++) /* as core/lua/wallet_lots.lua packs them */
        assert_int_equal(gw_lots_put(l, sizeof(l), &len, days[i], pts[i]), 0);
    RCMD("HSET lg:{%s}:w bal 100 life 100 tier standard %s 20 L %b", m, LOT_NEW, l, len);
    struct cat_redeem_result r = redeem(m, "REF", NULL, "mix:1", T0); /* 40 points */
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(bal(m), 60);
    assert_int_equal(lot_pts(m, DAY_OLD), 0);  /* 30: the oldest, in L */
    assert_int_equal(lot_pts(m, DAY_NEW), 10); /* 10 of the old field's 20, now in L */
    assert_int_equal(lot_pts(m, DAYNUM), 50);
    RCMD("HEXISTS lg:{%s}:w %s", m, LOT_NEW);
    assert_int_equal(cap.integer, 0);
}

/* The first MSISDN 2126900NNNNN (NNNNN from `from`, below from + 100) in cohort k of 4. */
static void member_of_cohort(unsigned k, unsigned from, char *out, size_t cap_)
{
    for (unsigned i = from; i < from + 100; i++) {
        snprintf(out, cap_, "2126900%05u", i);
        if (cat_cohort(out, 4) == k)
            return;
    }
    fail_msg("no member of cohort %u", k);
}

/* Staggered opening (4 cohorts over 60 minutes from the regular opening, Wednesday 00:00 local):
 * with the injected "now", a member of the last cohort is refused before 00:45 with their slot
 * and nothing taken (stock, wallet, stream), served from 00:45; first-cohort members are served
 * at 00:10 up to their cohort's tranche of the stock; during gold's early opening the stagger
 * does not apply. */
static void test_redeem__staggered_opening__later_cohort_refused_until_its_slot(void **state)
{
    (void)state;
    char first[16], first2[16], first3[16], last[16], gold[16];
    member_of_cohort(0, 0, first, sizeof(first));
    member_of_cohort(0, 100, first2, sizeof(first2));
    member_of_cohort(0, 200, first3, sizeof(first3));
    member_of_cohort(3, 0, last, sizeof(last));
    member_of_cohort(3, 500, gold, sizeof(gold));
    seed_wallet(first, 100, "standard");
    seed_wallet(first2, 100, "standard");
    seed_wallet(first3, 100, "standard");
    seed_wallet(last, 100, "standard");
    seed_wallet(gold, 100, "gold");
    int64_t slot = WED_0000 + 45 * 60;

    assert_int_equal(redeem(first, "STAG", NULL, "s1", WED_0000 + 10 * 60).outcome,
                     CAT_REDEEM_GRANTED);
    assert_int_equal(get_int("cat:{STAG}:s:%s", DAYSTR), 9);
    /* the stock comes in tranches: with one cohort of four in, 10 - 10 * 1 / 4 = 8 stay held */
    assert_int_equal(redeem(first2, "STAG", NULL, "s1", WED_0000 + 10 * 60).outcome,
                     CAT_REDEEM_GRANTED);
    expect_refused(first3, "STAG", WED_0000 + 10 * 60, CAT_REDEEM_OUT_OF_STOCK);
    assert_int_equal(get_int("cat:{STAG}:s:%s", DAYSTR), 8);
    expect_refused(last, "STAG", WED_0000 + 10 * 60, CAT_REDEEM_NOT_RELEASED);
    expect_refused(last, "STAG", slot - 1, CAT_REDEEM_NOT_RELEASED);
    struct cat_redeem_result r = redeem(last, "STAG", NULL, "s2", slot - 1);
    assert_int_equal(r.outcome, CAT_REDEEM_NOT_RELEASED);
    assert_int_equal(r.next_open, slot); /* the member is told their slot */
    assert_int_equal(bal(last), 100);
    /* the same confirmation, asked again at the slot: served */
    r = redeem(last, "STAG", NULL, "s2", slot);
    assert_int_equal(r.outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(bal(last), 90);
    assert_int_equal(get_int("cat:{STAG}:s:%s", DAYSTR), 7);
    /* gold's early opening (Tuesday 23:30 local) is not staggered */
    assert_int_equal(redeem(gold, "STAG", NULL, "s3", TUE_2330).outcome, CAT_REDEEM_GRANTED);
    assert_int_equal(get_int("cat:{STAG}:s:%s", DAYSTR), 6);
}

int main(void)
{
    gw_log_set_level(GW_LOG_ERROR);
    if (getenv("LGW_VERBOSE"))
        gw_log_set_level(GW_LOG_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redeem__rush_3000_by_1000__exactly_stock_granted),
        cmocka_unit_test(test_redeem__same_confirm_retried__redeems_once),
        cmocka_unit_test(test_redeem__refusals__no_side_effects),
        cmocka_unit_test(test_redeem__version_in_flight__keeps_shown_price),
        cmocka_unit_test(test_redeem__sweeper__abandoned_after_reserve_released),
        cmocka_unit_test(test_redeem__sweeper__abandoned_after_debit_confirmed_and_queued),
        cmocka_unit_test(test_redeem__refund__restores_points_and_stock_once),
        cmocka_unit_test(test_redeem__voucher_codes__each_handed_out_once_under_concurrency),
        cmocka_unit_test(test_redeem__gifting__premium_only_and_recorded),
        cmocka_unit_test(test_redeem__charity__total_counted_once),
        cmocka_unit_test(test_redeem__expired_lots__never_spent),
        cmocka_unit_test(test_redeem__old_and_packed_lots__oldest_first),
        cmocka_unit_test(test_redeem__staggered_opening__later_cohort_refused_until_its_slot),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

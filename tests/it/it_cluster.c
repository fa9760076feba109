/*
 * it_cluster.c - integration driver for gw_redis in Redis Cluster mode and the ledger on top of it,
 * against a real 3-master cluster on loopback (started by test_cluster.sh with lib.sh's
 * start_redis_cluster). cmocka cases drive the libevent loop until each callback fired; the cases
 * administer the cluster (slot migration, CLIENT PAUSE, killing a master) through synchronous
 * hiredis connections of their own, between turns of the loop, so requests are really in flight.
 *
 * Env: LGW_CLUSTER_NODES = the seeds as a JSON array of "host:port" (what redis.cluster_nodes
 * takes); LGW_CLUSTER_PORTS = the masters' ports, space-separated. `it_cluster measure` runs only
 * the throughput measurement, against the cluster or, with LGW_REDIS_SOCK (unix socket) or
 * LGW_REDIS_PORT (127.0.0.1) set, a single Redis
 * (LGW_BENCH_SUBS subscribers x 3 commits, 256 in flight; prints a MEASURE line).
 *
 * Ownership: one event_base, cluster client and ledger for the run (group setup/teardown) and one
 * admin connection per master; cases that need other settings create and free their own client.
 * The killing case runs last: it leaves one master dead.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_ledger.h"
#include "gw_redis.h"

/* The events' time and the commits' "now": yesterday 10:00 UTC by the real clock, which Redis
 * counts the refs' expiry against (the loyalty table here is in UTC). Set in client_setup. */
static int64_t T0;
#define NMASTERS 3

static struct {
    struct event_base *base;
    struct event *tick;
    struct gw_redis_config rcfg;
    struct gw_redis *redis;
    struct gw_ledger *ledger;
    struct gw_ledger_config lcfg;
    struct gw_loyalty tbl;
    int ports[NMASTERS];
    redisContext *adm[NMASTERS];
    int ups, downs;
} T;

/* ---------------------------------------------------------------- loop helpers */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static bool wait_for(const bool *flag, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (!*flag && gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    return *flag;
}

static void run_for(int ms)
{
    bool never = false;
    (void)wait_for(&never, ms);
}

static bool wait_connected(struct gw_redis *r, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (!gw_redis_is_connected(r) && gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    return gw_redis_is_connected(r);
}

/* ---------------------------------------------------------------- admin (synchronous) */

static redisReply *acmd(int m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(T.adm[m], fmt, ap);
    va_end(ap);
    assert_non_null(r);
    return r;
}

static void acmd_ok(int m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(T.adm[m], fmt, ap);
    va_end(ap);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("master %d: %s", m, r->str);
    freeReplyObject(r);
}

static long long acmd_int(int m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(T.adm[m], fmt, ap);
    va_end(ap);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_INTEGER);
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

static void node_id(int m, char out[48])
{
    redisReply *r = acmd(m, "CLUSTER MYID");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    snprintf(out, 48, "%s", r->str);
    freeReplyObject(r);
}

/* The master (index into T.ports) that owns slot, as master 0 sees the cluster. */
static int owner_of(unsigned slot)
{
    redisReply *r = acmd(0, "CLUSTER SLOTS");
    int owner = -1;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if ((long long)slot >= e->element[0]->integer &&
            (long long)slot <= e->element[1]->integer) {
            for (int m = 0; m < NMASTERS; m++) {
                if (e->element[2]->element[1]->integer == T.ports[m])
                    owner = m;
            }
        }
    }
    freeReplyObject(r);
    return owner;
}

/* Moves one subscriber's keys (all three at once unless only_w) to master `to`. */
static void migrate_sub(int from, int to, const char *msisdn, bool only_w)
{
    char w[40], rr[40], h[40];
    snprintf(w, sizeof(w), "lg:{%s}:w", msisdn);
    snprintf(rr, sizeof(rr), "lg:{%s}:r", msisdn);
    snprintf(h, sizeof(h), "lg:{%s}:h", msisdn);
    redisReply *r =
        only_w
            ? acmd(from, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s", T.ports[to], "", w)
            : acmd(from, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s %s %s", T.ports[to], "", w, rr, h);
    if (r->type == REDIS_REPLY_ERROR)
        fail_msg("MIGRATE: %s", r->str);
    freeReplyObject(r);
}

/* The slot's shared keys - those of no one subscriber: the per-slot aggregates lg:ag:{tag}:*,
 * due sets - written in the same script as each subscriber's commit (docs/data-model.md 6). A
 * resharding tool moves them in some batch of the slot's keys; here they go with the first
 * subscriber. Until a subscriber's keys and these are on one side, its commits answer TRYAGAIN. */
static void migrate_slot_shared(int from, int to, unsigned slot)
{
    redisReply *keys = acmd(from, "CLUSTER GETKEYSINSLOT %u 1000", slot);
    if (keys->type != REDIS_REPLY_ARRAY)
        fail_msg("GETKEYSINSLOT: %s", keys->type == REDIS_REPLY_ERROR ? keys->str : "?");
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        if (strncmp(k, "lg:{", 4) == 0)
            continue; /* a subscriber's own */
        redisReply *r = acmd(from, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s", T.ports[to], "", k);
        if (r->type == REDIS_REPLY_ERROR)
            fail_msg("MIGRATE %s: %s", k, r->str);
        freeReplyObject(r);
    }
    freeReplyObject(keys);
}

/* MSISDNs whose keys hash to `slot` (brute force: one in 16384 does). */
static void subs_in_slot(unsigned slot, int n, char out[][16])
{
    int got = 0;
    for (int i = 0; got < n && i < 100000000; i++) {
        char m[16];
        snprintf(m, sizeof(m), "2126%08d", i);
        if (gw_redis_key_slot(m, strlen(m)) == slot)
            snprintf(out[got++], 16, "%s", m);
    }
    assert_int_equal(got, n);
}

/* ---------------------------------------------------------------- async helpers */

struct rcap {
    bool done;
    int calls;
    int err;
    int type;
    long long integer;
    char str[512];
};

static void rcap_cb(void *arg, int err, const struct redisReply *r)
{
    struct rcap *c = arg;
    c->calls++;
    c->done = true;
    c->err = err;
    if (!r)
        return;
    c->type = r->type;
    c->integer = r->integer;
    if (r->str)
        snprintf(c->str, sizeof(c->str), "%.*s", (int)r->len, r->str);
}

#define RCMD(cap, ...)                                                                             \
    do {                                                                                           \
        memset((cap), 0, sizeof(*(cap)));                                                          \
        assert_int_equal(gw_redis_commandf(T.redis, rcap_cb, (cap), __VA_ARGS__), 0);              \
        assert_true(wait_for(&(cap)->done, 6000));                                                 \
        assert_int_equal((cap)->calls, 1);                                                         \
        assert_int_equal((cap)->err, 0);                                                           \
    } while (0)

static long long bal(const char *msisdn)
{
    struct rcap c;
    RCMD(&c, "HGET lg:{%s}:w bal", msisdn);
    return c.type == REDIS_REPLY_NIL ? 0 : strtoll(c.str, NULL, 10);
}

struct cwait {
    bool done;
    int calls;
    int err;
    struct gw_commit_result res;
};

static void commit_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct cwait *w = arg;
    w->calls++;
    w->done = true;
    w->err = err;
    if (res)
        w->res = *res;
}

static void fill_event(struct gw_event *ev, struct gw_earn *earn, const char *msisdn,
                       const char *ref, int64_t milli)
{
    memset(ev, 0, sizeof(*ev));
    memset(earn, 0, sizeof(*earn));
    ev->kind = GW_EV_TOPUP;
    snprintf(ev->ref, sizeof(ev->ref), "%s", ref);
    snprintf(ev->msisdn, sizeof(ev->msisdn), "%s", msisdn);
    ev->at = T0;
    earn->milli = milli;
    earn->whole = milli / 1000;
    earn->frac_num = milli % 1000;
    earn->frac_den = 1000;
    earn->season_pct = earn->promo_pct = 100;
    snprintf(earn->rule, sizeof(earn->rule), "%s", "TOPUP 1/10 MAD");
}

static int commit_async(struct gw_ledger *l, const char *msisdn, const char *ref, int64_t milli,
                        struct cwait *w)
{
    struct gw_event ev;
    struct gw_earn earn;
    memset(w, 0, sizeof(*w));
    fill_event(&ev, &earn, msisdn, ref, milli);
    return gw_ledger_commit(l, &ev, &earn, T0 + 60, commit_cb, w);
}

static struct gw_commit_result commit_ok(const char *msisdn, const char *ref, int64_t milli)
{
    struct cwait w;
    assert_int_equal(commit_async(T.ledger, msisdn, ref, milli, &w), 0);
    assert_true(wait_for(&w.done, 6000));
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.err, 0);
    return w.res;
}

static bool all_done(const struct cwait *w, int n, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        for (int i = 0; i < n && all; i++)
            all = w[i].done;
        if (all)
            return true;
        if (gw_clock_mono_ms() >= end)
            return false;
        event_base_loop(T.base, EVLOOP_ONCE);
    }
}

static void table_default(struct gw_loyalty *t)
{
    memset(t, 0, sizeof(*t));
    t->n_tiers = 1;
    snprintf(t->tiers[0].name, sizeof(t->tiers[0].name), "%s", "standard");
    t->tiers[0].pct = 100;
    snprintf(t->timezone, sizeof(t->timezone), "%s", "UTC");
}

static void on_state(void *arg, bool up)
{
    (void)arg;
    if (up)
        T.ups++;
    else
        T.downs++;
}

/* ---------------------------------------------------------------- fixtures */

/* LGW_CLUSTER_NODES '["127.0.0.1:1","127.0.0.1:2"]' -> cfg->cluster_nodes */
static void parse_seeds(const char *json, struct gw_redis_config *cfg)
{
    const char *p = json;
    while (p && (p = strchr(p, '"')) && cfg->n_cluster_nodes < GW_REDIS_MAX_SEEDS) {
        const char *q = strchr(p + 1, '"');
        if (!q)
            break;
        snprintf(cfg->cluster_nodes[cfg->n_cluster_nodes++], GW_REDIS_ADDR_LEN, "%.*s",
                 (int)(q - p - 1), p + 1);
        p = q + 1;
    }
}

static int client_setup(bool cluster_only)
{
    T0 = ((int64_t)time(NULL) / 86400 - 1) * 86400 + 10 * 3600;
    const char *seeds = getenv("LGW_CLUSTER_NODES");
    const char *sock = getenv("LGW_REDIS_SOCK");

    T.base = event_base_new();
    T.tick = event_new(T.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    event_add(T.tick, &tv);
    gw_redis_config_defaults(&T.rcfg);
    gw_redis_config_env(&T.rcfg);
    const char *port = getenv("LGW_REDIS_PORT");
    if (!cluster_only && sock && *sock)
        snprintf(T.rcfg.unix_socket, sizeof(T.rcfg.unix_socket), "%s", sock);
    else if (!cluster_only && port && *port)
        T.rcfg.port = (uint16_t)atoi(port);
    else if (seeds)
        parse_seeds(seeds, &T.rcfg);
    if (!T.rcfg.unix_socket[0] && T.rcfg.n_cluster_nodes == 0 && !(port && *port)) {
        fprintf(stderr, "it_cluster: set LGW_CLUSTER_NODES (or LGW_REDIS_SOCK for measure)\n");
        return -1;
    }
    T.rcfg.request_timeout_ms = 5000;
    T.rcfg.reconnect_min_ms = 50;
    T.rcfg.reconnect_max_ms = 300;
    T.redis = gw_redis_new(T.base, &T.rcfg);
    gw_ledger_config_defaults(&T.lcfg);
    T.lcfg.ref_index_buckets = 4096; /* a few refs per bucket key: the key counts below hold */
    table_default(&T.tbl);
    T.ledger = gw_ledger_new(T.redis, &T.lcfg, &T.tbl);
    if (!T.redis || !T.ledger)
        return -1;
    gw_redis_on_state(T.redis, on_state, NULL);
    gw_redis_start(T.redis);
    return wait_connected(T.redis, 10000) ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    const char *ports = getenv("LGW_CLUSTER_PORTS");
    int n = 0;
    for (const char *p = ports; p && *p && n < NMASTERS;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        T.ports[n++] = (int)v;
        p = end;
    }
    if (n != NMASTERS) {
        fprintf(stderr, "it_cluster: LGW_CLUSTER_PORTS must list %d ports\n", NMASTERS);
        return -1;
    }
    for (int m = 0; m < NMASTERS; m++) {
        struct timeval tv = {5, 0};
        T.adm[m] = redisConnectWithTimeout("127.0.0.1", T.ports[m], tv);
        if (!T.adm[m] || T.adm[m]->err)
            return -1;
    }
    return client_setup(true);
}

static int group_teardown(void **state)
{
    (void)state;
    gw_ledger_free(T.ledger);
    gw_redis_free(T.redis);
    event_free(T.tick);
    event_base_free(T.base);
    for (int m = 0; m < NMASTERS; m++) {
        if (T.adm[m])
            redisFree(T.adm[m]);
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    for (int m = 0; m < NMASTERS; m++) {
        redisReply *r = redisCommand(T.adm[m], "FLUSHALL");
        if (r)
            freeReplyObject(r);
    }
    return 0;
}

/* ---------------------------------------------------------------- cases */

static void test_cluster__connect__every_slot_has_a_connected_master(void **state)
{
    (void)state;
    struct gw_redis_stats st;
    gw_redis_get_stats(T.redis, &st);
    assert_true(gw_redis_is_connected(T.redis));
    assert_int_equal(st.nodes, NMASTERS);
    assert_int_equal(st.nodes_up, NMASTERS);
    assert_true(st.slot_map_loads >= 1);
    assert_int_equal(st.connects, NMASTERS);
    assert_int_equal(T.ups, 1); /* the owner hears "up" once, for the whole cluster */
    assert_int_equal(T.downs, 0);
}

struct slotcheck {
    int done, mismatches, errors;
    unsigned expect[2000];
};

static void keyslot_cb(void *arg, int err, const struct redisReply *reply)
{
    struct slotcheck *c = arg;
    (void)reply;
    if (err || reply->type != REDIS_REPLY_INTEGER)
        c->errors++;
    c->done++;
}

struct keyslot_one {
    struct slotcheck *c;
    unsigned expect;
};
static struct keyslot_one ks_args[2000];

static void keyslot_one_cb(void *arg, int err, const struct redisReply *reply)
{
    struct keyslot_one *o = arg;
    if (err == 0 && reply->type == REDIS_REPLY_INTEGER && (unsigned)reply->integer != o->expect)
        o->c->mismatches++;
    keyslot_cb(o->c, err, reply);
}

static void test_cluster__key_slot__matches_cluster_keyslot_for_2000_keys(void **state)
{
    (void)state;
    static struct slotcheck c;
    memset(&c, 0, sizeof(c));
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 2000; i++) {
        char key[64];
        size_t len;
        if (i < 1000) {
            len = (size_t)snprintf(key, sizeof(key), "lg:{2126%08d}:w", i * 7919);
        } else {
            /* random bytes with braces sprinkled in: tag rules on odd shapes */
            len = 1 + (size_t)(i % 40);
            for (size_t k = 0; k < len; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                unsigned b = (unsigned)(x >> 56);
                key[k] = (char)(b % 5 == 0 ? '{' : b % 5 == 1 ? '}' : (char)b);
            }
        }
        ks_args[i].c = &c;
        ks_args[i].expect = gw_redis_key_slot(key, len);
        const char *argv[] = {"CLUSTER", "KEYSLOT", key};
        size_t argvlen[] = {7, 7, len};
        assert_int_equal(gw_redis_command(T.redis, 3, argv, argvlen, keyslot_one_cb, &ks_args[i]),
                         0);
    }
    int64_t end = gw_clock_mono_ms() + 10000;
    while (c.done < 2000 && gw_clock_mono_ms() < end)
        event_base_loop(T.base, EVLOOP_ONCE);
    assert_int_equal(c.done, 2000);
    assert_int_equal(c.errors, 0);
    assert_int_equal(c.mismatches, 0);
}

struct flood {
    int done, errors, credited, duplicates;
    int64_t points;
};

static void flood_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct flood *f = arg;
    f->done++;
    if (err)
        f->errors++;
    else if (res->outcome == GW_COMMIT_CREDITED) {
        f->credited++;
        f->points += res->points;
    } else if (res->outcome == GW_COMMIT_DUPLICATE)
        f->duplicates++;
}

static void test_cluster__3000_commits_over_3_shards__exact_sums(void **state)
{
    (void)state;
    enum { SUBS = 600, PER = 5 };
    static struct flood f;
    memset(&f, 0, sizeof(f));
    struct gw_redis_stats before, after;
    gw_redis_get_stats(T.redis, &before);

    for (int k = 0; k < PER; k++) {
        for (int s = 0; s < SUBS; s++) {
            char m[16], ref[32];
            struct gw_event ev;
            struct gw_earn earn;
            snprintf(m, sizeof(m), "2126200%05d", s);
            snprintf(ref, sizeof(ref), "SP-%d-%d", s, k);
            fill_event(&ev, &earn, m, ref, 10000 + (s % 7) * 1000);
            assert_int_equal(gw_ledger_commit(T.ledger, &ev, &earn, T0 + 60, flood_cb, &f), 0);
        }
    }
    int64_t end = gw_clock_mono_ms() + 30000;
    while (f.done < SUBS * PER && gw_clock_mono_ms() < end)
        run_for(10);
    assert_int_equal(f.done, SUBS * PER);
    assert_int_equal(f.errors, 0);
    assert_int_equal(f.credited, SUBS * PER);
    int64_t expect = 0;
    for (int s = 0; s < SUBS; s++) {
        char m[16];
        snprintf(m, sizeof(m), "2126200%05d", s);
        assert_int_equal(bal(m), PER * (10 + s % 7));
        expect += PER * (10 + s % 7);
    }
    assert_int_equal(f.points, expect);
    /* Every master holds some of them: the load really was spread. */
    long long total = 0;
    for (int m = 0; m < NMASTERS; m++) {
        long long n = acmd_int(m, "DBSIZE");
        assert_true(n > 0);
        total += n;
    }
    /* the subscribers' wallets (history and refs are fields of it), the ref index's buckets and
     * the rule dictionary lg:rules */
    assert_true(total > SUBS && total <= SUBS + SUBS * PER + 1);
    gw_redis_get_stats(T.redis, &after);
    assert_int_equal(after.moved, before.moved); /* the map was right: no redirection */
    assert_int_equal(after.pending, 0);
}

static void test_cluster__routing__argv1_key_keyless_and_crossslot_errors(void **state)
{
    (void)state;
    struct rcap c;
    struct gw_redis_stats before, after;
    gw_redis_get_stats(T.redis, &before);

    /* argv[1] routing for the common single-key commands, keys on every master */
    for (int i = 0; i < 30; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "rt:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        const char *argv[] = {"SET", key, val};
        memset(&c, 0, sizeof(c));
        assert_int_equal(gw_redis_command(T.redis, 3, argv, NULL, rcap_cb, &c), 0);
        assert_true(wait_for(&c.done, 5000));
        assert_int_equal(c.err, 0);
        assert_string_equal(c.str, "OK");
        RCMD(&c, "GET %s", key);
        assert_string_equal(c.str, val);
    }
    RCMD(&c, "MEMORY USAGE %s", "rt:7"); /* key in argv[2] */
    assert_int_equal(c.type, REDIS_REPLY_INTEGER);
    assert_true(c.integer > 0);
    /* gw_redis_command_key: the key is not argv[1] */
    RCMD(&c, "XADD {st}:s * f 1");
    const char *xr[] = {"XREAD", "COUNT", "1", "STREAMS", "{st}:s", "0"};
    memset(&c, 0, sizeof(c));
    assert_int_equal(gw_redis_command_key(T.redis, "{st}:s", 6, 6, xr, NULL, rcap_cb, &c), 0);
    assert_true(wait_for(&c.done, 5000));
    assert_int_equal(c.err, 0);
    assert_int_equal(c.type, REDIS_REPLY_ARRAY);
    gw_redis_get_stats(T.redis, &after);
    assert_int_equal(after.moved, before.moved);
    /* keyless: any master */
    RCMD(&c, "PING");
    assert_string_equal(c.str, "PONG");
    /* keys in two slots: Redis's CROSSSLOT error is the reply (err 0) */
    RCMD(&c, "DEL %s %s", "rt:1", "rt:2");
    assert_int_equal(c.type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(c.str, "CROSSSLOT"));
    static const char lua[] = "return redis.call('GET', KEYS[1])";
    int id = gw_redis_script_add(T.redis, lua, sizeof(lua) - 1);
    assert_true(id >= 0);
    const char *keys2[] = {"rt:1", "rt:2"};
    memset(&c, 0, sizeof(c));
    assert_int_equal(gw_redis_script_run(T.redis, id, 2, 2, keys2, NULL, rcap_cb, &c), 0);
    assert_true(wait_for(&c.done, 5000));
    assert_int_equal(c.err, 0);
    assert_int_equal(c.type, REDIS_REPLY_ERROR);
    assert_non_null(strstr(c.str, "CROSSSLOT"));
    /* the same script with one key: runs where the key lives, on whichever master */
    for (int i = 0; i < 30; i++) {
        char key[32], val[32];
        snprintf(key, sizeof(key), "rt:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        const char *k1[] = {key};
        memset(&c, 0, sizeof(c));
        assert_int_equal(gw_redis_script_run(T.redis, id, 1, 1, k1, NULL, rcap_cb, &c), 0);
        assert_true(wait_for(&c.done, 5000));
        assert_int_equal(c.err, 0);
        assert_string_equal(c.str, val);
    }
    gw_redis_get_stats(T.redis, &after);
    assert_int_equal(after.moved, before.moved);
}

static void test_cluster__script_flushed_on_every_master__noscript_falls_back(void **state)
{
    (void)state;
    struct gw_redis_stats before, after;
    gw_redis_get_stats(T.redis, &before);
    for (int m = 0; m < NMASTERS; m++)
        acmd_ok(m, "SCRIPT FLUSH");
    for (int i = 0; i < 30; i++) {
        char m[16], ref[16];
        snprintf(m, sizeof(m), "2126300%05d", i);
        snprintf(ref, sizeof(ref), "NS-%d", i);
        assert_int_equal(commit_ok(m, ref, 20000).outcome, GW_COMMIT_CREDITED);
        assert_int_equal(bal(m), 20); /* 20000 milli-points */
    }
    gw_redis_get_stats(T.redis, &after);
    /* one EVAL per script (ref index, commit) and master put it back; later calls on that
     * master use EVALSHA again */
    assert_true(after.noscript_fallbacks > before.noscript_fallbacks);
    assert_true(after.noscript_fallbacks <= before.noscript_fallbacks + 2 * NMASTERS);
}

/* A slot moves from one master to another while commits for its subscribers are in flight: ASK
 * while keys are half-way, TRYAGAIN while one subscriber's keys are split, MOVED once the slot
 * belongs to the new master. No commit is lost or applied twice. */
static void
test_cluster__slot_migrated_during_load__followed_without_loss_or_duplicate(void **state)
{
    (void)state;
    enum { N = 24, ROUNDS = 6 };
    static char subs[N][16];
    static struct cwait w[N * ROUNDS * 2];
    char id_from[48], id_to[48];
    struct gw_redis_stats before, after;

    unsigned slot = gw_redis_key_slot("212600000001", 12);
    int from = owner_of(slot);
    assert_true(from >= 0);
    int to = (from + 1) % NMASTERS;
    subs_in_slot(slot, N, subs);
    node_id(from, id_from);
    node_id(to, id_to);
    gw_redis_get_stats(T.redis, &before);

    /* round 0 lands on the old master */
    for (int s = 0; s < N; s++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "MG-%.15s-0", subs[s]);
        assert_int_equal(commit_ok(subs[s], ref, 10000).outcome, GW_COMMIT_CREDITED);
    }

    acmd_ok(to, "CLUSTER SETSLOT %u IMPORTING %s", slot, id_from);
    acmd_ok(from, "CLUSTER SETSLOT %u MIGRATING %s", slot, id_to);

    /* ASK: subscriber 0's keys are already on the new master, the slot's shared keys too */
    migrate_sub(from, to, subs[0], false);
    migrate_slot_shared(from, to, slot);
    char ref[32];
    snprintf(ref, sizeof(ref), "MG-%s-1", subs[0]);
    assert_int_equal(commit_ok(subs[0], ref, 10000).outcome, GW_COMMIT_CREDITED);
    gw_redis_get_stats(T.redis, &after);
    assert_true(after.asked > before.asked);

    /* Subscriber 1's wallet moved, the keys of the release before (refs hash, history list) not
     * yet: the commit declares only the wallet (history and refs are fields of it), so it runs on
     * the new master at once (ASK) instead of TRYAGAIN until the rest follows. */
    migrate_sub(from, to, subs[1], true);
    struct cwait tw;
    snprintf(ref, sizeof(ref), "MG-%s-1", subs[1]);
    assert_int_equal(commit_async(T.ledger, subs[1], ref, 10000, &tw), 0);
    char rk[40], hk[40];
    snprintf(rk, sizeof(rk), "lg:{%s}:r", subs[1]);
    snprintf(hk, sizeof(hk), "lg:{%s}:h", subs[1]);
    redisReply *mr =
        acmd(from, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s %s", T.ports[to], "", rk, hk);
    assert_int_not_equal(mr->type, REDIS_REPLY_ERROR);
    freeReplyObject(mr);
    assert_true(wait_for(&tw.done, 5000));
    assert_int_equal(tw.calls, 1);
    assert_int_equal(tw.err, 0);
    assert_int_equal(tw.res.outcome, GW_COMMIT_CREDITED);

    /* Load: every round commits every subscriber again (new ref) and re-sends the previous
     * round's ref (a redelivery), while one more subscriber moves between loop turns. */
    int nw = 0, moved_subs = 2;
    for (int round = 2; round < 2 + ROUNDS; round++) {
        for (int s = 0; s < N; s++) {
            snprintf(ref, sizeof(ref), "MG-%s-%d", subs[s], round);
            assert_int_equal(commit_async(T.ledger, subs[s], ref, 10000, &w[nw++]), 0);
            snprintf(ref, sizeof(ref), "MG-%s-%d", subs[s], round - 1);
            assert_int_equal(commit_async(T.ledger, subs[s], ref, 10000, &w[nw++]), 0);
            if (s % 4 == 0) {
                event_base_loop(T.base, EVLOOP_NONBLOCK);
                if (moved_subs < N)
                    migrate_sub(from, to, subs[moved_subs++], false);
            }
        }
        run_for(5);
    }
    while (moved_subs < N)
        migrate_sub(from, to, subs[moved_subs++], false);
    assert_true(all_done(w, nw, 10000));
    /* The slot now belongs to the new master; the old one answers MOVED. */
    for (int m = 0; m < NMASTERS; m++)
        acmd_ok(m, "CLUSTER SETSLOT %u NODE %s", slot, id_to);
    static struct cwait w2[N];
    for (int s = 0; s < N; s++) {
        snprintf(ref, sizeof(ref), "MG-%.15s-final", subs[s]);
        assert_int_equal(commit_async(T.ledger, subs[s], ref, 10000, &w2[s]), 0);
    }
    assert_true(all_done(w2, N, 10000));

    /* Every callback once, no error; each ref credited exactly once over all its deliveries. */
    int credited = 0, dup = 0;
    for (int i = 0; i < nw; i++) {
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(w[i].err, 0);
        credited += w[i].res.outcome == GW_COMMIT_CREDITED;
        dup += w[i].res.outcome == GW_COMMIT_DUPLICATE;
    }
    for (int s = 0; s < N; s++) {
        assert_int_equal(w2[s].calls, 1);
        assert_int_equal(w2[s].err, 0);
        assert_int_equal(w2[s].res.outcome, GW_COMMIT_CREDITED);
    }
    /* round 1 was committed for subs 0 and 1 before the load; the others get it from the
     * round-2 redelivery, which is their first delivery */
    assert_int_equal(credited, N * ROUNDS + (N - 2));
    assert_int_equal(dup, nw - credited);
    for (int s = 0; s < N; s++) {
        /* rounds 0, 1, 2..7 and final: 1 + 1 + ROUNDS + 1 refs of 10 points each */
        assert_int_equal(bal(subs[s]), 10 * (3 + ROUNDS));
        char key[40];
        snprintf(key, sizeof(key), "lg:{%.15s}:w", subs[s]);
        struct rcap c;
        RCMD(&c, "HSTRLEN %s E", key); /* the refs remembered, one 16-byte record each */
        assert_int_equal(c.integer, 16 * (3 + ROUNDS));
    }
    /* the wallet of each (the refs and the history are fields of it), and the slot's two
     * aggregate keys (the day's flows and the running totals) */
    assert_int_equal(acmd_int(to, "CLUSTER COUNTKEYSINSLOT %u", slot), N + 2);
    assert_int_equal(acmd_int(from, "CLUSTER COUNTKEYSINSLOT %u", slot), 0);
    run_for(300); /* the CLUSTER SLOTS that MOVED asked for (coalesced, 100 ms later) */
    gw_redis_get_stats(T.redis, &after);
    assert_true(after.moved > before.moved);
    assert_true(after.slot_map_loads > before.slot_map_loads);
    assert_int_equal(after.pending, 0);
    assert_true(gw_redis_is_connected(T.redis));
    printf("# migration: moved=%" PRIu64 " asked=%" PRIu64 " tryagain/clusterdown=%" PRIu64
           " slot map loads=%" PRIu64 "\n",
           after.moved - before.moved, after.asked - before.asked,
           after.retried_busy - before.retried_busy, after.slot_map_loads - before.slot_map_loads);
}

static long long server_pid(int m)
{
    redisReply *r = acmd(m, "INFO server");
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    const char *p = strstr(r->str, "process_id:");
    long long pid = p ? strtoll(p + 11, NULL, 10) : -1;
    freeReplyObject(r);
    return pid;
}

static bool cluster_state_is(int m, const char *state)
{
    redisReply *r = redisCommand(T.adm[m], "CLUSTER INFO");
    bool yes = r && r->type == REDIS_REPLY_STRING && strstr(r->str, state) != NULL;
    if (r)
        freeReplyObject(r);
    return yes;
}

/* A master dies with commits in flight and no replica to take over: those commits fail
 * -ENOTCONN, each once; its slots are refused at once (-ENOTCONN) while the others keep working;
 * with full coverage required the survivors answer CLUSTERDOWN, retried until the deadline
 * (-ETIMEDOUT), or until the cluster is back within it. */
/* A ref whose ref index bucket is NOT on master `dead`: a commit needs both its wallet's master
 * and its bucket's master (docs/data-model.md), so the survivors' commits use such refs. */
static void live_ref(char *ref, size_t cap, int m, const char *tag, int dead)
{
    char t[32];
    for (int k = 0;; k++) {
        snprintf(ref, cap, "LV-%d-%s-%d", m, tag, k);
        assert_int_equal(gw_ledger_ref_index_tag(T.ledger, ref, t, sizeof(t)), 0);
        if (owner_of(gw_redis_key_slot(t, strlen(t))) != dead)
            return;
    }
}

static void test_cluster__master_killed__its_slots_fail_others_work(void **state)
{
    (void)state;
    enum { N = 20 };
    static char dead_subs[N][16], live_subs[NMASTERS][16];
    static struct cwait w[N];
    int victim = 2;
    char ref[32];

    /* subscribers on the victim, and one on each survivor */
    int nd = 0;
    int have[NMASTERS] = {0};
    for (long i = 0; nd < N || !have[0] || !have[1]; i++) {
        char m[16];
        snprintf(m, sizeof(m), "2126400%05d", (int)(i % 100000));
        int o = owner_of(gw_redis_key_slot(m, strlen(m)));
        if (o == victim && nd < N)
            snprintf(dead_subs[nd++], 16, "%s", m);
        else if (o != victim && !have[o]) {
            snprintf(live_subs[o], 16, "%s", m);
            have[o] = 1;
        }
    }
    long long pid = server_pid(victim);
    assert_true(pid > 0);
    int downs = T.downs;

    /* Paused, so the commits are surely on the wire when it dies. */
    acmd_ok(victim, "CLIENT PAUSE 10000 ALL");
    for (int i = 0; i < N; i++) {
        snprintf(ref, sizeof(ref), "KL-%d", i);
        assert_int_equal(commit_async(T.ledger, dead_subs[i], ref, 10000, &w[i]), 0);
    }
    run_for(50);
    int64_t t0 = gw_clock_mono_ms();
    assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
    assert_true(all_done(w, N, 6000));
    int64_t took = gw_clock_mono_ms() - t0;
    for (int i = 0; i < N; i++) {
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(w[i].err, -ENOTCONN);
    }
    assert_true(took < 5000); /* not a timed assertion on speed: "within the deadline" */
    assert_false(gw_redis_is_connected(T.redis));
    assert_int_equal(T.downs, downs + 1);
    /* A new commit for a subscriber of the dead master fails: at once when its ref index bucket
     * is on the dead master too, else when step 2 is routed there. */
    struct cwait one = {0};
    int rc1 = commit_async(T.ledger, dead_subs[0], "KL-X", 10000, &one);
    if (rc1 == 0) {
        assert_true(all_done(&one, 1, 6000));
        assert_int_equal(one.err, -ENOTCONN);
    } else {
        assert_int_equal(rc1, -ENOTCONN);
    }
    for (int m = 0; m < NMASTERS; m++) {
        if (m == victim)
            continue;
        live_ref(ref, sizeof(ref), m, "a", victim);
        assert_int_equal(commit_ok(live_subs[m], ref, 10000).outcome, GW_COMMIT_CREDITED);
    }
    /* The survivors flag the dead master (node timeout 1 s) and keep serving their own slots. */
    int survivor = (victim + 1) % NMASTERS;
    int64_t end = gw_clock_mono_ms() + 10000;
    while (gw_clock_mono_ms() < end) {
        redisReply *r = acmd(survivor, "CLUSTER NODES");
        bool flagged = strstr(r->str, "fail") != NULL && strstr(r->str, "fail?") == NULL;
        freeReplyObject(r);
        if (flagged)
            break;
        run_for(100);
    }
    for (int m = 0; m < NMASTERS; m++) {
        if (m == victim)
            continue;
        live_ref(ref, sizeof(ref), m, "b", victim);
        assert_int_equal(commit_ok(live_subs[m], ref, 10000).outcome, GW_COMMIT_CREDITED);
        assert_int_equal(bal(live_subs[m]), 20);
    }

    /* CLUSTERDOWN: require full coverage; the survivors refuse everything. */
    struct gw_redis_config cfg = T.rcfg;
    cfg.request_timeout_ms = 600;
    struct gw_redis *r2 = gw_redis_new(T.base, &cfg);
    assert_non_null(r2);
    struct gw_ledger *l2 = gw_ledger_new(r2, &T.lcfg, &T.tbl);
    gw_redis_start(r2);
    end = gw_clock_mono_ms() + 5000;
    struct gw_redis_stats st;
    do {
        run_for(20);
        gw_redis_get_stats(r2, &st);
    } while (st.nodes_up < NMASTERS - 1 && gw_clock_mono_ms() < end);
    assert_int_equal(st.nodes_up, NMASTERS - 1);
    for (int m = 0; m < NMASTERS; m++) {
        if (m == victim)
            continue;
        acmd_ok(m, "CONFIG SET cluster-require-full-coverage yes");
        /* Redis re-evaluates cluster_state on a cluster change, not on CONFIG SET: re-assigning
         * a slot it already owns is such a change, and a no-op otherwise. */
        char id[48];
        node_id(m, id);
        acmd_ok(m, "CLUSTER SETSLOT %u NODE %s",
                gw_redis_key_slot(live_subs[m], strlen(live_subs[m])), id);
    }
    end = gw_clock_mono_ms() + 10000;
    while (!cluster_state_is(survivor, "cluster_state:fail") && gw_clock_mono_ms() < end)
        run_for(50);
    assert_true(cluster_state_is(survivor, "cluster_state:fail"));
    struct cwait cd;
    live_ref(ref, sizeof(ref), survivor, "cd1", victim);
    assert_int_equal(commit_async(l2, live_subs[survivor], ref, 10000, &cd), 0);
    assert_true(wait_for(&cd.done, 5000));
    assert_int_equal(cd.calls, 1);
    assert_int_equal(cd.err, -ETIMEDOUT);
    gw_redis_get_stats(r2, &st);
    assert_true(st.retried_busy > 0);

    /* Back to partial coverage while a commit is being retried: it succeeds within its deadline
     * (this client has the 5 s one). */
    struct gw_redis_stats b1;
    gw_redis_get_stats(T.redis, &b1);
    live_ref(ref, sizeof(ref), survivor, "cd2", victim);
    assert_int_equal(commit_async(T.ledger, live_subs[survivor], ref, 10000, &cd), 0);
    run_for(300);
    assert_false(cd.done);
    for (int m = 0; m < NMASTERS; m++) {
        if (m != victim)
            acmd_ok(m, "CONFIG SET cluster-require-full-coverage no");
    }
    assert_true(wait_for(&cd.done, 5000));
    assert_int_equal(cd.calls, 1);
    assert_int_equal(cd.err, 0);
    assert_int_equal(cd.res.outcome, GW_COMMIT_CREDITED);
    gw_redis_get_stats(T.redis, &st);
    assert_true(st.retried_busy > b1.retried_busy);
    assert_int_equal(bal(live_subs[survivor]), 30); /* CD-1 was never applied */

    gw_ledger_free(l2);
    gw_redis_free(r2);
}

/* ---------------------------------------------------------------- measurement */

struct bench {
    int next, total, done, errors, subs;
};

static void bench_issue(struct bench *b);

static void bench_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct bench *b = arg;
    (void)res;
    b->done++;
    if (err)
        b->errors++;
    bench_issue(b);
}

static void bench_issue(struct bench *b)
{
    if (b->next >= b->total)
        return;
    int i = b->next++;
    int sub = i % b->subs, k = i / b->subs;
    char m[16], ref[40];
    struct gw_event ev;
    struct gw_earn earn;
    snprintf(m, sizeof(m), "2127%08d", sub);
    snprintf(ref, sizeof(ref), "BN-%07d-%d", sub, k);
    fill_event(&ev, &earn, m, ref, 50000);
    if (gw_ledger_commit(T.ledger, &ev, &earn, T0 + 60, bench_cb, b) < 0) {
        b->errors++;
        b->done = b->total;
    }
}

static void test_measure__commits_per_second(void **state)
{
    (void)state;
    const char *env = getenv("LGW_BENCH_SUBS");
    int subs = env ? atoi(env) : 20000;
    if (subs <= 0)
        skip();
    struct bench b = {.total = subs * 3, .subs = subs};
    int64_t t0 = gw_clock_mono_ms();
    for (int i = 0; i < 256; i++)
        bench_issue(&b);
    while (b.done < b.total && gw_clock_mono_ms() - t0 < 600000)
        event_base_loop(T.base, EVLOOP_ONCE);
    int64_t ms = gw_clock_mono_ms() - t0;
    assert_int_equal(b.errors, 0);
    printf("MEASURE target=%s masters=%u events=%d in_flight=256 elapsed_ms=%" PRId64
           " commits_per_s=%.0f\n",
           T.rcfg.n_cluster_nodes  ? "cluster-tcp"
           : T.rcfg.unix_socket[0] ? "single-unix"
                                   : "single-tcp",
           T.rcfg.n_cluster_nodes ? NMASTERS : 1, b.total, ms,
           ms > 0 ? b.total * 1000.0 / (double)ms : 0.0);
}

static int measure_setup(void **state)
{
    (void)state;
    return client_setup(false);
}

static int measure_teardown(void **state)
{
    (void)state;
    gw_ledger_free(T.ledger);
    gw_redis_free(T.redis);
    event_free(T.tick);
    event_base_free(T.base);
    return 0;
}

int main(int argc, char **argv)
{
    /* local days here are UTC days: the programme zone is UTC until a zone is loaded */
    gw_log_set_level(GW_LOG_ERROR);
    if (getenv("LGW_VERBOSE"))
        gw_log_set_level(GW_LOG_DEBUG);

    if (argc > 1 && strcmp(argv[1], "measure") == 0) {
        const struct CMUnitTest m[] = {cmocka_unit_test(test_measure__commits_per_second)};
        return cmocka_run_group_tests(m, measure_setup, measure_teardown);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster__connect__every_slot_has_a_connected_master),
        cmocka_unit_test(test_cluster__key_slot__matches_cluster_keyslot_for_2000_keys),
        cmocka_unit_test_setup(test_cluster__3000_commits_over_3_shards__exact_sums, setup),
        cmocka_unit_test_setup(test_cluster__routing__argv1_key_keyless_and_crossslot_errors,
                               setup),
        cmocka_unit_test_setup(test_cluster__script_flushed_on_every_master__noscript_falls_back,
                               setup),
        cmocka_unit_test_setup(
            test_cluster__slot_migrated_during_load__followed_without_loss_or_duplicate, setup),
        cmocka_unit_test_setup(test_cluster__master_killed__its_slots_fail_others_work, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/*
 * it_ledger.c - integration driver for gw_redis + gw_ledger against a real redis-server
 * (started by test_ledger.sh). cmocka cases drive the libevent loop until each callback fired.
 *
 * Redis address: env LGW_REDIS_SOCK (unix socket) or LGW_REDIS_PORT (127.0.0.1), or argv[1]
 * (a path starting with '/' is a socket, else a port). LGW_TMP: a directory where the kill/restart
 * case runs its own redis-server (pid in LGW_TMP/kill-redis.pid so the script can always stop it).
 * LGW_BENCH_SUBS: subscribers in the memory/throughput measurement (default 100000; 0 skips).
 *
 * Ownership: one event_base, one client and one ledger for the whole run (group setup/teardown);
 * cases that need other settings create and free their own client.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_hist.h"
#include "gw_ledger.h"
#include "gw_lots.h"
#include "gw_redis.h"

extern char **environ;
extern const char gw_lua_commit[];
extern const size_t gw_lua_commit_len;

#define DAY INT64_C(86400)

/* The test's "now": two days before the real clock's day, 10:00 UTC. Redis counts key expiries
 * against its own (real) clock, so every time the scripts see is near it; the two days leave room
 * for cases that commit at T0 + DAY + a few hours without going past the real now. Day strings
 * and stored records are computed from it (ymd(), fmt()), never written as dates. */
static int64_t T0;

/* "YYYYMMDD" of a UTC time (the test configuration's zone is UTC). Rotating static buffers, so a
 * few may appear in one expression. */
static const char *ymd(int64_t t)
{
    static char buf[8][16];
    static unsigned n;
    char *b = buf[n++ % 8];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(b, 16, "%Y%m%d", &tm);
    return b;
}

/* printf into a rotating static buffer: expected fields and keys built from T0. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[8][128];
    static unsigned n;
    char *b = buf[n++ % 8];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, 128, f, ap);
    va_end(ap);
    return b;
}

static struct {
    struct event_base *base;
    struct event *tick;
    struct gw_redis_config rcfg;
    struct gw_redis *redis;
    struct gw_ledger *ledger;
    struct gw_ledger_config lcfg;
    struct gw_loyalty tbl;
    const char *tmp;
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

/* ---------------------------------------------------------------- redis helpers */

struct rcap {
    bool done;
    int calls;
    int err;
    int type;
    long long integer;
    size_t elements;
    size_t len;      /* a string reply's bytes (binary: the packed fields) */
    char str[16384]; /* strings; array elements joined by '\n' */
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
    c->elements = r->elements;
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

#define RCMD(cap, ...)                                                                             \
    do {                                                                                           \
        memset((cap), 0, sizeof(*(cap)));                                                          \
        assert_int_equal(gw_redis_commandf(T.redis, rcap_cb, (cap), __VA_ARGS__), 0);              \
        assert_true(wait_for(&(cap)->done, 5000));                                                 \
        assert_int_equal((cap)->err, 0);                                                           \
    } while (0)

static struct rcap cap;

static const char *hget(const char *msisdn, char k, const char *field)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:%c", msisdn, k);
    RCMD(&cap, "HGET %s %s", key, field);
    return cap.type == REDIS_REPLY_NIL ? NULL : cap.str;
}

static long long hget_ll(const char *msisdn, const char *field)
{
    const char *v = hget(msisdn, 'w', field);
    assert_non_null(v);
    return strtoll(v, NULL, 10);
}

/* The carried fraction rn/rd times den (commit.lua: rn alone is a fraction of 10^6). */
static long long frac_times(const char *msisdn, long long den)
{
    const char *rd = hget(msisdn, 'w', "rd");
    long long d = rd ? strtoll(rd, NULL, 10) : 1000000;
    return hget_ll(msisdn, "rn") * den / d;
}

/* The daily cap's field cp (commit.lua): points x 100000 + days since 1970. */
static long long cap_day(const char *msisdn)
{
    assert_null(hget(msisdn, 'w', "cday")); /* the fields of the releases before: not written */
    return gw_days_from_number((int32_t)(hget_ll(msisdn, "cp") % 100000));
}
static long long cap_pts(const char *msisdn) { return hget_ll(msisdn, "cp") / 100000; }

/* The remembered record of ref (lua/commit.lua): "points,YYYYMMDD,state", or NULL when the wallet
 * does not remember it. From the field R of the release before when it is there (as the script
 * looks), else from E (a record of an event's kind, 0..4): E's points and states. */
static const char *ref_rec(const char *msisdn, const char *ref)
{
    static char out[64];
    char key[40];
    long long pts, dy;
    char st;
    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    RCMD(&cap, "EVAL %s 1 %s %s",
         "local R = redis.call('HGET', KEYS[1], 'R') or '' "
         "local E = redis.call('HGET', KEYS[1], 'E') or '' "
         "local dg = redis.sha1hex(ARGV[1]):sub(1, 12):gsub('..', function(h) "
         "return string.char(tonumber(h, 16)) end) "
         "for p = 1, #R, 15 do local g, dy, st, pts = struct.unpack('>c6I4c1i4', R, p) "
         "if g == dg then return string.format('R%d,%d,%s', pts, dy, st) end end "
         "for p = 1, #E, 16 do local g, dy, k, st, pts = struct.unpack('>c6I2BBi4', E, p) "
         "if g == dg and k <= 4 then return string.format('E%d,%d,%s', pts, dy, "
         "string.char(st)) end end "
         "return false",
         key, ref);
    if (cap.type != REDIS_REPLY_STRING || sscanf(cap.str + 1, "%lld,%lld,%c", &pts, &dy, &st) != 3)
        return NULL;
    if (cap.str[0] == 'E')
        dy = gw_days_from_number((int32_t)dy);
    snprintf(out, sizeof(out), "%lld,%08lld,%c", pts, dy, st);
    return out;
}

/* Records remembered in E (the refs and the history). */
static long long ref_count(const char *msisdn)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    RCMD(&cap, "HSTRLEN %s E", key);
    return cap.integer / GW_HIST_REC;
}

static long long key_int(const char *cmd, const char *msisdn, char k)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:%c", msisdn, k);
    RCMD(&cap, "%s %s", cmd, key);
    assert_int_equal(cap.type, REDIS_REPLY_INTEGER);
    return cap.integer;
}

/* A binary-safe reply: the wallet's packed history E, the rule dictionary. */
static struct {
    bool done;
    size_t len;
    char buf[16384];
    redisReply *all; /* HGETALL lg:rules, kept */
} bin;

static void bin_cb(void *arg, int err, const struct redisReply *r)
{
    (void)arg;
    bin.done = true;
    bin.len = 0;
    if (err == 0 && r && r->type == REDIS_REPLY_STRING && r->len <= sizeof(bin.buf)) {
        memcpy(bin.buf, r->str, r->len);
        bin.len = r->len;
    }
}

static const char *rule_of(void *arg, uint16_t id)
{
    static char text[256];
    (void)arg;
    RCMD(&cap, "HGET lg:rules %u", (unsigned)id);
    if (cap.type != REDIS_REPLY_STRING)
        return NULL;
    snprintf(text, sizeof(text), "%.255s", cap.str);
    return text;
}

/* History entries, newest first, joined by '\n': the wallet's field E decoded by gw_hist.c with
 * the rule texts of lg:rules (the readers' way), merged with the list of the release before. */
static const char *history(const char *msisdn)
{
    static char out[16384], lines[64][512];
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    bin.done = false;
    assert_int_equal(gw_redis_commandf(T.redis, bin_cb, NULL, "HGET %s E", key), 0);
    assert_true(wait_for(&bin.done, 5000));
    size_t n = gw_hist_merge(bin.buf, bin.len, NULL, 0, NULL, NULL, 0, rule_of, NULL, lines[0],
                             sizeof(lines[0]), 64);
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && off < sizeof(out); i++)
        off += (size_t)snprintf(out + off, sizeof(out) - off, "%s%s", i ? "\n" : "", lines[i]);
    return out;
}

/* The points of the wallet's lot of day (YYYYMMDD): its record in L (gw_lots.h) plus a lot field
 * l:<day> of the release before; 0 for none. A malformed L fails the test. With day NULL: the
 * number of lots (those of L and the old fields). */
static long long lot_pts(const char *msisdn, const char *day)
{
    char key[40], l[GW_LOTS_REC_MAX * 400];
    long long n = 0, count = 0;
    size_t len, pos = 0;
    struct gw_lot lot;

    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    RCMD(&cap, "HGET %s L", key);
    len = cap.type == REDIS_REPLY_NIL ? 0 : cap.len;
    assert_true(len < sizeof(l));
    memcpy(l, cap.str, len);
    assert_true(gw_lots_valid(l, len));
    while (gw_lots_next(l, len, &pos, &lot)) {
        count++;
        if (day && lot.day == atoi(day))
            n += lot.points;
    }
    RCMD(&cap, "HKEYS %s", key);
    for (char *p = cap.str; *p;) {
        if (strncmp(p, "l:", 2) == 0) {
            count++;
            if (day && strncmp(p + 2, day, 8) == 0) {
                RCMD(&cap, "HGET %s l:%s", key, day);
                n += strtoll(cap.str, NULL, 10);
                break;
            }
        }
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return day ? n : count;
}

/* Records in the wallet's history E. */
static long long hist_count(const char *msisdn)
{
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    RCMD(&cap, "HSTRLEN %s E", key);
    return cap.integer / GW_HIST_REC;
}

static int hash_fields_with_prefix(const char *msisdn, const char *prefix)
{
    char key[40];
    int n = 0;
    snprintf(key, sizeof(key), "lg:{%s}:w", msisdn);
    RCMD(&cap, "HKEYS %s", key);
    for (char *p = cap.str; *p;) {
        if (strncmp(p, prefix, strlen(prefix)) == 0)
            n++;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* ---------------------------------------------------------------- commit helpers */

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

static void fill_event(struct gw_event *ev, struct gw_earn *earn, enum gw_event_kind kind,
                       const char *msisdn, const char *ref, int64_t at, int64_t milli,
                       const char *orig)
{
    memset(ev, 0, sizeof(*ev));
    memset(earn, 0, sizeof(*earn));
    ev->kind = kind;
    snprintf(ev->ref, sizeof(ev->ref), "%s", ref);
    snprintf(ev->msisdn, sizeof(ev->msisdn), "%s", msisdn);
    ev->at = at;
    if (orig)
        snprintf(ev->orig, sizeof(ev->orig), "%s", orig);
    earn->milli = milli;
    earn->whole = milli / 1000;
    earn->frac_num = milli % 1000;
    earn->frac_den = 1000;
    earn->season_pct = earn->promo_pct = 100;
    snprintf(earn->rule, sizeof(earn->rule), "%s",
             kind == GW_EV_REVERSAL ? "reversal" : "TOPUP 1/10 MAD");
}

/* Commits through ledger l at now = at + 60 and waits; returns the callback's err. */
static int commit_on(struct gw_ledger *l, enum gw_event_kind kind, const char *msisdn,
                     const char *ref, int64_t at, int64_t milli, const char *orig,
                     struct gw_commit_result *out)
{
    struct gw_event ev;
    struct gw_earn earn;
    struct cwait w = {0};
    fill_event(&ev, &earn, kind, msisdn, ref, at, milli, orig);
    int rc = gw_ledger_commit(l, &ev, &earn, at + 60, commit_cb, &w);
    if (rc < 0)
        return rc;
    assert_true(wait_for(&w.done, 5000));
    assert_int_equal(w.calls, 1);
    if (out)
        *out = w.res;
    return w.err;
}

static struct gw_commit_result commit_ok(enum gw_event_kind kind, const char *msisdn,
                                         const char *ref, int64_t at, int64_t milli,
                                         const char *orig)
{
    struct gw_commit_result res;
    memset(&res, 0, sizeof(res));
    assert_int_equal(commit_on(T.ledger, kind, msisdn, ref, at, milli, orig, &res), 0);
    return res;
}

static void table_default(struct gw_loyalty *t)
{
    memset(t, 0, sizeof(*t));
    t->n_tiers = 1;
    snprintf(t->tiers[0].name, sizeof(t->tiers[0].name), "%s", "standard");
    t->tiers[0].pct = 100;
    snprintf(t->timezone, sizeof(t->timezone), "%s", "UTC");
}

/* ---------------------------------------------------------------- fixtures */

static int group_setup(void **state)
{
    (void)state;
    const char *sock = getenv("LGW_REDIS_SOCK");
    const char *port = getenv("LGW_REDIS_PORT");

    T0 = ((int64_t)time(NULL) / DAY - 2) * DAY + 10 * 3600;
    T.base = event_base_new();
    T.tick = event_new(T.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    event_add(T.tick, &tv);
    gw_redis_config_defaults(&T.rcfg);
    gw_redis_config_env(&T.rcfg);
    if (sock && *sock)
        snprintf(T.rcfg.unix_socket, sizeof(T.rcfg.unix_socket), "%s", sock);
    else if (port && *port)
        T.rcfg.port = (uint16_t)atoi(port);
    T.rcfg.request_timeout_ms = 5000;
    T.redis = gw_redis_new(T.base, &T.rcfg);
    gw_ledger_config_defaults(&T.lcfg);
    T.lcfg.single_node = true; /* as loyaltygw on one Redis; cases that need two steps say so */
    table_default(&T.tbl);
    T.ledger = gw_ledger_new(T.redis, &T.lcfg, &T.tbl);
    if (!T.redis || !T.ledger)
        return -1;
    gw_redis_start(T.redis);
    return wait_connected(T.redis, 5000) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    gw_ledger_free(T.ledger);
    gw_redis_free(T.redis);
    event_free(T.tick);
    event_base_free(T.base);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    RCMD(&cap, "FLUSHALL");
    table_default(&T.tbl);
    gw_ledger_set_table(T.ledger, &T.tbl);
    return 0;
}

/* ---------------------------------------------------------------- cases */

static void test_ledger__topup__credits_balance_history_lot(void **state)
{
    (void)state;
    const char *m = "212600000001";
    struct gw_commit_result r =
        commit_ok(GW_EV_TOPUP, m, "R-1", T0, 5000, NULL); /* 50 MAD at 1/10 */

    assert_int_equal(r.outcome, GW_COMMIT_CREDITED);
    assert_int_equal(r.points, 5);
    assert_int_equal(r.balance, 5);
    assert_int_equal(r.capped, 0);
    assert_int_equal(r.enrolled, 1);
    assert_string_equal(r.tier, "standard");
    assert_int_equal(hget_ll(m, "bal"), 5);
    assert_int_equal(hget_ll(m, "life"), 5);
    assert_null(hget(m, 'w', "rn")); /* no fraction carried: no field */
    assert_int_equal(hget_ll(m, "since"), T0 + 60);
    assert_int_equal(lot_pts(m, ymd(T0)), 5);
    assert_string_equal(ref_rec(m, "R-1"), fmt("5,%s,c", ymd(T0)));
    /* one history record in the wallet, its rule text in the dictionary */
    const char *h = history(m);
    assert_non_null(strstr(h, "|TOPUP|#"));
    assert_non_null(strstr(h, "|+5||TOPUP 1/10 MAD"));
    assert_null(strchr(h, '\n'));
    assert_int_equal(hist_count(m), 1);
    assert_int_equal(key_int("EXISTS", m, 'h'), 0); /* no history list any more */
    /* The refs are a field of the wallet: no key of their own. */
    assert_int_equal(key_int("EXISTS", m, 'r'), 0);
}

static void test_ledger__duplicate_ref__credits_once(void **state)
{
    (void)state;
    const char *m = "212600000002";
    commit_ok(GW_EV_TOPUP, m, "DUP-1", T0, 5000, NULL);
    struct gw_commit_result r = commit_ok(GW_EV_TOPUP, m, "DUP-1", T0, 5000, NULL);

    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
    assert_int_equal(r.points, 5);
    assert_int_equal(r.balance, 5);
    assert_int_equal(r.enrolled, 0);
    assert_int_equal(hget_ll(m, "bal"), 5);
    assert_int_equal(lot_pts(m, ymd(T0)), 5);
    assert_int_equal(hist_count(m), 1);
}

static void test_ledger__two_small_topups__remainder_makes_one_point(void **state)
{
    (void)state;
    const char *m = "212600000003";
    struct gw_commit_result a =
        commit_ok(GW_EV_TOPUP, m, "SM-1", T0, 500, NULL); /* 5 MAD at 1/10 */
    assert_int_equal(a.points, 0);
    /* half a point carried, exactly: rn/rd = 1/2, rd implied (one field) */
    assert_int_equal(hget_ll(m, "rn"), 500000);
    assert_null(hget(m, 'w', "rd"));
    assert_int_equal(frac_times(m, 2), 1);
    struct gw_commit_result b = commit_ok(GW_EV_TOPUP, m, "SM-2", T0 + 10, 500, NULL);
    assert_int_equal(b.points, 1);
    assert_int_equal(b.balance, 1);
    assert_null(hget(m, 'w', "rn"));
    assert_int_equal(lot_pts(m, ymd(T0)), 1);
}

static void test_ledger__daily_cap__forfeits_then_next_day_resets(void **state)
{
    (void)state;
    const char *m = "212600000004";
    T.tbl.daily_cap = 10;
    gw_ledger_set_table(T.ledger, &T.tbl);

    struct gw_commit_result a = commit_ok(GW_EV_TOPUP, m, "CAP-1", T0, 15000, NULL);
    assert_int_equal(a.points, 10);
    assert_int_equal(a.capped, 5);
    if (!strstr(history(m), "|+10||TOPUP 1/10 MAD")) /* what the cap let through */
        fail_msg("history: %s", history(m));
    struct gw_commit_result b = commit_ok(GW_EV_TOPUP, m, "CAP-2", T0 + 3600, 3000, NULL);
    assert_int_equal(b.points, 0);
    assert_int_equal(b.capped, 3);
    assert_int_equal(b.balance, 10);
    assert_string_equal(ref_rec(m, "CAP-2"), fmt("0,%s,c", ymd(T0)));

    /* T0 + 15 h is 01:00 the next UTC day: the next local (UTC) day has a fresh cap. */
    int64_t next = T0 + 15 * 3600;
    struct gw_commit_result c = commit_ok(GW_EV_TOPUP, m, "CAP-3", next, 4000, NULL);
    assert_int_equal(c.points, 4);
    assert_int_equal(c.capped, 0);
    assert_int_equal(cap_day(m), atoll(ymd(T0 + DAY)));
    assert_int_equal(cap_pts(m), 4);
    assert_int_equal(lot_pts(m, ymd(T0 + DAY)), 4);

    /* A late event for the previous day still meets that day's (full) cap. */
    struct gw_commit_result d = commit_ok(GW_EV_TOPUP, m, "CAP-4", T0 + 7200, 2000, NULL);
    assert_int_equal(d.points, 0);
    assert_int_equal(d.capped, 2);
    assert_int_equal(cap_day(m), atoll(ymd(T0 + DAY)));
    assert_int_equal(hget_ll(m, "bal"), 14);
}

static void test_ledger__tier_upgrade__multiplier_applies_to_later_events(void **state)
{
    (void)state;
    const char *m = "212600000005";
    T.tbl.n_tiers = 2;
    snprintf(T.tbl.tiers[1].name, sizeof(T.tbl.tiers[1].name), "%s", "gold");
    T.tbl.tiers[1].min_points = 100;
    T.tbl.tiers[1].pct = 150;
    gw_ledger_set_table(T.ledger, &T.tbl);

    struct gw_commit_result a = commit_ok(GW_EV_TOPUP, m, "TIER-1", T0, 100000, NULL);
    assert_int_equal(a.points, 100); /* earned at the standard rate */
    assert_string_equal(a.tier, "gold");
    assert_string_equal(hget(m, 'w', "tier"), "gold");
    assert_non_null(strstr(history(m), "|+100||TOPUP 1/10 MAD"));
    struct gw_commit_result b = commit_ok(GW_EV_TOPUP, m, "TIER-2", T0 + 60, 10000, NULL);
    assert_int_equal(b.points, 15);
    assert_int_equal(b.balance, 115);
    assert_non_null(strstr(history(m), "tier gold x150%"));
}

static void test_ledger__reversal__takes_back_exactly_and_marks(void **state)
{
    (void)state;
    const char *m = "212600000006";
    commit_ok(GW_EV_TOPUP, m, "RV-1", T0, 7000, NULL);
    commit_ok(GW_EV_TOPUP, m, "RV-2", T0 + DAY, 3000, NULL);
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "RV-X", T0 + DAY + 60, 0, "RV-1");

    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, 7);
    assert_int_equal(r.balance, 3);
    assert_int_equal(hget_ll(m, "life"), 3);
    assert_int_equal(lot_pts(m, ymd(T0)), 0);
    assert_int_equal(lot_pts(m, ymd(T0 + DAY)), 3);
    assert_string_equal(ref_rec(m, "RV-1"), fmt("7,%s,r", ymd(T0)));
    assert_string_equal(ref_rec(m, "RV-X"), fmt("-7,%s,x", ymd(T0 + DAY))); /* its own day */
    const char *h = history(m);
    assert_non_null(strstr(h, "|REVERSAL|#"));
    assert_true(strstr(h, "|-7||") != NULL && strstr(h, "|-7||") < strchr(h, '\n'));

    /* Redelivery of the reversal itself. */
    struct gw_commit_result d = commit_ok(GW_EV_REVERSAL, m, "RV-X", T0 + DAY + 60, 0, "RV-1");
    assert_int_equal(d.outcome, GW_COMMIT_DUPLICATE);
    assert_int_equal(d.points, 7);
    assert_int_equal(hget_ll(m, "bal"), 3);
}

static void test_ledger__reversal_of_unknown__noop_recorded(void **state)
{
    (void)state;
    const char *m = "212600000007";
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "UNK-X", T0, 0, "NEVER-SEEN");

    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP);
    assert_int_equal(r.points, 0);
    assert_int_equal(r.balance, 0);
    assert_string_equal(ref_rec(m, "UNK-X"), fmt("0,%s,x", ymd(T0)));
    assert_non_null(strstr(history(m), "|REVERSAL|"));
    assert_non_null(strstr(history(m), "|+0||no effect"));
    /* The original is remembered as voided: if it comes late it earns nothing. */
    assert_string_equal(ref_rec(m, "NEVER-SEEN"), fmt("0,%s,p", ymd(T0)));
    assert_null(hget(m, 'w', "bal")); /* not enrolled: the wallet holds only the refs */
}

static void test_ledger__double_reversal__second_is_noop(void **state)
{
    (void)state;
    const char *m = "212600000008";
    commit_ok(GW_EV_TOPUP, m, "DR-1", T0, 20000, NULL);
    assert_int_equal(commit_ok(GW_EV_REVERSAL, m, "DR-X1", T0 + 60, 0, "DR-1").outcome,
                     GW_COMMIT_REVERSED);
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "DR-X2", T0 + 120, 0, "DR-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP);
    assert_int_equal(r.balance, 0);
    assert_int_equal(hget_ll(m, "bal"), 0);
    assert_non_null(strstr(history(m), "|+0||no effect"));
    assert_int_equal(hist_count(m), 3);
}

static void test_ledger__reversal_after_redemption__balance_negative_no_negative_lot(void **state)
{
    (void)state;
    const char *m = "212600000009";
    commit_ok(GW_EV_TOPUP, m, "NEG-1", T0, 10000, NULL);      /* 10, lot of day T0 */
    commit_ok(GW_EV_TOPUP, m, "NEG-2", T0 + DAY, 5000, NULL); /* 5, lot of day T0 + 1 */
    /* A redemption of 12 (another module's job) spent the oldest lot and 2 of the next. */
    /* ... and left the wallet as the release before wrote lots (a field l:<day>, no L) */
    RCMD(&cap, "HSET lg:{%s}:w bal 3 l:%s 3", m, ymd(T0 + DAY));
    RCMD(&cap, "HDEL lg:{%s}:w L", m);

    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "NEG-X", T0 + DAY + 60, 0, "NEG-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, 10);
    assert_int_equal(r.balance, -7);
    assert_int_equal(hget_ll(m, "bal"), -7);
    assert_int_equal(lot_pts(m, NULL), 0);
}

/* ---------------------------------------------------------------- issue 9, section 1 */

/* Commits an event priced by the shipped rates (gw_loyalty_default: TOPUP 1/10, BILL 1/20,
 * USAGE 1/50 MAD) through the real gw_loyalty_earn, as the gateway does; returns the result. */
static int commit_priced(enum gw_event_kind kind, const char *msisdn, const char *ref,
                         int64_t at, int64_t amount_milli, struct gw_commit_result *out)
{
    struct gw_loyalty rates;
    struct gw_event ev;
    struct gw_earn earn;
    struct cwait w = {0};

    gw_loyalty_default(&rates);
    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    snprintf(ev.ref, sizeof(ev.ref), "%s", ref);
    snprintf(ev.msisdn, sizeof(ev.msisdn), "%s", msisdn);
    snprintf(ev.currency, sizeof(ev.currency), "MAD");
    ev.at = at;
    ev.amount_milli = amount_milli;
    assert_int_equal(gw_loyalty_earn(&rates, &ev, &earn), 0);
    int rc = gw_ledger_commit(T.ledger, &ev, &earn, at + 60, commit_cb, &w);
    if (rc < 0)
        return rc;
    assert_true(wait_for(&w.done, 5000));
    if (out)
        *out = w.res;
    return w.err;
}

static int64_t priced_points(enum gw_event_kind kind, const char *msisdn, const char *ref,
                             int64_t at, int64_t amount_milli)
{
    struct gw_commit_result r;
    assert_int_equal(commit_priced(kind, msisdn, ref, at, amount_milli, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED);
    return r.points;
}

/* The issue's reproductions: each pair or triple sums to exactly one point. */
/* A wallet of the release before (cday, cpts, rn and rd in four fields): read as it was, then
 * written in the two fields cp and rn. */
static void test_ledger__cap_and_fraction_fields_of_release_before__read_then_packed(void **state)
{
    (void)state;
    const char *m = "212600000005";
    T.tbl.daily_cap = 10;
    gw_ledger_set_table(T.ledger, &T.tbl);
    RCMD(&cap, "HSET lg:{%s}:w bal 8 life 8 tier standard l:%s 8 cday %s cpts 8 rn 1 rd 4", m,
         ymd(T0), ymd(T0));

    /* 50.25 MAD at 1/10: 5 points + 1/40, plus the 1/4 carried = 5 + 11/40; the day's 8 points
     * leave room for 2 */
    struct gw_commit_result a = commit_ok(GW_EV_TOPUP, m, "OLDCAP-1", T0 + 60, 5025, NULL);
    assert_int_equal(a.points, 2);
    assert_int_equal(a.capped, 3);
    assert_int_equal(hget_ll(m, "bal"), 10);
    assert_null(hget(m, 'w', "cpts"));
    assert_int_equal(cap_day(m), atoll(ymd(T0)));
    assert_int_equal(cap_pts(m), 10);
    assert_null(hget(m, 'w', "rd"));
    assert_int_equal(hget_ll(m, "rn"), 275000); /* 11/40 of 10^6 */
    /* the packed fields read back: the day's cap is full, the fraction still carried */
    struct gw_commit_result b = commit_ok(GW_EV_TOPUP, m, "OLDCAP-2", T0 + 120, 725, NULL);
    assert_int_equal(b.points, 0);
    assert_int_equal(b.capped, 1); /* 0.725 + 0.275 = 1 point, over the cap */
    assert_null(hget(m, 'w', "rn"));
    /* the next day: no cap used, the cap's field moves on */
    struct gw_commit_result c = commit_ok(GW_EV_TOPUP, m, "OLDCAP-3", T0 + DAY, 3000, NULL);
    assert_int_equal(c.points, 3);
    assert_int_equal(cap_day(m), atoll(ymd(T0 + DAY)));
    assert_int_equal(cap_pts(m), 3);
}

/* No daily cap: the cap's count is not written at all. */
static void test_ledger__no_daily_cap__no_cap_field(void **state)
{
    (void)state;
    const char *m = "212600000006";
    commit_ok(GW_EV_TOPUP, m, "NOCAP-1", T0, 5000, NULL);
    assert_null(hget(m, 'w', "cp"));
    assert_null(hget(m, 'w', "cday"));
    assert_null(hget(m, 'w', "cpts"));
}

static void test_exact__issue_cases__remainder_carried_exactly(void **state)
{
    (void)state;
    const char *a = "212600000201", *b = "212600000202", *c = "212600000203";

    /* BILL 10.01 + 9.99 MAD at 1 point per 20 = 20 MAD = 1 point */
    assert_int_equal(priced_points(GW_EV_BILL, a, "EX-B1", T0, 10010), 0);
    assert_int_equal(priced_points(GW_EV_BILL, a, "EX-B2", T0 + 1, 9990), 1);
    assert_int_equal(hget_ll(a, "bal"), 1);
    assert_null(hget(a, 'w', "rn"));
    /* USAGE 25.01 + 24.99 at 1 per 50 */
    assert_int_equal(priced_points(GW_EV_USAGE, b, "EX-U1", T0, 25010), 0);
    assert_int_equal(priced_points(GW_EV_USAGE, b, "EX-U2", T0 + 1, 24990), 1);
    assert_int_equal(hget_ll(b, "bal"), 1);
    /* TOPUP 3 x 3.335 at 1 per 10 = 10.005 MAD = 1 point, 0.0005 carried */
    assert_int_equal(priced_points(GW_EV_TOPUP, c, "EX-T1", T0, 3335), 0);
    assert_int_equal(priced_points(GW_EV_TOPUP, c, "EX-T2", T0 + 1, 3335), 0);
    assert_int_equal(priced_points(GW_EV_TOPUP, c, "EX-T3", T0 + 2, 3335), 1);
    assert_int_equal(hget_ll(c, "bal"), 1);
    /* what is left is exactly 5/10000 of a point */
    assert_int_equal(frac_times(c, 10000), 5);
}

/* Property, through the real script: random amounts (3 decimals) under a constant rule earn
 * exactly floor(total x rate); several kinds on one wallet earn floor of the exact sum. */
static void test_exact__random_amounts__sum_earns_floor_of_total(void **state)
{
    (void)state;
    static const struct {
        enum gw_event_kind kind;
        int64_t per;
    } rule[3] = {{GW_EV_TOPUP, 10}, {GW_EV_BILL, 20}, {GW_EV_USAGE, 50}};
    unsigned seed = (unsigned)time(NULL);
    char m[16], ref[32];

    srand(seed);
    for (int k = 0; k < 3; k++) {
        snprintf(m, sizeof(m), "21260000030%d", k);
        int64_t total = 0, got = 0;
        for (int i = 0; i < 60; i++) {
            int64_t amount = 1 + rand() % 99999; /* 0.001 .. 99.999 MAD */
            snprintf(ref, sizeof(ref), "PR-%d-%d", k, i);
            got += priced_points(rule[k].kind, m, ref, T0 + i, amount);
            total += amount;
        }
        if (got != total / (rule[k].per * 1000))
            fail_msg("seed %u kind %d: %lld points for %lld thousandths at 1/%lld", seed, k,
                     (long long)got, (long long)total, (long long)rule[k].per);
        assert_int_equal(hget_ll(m, "bal"), got);
    }
    /* mixed kinds on one wallet: the exact sum of amount/per, floored once */
    const char *mx = "212600000310";
    int64_t num = 0, got = 0; /* num in 1/100000 of a point (lcm of 10, 20, 50 MAD x 1000) */
    for (int i = 0; i < 90; i++) {
        int k = rand() % 3;
        int64_t amount = 1 + rand() % 99999;
        snprintf(ref, sizeof(ref), "PX-%d", i);
        got += priced_points(rule[k].kind, mx, ref, T0 + i, amount);
        num += amount * (100 / rule[k].per);
    }
    if (got != num / 100000)
        fail_msg("seed %u mixed: %lld points, expected %lld", seed, (long long)got,
                 (long long)(num / 100000));
}

/* REVERSAL RV-1 orig=T-LATE, then TOPUP T-LATE: recorded, no credit; redelivered: duplicate. */
static void test_exact__reversal_before_original__no_net_credit(void **state)
{
    (void)state;
    const char *m = "212600000401";
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "RV-1", T0, 0, "T-LATE");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP);
    assert_int_equal(commit_priced(GW_EV_TOPUP, m, "T-LATE", T0 - 600, 100000, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_VOIDED);
    assert_int_equal(r.points, 0);
    assert_int_equal(hget_ll(m, "bal"), 0);
    assert_int_equal(lot_pts(m, NULL), 0);
    assert_non_null(strstr(history(m), "reversed before it arrived"));
    assert_string_equal(ref_rec(m, "T-LATE"), fmt("0,%s,v", ymd(T0)));
    /* the SMSC offers it again: no second effect */
    assert_int_equal(commit_priced(GW_EV_TOPUP, m, "T-LATE", T0 - 600, 100000, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
    assert_int_equal(r.points, 0);
    /* a second REVERSAL of it has nothing left to take */
    r = commit_ok(GW_EV_REVERSAL, m, "RV-2", T0 + 1, 0, "T-LATE");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP);
    assert_int_equal(hget_ll(m, "bal"), 0);
    /* and the order of the issue with a normal top-up around it still earns */
    assert_int_equal(priced_points(GW_EV_TOPUP, m, "T-NEXT", T0 + 2, 50000), 5);
    assert_int_equal(hget_ll(m, "bal"), 5);
}

/* The same ref for another MSISDN: a conflict naming the owner, nothing written for the second;
 * with the claim inside the commit script (one Redis) and as a separate first step (cluster). */
static void conflict_case(struct gw_ledger *l, const char *m1, const char *m2, const char *ref)
{
    struct gw_event ev;
    struct gw_earn earn;
    struct cwait w = {0};
    struct gw_loyalty rates;

    gw_loyalty_default(&rates);
    memset(&ev, 0, sizeof(ev));
    ev.kind = GW_EV_TOPUP;
    snprintf(ev.ref, sizeof(ev.ref), "%s", ref);
    snprintf(ev.currency, sizeof(ev.currency), "MAD");
    ev.at = T0;
    ev.amount_milli = 500000;
    assert_int_equal(gw_loyalty_earn(&rates, &ev, &earn), 0);
    const char *who[3] = {m1, m2, m1};
    enum gw_commit_outcome want[3] = {GW_COMMIT_CREDITED, GW_COMMIT_CONFLICT, GW_COMMIT_DUPLICATE};
    for (int i = 0; i < 3; i++) {
        snprintf(ev.msisdn, sizeof(ev.msisdn), "%s", who[i]);
        memset(&w, 0, sizeof(w));
        assert_int_equal(gw_ledger_commit(l, &ev, &earn, T0 + 60, commit_cb, &w), 0);
        assert_true(wait_for(&w.done, 5000));
        assert_int_equal(w.err, 0);
        assert_int_equal(w.res.outcome, want[i]);
        if (want[i] == GW_COMMIT_CONFLICT)
            assert_string_equal(w.res.owner, m1);
    }
    RCMD(&cap, "EXISTS lg:{%s}:w lg:{%s}:r lg:{%s}:h", m2, m2, m2);
    assert_int_equal(cap.integer, 0);
    assert_int_equal(hget_ll(m1, "bal"), 50);
    /* a REVERSAL reusing the ref for m2 is refused the same way */
    struct gw_event rv;
    fill_event(&rv, &earn, GW_EV_REVERSAL, m2, ref, T0 + 5, 0, "OCS-X-0");
    memset(&w, 0, sizeof(w));
    assert_int_equal(gw_ledger_commit(l, &rv, &earn, T0 + 65, commit_cb, &w), 0);
    assert_true(wait_for(&w.done, 5000));
    assert_int_equal(w.err, 0);
    assert_int_equal(w.res.outcome, GW_COMMIT_CONFLICT);
}

static void test_exact__ref_of_another_msisdn__conflict(void **state)
{
    (void)state;
    conflict_case(T.ledger, "212600000501", "212600000502", "OCS-X-1");
    struct gw_ledger_config two = T.lcfg;
    two.single_node = false;
    struct gw_ledger *l2 = gw_ledger_new(T.redis, &two, &T.tbl);
    assert_non_null(l2);
    conflict_case(l2, "212600000503", "212600000504", "OCS-Y-1");
    /* MSISDNs of 8 and 15 digits, a leading zero: the owner named back exactly */
    conflict_case(T.ledger, "01234567", "212600000505", "OCS-Z-1");
    conflict_case(T.ledger, "999999999999999", "212600000506", "OCS-Z-2");
    conflict_case(l2, "012345678901234", "212600000507", "OCS-Z-3");
    gw_ledger_free(l2);
    /* the index holds one 13-byte record per ref, in strings; no hash of the release before */
    RCMD(&cap, "EVAL %s 0",
         "local n = 0 for _, k in ipairs(redis.call('KEYS', 'lg:rs:*')) do "
         "n = n + redis.call('STRLEN', k) end return n");
    assert_int_equal(cap.integer, 5 * 13);
    RCMD(&cap, "EVAL %s 0", "return #redis.call('KEYS', 'lg:ri:*')");
    assert_int_equal(cap.integer, 0);
}

/* The ref index of the release before (hashes lg:ri, field 6 bytes of SHA-1(ref), value the
 * MSISDN), current period and the one before: still honoured, on one Redis and in two steps. */
static void test_exact__ref_in_old_index_hash__conflict(void **state)
{
    (void)state;
    struct gw_ledger_config two = T.lcfg;
    two.single_node = false;
    struct gw_ledger *l2 = gw_ledger_new(T.redis, &two, &T.tbl);
    assert_non_null(l2);
    int64_t plen = (int64_t)T.lcfg.ref_retention_days * DAY;
    plen = plen > 8 * DAY ? plen : 8 * DAY;
    const char *refs[4] = {"OLDIDX-1", "OLDIDX-2", "OLDIDX-3", "OLDIDX-4"};
    for (int i = 0; i < 4; i++) {
        char tag[32];
        assert_int_equal(gw_ledger_ref_index_tag(T.ledger, refs[i], tag, sizeof(tag)), 0);
        /* OLDIDX-1, -3 in the current period, -2, -4 in the one before */
        RCMD(&cap, "EVAL %s 1 %s %s %s",
             "return redis.call('HSET', KEYS[1], struct.pack('>I6', "
             "tonumber(redis.sha1hex(ARGV[1]):sub(13, 24), 16)), ARGV[2])",
             fmt("lg:ri:%s:%" PRId64, tag, (T0 + 60) / plen - i % 2), refs[i], "212600000521");
        assert_int_equal(cap.integer, 1);
        struct gw_ledger *l = i < 2 ? T.ledger : l2;
        struct gw_commit_result res;
        assert_int_equal(commit_on(l, GW_EV_TOPUP, "212600000522", refs[i], T0, 5000, NULL, &res),
                         0);
        assert_int_equal(res.outcome, GW_COMMIT_CONFLICT);
        assert_string_equal(res.owner, "212600000521");
        /* the owner's own event goes through, and is not indexed twice */
        assert_int_equal(commit_on(l, GW_EV_TOPUP, "212600000521", refs[i], T0, 5000, NULL, &res),
                         0);
        assert_int_equal(res.outcome, GW_COMMIT_CREDITED);
    }
    gw_ledger_free(l2);
    RCMD(&cap, "EXISTS lg:{212600000522}:w");
    assert_int_equal(cap.integer, 0);
    RCMD(&cap, "EVAL %s 0", "return #redis.call('KEYS', 'lg:rs:*')");
    assert_int_equal(cap.integer, 0);
}

/* Refs remembered by an older release in the hash lg:{M}:r are still honoured: a redelivery is a
 * duplicate and a REVERSAL takes back what the old record says; the new records go to R. */
static void test_ledger__old_refs_hash__still_read(void **state)
{
    (void)state;
    const char *m = "212600000701";
    RCMD(&cap, "HSET lg:{%s}:w bal 12 life 12 tier standard l:%s 12", m, ymd(T0));
    RCMD(&cap, "HSET lg:{%s}:r OLD-1 %s", m, fmt("%" PRId64 ",12,%s,c", T0, ymd(T0)));
    struct gw_commit_result r = commit_ok(GW_EV_TOPUP, m, "OLD-1", T0, 120000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
    assert_int_equal(r.points, 12);
    r = commit_ok(GW_EV_REVERSAL, m, "OLD-X", T0 + 60, 0, "OLD-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, 12);
    assert_int_equal(hget_ll(m, "bal"), 0);
    assert_string_equal(ref_rec(m, "OLD-1"), fmt("12,%s,r", ymd(T0)));
    /* the old hash is never written */
    assert_string_equal(hget(m, 'r', "OLD-1"), fmt("%" PRId64 ",12,%s,c", T0, ymd(T0)));
    r = commit_ok(GW_EV_REVERSAL, m, "OLD-Y", T0 + 120, 0, "OLD-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP);
}

/* The wallet of the release before: refs in the field R (15-byte records), the history in E
 * (records never rewritten). R decides (its original reversed there is not reversed twice, its
 * placeholder still voids the late original); new refs go to E only; R is dropped once its
 * records leave the retention window. */
static void test_ledger__refs_field_of_release_before__read_then_dropped(void **state)
{
    (void)state;
    const char *m = "212600000702";
    char key[40];
    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    /* UP-1 credited 12 then reversed by UP-X; UP-V named by a reversal before it arrived */
    RCMD(&cap, "EVAL %s 1 %s %s %s",
         "local function dg(s) return redis.sha1hex(s):sub(1, 12):gsub('..', function(h) "
         "return string.char(tonumber(h, 16)) end) end "
         "local d = tonumber(ARGV[1]) "
         "local R = struct.pack('>c6I4c1i4', dg('UP-1'), d, 'r', 12) .. "
         "struct.pack('>c6I4c1i4', dg('UP-X'), d, 'x', 12) .. "
         "struct.pack('>c6I4c1i4', dg('UP-V'), d, 'v', 0) "
         "local E = struct.pack('>c6I2BBi4I2', dg('UP-1'), tonumber(ARGV[2]), 1, 99, 12, 0) .. "
         "struct.pack('>c6I2BBi4I2', dg('UP-X'), tonumber(ARGV[2]), 4, 120, -12, 0) "
         "return redis.call('HSET', KEYS[1], 'bal', '0', 'life', '0', 'tier', 'standard', "
         "'R', R, 'E', E)",
         key, ymd(T0), fmt("%" PRId64, T0 / DAY));
    assert_int_equal(cap.type, REDIS_REPLY_INTEGER);
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "UP-Y", T0 + 60, 0, "UP-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSAL_NOOP); /* E's record says c; R says r */
    r = commit_ok(GW_EV_TOPUP, m, "UP-1", T0 + 60, 120000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
    r = commit_ok(GW_EV_TOPUP, m, "UP-V", T0 + 60, 120000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_VOIDED);
    assert_int_equal(hget_ll(m, "bal"), 0);
    r = commit_ok(GW_EV_TOPUP, m, "UP-2", T0 + 120, 50000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED);
    RCMD(&cap, "HSTRLEN %s R", key);
    assert_int_equal(cap.integer, 3 * 15); /* nothing new in R */
    /* past the retention: R's records go, and the field with them; E keeps its new refs */
    r = commit_ok(GW_EV_TOPUP, m, "UP-3", T0 + 40 * DAY, 50000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED);
    assert_null(hget(m, 'w', "R"));
    r = commit_ok(GW_EV_TOPUP, m, "UP-3", T0 + 40 * DAY + 60, 50000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
}

/* A wallet the script cannot read, or a credit past the bounds: permanent, nothing written. */
static void test_exact__corrupt_wallet__permanent_error(void **state)
{
    (void)state;
    const char *m = "212600000601", *m2 = "212600000602";

    RCMD(&cap, "HSET lg:{%s}:w bal 12abc life 3", m);
    assert_int_equal(commit_priced(GW_EV_TOPUP, m, "CW-1", T0, 50000, NULL), -EBADMSG);
    assert_string_equal(hget(m, 'w', "bal"), "12abc");
    RCMD(&cap, "EXISTS lg:{%s}:r lg:{%s}:h", m, m);
    assert_int_equal(cap.integer, 0);
    /* a balance at the bound: one more credit would leave it */
    RCMD(&cap, "HSET lg:{%s}:w bal 999999999999 life 5", m2);
    assert_int_equal(commit_priced(GW_EV_TOPUP, m2, "CW-2", T0, 50000, NULL), -EBADMSG);
    assert_int_equal(hget_ll(m2, "bal"), INT64_C(999999999999));
    /* unreadable activity months M (a record cut after its month: LGWDATA months) */
    const char *m3 = "212600000603";
    commit_ok(GW_EV_TOPUP, m3, "CW-3", T0, 50000, NULL);
    long long b3 = hget_ll(m3, "bal");
    RCMD(&cap, "HSET lg:{%s}:w M %b", m3, "\x02\xaa", (size_t)2);
    assert_int_equal(commit_priced(GW_EV_TOPUP, m3, "CW-4", T0 + 60, 50000, NULL), -EBADMSG);
    assert_int_equal(hget_ll(m3, "bal"), b3);
    RCMD(&cap, "HSTRLEN lg:{%s}:w M", m3);
    assert_int_equal(cap.integer, 2);
}

/* The lots (docs/data-model.md section 1): a credit adds to L (3-byte records for these lots)
 * and leaves the lot fields l:<day> of the release before to the readers; a reversal reads
 * every lot, takes from its own first and folds the old fields into L. */
static void test_lots__credit_in_L__old_fields_merged_then_folded(void **state)
{
    (void)state;
    const char *m = "212600000603";
    char key[40];

    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    RCMD(&cap, "HSET %s bal 15 life 15 tier standard l:%s 10 l:%s 5", key, ymd(T0 - 2 * DAY),
         ymd(T0));
    commit_ok(GW_EV_TOPUP, m, "LT-1", T0, 3000, NULL); /* 3 points on T0 */
    RCMD(&cap, "HSTRLEN %s L", key);
    assert_int_equal(cap.integer, 3); /* u16 day + a 1-byte varint */
    assert_int_equal(hash_fields_with_prefix(m, "l:"), 2); /* the credit did not read them */
    assert_int_equal(lot_pts(m, ymd(T0)), 8);              /* 5 of the old field + 3 in L */
    commit_ok(GW_EV_TOPUP, m, "LT-2", T0 + DAY, 4000, NULL);
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "LT-X", T0 + DAY + 60, 0, "LT-1");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, 3);
    assert_int_equal(hash_fields_with_prefix(m, "l:"), 0); /* folded into L */
    assert_int_equal(lot_pts(m, ymd(T0 - 2 * DAY)), 10);
    assert_int_equal(lot_pts(m, ymd(T0)), 5); /* its own lot gave the 3 back */
    assert_int_equal(lot_pts(m, ymd(T0 + DAY)), 4);
    assert_int_equal(lot_pts(m, NULL), 3);
    RCMD(&cap, "HSTRLEN %s L", key);
    assert_int_equal(cap.integer, 3 * 3);
    assert_int_equal(hget_ll(m, "bal"), 19);
}

/* A field L the codec cannot read: the commit is refused (LGWDATA lots), nothing written. */
static void test_lots__corrupt_L__permanent_error(void **state)
{
    (void)state;
    const char *m = "212600000604";
    const unsigned char zero[] = {0x50, 0x00, 0}; /* a lot of 0 points */
    struct gw_commit_result r;
    char key[40];

    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    commit_ok(GW_EV_TOPUP, m, "LC-1", T0, 3000, NULL);
    RCMD(&cap, "HSET %s L abcde", key); /* the second record's varint missing */
    assert_int_equal(commit_priced(GW_EV_TOPUP, m, "LC-2", T0 + 60, 50000, NULL), -EBADMSG);
    assert_int_equal(commit_on(T.ledger, GW_EV_REVERSAL, m, "LC-X", T0 + 60, 0, "LC-1", &r),
                     -EBADMSG);
    RCMD(&cap, "HSET %s L %b", key, zero, sizeof(zero));
    assert_int_equal(commit_priced(GW_EV_TOPUP, m, "LC-3", T0 + 60, 50000, NULL), -EBADMSG);
    assert_int_equal(hget_ll(m, "bal"), 3);
    assert_int_equal(hist_count(m), 1); /* no record of the refused events */
    RCMD(&cap, "HSTRLEN %s L", key);
    assert_int_equal(cap.integer, sizeof(zero));
}

/* Points that never expire (no validity: the gateway says so): the lots are folded into the
 * undated lot but the 3 newest, so L stays 4 records whatever the history (docs/data-model.md
 * 1); a reversal whose lot was folded takes from the newest; a validity configured later dates
 * the undated lot on the first credit under it (the day of that commit), never earlier. */
static void test_lots__never_expire__folded_bounded_then_dated(void **state)
{
    (void)state;
    const char *m = "212600000605";
    long long sum = 0, first = 0;
    char key[40], ref[16];

    snprintf(key, sizeof(key), "lg:{%s}:w", m);
    for (int k = 60; k >= 1; k--) {
        snprintf(ref, sizeof(ref), "NV-%d", k);
        long long p = commit_ok(GW_EV_TOPUP, m, ref, T0 - k * DAY, 1000 * (1 + k % 7), NULL).points;
        sum += p;
        if (k == 10)
            first = p;
        assert_true(lot_pts(m, NULL) <= 4);
    }
    assert_int_equal(lot_pts(m, NULL), 4);
    long long newest = lot_pts(m, ymd(T0 - DAY)) + lot_pts(m, ymd(T0 - 2 * DAY)) +
                       lot_pts(m, ymd(T0 - 3 * DAY));
    assert_int_equal(lot_pts(m, "0"), sum - newest); /* the undated lot: day 0 */
    assert_int_equal(hget_ll(m, "bal"), sum);
    RCMD(&cap, "HSTRLEN %s L", key);
    assert_true(cap.integer <= 4 * 4);
    /* the reversal of an event whose day was folded: taken from the newest lots */
    struct gw_commit_result r = commit_ok(GW_EV_REVERSAL, m, "NV-X", T0 - DAY + 60, 0, "NV-10");
    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, first);
    sum -= first;
    assert_int_equal(hget_ll(m, "bal"), sum);
    long long undated = lot_pts(m, "0");
    assert_int_equal(undated + lot_pts(m, ymd(T0 - DAY)) + lot_pts(m, ymd(T0 - 2 * DAY)) +
                         lot_pts(m, ymd(T0 - 3 * DAY)),
                     sum);
    /* a validity of 30 days configured later: the next credit dates the undated lot on its
     * commit's day (today for the gateway), so those points last 30 days from then */
    T.tbl.points_validity_days = 30;
    gw_ledger_set_table(T.ledger, &T.tbl);
    commit_ok(GW_EV_TOPUP, m, "NV-0", T0, 3000, NULL);
    assert_int_equal(lot_pts(m, "0"), 0);
    assert_int_equal(lot_pts(m, ymd(T0)), undated + 3);
    assert_int_equal(hget_ll(m, "bal"), sum + 3);
    assert_non_null(hget(m, 'w', "xd")); /* in the expiry job's due index */
}

static void test_ledger__script_flush__noscript_falls_back_to_eval(void **state)
{
    (void)state;
    const char *m = "212600000010";
    struct gw_redis_stats before, after;

    gw_redis_get_stats(T.redis, &before);
    RCMD(&cap, "SCRIPT FLUSH");
    struct gw_commit_result r = commit_ok(GW_EV_TOPUP, m, "NS-1", T0, 3000, NULL);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED);
    assert_int_equal(r.points, 3);
    gw_redis_get_stats(T.redis, &after);
    /* two: the rule dictionary's script (its text not cached yet after setup's new table), then
     * the commit script */
    assert_int_equal(after.noscript_fallbacks, before.noscript_fallbacks + 2);
    /* EVAL put the scripts back: the next commit goes through EVALSHA (rule id cached). */
    commit_ok(GW_EV_TOPUP, m, "NS-2", T0 + 1, 3000, NULL);
    gw_redis_get_stats(T.redis, &after);
    assert_int_equal(after.noscript_fallbacks, before.noscript_fallbacks + 2);
    assert_int_equal(hget_ll(m, "bal"), 6);
}

/* The valid argument list of the commit script, for a subscriber; cases break one entry. */
#define NARGS 24
static void base_args(const char *m, char keys[1][40], const char *argv[NARGS])
{
    snprintf(keys[0], 40, "lg:{%s}:w", m);
    static char now[24], at[24], day[16];
    snprintf(now, sizeof(now), "%" PRId64, T0 + 60);
    snprintf(at, sizeof(at), "%" PRId64, T0);
    snprintf(day, sizeof(day), "%s", ymd(T0));
    const char *v[NARGS] = {keys[0], "E",     "VAL-1",  "TOPUP",  now,
                            at,      day,      "5",     "0",      "1",      "0",
                            "2678400", "50",   "1",     "",       "50000",  "1",
                            "standard", "0",   "100",   "0",      "12",     "30",
                            day};
    memcpy(argv, v, sizeof(v));
}

static void run_script(int id, int argc, const char **argv, struct rcap *out)
{
    memset(out, 0, sizeof(*out));
    assert_int_equal(gw_redis_script_run(T.redis, id, 1, argc, argv, NULL, rcap_cb, out), 0);
    assert_true(wait_for(&out->done, 5000));
    assert_int_equal(out->err, 0);
}

static void test_ledger__malformed_args__error_and_no_write(void **state)
{
    (void)state;
    const char *m = "212600000011";
    char keys[1][40];
    const char *argv[NARGS + 3];
    char otherkey[40];
    int id = gw_redis_script_add(T.redis, gw_lua_commit, gw_lua_commit_len);
    assert_true(id >= 0);
    snprintf(otherkey, sizeof(otherkey), "lg:{%s}:w", "21260000abcd"); /* not an MSISDN */

    static const struct {
        int index;
        const char *value;
    } bad[] = {
        {0, NULL},          {1, "X"},    {2, "bad,ref"},    {2, ""},
        {3, "topup"},       {4, "1.5"},     {4, "0x10"}, {5, "1e9"},        {5, " 1795600800"},
        {6, "20261340"},    {6, "2026112"}, {7, "-1"},   {7, "5000.5"},     {7, "999999999"},
        {8, "1"},           {9, "0"},      {8, "-1"},   {10, "-5"},        {11, "0"},
        {12, "0"},          {14, "NOT-EMPTY"}, {15, "-1"}, {16, "3"},       {16, "0"},
        {17, "st|d"},       {18, "1"},      {19, "1e2"}, {19, "100000"},    {13, "two\nlines"},
        {13, "70000"},      {13, ""},
        {20, "3"},          {21, "13"},     {21, "0"},   {22, "366"},       {23, "x"},
    };
    /* The error each broken argument must produce (it names the argument). */
    static const char *const what[NARGS] = {
        "keys",       "op",      "ref",      "kind",         "now",
        "at",        "day",        "earning", "earning",  "earning",      "cap",
        "retention", "history_len", "rule",   "orig",     "amount",       "tiers",
        "tier name", "tier order", "tier numbers", "tier qualification", "tier qualification",
        "tier qualification", "tier qualification"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        base_args(m, keys, argv);
        if (bad[i].index == 0)
            argv[0] = otherkey; /* a key of another subscriber */
        else
            argv[bad[i].index] = bad[i].value;
        run_script(id, NARGS, argv, &cap);
        char want[40];
        snprintf(want, sizeof(want), "LGWARG %s", what[bad[i].index]);
        if (cap.type != REDIS_REPLY_ERROR || strcmp(cap.str, want) != 0)
            fail_msg("case %zu (arg %d = %s): expected '%s', got type %d '%s'", i, bad[i].index,
                     bad[i].value ? bad[i].value : "(key)", want, cap.type, cap.str);
    }
    /* Too few and too many arguments for the tier count. */
    base_args(m, keys, argv);
    run_script(id, NARGS - 1, argv, &cap);
    assert_int_equal(cap.type, REDIS_REPLY_ERROR);
    argv[NARGS] = "gold";
    argv[NARGS + 1] = "100";
    argv[NARGS + 2] = "150";
    run_script(id, NARGS + 2, argv, &cap);
    assert_int_equal(cap.type, REDIS_REPLY_ERROR);
    /* A reversal must carry an orig; an earn must not. */
    base_args(m, keys, argv);
    argv[1] = "R";
    argv[7] = "0";
    run_script(id, NARGS, argv, &cap);
    assert_int_equal(cap.type, REDIS_REPLY_ERROR);

    RCMD(&cap, "EXISTS lg:{%s}:w lg:{%s}:r lg:{%s}:h", m, m, m);
    assert_int_equal(cap.integer, 0);

    /* The unbroken list works: the cases above failed for their one bad argument. */
    base_args(m, keys, argv);
    run_script(id, NARGS, argv, &cap);
    if (cap.type != REDIS_REPLY_ARRAY)
        fail_msg("valid arguments refused: %s", cap.str);
    assert_int_equal(hget_ll(m, "bal"), 5);

    /* Through the ledger: a bad table is refused by the script (-EINVAL), nothing written; a bad
     * event is refused before sending. */
    const char *m2 = "212600000012";
    T.tbl.tiers[0].min_points = 5;
    gw_ledger_set_table(T.ledger, &T.tbl);
    assert_int_equal(commit_on(T.ledger, GW_EV_TOPUP, m2, "VAL-2", T0, 5000, NULL, NULL), -EINVAL);
    RCMD(&cap, "EXISTS lg:{%s}:w lg:{%s}:r lg:{%s}:h", m2, m2, m2);
    assert_int_equal(cap.integer, 0);
    table_default(&T.tbl);
    gw_ledger_set_table(T.ledger, &T.tbl);
    assert_int_equal(
        commit_on(T.ledger, GW_EV_TOPUP, "21260000abcd", "VAL-3", T0, 5000, NULL, NULL), -EINVAL);
    assert_int_equal(commit_on(T.ledger, GW_EV_TOPUP, m2, "bad ref", T0, 5000, NULL, NULL),
                     -EINVAL);
    assert_int_equal(commit_on(T.ledger, GW_EV_REVERSAL, m2, "VAL-4", T0, 0, "", NULL), -EINVAL);
}

/* A client with a 200 ms deadline against a paused Redis. */
static void test_redis__paused_server__deadline_then_late_reply_dropped(void **state)
{
    (void)state;
    const char *m = "212600000013";
    struct gw_redis_config cfg = T.rcfg;
    cfg.request_timeout_ms = 200;
    struct gw_redis *r2 = gw_redis_new(T.base, &cfg);
    struct gw_ledger_config two = T.lcfg;
    two.single_node = false; /* two steps, as on a cluster: the deadline hits step 1 */
    struct gw_ledger *l2 = gw_ledger_new(r2, &two, &T.tbl);
    assert_non_null(l2);
    gw_redis_start(r2);
    assert_true(wait_connected(r2, 5000));
    /* the rule's id in l2's cache first (step 0 then sends nothing): the deadline hits step 1 */
    assert_int_equal(commit_on(l2, GW_EV_TOPUP, "212600000014", "WARM-1", T0, 10000, NULL, NULL),
                     0);

    RCMD(&cap, "CLIENT PAUSE 1200 ALL");
    int64_t t0 = gw_clock_mono_ms();
    struct gw_commit_result res;
    assert_int_equal(commit_on(l2, GW_EV_TOPUP, m, "SLOW-1", T0, 10000, NULL, &res), -ETIMEDOUT);
    int64_t took = gw_clock_mono_ms() - t0;
    assert_true(took >= 190 && took < 1000);

    struct gw_redis_stats st;
    int64_t end = gw_clock_mono_ms() + 3000;
    do {
        run_for(20);
        gw_redis_get_stats(r2, &st);
    } while (st.late_replies == 0 && gw_clock_mono_ms() < end);
    assert_int_equal(st.timeouts, 1);
    assert_int_equal(st.late_replies, 1);
    assert_int_equal(st.pending, 0);
    /* The late reply was step 1's (the ref index claimed the ref for m); step 2 never ran: the
     * state of a crash between the two steps. The SMSC's redelivery credits exactly once. */
    RCMD(&cap, "EXISTS lg:{%s}:w", m);
    assert_int_equal(cap.integer, 0);
    struct gw_commit_result again = commit_ok(GW_EV_TOPUP, m, "SLOW-1", T0, 10000, NULL);
    assert_int_equal(again.outcome, GW_COMMIT_CREDITED);
    assert_int_equal(again.balance, 10);
    assert_int_equal(commit_ok(GW_EV_TOPUP, m, "SLOW-1", T0, 10000, NULL).outcome,
                     GW_COMMIT_DUPLICATE);
    gw_ledger_free(l2);
    gw_redis_free(r2);
}

struct count_arg {
    int calls;
    int err;
};

static void count_cb(void *arg, int err, const struct redisReply *reply)
{
    struct count_arg *c = arg;
    (void)reply;
    c->calls++;
    c->err = err;
}

static void test_redis__free_with_pending__cancels_each_once(void **state)
{
    (void)state;
    struct gw_redis_config cfg = T.rcfg;
    cfg.max_pending = 8;
    struct gw_redis *r3 = gw_redis_new(T.base, &cfg);
    struct count_arg c[9];
    memset(c, 0, sizeof(c));

    assert_int_equal(gw_redis_commandf(r3, count_cb, &c[0], "PING"), -ENOTCONN);
    gw_redis_start(r3);
    assert_true(wait_connected(r3, 5000));
    RCMD(&cap, "CLIENT PAUSE 400 ALL");
    for (int i = 0; i < 8; i++)
        assert_int_equal(gw_redis_commandf(r3, count_cb, &c[i], "PING"), 0);
    assert_int_equal(gw_redis_commandf(r3, count_cb, &c[8], "PING"), -ENOBUFS);
    for (int i = 0; i < 9; i++)
        assert_int_equal(c[i].calls, 0); /* never inside the request call */
    gw_redis_free(r3);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(c[i].calls, 1);
        assert_int_equal(c[i].err, -ECANCELED);
    }
    assert_int_equal(c[8].calls, 0);
    run_for(500);
}

/* A peer that accepts TCP (the kernel does, from the listen backlog) but never answers: the link
 * must not count as up before SCRIPT LOAD answered, the connect deadline drops it (a context
 * freed from the deferred callback) and the back-off retries; requests are refused meanwhile. */
static void test_redis__silent_peer__connect_deadline_and_retries(void **state)
{
    (void)state;
    struct gw_redis_config cfg;
    struct count_arg c = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t slen = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 64), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &slen), 0);

    gw_redis_config_defaults(&cfg);
    gw_redis_config_env(&cfg);
    cfg.port = ntohs(sa.sin_port);
    cfg.connect_timeout_ms = 100;
    cfg.reconnect_min_ms = 20;
    cfg.reconnect_max_ms = 80;
    struct gw_redis *r = gw_redis_new(T.base, &cfg);
    assert_true(gw_redis_script_add(r, gw_lua_commit, gw_lua_commit_len) >= 0);
    gw_redis_start(r);
    run_for(700);
    assert_false(gw_redis_is_connected(r));
    assert_int_equal(gw_redis_commandf(r, count_cb, &c, "PING"), -ENOTCONN);
    struct gw_redis_stats st;
    gw_redis_get_stats(r, &st);
    assert_int_equal(st.connects, 0);
    assert_int_equal(st.not_connected, 1);
    gw_redis_free(r);
    assert_int_equal(c.calls, 0);
    close(fd);
}

static pid_t spawn_redis(const char *sock, const char *log)
{
    char *args[] = {
        "redis-server", "--port", "0",           "--unixsocket", (char *)sock, "--save",    "",
        "--appendonly", "no",     "--daemonize", "no",           "--logfile",  (char *)log, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "redis-server", NULL, NULL, args, environ) != 0)
        return -1;
    char pidfile[512];
    snprintf(pidfile, sizeof(pidfile), "%s/kill-redis.pid", T.tmp);
    FILE *f = fopen(pidfile, "w");
    if (f) {
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
    }
    return pid;
}

static int ups, downs;
static void on_state(void *arg, bool up)
{
    (void)arg;
    if (up)
        ups++;
    else
        downs++;
}

static void test_redis__server_killed__pending_fail_then_reconnects(void **state)
{
    (void)state;
    char sock[100], log[256];
    if (!T.tmp)
        skip();
    snprintf(sock, sizeof(sock), "%s/kill.sock", T.tmp);
    snprintf(log, sizeof(log), "%s/kill-redis.log", T.tmp);
    pid_t pid = spawn_redis(sock, log);
    assert_true(pid > 0);

    struct gw_redis_config cfg = T.rcfg;
    snprintf(cfg.unix_socket, sizeof(cfg.unix_socket), "%s", sock);
    cfg.request_timeout_ms = 5000;
    cfg.reconnect_min_ms = 50;
    cfg.reconnect_max_ms = 200;
    struct gw_redis *r4 = gw_redis_new(T.base, &cfg);
    struct gw_ledger *l4 = gw_ledger_new(r4, &T.lcfg, &T.tbl);
    gw_redis_on_state(r4, on_state, NULL);
    gw_redis_start(r4); /* redis may not listen yet: the client retries */
    assert_true(wait_connected(r4, 5000));
    assert_int_equal(ups, 1);

    /* Pause it so the commits are surely pending when it dies. */
    struct rcap pc = {0};
    assert_int_equal(gw_redis_commandf(r4, rcap_cb, &pc, "CLIENT PAUSE 10000 ALL"), 0);
    assert_true(wait_for(&pc.done, 5000));
    struct gw_event ev;
    struct gw_earn earn;
    struct cwait w[50];
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 50; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "KILL-%d", i);
        fill_event(&ev, &earn, GW_EV_TOPUP, "212600000014", ref, T0, 10000, NULL);
        assert_int_equal(gw_ledger_commit(l4, &ev, &earn, T0 + 60, commit_cb, &w[i]), 0);
    }
    run_for(50);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    bool all = false;
    int64_t end = gw_clock_mono_ms() + 3000;
    while (!all && gw_clock_mono_ms() < end) {
        run_for(10);
        all = true;
        for (int i = 0; i < 50; i++)
            all = all && w[i].done;
    }
    assert_true(all);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(w[i].calls, 1);
        assert_int_equal(w[i].err, -ENOTCONN);
    }
    assert_int_equal(downs, 1);
    assert_false(gw_redis_is_connected(r4));
    fill_event(&ev, &earn, GW_EV_TOPUP, "212600000014", "KILL-X", T0, 10000, NULL);
    assert_int_equal(gw_ledger_commit(l4, &ev, &earn, T0 + 60, commit_cb, &w[0]), -ENOTCONN);

    run_for(400); /* a few failed attempts: back-off in progress */
    pid = spawn_redis(sock, log);
    assert_true(pid > 0);
    assert_true(wait_connected(r4, 5000));
    assert_int_equal(ups, 2);
    struct gw_commit_result res;
    assert_int_equal(commit_on(l4, GW_EV_TOPUP, "212600000014", "KILL-0", T0, 10000, NULL, &res),
                     0);
    assert_int_equal(res.outcome, GW_COMMIT_CREDITED);
    assert_int_equal(res.points, 10);
    struct gw_redis_stats st;
    gw_redis_get_stats(r4, &st);
    assert_int_equal(st.connects, 2);
    assert_int_equal(st.disconnects, 1);
    assert_int_equal(st.pending, 0);

    gw_ledger_free(l4);
    gw_redis_free(r4);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

struct flood {
    int done, errors;
    int64_t points;
};

static void flood_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct flood *f = arg;
    f->done++;
    if (err || res->outcome != GW_COMMIT_CREDITED)
        f->errors++;
    else
        f->points += res->points;
}

static void test_ledger__1000_pipelined_commits__exact_sums(void **state)
{
    (void)state;
    struct flood f = {0};
    struct gw_event ev;
    struct gw_earn earn;

    for (int i = 0; i < 1000; i++) {
        char m[16], ref[32];
        snprintf(m, sizeof(m), "2126100%05d", i % 100);
        snprintf(ref, sizeof(ref), "P-%d", i);
        fill_event(&ev, &earn, GW_EV_TOPUP, m, ref, T0 + i, 10000 + (i % 7) * 1000, NULL);
        assert_int_equal(gw_ledger_commit(T.ledger, &ev, &earn, T0 + 2000, flood_cb, &f), 0);
    }
    struct gw_redis_stats st;
    gw_redis_get_stats(T.redis, &st);
    assert_int_equal(st.pending, 1000);
    int64_t end = gw_clock_mono_ms() + 20000;
    while (f.done < 1000 && gw_clock_mono_ms() < end)
        run_for(10);
    assert_int_equal(f.done, 1000);
    assert_int_equal(f.errors, 0);
    int64_t expect = 0;
    for (int i = 0; i < 1000; i++)
        expect += 10 + i % 7;
    assert_int_equal(f.points, expect);
    int64_t sum = 0;
    for (int s = 0; s < 100; s++) {
        char m[16];
        snprintf(m, sizeof(m), "2126100%05d", s);
        sum += hget_ll(m, "bal");
    }
    assert_int_equal(sum, expect);
}

/* Fraud brakes (issue 10 section 5, commit.lua "velocity caps"): events and points earned per
 * MSISDN per hour and day, counted in the commit's own step. */
struct held_count {
    int done, errors, credited, held;
    int64_t points, held_points;
};

static void held_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct held_count *h = arg;
    h->done++;
    if (err)
        h->errors++;
    else if (res->outcome == GW_COMMIT_CREDITED) {
        h->credited++;
        h->points += res->points;
    } else if (res->outcome == GW_COMMIT_HELD) {
        h->held++;
        h->held_points += res->points;
    } else
        h->errors++;
}

static void test_brakes__velocity_caps__parallel_events_held_never_lost(void **state)
{
    (void)state;
    const char *m = "212600000777";
    struct gw_ledger_config cfg = T.lcfg;
    cfg.vel_events_hour = 3;
    cfg.vel_points_day = 100;
    struct gw_ledger *l = gw_ledger_new(T.redis, &cfg, &T.tbl);
    assert_non_null(l);

    /* Eight events of 10 points in flight together: the hour's cap lets exactly 3 through,
     * whatever the order Redis runs them in; the others are committed, their points held. */
    struct held_count h = {0};
    struct gw_event ev;
    struct gw_earn earn;
    for (int i = 0; i < 8; i++) {
        fill_event(&ev, &earn, GW_EV_TOPUP, m, fmt("VEL-%d", i), T0 + i, 10000, NULL);
        assert_int_equal(gw_ledger_commit(l, &ev, &earn, T0 + 60, held_cb, &h), 0);
    }
    int64_t end = gw_clock_mono_ms() + 10000;
    while (h.done < 8 && gw_clock_mono_ms() < end)
        run_for(10);
    assert_int_equal(h.done, 8);
    assert_int_equal(h.errors, 0);
    assert_int_equal(h.credited, 3);
    assert_int_equal(h.held, 5);
    assert_int_equal(h.points, 30);
    assert_int_equal(h.held_points, 50);
    assert_int_equal(hget_ll(m, "bal"), 30);
    assert_int_equal(hget_ll(m, "hold"), 50);
    assert_int_equal(hget_ll(m, "rc"), 8); /* every recharge is in the books */
    assert_int_equal(ref_count(m), 8);      /* every ref remembered */
    assert_string_equal(hget(m, 'w', "vc"),
                        fmt("%lld,8,30,%s,8,30", (long long)(T0 + 60) / 3600, ymd(T0 + 60)));

    /* Exactly once: a redelivered held event is a duplicate, the hold does not grow. */
    int held_ref = -1;
    for (int i = 0; i < 8 && held_ref < 0; i++) {
        const char *r = ref_rec(m, fmt("VEL-%d", i));
        if (r && r[strlen(r) - 1] == 'h')
            held_ref = i;
    }
    assert_true(held_ref >= 0);
    assert_string_equal(ref_rec(m, fmt("VEL-%d", held_ref)), fmt("10,%s,h", ymd(T0)));
    struct gw_commit_result r;
    assert_int_equal(commit_on(l, GW_EV_TOPUP, m, fmt("VEL-%d", held_ref), T0, 10000, NULL, &r),
                     0);
    assert_int_equal(r.outcome, GW_COMMIT_DUPLICATE);
    assert_int_equal(hget_ll(m, "hold"), 50);
    assert_non_null(strstr(history(m), "held: over a velocity cap"));

    /* A reversal of a held event takes its points out of the hold; the balance stays. */
    assert_int_equal(commit_on(l, GW_EV_REVERSAL, m, "VEL-REV", T0 + 30, 0,
                               fmt("VEL-%d", held_ref), &r),
                     0);
    assert_int_equal(r.outcome, GW_COMMIT_REVERSED);
    assert_int_equal(r.points, 0);
    assert_int_equal(hget_ll(m, "hold"), 40);
    assert_int_equal(hget_ll(m, "bal"), 30);
    assert_string_equal(ref_rec(m, fmt("VEL-%d", held_ref)), fmt("10,%s,r", ymd(T0)));

    /* The next hour: the event cap starts again, the day's points cap (100) holds the event
     * that would pass it, whole. */
    int64_t at = T0 + 3600;
    assert_int_equal(commit_on(l, GW_EV_TOPUP, m, "VEL-H2-1", at, 50000, NULL, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED); /* 30 + 50 = 80 */
    assert_int_equal(commit_on(l, GW_EV_TOPUP, m, "VEL-H2-2", at, 30000, NULL, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_HELD); /* 80 + 30 > 100 */
    assert_int_equal(r.points, 30);
    assert_int_equal(commit_on(l, GW_EV_TOPUP, m, "VEL-H2-3", at, 20000, NULL, &r), 0);
    assert_int_equal(r.outcome, GW_COMMIT_CREDITED); /* 80 + 20 = 100: at the cap, not over */
    assert_int_equal(hget_ll(m, "bal"), 100);
    assert_int_equal(hget_ll(m, "hold"), 70);
    gw_ledger_free(l);

    /* Caps off (the default): nothing counted, no field written. */
    assert_int_equal(commit_on(T.ledger, GW_EV_TOPUP, "212600000778", "VEL-OFF", T0, 10000,
                               NULL, &r),
                     0);
    assert_null(hget("212600000778", 'w', "vc"));
    assert_null(hget("212600000778", 'w', "hold"));
}

static void test_ledger__many_refs__pruned_to_retention(void **state)
{
    (void)state;
    const char *m = "212600000015";
    struct gw_ledger_config lc = T.lcfg;
    lc.history_len = 5; /* fewer than the window holds: the window decides */
    struct gw_ledger *l = gw_ledger_new(T.redis, &lc, &T.tbl);
    long long max_hlen = 0;

    /* One event every 2 days for 80 days, committed when it happens. */
    for (int i = 0; i < 40; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "PR-%d", i);
        assert_int_equal(commit_on(l, GW_EV_TOPUP, m, ref, T0 + i * 2 * DAY, 1000, NULL, NULL), 0);
        long long h = ref_count(m);
        if (h > max_hlen)
            max_hlen = h;
    }
    assert_true(max_hlen <= 18); /* 31 days of one event every 2 days, and the day boundary */
    assert_true(hist_count(m) >= 15); /* the refs of the window, more than history_len */
    assert_null(ref_rec(m, "PR-0"));
    assert_non_null(ref_rec(m, "PR-39"));
    assert_int_equal(hget_ll(m, "bal"), 40);
    gw_ledger_free(l);

    /* More history than the window: the last history_len records stay, older refs or not. */
    const char *m2 = "212600000016";
    lc.history_len = 20;
    l = gw_ledger_new(T.redis, &lc, &T.tbl);
    for (int i = 0; i < 40; i++) {
        char ref[32];
        snprintf(ref, sizeof(ref), "PS-%d", i); /* PR-i belong to m in the ref index */
        assert_int_equal(commit_on(l, GW_EV_TOPUP, m2, ref, T0 + i * 2 * DAY, 1000, NULL, NULL), 0);
    }
    assert_int_equal(hist_count(m2), 20);
    assert_null(ref_rec(m2, "PS-19"));
    assert_non_null(ref_rec(m2, "PS-20"));
    assert_int_equal(hget_ll(m2, "bal"), 40);
    gw_ledger_free(l);
}

/* ---------------------------------------------------------------- measurement */

static long long used_memory(void)
{
    RCMD(&cap, "INFO memory");
    const char *p = strstr(cap.str, "used_memory:");
    return p ? strtoll(p + 12, NULL, 10) : -1;
}

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
    snprintf(m, sizeof(m), "2126%08d", sub);
    snprintf(ref, sizeof(ref), "OCS-%s-%07d-%d", ymd(T0), sub, k);
    fill_event(&ev, &earn, GW_EV_TOPUP, m, ref, T0 + k * 3600, 50000, NULL);
    if (gw_ledger_commit(T.ledger, &ev, &earn, T0 + k * 3600 + 60, bench_cb, b) < 0) {
        b->errors++;
        b->done = b->total; /* stop: the assertion reports it */
    }
}

static void test_measure__memory_and_throughput(void **state)
{
    (void)state;
    const char *env = getenv("LGW_BENCH_SUBS");
    int subs = env ? atoi(env) : 100000;
    if (subs <= 0)
        skip();
    struct bench b = {.total = subs * 3, .subs = subs};
    long long before = used_memory();
    int64_t t0 = gw_clock_mono_ms();
    for (int i = 0; i < 256; i++)
        bench_issue(&b);
    while (b.done < b.total && gw_clock_mono_ms() - t0 < 600000)
        event_base_loop(T.base, EVLOOP_ONCE);
    int64_t ms = gw_clock_mono_ms() - t0;
    long long after = used_memory();
    assert_int_equal(b.errors, 0);
    RCMD(&cap, "MEMORY USAGE lg:{212600000000}:w");
    long long mw = cap.integer;
    RCMD(&cap, "MEMORY USAGE lg:{212600000000}:r");
    long long mr = cap.integer;
    RCMD(&cap, "MEMORY USAGE lg:{212600000000}:h");
    long long mh = cap.integer;
    printf("MEASURE subscribers=%d events=%d in_flight=256 elapsed_ms=%" PRId64
           " commits_per_s=%.0f\n",
           subs, b.total, ms, ms > 0 ? b.total * 1000.0 / (double)ms : 0.0);
    printf("MEASURE used_memory_delta=%lld bytes_per_subscriber=%.0f (3 events each; "
           "MEMORY USAGE wallet=%lld refs=%lld history=%lld)\n",
           after - before, (double)(after - before) / subs, mw, mr, mh);
}

struct done_wait {
    bool done;
    int err;
};

static void done_cb(void *arg, int err)
{
    struct done_wait *w = arg;
    w->done = true;
    w->err = err;
}

static void test_ledger__deadletter__escaped_capped_in_stream(void **state)
{
    (void)state;
    char raw[3000];
    struct done_wait w = {0};
    memset(raw, 'A', sizeof(raw));
    memcpy(raw,
           "TOPUP\n\x01"
           "bad",
           10);

    assert_int_equal(gw_ledger_deadletter(T.ledger, "smpp{SIM}", raw, sizeof(raw),
                                          "amount: more than 3 fraction digits", T0, done_cb, &w),
                     0);
    assert_true(wait_for(&w.done, 5000));
    assert_int_equal(w.err, 0);
    RCMD(&cap, "XLEN lg:dlq:event");
    assert_int_equal(cap.integer, 1);
    /* XRANGE nests arrays: let Redis flatten the one entry's fields for us. */
    RCMD(&cap, "EVAL %s 0",
         "local e = redis.call('XRANGE', 'lg:dlq:event', '-', '+')[1][2] "
         "local t = {} for i = 1, #e, 2 do t[e[i]] = e[i + 1] end "
         "return {t.raw, t.reason, t.source, t.at, tostring(#t.raw)}");
    const char *p = cap.str;
    assert_true(strncmp(p, "TOPUP\\x0a\\x01badAAA", 19) == 0);
    char *nl = strchr(p, '\n');
    assert_non_null(nl);
    assert_true(nl - p <= 2047);
    assert_true(strncmp(nl - 3, "...", 3) == 0);
    assert_non_null(strstr(cap.str, fmt("\namount: more than 3 fraction digits\nsmpp{SIM}\n"
                                        "%" PRId64 "000\n",
                                        T0)));
}

static void ping_cb(void *arg, int err, const struct redisReply *reply)
{
    int *left = arg;
    (void)reply;
    if (err == 0)
        (*left)--;
}

/* The client's own cost with many requests in flight: each carries a deadline timer. */
static void test_measure__50k_pings_in_flight(void **state)
{
    (void)state;
    /* 50,000 by default; fewer under valgrind (LGW_PINGS), where the driver runs ~50x slower.
     * The wall bound only stops a hung loop: how fast is the benchmark's figure, not a test's. */
    const char *env = getenv("LGW_PINGS");
    int N = env && atoi(env) > 0 ? atoi(env) : 50000;
    int left = N;
    int64_t t0 = gw_clock_mono_ms();
    for (int i = 0; i < N; i++)
        assert_int_equal(gw_redis_commandf(T.redis, ping_cb, &left, "PING"), 0);
    int64_t t1 = gw_clock_mono_ms();
    while (left > 0 && gw_clock_mono_ms() - t0 < 600000)
        event_base_loop(T.base, EVLOOP_ONCE);
    int64_t t2 = gw_clock_mono_ms();
    assert_int_equal(left, 0);
    printf("MEASURE pings=%d submit_ms=%" PRId64 " all_answered_ms=%" PRId64 " per_s=%.0f\n", N,
           t1 - t0, t2 - t0, t2 > t0 ? N * 1000.0 / (double)(t2 - t0) : 0.0);
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] == '/')
        setenv("LGW_REDIS_SOCK", argv[1], 1);
    else if (argc > 1)
        setenv("LGW_REDIS_PORT", argv[1], 1);
    /* Local days in these cases are UTC days (gw_local_day: the programme zone, UTC unless a
     * zone is loaded). */
    T.tmp = getenv("LGW_TMP");
    gw_log_set_level(GW_LOG_ERROR);
    if (getenv("LGW_VERBOSE"))
        gw_log_set_level(GW_LOG_DEBUG);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ledger__topup__credits_balance_history_lot, setup),
        cmocka_unit_test_setup(test_ledger__duplicate_ref__credits_once, setup),
        cmocka_unit_test_setup(test_ledger__two_small_topups__remainder_makes_one_point, setup),
        cmocka_unit_test_setup(test_ledger__daily_cap__forfeits_then_next_day_resets, setup),
        cmocka_unit_test_setup(test_ledger__tier_upgrade__multiplier_applies_to_later_events,
                               setup),
        cmocka_unit_test_setup(test_ledger__reversal__takes_back_exactly_and_marks, setup),
        cmocka_unit_test_setup(test_ledger__reversal_of_unknown__noop_recorded, setup),
        cmocka_unit_test_setup(test_ledger__double_reversal__second_is_noop, setup),
        cmocka_unit_test_setup(
            test_ledger__reversal_after_redemption__balance_negative_no_negative_lot, setup),
        cmocka_unit_test_setup(test_exact__issue_cases__remainder_carried_exactly, setup),
        cmocka_unit_test_setup(test_exact__random_amounts__sum_earns_floor_of_total, setup),
        cmocka_unit_test_setup(test_exact__reversal_before_original__no_net_credit, setup),
        cmocka_unit_test_setup(
            test_ledger__cap_and_fraction_fields_of_release_before__read_then_packed, setup),
        cmocka_unit_test_setup(test_ledger__no_daily_cap__no_cap_field, setup),
        cmocka_unit_test_setup(test_exact__ref_of_another_msisdn__conflict, setup),
        cmocka_unit_test_setup(test_exact__ref_in_old_index_hash__conflict, setup),
        cmocka_unit_test_setup(test_exact__corrupt_wallet__permanent_error, setup),
        cmocka_unit_test_setup(test_lots__credit_in_L__old_fields_merged_then_folded, setup),
        cmocka_unit_test_setup(test_lots__corrupt_L__permanent_error, setup),
        cmocka_unit_test_setup(test_lots__never_expire__folded_bounded_then_dated, setup),
        cmocka_unit_test_setup(test_ledger__old_refs_hash__still_read, setup),
        cmocka_unit_test_setup(test_ledger__refs_field_of_release_before__read_then_dropped, setup),
        cmocka_unit_test_setup(test_ledger__script_flush__noscript_falls_back_to_eval, setup),
        cmocka_unit_test_setup(test_ledger__malformed_args__error_and_no_write, setup),
        cmocka_unit_test_setup(test_redis__paused_server__deadline_then_late_reply_dropped, setup),
        cmocka_unit_test_setup(test_redis__free_with_pending__cancels_each_once, setup),
        cmocka_unit_test_setup(test_redis__silent_peer__connect_deadline_and_retries, setup),
        cmocka_unit_test_setup(test_redis__server_killed__pending_fail_then_reconnects, setup),
        cmocka_unit_test_setup(test_ledger__1000_pipelined_commits__exact_sums, setup),
        cmocka_unit_test_setup(test_ledger__many_refs__pruned_to_retention, setup),
        cmocka_unit_test_setup(test_brakes__velocity_caps__parallel_events_held_never_lost, setup),
        cmocka_unit_test_setup(test_ledger__deadletter__escaped_capped_in_stream, setup),
        cmocka_unit_test_setup(test_measure__memory_and_throughput, setup),
        cmocka_unit_test_setup(test_measure__50k_pings_in_flight, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

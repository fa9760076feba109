/*
 * bench_ledger.c - the ledger's memory and throughput at scale (issue 9, section 4). Not a test:
 * it prints figures (tests/bench/RESULTS.md records them).
 *
 *   bench_ledger SOCKET [SUBSCRIBERS] [IN_FLIGHT] [OLD_SCRIPT]    (BENCH_LEDGER_PHASES=1: 1 only)
 * Environment: BENCH_LEDGER_CONFIG a loyaltygw.json (deploy/'s: the shipped configuration) whose
 * ledger, loyalty table, brakes, expiry levels and time zone the bench takes, as main.c does
 * (unset: gw_loyalty_default, lifetime tiers, no cap, no expiry); BENCH_LEDGER_BUCKETS the ref
 * index buckets; BENCH_LEDGER_TURNS the kinds of turns of phase 1 (default "path,raw,minimal";
 * "raw" alone to time the script); BENCH_LEDGER_COMMIT a commit.lua file the raw turns run
 * instead of the embedded one (to compare variants of the script with the same arguments);
 * BENCH_LEDGER_NOW the time of the run (unix s; default the clock's): the same events twice;
 * BENCH_LEDGER_ORDER=load phase 1's turns send the SMPP load of tests/bench/ledger_gw.sh, event
 * for event (see make_event): all SUBSCRIBERS x 5 events per turn, on a Redis that grows from
 * empty to the whole load, in chunks of BENCH_LEDGER_CHUNK subscribers as the load's chunks;
 * BENCH_LEDGER_ROUNDS the rounds of phase 1's turns (default 2).
 *
 * 1. Throughput, in turns on an empty Redis: the ledger path (gw_loyalty_earn + gw_ledger_commit,
 *    as the gateway calls it, one Redis: the claim of the ref inside the script) against the raw
 *    commit script (EVALSHA of the same lua/commit.lua with the keys and arguments the gateway
 *    passes, built once per event by gw_ledger_commit_args, without the ledger's steps, context
 *    and reply parsing), the same events, IN_FLIGHT requests in flight; events/s of each and the
 *    ratio. Then the minimal call of the releases before (one tier by lifetime points, no cap, no
 *    aggregate, expiry or tier review key): the script's floor, not the gateway's work.
 *    OLD_SCRIPT (optional): the commit script of the release before (tests/bench/ledger.sh takes
 *    it from git), run the same way with its own arguments: what the new ledger costs in Redis.
 * 2. Memory: SUBSCRIBERS subscribers x 5 events of a typical month (3 TOPUP, 1 BILL, 1 USAGE on
 *    5 days of the last 30, refs like the carrier's "OCS-YYYYMMDD-NNNNNNN") through the ledger
 *    path; bytes per subscriber all-in (INFO used_memory), MEMORY USAGE per key kind, then 5 more
 *    events for 10,000 of them: bytes per further remembered ref.
 * 3. Busy subscribers: 200 subscribers x 500 events each (up to 500 refs remembered), events/s
 *    against the typical month's: a commit must not slow down with the subscriber's history.
 *
 * Ownership: one event_base, one client, one ledger for the run; the callbacks count.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_config.h"
#include "gw_core.h"
#include "gw_expiry.h"
#include "gw_ledger.h"
#include "gw_redis.h"

extern const char gw_lua_commit[];
extern const size_t gw_lua_commit_len;

#define DAY INT64_C(86400)

static struct event_base *base;
static struct gw_redis *redis;
static struct gw_ledger *ledger;
static struct gw_ledger_config lcfg;
static struct gw_loyalty table;
static int64_t now_s;
static unsigned in_flight = 256;

struct run {
    long next, total, done, errors;
    long sub0;   /* first subscriber number */
    int per_sub; /* events per subscriber */
    int k0;      /* first event index of each subscriber */
    int kind; /* TURN_PATH, TURN_RAW, TURN_MINIMAL, TURN_OLD */
    int script;
};

enum { TURN_PATH, TURN_RAW, TURN_MINIMAL, TURN_OLD };

static void issue(struct run *r);

static void tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* BENCH_LEDGER_ORDER=load: the events of tests/bench/ledger_gw.sh's SMPP load (its gen()), in
 * its order: the subscribers in chunks of load_chunk (0: one chunk), within a chunk the k-th event
 * of every subscriber before the (k+1)-th; its refs "OCS-<sub>-<kkk>", its periods and amounts
 * (whole centimes, 5.00 to 204.99 MAD). Default: each subscriber's events back to back, refs
 * "OCS-<sub>-<kkkkkkk>", amounts in thousandths. */
static bool order_load;
static long load_chunk;

static void make_event(const struct run *r, long i, struct gw_event *ev)
{
    long nsubs = r->total / r->per_sub > 0 ? r->total / r->per_sub : 1;
    long sub = r->sub0 + i / r->per_sub;
    int k = r->k0 + (int)(i % r->per_sub);
    if (order_load) {
        long chunk = load_chunk > 0 && load_chunk < nsubs ? load_chunk : nsubs;
        long c = i / (chunk * r->per_sub), j = i % (chunk * r->per_sub);
        long n = nsubs - c * chunk < chunk ? nsubs - c * chunk : chunk; /* the last chunk's */
        sub = r->sub0 + c * chunk + j % n;
        k = r->k0 + (int)(j / n);
    }
    static const enum gw_event_kind kinds[5] = {GW_EV_TOPUP, GW_EV_BILL, GW_EV_TOPUP,
                                                GW_EV_USAGE, GW_EV_TOPUP};
    memset(ev, 0, sizeof(*ev));
    ev->kind = kinds[k % 5];
    snprintf(ev->msisdn, sizeof(ev->msisdn), "2126%08ld", sub);
    /* a month: 5 events 6 days apart, the oldest 28 days ago; later ones on the same days */
    ev->at = now_s - 28 * DAY + (k % 5) * 6 * DAY + (k / 5 % 72) * 3600;
    snprintf(ev->ref, sizeof(ev->ref), order_load ? "OCS-%08ld-%03d" : "OCS-%08ld-%07d", sub, k);
    snprintf(ev->currency, sizeof(ev->currency), "MAD");
    if (ev->kind == GW_EV_TOPUP) /* as tests/bench/ledger_gw.sh sends them */
        snprintf(ev->channel, sizeof(ev->channel), "voucher");
    if (order_load && ev->kind != GW_EV_TOPUP) { /* the load's period=YYYY-MM (UTC) */
        time_t at = (time_t)ev->at;
        struct tm tm;
        gmtime_r(&at, &tm);
        strftime(ev->period, sizeof(ev->period), "%Y-%m", &tm);
    }
    ev->amount_milli = order_load ? 10 * (500 + (int64_t)((sub * 7919 + k * 104729) % 20000))
                                  : 5000 + (int64_t)((sub * 7919 + k * 104729) % 200000);
}

static void done_cb(void *arg, int err, const struct gw_commit_result *res)
{
    struct run *r = arg;
    r->done++;
    if (err || (res->outcome != GW_COMMIT_CREDITED && res->outcome != GW_COMMIT_DUPLICATE))
        r->errors++;
    issue(r);
}

static void bare_cb(void *arg, int err, const struct redisReply *reply)
{
    struct run *r = arg;
    r->done++;
    if (err || reply->type != REDIS_REPLY_ARRAY)
        r->errors++;
    else if (r->kind == TURN_RAW && /* credited or duplicate, as done_cb counts them */
             (reply->elements < 1 || reply->element[0]->type != REDIS_REPLY_INTEGER ||
              reply->element[0]->integer > GW_COMMIT_DUPLICATE))
        r->errors++;
    issue(r);
}

/* The raw script: the keys and arguments gw_ledger_commit passes commit.lua for this event and
 * this configuration (one Redis), sent as one EVALSHA; the rule ids are the first ones of the
 * dictionary (the ledger path registers its texts once, and they are mere numbers here). */
static int raw_commit(struct run *r, const struct gw_event *ev, const struct gw_earn *earn)
{
    static const int ids[GW_MAX_TIERS] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct gw_ledger_args a;
    int rc = gw_ledger_commit_args(ledger, ev, earn, now_s, &a);
    if (rc < 0)
        return rc;
    gw_ledger_args_rules(&a, ids, (int)table.n_tiers);
    return gw_redis_script_run(redis, r->script, a.nkeys, a.argc, a.argv, a.argvlen, bare_cb, r);
}

/* The minimal call: the arguments commit.lua takes on one Redis, built by a plain loop. */
/* The keys of one subscriber (kinds "w" today, "wrh" for main's script), then "E ref kind now at
 * day" into argv from n; a holds the texts. Returns the new n. */
static int head_args(const struct gw_event *ev, const char *kinds, char k[][48], char a[][48],
                     const char **argv, int n, int *nkeys, const char *extra_keys[], int nextra)
{
    for (int i = 0; kinds[i]; i++) {
        snprintf(k[i], 48, "lg:{%s}:%c", ev->msisdn, kinds[i]);
        argv[n++] = k[i];
    }
    for (int i = 0; i < nextra; i++)
        argv[n++] = extra_keys[i];
    *nkeys = n;
    argv[n++] = "E";
    argv[n++] = ev->ref;
    argv[n++] = gw_event_kind_name(ev->kind);
    snprintf(a[0], 48, "%" PRId64, now_s);
    snprintf(a[1], 48, "%" PRId64, ev->at);
    snprintf(a[2], 48, "%08" PRId32, gw_local_day(ev->at));
    for (int i = 0; i < 3; i++)
        argv[n++] = a[i];
    return n;
}

static int minimal_commit(struct run *r, const struct gw_event *ev, const struct gw_earn *earn)
{
    char k[6][48], a[16][48];
    const char *argv[32];
    int64_t plen = 31 * DAY, period = now_s / plen; /* as gw_ledger.c for 31 days */
    unsigned bucket = 5381;
    for (const char *p = ev->ref; *p; p++)
        bucket = bucket * 33u + (unsigned char)*p;
    bucket %= lcfg.ref_index_buckets;
    char ik[4][48]; /* as gw_ledger.c: the strings lg:rs, then the hashes of the release before */
    const char *ikp[4] = {ik[0], ik[1], ik[2], ik[3]};
    for (int i = 0; i < 2; i++) {
        snprintf(ik[i], sizeof(ik[i]), "lg:rs:{b%u}:%" PRId64, bucket, period - i);
        snprintf(ik[2 + i], sizeof(ik[i]), "lg:ri:{b%u}:%" PRId64, bucket, period - i);
    }
    int nkeys;
    int n = head_args(ev, "w", k, a, argv, 0, &nkeys, ikp, 4);
    snprintf(a[3], 48, "%" PRId64, earn->whole);
    snprintf(a[4], 48, "%" PRId64, earn->frac_num);
    snprintf(a[5], 48, "%" PRId64, earn->frac_den);
    snprintf(a[6], 48, "%" PRId64, (period + 1) * plen + 31 * DAY);
    for (int i = 3; i < 6; i++)
        argv[n++] = a[i];
    argv[n++] = "0";
    argv[n++] = "2678400";
    argv[n++] = "20";
    argv[n++] = "1"; /* the rule's id in lg:rules (the ledger path registers it once) */
    argv[n++] = "";
    snprintf(a[7], 48, "%" PRId64, ev->amount_milli);
    argv[n++] = a[7];
    argv[n++] = "1";
    argv[n++] = "standard";
    argv[n++] = "0";
    argv[n++] = "100";
    argv[n++] = "0"; /* tiers by lifetime points (gw_tier.h), window, grace, today */
    argv[n++] = "12";
    argv[n++] = "30";
    snprintf(a[8], 48, "%08" PRId32, gw_local_day(now_s));
    argv[n++] = a[8];
    argv[n++] = a[6];
    return gw_redis_script_run(redis, r->script, nkeys, n, argv, NULL, bare_cb, r);
}

/* The release before: KEYS w r h; ARGV op ref kind now at day milli cap retention hlen rule orig
 * ntiers + triples. */
static int old_commit(struct run *r, const struct gw_event *ev, const struct gw_earn *earn)
{
    char k[3][48], a[6][48];
    const char *argv[24];
    int nkeys;
    int n = head_args(ev, "wrh", k, a, argv, 0, &nkeys, NULL, 0);
    snprintf(a[3], 48, "%" PRId64, earn->milli);
    argv[n++] = a[3];
    argv[n++] = "0";
    argv[n++] = "2678400";
    argv[n++] = "20";
    argv[n++] = earn->rule;
    argv[n++] = "";
    argv[n++] = "1";
    argv[n++] = "standard";
    argv[n++] = "0";
    argv[n++] = "100";
    return gw_redis_script_run(redis, r->script, nkeys, n, argv, NULL, bare_cb, r);
}

static void issue(struct run *r)
{
    while (r->next < r->total && r->next - r->done < (long)in_flight) {
        struct gw_event ev;
        struct gw_earn earn;
        make_event(r, r->next, &ev);
        r->next++;
        if (gw_loyalty_earn(&table, &ev, &earn) < 0) {
            r->errors++, r->done++;
            continue;
        }
        int rc = r->kind == TURN_OLD       ? old_commit(r, &ev, &earn)
                 : r->kind == TURN_RAW     ? raw_commit(r, &ev, &earn)
                 : r->kind == TURN_MINIMAL ? minimal_commit(r, &ev, &earn)
                                           : gw_ledger_commit(ledger, &ev, &earn, now_s, done_cb, r);
        if (rc < 0) {
            r->errors++, r->done++;
        }
    }
}

static double run_events(struct run *r)
{
    int64_t t0 = gw_clock_mono_ms();
    issue(r);
    while (r->done < r->total)
        event_base_loop(base, EVLOOP_ONCE);
    int64_t ms = gw_clock_mono_ms() - t0;
    return ms > 0 ? (double)r->total * 1000.0 / (double)ms : 0;
}

/* A synchronous command on the loop (the bench's own reads). */
struct sync {
    bool done;
    long long integer;
    char str[8192];
};

static void sync_cb(void *arg, int err, const struct redisReply *reply)
{
    struct sync *s = arg;
    s->done = true;
    if (err)
        return;
    if (reply->type == REDIS_REPLY_INTEGER)
        s->integer = reply->integer;
    else if (reply->type == REDIS_REPLY_STRING || reply->type == REDIS_REPLY_STATUS ||
             reply->type == REDIS_REPLY_ERROR)
        snprintf(s->str, sizeof(s->str), "%.*s", (int)reply->len, reply->str);
}

static struct sync cmd(const char *fmt, const char *a1)
{
    struct sync s = {0};
    if (gw_redis_commandf(redis, sync_cb, &s, fmt, a1) < 0) {
        fprintf(stderr, "command failed: %s\n", fmt);
        exit(1);
    }
    while (!s.done)
        event_base_loop(base, EVLOOP_ONCE);
    return s;
}

static long long used_memory(void)
{
    struct sync s = cmd("INFO %s", "memory");
    const char *p = strstr(s.str, "used_memory:");
    return p ? atoll(p + 12) : -1;
}

/* Redis's own CPU time per EVALSHA since the last CONFIG RESETSTAT (INFO commandstats): what a
 * commit costs the server, less sensitive to a busy machine than events/s. */
static double usec_per_evalsha(void)
{
    struct sync s = cmd("INFO %s", "commandstats");
    const char *p = strstr(s.str, "cmdstat_evalsha:");
    p = p ? strstr(p, "usec_per_call=") : NULL;
    return p ? atof(p + 14) : 0;
}

/* Redis's own CPU so far (INFO cpu: used_cpu_user + used_cpu_sys, the whole process), seconds:
 * what a turn cost the server, whatever the machine's load did to its wall time. */
static double redis_cpu_s(void)
{
    struct sync s = cmd("INFO %s", "cpu");
    const char *u = strstr(s.str, "used_cpu_user:"), *y = strstr(s.str, "used_cpu_sys:");
    return (u ? atof(u + 14) : 0) + (y ? atof(y + 13) : 0);
}

/* An empty Redis; the ledger's rule cache starts afresh too (its ids name texts of lg:rules). */
static void flush(void)
{
    cmd("FLUSHALL %s", "SYNC");
    if (ledger)
        gw_ledger_set_table(ledger, &table);
}

static long long mem_usage(const char *key)
{
    return cmd("MEMORY USAGE %s SAMPLES 0", key).integer;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ledger SOCKET [SUBSCRIBERS] [IN_FLIGHT]\n");
        return 2;
    }
    long subs = argc > 2 ? atol(argv[2]) : 1000000;
    if (argc > 3)
        in_flight = (unsigned)atoi(argv[3]);
    char *old_body = NULL;
    size_t old_len = 0;
    if (argc > 4) {
        FILE *f = fopen(argv[4], "r");
        if (f) {
            old_body = calloc(1, 1 << 20);
            old_len = old_body ? fread(old_body, 1, (1 << 20) - 1, f) : 0;
            fclose(f);
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* each figure as soon as it is measured */
    order_load = getenv("BENCH_LEDGER_ORDER") && strcmp(getenv("BENCH_LEDGER_ORDER"), "load") == 0;
    load_chunk = getenv("BENCH_LEDGER_CHUNK") ? atol(getenv("BENCH_LEDGER_CHUNK")) : 0;
    int rounds = getenv("BENCH_LEDGER_ROUNDS") ? atoi(getenv("BENCH_LEDGER_ROUNDS")) : 2;
    if (rounds < 1)
        rounds = 1;
    now_s = getenv("BENCH_LEDGER_NOW") ? atoll(getenv("BENCH_LEDGER_NOW")) : (int64_t)time(NULL);
    const char *cfg_path = getenv("BENCH_LEDGER_CONFIG");
    static struct gw_config gcfg;
    char err[256];
    if (cfg_path && gw_config_load(cfg_path, &gcfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (cfg_path)
        gw_config_apply_timezone(&gcfg); /* else the programme zone stays UTC */

    base = event_base_new();
    struct event *tk = event_new(base, -1, EV_PERSIST, tick, NULL);
    struct timeval tv = {0, 10000};
    event_add(tk, &tv);
    struct gw_redis_config rcfg;
    gw_redis_config_defaults(&rcfg);
    snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", argv[1]);
    rcfg.request_timeout_ms = 30000;
    redis = gw_redis_new(base, &rcfg);
    gw_ledger_config_defaults(&lcfg);
    lcfg.history_len = 20; /* deploy/loyaltygw.json */
    /* buckets sized as deploy/loyaltygw.json advises (refs per period / 500, at least 4096), so
     * that each bucket stays a listpack */
    if (subs * 5 / 400 > (long)lcfg.ref_index_buckets)
        lcfg.ref_index_buckets = (uint32_t)(subs * 5 / 400);
    gw_loyalty_default(&table);
    if (cfg_path) { /* as main.c sets the ledger up */
        lcfg = gcfg.ledger;
        table = gcfg.loyalty;
        lcfg.vel_events_hour = gcfg.brakes.events_per_hour;
        lcfg.vel_events_day = gcfg.brakes.events_per_day;
        lcfg.vel_points_hour = gcfg.brakes.points_per_hour;
        lcfg.vel_points_day = gcfg.brakes.points_per_day;
    }
    lcfg.single_node = true;
    const char *buckets = getenv("BENCH_LEDGER_BUCKETS");
    if (buckets && atol(buckets) > 0)
        lcfg.ref_index_buckets = (uint32_t)atol(buckets);
    ledger = gw_ledger_new(redis, &lcfg, &table);
    if (cfg_path && ledger) {
        uint32_t levels[GW_EXPIRY_LEVELS_MAX];
        int nl = gw_expiry_parse_levels(gcfg.expiry.warn_days, levels, GW_EXPIRY_LEVELS_MAX);
        gw_ledger_set_expiry_levels(ledger, levels, nl > 0 ? (size_t)nl : 0);
    }
    /* the raw turns' script: the embedded one, or a variant from a file */
    char *raw_body = NULL;
    size_t raw_len = 0;
    if (getenv("BENCH_LEDGER_COMMIT")) {
        FILE *f = fopen(getenv("BENCH_LEDGER_COMMIT"), "r");
        raw_body = f ? calloc(1, 1 << 20) : NULL;
        raw_len = raw_body ? fread(raw_body, 1, (1 << 20) - 1, f) : 0;
        if (f)
            fclose(f);
        if (raw_len == 0) {
            fprintf(stderr, "cannot read BENCH_LEDGER_COMMIT\n");
            return 2;
        }
    }
    int script = gw_redis_script_add(redis, gw_lua_commit, gw_lua_commit_len);
    int raw_script = raw_body ? gw_redis_script_add(redis, raw_body, raw_len) : script;
    free(raw_body);
    int old_script = old_len > 0 ? gw_redis_script_add(redis, old_body, old_len) : -1;
    free(old_body);
    if (!redis || !ledger || script < 0 || raw_script < 0)
        return 1;
    gw_redis_start(redis);
    int64_t end = gw_clock_mono_ms() + 5000;
    while (!gw_redis_is_connected(redis) && gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    if (!gw_redis_is_connected(redis)) {
        fprintf(stderr, "no Redis at %s\n", argv[1]);
        return 1;
    }

    /* 1. throughput in turns: path, raw, minimal (, main's), path, raw, minimal (, main's);
     * 20,000 subscribers x 5 events each (the load's order: all SUBSCRIBERS x 5) */
    long turn_events = subs * 5 < 100000 || order_load ? subs * 5 : 100000;
    printf("throughput, %u commits in flight, %ld events per turn on an empty Redis, %s, "
           "%" PRIu32 " ref index buckets, %s:\n", in_flight, turn_events,
           cfg_path ? cfg_path : "built-in table (lifetime tiers, no cap)",
           lcfg.ref_index_buckets,
           order_load ? "the SMPP load's events and order" : "each subscriber's events together");
    const char *turns_env = getenv("BENCH_LEDGER_TURNS");
    const char *turns = turns_env ? turns_env : "path,raw,minimal";
    int kinds[4], nkinds = 0;
    static const char *const kname[4] = {"path", "raw", "minimal", "old"};
    for (int k = 0; k < 3; k++)
        if (strstr(turns, kname[k]))
            kinds[nkinds++] = k;
    if (old_script >= 0)
        kinds[nkinds++] = TURN_OLD;
    double sum[4] = {0}, us_sum[4] = {0};
    static const char *const name[4] = {"ledger path (gw_ledger)", "raw commit script",
                                        "minimal call (not the gw's)", "commit script of main"};
    for (int turn = 0; turn < rounds * nkinds; turn++) {
        flush();
        int which = kinds[turn % nkinds];
        struct run r = {.total = turn_events, .sub0 = order_load ? 20000000 : 10000000,
                        .per_sub = 5, .kind = which,
                        .script = which == TURN_OLD ? old_script
                                  : which == TURN_RAW ? raw_script : script};
        cmd("CONFIG %s", "RESETSTAT");
        double c0 = redis_cpu_s();
        double rate = run_events(&r);
        double us = usec_per_evalsha();
        double cpu_us = (redis_cpu_s() - c0) * 1e6 / (double)r.total;
        printf("  %-28s %9.0f events/s  %6.2f us of Redis CPU per script call  (%ld errors)  "
               "%.1f us of Redis process CPU per event\n", name[which], rate, us, r.errors, cpu_us);
        sum[which] += rate;
        us_sum[which] += us;
    }
    for (int k = 0; k < 4; k++)
        if (sum[k] > 0)
            printf("  mean of %d: %-28s %9.0f events/s  %6.2f us of Redis CPU per call\n",
                   rounds, name[k], sum[k] / rounds, us_sum[k] / rounds);
    if (sum[TURN_RAW] > 0 && sum[TURN_PATH] > 0)
        printf("  ratio ledger path / raw script (the same keys and arguments): %.2f\n",
               sum[TURN_PATH] / sum[TURN_RAW]);
    if (sum[TURN_OLD] > 0 && sum[TURN_PATH] > 0)
        printf("  ratio ledger path / main's commit script: %.2f\n", sum[TURN_PATH] / sum[TURN_OLD]);

    /* BENCH_LEDGER_PHASES=1: the throughput only (tests/bench/ledger_gw.sh loads the memory
     * through the gateway instead) */
    const char *phases = getenv("BENCH_LEDGER_PHASES");
    if (phases && strcmp(phases, "1") == 0)
        goto out;

    /* 2. memory */
    flush();
    long long m0 = used_memory();
    struct run r = {.total = subs * 5, .sub0 = 20000000, .per_sub = 5};
    double rate = run_events(&r);
    long long m1 = used_memory();
    printf("memory: %ld subscribers x 5 events (a typical month) through the ledger path, "
           "%.0f events/s, %ld errors, %u ref index buckets\n", subs, rate, r.errors,
           lcfg.ref_index_buckets);
    printf("  used_memory +%lld bytes = %.0f bytes per subscriber all-in\n", m1 - m0,
           (double)(m1 - m0) / (double)subs);
    /* MEMORY USAGE per key kind, averaged over 1,000 subscribers */
    long long w = 0, rf = 0, h = 0, e = 0;
    char key[64];
    for (long s = 0; s < 1000; s++) {
        long sub = 20000000 + s * (subs / 1000 > 0 ? subs / 1000 : 1);
        snprintf(key, sizeof(key), "lg:{2126%08ld}:w", sub);
        w += mem_usage(key);
        e += cmd("HSTRLEN %s E", key).integer;
        key[strlen(key) - 1] = 'r';
        rf += mem_usage(key);
        key[strlen(key) - 1] = 'h';
        h += mem_usage(key);
    }
    struct sync nkeys = cmd("DBSIZE%s", "");
    long long idx = 0, nidx = 0;
    for (unsigned b = 0; b < 64; b++) {
        char ik[48];
        snprintf(ik, sizeof(ik), "lg:rs:{b%u}:%" PRId64, b, now_s / (31 * DAY));
        long long u = mem_usage(ik);
        if (u > 0) {
            idx += u;
            nidx += cmd("STRLEN %s", ik).integer / 13; /* 13-byte records */
        }
    }
    printf("  MEMORY USAGE per subscriber: wallet %lld (with its refs R and history E: %lld B "
           "of E), history list %lld, old refs hash %lld bytes\n", w / 1000, e / 1000, h / 1000,
           rf / 1000);
    printf("  keys: %lld in all for %ld subscribers (one wallet each, lg:rules %lld B for %lld "
           "texts, the rest is the ref index)\n", nkeys.integer, subs,
           mem_usage("lg:rules"), (cmd("HLEN %s", "lg:rules").integer - 1) / 2);
    if (nidx > 0)
        printf("  ref index: %.1f bytes per ref (MEMORY USAGE of 64 buckets / their refs)\n",
               (double)idx / (double)nidx);
    /* 5 more events for 10,000 subscribers: the cost of each further remembered ref */
    long more = subs < 10000 ? subs : 10000;
    struct run r2 = {.total = more * 5, .sub0 = 20000000, .per_sub = 5, .k0 = 5};
    run_events(&r2);
    long long m2 = used_memory();
    printf("  5 more events for %ld subscribers: +%lld bytes = %.1f bytes per further ref "
           "(refs, history entry, lot and index share)\n", more, m2 - m1,
           (double)(m2 - m1) / (double)(more * 5));

    /* 3. busy subscribers, on an empty Redis, against 100,000 fresh subscribers x 1 event */
    flush();
    struct run busy = {.total = 200 * 500, .sub0 = 30000000, .per_sub = 500};
    double busy_rate = run_events(&busy);
    flush();
    struct run fresh = {.total = 100000, .sub0 = 40000000, .per_sub = 1};
    double fresh_rate = run_events(&fresh);
    printf("busy subscribers: 200 x 500 events %.0f events/s (%ld errors), 100,000 x 1 event "
           "%.0f events/s: ratio %.2f\n", busy_rate, busy.errors, fresh_rate,
           fresh_rate > 0 ? busy_rate / fresh_rate : 0);

out:
    gw_ledger_free(ledger);
    gw_redis_free(redis);
    event_free(tk);
    event_base_free(base);
    return 0;
}

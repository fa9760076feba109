/*
 * bench_redeem.c - the gift-day rush benchmark (issue 4), owned by the redemption engineer:
 * 100,000 redemption attempts by 50,000 subscribers at the opening of a gift day, on one hot item
 * (stock 1,000) and ten ordinary items (stock 2,000 each), limit 1 per subscriber per gift day.
 * Prints (does not assert on speed) the exact grant counts, attempts/s and the p50/p99/max
 * latency of the confirm step (cat_redeem_confirm call -> callback: reserve, debit, confirm,
 * XADD, queued). Exits 1 only when the grant counts are wrong.
 *
 *   bench_redeem REDIS_SOCKET [IN_FLIGHT (256)] [ATTEMPTS (100000)] [SUBSCRIBERS (50000)]
 *                [OPENING (fcfs | staggered | walk-in)]
 *
 * OPENING (issue 12) sets every item's opening and when the members come, in simulated time (the
 * redemption's injected "now"; each attempt is spread over its minute by j % 60 seconds):
 *   fcfs       first come first served, everybody in the first minute of the gift day (as before)
 *   staggered  4 cohorts over 60 minutes; each member knows their slot (the SMS of the day
 *              before) and comes in its first minute
 *   walk-in    the same opening, but everybody comes in the first minute anyway; a member not yet
 *              released is told their slot and comes back then
 * Besides the rate, it prints the attempts per simulated minute (attempts/s = attempts / 60):
 * the peak the opening puts on the gateways, for the same stock and members.
 *
 * Attempt j is made by subscriber j % SUBS; even attempts go to the hot item, odd ones to
 * ordinary item (j / 2) % 10. So 25,000 subscribers want the hot item twice each (the second is
 * refused by the limit) and 2,500 subscribers want each ordinary item: exactly 1,000 + 10 x
 * 2,000 grants, whatever the interleaving.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "catalog.h"
#include "gw_core.h"
#include "gw_redis.h"

#include "../test_clock.h"

/* The rush's "now": the last Wednesday before today, 00:00 in Casablanca, by the real clock (Redis
 * counts expiries on it); the lots are 60 and 30 days older. Set in main from the calendar's zone.
 */
static int64_t T0;
static int32_t LOT_OLD, LOT_NEW;
#define N_ORD 10
#define HOT_STOCK 1000
#define ORD_STOCK 2000

static struct event_base *base;
static struct gw_redis *redis;
static struct cat_redeem *rd;
static struct cat_store *store;

static int attempts, subs, in_flight_max;
static int next_j, in_flight, done_n, seeded;
static int64_t *lat_us;
static int64_t *start_us;
static int outcomes[CAT_REDEEM__COUNT];
static int granted_item[N_ORD + 1];
static int errors;

#define COHORTS 4
#define OPENING_MIN 60
enum opening { OP_FCFS, OP_STAGGERED, OP_WALKIN };
static enum opening opening;
/* One attempt in simulated time: attempt j at `at`; launched in the order of `at`. */
struct attempt {
    int64_t at;
    int j;
};
static struct attempt *plan;   /* the first attempts, then the walk-ins' returns */
static int n_plan, cap_plan, launch_end; /* launch() goes up to launch_end */
static int per_min[OPENING_MIN + 120][2]; /* per simulated minute: attempts, granted */

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_seed(void *arg, int err, const struct redisReply *r)
{
    (void)arg;
    if (err < 0 || !r || r->type == REDIS_REPLY_ERROR)
        errors++;
    seeded++;
}

static void launch(void);

static int minute_of(int64_t at)
{
    int64_t m = (at - T0) / 60;
    return m < 0 ? 0 : m >= OPENING_MIN + 120 ? OPENING_MIN + 119 : (int)m;
}

static void on_done(void *arg, int err, const struct cat_redeem_result *res)
{
    int p = (int)(intptr_t)arg, j = plan[p].j;
    lat_us[j] = now_us() - start_us[j];
    in_flight--;
    done_n++;
    if (err < 0)
        errors++;
    else {
        outcomes[res->outcome]++;
        if (res->outcome == CAT_REDEEM_GRANTED) {
            granted_item[(j % 2 == 0) ? 0 : 1 + (j / 2) % N_ORD]++;
            per_min[minute_of(plan[p].at)][1]++;
        }
        if (res->outcome == CAT_REDEEM_NOT_RELEASED && n_plan < cap_plan) {
            /* told their slot: comes back then (appended; launched after the first pass) */
            plan[n_plan].at = res->next_open + j % 60;
            plan[n_plan].j = j;
            n_plan++;
        }
    }
    launch();
}

static void launch(void)
{
    static struct cat_catalog *c;
    char m[24], src[32];

    if (!c)
        c = cat_store_current(store);
    while (in_flight < in_flight_max && next_j < launch_end) {
        int p = next_j++, j = plan[p].j;
        char item[16];
        if (j % 2 == 0)
            snprintf(item, sizeof(item), "HOT");
        else
            snprintf(item, sizeof(item), "ORD%d", (j / 2) % N_ORD);
        snprintf(m, sizeof(m), "2127%08d", j % subs);
        snprintf(src, sizeof(src), "ussd:%s:s%d", m, j / subs);
        struct cat_redeem_request rq = {
            .msisdn = m,
            .version = cat_catalog_version(c),
            .item_id = item,
            .price = cat_catalog_find(c, item)->price,
            .rid_source = src,
            .now = plan[p].at,
        };
        per_min[minute_of(plan[p].at)][0]++;
        start_us[j] = now_us();
        int rc = cat_redeem_confirm(rd, &rq, on_done, (void *)(intptr_t)p);
        if (rc < 0) {
            errors++;
            done_n++;
            lat_us[j] = 0;
            continue;
        }
        in_flight++;
    }
}

static int cmp_at(const void *a, const void *b)
{
    const struct attempt *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : x->j - y->j;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int build_catalog(void)
{
    static char text[32768];
    size_t off = 0;
    off += (size_t)snprintf(text + off, sizeof(text) - off, "{\"version\":\"bench.1\",\"items\":[");
    for (int i = 0; i <= N_ORD; i++) {
        char id[16];
        if (i == 0)
            snprintf(id, sizeof(id), "HOT");
        else
            snprintf(id, sizeof(id), "ORD%d", i - 1);
        off += (size_t)snprintf(
            text + off, sizeof(text) - off,
            "%s{\"id\":\"%s\",\"category\":\"data\",\"names\":{\"ar\":\"x\",\"fr\":\"x\","
            "\"en\":\"x\",\"fa\":\"x\"},\"descriptions\":{\"ar\":\"x\",\"fr\":\"x\",\"en\":\"x\","
            "\"fa\":\"x\"},\"price\":%d,\"tier\":\"standard\",\"stock_per_day\":%d,"
            "\"limit_per_day\":1,\"fulfil\":{\"type\":\"provisioning\",\"kind\":\"data\","
            "\"quantity\":1,\"unit\":\"GB\"}%s}",
            i ? "," : "", id, i == 0 ? 500 : 100, i == 0 ? HOT_STOCK : ORD_STOCK,
            opening == OP_FCFS ? ""
                               : ",\"opening\":{\"mode\":\"staggered\",\"cohorts\":4,"
                                 "\"minutes\":60}");
    }
    off += (size_t)snprintf(text + off, sizeof(text) - off, "]}");
    struct cat_catalog *c = NULL;
    char err[256];
    if (cat_catalog_parse(text, off, NULL, &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "catalogue: %s\n", err);
        return -1;
    }
    return cat_catalog_swap(store, c);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_redeem REDIS_SOCKET [IN_FLIGHT] [ATTEMPTS] [SUBSCRIBERS]\n");
        return 2;
    }
    in_flight_max = argc > 2 ? atoi(argv[2]) : 256;
    attempts = argc > 3 ? atoi(argv[3]) : 100000;
    subs = argc > 4 ? atoi(argv[4]) : 50000;
    const char *op = argc > 5 ? argv[5] : "fcfs";
    if (strcmp(op, "fcfs") == 0)
        opening = OP_FCFS;
    else if (strcmp(op, "staggered") == 0)
        opening = OP_STAGGERED;
    else if (strcmp(op, "walk-in") == 0)
        opening = OP_WALKIN;
    else
        return 2;
    if (in_flight_max < 1 || attempts < 2 || subs < 1 || subs > 99999999)
        return 2;
    gw_log_set_level(GW_LOG_ERROR);

    base = event_base_new();
    struct gw_redis_config rcfg;
    gw_redis_config_defaults(&rcfg);
    gw_redis_config_env(&rcfg);
    snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", argv[1]);
    rcfg.request_timeout_ms = 5000;
    redis = gw_redis_new(base, &rcfg);
    store = cat_store_new();
    struct cat_calendar_config cc;
    struct cat_calendar *cal = NULL;
    char err[256];
    static const char gd[] = "{\"timezone\":\"Africa/Casablanca\"}";
    if (!redis || !store || build_catalog() < 0 ||
        cat_calendar_config_parse(gd, strlen(gd), &cc, err, sizeof(err)) < 0 ||
        cat_calendar_new(&cc, NULL, &cal, err, sizeof(err)) < 0)
        return 1;
    const struct cat_tz *tz = cat_calendar_tz(cal);
    int64_t now = (int64_t)time(NULL);
    T0 = tc_local_at(tz, now, -tc_days_since(tz, now, 3), 0, 0);
    LOT_OLD = tc_local_date(tz, T0, -60);
    LOT_NEW = tc_local_date(tz, T0, -30);
    if (T0 < 0 || !LOT_OLD || !LOT_NEW)
        return 1;
    struct cat_redeem_config cfg;
    cat_redeem_config_defaults(&cfg);
    cfg.n_tiers = 1;
    snprintf(cfg.tiers[0], CAT_NAME_MAX, "standard");
    rd = cat_redeem_new(base, redis, store, cal, &cfg);
    gw_redis_start(redis);
    while (!gw_redis_is_connected(redis))
        event_base_loop(base, EVLOOP_ONCE);

    /* 50,000 wallets with two lots each, pipelined */
    for (int s = 0; s < subs; s++) {
        char key[32];
        snprintf(key, sizeof(key), "lg:{2127%08d}:w", s);
        while (gw_redis_commandf(redis, on_seed, NULL,
                                 "HSET %s bal 2000 life 2000 tier standard l:%d 1000 l:%d 1000",
                                 key, (int)LOT_OLD, (int)LOT_NEW) == -ENOBUFS)
            event_base_loop(base, EVLOOP_ONCE);
    }
    while (seeded < subs)
        event_base_loop(base, EVLOOP_ONCE);

    lat_us = calloc((size_t)attempts, sizeof(*lat_us));
    start_us = calloc((size_t)attempts, sizeof(*start_us));
    cap_plan = 2 * attempts;
    plan = calloc((size_t)cap_plan, sizeof(*plan));
    if (!lat_us || !start_us || !plan)
        return 1;
    /* When each member comes first (see the header), in the order of simulated time. */
    struct cat_catalog *cur = cat_store_current(store);
    const struct cat_item *hot = cat_catalog_find(cur, "HOT");
    for (int j = 0; j < attempts; j++) {
        char m[24];
        snprintf(m, sizeof(m), "2127%08d", j % subs);
        plan[j].j = j;
        plan[j].at = (opening == OP_STAGGERED ? cat_cohort_release(hot, m, T0) : T0) + j % 60;
    }
    cat_catalog_unref(cur);
    n_plan = attempts;
    int64_t t0 = now_us();
    /* The first pass, then the walk-ins who were told their slot, in the order of their slot
     * (on_done appends them past launch_end). */
    for (int first = 0; first < n_plan; first = launch_end) {
        launch_end = n_plan;
        qsort(plan + first, (size_t)(launch_end - first), sizeof(*plan), cmp_at);
        launch();
        while (done_n < launch_end)
            event_base_loop(base, EVLOOP_ONCE);
    }
    int total = n_plan;
    int64_t el = now_us() - t0;

    qsort(lat_us, (size_t)attempts, sizeof(*lat_us), cmp64);
    int ord_total = 0, ord_ok = 1;
    for (int i = 1; i <= N_ORD; i++) {
        ord_total += granted_item[i];
        ord_ok &= granted_item[i] == ORD_STOCK;
    }
    printf("gift-day rush: %d attempts by %d subscribers, %d in flight, hot stock %d, "
           "%d ordinary items x %d\n",
           attempts, subs, in_flight_max, HOT_STOCK, N_ORD, ORD_STOCK);
    printf("granted hot %d (expected %d), ordinary %d (expected %d, each item exact: %s)\n",
           granted_item[0], HOT_STOCK, ord_total, N_ORD * ORD_STOCK, ord_ok ? "yes" : "NO");
    printf("outcomes:");
    for (int o = 0; o < CAT_REDEEM__COUNT; o++)
        if (outcomes[o])
            printf(" %s=%d", cat_redeem_outcome_name((enum cat_redeem_outcome)o), outcomes[o]);
    printf(" errors=%d\n", errors);
    printf("opening %s: attempts per simulated minute (attempts/s = attempts / 60)\n", op);
    int peak = 0;
    for (int i = 0; i < OPENING_MIN + 120; i++) {
        if (per_min[i][0])
            printf("  minute %3d  attempts %6d  (%5.0f/s)  granted %5d\n", i, per_min[i][0],
                   per_min[i][0] / 60.0, per_min[i][1]);
        peak = per_min[i][0] > peak ? per_min[i][0] : peak;
    }
    printf("peak minute: %d attempts (%.0f attempts/s); %d attempts in all\n", peak, peak / 60.0,
           total);
    printf("attempts/s %.0f   confirm latency ms: p50 %.2f  p99 %.2f  max %.2f   (%.2f s)\n",
           total / (el / 1e6), lat_us[attempts / 2] / 1000.0,
           lat_us[(int)(attempts * 0.99)] / 1000.0, lat_us[attempts - 1] / 1000.0, el / 1e6);
    bool exact = attempts == 100000 && subs == 50000
                     ? granted_item[0] == HOT_STOCK && ord_ok && errors == 0
                     : errors == 0;

    gw_redis_free(redis);
    cat_redeem_free(rd);
    cat_calendar_free(cal);
    cat_store_free(store);
    event_base_free(base);
    free(lat_us);
    free(start_us);
    free(plan);
    return exact ? 0 : 1;
}

/*
 * it_campaign.c - integration driver for the campaign bonuses on a Redis Cluster
 * (gateway/gw_campaign_cl.c: PLAN, RESERVE, PAY, SETTLE; the reservations' sweeper);
 * test_campaigns_cluster.sh runs it one action at a time and checks Redis with redis-cli.
 *
 *   it_campaign bonus MSISDN KIND REF AMOUNT [die]  the bonuses of one committed event, as the
 *                                     gateway runs them after the commit; "die": SIGKILL this
 *                                     process as soon as the reservations answered (a gateway
 *                                     killed -9 between the budget's step and the wallet's)
 *   it_campaign sweep                 one pass of the reservations' sweeper (timeout 600 s)
 * Prints "err=<errno> paid=<points> stops=<n>" or "swept=<n> given=<n>"; exit 0 when answered,
 * 1 when Redis failed, 2 on usage. The campaigns document is the file env IT_DOC; "now" is env
 * IT_NOW (unix s) or the real clock, "today" env IT_TODAY (YYYYMMDD). Redis: LGW_REDIS_CLUSTER.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_campaign.h"
#include "gw_campaign_cl.h"
#include "gw_campaign_run.h"
#include "gw_core.h"
#include "gw_redis.h"
#include "../test_clock.h"

static struct event_base *base;
static int done, rc_err, swept_n, given_n;
static long long paid, stops;

static void die(void *arg, const char *msisdn)
{
    (void)arg;
    fprintf(stderr, "it_campaign: reserved for %s, killing myself (-9)\n", msisdn);
    fflush(stderr);
    raise(SIGKILL);
}

static void got(void *arg, int err, const struct redisReply *reply)
{
    (void)arg;
    rc_err = err;
    for (size_t i = 0; err == 0 && i + 2 < reply->elements; i += 3) {
        const struct redisReply *p = reply->element[i + 1], *oc = reply->element[i + 2];
        if (p->type != REDIS_REPLY_STRING || oc->type != REDIS_REPLY_STRING)
            break;
        if (strcmp(oc->str, "ok") == 0)
            paid += strtoll(p->str, NULL, 10);
        else if (strcmp(oc->str, "budget") == 0)
            stops++;
    }
    done = 1;
}

static void swept(void *arg, int n, int given)
{
    (void)arg;
    rc_err = n < 0 ? n : 0;
    swept_n = n;
    given_n = given;
    done = 1;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void run_until_done(void)
{
    int64_t end = gw_clock_mono_ms() + 20000;
    while (!done && gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    /* SETTLE is sent after the answer, without waiting (as in the gateway): let it land */
    end = gw_clock_mono_ms() + 300;
    while (gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static int read_doc(const char *path, struct gw_campaigns *doc)
{
    char buf[65536], err[256];
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f)
        return -ENOENT;
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (gw_campaigns_parse(buf, n, doc, err, sizeof(err)) < 0) {
        fprintf(stderr, "it_campaign: %s\n", err);
        return -EINVAL;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct gw_redis_config rcfg;
    const char *cluster = getenv("LGW_REDIS_CLUSTER");
    int64_t now = getenv("IT_NOW") ? strtoll(getenv("IT_NOW"), NULL, 10) : (int64_t)time(NULL);
    int32_t today = getenv("IT_TODAY") ? (int32_t)strtol(getenv("IT_TODAY"), NULL, 10) : 0;
    static struct gw_campaigns doc;
    static struct gw_camp_event_call call;
    int rc = -EINVAL;

    if (argc < 2 || !cluster || !*cluster || tc_programme_zone_from_env() < 0)
        return 2;
    base = event_base_new();
    struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    event_add(tick, &tv);
    gw_redis_config_defaults(&rcfg);
    gw_redis_config_env(&rcfg);
    for (const char *p = cluster; *p && rcfg.n_cluster_nodes < GW_REDIS_MAX_SEEDS;) {
        size_t n = strcspn(p, ",");
        snprintf(rcfg.cluster_nodes[rcfg.n_cluster_nodes++], GW_REDIS_ADDR_LEN, "%.*s", (int)n, p);
        p += n + (p[n] == ',');
    }
    rcfg.request_timeout_ms = 5000;
    struct gw_redis *redis = gw_redis_new(base, &rcfg);
    struct gw_camp_cl cl = {.redis = redis};
    cl.script = gw_redis_script_add(redis, gw_lua_campaign, gw_lua_campaign_len);
    cl.bscript = gw_redis_script_add(redis, gw_lua_campaign_budget, gw_lua_campaign_budget_len);
    cl.ref_script = gw_redis_script_add(redis, gw_lua_referral, gw_lua_referral_len);
    gw_redis_start(redis);
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(redis) && gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
    if (strcmp(argv[1], "bonus") == 0 && argc >= 6 && today > 0 &&
        read_doc(getenv("IT_DOC"), &doc) == 0) {
        if (argc > 6 && strcmp(argv[6], "die") == 0)
            cl.after_reserve = die;
        int64_t amount = (int64_t)(strtod(argv[5], NULL) * 1000.0 + 0.5);
        rc = gw_campaign_event_call(&doc, argv[2], argv[3], argv[4], today, amount, now, 20, &call);
        if (rc == 0)
            rc = gw_camp_cl_bonus(&cl, call.nkeys, call.argc, call.argv, call.len, got, NULL);
        if (rc == 0) {
            run_until_done();
            printf("err=%d paid=%lld stops=%lld\n", -rc_err, paid, stops);
        }
    } else if (strcmp(argv[1], "sweep") == 0) {
        rc = gw_camp_cl_sweep(&cl, now, GW_CAMP_RESERVE_TIMEOUT_S, swept, NULL);
        if (rc == 0) {
            run_until_done();
            printf("swept=%d given=%d\n", swept_n, given_n);
        }
    } else {
        return 2;
    }
    fflush(stdout);
    gw_redis_free(redis);
    event_free(tick);
    event_base_free(base);
    return rc == 0 && done && rc_err == 0 ? 0 : 1;
}

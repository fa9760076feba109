/*
 * it_transfer.c - integration driver for points transfer (gateway/gw_transfer.c and
 * lua/transfer.lua) against a real redis-server or a real Redis Cluster; test_transfer.sh runs
 * it one action at a time and checks the wallets with redis-cli.
 *
 *   it_transfer pin MSISDN NEW [OLD]             set or change the PIN
 *   it_transfer send FROM TO POINTS PIN TOKEN [die]  one transfer; "die": SIGKILL this process
 *                                                as soon as the debit answered (a gateway
 *                                                killed -9 between the two wallets)
 *   it_transfer sweep                            one full sweeper pass, prints its counts
 *   it_transfer simswap MSISDN REF               a carrier SIM swap
 * Prints one line "outcome=<name> n=<n> until=<t> balance=<b>" (or the sweeper's counts);
 * exit 0 when the call got an answer, 1 when Redis failed, 2 on usage. "now" is env IT_NOW
 * (unix s) or the real clock; "today" is env IT_TODAY (YYYYMMDD) or the UTC day of now.
 * Redis: env LGW_REDIS_SOCK or LGW_REDIS_CLUSTER ("host:port,...").
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gw_core.h"
#include "gw_days.h"
#include "gw_redis.h"
#include "gw_transfer.h"

static struct event_base *base;
static int done, rc_err;
static struct gw_transfer_result result;

static void got(void *arg, int err, const struct gw_transfer_result *res)
{
    (void)arg;
    rc_err = err;
    if (res)
        result = *res;
    done = 1;
}

static void got_swap(void *arg, int err)
{
    (void)arg;
    rc_err = err;
    result.outcome = GW_XFER_OK;
    done = 1;
}

static void swept(void *arg)
{
    (void)arg;
    done = 1;
}

static void die(void *arg, const char *tid)
{
    (void)arg;
    fprintf(stderr, "it_transfer: debited %s, killing myself (-9)\n", tid);
    fflush(stderr);
    raise(SIGKILL);
}

static void wait_done(void)
{
    int64_t end = gw_clock_mono_ms() + 20000;
    while (!done && gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static void wait_connected(struct gw_redis *r)
{
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(r) && gw_clock_mono_ms() < end)
        event_base_loop(base, EVLOOP_ONCE);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int main(int argc, char **argv)
{
    struct gw_redis_config rcfg;
    struct gw_transfer_config tcfg;
    const char *sock = getenv("LGW_REDIS_SOCK"), *cluster = getenv("LGW_REDIS_CLUSTER");
    int64_t now = getenv("IT_NOW") ? strtoll(getenv("IT_NOW"), NULL, 10) : (int64_t)time(NULL);
    int32_t today = getenv("IT_TODAY") ? (int32_t)strtol(getenv("IT_TODAY"), NULL, 10)
                                       : gw_days_from_number((int32_t)(now / 86400));
    int rc = -1;

    if (argc < 2)
        return 2;
    base = event_base_new();
    struct event *tick = event_new(base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    event_add(tick, &tv);
    gw_redis_config_defaults(&rcfg);
    gw_redis_config_env(&rcfg);
    if (cluster && *cluster) {
        const char *p = cluster;
        while (*p && rcfg.n_cluster_nodes < GW_REDIS_MAX_SEEDS) {
            size_t n = strcspn(p, ",");
            snprintf(rcfg.cluster_nodes[rcfg.n_cluster_nodes++], GW_REDIS_ADDR_LEN, "%.*s",
                     (int)n, p);
            p += n + (p[n] == ',');
        }
    } else if (sock && *sock) {
        snprintf(rcfg.unix_socket, sizeof(rcfg.unix_socket), "%s", sock);
    }
    rcfg.request_timeout_ms = 5000;
    struct gw_redis *redis = gw_redis_new(base, &rcfg);
    gw_transfer_config_defaults(&tcfg);
    tcfg.pending_timeout_s = 5;
    struct gw_transfer *x = gw_transfer_new(base, redis, &tcfg);
    if (!redis || !x)
        return 1;
    gw_redis_start(redis);
    wait_connected(redis);

    if (strcmp(argv[1], "pin") == 0 && (argc == 4 || argc == 5)) {
        rc = gw_transfer_pin_set(x, argv[2], argc == 5 ? argv[4] : NULL, argv[3], now, got, NULL);
    } else if (strcmp(argv[1], "send") == 0 && (argc == 7 || argc == 8)) {
        if (argc == 8 && strcmp(argv[7], "die") == 0)
            gw_transfer_on_debited(x, die, NULL);
        rc = gw_transfer_send(x, argv[2], argv[3], strtoll(argv[4], NULL, 10), argv[5],
                              strlen(argv[5]), argv[6], today, 0, now, got, NULL);
    } else if (strcmp(argv[1], "sweep") == 0 && argc == 2) {
        rc = gw_transfer_sweep_once(x, now, swept, NULL);
    } else if (strcmp(argv[1], "simswap") == 0 && argc == 4) {
        rc = gw_transfer_simswap(x, argv[2], argv[3], now, got_swap, NULL);
    } else {
        fprintf(stderr, "usage: see the file's header\n");
        rc = -EINVAL;
    }
    if (rc < 0)
        printf("refused=%d\n", rc);
    else
        wait_done();
    if (rc < 0) {
        /* refused before any request: nothing to wait for */
    } else if (strcmp(argv[1], "sweep") == 0) {
        struct gw_transfer_sweep_stats st;
        gw_transfer_get_sweep_stats(x, &st);
        printf("found=%" PRIu64 " completed=%" PRIu64 " failed=%" PRIu64 "\n", st.found,
               st.completed, st.failed);
    } else if (done && rc_err == 0) {
        printf("outcome=%s n=%" PRId64 " until=%" PRId64 " balance=%" PRId64 "\n",
               gw_transfer_outcome_name(result.outcome), result.n, result.until,
               result.balance);
    } else {
        printf("error=%d\n", rc_err);
    }
    gw_redis_free(redis);
    gw_transfer_free(x);
    event_free(tick);
    event_base_free(base);
    if (rc < 0)
        return 2;
    return done && rc_err == 0 ? 0 : 1;
}

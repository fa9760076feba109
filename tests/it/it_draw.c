/*
 * it_draw.c - integration driver for the draw job (gateway/wire_draw.c over
 * catalog/cat_draw_run.c), run by tests/it/test_draw_claims.sh against a real redis-server and
 * the SMSC simulator. It is "a gateway" for one round at an injected time: the gateway's
 * configuration file (catalogue, gift days, Redis), the project's clock set to --now (Redis keeps
 * its real clock), one round of the job, the winners' SMS through gw_sms over a real bind.
 *
 *   it_draw --config FILE --now UNIX [--smsc PORT] [--kill-before-send]
 *       prints {"published":P,"offers":O,"sms_sent":S,"sms_failed":F,"sms_skipped":K,"err":E};
 *       exit 0 when the round ended without error. --kill-before-send: the process sends itself
 *       SIGKILL when the job hands its first winner's SMS to the link (after the draw's publish
 *       and the outbox's claim: the worst moment to die), through a link-time wrap of
 *       gw_sms_send (-Wl,--wrap).
 * Compiled with gateway/wire_draw.c and gateway/wire_catalog.c (tests/CMakeLists.txt).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "gw_config.h"
#include "gw_core.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "smpp.h"
#include "wire_catalog.h"
#include "wire_draw.h"

static struct {
    struct event_base *base;
    int64_t now_ms;
    bool bound, done, stopped, kill_before_send;
    int err;
} D;

int __real_gw_sms_send(struct gw_sms *s, const char *to, const char *utf8, size_t len, gw_sms_cb cb,
                       void *arg);
int __wrap_gw_sms_send(struct gw_sms *s, const char *to, const char *utf8, size_t len, gw_sms_cb cb,
                       void *arg);
int __wrap_gw_sms_send(struct gw_sms *s, const char *to, const char *utf8, size_t len, gw_sms_cb cb,
                       void *arg)
{
    if (D.kill_before_send)
        raise(SIGKILL);
    return __real_gw_sms_send(s, to, utf8, len, cb, arg);
}

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return D.now_ms;
}

static void die(const char *msg)
{
    fprintf(stderr, "it_draw: %s\n", msg);
    exit(2);
}

static void run_until(bool *flag, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (!*flag && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
}

static void esme_deliver(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                         const struct smpp_sm *sm)
{
    (void)arg;
    (void)cmd_id;
    (void)sm;
    smpp_esme_respond(e, token, SMPP_ROK);
}

static void esme_bound(void *arg, struct smpp_esme *e, bool is_bound)
{
    (void)arg;
    (void)e;
    D.bound = is_bound;
}

static void round_done(void *arg, int err)
{
    (void)arg;
    D.err = err;
    D.done = true;
}

static void stopped(void *arg)
{
    (void)arg;
    D.stopped = true;
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"now", required_argument, NULL, 'n'},
                                         {"smsc", required_argument, NULL, 's'},
                                         {"kill-before-send", no_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL;
    int smsc = 0, o;
    struct gw_config cfg;
    char err[512];

    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'c')
            config = optarg;
        else if (o == 'n')
            D.now_ms = strtoll(optarg, NULL, 10) * 1000;
        else if (o == 's')
            smsc = atoi(optarg);
        else if (o == 'k')
            D.kill_before_send = true;
        else
            die("usage: it_draw --config FILE --now UNIX [--smsc PORT]");
    }
    if (!config || D.now_ms <= 0)
        die("usage: it_draw --config FILE --now UNIX [--smsc PORT]");
    gw_clock_set(fixed_clock, NULL);
    if (gw_config_load(config, &cfg, err, sizeof(err)) < 0)
        die(err);
    D.base = event_base_new();
    struct timeval tv = {0, 10000};
    struct event *tick = event_new(D.base, -1, EV_PERSIST, tick_cb, NULL);
    event_add(tick, &tv);
    struct gw_redis *redis = gw_redis_new(D.base, &cfg.redis);
    if (!redis || gw_redis_start(redis) < 0)
        die("redis");
    struct smpp_esme *esme = NULL;
    struct gw_sms *sms = NULL;
    if (smsc > 0) {
        cfg.smpp.port = (uint16_t)smsc;
        esme = smpp_esme_new(D.base, &cfg.smpp,
                             &(struct smpp_esme_ops){.deliver = esme_deliver, .bound = esme_bound},
                             NULL);
        static struct ussd_menus *no_menus;
        sms = esme ? gw_sms_new(esme, &cfg, redis, &no_menus) : NULL;
        if (!sms)
            die("smpp");
        smpp_esme_start(esme);
        run_until(&D.bound, 10000);
        if (!D.bound)
            die("not bound to the simulator");
    }
    struct wire_catalog *cat = wire_catalog_new(D.base, redis, &cfg, config, err, sizeof(err));
    if (!cat)
        die(err);
    struct wire_draw *job = wire_draw_new(D.base, redis, cat, sms, &cfg);
    if (!job)
        die("draw job");
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(redis) && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
    if (!gw_redis_is_connected(redis))
        die("redis not connected");
    if (wire_draw_round(job, D.now_ms / 1000, round_done, NULL) < 0)
        die("round");
    run_until(&D.done, 60000);
    if (!D.done)
        die("the round did not end");
    struct wire_draw_stats st;
    wire_draw_get_stats(job, &st);
    printf("{\"published\":%" PRIu64 ",\"offers\":%" PRIu64 ",\"sms_sent\":%" PRIu64
           ",\"sms_failed\":%" PRIu64 ",\"sms_skipped\":%" PRIu64 ",\"err\":%d}\n",
           st.published, st.offers, st.sms_sent, st.sms_failed, st.sms_skipped, D.err);
    fflush(stdout);
    if (esme) {
        smpp_esme_stop(esme, stopped, NULL);
        run_until(&D.stopped, 5000);
    }
    gw_sms_detach(sms);
    gw_redis_free(redis);
    wire_catalog_free(cat);
    smpp_esme_free(esme);
    gw_sms_free(sms);
    wire_draw_free(job);
    event_free(tick);
    event_base_free(D.base);
    return D.err == 0 ? 0 : 1;
}

/*
 * it_birthday.c - integration driver for the birthday pass (gateway/gw_campaign_bday.c), run by
 * tests/it/test_birthday.sh against a real redis-server (LGW_REDIS_SOCK) and the SMSC simulator,
 * and by test_campaigns_cluster.sh against a Redis Cluster (LGW_REDIS_CLUSTER "host:port,...":
 * the bonuses then take the cluster's two steps, gw_campaign_cl.h).
 * Every date goes through the project's injected clock (gw_clock_set): the driver runs "at"
 * --now, Redis keeps its real clock. TZ is the programme's zone (set by the script).
 *
 *   it_birthday pass --now UNIX --doc FILE [--smsc PORT] [--catchup N]
 *       one birthday pass with the campaigns document FILE; greetings go out through gw_sms over a
 *       real bind to the simulator at PORT. Prints the campaign counters as JSON; exit 0 when the
 *       pass completed without error (or had nothing to do).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "gw_campaign.h"
#include "gw_campaign_bday.h"
#include "gw_campaign_cl.h"
#include "gw_campaign_run.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "smpp.h"
#include "../test_clock.h"

static struct {
    struct event_base *base;
    struct gw_redis *redis;
    int64_t now_ms;
    bool bound, done, stopped;
    int err;
} D;

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return D.now_ms;
}

static void die(const char *msg)
{
    fprintf(stderr, "it_birthday: %s\n", msg);
    exit(2);
}

static void run_until(bool *flag, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (!*flag && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
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

static void pass_done(void *arg, int err)
{
    (void)arg;
    D.err = err;
    D.done = true;
}

static void esme_stopped(void *arg)
{
    (void)arg;
    D.stopped = true;
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(65536) : NULL;

    if (!buf) {
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, 65535, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "", *doc_path = NULL;
    int64_t now = 0;
    int smsc = 0, catchup = 0, c;
    static const struct option opts[] = {
        {"now", required_argument, NULL, 'n'},     {"doc", required_argument, NULL, 'd'},
        {"smsc", required_argument, NULL, 's'},    {"catchup", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };

    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            now = strtoll(optarg, NULL, 10);
            break;
        case 'd':
            doc_path = optarg;
            break;
        case 's':
            smsc = atoi(optarg);
            break;
        case 'c':
            catchup = atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (strcmp(mode, "pass") != 0 || now <= 0 || !doc_path)
        die("pass --now UNIX --doc FILE [--smsc PORT] [--catchup N]");
    if (tc_programme_zone_from_env() < 0)
        die("TZ: not a zone");
    D.now_ms = now * 1000;
    gw_clock_set(fixed_clock, NULL);
    gw_log_set_level(GW_LOG_NOTICE);

    static struct gw_campaigns doc;
    char err[256];
    size_t len = 0;
    char *text = read_all(doc_path, &len);
    if (!text || gw_campaigns_parse(text, len, &doc, err, sizeof(err)) < 0) {
        fprintf(stderr, "it_birthday: %s: %s\n", doc_path, text ? err : "unreadable");
        return 2;
    }
    free(text);

    const char *sock = getenv("LGW_REDIS_SOCK"), *cluster = getenv("LGW_REDIS_CLUSTER");
    struct gw_redis_config rc;
    gw_redis_config_defaults(&rc);
    if (cluster && *cluster) {
        for (const char *p = cluster; *p && rc.n_cluster_nodes < GW_REDIS_MAX_SEEDS;) {
            size_t n = strcspn(p, ",");
            snprintf(rc.cluster_nodes[rc.n_cluster_nodes++], GW_REDIS_ADDR_LEN, "%.*s", (int)n,
                     p);
            p += n + (p[n] == ',');
        }
    } else if (sock) {
        snprintf(rc.unix_socket, sizeof(rc.unix_socket), "%s", sock);
    } else {
        die("LGW_REDIS_SOCK or LGW_REDIS_CLUSTER");
    }
    gw_redis_config_env(&rc); /* LGW_REDIS_USER / LGW_REDIS_PASSWORD (lib.sh ACL mode) */
    rc.request_timeout_ms = 10000;
    D.base = event_base_new();
    D.redis = gw_redis_new(D.base, &rc);
    struct event *tick = event_new(D.base, -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 10000};
    if (!D.base || !D.redis || !tick)
        die("setup");
    event_add(tick, &tv);
    gw_redis_start(D.redis);

    struct gw_config cfg;
    struct smpp_esme *esme = NULL;
    struct gw_sms *sms = NULL;
    gw_config_defaults(&cfg);
    if (smsc > 0) {
        snprintf(cfg.smpp.name, sizeof(cfg.smpp.name), "SIM");
        snprintf(cfg.smpp.host, sizeof(cfg.smpp.host), "127.0.0.1");
        cfg.smpp.port = (uint16_t)smsc;
        snprintf(cfg.smpp.bind.system_id, sizeof(cfg.smpp.bind.system_id), "loyalty");
        snprintf(cfg.smpp.bind.password, sizeof(cfg.smpp.bind.password), "secret");
        esme = smpp_esme_new(D.base, &cfg.smpp,
                             &(struct smpp_esme_ops){.deliver = esme_deliver, .bound = esme_bound},
                             NULL);
        static struct ussd_menus *no_menus; /* the SMS side needs no menu file here */
        sms = esme ? gw_sms_new(esme, &cfg, D.redis, &no_menus) : NULL;
        if (!sms)
            die("smpp");
        smpp_esme_start(esme);
        run_until(&D.bound, 10000);
        if (!D.bound)
            die("not bound to the simulator");
    }
    struct gw_campaign_run_config cc;
    gw_campaign_run_config_defaults(&cc);
    cc.catchup_days = (uint32_t)catchup;
    struct gw_campaign_stats st = {0};
    struct gw_campaign_bday *b = gw_campaign_bday_new(D.base, D.redis, sms, &cc, 20, "en", &st);
    if (!b)
        die("birthday pass");
    struct gw_camp_cl cl = {.redis = D.redis};
    if (rc.n_cluster_nodes > 0) { /* the daemon's wiring (gw_campaign_run_new) */
        cl.script = gw_redis_script_add(D.redis, gw_lua_campaign, gw_lua_campaign_len);
        cl.bscript = gw_redis_script_add(D.redis, gw_lua_campaign_budget,
                                         gw_lua_campaign_budget_len);
        cl.ref_script = gw_redis_script_add(D.redis, gw_lua_referral, gw_lua_referral_len);
        if (cl.script < 0 || cl.bscript < 0 || cl.ref_script < 0)
            die("scripts");
        gw_campaign_bday_set_cluster(b, &cl);
    }
    gw_campaign_bday_set_doc(b, &doc);
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(D.redis) && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
    int prc = gw_campaign_bday_pass(b, pass_done, NULL);
    if (prc < 0)
        die("pass not started");
    if (prc == 0)
        run_until(&D.done, 120000);
    gw_campaign_stats_json(&st, stdout);
    printf("\n");
    fflush(stdout);
    if (esme) {
        smpp_esme_stop(esme, esme_stopped, NULL);
        run_until(&D.stopped, 5000);
    }
    gw_campaign_bday_detach(b);
    gw_redis_free(D.redis);
    gw_campaign_bday_free(b);
    gw_sms_free(sms);
    smpp_esme_free(esme);
    event_free(tick);
    event_base_free(D.base);
    return prc == 1 || (D.done && D.err == 0) ? 0 : 1;
}

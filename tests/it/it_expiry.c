/*
 * it_expiry.c - integration driver for points that really expire (gateway/gw_expiry.c), run by
 * tests/it/test_expiry.sh against a real redis-server (LGW_REDIS_SOCK) and the SMSC simulator.
 * Every date goes through the project's injected clock (gw_clock_set): the driver runs "at"
 * --now, Redis keeps its real clock. TZ is the programme's zone (set by the script).
 *
 *   it_expiry earn --now UNIX --msisdn M [--count K] --amount MILLI [--ref-prefix P]
 *       K TOPUPs (M, M+1, ...; ref P-<msisdn>) at --now through gw_loyalty_earn and the real
 *       commit script, which indexes each new lot in the expiry due set.
 *   it_expiry pass --now UNIX --owner NAME [--smsc PORT] [--crash-after N] [--no-optin]
 *       one pass of the job; warnings go out through gw_sms over a real bind to the simulator
 *       at PORT (without --smsc they count as failed). Prints the job's stats as JSON. With
 *       --crash-after N the process _exits(3) once N visits have started (a gateway killed in
 *       the middle of the job). --lease-ms N: the claims' lease (default the job's).
 *       --quiet S,E: local quiet hours from S to E (default none).
 *   it_expiry tag --msisdn M     prints the slot tag of M's keys ("{123}").
 *   it_expiry tierpass --now UNIX --owner NAME [--smsc PORT]
 *       one pass of the tier review (gateway/gw_tier_job.c), its notices through gw_sms as
 *       above; prints the review's stats as JSON.
 * Common: --days N | --months N (validity, default --days 60), --warn "30,7", --tiers B,W,G
 * (tier basis points|spend, window months, grace days; tiers standard 0, silver 100 x110%,
 * gold 500 x125%; default lifetime).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "gw_config.h"
#include "gw_core.h"
#include "gw_expiry.h"
#include "gw_expiry_sms.h"
#include "gw_ledger.h"
#include "gw_loyalty.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "gw_tier.h"
#include "gw_tier_job.h"
#include "smpp.h"
#include "../test_clock.h"

static struct {
    struct event_base *base;
    struct gw_redis *redis;
    int64_t now_ms;
    uint64_t crash_after;
    uint32_t lease_ms;
    int quiet_start, quiet_end;
    struct gw_expiry *job;
    int pending, failed;
    bool pass_done;
    bool bound;
} D;

static int64_t fixed_clock(void *arg)
{
    (void)arg;
    return D.now_ms;
}

static void die(const char *msg)
{
    fprintf(stderr, "it_expiry: %s\n", msg);
    exit(2);
}

static void run_until(bool *flag, int timeout_ms)
{
    int64_t end = gw_clock_mono_ms() + timeout_ms;
    while (!*flag && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
}

static bool connected;
static void wait_redis(void)
{
    int64_t end = gw_clock_mono_ms() + 10000;
    while (!gw_redis_is_connected(D.redis) && gw_clock_mono_ms() < end)
        event_base_loop(D.base, EVLOOP_ONCE);
    connected = gw_redis_is_connected(D.redis);
    if (!connected)
        die("redis not connected");
}

/* A 10 ms tick keeps the loop turning (and checks --crash-after). */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (D.crash_after && D.job) {
        struct gw_expiry_stats st;
        gw_expiry_get_stats(D.job, &st);
        if (st.visits >= D.crash_after) {
            fprintf(stderr, "it_expiry: crashing after %" PRIu64 " visits\n", st.visits);
            _exit(3);
        }
    }
}

/* ---------------------------------------------------------------- earn */

static bool earn_done;
static int64_t earned;
static void commit_cb(void *arg, int err, const struct gw_commit_result *res)
{
    (void)arg;
    if (err != 0)
        D.failed++;
    else
        earned += res->points;
    if (--D.pending == 0)
        earn_done = true;
}

static int do_earn(const struct gw_loyalty *t, const char *msisdn0, int count, int64_t amount,
                   const char *prefix, const uint32_t *levels, size_t nlevels)
{
    struct gw_ledger_config lc;
    gw_ledger_config_defaults(&lc);
    struct gw_ledger *l = gw_ledger_new(D.redis, &lc, t);
    if (!l)
        die("ledger");
    gw_ledger_set_expiry_levels(l, levels, nlevels);
    wait_redis();
    unsigned long long m0 = strtoull(msisdn0, NULL, 10);
    for (int i = 0; i < count; i++) {
        struct gw_event ev = {.kind = GW_EV_TOPUP, .amount_milli = amount, .at = D.now_ms / 1000};
        struct gw_earn earn;
        snprintf(ev.msisdn, sizeof(ev.msisdn), "%llu", m0 + (unsigned long long)i);
        snprintf(ev.ref, sizeof(ev.ref), "%s-%s", prefix, ev.msisdn);
        snprintf(ev.currency, sizeof(ev.currency), "MAD");
        if (gw_loyalty_earn(t, &ev, &earn) < 0)
            die("earn");
        D.pending++;
        if (gw_ledger_commit(l, &ev, &earn, D.now_ms / 1000, commit_cb, NULL) < 0) {
            D.pending--;
            D.failed++;
        }
    }
    if (D.pending > 0)
        run_until(&earn_done, 60000);
    gw_ledger_free(l);
    printf("{\"committed\":%d,\"failed\":%d,\"points\":%" PRId64 "}\n", count - D.failed,
           D.failed, earned);
    return D.failed == 0 && D.pending == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- pass */

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

static void pass_done(void *arg)
{
    (void)arg;
    D.pass_done = true;
}

static int do_pass(const struct gw_loyalty *t, const char *owner, int smsc_port, bool optin,
                   const char *warn, bool tiers)
{
    struct gw_config cfg;
    struct smpp_esme *esme = NULL;
    struct gw_sms *sms = NULL;
    struct gw_expiry_sms *xs = NULL;
    struct gw_expiry_ops ops = {0};
    struct gw_tier_sms *ts = NULL;
    struct gw_tier_ops tops = {0};
    struct gw_tier_job *tj = NULL;

    gw_config_defaults(&cfg);
    if (smsc_port > 0) {
        snprintf(cfg.smpp.name, sizeof(cfg.smpp.name), "SIM");
        snprintf(cfg.smpp.host, sizeof(cfg.smpp.host), "127.0.0.1");
        cfg.smpp.port = (uint16_t)smsc_port;
        snprintf(cfg.smpp.bind.system_id, sizeof(cfg.smpp.bind.system_id), "loyalty");
        snprintf(cfg.smpp.bind.password, sizeof(cfg.smpp.bind.password), "secret");
        esme = smpp_esme_new(D.base, &cfg.smpp,
                             &(struct smpp_esme_ops){.deliver = esme_deliver, .bound = esme_bound},
                             NULL);
        static struct ussd_menus *no_menus; /* the SMS side needs no menu file here */
        sms = esme ? gw_sms_new(esme, &cfg, D.redis, &no_menus) : NULL;
        xs = sms ? gw_expiry_sms_new(sms, cfg.ussd.service_code, NULL) : NULL;
        if (!xs)
            die("smpp");
        gw_expiry_sms_ops(xs, &ops);
        ts = gw_tier_sms_new(sms, NULL);
        if (!ts)
            die("tier sms");
        gw_tier_sms_ops(ts, &tops);
        smpp_esme_start(esme);
        run_until(&D.bound, 10000);
        if (!D.bound)
            die("not bound to the simulator");
    }
    struct gw_expiry_config xc;
    gw_expiry_config_defaults(&xc);
    xc.enabled = true;
    xc.quiet_start_hour = (uint32_t)D.quiet_start; /* none unless --quiet */
    xc.quiet_end_hour = (uint32_t)D.quiet_end;
    xc.require_optin = optin;
    xc.batch = 16;
    if (D.lease_ms)
        xc.lease_ms = D.lease_ms;
    snprintf(xc.warn_days, sizeof(xc.warn_days), "%s", warn);
    struct gw_expiry_params p = {
        .validity = {t->points_validity_days, t->points_validity_months},
        .history_len = 20,
    };
    struct gw_expiry_stats st = {0};
    if (tiers) {
        tj = gw_tier_job_new(D.base, D.redis, &xc, t, &tops, owner);
        if (!tj)
            die("tier job");
        wait_redis();
        if (gw_tier_job_pass(tj, pass_done, NULL) < 0)
            die("pass");
        run_until(&D.pass_done, 120000);
        struct gw_tier_stats ts_st;
        gw_tier_job_get_stats(tj, &ts_st);
        gw_tier_stats_json(&ts_st, stdout);
        st.passes = D.pass_done ? 1 : 0;
    } else {
        D.job = gw_expiry_new(D.base, D.redis, &xc, &p, &ops, owner);
        if (!D.job)
            die("expiry job");
        wait_redis();
        if (gw_expiry_pass(D.job, pass_done, NULL) < 0)
            die("pass");
        run_until(&D.pass_done, 120000);
        gw_expiry_get_stats(D.job, &st);
        gw_expiry_stats_json(&st, stdout);
    }
    printf("\n");
    fflush(stdout);
    if (esme) {
        bool stopped = false;
        smpp_esme_stop(esme, pass_done, NULL);
        D.pass_done = false;
        run_until(&D.pass_done, 5000);
        (void)stopped;
    }
    gw_redis_free(D.redis);
    D.redis = NULL;
    gw_expiry_free(D.job);
    gw_tier_job_free(tj);
    gw_tier_sms_free(ts);
    gw_expiry_sms_free(xs);
    gw_sms_free(sms);
    smpp_esme_free(esme);
    return (st.passes == 1 || D.quiet_start != D.quiet_end) && !st.running ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *msisdn = "212650000000", *owner = "gw", *prefix = "T", *warn = "30,7";
    int count = 1, smsc = 0;
    int64_t amount = 100000, now = 0;
    bool optin = true;
    struct gw_loyalty t;
    static const struct option opts[] = {
        {"now", required_argument, NULL, 'n'},
        {"msisdn", required_argument, NULL, 'm'},
        {"count", required_argument, NULL, 'c'},
        {"amount", required_argument, NULL, 'a'},
        {"ref-prefix", required_argument, NULL, 'r'},
        {"owner", required_argument, NULL, 'o'},
        {"smsc", required_argument, NULL, 's'},
        {"crash-after", required_argument, NULL, 'x'},
        {"no-optin", no_argument, NULL, 'N'},
        {"lease-ms", required_argument, NULL, 'L'},
        {"quiet", required_argument, NULL, 'Q'},
        {"days", required_argument, NULL, 'd'},
        {"months", required_argument, NULL, 'M'},
        {"warn", required_argument, NULL, 'w'},
        {"tiers", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    int c;

    gw_loyalty_default(&t);
    t.points_validity_days = 60;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            now = strtoll(optarg, NULL, 10);
            break;
        case 'm':
            msisdn = optarg;
            break;
        case 'c':
            count = atoi(optarg);
            break;
        case 'a':
            amount = strtoll(optarg, NULL, 10);
            break;
        case 'r':
            prefix = optarg;
            break;
        case 'o':
            owner = optarg;
            break;
        case 's':
            smsc = atoi(optarg);
            break;
        case 'x':
            D.crash_after = strtoull(optarg, NULL, 10);
            break;
        case 'N':
            optin = false;
            break;
        case 'd':
            t.points_validity_days = (uint32_t)atoi(optarg);
            t.points_validity_months = 0;
            break;
        case 'M':
            t.points_validity_months = (uint32_t)atoi(optarg);
            t.points_validity_days = 0;
            break;
        case 'w':
            warn = optarg;
            break;
        case 't': {
            char basis[16];
            unsigned w, g;
            if (sscanf(optarg, "%15[a-z],%u,%u", basis, &w, &g) != 3 ||
                gw_tier_basis_parse(basis) < 0)
                return 2;
            t.tier_basis = gw_tier_basis_parse(basis);
            t.tier_window_months = w;
            t.tier_grace_days = g;
            t.n_tiers = 3;
            t.tiers[1] = (struct gw_tier){.name = "silver", .min_points = 100, .pct = 110};
            t.tiers[2] = (struct gw_tier){.name = "gold", .min_points = 500, .pct = 125};
            break;
        }
        case 'Q':
            if (sscanf(optarg, "%d,%d", &D.quiet_start, &D.quiet_end) != 2)
                return 2;
            break;
        case 'L':
            D.lease_ms = (uint32_t)atoi(optarg);
            break;
        default:
            return 2;
        }
    }
    if (strcmp(mode, "tag") == 0) {
        char tag[GW_SLOT_TAG_MAX];
        if (gw_slot_tag_of(msisdn, tag) < 0)
            return 2;
        printf("%s\n", tag);
        return 0;
    }
    if (now <= 0)
        die("--now is required");
    if (tc_programme_zone_from_env() < 0)
        die("TZ: not a zone");
    D.now_ms = now * 1000;
    gw_clock_set(fixed_clock, NULL);
    gw_log_set_level(GW_LOG_NOTICE);

    const char *sock = getenv("LGW_REDIS_SOCK");
    struct gw_redis_config rc;
    gw_redis_config_defaults(&rc);
    if (!sock)
        die("LGW_REDIS_SOCK");
    snprintf(rc.unix_socket, sizeof(rc.unix_socket), "%s", sock);
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

    uint32_t levels[GW_EXPIRY_LEVELS_MAX];
    int nl = gw_expiry_parse_levels(warn, levels, GW_EXPIRY_LEVELS_MAX);
    if (nl < 0)
        die("--warn");
    int rcode;
    if (strcmp(mode, "earn") == 0) {
        rcode = do_earn(&t, msisdn, count, amount, prefix, levels, (size_t)nl);
        gw_redis_free(D.redis);
    } else if (strcmp(mode, "pass") == 0) {
        rcode = do_pass(&t, owner, smsc, optin, warn, false);
    } else if (strcmp(mode, "tierpass") == 0) {
        rcode = do_pass(&t, owner, smsc, optin, warn, true);
    } else {
        die("mode: earn | pass | tierpass | tag");
        return 2;
    }
    event_free(tick);
    event_base_free(D.base);
    return rcode;
}

/*
 * main.c - loyaltygw, the daemon: one libevent loop that owns the SMPP link (smpp_esme), the
 * Redis client (gw_redis), the ledger and the ingestion glue, wired here through small ops structs
 * so that each module is tested alone.
 *
 *   loyaltygw [--config FILE] [--check-config] [--print-config] [--stats-file FILE]
 *             [--print-config-reference]
 *
 * Signals: SIGTERM/SIGINT stop gracefully (answer what is in flight, unbind, exit 0; a second one
 * exits at once); SIGHUP reloads the loyalty table from the config file (the old table stays if the
 * new one is invalid); SIGUSR1 logs the counters.
 *
 * Under systemd (Type=notify): READY=1 when the SMPP link starts (Redis up, or 3 s), RELOADING=1
 * and READY=1 around SIGHUP, STOPPING=1 on SIGTERM, WATCHDOG=1 from the loop (gw_service.c).
 * GET /metrics, /health, /ready on metrics.listen (wire_metrics.c).
 *
 * Start-up order matters: the SMPP bind waits for the first Redis connection (or 3 s), so a cold
 * start does not answer a burst of events ESME_RX_T_APPN just because Redis was a moment late.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_config.h"
#include "gw_core.h"
#include "gw_campaign_run.h"
#include "gw_expiry.h"
#include "gw_expiry_sms.h"
#include "gw_tier_job.h"
#include "gw_ingest.h"
#include "gw_journal.h"
#include "gw_ledger.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "gw_suggest.h"
#include "gw_transfer.h"
#include "gw_ussd.h"
#include "smpp.h"
#include "wire_broadcast.h"
#include "wire_brakes.h"
#include "wire_catalog.h"
#include "wire_draw.h"
#include "wire_opening.h"
#include "wire_cfgdocs.h"
#include "wire_fulfil.h"
#include "wire_metrics.h"
#include "wire_transfer.h"

#ifndef LGW_VERSION /* from CMake: project(... VERSION) */
#define LGW_VERSION "0.1.0"
#endif

struct app {
    struct gw_config cfg;
    const char *config_path;
    const char *stats_path;
    struct event_base *base;
    struct gw_redis *redis;
    struct gw_ledger *ledger;
    struct gw_transfer *transfer; /* points transfers: SIMSWAP freezes, the sweeper */
    struct wire_transfer *xfer_ussd; /* ... sent over USSD, with their SMS (NULL: USSD off) */
    struct gw_ingest *ingest;
    struct gw_journal *journal; /* the what-if event journal, NULL = off */
    struct smpp_esme *esme;
    struct ussd_menus *menus; /* USSD menu file (NULL: USSD off); swapped by SIGHUP */
    struct gw_ussd *ussd;
    struct gw_sms *sms;
    struct gw_suggest *suggest; /* the suggestion box (issue 10 §2): with the SMS/USSD side */
    struct wire_catalog *catalog; /* catalogue, gift days, redemption (NULL: catalog.file "") */
    struct wire_fulfil *fulfil;   /* gift fulfilment worker (NULL: provisioning.enabled false) */
    struct wire_broadcast *bcast; /* reminder broadcast (NULL: broadcast.enabled false) */
    struct wire_opening *opening; /* its day-before slot SMS (NULL: broadcast.slot_sms false) */
    struct wire_draw *draw;       /* the draw job of items opened by draw (with catalog) */
    struct wire_brakes *brakes;   /* velocity caps and the breaker around the redeem hook */
    struct wire_cfgdocs *cfgdocs; /* the console's documents and kill switches (with catalog) */
    struct wire_metrics *metrics; /* /metrics, /health, /ready and the Redis write probe */
    struct gw_expiry *expiry;     /* the expiry job (NULL: expiry.enabled false) */
    struct gw_expiry_sms *expiry_sms; /* its warnings through gw_sms (NULL: no SMS side) */
    struct gw_campaign_run *campaigns; /* the campaign rules (NULL: campaigns.enabled false) */
    struct gw_tier_job *tiers;    /* the tier review (NULL: no expiry job or lifetime tiers) */
    struct gw_tier_sms *tier_sms; /* its notices through gw_sms (NULL: no SMS side) */
    struct event *ev_term, *ev_int, *ev_hup, *ev_usr1;
    struct event *ev_metrics, *ev_start;
    bool esme_started;
    bool docs_ready; /* the console's documents read once (or not followed): the link may open */
    bool stopping;
    int exit_code;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loyaltygw [--config FILE] [--check-config] [--print-config]\n"
            "                 [--stats-file FILE] [--print-config-reference] [--version]\n"
            "  --config FILE     JSON configuration (default: built-in local defaults)\n"
            "  --check-config    validate the configuration and exit (0 valid, 1 invalid)\n"
            "  --print-config    print the effective configuration as JSON and exit\n"
            "  --stats-file FILE write the counters as JSON there (overrides metrics.stats_file)\n"
            "  --print-config-reference\n"
            "                    print every configuration key (Markdown: docs/configuration.md)\n"
            "Signals: TERM/INT stop gracefully, HUP reloads, USR1 logs the counters.\n"
            "See loyaltygw(8) and /usr/share/doc/loyaltygw.\n");
}

static void write_stats(struct app *a)
{
    struct gw_ingest_stats is;
    struct smpp_esme_stats ss;
    struct gw_redis_stats rs;
    const char *path = a->stats_path ? a->stats_path : a->cfg.metrics.stats_file;
    char tmp[512];
    FILE *f;

    if (!path || !*path)
        return;
    gw_ingest_get_stats(a->ingest, &is);
    smpp_esme_get_stats(a->esme, &ss);
    gw_redis_get_stats(a->redis, &rs);
    /* Write then rename: a reader never sees half a file. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        gw_log(GW_LOG_ERROR, "metrics", "cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "{\"ingest\":");
    gw_ingest_stats_json(&is, f);
    fprintf(f,
            ",\"smpp\":{\"bound\":%s,\"connects\":%llu,\"binds_ok\":%llu,\"bind_failures\":%llu,"
            "\"disconnects\":%llu,\"pdus_in\":%llu,\"pdus_out\":%llu,\"deliver_in\":%llu,"
            "\"receipts_in\":%llu,\"rejected_prescan\":%llu,\"rejected_decode\":%llu,"
            "\"generic_nacks_sent\":%llu,\"unknown_cmds\":%llu,\"enquire_sent\":%llu,"
            "\"response_timeouts\":%llu,\"submits_ok\":%llu,\"submits_failed\":%llu,"
            "\"throttled\":%llu,\"submit_peak_1s\":%u,\"pending_responses\":%u,"
            "\"deliver_throttled\":%llu}",
            smpp_esme_is_bound(a->esme) ? "true" : "false", (unsigned long long)ss.connects,
            (unsigned long long)ss.binds_ok, (unsigned long long)ss.bind_failures,
            (unsigned long long)ss.disconnects, (unsigned long long)ss.pdus_in,
            (unsigned long long)ss.pdus_out, (unsigned long long)ss.deliver_in,
            (unsigned long long)ss.receipts_in, (unsigned long long)ss.rejected_prescan,
            (unsigned long long)ss.rejected_decode, (unsigned long long)ss.generic_nacks_sent,
            (unsigned long long)ss.unknown_cmds, (unsigned long long)ss.enquire_sent,
            (unsigned long long)ss.response_timeouts, (unsigned long long)ss.submits_ok,
            (unsigned long long)ss.submits_failed, (unsigned long long)ss.throttled,
            ss.submit_peak_1s, smpp_esme_pending_responses(a->esme),
            (unsigned long long)ss.deliver_throttled);
    fprintf(f,
            ",\"redis\":{\"connected\":%s,\"requests\":%llu,\"replies\":%llu,\"errors_reply\":%llu,"
            "\"timeouts\":%llu,\"not_connected\":%llu,\"late_replies\":%llu,\"connects\":%llu,"
            "\"disconnects\":%llu,\"noscript_fallbacks\":%llu,\"pending\":%u}",
            gw_redis_is_connected(a->redis) ? "true" : "false", (unsigned long long)rs.requests,
            (unsigned long long)rs.replies, (unsigned long long)rs.errors_reply,
            (unsigned long long)rs.timeouts, (unsigned long long)rs.not_connected,
            (unsigned long long)rs.late_replies, (unsigned long long)rs.connects,
            (unsigned long long)rs.disconnects, (unsigned long long)rs.noscript_fallbacks,
            rs.pending);
    if (a->ussd) {
        struct gw_ussd_stats us;
        gw_ussd_get_stats(a->ussd, &us);
        fprintf(f, ",\"ussd\":");
        gw_ussd_stats_json(&us, f);
    }
    if (a->brakes) {
        struct wire_brakes_stats bs;
        wire_brakes_get_stats(a->brakes, &bs);
        fprintf(f, ",\"brakes\":{\"on\":1");
#define BRAKES_JSON(name, help) fprintf(f, ",\"" #name "\":%llu", (unsigned long long)bs.name);
        WIRE_BRAKES_COUNTERS(BRAKES_JSON)
#undef BRAKES_JSON
        fprintf(f, "}");
    }
    if (a->fulfil) {
        fprintf(f, ",\"fulfil\":");
        wire_fulfil_stats_json(a->fulfil, f);
    }
    if (a->sms) {
        struct gw_sms_stats ms;
        gw_sms_get_stats(a->sms, &ms);
        fprintf(f, ",\"sms\":");
        gw_sms_stats_json(&ms, f);
    }
    if (a->suggest) {
        struct gw_suggest_stats gs;
        gw_suggest_get_stats(a->suggest, &gs);
        fprintf(f, ",\"suggest\":");
        gw_suggest_stats_json(&gs, f);
    }
    if (a->expiry) {
        struct gw_expiry_stats xs;
        gw_expiry_get_stats(a->expiry, &xs);
        fprintf(f, ",\"expiry\":");
        gw_expiry_stats_json(&xs, f);
    }
    if (a->campaigns) {
        struct gw_campaign_stats cs;
        gw_campaign_run_get_stats(a->campaigns, &cs);
        fprintf(f, ",\"campaigns\":");
        gw_campaign_stats_json(&cs, f);
    }
    if (a->tiers) {
        struct gw_tier_stats ts;
        gw_tier_job_get_stats(a->tiers, &ts);
        fprintf(f, ",\"tiers\":");
        gw_tier_stats_json(&ts, f);
    }
    if (a->bcast) {
        struct gw_broadcast_stats bs;
        gw_broadcast_get_stats(wire_broadcast_runner(a->bcast), &bs);
        fprintf(f, ",\"broadcast\":");
        gw_broadcast_stats_json(&bs, f);
    }
    fprintf(f, "}\n");
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        gw_log(GW_LOG_ERROR, "metrics", "cannot write %s: %s", path, strerror(errno));
}

static void log_summary(struct app *a)
{
    struct gw_ingest_stats s;

    gw_ingest_get_stats(a->ingest, &s);
    gw_log(GW_LOG_NOTICE, "metrics",
           "events=%llu credited=%llu duplicates=%llu reversed=%llu reversal_noop=%llu "
           "rejected=%llu temp_failed=%llu points=%llu receipts=%llu ussd=%llu pdu_rejected=%llu",
           (unsigned long long)s.events_in, (unsigned long long)s.credited,
           (unsigned long long)s.duplicates, (unsigned long long)s.reversed,
           (unsigned long long)s.reversal_noop, (unsigned long long)s.rejected,
           (unsigned long long)s.temp_failed, (unsigned long long)s.points_credited,
           (unsigned long long)s.receipts, (unsigned long long)s.ussd_in,
           (unsigned long long)s.pdu_rejected);
}

static void on_metrics(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    write_stats(arg);
}

static void start_esme(struct app *a, const char *why)
{
    if (a->esme_started || a->stopping)
        return;
    a->esme_started = true;
    gw_log(GW_LOG_INFO, "main", "starting the SMPP link (%s)", why);
    smpp_esme_start(a->esme);
    gw_service_notify(GW_SERVICE_READY, why);
}

static void on_start_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct app *a = arg;
    (void)fd;
    (void)what;
    if (!gw_redis_is_connected(a->redis) && gw_redis_auth_refused(a->redis)) {
        /* A wrong password or user at start is a deployment error, not an outage: say so and
         * stop, rather than bind and answer every event ESME_RX_T_APPN. (Later refusals, say a
         * rotated password, are logged and retried like any outage.) */
        gw_log(GW_LOG_ERROR, "main",
               "Redis refused our credentials (redis.username \"%s\", password from %s): "
               "exiting",
               a->cfg.redis.username[0] ? a->cfg.redis.username : "default",
               getenv("LGW_REDIS_PASSWORD") && getenv("LGW_REDIS_PASSWORD")[0]
                   ? "LGW_REDIS_PASSWORD"
               : a->cfg.redis_password_file[0] ? "redis.password_file"
                                               : "redis.password");
        a->exit_code = 1;
        event_base_loopbreak(a->base);
        return;
    }
    if (gw_redis_is_connected(a->redis))
        start_esme(a, "the console's documents not read after 3 s; the files rule until they are");
    else
        start_esme(a, "Redis not up after 3 s; events get ESME_RX_T_APPN until it is");
}

static void on_redis_state(void *arg, bool up)
{
    struct app *a = arg;

    gw_log(up ? GW_LOG_INFO : GW_LOG_ERROR, "redis", "%s", up ? "connected" : "connection lost");
    if (up && a->docs_ready)
        start_esme(a, "Redis connected");
    else if (up)
        wire_cfgdocs_kick(a->cfgdocs); /* the link opens once they are read: on_docs_ready */
}

/* The stored documents (loyalty table, catalogue, calendar, menus, campaigns) are in force: an
 * event the SMSC has waiting is credited by the table the console shows, not the file's. */
static void on_docs_ready(void *arg)
{
    struct app *a = arg;

    a->docs_ready = true;
    if (gw_redis_is_connected(a->redis))
        start_esme(a, "Redis connected, the console's documents read");
}

static void on_bcast_stopped(void *arg)
{
    struct app *a = arg;

    gw_log(GW_LOG_NOTICE, "main", "SMPP link closed, broadcast outcomes recorded; exiting");
    event_base_loopexit(a->base, NULL);
}

static void on_esme_stopped(void *arg)
{
    struct app *a = arg;

    /* The reminders answered during the drain are recorded in Redis before we exit: a mark
     * lost here would make that recipient "unknown" on the next run (gw_broadcast.h). */
    if (a->bcast) {
        gw_broadcast_stop(wire_broadcast_runner(a->bcast), on_bcast_stopped, a);
        return;
    }
    gw_log(GW_LOG_NOTICE, "main", "SMPP link closed; exiting");
    event_base_loopexit(a->base, NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;

    (void)what;
    if (a->stopping) {
        gw_log(GW_LOG_NOTICE, "main", "signal %d again: exiting now", (int)sig);
        event_base_loopbreak(a->base);
        return;
    }
    a->stopping = true;
    gw_log(GW_LOG_NOTICE, "main", "signal %d: draining, unbinding and exiting", (int)sig);
    gw_service_notify(GW_SERVICE_STOPPING, "draining, unbinding");
    wire_metrics_stopping(a->metrics); /* /ready 503 at once: load balancers stop sending */
    wire_fulfil_stop(a->fulfil); /* no new grant calls; what is not acked resumes next start */
    /* no new reminders; the link's cancellations are then given back as unsent */
    gw_broadcast_stop(wire_broadcast_runner(a->bcast), NULL, NULL);
    smpp_esme_stop(a->esme, on_esme_stopped, a);
}

static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct app *a = arg;
    struct gw_config *fresh;
    char err[512];

    (void)sig;
    (void)what;
    if (!a->config_path) {
        gw_log(GW_LOG_NOTICE, "config", "SIGHUP: no config file to reload (built-in defaults)");
        return;
    }
    gw_service_notify(GW_SERVICE_RELOADING, "reloading");
    fresh = malloc(sizeof(*fresh));
    if (!fresh) {
        gw_service_notify(GW_SERVICE_READY, "reload failed: out of memory");
        return;
    }
    gw_config_defaults(fresh);
    if (gw_config_load(a->config_path, fresh, err, sizeof(err)) < 0 ||
        gw_config_validate(fresh, err, sizeof(err)) < 0) {
        gw_log(GW_LOG_ERROR, "config", "reload refused, keeping the current loyalty table: %s",
               err);
        free(fresh);
        gw_service_notify(GW_SERVICE_READY, "reload refused: the previous configuration runs");
        return;
    }
    if (strcmp(fresh->loyalty.timezone, a->cfg.loyalty.timezone) != 0)
        gw_log(GW_LOG_NOTICE, "config", "timezone changes need a restart; keeping %s",
               a->cfg.loyalty.timezone);
    else {
        a->cfg.loyalty = fresh->loyalty;
        gw_ingest_set_table(a->ingest, &a->cfg.loyalty);
        gw_ledger_set_table(a->ledger, &a->cfg.loyalty);
        if (a->expiry)
            gw_expiry_set_params(a->expiry, &(struct gw_expiry_params){
                                                .validity = {a->cfg.loyalty.points_validity_days,
                                                             a->cfg.loyalty.points_validity_months},
                                                .history_len = a->cfg.ledger.history_len,
                                            });
        if (a->tiers)
            gw_tier_job_set_table(a->tiers, &a->cfg.loyalty);
        gw_log(GW_LOG_NOTICE, "config", "loyalty table reloaded from %s", a->config_path);
    }
    /* The programme zone's file read again: a tzdata update (Morocco's next Ramadan dates) applies
     * without a restart; unchanged rules install nothing (gw_zone_load). */
    if (gw_config_apply_timezone(&a->cfg) < 0)
        gw_log(GW_LOG_ERROR, "config", "zone %s cannot be read now; keeping the rules loaded",
               a->cfg.loyalty.timezone);
    /* the USSD menu file too: ussd_menus_reload keeps the old menus when the new file is bad */
    if (a->menus && a->cfg.ussd_menus_file[0]) {
        if (ussd_menus_reload(&a->menus, a->cfg.ussd_menus_file, &a->cfg.ussd, err,
                              sizeof(err)) < 0)
            gw_log(GW_LOG_ERROR, "config", "menu reload refused, keeping the current menus: %s",
                   err);
        else
            gw_log(GW_LOG_NOTICE, "config", "USSD menus reloaded from %s",
                   a->cfg.ussd_menus_file);
    }
    /* the catalogue and gift days: an atomic version switch, the old ones stay on error */
    if (a->catalog) {
        if (wire_catalog_reload(a->catalog, fresh, a->config_path, err, sizeof(err)) < 0)
            gw_log(GW_LOG_ERROR, "config", "catalogue reload refused, keeping the current one: %s",
                   err);
        else
            gw_log(GW_LOG_NOTICE, "config", "catalogue and gift days reloaded");
    }
    /* documents stored by the staff console take precedence over the files: re-apply */
    wire_cfgdocs_resync(a->cfgdocs);
    free(fresh);
    gw_service_notify(GW_SERVICE_READY, "reloaded");
}

/* A version of the loyalty table stored by the staff console (wire_cfgdocs): the gateway's own
 * parser and checks, then switched in as SIGHUP does. The zone cannot change without a restart. */
static int apply_stored_loyalty(void *arg, const char *text, size_t len, char *err, size_t errlen)
{
    struct app *a = arg;
    struct gw_loyalty *t = malloc(sizeof(*t));
    int rc;

    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    rc = gw_config_loyalty_parse(WIRE_CFGDOCS_KEY_LOYALTY, text, len, &a->cfg, t, err, errlen);
    if (rc == 0 && strcmp(t->timezone, a->cfg.loyalty.timezone) != 0) {
        snprintf(err, errlen, "timezone %s: a zone change needs a restart; keeping %s", t->timezone,
                 a->cfg.loyalty.timezone);
        rc = -EINVAL;
    }
    if (rc == 0) {
        a->cfg.loyalty = *t;
        gw_ingest_set_table(a->ingest, &a->cfg.loyalty);
        gw_ledger_set_table(a->ledger, &a->cfg.loyalty);
    }
    free(t);
    return rc;
}

/* A version of the USSD menus and SMS texts stored by the staff console: the USSD layer's own
 * loader, then swapped in as SIGHUP's reload does (dialogues refer to nodes by id). */
static int apply_stored_menus(void *arg, const char *text, size_t len, char *err, size_t errlen)
{
    struct app *a = arg;
    struct ussd_menus *fresh = NULL;
    int rc = ussd_menus_load_buffer(text, len, WIRE_CFGDOCS_KEY_MENUS, &fresh, err, errlen);

    if (rc < 0)
        return rc;
    ussd_menus_free(a->menus);
    a->menus = fresh;
    return 0;
}

static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    log_summary(arg);
    write_stats(arg);
}

static int start_expiry(struct app *a);

static int campaign_hook(void *arg, const char *msisdn, const char *kind, const char *ref,
                         int32_t day, int64_t amount_milli, int64_t now,
                         void (*done)(void *ctx, int err), void *ctx)
{
    return gw_campaign_run_event(arg, msisdn, kind, ref, day, amount_milli, now, done, ctx);
}

static int refer_hook(void *arg, const char *msisdn, const char *referee,
                      void (*done)(void *cb_arg, int err, const char *outcome), void *cb_arg)
{
    return gw_campaign_run_refer(arg, msisdn, referee, done, cb_arg);
}

/* This process in the jobs' leases and claims: "host:pid". */
static void job_owner(char *out, size_t cap)
{
    char host[48] = "gw";

    gethostname(host, sizeof(host) - 1);
    snprintf(out, cap, "%.47s:%ld", host, (long)getpid());
}

/* The campaign rules (issue 10 §1, docs/campaigns.md): bonuses after each earning event's commit,
 * the win-back offer pass; the document comes from the console (cfg:{adm}:campaigns). On one Redis
 * the budget moves in the bonus's own script; on a cluster a bonus is two steps, the budget's slot
 * first (gw_campaign_cl.h). */
static int start_campaigns(struct app *a)
{
    a->cfg.campaigns.cluster = a->cfg.redis.n_cluster_nodes > 0;
    job_owner(a->cfg.campaigns.owner, sizeof(a->cfg.campaigns.owner));
    a->campaigns = gw_campaign_run_new(a->base, a->redis, a->sms, &a->cfg.campaigns,
                                       a->cfg.ledger.history_len,
                                       a->menus ? ussd_menus_default_lang(a->menus) : "en");
    if (!a->campaigns)
        return -ENOMEM;
    gw_ingest_set_hooks(a->ingest, &(struct gw_ingest_hooks){
                                       .ussd = a->ussd ? gw_ussd_on_deliver : NULL,
                                       .ussd_arg = a->ussd,
                                       .mo_sms = a->sms ? gw_sms_on_mo : NULL,
                                       .mo_sms_arg = a->sms,
                                       .after_commit = campaign_hook,
                                       .after_commit_arg = a->campaigns,
                                   });
    if (a->ussd) /* *555*7*<number>#: the referral (docs/campaigns.md) */
        gw_ussd_set_refer(a->ussd, refer_hook, a->campaigns);
    gw_campaign_run_set_journal(a->campaigns, a->journal); /* the referrals, for the what-if */
    return gw_campaign_run_start(a->campaigns);
}

static int load_config(struct app *a, bool quiet)
{
    char err[512];

    gw_config_defaults(&a->cfg);
    if (a->config_path && gw_config_load(a->config_path, &a->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "loyaltygw: %s\n", err);
        return -1;
    }
    if (gw_config_validate(&a->cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "loyaltygw: %s\n", err);
        return -1;
    }
    if (gw_config_apply_timezone(&a->cfg) < 0) {
        fprintf(stderr, "loyaltygw: loyalty.timezone: unknown zone \"%s\"\n",
                a->cfg.loyalty.timezone);
        return -1;
    }
    if (a->cfg.ussd_menus_file[0]) {
        /* --check-config too: the menu file against the screen limits (ussd_menus_check) */
        struct ussd_menus *menus = NULL;
        int rc = ussd_menus_load(a->cfg.ussd_menus_file, &menus, err, sizeof(err));

        if (rc == 0)
            rc = ussd_menus_check(menus, &a->cfg.ussd, err, sizeof(err));
        ussd_menus_free(menus);
        if (rc < 0) {
            fprintf(stderr, "loyaltygw: ussd.menus_file: %s\n", err);
            return -1;
        }
    }
    (void)quiet;
    return 0;
}

static int run(struct app *a)
{
    static const struct smpp_esme_ops esme_ops = {
        .deliver = gw_ingest_on_deliver,
        .rejected = gw_ingest_on_rejected,
    };
    struct timeval tv;

    a->base = event_base_new();
    if (!a->base)
        return -ENOMEM;
    a->redis = gw_redis_new(a->base, &a->cfg.redis);
    if (!a->redis)
        return -ENOMEM;
    a->cfg.ledger.single_node = a->cfg.redis.n_cluster_nodes == 0; /* one step on one Redis */
    /* the velocity caps on events travel with each commit (brakes.*: gw_ledger.h) */
    a->cfg.ledger.vel_events_hour = a->cfg.brakes.events_per_hour;
    a->cfg.ledger.vel_events_day = a->cfg.brakes.events_per_day;
    a->cfg.ledger.vel_points_hour = a->cfg.brakes.points_per_hour;
    a->cfg.ledger.vel_points_day = a->cfg.brakes.points_per_day;
    a->ledger = gw_ledger_new(a->redis, &a->cfg.ledger, &a->cfg.loyalty);
    if (!a->ledger)
        return -ENOMEM;
    a->ingest = gw_ingest_new(&a->cfg, a->ledger);
    if (!a->ingest)
        return -ENOMEM;
    {
        /* Points transfers (issue 10 §4): SIMSWAP notices freeze them; the sweeper completes a
         * transfer a crash left debited but not credited (config "transfers"). */
        struct gw_transfer_config tc = a->cfg.transfers;
        tc.history_len = a->cfg.ledger.history_len;
        a->transfer = gw_transfer_new(a->base, a->redis, &tc);
        if (!a->transfer || gw_transfer_sweep_start(a->transfer) < 0)
            return -ENOMEM;
        gw_ingest_set_transfer(a->ingest, a->transfer);
    }
    if (a->cfg.journal.dir[0]) {
        /* the what-if journal (gw_journal.h): best effort, never a reason not to start */
        a->journal = gw_journal_open(a->cfg.journal.dir, a->cfg.smpp.name, a->cfg.journal.keep_days);
        if (a->journal) {
            /* one write per loop pass, not per line (gw_journal.h); unbatched if it fails */
            (void)gw_journal_set_loop(a->journal, a->base);
            gw_ingest_set_journal(a->ingest, a->journal);
        } else
            gw_log(GW_LOG_ERROR, "config", "journal.dir %s: %s: no event journal",
                   a->cfg.journal.dir, strerror(errno));
    }
    a->esme = smpp_esme_new(a->base, &a->cfg.smpp, &esme_ops, a->ingest);
    if (!a->esme)
        return -ENOMEM;
    if (a->cfg.ussd_menus_file[0]) {
        /* USSD and the SMS keywords (issue 3): subscriber traffic leaves gw_ingest through hooks */
        char err[512];
        int rc = ussd_menus_load(a->cfg.ussd_menus_file, &a->menus, err, sizeof(err));
        /* every screen must fit the configured limits: refused here, never seen by a subscriber */
        if (rc == 0)
            rc = ussd_menus_check(a->menus, &a->cfg.ussd, err, sizeof(err));
        if (rc < 0) {
            gw_log(GW_LOG_ERROR, "config", "ussd.menus_file: %s", err);
            return rc;
        }
        a->ussd = gw_ussd_new(a->base, &a->cfg, a->redis, &a->menus);
        a->sms = gw_sms_new(a->esme, &a->cfg, a->redis, &a->menus);
        if (!a->ussd || !a->sms)
            return -ENOMEM;
        /* the suggestion box: ideas by SMS, ratings on the menus' "rating" nodes */
        a->suggest = gw_suggest_new(&a->cfg, a->redis, a->sms, &a->menus);
        if (!a->suggest)
            return -ENOMEM;
        gw_sms_set_suggest_hook(a->sms, gw_suggest_on_mo, a->suggest);
        gw_ussd_set_rate_hook(a->ussd, gw_suggest_rate, a->suggest);
        /* points transfer screens (issue 10 section 4): the PIN screens' answers, both SMS */
        a->xfer_ussd = wire_transfer_new(a->transfer, a->redis, a->sms, &a->menus, &a->cfg);
        if (!a->xfer_ussd)
            return -ENOMEM;
        gw_ussd_set_transfer(a->ussd, wire_transfer_ussd, a->xfer_ussd);
        gw_ingest_set_hooks(a->ingest, &(struct gw_ingest_hooks){
                                           .ussd = gw_ussd_on_deliver,
                                           .ussd_arg = a->ussd,
                                           .mo_sms = gw_sms_on_mo,
                                           .mo_sms_arg = a->sms,
                                       });
    }
    if (a->cfg.catalog.file[0]) {
        /* Catalogue, gift days and redemption (issue 4): the gift menus and the redeem hook */
        char err[512];
        a->catalog = wire_catalog_new(a->base, a->redis, &a->cfg, a->config_path, err,
                                      sizeof(err));
        if (!a->catalog) {
            gw_log(GW_LOG_ERROR, "config", "catalog: %s", err);
            return -EINVAL;
        }
        wire_catalog_set_journal(a->catalog, a->journal); /* granted redemptions, for what-if */
        if (a->ussd) {
            struct gw_ussd_ops ops;
            wire_catalog_redeem_ops(a->catalog, &ops);
            /* the fraud brakes around it: velocity caps, the breaker (issue 10 section 5) */
            a->brakes = wire_brakes_new(a->base, a->redis, a->catalog, &a->cfg);
            if (!a->brakes)
                return -ENOMEM;
            wire_brakes_wrap(a->brakes, &ops);
            gw_ussd_set_catalog(a->ussd, &wire_catalog_ussd_ops, a->catalog);
            gw_ussd_set_ops(a->ussd, &ops);
        }
        /* items opened by draw (issue 12): the draw at the opening, winners' SMS, roll-down */
        if (!(a->draw = wire_draw_new(a->base, a->redis, a->catalog, a->sms, &a->cfg)))
            return -ENOMEM;
    }
    if (a->cfg.provisioning.enabled) {
        /* Gift fulfilment (issue 4 part 4): the worker on the redemption stream */
        char err[256];
        a->fulfil = wire_fulfil_new(a->base, a->redis, &a->cfg,
                                    a->catalog ? wire_catalog_redeem(a->catalog) : NULL, a->sms,
                                    &a->menus, a->catalog ? wire_catalog_store(a->catalog) : NULL,
                                    err, sizeof(err));
        if (!a->fulfil) {
            gw_log(GW_LOG_ERROR, "config", "%s", err);
            return -EINVAL;
        }
    }

    if (a->cfg.broadcast.enabled) {
        /* The gift-day reminder broadcast (issue 5 part 4): runs campaigns through gw_sms */
        char err[256];
        a->bcast = wire_broadcast_new(a->base, a->redis, a->sms, &a->cfg, a->config_path, err,
                                      sizeof(err));
        if (!a->bcast) {
            gw_log(GW_LOG_ERROR, "config", "%s", err);
            return -EINVAL;
        }
        /* the day-before SMS of a staggered opening (issue 12): planned by the runner */
        if (a->cfg.broadcast.slot_sms && a->catalog) {
            struct gw_broadcast_hooks hooks;
            if (!(a->opening = wire_opening_new(a->catalog, &a->cfg)))
                return -ENOMEM;
            wire_opening_hooks(a->opening, &hooks);
            gw_broadcast_set_hooks(wire_broadcast_runner(a->bcast), &hooks);
        } else if (a->cfg.broadcast.slot_sms) {
            gw_log(GW_LOG_ERROR, "config", "broadcast.slot_sms needs the catalogue (catalog.file)");
            return -EINVAL;
        }
    }
    if (a->cfg.campaigns.enabled) {
        int crc = start_campaigns(a);
        if (crc < 0)
            return crc;
    }
    /* the staff console's documents (issue 12 §1): the loyalty table, the catalogue and the
     * calendar, and the kill switches; the redemption and the broadcast's "next opening" read
     * the same stored calendar */
    a->cfgdocs = wire_cfgdocs_new(a->base, a->redis, a->catalog, &a->cfg);
    if (!a->cfgdocs)
        return -ENOMEM;
    wire_cfgdocs_on_loyalty(a->cfgdocs, apply_stored_loyalty, a);
    if (a->menus)
        wire_cfgdocs_on_menus(a->cfgdocs, apply_stored_menus, a);
    if (a->bcast)
        wire_cfgdocs_on_calendar(a->cfgdocs, wire_broadcast_set_calendar, a->bcast);
    if (a->campaigns)
        wire_cfgdocs_on_campaigns(a->cfgdocs, gw_campaign_run_set_doc, a->campaigns);
    a->docs_ready = !a->cfg.catalog.follow_redis_docs;
    wire_cfgdocs_on_ready(a->cfgdocs, on_docs_ready, a);

    {
        char err[300];
        struct wire_metrics_src src = {
            .cfg = &a->cfg,
            .redis = a->redis,
            .ingest = a->ingest,
            .esme = a->esme,
            .ussd = a->ussd,
            .sms = a->sms,
            .fulfil = a->fulfil,
            .bcast = a->bcast,
            .brakes = a->brakes,
            .version = LGW_VERSION,
        };
        a->metrics = wire_metrics_new(a->base, &src, err, sizeof(err));
        if (!a->metrics) {
            gw_log(GW_LOG_ERROR, "config", "%s", err);
            return -EINVAL;
        }
        if (a->cfg.metrics.listen[0])
            gw_log(GW_LOG_NOTICE, "metrics", "GET /metrics, /health, /ready on %s (port %u)",
                   a->cfg.metrics.listen, wire_metrics_port(a->metrics));
    }
    if (gw_service_watchdog_start(a->base) < 0)
        return -ENOMEM;

    int xrc = start_expiry(a);
    if (xrc < 0)
        return xrc;
    wire_metrics_set_expiry(a->metrics, a->expiry);
    wire_metrics_set_campaigns(a->metrics, a->campaigns);

    a->ev_term = evsignal_new(a->base, SIGTERM, on_term, a);
    a->ev_int = evsignal_new(a->base, SIGINT, on_term, a);
    a->ev_hup = evsignal_new(a->base, SIGHUP, on_hup, a);
    a->ev_usr1 = evsignal_new(a->base, SIGUSR1, on_usr1, a);
    a->ev_metrics = event_new(a->base, -1, EV_PERSIST, on_metrics, a);
    a->ev_start = evtimer_new(a->base, on_start_timeout, a);
    if (!a->ev_term || !a->ev_int || !a->ev_hup || !a->ev_usr1 || !a->ev_metrics || !a->ev_start)
        return -ENOMEM;
    event_add(a->ev_term, NULL);
    event_add(a->ev_int, NULL);
    event_add(a->ev_hup, NULL);
    event_add(a->ev_usr1, NULL);
    tv = (struct timeval){.tv_sec = a->cfg.metrics.interval_s ? a->cfg.metrics.interval_s : 10};
    event_add(a->ev_metrics, &tv);
    tv = (struct timeval){.tv_sec = 3};
    evtimer_add(a->ev_start, &tv);

    gw_redis_on_state(a->redis, on_redis_state, a);
    gw_redis_start(a->redis);
    char redis_at[300];
    if (a->cfg.redis.n_cluster_nodes > 0)
        snprintf(redis_at, sizeof(redis_at), "cluster:%s (%u seed(s))",
                 a->cfg.redis.cluster_nodes[0], a->cfg.redis.n_cluster_nodes);
    else if (a->cfg.redis.n_sentinels > 0)
        snprintf(redis_at, sizeof(redis_at), "sentinel:%s via %.100s (%u sentinel(s))",
                 a->cfg.redis.master_name, a->cfg.redis.sentinels[0], a->cfg.redis.n_sentinels);
    else if (a->cfg.redis.unix_socket[0])
        snprintf(redis_at, sizeof(redis_at), "unix:%s", a->cfg.redis.unix_socket);
    else
        snprintf(redis_at, sizeof(redis_at), "%s:%u", a->cfg.redis.host, a->cfg.redis.port);
    gw_log(GW_LOG_NOTICE, "main", "loyaltygw %s: SMSC %s:%u as \"%s\", Redis %s, zone %s",
           LGW_VERSION, a->cfg.smpp.host, a->cfg.smpp.port, a->cfg.smpp.bind.system_id, redis_at,
           a->cfg.loyalty.timezone);
    event_base_dispatch(a->base);
    log_summary(a);
    write_stats(a);
    return 0;
}

/* Points that really expire (gw_expiry.h): every gateway's commits index new lots; the job runs
 * where expiry.enabled, its warnings through the SMS side when there is one. */
static int start_expiry(struct app *a)
{
    uint32_t levels[GW_EXPIRY_LEVELS_MAX];
    int n = gw_expiry_parse_levels(a->cfg.expiry.warn_days, levels, GW_EXPIRY_LEVELS_MAX);
    struct gw_expiry_ops ops = {0};
    char owner[64];

    if (n < 0)
        return -EINVAL; /* validated with the config */
    gw_ledger_set_expiry_levels(a->ledger, levels, (size_t)n);
    if (!a->cfg.expiry.enabled)
        return 0;
    if (a->sms) {
        a->expiry_sms = gw_expiry_sms_new(a->sms, a->cfg.ussd.service_code, &a->menus);
        if (!a->expiry_sms)
            return -ENOMEM;
        gw_expiry_sms_ops(a->expiry_sms, &ops);
    } else {
        gw_log(GW_LOG_NOTICE, "expiry", "no SMS side (ussd.menus_file): warnings are not sent");
    }
    job_owner(owner, sizeof(owner));
    struct gw_expiry_params p = {
        .validity = {a->cfg.loyalty.points_validity_days, a->cfg.loyalty.points_validity_months},
        .history_len = a->cfg.ledger.history_len,
    };
    a->expiry = gw_expiry_new(a->base, a->redis, &a->cfg.expiry, &p, &ops, owner);
    if (!a->expiry || gw_expiry_start(a->expiry) < 0)
        return -ENOMEM;
    /* Tiers that move (gw_tier_job.h): the daily review on the same walk and pacing, where the
     * tiers are rolling (a change of loyalty.tier_basis to or from lifetime needs a restart) */
    if (a->cfg.loyalty.tier_basis == GW_TIER_LIFETIME)
        return 0;
    struct gw_tier_ops tops = {0};
    if (a->sms) {
        a->tier_sms = gw_tier_sms_new(a->sms, &a->menus);
        if (!a->tier_sms)
            return -ENOMEM;
        gw_tier_sms_ops(a->tier_sms, &tops);
    }
    a->tiers = gw_tier_job_new(a->base, a->redis, &a->cfg.expiry, &a->cfg.loyalty, &tops, owner);
    if (!a->tiers)
        return -ENOMEM;
    return gw_tier_job_start(a->tiers);
}

static void teardown(struct app *a)
{
    struct event *evs[] = {a->ev_term, a->ev_int, a->ev_hup, a->ev_usr1, a->ev_metrics,
                           a->ev_start};

    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        if (evs[i])
            event_free(evs[i]);
    }
    /* Redis first: it fails what is still pending, and those callbacks answer through the link
     * (a no-op now that it is closed) before the link and the ingest go away. USSD and SMS stop
     * asking Redis first, and outlive the link, whose free fails their pending submits. */
    gw_ussd_detach(a->ussd);
    gw_sms_detach(a->sms);
    gw_suggest_detach(a->suggest);
    gw_broadcast_detach(wire_broadcast_runner(a->bcast));
    gw_expiry_detach(a->expiry);
    gw_campaign_run_detach(a->campaigns);
    gw_transfer_detach(a->transfer);
    gw_tier_job_detach(a->tiers);
    wire_fulfil_stop(a->fulfil);
    gw_service_watchdog_stop();
    gw_redis_free(a->redis);
    wire_metrics_free(a->metrics); /* after Redis: its cancelled probes land in it */
    wire_fulfil_free(a->fulfil); /* after Redis, before the catalogue its store ops point into */
    wire_transfer_free(a->xfer_ussd); /* after Redis: its transfers in flight answered */
    wire_cfgdocs_free(a->cfgdocs); /* after Redis (its rounds ended), before the catalogue */
    if (a->opening) /* the runner's hooks point into the catalogue */
        gw_broadcast_set_hooks(wire_broadcast_runner(a->bcast), &(struct gw_broadcast_hooks){0});
    wire_opening_free(a->opening);
    wire_brakes_free(a->brakes);   /* after Redis: its requests in flight ended first */
    wire_catalog_free(a->catalog); /* after Redis: its redemptions in flight ended first */
    smpp_esme_free(a->esme);
    gw_ussd_free(a->ussd);
    gw_sms_free(a->sms);
    gw_suggest_free(a->suggest); /* after the link: its thank-you SMS in flight own their data */
    wire_broadcast_free(a->bcast); /* after the link: its failed submits call back into it */
    gw_expiry_free(a->expiry);     /* after the link too: its warnings in flight */
    gw_expiry_sms_free(a->expiry_sms);
    gw_campaign_run_free(a->campaigns); /* after Redis and the link: its pass's callbacks */
    gw_tier_job_free(a->tiers); /* after the link too: its notices in flight */
    wire_draw_free(a->draw);    /* after Redis and the link: its SMS and audit writes in flight */
    gw_tier_sms_free(a->tier_sms);
    ussd_menus_free(a->menus);
    gw_ledger_free(a->ledger);
    gw_transfer_free(a->transfer);
    gw_ingest_free(a->ingest);
    gw_journal_close(a->journal);
    if (a->base)
        event_base_free(a->base);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'k'},
        {"print-config", no_argument, NULL, 'p'},
        {"stats-file", required_argument, NULL, 's'},
        {"version", no_argument, NULL, 'V'},
        {"print-config-reference", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct app *a = calloc(1, sizeof(*a));
    bool check = false, print = false;
    enum gw_log_level level;
    int c, rc;

    if (!a)
        return 1;
    while ((c = getopt_long(argc, argv, "c:kps:Vh", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config_path = optarg;
            break;
        case 'k':
            check = true;
            break;
        case 'p':
            print = true;
            break;
        case 's':
            a->stats_path = optarg;
            break;
        case 'V':
            printf("loyaltygw %s\n", LGW_VERSION);
            free(a);
            return 0;
        case 'R':
            gw_config_print_reference(stdout);
            free(a);
            return 0;
        case 'h':
            usage(stdout);
            free(a);
            return 0;
        default:
            usage(stderr);
            free(a);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "loyaltygw: unexpected argument \"%s\"\n", argv[optind]);
        usage(stderr);
        free(a);
        return 2;
    }
    if (load_config(a, check) < 0) {
        free(a);
        return 1;
    }
    if (check) {
        printf("%s: configuration valid\n", a->config_path ? a->config_path : "(built-in)");
        free(a);
        return 0;
    }
    if (print) {
        gw_config_print(&a->cfg, stdout);
        free(a);
        return 0;
    }
    if (gw_log_level_parse(a->cfg.log.level, &level) == 0)
        gw_log_set_level(level);
    (void)gw_log_configure(a->cfg.log.format, a->cfg.log.output, "loyaltygw"); /* validated */
    signal(SIGPIPE, SIG_IGN);

    rc = run(a);
    if (rc < 0) {
        fprintf(stderr, "loyaltygw: start-up failed: %s\n", strerror(-rc));
        a->exit_code = 1;
    }
    teardown(a);
    rc = a->exit_code;
    free(a);
    return rc;
}

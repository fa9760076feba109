/*
 * wire_metrics.c - loyaltygw's /metrics families, /health and /ready (see wire_metrics.h).
 *
 * Names follow the Prometheus conventions: loyaltygw_ prefix, _total for counters, _seconds for
 * durations, outcomes as label values of one family (so a dashboard sums or splits them) rather
 * than one family per outcome. Every counter is read from its module's own stats struct when
 * scraped: nothing here counts, so the stats file (metrics.stats_file) and /metrics cannot
 * disagree.
 */
#include "wire_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cat_fulfil.h"
#include "gw_broadcast.h"
#include "gw_campaign_run.h"
#include "gw_config.h"
#include "gw_core.h"
#include "gw_expiry.h"
#include "gw_http.h"
#include "gw_ingest.h"
#include "gw_metrics.h"
#include "gw_redis.h"
#include "gw_sms.h"
#include "gw_ussd.h"
#include "smpp.h"
#include "wire_brakes.h"
#include "wire_broadcast.h"
#include "wire_fulfil.h"

#define LOG_CAT "metrics"
#define PROBES_KEPT 3 /* a probe answer older than this many periods does not count */

struct wire_metrics {
    struct wire_metrics_src src;
    struct gw_obs_http *http;
    struct event *probe;
    char probe_key[64];
    bool stopping;
    bool probe_busy, xinfo_busy;
    bool probe_ok;       /* the last write probe's answer */
    int64_t probe_at_us; /* when it came (gw_mono_us), 0 = never */
    char probe_err[120]; /* its error reply */
    uint64_t probe_oks, probe_failures;
    bool fulfil_known; /* the group's figures below were read at least once */
    uint64_t fulfil_lag, fulfil_pending;
    const struct gw_expiry *expiry; /* the points-expiry job, NULL when it does not run here */
    const struct gw_campaign_run *campaigns; /* the campaign rules, NULL when off */
};

/* ---------------------------------------------------------------- probes */

static void on_set(void *arg, int err, const redisReply *reply)
{
    struct wire_metrics *m = arg;

    m->probe_busy = false;
    if (err == -ECANCELED)
        return; /* shutting down: m is freed right after the Redis client */
    m->probe_at_us = gw_mono_us();
    m->probe_ok = err == 0 && reply->type == REDIS_REPLY_STATUS;
    if (m->probe_ok)
        m->probe_oks++;
    else {
        m->probe_failures++;
        snprintf(m->probe_err, sizeof(m->probe_err), "%.100s",
                 err < 0                            ? strerror(-err)
                 : reply->type == REDIS_REPLY_ERROR ? reply->str
                                                    : "unexpected reply");
    }
}

/* XINFO GROUPS cat:fulfil: an array of groups, each a flat name/value array (Redis 7: lag). */
static void on_xinfo(void *arg, int err, const redisReply *reply)
{
    struct wire_metrics *m = arg;
    const char *group = m->src.cfg->provisioning.group;

    m->xinfo_busy = false;
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t g = 0; g < reply->elements; g++) {
        const redisReply *e = reply->element[g];
        bool mine = false;
        long long lag = -1, pending = -1;
        if (e->type != REDIS_REPLY_ARRAY)
            continue;
        for (size_t i = 0; i + 1 < e->elements; i += 2) {
            const redisReply *k = e->element[i], *v = e->element[i + 1];
            if (k->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(k->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
                mine = strcmp(v->str, group) == 0;
            else if (strcmp(k->str, "lag") == 0 && v->type == REDIS_REPLY_INTEGER)
                lag = v->integer;
            else if (strcmp(k->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
        }
        if (mine) {
            /* lag is nil when Redis cannot tell (after XDEL/XTRIM): keep the last figure */
            if (lag >= 0)
                m->fulfil_lag = (uint64_t)lag;
            if (pending >= 0)
                m->fulfil_pending = (uint64_t)pending;
            m->fulfil_known = true;
        }
    }
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
    struct wire_metrics *m = arg;
    char ms[24];

    (void)fd;
    (void)what;
    if (m->stopping || !gw_redis_is_connected(m->src.redis))
        return;
    if (!m->probe_busy) {
        snprintf(ms, sizeof(ms), "%u", m->src.cfg->metrics.ready_probe_ms * PROBES_KEPT);
        const char *argv[] = {"SET", m->probe_key, "1", "PX", ms};
        if (gw_redis_command(m->src.redis, 5, argv, NULL, on_set, m) == 0)
            m->probe_busy = true;
    }
    if (m->src.fulfil && !m->xinfo_busy) {
        const char *argv[] = {"XINFO", "GROUPS", CAT_FULFIL_STREAM};
        if (gw_redis_command(m->src.redis, 3, argv, NULL, on_xinfo, m) == 0)
            m->xinfo_busy = true;
    }
}

bool wire_metrics_ready(const struct wire_metrics *m, char *why, size_t whylen)
{
    int64_t max_age = (int64_t)m->src.cfg->metrics.ready_probe_ms * 1000 * PROBES_KEPT;

    if (m->stopping)
        snprintf(why, whylen, "stopping");
    else if (!smpp_esme_is_bound(m->src.esme))
        snprintf(why, whylen, "SMPP link to %s not bound", m->src.cfg->smpp.name);
    else if (!gw_redis_is_connected(m->src.redis))
        snprintf(why, whylen, "Redis not connected");
    else if (m->probe_at_us == 0 || gw_mono_us() - m->probe_at_us > max_age)
        snprintf(why, whylen, "Redis write probe not answered yet");
    else if (!m->probe_ok)
        snprintf(why, whylen, "Redis not writable: %s", m->probe_err);
    else
        return true;
    return false;
}

/* ---------------------------------------------------------------- the exposition */

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})
#define FAM(out, name, type, help) gw_prom_family(out, name, GW_PROM_##type, help)

static void write_smpp(const struct wire_metrics *m, struct evbuffer *o)
{
    struct smpp_esme_stats s;
    const char *smsc = m->src.cfg->smpp.name;

    smpp_esme_get_stats(m->src.esme, &s);
    FAM(o, "loyaltygw_smpp_link_up", GAUGE, "1 when the SMPP link to the SMSC is bound");
    gw_prom_sample_u64(o, "loyaltygw_smpp_link_up", L("smsc", smsc),
                       smpp_esme_is_bound(m->src.esme));
    FAM(o, "loyaltygw_smpp_connects_total", COUNTER, "TCP connections made to the SMSC");
    gw_prom_sample_u64(o, "loyaltygw_smpp_connects_total", L("smsc", smsc), s.connects);
    FAM(o, "loyaltygw_smpp_binds_total", COUNTER, "bind attempts by result");
    gw_prom_sample_u64(o, "loyaltygw_smpp_binds_total", L("smsc", smsc, "result", "ok"),
                       s.binds_ok);
    gw_prom_sample_u64(o, "loyaltygw_smpp_binds_total", L("smsc", smsc, "result", "failed"),
                       s.bind_failures);
    FAM(o, "loyaltygw_smpp_disconnects_total", COUNTER, "links lost or closed");
    gw_prom_sample_u64(o, "loyaltygw_smpp_disconnects_total", L("smsc", smsc), s.disconnects);
    FAM(o, "loyaltygw_smpp_pdus_total", COUNTER, "PDUs read and written");
    gw_prom_sample_u64(o, "loyaltygw_smpp_pdus_total", L("smsc", smsc, "direction", "in"),
                       s.pdus_in);
    gw_prom_sample_u64(o, "loyaltygw_smpp_pdus_total", L("smsc", smsc, "direction", "out"),
                       s.pdus_out);
    FAM(o, "loyaltygw_smpp_pdus_rejected_total", COUNTER,
        "PDUs refused before the application saw them, by stage");
    gw_prom_sample_u64(o, "loyaltygw_smpp_pdus_rejected_total", L("smsc", smsc, "stage", "prescan"),
                       s.rejected_prescan);
    gw_prom_sample_u64(o, "loyaltygw_smpp_pdus_rejected_total", L("smsc", smsc, "stage", "decode"),
                       s.rejected_decode);
    FAM(o, "loyaltygw_smpp_submits_total", COUNTER, "submit_sm by result");
    gw_prom_sample_u64(o, "loyaltygw_smpp_submits_total", L("smsc", smsc, "result", "ok"),
                       s.submits_ok);
    gw_prom_sample_u64(o, "loyaltygw_smpp_submits_total", L("smsc", smsc, "result", "failed"),
                       s.submits_failed);
    FAM(o, "loyaltygw_smpp_throttled_total", COUNTER, "ESME_RTHROTTLED / ESME_RMSGQFUL answers");
    gw_prom_sample_u64(o, "loyaltygw_smpp_throttled_total", L("smsc", smsc), s.throttled);
    FAM(o, "loyaltygw_smpp_response_timeouts_total", COUNTER, "requests the SMSC did not answer");
    gw_prom_sample_u64(o, "loyaltygw_smpp_response_timeouts_total", L("smsc", smsc),
                       s.response_timeouts);
    FAM(o, "loyaltygw_smpp_window_used", GAUGE, "submits awaiting their response");
    gw_prom_sample_u64(o, "loyaltygw_smpp_window_used", L("smsc", smsc), s.window_used);
    FAM(o, "loyaltygw_smpp_submit_queue_length", GAUGE, "submits queued beyond the window");
    gw_prom_sample_u64(o, "loyaltygw_smpp_submit_queue_length", L("smsc", smsc), s.queue_len);
    FAM(o, "loyaltygw_smpp_unanswered_deliver", GAUGE,
        "deliver_sm received and not answered yet (commits in flight)");
    gw_prom_sample_u64(o, "loyaltygw_smpp_unanswered_deliver", L("smsc", smsc),
                       smpp_esme_pending_responses(m->src.esme));
}

static void write_ingest(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_ingest_stats s;

    gw_ingest_get_stats(m->src.ingest, &s);
    FAM(o, "loyaltygw_events_received_total", COUNTER, "carrier event deliver_sm received");
    gw_prom_sample_u64(o, "loyaltygw_events_received_total", NULL, s.events_in);
    FAM(o, "loyaltygw_events_total", COUNTER,
        "carrier events by outcome (credited, duplicate, reversed, reversal_noop, held: ESME_ROK; "
        "rejected: ESME_RX_P_APPN; temp_failed: ESME_RX_T_APPN, redelivered by the SMSC)");
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "credited"), s.credited);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "duplicate"), s.duplicates);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "reversed"), s.reversed);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "reversal_noop"), s.reversal_noop);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "held"), s.held);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "rejected"), s.rejected);
    gw_prom_sample_u64(o, "loyaltygw_events_total", L("outcome", "temp_failed"), s.temp_failed);
    FAM(o, "loyaltygw_events_in_flight", GAUGE, "events waiting for their commit");
    gw_prom_sample_u64(o, "loyaltygw_events_in_flight", NULL, s.in_flight);
    FAM(o, "loyaltygw_points_total", COUNTER, "loyalty points by movement");
    gw_prom_sample_u64(o, "loyaltygw_points_total", L("movement", "credited"), s.points_credited);
    gw_prom_sample_u64(o, "loyaltygw_points_total", L("movement", "reversed"), s.points_reversed);
    gw_prom_sample_u64(o, "loyaltygw_points_total", L("movement", "capped"), s.points_capped);
    gw_prom_sample_u64(o, "loyaltygw_points_total", L("movement", "held"), s.points_held);
    FAM(o, "loyaltygw_subscribers_enrolled_total", COUNTER, "subscribers enrolled by an event");
    gw_prom_sample_u64(o, "loyaltygw_subscribers_enrolled_total", NULL, s.enrolled);
    FAM(o, "loyaltygw_deadletters_total", COUNTER, "dead letters by result");
    gw_prom_sample_u64(o, "loyaltygw_deadletters_total", L("result", "written"), s.deadletters);
    gw_prom_sample_u64(o, "loyaltygw_deadletters_total", L("result", "failed"),
                       s.deadletter_failed);
    FAM(o, "loyaltygw_deliver_sm_total", COUNTER, "other deliver_sm by kind");
    gw_prom_sample_u64(o, "loyaltygw_deliver_sm_total", L("kind", "receipt"), s.receipts);
    gw_prom_sample_u64(o, "loyaltygw_deliver_sm_total", L("kind", "ussd"), s.ussd_in);
    gw_prom_sample_u64(o, "loyaltygw_deliver_sm_total", L("kind", "mo_sms"), s.mo_sms);
    gw_prom_sample_u64(o, "loyaltygw_deliver_sm_total", L("kind", "rejected_pdu"), s.pdu_rejected);
    FAM(o, "loyaltygw_commit_latency_seconds", HISTOGRAM,
        "from an event's deliver_sm to the ledger's answer (the SMSC is answered right after)");
    gw_prom_histo(o, "loyaltygw_commit_latency_seconds", NULL,
                  gw_ingest_commit_latency(m->src.ingest));
}

static void write_ussd(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_ussd_stats s;

    gw_ussd_get_stats(m->src.ussd, &s);
    FAM(o, "loyaltygw_ussd_pdus_total", COUNTER, "USSD deliver_sm by kind");
    gw_prom_sample_u64(o, "loyaltygw_ussd_pdus_total", L("kind", "open"), s.opened);
    gw_prom_sample_u64(o, "loyaltygw_ussd_pdus_total", L("kind", "answer"), s.answers);
    gw_prom_sample_u64(o, "loyaltygw_ussd_pdus_total", L("kind", "abort"), s.aborts);
    gw_prom_sample_u64(o, "loyaltygw_ussd_pdus_total", L("kind", "unknown"), s.unknown);
    gw_prom_sample_u64(o, "loyaltygw_ussd_pdus_total", L("kind", "bad_msisdn"), s.bad_msisdn);
    FAM(o, "loyaltygw_ussd_screens_total", COUNTER, "USSD screens by result");
    gw_prom_sample_u64(o, "loyaltygw_ussd_screens_total", L("result", "submitted"), s.screens);
    gw_prom_sample_u64(o, "loyaltygw_ussd_screens_total", L("result", "failed"), s.screens_failed);
    FAM(o, "loyaltygw_ussd_dialogues_total", COUNTER, "USSD dialogues by how they ended");
    gw_prom_sample_u64(o, "loyaltygw_ussd_dialogues_total", L("end", "last_screen"), s.ended);
    gw_prom_sample_u64(o, "loyaltygw_ussd_dialogues_total", L("end", "expired"), s.expired);
    gw_prom_sample_u64(o, "loyaltygw_ussd_dialogues_total", L("end", "aborted"), s.aborts);
    FAM(o, "loyaltygw_ussd_store_failures_total", COUNTER,
        "USSD steps answered 'unavailable' because Redis failed");
    gw_prom_sample_u64(o, "loyaltygw_ussd_store_failures_total", NULL, s.store_failed);
    FAM(o, "loyaltygw_ussd_sessions_open", GAUGE, "USSD dialogues open in this process");
    gw_prom_sample_u64(o, "loyaltygw_ussd_sessions_open", NULL, s.live);
    FAM(o, "loyaltygw_ussd_hop_latency_seconds", HISTOGRAM,
        "a USSD hop: from the subscriber's deliver_sm to the screen handed to the SMPP link");
    gw_prom_histo(o, "loyaltygw_ussd_hop_latency_seconds", NULL, gw_ussd_hop_latency(m->src.ussd));
    FAM(o, "loyaltygw_redemptions_total", COUNTER, "gift redemptions over USSD by outcome");
    gw_prom_sample_u64(o, "loyaltygw_redemptions_total", L("outcome", "granted"), s.redeem_granted);
    gw_prom_sample_u64(o, "loyaltygw_redemptions_total", L("outcome", "duplicate"),
                       s.redeem_duplicate);
    gw_prom_sample_u64(o, "loyaltygw_redemptions_total", L("outcome", "refused"), s.redeem_refused);
    gw_prom_sample_u64(o, "loyaltygw_redemptions_total", L("outcome", "failed"), s.redeem_failed);
}

/* The fraud brakes (wire_brakes.h): one family, one sample per counter. */
static void write_brakes(const struct wire_metrics *m, struct evbuffer *o)
{
    struct wire_brakes_stats s;

    wire_brakes_get_stats(m->src.brakes, &s);
    FAM(o, "loyaltygw_brakes_total", COUNTER,
        "fraud brakes: velocity caps per MSISDN and the redemption-rate breaker, by what happened");
#define BRAKES_SAMPLE(name, help)                                                                  \
    gw_prom_sample_u64(o, "loyaltygw_brakes_total", L("what", #name), s.name);
    WIRE_BRAKES_COUNTERS(BRAKES_SAMPLE)
#undef BRAKES_SAMPLE
}

static void write_sms(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_sms_stats s;

    gw_sms_get_stats(m->src.sms, &s);
    FAM(o, "loyaltygw_sms_total", COUNTER, "SMS sent to subscribers by result");
    gw_prom_sample_u64(o, "loyaltygw_sms_total", L("result", "sent"), s.sent);
    gw_prom_sample_u64(o, "loyaltygw_sms_total", L("result", "failed"), s.failed);
    FAM(o, "loyaltygw_sms_mo_total", COUNTER, "mobile-originated SMS by result");
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "keyword"), s.mo_keyword);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "stop"), s.mo_stop);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "start"), s.mo_start);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "alerts_off"), s.mo_alerts_off);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "alerts_on"), s.mo_alerts_on);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "ignored"), s.mo_ignored);
    gw_prom_sample_u64(o, "loyaltygw_sms_mo_total", L("result", "failed"), s.mo_failed);
}

static void write_fulfil(const struct wire_metrics *m, struct evbuffer *o)
{
    struct cat_fulfil_stats s;
    struct gw_http_stats h;
    const char *grp = m->src.cfg->provisioning.group;

    wire_fulfil_get_stats(m->src.fulfil, &s, &h);
    if (m->fulfil_known) {
        FAM(o, "loyaltygw_fulfilment_queue_depth", GAUGE,
            "granted redemptions not yet delivered to the consumer group (XINFO GROUPS lag)");
        gw_prom_sample_u64(o, "loyaltygw_fulfilment_queue_depth", L("group", grp), m->fulfil_lag);
        FAM(o, "loyaltygw_fulfilment_pending", GAUGE,
            "entries delivered to the group's consumers and not acknowledged yet");
        gw_prom_sample_u64(o, "loyaltygw_fulfilment_pending", L("group", grp), m->fulfil_pending);
    }
    FAM(o, "loyaltygw_fulfilment_in_flight", GAUGE, "grant calls in flight in this process");
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_in_flight", NULL, s.in_flight);
    FAM(o, "loyaltygw_fulfilment_held", GAUGE, "entries this consumer holds (waiting or retrying)");
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_held", NULL, s.held);
    FAM(o, "loyaltygw_fulfilment_total", COUNTER, "fulfilments by outcome");
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_total", L("outcome", "granted"), s.granted);
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_total", L("outcome", "already"), s.already);
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_total", L("outcome", "refunded"), s.refunded);
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_total", L("outcome", "permanent"), s.permanent);
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_total", L("outcome", "gave_up"), s.gave_up);
    FAM(o, "loyaltygw_fulfilment_retries_total", COUNTER,
        "temporary failures of the grant call, each followed by a retry");
    gw_prom_sample_u64(o, "loyaltygw_fulfilment_retries_total", NULL, s.temporary);
    FAM(o, "loyaltygw_provisioning_requests_total", COUNTER, "grant API calls by result");
    gw_prom_sample_u64(o, "loyaltygw_provisioning_requests_total", L("result", "completed"),
                       h.completed);
    gw_prom_sample_u64(o, "loyaltygw_provisioning_requests_total", L("result", "failed"), h.failed);
    gw_prom_sample_u64(o, "loyaltygw_provisioning_requests_total", L("result", "timeout"),
                       h.timeouts);
}

static void write_broadcast(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_broadcast_stats s;

    gw_broadcast_get_stats(wire_broadcast_runner(m->src.bcast), &s);
    FAM(o, "loyaltygw_broadcast_messages_total", COUNTER, "reminder recipients by outcome");
#define BC(name)                                                                                   \
    gw_prom_sample_u64(o, "loyaltygw_broadcast_messages_total", L("outcome", #name), s.name)
    BC(sent);
    BC(failed);
    BC(skipped);
    BC(unknown);
    BC(already);
    BC(unclaimed);
#undef BC
    FAM(o, "loyaltygw_broadcast_campaigns_total", COUNTER, "campaigns started and finished here");
    gw_prom_sample_u64(o, "loyaltygw_broadcast_campaigns_total", L("state", "started"),
                       s.campaigns_run);
    gw_prom_sample_u64(o, "loyaltygw_broadcast_campaigns_total", L("state", "finished"),
                       s.campaigns_done);
    FAM(o, "loyaltygw_broadcast_running", GAUGE, "1 while this process runs a campaign");
    gw_prom_sample_u64(o, "loyaltygw_broadcast_running", NULL, s.campaign[0] != '\0');
    FAM(o, "loyaltygw_broadcast_in_flight", GAUGE, "reminders submitted and not answered yet");
    gw_prom_sample_u64(o, "loyaltygw_broadcast_in_flight", NULL, s.in_flight);
    FAM(o, "loyaltygw_broadcast_errors_total", COUNTER, "broadcast store failures and lost leases");
    gw_prom_sample_u64(o, "loyaltygw_broadcast_errors_total", L("kind", "redis"), s.redis_errors);
    gw_prom_sample_u64(o, "loyaltygw_broadcast_errors_total", L("kind", "lease_lost"),
                       s.lease_lost);
}

/*
 * The points-expiry job's progress, when it runs in this gateway (expiry.enabled): every counter
 * of its stats (gw_expiry.h GW_EXPIRY_COUNTERS) as loyaltygw_expiry_<name>_total, whether a pass
 * is under way, and the last day recorded complete (its 00:00 UTC, seconds since the epoch).
 */
static void write_expiry(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_expiry_stats s;
    char name[96];

    if (!m->expiry)
        return;
    gw_expiry_get_stats(m->expiry, &s);
#define GW_X_PROM(field, help)                                                                     \
    snprintf(name, sizeof(name), "loyaltygw_expiry_%s_total", #field);                             \
    FAM(o, name, COUNTER, "points-expiry job: " help);                                             \
    gw_prom_sample_u64(o, name, NULL, s.field);
    GW_EXPIRY_COUNTERS(GW_X_PROM)
#undef GW_X_PROM
    FAM(o, "loyaltygw_expiry_running", GAUGE, "points-expiry job: 1 while a pass is under way");
    gw_prom_sample_u64(o, "loyaltygw_expiry_running", NULL, s.running);
    if (gw_days_valid(s.last_done) && gw_days_number(s.last_done) >= 0) {
        /* last_done is a local date (YYYYMMDD): shown as 00:00 UTC of that date */
        FAM(o, "loyaltygw_expiry_last_done_day_timestamp_seconds", GAUGE,
            "points-expiry job: the last local date every slot was done for (its 00:00 UTC)");
        gw_prom_sample_u64(o, "loyaltygw_expiry_last_done_day_timestamp_seconds", NULL,
                           (uint64_t)gw_days_number(s.last_done) * 86400u);
    }
}

/*
 * The campaign rules (campaigns.enabled): every counter of their stats (gw_campaign_run.h
 * GW_CAMPAIGN_COUNTERS, the stats file's "campaigns") as loyaltygw_campaign_<name>_total; among
 * them the retired markers' sweep (marker_passes, marker_wallets, markers_deleted, ...).
 */
static void write_campaigns(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_campaign_stats s;
    char name[96];

    if (!m->campaigns)
        return;
    gw_campaign_run_get_stats(m->campaigns, &s);
#define GW_X_PROM(field, help)                                                                     \
    snprintf(name, sizeof(name), "loyaltygw_campaign_%s_total", #field);                           \
    FAM(o, name, COUNTER, "campaign rules: " help);                                                \
    gw_prom_sample_u64(o, name, NULL, s.field);
    GW_CAMPAIGN_COUNTERS(GW_X_PROM)
#undef GW_X_PROM
}

void wire_metrics_set_campaigns(struct wire_metrics *m, const struct gw_campaign_run *r)
{
    if (m)
        m->campaigns = r;
}

void wire_metrics_set_expiry(struct wire_metrics *m, const struct gw_expiry *x)
{
    if (m)
        m->expiry = x;
}

static void write_redis(const struct wire_metrics *m, struct evbuffer *o)
{
    struct gw_redis_stats s;

    gw_redis_get_stats(m->src.redis, &s);
    FAM(o, "loyaltygw_redis_up", GAUGE, "1 when connected (in Cluster mode: every slot served)");
    gw_prom_sample_u64(o, "loyaltygw_redis_up", NULL, gw_redis_is_connected(m->src.redis));
    FAM(o, "loyaltygw_redis_requests_total", COUNTER, "requests sent to Redis");
    gw_prom_sample_u64(o, "loyaltygw_redis_requests_total", NULL, s.requests);
    FAM(o, "loyaltygw_redis_errors_total", COUNTER,
        "failed Redis requests by kind (reply: an error reply; timeout: the deadline passed; "
        "not_connected: refused or lost with the link)");
    gw_prom_sample_u64(o, "loyaltygw_redis_errors_total", L("kind", "reply"), s.errors_reply);
    gw_prom_sample_u64(o, "loyaltygw_redis_errors_total", L("kind", "timeout"), s.timeouts);
    gw_prom_sample_u64(o, "loyaltygw_redis_errors_total", L("kind", "not_connected"),
                       s.not_connected);
    FAM(o, "loyaltygw_redis_connects_total", COUNTER, "connections made (the first one included)");
    gw_prom_sample_u64(o, "loyaltygw_redis_connects_total", NULL, s.connects);
    FAM(o, "loyaltygw_redis_reconnects_total", COUNTER, "connections made after a lost one");
    gw_prom_sample_u64(o, "loyaltygw_redis_reconnects_total", NULL,
                       s.connects > 0 ? s.connects - 1 : 0);
    FAM(o, "loyaltygw_redis_disconnects_total", COUNTER, "connections lost");
    gw_prom_sample_u64(o, "loyaltygw_redis_disconnects_total", NULL, s.disconnects);
    FAM(o, "loyaltygw_redis_pending", GAUGE, "requests waiting for their reply");
    gw_prom_sample_u64(o, "loyaltygw_redis_pending", NULL, s.pending);
    FAM(o, "loyaltygw_redis_write_probes_total", COUNTER, "readiness write probes by result");
    gw_prom_sample_u64(o, "loyaltygw_redis_write_probes_total", L("result", "ok"), m->probe_oks);
    gw_prom_sample_u64(o, "loyaltygw_redis_write_probes_total", L("result", "failed"),
                       m->probe_failures);
}

void wire_metrics_write(const struct wire_metrics *m, struct evbuffer *o)
{
    char why[160];

    FAM(o, "loyaltygw_build_info", GAUGE, "always 1; the version as a label");
    gw_prom_sample_u64(o, "loyaltygw_build_info", L("version", m->src.version), 1);
    FAM(o, "loyaltygw_ready", GAUGE, "1 when GET /ready answers 200");
    gw_prom_sample_u64(o, "loyaltygw_ready", NULL, wire_metrics_ready(m, why, sizeof(why)));
    write_smpp(m, o);
    write_ingest(m, o);
    if (m->src.ussd)
        write_ussd(m, o);
    if (m->src.sms)
        write_sms(m, o);
    if (m->src.brakes)
        write_brakes(m, o);
    if (m->src.fulfil)
        write_fulfil(m, o);
    if (m->src.bcast)
        write_broadcast(m, o);
    write_expiry(m, o);
    write_campaigns(m, o);
    write_redis(m, o);
}

/* ---------------------------------------------------------------- life cycle */

static void ops_metrics(void *arg, struct evbuffer *out)
{
    wire_metrics_write(arg, out);
}

static bool ops_ready(void *arg, char *why, size_t whylen)
{
    return wire_metrics_ready(arg, why, whylen);
}

struct wire_metrics *wire_metrics_new(struct event_base *base, const struct wire_metrics_src *src,
                                      char *err, size_t errlen)
{
    static const struct gw_obs_http_ops ops = {.metrics = ops_metrics, .ready = ops_ready};
    struct wire_metrics *m = calloc(1, sizeof(*m));
    struct timeval tv;
    unsigned ms = src->cfg->metrics.ready_probe_ms;

    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    m->src = *src;
    if (!m->src.version)
        m->src.version = "";
    snprintf(m->probe_key, sizeof(m->probe_key), "lg:ready:%s", src->cfg->smpp.name);
    m->probe = event_new(base, -1, EV_PERSIST, on_probe, m);
    if (!m->probe) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    tv = (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    event_add(m->probe, &tv);
    if (src->cfg->metrics.listen[0]) {
        m->http = gw_obs_http_new(base, src->cfg->metrics.listen, &ops, m, err, errlen);
        if (!m->http)
            goto fail;
    }
    return m;
fail:
    wire_metrics_free(m);
    return NULL;
}

uint16_t wire_metrics_port(const struct wire_metrics *m)
{
    return m ? gw_obs_http_port(m->http) : 0;
}

void wire_metrics_stopping(struct wire_metrics *m)
{
    if (!m)
        return;
    m->stopping = true;
    if (m->probe)
        event_del(m->probe);
}

void wire_metrics_free(struct wire_metrics *m)
{
    if (!m)
        return;
    gw_obs_http_free(m->http);
    if (m->probe)
        event_free(m->probe);
    free(m);
}

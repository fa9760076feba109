/*
 * gw_ingest.c - deliver_sm -> event -> ledger commit -> deliver_sm_resp (see gw_ingest.h).
 *
 * Ownership: every event in flight has one struct ingest_req, malloc'd when the deliver_sm
 * arrives and freed in the one callback that answers it (ledger commit or dead letter). The
 * request remembers the link's opaque token, never the PDU: if the link dropped meanwhile,
 * smpp_esme_respond() returns -ENOTCONN, nothing is sent and the SMSC redelivers; the ref makes
 * that redelivery harmless.
 */
#include "gw_ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gw_core.h"
#include "gw_journal.h"
#include "gw_metrics.h"
#include "gw_transfer.h"

struct gw_ingest {
    const struct gw_config *cfg;
    struct gw_ledger *ledger;
    struct gw_loyalty table;
    struct gw_ingest_stats stats;
    struct gw_ingest_hooks hooks;
    struct gw_transfer *transfer; /* SIMSWAP notices, or NULL */
    struct gw_histo commit_latency; /* deliver_sm in -> ledger answered (committed or not) */
    struct gw_journal *journal;     /* NULL = off; not owned */
    int64_t journal_warned_ms;
};

struct ingest_req {
    struct gw_ingest *g;
    struct smpp_esme *e;
    uint64_t token;
    int64_t t0_us; /* gw_mono_us() at arrival */
    enum gw_event_kind kind;
    char msisdn[GW_MSISDN_MAX + 1];
    char ref[GW_REF_MAX + 1];
    char orig[GW_REF_MAX + 1]; /* the journal's fields (gw_journal.h) */
    char channel[16];
    int64_t at, now;      /* the event's time and its arrival, unix s */
    int64_t amount_milli; /* the journal's */
    char reason[160];
    size_t raw_len;
    char raw[640]; /* the event's text, for a dead letter decided after the commit */
};

struct gw_ingest *gw_ingest_new(const struct gw_config *cfg, struct gw_ledger *ledger)
{
    struct gw_ingest *g = calloc(1, sizeof(*g));

    if (!g)
        return NULL;
    g->cfg = cfg;
    g->ledger = ledger;
    g->table = cfg->loyalty;
    gw_histo_init(&g->commit_latency, gw_histo_latency_bounds, gw_histo_latency_n);
    return g;
}

void gw_ingest_free(struct gw_ingest *g)
{
    free(g);
}

void gw_ingest_set_hooks(struct gw_ingest *g, const struct gw_ingest_hooks *hooks)
{
    g->hooks = *hooks;
}

void gw_ingest_set_transfer(struct gw_ingest *g, struct gw_transfer *x)
{
    g->transfer = x;
}

void gw_ingest_set_journal(struct gw_ingest *g, struct gw_journal *journal)
{
    g->journal = journal;
}

void gw_ingest_set_table(struct gw_ingest *g, const struct gw_loyalty *table)
{
    g->table = *table;
}

const struct gw_histo *gw_ingest_commit_latency(const struct gw_ingest *g)
{
    return &g->commit_latency;
}

void gw_ingest_get_stats(const struct gw_ingest *g, struct gw_ingest_stats *out)
{
    *out = g->stats;
    /* lines the journal accepted and then lost in a batched write (gw_journal_set_loop) */
    uint64_t lost = gw_journal_events_lost(g->journal);
    if (lost > out->journaled)
        lost = out->journaled;
    out->journaled -= lost;
    out->journal_failed += lost;
}

void gw_ingest_stats_json(const struct gw_ingest_stats *s, FILE *out)
{
    fputc('{', out);
#define GW_X_JSON(name, help) fprintf(out, "\"%s\":%llu,", #name, (unsigned long long)s->name);
    GW_INGEST_COUNTERS(GW_X_JSON)
#undef GW_X_JSON
    fprintf(out, "\"in_flight\":%u}", s->in_flight);
}

static void respond(struct gw_ingest *g, struct smpp_esme *e, uint64_t token, uint32_t status)
{
    if (smpp_esme_respond(e, token, status) == -ENOTCONN) {
        /* The link that brought the PDU is gone; the SMSC redelivers and the ref dedups it. */
        g->stats.late_responses++;
    }
}

static void req_finish(struct ingest_req *req, uint32_t status)
{
    struct gw_ingest *g = req->g;

    if (status == SMPP_RX_T_APPN)
        g->stats.temp_failed++;
    respond(g, req->e, req->token, status);
    g->stats.in_flight--;
    free(req);
}

static bool is_event_sender(const struct gw_config *cfg, const char *src)
{
    for (unsigned i = 0; i < cfg->events.n_senders; i++) {
        if (strcmp(src, cfg->events.senders[i]) == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- dead letters */

static void deadletter_done(void *arg, int err)
{
    struct ingest_req *req = arg;
    struct gw_ingest *g = req->g;

    if (err < 0) {
        /* Losing nothing beats answering fast: the SMSC keeps the event and offers it again. */
        g->stats.deadletter_failed++;
        gw_log(GW_LOG_ERROR, "ingest", "dead letter not stored (%s): answering ESME_RX_T_APPN",
               strerror(-err));
        req_finish(req, SMPP_RX_T_APPN);
        return;
    }
    g->stats.deadletters++;
    g->stats.rejected++;
    req_finish(req, SMPP_RX_P_APPN);
}

/* Rejects the event: dead letter first, answer after. Takes ownership of req. */
/* quiet: the caller logged the rejection (masked) and the reason names full MSISDNs. */
static void reject_raw(struct ingest_req *req, const void *text, size_t len, const char *source,
                       bool quiet)
{
    struct gw_ingest *g = req->g;

    /* The raw text carries a full MSISDN: it goes to the dead letter, never to the log. */
    if (!quiet)
        gw_log(GW_LOG_NOTICE, "ingest", "event rejected (%u bytes): %s", (unsigned)len,
               req->reason);
    int rc = gw_ledger_deadletter(g->ledger, source, text, len, req->reason,
                                  gw_clock_now_ms() / 1000, deadletter_done, req);
    if (rc < 0) {
        g->stats.deadletter_failed++;
        req_finish(req, SMPP_RX_T_APPN);
    }
}

static void reject_event(struct ingest_req *req, const struct smpp_sm *sm, const char *source)
{
    reject_raw(req, sm->text, sm->text_len, source, false);
}

static void pdu_deadletter_done(void *arg, int err)
{
    struct gw_ingest *g = arg;

    if (err < 0)
        g->stats.deadletter_failed++;
    else
        g->stats.deadletters++;
}

void gw_ingest_on_rejected(void *arg, const uint8_t *pdu, size_t len, uint32_t status,
                           const char *reason)
{
    struct gw_ingest *g = arg;
    char why[160];

    /* The link already answered (or closed); keeping the PDU for staff is best effort. */
    g->stats.pdu_rejected++;
    snprintf(why, sizeof(why), "pdu refused with %s: %s", smpp_status_name(status), reason);
    if (gw_ledger_deadletter(g->ledger, GW_DLQ_SOURCE_PDU, pdu, len, why, gw_clock_now_ms() / 1000,
                             pdu_deadletter_done, g) < 0)
        g->stats.deadletter_failed++;
}

/* ---------------------------------------------------------------- commits */

static void after_commit_done(void *ctx, int err)
{
    struct ingest_req *req = ctx;
    char mask[GW_MASK_LEN];

    if (err < 0) {
        /* the commit stands; the redelivery is a duplicate that runs the rules again */
        gw_log(GW_LOG_NOTICE, "ingest", "event{%s} ref=%s: campaign rules not applied (%s): "
               "ESME_RX_T_APPN", gw_mask_msisdn(req->msisdn, mask), req->ref, strerror(-err));
        req_finish(req, SMPP_RX_T_APPN);
        return;
    }
    req_finish(req, SMPP_ROK);
}

/* The campaign rules after an earning event's commit; answers the event (owns req). */
static void after_commit(struct ingest_req *req)
{
    struct gw_ingest *g = req->g;

    if (g->hooks.after_commit && req->kind != GW_EV_REVERSAL &&
        g->hooks.after_commit(g->hooks.after_commit_arg, req->msisdn,
                              gw_event_kind_name(req->kind), req->ref, gw_local_day(req->at),
                              req->amount_milli, req->now, after_commit_done, req) == 0)
        return;
    req_finish(req, SMPP_ROK);
}

/* The journal line of a committed event (best effort: the ledger is the truth; a failed write is
 * counted in journal_failed and logged once a minute at most). */
static void journal_append(struct gw_ingest *g, const struct ingest_req *req,
                           const struct gw_commit_result *res)
{
    struct gw_journal_rec r = {.commit_ms = gw_clock_now_ms(), .kind = req->kind,
                               .at = req->at, .amount_milli = req->amount_milli,
                               .points = res->points > 0 ? res->points : 0};

    switch (res->outcome) {
    case GW_COMMIT_CREDITED: r.outcome = GW_JOURNAL_CREDITED; break;
    case GW_COMMIT_HELD: /* in the books, no points credited (what-if counts no earning) */
        r.outcome = GW_JOURNAL_CREDITED;
        r.points = 0;
        break;
    case GW_COMMIT_REVERSED: r.outcome = GW_JOURNAL_REVERSED; break;
    case GW_COMMIT_VOIDED: r.outcome = GW_JOURNAL_VOIDED; break;
    case GW_COMMIT_REVERSAL_NOOP: r.outcome = GW_JOURNAL_NOOP; break;
    default: return; /* duplicates and conflicts had no effect */
    }
    if (res->enrolled) {
        /* when the member joined, for the campaigns' what-if (welcome, tenure): the wallet's
         * "since" is this commit's now (commit.lua) */
        struct gw_journal_enrol je = {.commit_ms = r.commit_ms, .since = req->now};
        memcpy(je.msisdn, req->msisdn, sizeof(je.msisdn));
        (void)gw_journal_append_enrol(g->journal, &je);
    }
    memcpy(r.msisdn, req->msisdn, sizeof(r.msisdn));
    memcpy(r.ref, req->ref, sizeof(r.ref));
    memcpy(r.orig, req->orig, sizeof(r.orig));
    memcpy(r.channel, req->channel, sizeof(r.channel));
    if (gw_journal_append(g->journal, &r) == 0) {
        g->stats.journaled++;
        return;
    }
    g->stats.journal_failed++;
    if (gw_clock_now_ms() - g->journal_warned_ms >= 60000) {
        g->journal_warned_ms = gw_clock_now_ms();
        gw_log(GW_LOG_NOTICE, "ingest", "journal: a line could not be written (%llu so far)",
               (unsigned long long)g->stats.journal_failed);
    }
}

static void commit_done(void *arg, int err, const struct gw_commit_result *res)
{
    struct ingest_req *req = arg;
    struct gw_ingest *g = req->g;
    char mask[GW_MASK_LEN];

    gw_histo_observe(&g->commit_latency, (double)(gw_mono_us() - req->t0_us) / 1e6);
    if (err == -EBADMSG) {
        /* Permanent: redelivering cannot mend the wallet. Kept for staff, answered P_APPN,
         * counted and logged as an alarm so that someone repairs the wallet. */
        g->stats.corrupt_wallets++;
        gw_log(GW_LOG_ERROR, "ingest",
               "ALARM event{%s} %s ref=%s refused: the wallet is unreadable or out of bounds",
               gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind), req->ref);
        snprintf(req->reason, sizeof(req->reason),
                 "wallet lg:{%s}:w unreadable or out of bounds: repair it, then replay", req->msisdn);
        reject_raw(req, req->raw, req->raw_len, "ledger", true);
        return;
    }
    if (err < 0) {
        gw_log(GW_LOG_NOTICE, "ingest", "event{%s} %s ref=%s not committed (%s): ESME_RX_T_APPN",
               gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind), req->ref,
               strerror(-err));
        req_finish(req, SMPP_RX_T_APPN);
        return;
    }
    if (g->journal)
        journal_append(g, req, res);
    if (res->enrolled)
        g->stats.enrolled++;
    g->stats.points_capped += (uint64_t)res->capped;
    switch (res->outcome) {
    case GW_COMMIT_CREDITED:
        g->stats.credited++;
        g->stats.points_credited += (uint64_t)res->points;
        GW_LOGD("ingest", "event{%s} %s ref=%s +%lld pts, balance %lld, tier %s",
                gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind), req->ref,
                (long long)res->points, (long long)res->balance, res->tier);
        after_commit(req);
        return;
    case GW_COMMIT_HELD:
        /* Fraud brakes (commit.lua "velocity caps"): the recharge is in the books, answered
         * ESME_ROK (refusing it would make the SMSC redeliver it forever), its points held for
         * staff to release or cancel. An alarm: a burst like this is what the caps are for. */
        g->stats.held++;
        g->stats.points_held += (uint64_t)res->points;
        gw_log(GW_LOG_ERROR, "ingest",
               "ALARM event{%s} %s ref=%s over a velocity cap: committed, %lld pts held, "
               "balance %lld", gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind),
               req->ref, (long long)res->points, (long long)res->balance);
        after_commit(req);
        return;
    case GW_COMMIT_DUPLICATE:
        g->stats.duplicates++;
        gw_log(GW_LOG_INFO, "ingest", "event{%s} %s ref=%s duplicate: no second effect",
               gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind), req->ref);
        after_commit(req);
        return;
    case GW_COMMIT_REVERSED:
        g->stats.reversed++;
        g->stats.points_reversed += (uint64_t)res->points;
        gw_log(GW_LOG_NOTICE, "ingest", "event{%s} REVERSAL ref=%s took back %lld pts, balance %lld",
               gw_mask_msisdn(req->msisdn, mask), req->ref, (long long)res->points,
               (long long)res->balance);
        break;
    case GW_COMMIT_REVERSAL_NOOP:
        g->stats.reversal_noop++;
        gw_log(GW_LOG_NOTICE, "ingest",
               "event{%s} REVERSAL ref=%s: original unknown or already reversed, recorded only",
               gw_mask_msisdn(req->msisdn, mask), req->ref);
        break;
    case GW_COMMIT_VOIDED:
        g->stats.voided++;
        gw_log(GW_LOG_NOTICE, "ingest",
               "event{%s} %s ref=%s arrived after its reversal: recorded, no credit",
               gw_mask_msisdn(req->msisdn, mask), gw_event_kind_name(req->kind), req->ref);
        break;
    case GW_COMMIT_CONFLICT: {
        char omask[GW_MASK_LEN];
        g->stats.ref_conflicts++;
        gw_log(GW_LOG_NOTICE, "ingest",
               "event{%s} %s ref=%s refused: the ref was committed for %s", gw_mask_msisdn(
                   req->msisdn, mask), gw_event_kind_name(req->kind), req->ref,
               gw_mask_msisdn(res->owner, omask));
        /* The dead letter is for staff: it names both subscribers in full. */
        snprintf(req->reason, sizeof(req->reason),
                 "ref conflict: ref %s already committed for MSISDN %s, not %s", req->ref,
                 res->owner, req->msisdn);
        reject_raw(req, req->raw, req->raw_len, "ledger", true);
        return;
    }
    }
    req_finish(req, SMPP_ROK);
}

/* A SIMSWAP notice (our extension, gw_event.h) recorded: the freeze is in place. */
static void simswap_done(void *arg, int err)
{
    struct ingest_req *req = arg;
    char mask[GW_MASK_LEN];

    if (err < 0) {
        gw_log(GW_LOG_NOTICE, "ingest", "event{%s} SIMSWAP ref=%s not recorded (%s): ESME_RX_T_APPN",
               gw_mask_msisdn(req->msisdn, mask), req->ref, strerror(-err));
        req_finish(req, SMPP_RX_T_APPN);
        return;
    }
    req->g->stats.simswaps++;
    gw_log(GW_LOG_NOTICE, "ingest", "event{%s} SIMSWAP ref=%s: outgoing transfers frozen",
           gw_mask_msisdn(req->msisdn, mask), req->ref);
    req_finish(req, SMPP_ROK);
}

static void handle_event(struct gw_ingest *g, struct smpp_esme *e, uint64_t token,
                         const struct smpp_sm *sm)
{
    struct ingest_req *req = calloc(1, sizeof(*req));
    struct gw_event ev;
    struct gw_earn earn;
    int64_t now = gw_clock_now_ms() / 1000;

    g->stats.events_in++;
    if (!req) {
        g->stats.temp_failed++;
        respond(g, e, token, SMPP_RX_T_APPN);
        return;
    }
    req->g = g;
    req->e = e;
    req->token = token;
    req->t0_us = gw_mono_us();
    g->stats.in_flight++;

    /* The contract allows data_coding 0 (SMSC default) and 1 (IA5/ASCII); the event grammar is
     * plain ASCII in both, so the bytes are parsed as they come. */
    if (sm->data_coding != 0 && sm->data_coding != 1) {
        snprintf(req->reason, sizeof(req->reason), "data_coding %u: events use 0 or 1",
                 sm->data_coding);
        reject_event(req, sm, "events");
        return;
    }
    if (gw_event_parse(&g->cfg->events.format, &g->cfg->events.limits, sm->text, sm->text_len,
                       now, &ev, req->reason, sizeof(req->reason)) < 0) {
        reject_event(req, sm, "events");
        return;
    }
    req->kind = ev.kind;
    req->at = ev.at;
    req->now = now;
    snprintf(req->msisdn, sizeof(req->msisdn), "%s", ev.msisdn);
    snprintf(req->ref, sizeof(req->ref), "%s", ev.ref);
    if (ev.kind == GW_EV_SIMSWAP) {
        /* A notice, not a ledger event: it earns nothing and freezes transfers (idempotent by
         * ref in lua/transfer.lua, so a redelivery is harmless). */
        if (!g->transfer ||
            gw_transfer_simswap(g->transfer, ev.msisdn, ev.ref, now, simswap_done, req) < 0)
            req_finish(req, SMPP_RX_T_APPN);
        return;
    }
    snprintf(req->orig, sizeof(req->orig), "%s", ev.orig);
    snprintf(req->channel, sizeof(req->channel), "%s", ev.channel);
    req->at = ev.at;
    req->amount_milli = ev.amount_milli;
    if (gw_loyalty_earn(&g->table, &ev, &earn) < 0) {
        snprintf(req->reason, sizeof(req->reason), "amount: earns more points than can be kept");
        reject_event(req, sm, "events");
        return;
    }
    req->raw_len = sm->text_len < sizeof(req->raw) ? sm->text_len : sizeof(req->raw);
    memcpy(req->raw, sm->text, req->raw_len);
    if (gw_ledger_commit(g->ledger, &ev, &earn, now, commit_done, req) < 0) {
        /* Not connected or too much in flight: the SMSC will offer it again. */
        req_finish(req, SMPP_RX_T_APPN);
    }
}

void gw_ingest_on_deliver(void *arg, struct smpp_esme *e, uint64_t token, uint32_t cmd_id,
                          const struct smpp_sm *sm)
{
    struct gw_ingest *g = arg;

    (void)cmd_id;
    /* A receipt is never an event, whoever it claims to come from. */
    if ((sm->esm_class & SMPP_ESM_TYPE_MASK) == SMPP_ESM_TYPE_DELIVERY_RECEIPT) {
        g->stats.receipts++;
        respond(g, e, token, SMPP_ROK);
        return;
    }
    if (is_event_sender(g->cfg, sm->src_addr)) {
        handle_event(g, e, token, sm);
        return;
    }
    if (sm->has_ussd_op || strcmp(sm->service_type, "USSD") == 0) {
        /* USSD is answered ROK at once, never with a temporary error (../shared/spec/ussd.md). */
        g->stats.ussd_in++;
        respond(g, e, token, SMPP_ROK);
        if (g->hooks.ussd)
            g->hooks.ussd(g->hooks.ussd_arg, e, sm);
        return;
    }
    g->stats.mo_sms++;
    respond(g, e, token, SMPP_ROK);
    if (g->hooks.mo_sms)
        g->hooks.mo_sms(g->hooks.mo_sms_arg, e, sm);
}
